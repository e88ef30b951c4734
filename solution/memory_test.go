package solution

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"
)

// allocatedBy reports the bytes f allocates in all (an upper bound of the
// peak heap it adds).
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A small zip of many large entries (each under the per-entry cap) is
// refused from its headers, before anything is inflated: plan, import and
// settings read a solution into memory, so the total is what bounds them.
func TestReadRefusesZipWhoseEntriesInflatePastTheTotal(t *testing.T) {
	const entrySize = 400 << 20 // under MaxEntrySize
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
	zero := make([]byte, 1<<20)
	crc := crc32.NewIEEE()
	for i := 0; i < entrySize>>20; i++ {
		fw.Write(zero)
		crc.Write(zero)
	}
	fw.Close()
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("solution.xml")
	w.Write([]byte("<ImportExportXml><SolutionManifest><UniqueName>Bomb</UniqueName><Version>1.0.0.0</Version><Managed>0</Managed></SolutionManifest></ImportExportXml>"))
	w, _ = zw.Create("customizations.xml")
	w.Write([]byte("<ImportExportXml />"))
	for _, n := range []string{"a.bin", "b.bin", "c.bin"} {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Deflate, CRC32: crc.Sum32(),
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: entrySize})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	zw.Close()
	data := zbuf.Bytes()
	t.Logf("zip of %d KiB claiming %d MiB", len(data)>>10, 3*entrySize>>20)

	var err error
	alloc := allocatedBy(func() { _, err = Read(data) })
	if err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("err = %v, want a zip bomb refusal", err)
	}
	t.Logf("allocated %d MiB while refusing it", alloc>>20)
	if alloc > 64<<20 {
		t.Errorf("allocated %d MiB to refuse a bomb; want it refused before inflating", alloc>>20)
	}
}
