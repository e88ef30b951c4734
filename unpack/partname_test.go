package unpack

import (
	"os"
	"path/filepath"
	"testing"
)

// Part names are percent-decoded into file names as SolutionPackager writes
// them, and encoded again on pack; names that would not round-trip keep
// their zip spelling.
func TestPartNamesDecodedAndEncodedAgain(t *testing.T) {
	for zipName, tree := range map[string]string{
		"appactions/new__Open!%7B!EntityLogicalName%7D!0/appaction.xml": "appactions/new__Open!{!EntityLogicalName}!0/appaction.xml",
		"botcomponents/x/filedata/a%20b.txt":                            "botcomponents/x/filedata/a%20b.txt",
		"botcomponents/x/filedata/100%.txt":                             "botcomponents/x/filedata/100%.txt",
		"botcomponents/x/filedata/%7Bx%7D%2Fy":                          "botcomponents/x/filedata/%7Bx%7D%2Fy",
	} {
		if got := decodePartName(zipName); got != tree {
			t.Errorf("decode %s = %s, want %s", zipName, got, tree)
		}
		if got := encodePartName(tree); got != zipName {
			t.Errorf("encode %s = %s, want %s", tree, got, zipName)
		}
	}
}

// A real export with an app action whose zip name carries an encoded
// placeholder unpacks to the decoded file name and packs back to the
// original part name.
func TestPackEncodesDecodedPartNames(t *testing.T) {
	dir := followSitesTree(t)
	const tree = "appactions/new__Open!{!EntityLogicalName}!0/appaction.xml"
	writeFile(t, dir, tree, "<appaction />")
	parts := readZip(t, packTo(t, dir, 0))
	const zipName = "appactions/new__Open!%7B!EntityLogicalName%7D!0/appaction.xml"
	if string(parts[zipName]) != "<appaction />" {
		t.Fatalf("zip lacks %s", zipName)
	}
	// And back: unpacking that zip writes the decoded name.
	zp := filepath.Join(t.TempDir(), "x.zip")
	data, err := os.ReadFile(packTo(t, dir, 0))
	must(t, err)
	must(t, os.WriteFile(zp, data, 0o644))
	again, _ := unpackTo(t, zp, UnpackOptions{})
	if _, err := os.Stat(filepath.Join(again, filepath.FromSlash(tree))); err != nil {
		t.Errorf("unpack did not decode the part name: %v", err)
	}
}
