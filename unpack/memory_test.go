package unpack

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// An element-dense customizations.xml (tens of MB of <a/> from a zip of a
// few hundred KB) is refused before its node tree is built: memory follows
// the element count, and a byte cap alone let 600 MB of <a/> take 12.6 GB.
func TestUnpackRefusesElementBomb(t *testing.T) {
	const elements = MaxXMLElements + 1<<20
	cust := bytes.Repeat([]byte("<a/>"), elements)
	cust = append(append([]byte("<ImportExportXml><Entities>"), cust...), "</Entities></ImportExportXml>"...)
	zip := makeZip(t,
		entry{solutionPart, []byte("<ImportExportXml><SolutionManifest><UniqueName>Bomb</UniqueName><Version>1.0.0.0</Version><Managed>0</Managed></SolutionManifest></ImportExportXml>")},
		entry{customizationsPart, cust})
	cust = nil
	parent := t.TempDir()
	zp := filepath.Join(parent, "bomb.zip")
	must(t, os.WriteFile(zp, zip, 0o644))
	t.Logf("zip of %d KiB, customizations.xml of %d MiB", len(zip)>>10, (elements*4)>>20)
	folder := filepath.Join(parent, "tree")

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Unpack(context.Background(), UnpackOptions{ZipFile: zp, Folder: folder})
	runtime.ReadMemStats(&after)
	// <a/> repeated compresses a thousand times, so solzip refuses it from
	// the headers (as a zip bomb) before it counts tags; either refusal
	// comes before any node is built.
	if err == nil || !(strings.Contains(err.Error(), "element bomb") || strings.Contains(err.Error(), "zip bomb")) {
		t.Fatalf("err = %v, want the element bomb refused", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB in all while refusing it", alloc>>20)
	// The inflated bytes themselves (~36 MiB, read once) and no node tree,
	// which would be about 100 bytes an element (~900 MiB).
	if alloc > 160<<20 {
		t.Errorf("allocated %d MiB to refuse an element bomb; the node tree was built", alloc>>20)
	}
	if _, serr := os.Stat(folder); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("refused unpack left %s behind", folder)
	}
}
