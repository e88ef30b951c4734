package unpack

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

// canvasFixture is a fixture zip and what its review folders must hold.
type canvasFixture struct {
	name string
	zip  string
	pt   PackageType
	// apps maps each review folder to files it must contain.
	apps map[string][]string
	// yaml marks apps saved as pa.yaml (2.4.0+), whose review files must be
	// the msapp's Src entries byte for byte.
	yaml bool
}

var canvasFixtures = []canvasFixture{
	{name: "followsites-small", zip: fixtures.Path("followsites-small", "sharepoint-followsites.zip"),
		apps: map[string][]string{"alexmsft_followsites_7d504": {"Header.json", "Properties.json", "Controls/1.json", "Controls/4.json",
			"Connections/Connections.json", "DataSources/Sites.json", "References/Resources.json"}}},
	{name: "fabrikam", zip: fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"), pt: Both,
		apps: map[string][]string{
			// The blob is ...co99335_DocumentUri.msapp; the folder keeps the app's name.
			"contoso_environmentalprojectdeliverydefaultcommandlibrary_f6b0a": {"Header.json", "Properties.json", "Controls/4.json", "Components/5.json"},
			"contoso_environmentalworkdelivery_39672":                         {"Header.json", "Controls/68.json", "References/Resources.json"},
			"contoso_projectresourcespage_22fad":                              {"Header.json", "Controls/4.json"},
		}},
	{name: "mcs-feedback-analyzer-managed", zip: fixtures.Path("mcs-feedback-analyzer-managed", "MCSResponsesAnalyzer_2_0_0_2_managed.zip"), yaml: true,
		apps: map[string][]string{
			"msftcsa_conversationtranscriptviewer_fa9f6":              {"Src/App.pa.yaml", "Src/Screen1.pa.yaml", "Src/_EditorState.pa.yaml"},
			"msftcsa_environmentvariablescontrol_20e34":               {"Src/App.pa.yaml", "Src/Screen1.pa.yaml", "Src/_EditorState.pa.yaml"},
			"msftcsa_mcsfeedbackreviewappdefaultcommandlibrary_024c2": {"Src/App.pa.yaml", "Src/Components/View Conversation_1.pa.yaml"},
		}},
	{name: "dynamic-forms", zip: fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip"),
		apps: map[string][]string{"pop_dynamicformsapp_c2749": {"Header.json", "Properties.json", "Controls/131.json", "Components/4.json", "References/Resources.json"}}},
	{name: "pl400demos", zip: fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"),
		apps: map[string][]string{
			"dem_pettraining_64f93":                    {"Header.json", "Controls/11.json", "Components/4.json"},
			"dem_pettricksdefaultcommandlibrary_ce28d": {"Header.json", "Controls/5.json"},
			"dem_menulibrary_3eeeb":                    {"Header.json", "Components/5.json"},
		}},
}

// noiseMarkers change on every save of an app and must not reach the review copy.
var noiseMarkers = []string{`"LastSavedDateTimeUTC"`, `"DeserializationLoadTime"`, `"AnalysisLoadTime"`, `"ControlCount"`,
	`"PublishOrderIndex"`, "sig=", "blob.core.windows.net"}

func TestProcessCanvasAppsFixtures(t *testing.T) {
	when := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, fx := range canvasFixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir, _ := unpackTo(t, fx.zip, UnpackOptions{PackageType: fx.pt, ProcessCanvasApps: true})
			tree := readDir(t, dir)
			review := map[string][]byte{}
			apps := map[string]bool{}
			for p, b := range tree {
				if rest, ok := strings.CutPrefix(p, "CanvasApps/src/"); ok {
					review[rest] = b
					if app, _, nested := strings.Cut(rest, "/"); nested {
						apps[app] = true
					}
				}
			}
			if !bytes.Contains(review["README.md"], []byte("read-only")) {
				t.Errorf("CanvasApps/src/README.md missing or does not say the folder is read-only")
			}
			var wantApps []string
			for app, files := range fx.apps {
				wantApps = append(wantApps, app)
				for _, f := range files {
					if _, ok := review[app+"/"+f]; !ok {
						t.Errorf("review copy lacks %s/%s", app, f)
					}
				}
			}
			if got := appNames(apps); !reflect.DeepEqual(got, sorted(wantApps)) {
				t.Errorf("review folders = %v, want %v", got, sorted(wantApps))
			}

			// The msapps stay byte for byte and are still the source.
			orig := readZip(t, fx.zip)
			for p, b := range tree {
				if strings.HasSuffix(p, msappSuffix) && !bytes.Equal(b, orig[p]) {
					t.Errorf("%s differs from the export", p)
				}
			}

			for p, b := range review {
				for _, m := range noiseMarkers {
					if bytes.Contains(b, []byte(m)) {
						t.Errorf("%s still carries %s", p, m)
					}
				}
				if strings.HasSuffix(p, ".json") {
					assertCanonicalJSON(t, p, b)
				}
			}
			if fx.yaml {
				assertYAMLVerbatim(t, tree, review)
			}

			// Stable: a second unpack writes the same review copy.
			again, _ := unpackTo(t, fx.zip, UnpackOptions{PackageType: fx.pt, ProcessCanvasApps: true})
			assertSameTree(t, dir, again)

			// Pack ignores the review copy: the zips are identical.
			plain, _ := unpackTo(t, fx.zip, UnpackOptions{PackageType: fx.pt})
			for _, pt := range packTypes(fx.pt) {
				withSrc, without := packAt(t, dir, pt, when), packAt(t, plain, pt, when)
				if !bytes.Equal(withSrc, without) {
					t.Errorf("%v: pack of the processed tree differs from pack of the plain tree", pt)
				}
				zr, err := zip.NewReader(bytes.NewReader(withSrc), int64(len(withSrc)))
				must(t, err)
				for _, f := range zr.File {
					if strings.HasPrefix(f.Name, canvasSourcePrefix) {
						t.Errorf("%v: review file %s was packed", pt, f.Name)
					}
				}
			}
		})
	}
}

// The mcs command library's name is long enough to carry a random blob
// suffix; its review folder must be named after the app, and its component
// YAML (a file name with a space) must come through.
func TestProcessCanvasAppsNamesFolderAfterApp(t *testing.T) {
	dir, _ := unpackTo(t, fixtures.Path("mcs-feedback-analyzer-managed", "MCSResponsesAnalyzer_2_0_0_2_managed.zip"), UnpackOptions{ProcessCanvasApps: true})
	metas, _ := filepath.Glob(filepath.Join(dir, "CanvasApps", "msftcsa_mcsfeedbackreviewapp*.meta.xml"))
	if len(metas) != 1 {
		t.Fatalf("meta files: %v", metas)
	}
	app := strings.TrimSuffix(filepath.Base(metas[0]), ".meta.xml")
	if app != "msftcsa_mcsfeedbackreviewappdefaultcommandlibrary_024c2" {
		t.Fatalf("fixture changed: app %s", app)
	}
	for _, f := range []string{"Src/App.pa.yaml", "Src/HelperScreen.pa.yaml", "Src/Components/View Conversation_1.pa.yaml", "Src/_EditorState.pa.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, "CanvasApps", "src", app, filepath.FromSlash(f))); err != nil {
			t.Errorf("review copy of %s: %v", app, err)
		}
	}
	// 2.4.0 apps show YAML only: the JSON control trees are not duplicated.
	if _, err := os.Stat(filepath.Join(dir, "CanvasApps", "src", app, "Controls")); err == nil {
		t.Errorf("a 2.4.0 app got Controls/ JSON besides its YAML")
	}
}

// followsites' src/ in the fixture is real PASopa output: the data source
// files have the same names, and the noise the test removes is really in the
// msapp (so the noise check above can fail).
func TestProcessCanvasAppsMatchesPASopaShape(t *testing.T) {
	dir, _ := unpackTo(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"), UnpackOptions{ProcessCanvasApps: true})
	const app = "alexmsft_followsites_7d504"
	list := func(root string) []string {
		m, _ := filepath.Glob(filepath.Join(root, "CanvasApps", "src", app, "DataSources", "*.json"))
		var out []string
		for _, p := range m {
			out = append(out, filepath.Base(p))
		}
		sort.Strings(out)
		return out
	}
	want, got := list(fixtures.Path("followsites-small", "unpacked")), list(dir)
	if len(want) == 0 || !reflect.DeepEqual(want, got) {
		t.Errorf("DataSources files = %v, PASopa wrote %v", got, want)
	}
	msapp := readZip(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"))["CanvasApps/"+app+msappSuffix]
	inner := readZipBytes(t, msapp)
	if !bytes.Contains(inner[`Header.json`], []byte("LastSavedDateTimeUTC")) || !bytes.Contains(inner[`References\Resources.json`], []byte("sig=")) ||
		!bytes.Contains(inner[`Properties.json`], []byte("AnalysisLoadTime")) || !bytes.Contains(inner[`Controls\4.json`], []byte("PublishOrderIndex")) {
		t.Fatal("the fixture msapp no longer carries the noise this test expects removed")
	}
	// Formulas stay readable: no \u003c escapes for < > &.
	ctl, _ := os.ReadFile(filepath.Join(dir, "CanvasApps", "src", app, "Controls", "4.json"))
	if bytes.Contains(ctl, []byte(`\u003c`)) || bytes.Contains(ctl, []byte(`\u0026`)) {
		t.Errorf("Controls/4.json escapes HTML characters")
	}
	// The connections moved out of Properties.json, decoded.
	conns, _ := os.ReadFile(filepath.Join(dir, "CanvasApps", "src", app, "Connections", "Connections.json"))
	if !bytes.Contains(conns, []byte(`"connectionInstanceId": "/providers/microsoft.powerapps/apis/shared_sharepointonline/`)) {
		t.Errorf("Connections/Connections.json does not look like decoded connections:\n%.300s", conns)
	}
}

// Without the flag, nothing is written under CanvasApps/src, and a plain
// unpack over a processed tree removes the stale review copy.
func TestProcessCanvasAppsOffByDefault(t *testing.T) {
	z := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	dir, _ := unpackTo(t, z, UnpackOptions{ProcessCanvasApps: true})
	if _, err := os.Stat(filepath.Join(dir, "CanvasApps", "src", "README.md")); err != nil {
		t.Fatal(err)
	}
	unpackTo(t, z, UnpackOptions{Folder: dir})
	if _, err := os.Stat(filepath.Join(dir, "CanvasApps", "src")); !os.IsNotExist(err) {
		t.Errorf("CanvasApps/src survived a plain unpack: %v", err)
	}
}

// A bad msapp fails the whole unpack with an error naming the app and the
// entry, and leaves nothing behind; an existing tree stays as it was.
func TestProcessCanvasAppsBadMsapp(t *testing.T) {
	z := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	const msappPart = "CanvasApps/alexmsft_followsites_7d504_DocumentUri.msapp"
	const app = "alexmsft_followsites_7d504"
	parts := readZip(t, z)
	var base []entry
	for _, n := range sortedNames(parts) {
		base = append(base, entry{n, parts[n]})
	}
	header := entry{`Header.json`, []byte(`{"MSAppStructureVersion":"2.0","LastSavedDateTimeUTC":"01/01/2025 00:00:00"}`)}
	yamlHeader := entry{`Header.json`, []byte(`{"MSAppStructureVersion":"2.4.0"}`)}
	tests := []struct {
		name  string
		msapp []byte
		limit int64
		want  []string
	}{
		{"not a zip", []byte("not an msapp"), 0, []string{"not a zip"}},
		{"no header", makeZip(t, entry{`Controls\1.json`, []byte(`{}`)}), 0, []string{"no Header.json"}},
		{"dot-dot entry", makeZip(t, header, entry{`Controls\..\..\..\evil.json`, []byte(`{}`)}), 0, []string{`Controls\\..\\..\\..\\evil.json`, "escape"}},
		{"absolute entry", makeZip(t, header, entry{`\evil.json`, []byte(`{}`)}), 0, []string{`\\evil.json`, "absolute"}},
		{"drive letter", makeZip(t, header, entry{`C:\evil.json`, []byte(`{}`)}), 0, []string{`C:\\evil.json`, "drive letter"}},
		{"case collision", makeZip(t, header, entry{`Controls\1.json`, []byte(`{}`)}, entry{`controls\1.json`, []byte(`{}`)}), 0, []string{`Controls\\1.json`, `controls\\1.json`, "letter case"}},
		{"bomb", makeZip(t, header, entry{`Controls\1.json`, append(append([]byte(`{"a":"`), bytes.Repeat([]byte("x"), 4<<20)...), `"}`...)}), 2 << 20, []string{`Controls\1.json`, "inflates past"}},
		{"bad control JSON", makeZip(t, header, entry{`Controls\1.json`, []byte(`{"TopParent":`)}), 0, []string{`Controls\1.json`, "not valid JSON"}},
		{"bad header version", makeZip(t, entry{`Header.json`, []byte(`{"MSAppStructureVersion":"two"}`)}), 0, []string{"Header.json", "MSAppStructureVersion"}},
		{"unsafe yaml name", makeZip(t, yamlHeader, entry{`Src\App.pa.yaml`, []byte("x")}, entry{`Src\Components.\View.pa.yaml`, []byte("x")}), 0, []string{`Src\\Components.\\View.pa.yaml`, "every OS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			zipPath := filepath.Join(parent, "Bad_1_0_0_0.zip")
			must(t, os.WriteFile(zipPath, makeZip(t, replaced(base, msappPart, tc.msapp)...), 0o644))
			folder := filepath.Join(parent, "out")
			limit := tc.limit
			if limit > 0 {
				limit += int64(totalSize(parts))
			}
			_, err := Unpack(context.Background(), UnpackOptions{ZipFile: zipPath, Folder: folder, ProcessCanvasApps: true, MaxInflatedBytes: limit})
			if err == nil {
				t.Fatal("Unpack succeeded")
			}
			for _, w := range append([]string{zipPath, app, msappPart}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if left, _ := os.ReadDir(parent); len(left) != 1 {
				t.Errorf("left behind next to the zip: %v", left)
			}
			// Without the flag the same zip unpacks: the msapp is a blob.
			if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: zipPath, Folder: folder, MaxInflatedBytes: limit}); err != nil {
				t.Errorf("plain unpack of the same zip: %v", err)
			}
			before := readDir(t, folder)
			if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: zipPath, Folder: folder, ProcessCanvasApps: true, MaxInflatedBytes: limit}); err == nil {
				t.Fatal("Unpack over an existing tree succeeded")
			}
			if after := readDir(t, folder); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed unpack changed the existing tree")
			}
		})
	}
}

func BenchmarkUnpackLargeProcessCanvasApps(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "tree")
	st, _ := os.Stat(largest)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: largest, Folder: dir, ProcessCanvasApps: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// assertCanonicalJSON checks, independently of the encoder, that b is
// indented by two spaces, ends in one newline and has every object's keys
// in ascending order.
func assertCanonicalJSON(t *testing.T, p string, b []byte) {
	t.Helper()
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	must(t, json.Indent(&indented, compact.Bytes(), "", "  "))
	indented.WriteByte('\n')
	if !bytes.Equal(indented.Bytes(), b) {
		t.Errorf("%s is not 2-space indented JSON: %s", p, firstDiff(indented.String(), string(b)))
		return
	}
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object  bool
		wantKey bool
		last    string
		first   bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		must(t, err)
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if k, ok := tok.(string); ok {
				if !top.first && k <= top.last {
					t.Errorf("%s: key %q after %q: keys not sorted", p, k, top.last)
					return
				}
				top.last, top.first, top.wantKey = k, false, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, first: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
}

// assertYAMLVerbatim: every Src/*.pa.yaml of each msapp is in the review
// folder unchanged, and nothing else is.
func assertYAMLVerbatim(t *testing.T, tree, review map[string][]byte) {
	t.Helper()
	names := canvasNamesFromTree(tree)
	for p, b := range tree {
		if !strings.HasSuffix(p, msappSuffix) {
			continue
		}
		app := names["/"+strings.ToLower(p)]
		n := 0
		for name, data := range readZipBytes(t, b) {
			if !strings.HasPrefix(name, `Src\`) || !strings.HasSuffix(name, ".pa.yaml") {
				continue
			}
			n++
			rp := app + "/" + strings.ReplaceAll(name, `\`, "/")
			if !bytes.Equal(review[rp], data) {
				t.Errorf("%s is not the msapp's %s byte for byte", rp, name)
			}
		}
		got := 0
		for rp := range review {
			if strings.HasPrefix(rp, app+"/") {
				got++
			}
		}
		if n == 0 || got != n {
			t.Errorf("%s: %d review files for %d pa.yaml entries", app, got, n)
		}
	}
}

func canvasNamesFromTree(files map[string][]byte) map[string]string {
	t := newTree()
	for _, p := range sortedNames(files) {
		_ = t.add(p, files[p], false)
	}
	return canvasAppNames(t)
}

func readZipBytes(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		data, err := io.ReadAll(rc)
		must(t, err)
		rc.Close()
		out[f.Name] = data
	}
	return out
}

func packTypes(pt PackageType) []PackageType {
	if pt == Both {
		return []PackageType{Unmanaged, Managed}
	}
	return []PackageType{pt}
}

func packAt(t testing.TB, folder string, pt PackageType, when time.Time) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p.zip")
	if _, err := Pack(context.Background(), PackOptions{Folder: folder, ZipFile: out, PackageType: pt, Modified: when}); err != nil {
		t.Fatalf("Pack(%s): %v", folder, err)
	}
	b, err := os.ReadFile(out)
	must(t, err)
	return b
}

func totalSize(parts map[string][]byte) int {
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	return n
}

func appNames(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
