package solzip

import (
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

const (
	goodSolution       = `<ImportExportXml><SolutionManifest><UniqueName>X</UniqueName><Version>1.0.0.0</Version><Managed>0</Managed></SolutionManifest></ImportExportXml>`
	goodCustomizations = `<ImportExportXml><Entities /></ImportExportXml>`
)

type entry struct{ name, data string }

func makeZip(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t *testing.T, data []byte) (*Zip, error) {
	t.Helper()
	return New(bytes.NewReader(data), int64(len(data)), Options{})
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"solution.xml", "Workflows/Flow-1E2F.json", "WebResources/a b/c.d.js", "Formulas/x.yaml",
		"appactions/%7B!EntityLogicalName%7D.xml", "Entities/Contoso_console/", "Conny/a", "COM10", "LPT", "CONFIG.xml", "nul_x", "é/ü.txt"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                               "empty name",
		"../evil.txt":                    `".." path segment`,
		"a/../../evil":                   `".." path segment`,
		"a/./b":                          `"." path segment`,
		"a//b":                           `"" path segment`,
		"/etc/passwd":                    "absolute path",
		"C:/x":                           "drive letter",
		`Workflows\x.json`:               "backslash",
		"bad\xffname.xml":                "not valid UTF-8",
		"tab\there":                      "control character U+0009",
		"nul\x00byte":                    "control character U+0000",
		"a/CON":                          "device names",
		"con.txt":                        "device names",
		"WebResources/Aux.js":            "device names",
		"com1":                           "device names",
		"LPT9.log":                       "device names",
		"COM¹":                           "device names",
		"NUL .txt":                       "device names",
		"CONOUT$":                        "device names",
		"dir./file":                      "ends in a dot or a space",
		"file ":                          "ends in a dot or a space",
		"ab:c":                           "one of <>:\"|?*",
		"what?.xml":                      "one of <>:\"|?*",
		strings.Repeat("x", 256):         "macOS and Linux store at most 255",
		"ok/" + strings.Repeat("é", 128): "macOS and Linux store at most 255",
	} {
		err := CheckName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckName(%q) = %v, want an error mentioning %q", name, err, want)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	sol, cust := entry{SolutionPart, goodSolution}, entry{CustomizationsPart, goodCustomizations}
	cases := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"zip slip", []entry{sol, cust, {"../../evil.dll", "x"}}, `".." path segment`},
		{"absolute", []entry{sol, cust, {"/tmp/evil", "x"}}, "absolute path"},
		{"case collision", []entry{sol, cust, {"WebResources/a.js", "1"}, {"webresources/A.js", "2"}}, "differ only in letter case"},
		{"second solution.xml", []entry{sol, cust, {"Solution.xml", goodSolution}}, `"solution.xml" and "Solution.xml" differ only in letter case`},
		{"same name twice", []entry{sol, cust, {SolutionPart, strings.Replace(goodSolution, ">X<", ">Y<", 1)}}, `"solution.xml" appears twice`},
		{"file and folder", []entry{sol, cust, {"Workflows", "x"}, {"Workflows/a.json", "{}"}}, "both a file and a folder"},
		{"folder and file", []entry{sol, cust, {"Workflows/a.json", "{}"}, {"workflows", "x"}}, "both a file and a folder"},
		{"folder spelt twice", []entry{sol, cust, {"Workflows/a.json", "{}"}, {"WORKFLOWS/b.json", "{}"}}, "differ only in letter case"},
		{"reserved name", []entry{sol, cust, {"WebResources/con.js", "x"}}, "device names"},
		{"trailing dot", []entry{sol, cust, {"WebResources/x./a.js", "x"}}, "ends in a dot or a space"},
		{"control char", []entry{sol, cust, {"WebResources/a\nb.js", "x"}}, "control character"},
		{"invalid utf-8", []entry{sol, cust, {"WebResources/\xc3\x28.js", "x"}}, "not valid UTF-8"},
		{"no solution.xml", []entry{cust}, "no solution.xml at the root"},
		{"solution.xml not at root", []entry{cust, {"x/solution.xml", goodSolution}}, "no solution.xml at the root"},
		{"no customizations.xml", []entry{sol}, "no customizations.xml at the root"},
		{"customizations wrong root", []entry{sol, {CustomizationsPart, "<Entities/>"}}, "customizations.xml: expected root <ImportExportXml>, found <Entities>"},
		{"customizations namespaced root", []entry{sol, {CustomizationsPart, `<x:ImportExportXml xmlns:x="urn:x"/>`}}, "expected root <ImportExportXml>, found <x:ImportExportXml>"},
		{"solution wrong root", []entry{{SolutionPart, "<SolutionManifest/>"}, cust}, "solution.xml: expected root <ImportExportXml>, found <SolutionManifest>"},
		{"solution without manifest", []entry{{SolutionPart, "<ImportExportXml><Other><SolutionManifest/></Other></ImportExportXml>"}, cust}, "found no <SolutionManifest>"},
		{"doctype", []entry{sol, {CustomizationsPart, `<!DOCTYPE x [<!ENTITY a "aaaa">]><ImportExportXml/>`}}, "DOCTYPE"},
		{"utf-16 declared", []entry{sol, {CustomizationsPart, `<?xml version="1.0" encoding="utf-16"?><ImportExportXml/>`}}, "not well-formed XML"},
		{"not xml", []entry{{SolutionPart, "hello"}, cust}, "found no <SolutionManifest>"},
	}
	for _, c := range cases {
		data := makeZip(t, c.entries...)
		// Reading the manifests whole refuses the same zips.
		for _, read := range []bool{false, true} {
			_, err := New(bytes.NewReader(data), int64(len(data)), Options{ReadManifests: read})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (ReadManifests %v): err = %v, want it to mention %q", c.name, read, err, c.want)
			}
		}
	}
	if _, err := open(t, []byte("not a zip")); err == nil || !strings.Contains(err.Error(), "not a zip file") {
		t.Errorf("not a zip: err = %v", err)
	}
}

func TestOpenFindsManifestsInAnyCase(t *testing.T) {
	z, err := open(t, makeZip(t, entry{"Customizations.xml", "\xef\xbb\xbf" + goodCustomizations}, entry{"SOLUTION.XML", goodSolution},
		entry{"[Content_Types].xml", "<Types/>"}, entry{"Workflows/", ""}, entry{"Workflows/a.json", "{}"}))
	if err != nil {
		t.Fatal(err)
	}
	if z.Solution.Name != "SOLUTION.XML" || z.Customizations.Name != "Customizations.xml" || z.ContentTypes == nil {
		t.Fatalf("manifests %v %v %v", z.Solution, z.Customizations, z.ContentTypes)
	}
	if len(z.Files) != 4 {
		t.Errorf("%d files, want 4 (folders left out)", len(z.Files))
	}
	if f := z.Lookup("/workflows/A.JSON"); f == nil || f.Name != "Workflows/a.json" {
		t.Errorf("Lookup = %v", f)
	}
	b, err := z.ReadXML(z.Customizations)
	if err != nil || string(b) != goodCustomizations {
		t.Errorf("ReadXML = %q, %v; want the file without its BOM", b, err)
	}
	if z.SolutionXML != nil || z.CustomizationsXML != nil {
		t.Errorf("manifests kept without ReadManifests")
	}
}

// A zip whose headers claim more than the limit is refused before anything
// inflates; a header cannot understate an entry, since archive/zip fails
// one that inflates past what its header says.
func TestBudget(t *testing.T) {
	big := strings.Repeat("a", 4096)
	data := makeZip(t, entry{SolutionPart, goodSolution}, entry{CustomizationsPart, goodCustomizations}, entry{"a.bin", big}, entry{"b.bin", big})
	if _, err := New(bytes.NewReader(data), int64(len(data)), Options{MaxInflated: 8000}); err == nil || !strings.Contains(err.Error(), "entry b.bin: the zip inflates past 8000 bytes") {
		t.Errorf("err = %v, want b.bin named as the entry past the limit", err)
	}
	z, err := New(bytes.NewReader(data), int64(len(data)), Options{MaxInflated: 9000})
	if err != nil {
		t.Fatal(err)
	}
	before := z.Remaining()
	if _, err := z.Read(z.Lookup("a.bin")); err != nil {
		t.Fatal(err)
	}
	if got := before - z.Remaining(); got != 4096 {
		t.Errorf("reading a.bin spent %d bytes of the budget, want 4096", got)
	}

	// Past the grace size, an entry may inflate to at most 100 times its
	// compressed size.
	zeros := strings.Repeat("\x00", RatioGraceSize+1)
	bomb := makeZip(t, entry{SolutionPart, goodSolution}, entry{CustomizationsPart, goodCustomizations}, entry{"WebResources/zeros.bin", zeros})
	if _, err := open(t, bomb); err == nil || !strings.Contains(err.Error(), "entry WebResources/zeros.bin inflates past 100 times its compressed size") {
		t.Errorf("err = %v, want the ratio refused", err)
	}
	small := makeZip(t, entry{SolutionPart, goodSolution}, entry{CustomizationsPart, goodCustomizations}, entry{"WebResources/zeros.bin", zeros[:RatioGraceSize]})
	if _, err := open(t, small); err != nil {
		t.Errorf("an entry within the grace size: %v", err)
	}

	// A header that understates: rewrite b.bin's sizes in both headers.
	lying := bytes.Clone(data)
	patchSizes(t, lying, "b.bin", 10)
	z, err = New(bytes.NewReader(lying), int64(len(lying)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := z.Read(z.Lookup("b.bin")); err == nil {
		t.Errorf("read %d bytes from an entry whose header claims 10", len(b))
	}
}

// patchSizes sets the uncompressed size of name in its local header and
// the central directory.
func patchSizes(t *testing.T, data []byte, name string, size uint32) {
	t.Helper()
	n := 0
	for _, sig := range []struct {
		magic  string
		sizeAt int
		nameAt int
	}{{"PK\x03\x04", 22, 30}, {"PK\x01\x02", 24, 46}} {
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(sig.magic))
			if j < 0 {
				break
			}
			i += j
			if i+sig.nameAt+len(name) <= len(data) && string(data[i+sig.nameAt:i+sig.nameAt+len(name)]) == name {
				data[i+sig.sizeAt], data[i+sig.sizeAt+1], data[i+sig.sizeAt+2], data[i+sig.sizeAt+3] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
				n++
			}
			i += 4
		}
	}
	if n == 0 {
		t.Fatalf("no header of %s found", name)
	}
}

// An element-dense XML entry is refused while it inflates, once it has
// passed MaxXMLElements tags: neither its bytes nor its elements are held.
func TestElementLimit(t *testing.T) {
	dense := "<ImportExportXml>" + strings.Repeat("<a/>", MaxXMLElements) + "</ImportExportXml>"
	data := makeZip(t, entry{SolutionPart, goodSolution}, entry{CustomizationsPart, dense})
	// <a/> repeated compresses a thousand times and is refused from the
	// headers; let it through to reach the element limit.
	if _, err := open(t, data); err == nil || !strings.Contains(err.Error(), "inflates past 100 times its compressed size") {
		t.Fatalf("err = %v, want the ratio refused", err)
	}
	z, err := New(bytes.NewReader(data), int64(len(data)), Options{MaxRatio: 10_000})
	if err != nil {
		t.Fatal(err) // the root check reads only the start
	}
	rc, err := z.OpenXML(z.Customizations)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	if err == nil || !strings.Contains(err.Error(), "element bomb") {
		t.Fatalf("err = %v, want the element bomb refused", err)
	}
	if n > int64(len(dense)) || n < 4*MaxXMLElements-64<<10 {
		t.Errorf("read %d bytes before the refusal, want about %d", n, 4*MaxXMLElements)
	}
	if _, err := z.ReadXML(z.Customizations); err == nil {
		t.Error("ReadXML held an element bomb")
	}
	if _, err := New(bytes.NewReader(data), int64(len(data)), Options{MaxRatio: 10_000, ReadManifests: true}); err == nil || !strings.Contains(err.Error(), "customizations.xml: entry customizations.xml has more than") {
		t.Errorf("ReadManifests: err = %v, want the element bomb refused", err)
	}
	if err := CheckTags("x.xml", []byte(dense)); err == nil {
		t.Error("CheckTags passed an element bomb")
	}
}

// Every real export opens.
func TestFixturesOpen(t *testing.T) {
	zips, _ := filepath.Glob("../fixtures/solutions/*/*.zip")
	if len(zips) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range zips {
		z, err := Open(p, Options{})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if z.Solution.Name != SolutionPart || z.Customizations.Name != CustomizationsPart {
			t.Errorf("%s: manifests %s %s", p, z.Solution.Name, z.Customizations.Name)
		}
		sol, err1 := z.ReadXML(z.Solution)
		cust, err2 := z.ReadXML(z.Customizations)
		z.Close()
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", p, err1, err2)
		}
		// ReadManifests keeps what ReadXML gives, having inflated each once.
		z, err = Open(p, Options{ReadManifests: true})
		if err != nil {
			t.Errorf("%s (ReadManifests): %v", p, err)
			continue
		}
		if !bytes.Equal(z.SolutionXML, sol) || !bytes.Equal(z.CustomizationsXML, cust) {
			t.Errorf("%s: ReadManifests kept other bytes than ReadXML reads", p)
		}
		var spent uint64
		for _, f := range []*zip.File{z.Solution, z.Customizations} {
			spent += f.UncompressedSize64
		}
		if got := uint64(DefaultMaxInflated - z.Remaining()); got != spent {
			t.Errorf("%s: ReadManifests spent %d bytes of the budget, want %d (each manifest once)", p, got, spent)
		}
		z.Close()
	}
}
