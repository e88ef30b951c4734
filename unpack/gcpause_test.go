package unpack

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
)

// Unpacks stop the collector while they run and give back the setting
// they found, also when several overlap and when one fails.
func TestUnpackRestoresGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(73)
	defer debug.SetGCPercent(prev)
	zips := allZips(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { unpackTo(t, zips[i%len(zips)], UnpackOptions{ProcessCanvasApps: i%2 == 0}) })
	}
	wg.Go(func() {
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: filepath.Join(t.TempDir(), "missing.zip"), Folder: filepath.Join(t.TempDir(), "tree")}); err == nil {
			t.Error("unpacking a missing zip succeeded")
		}
	})
	wg.Wait()
	if got := debug.SetGCPercent(73); got != 73 {
		t.Errorf("GC percent after the unpacks = %d, want the 73 set before them", got)
	}
	resume := pauseGC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent during a pause = %d, want -1", got)
	}
	resume()
	resume() // a second call changes nothing
	if got := debug.SetGCPercent(73); got != 73 {
		t.Errorf("GC percent after a pause = %d, want 73", got)
	}
}
