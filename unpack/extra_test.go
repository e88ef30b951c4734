package unpack

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoundTripExtraSolutions runs the round trip on solution zips of your
// own: PPALM_EXTRA_SOLUTIONS=/path/to/folder go test ./unpack -run Extra.
// Zips in the folder that are not solution exports are skipped.
func TestRoundTripExtraSolutions(t *testing.T) {
	dir := os.Getenv("PPALM_EXTRA_SOLUTIONS")
	if dir == "" {
		t.Skip("set PPALM_EXTRA_SOLUTIONS to a folder of solution zips to round-trip them")
	}
	zips, err := filepath.Glob(filepath.Join(dir, "*.zip"))
	if err != nil || len(zips) == 0 {
		t.Fatalf("no zips in %s: %v", dir, err)
	}
	for _, z := range zips {
		if !isSolutionExport(z) {
			continue
		}
		t.Run(filepath.Base(z), func(t *testing.T) {
			if repacked(t, z) {
				// A packer's entity order is its own (a Dataverse export
				// sorts entities by name, and so does Pack); import does
				// not depend on it, and no tree records it.
				unorderedChildren["ImportExportXml/Entities"] = true
				defer delete(unorderedChildren, "ImportExportXml/Entities")
			}
			dir, _ := unpackTo(t, z, UnpackOptions{})
			packed := packTo(t, dir, 0)
			assertEquivalentZips(t, z, packed)
			again, _ := unpackTo(t, packed, UnpackOptions{})
			assertSameTree(t, dir, again)
		})
	}
}

func isSolutionExport(p string) bool {
	r, err := zip.OpenReader(p)
	if err != nil {
		return false
	}
	defer r.Close()
	for _, f := range r.File {
		if strings.EqualFold(f.Name, "solution.xml") {
			return true
		}
	}
	return false
}

// repacked says whether z was written by a packer rather than exported by
// Dataverse: exports write solution.xml without a BOM or declaration.
func repacked(t *testing.T, z string) bool {
	for name, b := range readZip(t, z) {
		if strings.EqualFold(name, "solution.xml") {
			return bytes.HasPrefix(b, bom) || bytes.HasPrefix(b, []byte("<?xml"))
		}
	}
	return false
}
