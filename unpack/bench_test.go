package unpack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

var largest = fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")

func BenchmarkUnpackLarge(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "tree")
	st, _ := os.Stat(largest)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: largest, Folder: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPackLarge(b *testing.B) {
	dir, _ := unpackTo(b, largest, UnpackOptions{})
	out := filepath.Join(b.TempDir(), "out.zip")
	st, _ := os.Stat(largest)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out}); err != nil {
			b.Fatal(err)
		}
	}
}

// Unpacking every fixture costs no more than twice `unzip -q` of the same
// zips (best of five runs each, fresh target folders).
func TestUnpackCostComparedWithUnzip(t *testing.T) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Skip("unzip not installed")
	}
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	zips := allZips(t)
	runUnzip := func(dir string) {
		for i, z := range zips {
			if out, err := exec.Command(unzip, "-q", z, "-d", filepath.Join(dir, string(rune('a'+i)))).CombinedOutput(); err != nil {
				t.Fatalf("unzip %s: %v\n%s", z, err, out)
			}
		}
	}
	runOurs := func(dir string) {
		for i, z := range zips {
			if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: z, Folder: filepath.Join(dir, string(rune('a'+i)))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	timed := func(run func(string)) time.Duration {
		dir := t.TempDir()
		start := time.Now()
		run(dir)
		return time.Since(start)
	}
	// Interleaved runs, the minimum of each: the machine is shared and the
	// minimum is the least disturbed measurement. At least five rounds, up
	// to twenty while the load keeps the comparison above the bound.
	var unzipTime, ours time.Duration
	for i := 0; i < 5 || (i < 20 && ours > 2*unzipTime); i++ {
		u, o := timed(runUnzip), timed(runOurs)
		if i == 0 || u < unzipTime {
			unzipTime = u
		}
		if i == 0 || o < ours {
			ours = o
		}
	}
	t.Logf("unpack of %d fixture zips: ppalm %v, unzip -q %v (ratio %.2f)", len(zips), ours, unzipTime, float64(ours)/float64(unzipTime))
	if ours > 2*unzipTime {
		t.Errorf("ppalm unpack took %v, more than twice unzip's %v", ours, unzipTime)
	}
}
