package unpack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

// allZips is every fixture solution zip.
func allZips(t testing.TB) []string {
	t.Helper()
	zips, err := filepath.Glob(fixtures.Path("*", "*.zip"))
	if err != nil || len(zips) == 0 {
		t.Fatalf("no fixture zips: %v", err)
	}
	return zips
}

func unpackTo(t testing.TB, zip string, opts UnpackOptions) (string, *Summary) {
	t.Helper()
	if opts.Folder == "" {
		opts.Folder = filepath.Join(t.TempDir(), "tree")
	}
	opts.ZipFile = zip
	s, err := Unpack(context.Background(), opts)
	if err != nil {
		t.Fatalf("Unpack(%s): %v", filepath.Base(zip), err)
	}
	return opts.Folder, s
}

func packTo(t testing.TB, folder string, pt PackageType) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "packed.zip")
	if _, err := Pack(context.Background(), PackOptions{Folder: folder, ZipFile: out, PackageType: pt}); err != nil {
		t.Fatalf("Pack(%s): %v", folder, err)
	}
	return out
}

func stripBOMCR(b []byte) []byte {
	return bytes.ReplaceAll(bytes.TrimPrefix(b, bom), []byte("\r\n"), []byte("\n"))
}

// Every fixture zip: pack(unpack(zip)) is equivalent to the export and
// unpack(pack(tree)) gives the tree back byte for byte.
func TestRoundTripEveryFixture(t *testing.T) {
	for _, z := range allZips(t) {
		t.Run(filepath.Base(z), func(t *testing.T) {
			dir, _ := unpackTo(t, z, UnpackOptions{})
			packed := packTo(t, dir, 0)
			assertEquivalentZips(t, z, packed)
			again, _ := unpackTo(t, packed, UnpackOptions{})
			assertSameTree(t, dir, again)
		})
	}
}

func assertSameTree(t *testing.T, wantDir, gotDir string) {
	t.Helper()
	w, g := readDir(t, wantDir), readDir(t, gotDir)
	if !reflect.DeepEqual(sortedNames(w), sortedNames(g)) {
		t.Fatalf("trees differ in files:\nwant %v\ngot  %v", sortedNames(w), sortedNames(g))
	}
	for p := range w {
		if !bytes.Equal(w[p], g[p]) {
			t.Errorf("%s differs after a second round trip: %s", p, firstDiff(string(w[p]), string(g[p])))
		}
	}
}

// The packed zip follows the Dataverse-export container profile.
func TestPackZipProfile(t *testing.T) {
	z := fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip")
	dir, _ := unpackTo(t, z, UnpackOptions{})
	out := filepath.Join(t.TempDir(), "p.zip")
	when := time.Date(2025, 3, 4, 5, 6, 8, 0, time.UTC)
	if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out, Modified: when}); err != nil {
		t.Fatal(err)
	}
	entries := readZipHeaders(t, out)
	if entries[0].Name != customizationsPart || entries[1].Name != contentTypesPart || entries[2].Name != solutionPart {
		t.Errorf("first entries = %s, %s, %s; want customizations.xml, [Content_Types].xml, solution.xml", entries[0].Name, entries[1].Name, entries[2].Name)
	}
	for _, e := range entries {
		if e.Method != 8 || e.Flags != 0x2 || e.CreatorVersion != 45 || e.ReaderVersion != 20 || e.ExternalAttrs != 0 {
			t.Errorf("%s: method %d flags %#x made-by %#x needed %d attrs %#x; want 8, 0x2, 45, 20, 0", e.Name, e.Method, e.Flags, e.CreatorVersion, e.ReaderVersion, e.ExternalAttrs)
		}
		if !e.Modified.Equal(when) && e.Modified.Format("2006-01-02 15:04:05") != when.Format("2006-01-02 15:04:05") {
			t.Errorf("%s: modified %v, want %v", e.Name, e.Modified, when)
		}
	}
	parts := readZip(t, out)
	ct := string(parts[contentTypesPart])
	wantCT := "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/octet-stream\" /><Default Extension=\"json\" ContentType=\"application/octet-stream\" /><Default Extension=\"msapp\" ContentType=\"application/octet-stream\" /><Override PartName=\"/CanvasApps/pop_dynamicformsapp_c2749_BackgroundImageUri\" ContentType=\"application/octet-stream\" /></Types>"
	if ct != wantCT {
		t.Errorf("[Content_Types].xml =\n%s\nwant\n%s", ct, wantCT)
	}
	for _, p := range []string{solutionPart, customizationsPart} {
		b := parts[p]
		if bytes.HasPrefix(b, bom) || bytes.HasPrefix(b, []byte("<?xml")) || !bytes.Contains(b, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("%s: want the export encoding (no BOM, no declaration, CRLF only)", p)
		}
	}
}

// Both: one tree from the unmanaged and managed exports, Managed=2, forms
// and model-driven apps in both variants; packing it back gives both zips.
func TestBothPairs(t *testing.T) {
	for _, pair := range [][2]string{
		{"fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"},
		{"column-level-security-pair", "ColumnLevelSecuritySampleSolution.zip"},
	} {
		t.Run(pair[0], func(t *testing.T) {
			z := fixtures.Path(pair[0], pair[1])
			dir, sum := unpackTo(t, z, UnpackOptions{PackageType: Both})
			if sum.Managed {
				t.Errorf("summary says managed for a Both tree read from the unmanaged zip")
			}
			tree := readDir(t, dir)
			if !bytes.Contains(tree["Other/Solution.xml"], []byte("<Managed>2</Managed>")) {
				t.Errorf("Other/Solution.xml lacks <Managed>2</Managed>")
			}
			var forms, managedForms int
			for p := range tree {
				if strings.Contains(p, "/FormXml/") {
					if strings.HasSuffix(p, "_managed.xml") {
						managedForms++
					} else {
						forms++
					}
				}
			}
			if forms == 0 || forms != managedForms {
				t.Errorf("forms: %d unmanaged, %d managed; want both variants of every form", forms, managedForms)
			}
			out := filepath.Join(t.TempDir(), "Out.zip")
			if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out, PackageType: Both}); err != nil {
				t.Fatal(err)
			}
			assertEquivalentZips(t, z, out)
			mz := readZip(t, ManagedZipName(out))
			if !bytes.Contains(mz[solutionPart], []byte("<Managed>1</Managed>")) {
				t.Errorf("managed zip: solution.xml lacks <Managed>1</Managed>")
			}
			// The managed zip carries the managed forms (blanked labels).
			want := formsOf(t, readZip(t, ManagedZipName(z))[customizationsPart])
			got := formsOf(t, mz[customizationsPart])
			if want != got {
				t.Errorf("managed zip forms differ from the managed export: %s", firstDiff(want, got))
			}
			again, _ := unpackTo(t, out, UnpackOptions{PackageType: Both})
			assertSameTree(t, dir, again)
		})
	}
}

// formsOf renders every <FormXml> of a customizations.xml canonically.
func formsOf(t *testing.T, cust []byte) string {
	t.Helper()
	src := normalizeXML(cust)
	root, err := scanXML(src)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range root.child("Entities").children {
		if fx := e.child("FormXml"); fx != nil {
			c, err := canonicalXML(src[fx.start:fx.end])
			if err != nil {
				t.Fatal(err)
			}
			sb.WriteString(e.childText(src, "Name") + c)
		}
	}
	return sb.String()
}

// LF by default, CRLF on request, for the XML ppalm writes; verbatim parts
// keep their bytes either way.
func TestLineEndings(t *testing.T) {
	z := fixtures.Path("sharepoint-site-creation-bot", "SharePointSiteCreationBot_2_0_0_0.zip")
	orig := readZip(t, z)
	lf, _ := unpackTo(t, z, UnpackOptions{})
	crlf, _ := unpackTo(t, z, UnpackOptions{LineEndings: "crlf"})
	l, c := readDir(t, lf), readDir(t, crlf)
	for p, b := range l {
		if o, verbatim := orig[p]; verbatim {
			if !bytes.Equal(b, o) || !bytes.Equal(c[p], o) {
				t.Errorf("%s: verbatim part changed", p)
			}
			continue
		}
		if bytes.Contains(b, []byte("\r")) {
			t.Errorf("%s: CR in LF output", p)
		}
		if !bytes.Equal(c[p], toCRLF(b)) || !bytes.Contains(c[p], []byte("\r\n")) {
			t.Errorf("%s: crlf output is not the LF output with CRLF", p)
		}
	}
	if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: z, Folder: filepath.Join(t.TempDir(), "x"), LineEndings: "cr"}); err == nil || !strings.Contains(err.Error(), "expected lf or crlf") {
		t.Errorf("LineEndings cr: err = %v", err)
	}
}

// Unpacking over an existing tree replaces it exactly and leaves files the
// packager does not own alone.
func TestUnpackReplacesTreeKeepsOtherFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	unpackTo(t, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"), UnpackOptions{Folder: dir})
	must(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("# mine"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "config"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "config", "deploymentSettings.json"), []byte("{}"), 0o644))
	// Version 23 has no custom connector and fewer components than 24.
	v24, _ := unpackTo(t, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"), UnpackOptions{})
	_, sum := unpackTo(t, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip"), UnpackOptions{Folder: dir})
	fresh, _ := unpackTo(t, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip"), UnpackOptions{})
	got := readDir(t, dir)
	want := readDir(t, fresh)
	// Summary.Removed is every file of version 24's tree that 23's lacks,
	// from folders exchanged (Entities/) and moved out (Connectors/) alike.
	var wantRemoved []string
	for p := range readDir(t, v24) {
		if _, ok := want[p]; !ok {
			wantRemoved = append(wantRemoved, p)
		}
	}
	sort.Strings(wantRemoved)
	if len(wantRemoved) == 0 || !reflect.DeepEqual(sum.Removed, wantRemoved) {
		t.Errorf("Removed = %v, want %v", sum.Removed, wantRemoved)
	}
	want["README.md"] = []byte("# mine")
	want["config/deploymentSettings.json"] = []byte("{}")
	if !reflect.DeepEqual(sortedNames(want), sortedNames(got)) {
		t.Fatalf("files after re-unpack:\nwant %v\ngot  %v", sortedNames(want), sortedNames(got))
	}
	for p := range want {
		if !bytes.Equal(want[p], got[p]) {
			t.Errorf("%s differs", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Connectors")); err == nil {
		t.Errorf("Connectors/ of the removed custom connector is still there")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".repo.ppalm-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary folders left behind: %v", leftovers)
	}
	// Pack ignores README.md and config/.
	packed := packTo(t, dir, 0)
	if _, ok := readZip(t, packed)["config/deploymentSettings.json"]; ok {
		t.Errorf("config/ was packed into the solution")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readZipHeaders(t testing.TB, p string) []zipHeader {
	t.Helper()
	zr, err := openZip(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out []zipHeader
	for _, f := range zr.File {
		out = append(out, zipHeader{f.Name, f.Method, f.Flags, f.CreatorVersion, f.ReaderVersion, f.ExternalAttrs, f.Modified})
	}
	return out
}

// pac's Both-style tree (Managed=2) packs unmanaged by default and managed
// on request, leaving pac's canvas sources out.
func TestPackBothStyleTree(t *testing.T) {
	t.Run("followsites-small", func(t *testing.T) {
		for _, pt := range []PackageType{0, Managed} {
			parts := readZip(t, packTo(t, fixtures.Path("followsites-small", "unpacked"), pt))
			want := "<Managed>0</Managed>"
			if pt == Managed {
				want = "<Managed>1</Managed>"
			}
			if !bytes.Contains(parts[solutionPart], []byte(want)) {
				t.Errorf("%v: solution.xml lacks %s", pt, want)
			}
			for n := range parts {
				if strings.HasPrefix(n, canvasSourcePrefix) {
					t.Errorf("canvas source %s was packed", n)
				}
			}
			if _, ok := parts["CanvasApps/alexmsft_followsites_7d504_DocumentUri.msapp"]; !ok {
				t.Errorf("msapp missing from the zip")
			}
		}
	})
}
