package diff

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

var (
	pl23 = fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip")
	pl24 = fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")
)

func mustRead(t *testing.T, path string) *Snapshot {
	t.Helper()
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// zipEntries reads every entry of a zip as it is stored.
func zipEntries(t *testing.T, path string) (names []string, data map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		data[f.Name] = b
	}
	return names, data
}

// rawEntries is the oracle the diff is checked against, read from the XML
// without the package's reader: every element two levels under
// ImportExportXml (one entry of a section), as the exact bytes of the file
// between its start and end tags, line endings aside, keyed by section.
func rawEntries(t *testing.T, data []byte) map[string][]string {
	t.Helper()
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	dec := xml.NewDecoder(bytes.NewReader(data))
	out := map[string][]string{}
	depth := 0
	var section string
	var start int64
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				section = tk.Name.Local
			}
			if depth == 3 {
				start = before
			}
		case xml.EndElement:
			if depth == 3 {
				out[section] = append(out[section], string(data[start:dec.InputOffset()]))
			}
			depth--
		}
	}
	return out
}

// missingFrom lists the raw entries of a that b does not have, by section.
func missingFrom(a, b map[string][]string) []string {
	var out []string
	for sec, entries := range a {
		have := map[string]int{}
		for _, e := range b[sec] {
			have[e]++
		}
		for _, e := range entries {
			if have[e] > 0 {
				have[e]--
				continue
			}
			out = append(out, sec+": "+e)
		}
	}
	return out
}

// The two real PL400 exports: the diff lists exactly the components whose
// XML differs, checked against the zips' own bytes: the entries of
// customizations.xml that differ (compared as raw text), the files that
// differ, and the manifest.
func TestPL400ExportsDifferInExactlyTheComponentsTheirXMLDoes(t *testing.T) {
	r := Compare(mustRead(t, pl23), mustRead(t, pl24))

	// The oracle, from the zips' own bytes.
	names23, files23 := zipEntries(t, pl23)
	names24, files24 := zipEntries(t, pl24)
	raw23, raw24 := rawEntries(t, files23["customizations.xml"]), rawEntries(t, files24["customizations.xml"])
	added, removed := missingFrom(raw24, raw23), missingFrom(raw23, raw24)
	if len(removed) != 0 || len(added) != 1 || !strings.HasPrefix(added[0], "Connectors: <Connector>") {
		t.Fatalf("the fixture changed: entries only in 1.0.24.0 %q, only in 1.0.23.0 %q", added, removed)
	}
	var newFiles, changedFiles []string
	for _, n := range names24 {
		old, ok := files23[n]
		switch {
		case !ok:
			newFiles = append(newFiles, n)
		case !bytes.Equal(old, files24[n]) && n != "customizations.xml" && n != "solution.xml" && n != "[Content_Types].xml":
			changedFiles = append(changedFiles, n)
		}
	}
	if len(names23)+len(newFiles) != len(names24) || len(changedFiles) != 0 {
		t.Fatalf("files: new %v, changed %v", newFiles, changedFiles)
	}
	// Every new file is one the new entry names: it is part of that
	// component, not a change of its own.
	for _, n := range newFiles {
		if !strings.Contains(added[0], "/"+n) {
			t.Errorf("new file %s is not named by the new entry", n)
		}
	}

	// The diff: exactly that one component, named as the XML names it.
	if len(r.Changes) != 1 || r.Added != 1 || r.Changed != 0 || r.Removed != 0 {
		t.Fatalf("changes:\n%s", r.Text())
	}
	c := r.Changes[0]
	if c.Change != Added || c.Kind != "custom connector" || c.Key != "dem_inventorymanager" || c.Name != "InventoryManager" {
		t.Errorf("change %+v", c)
	}
	if !strings.Contains(added[0], "<name>"+c.Key+"</name>") || !strings.Contains(added[0], "<displayname>"+c.Name+"</displayname>") {
		t.Errorf("the change %+v is not the entry that differs:\n%s", c, added[0])
	}
	if r.From.Version != "1.0.23.0" || r.To.Version != "1.0.24.0" || r.From.UniqueName != "PL400Demos" {
		t.Errorf("sides %+v %+v", r.From, r.To)
	}
	want := "PL400Demos 1.0.23.0 → 1.0.24.0\n  + custom connector InventoryManager (dem_inventorymanager)\n1 added, 0 changed, 0 removed\n"
	if got := r.Text(); got != want {
		t.Errorf("text:\n%s\nwant\n%s", got, want)
	}
	// Backwards, it is removed.
	back := Compare(mustRead(t, pl24), mustRead(t, pl23))
	if len(back.Changes) != 1 || back.Changes[0].Change != Removed || back.Changes[0].Key != "dem_inventorymanager" {
		t.Errorf("24 → 23:\n%s", back.Text())
	}
}

func TestIdenticalInputsSayNothingChanged(t *testing.T) {
	r := Compare(mustRead(t, pl24), mustRead(t, pl24))
	if !r.Same() || len(r.Changes) != 0 {
		t.Fatalf("changes:\n%s", r.Text())
	}
	if got := r.Text(); !strings.Contains(got, "Nothing changed") {
		t.Errorf("text: %s", got)
	}
	if got := r.Markdown(0); !strings.Contains(got, "Nothing changed") {
		t.Errorf("markdown: %s", got)
	}
}

// rewrite writes a copy of the zip at src with edit applied to each entry
// (nil drops it) and extra entries added, and returns its path.
func rewrite(t *testing.T, src string, edit func(name string, data []byte) []byte, extra map[string][]byte) string {
	t.Helper()
	names, data := zipEntries(t, src)
	out := filepath.Join(t.TempDir(), filepath.Base(src))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	put := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	for _, n := range names {
		b := edit(n, data[n])
		if b != nil {
			put(n, b)
		}
	}
	for _, n := range sortedKeys(extra) {
		put(n, extra[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return out
}

// replaceOnce replaces old, which must occur exactly once, in s.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// cut removes the element that contains marker: from the last open before
// it to the first close after it.
func cut(t *testing.T, s, open, close, marker string) string {
	t.Helper()
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("%q not found", marker)
	}
	start := strings.LastIndex(s[:i+len(marker)], open)
	end := strings.Index(s[i:], close) + i + len(close)
	return s[:start] + s[end:]
}

type changeKey struct{ change, kind, table, key string }

func keys(r *Result) []changeKey {
	var out []changeKey
	for _, c := range r.Changes {
		out = append(out, changeKey{c.Change, c.Kind, c.Table, c.Key})
	}
	return out
}

// One change of each kind a reviewer cares about, made in the real
// PL400Demos export the way an export would carry it: the diff lists
// exactly these, in kind order, and says what differs in each.
func TestEachKindOfChange(t *testing.T) {
	role := `<Role id="{346c8295-a669-f011-bec2-00224823101f}" name="Column-level security sample role"><IsCustomizable>1</IsCustomizable><RolePrivileges><RolePrivilege name="prvReadAccount" level="Global" /></RolePrivileges></Role>`
	envVar := []byte(`<environmentvariabledefinition schemaname="dem_ApiUrl"><defaultvalue>https://api.contoso.example</defaultvalue><displayname default="API URL"><label description="API URL" languagecode="1033" /></displayname><type>100000000</type></environmentvariabledefinition>`)
	changed := rewrite(t, pl24, func(name string, b []byte) []byte {
		s := string(b)
		switch {
		case name == "customizations.xml":
			// column: its display name
			s = replaceOnce(t, s, `<displayname description="Pet Name" languagecode="1033" />`, `<displayname description="Pet's name" languagecode="1033" />`)
			// table: its plural name
			s = replaceOnce(t, s, `<LocalizedCollectionName description="Pets" languagecode="1033" />`, `<LocalizedCollectionName description="Pet records" languagecode="1033" />`)
			// form: a control made read-only
			s = replaceOnce(t, s, `datafieldname="dem_petname" disabled="false" />`, `datafieldname="dem_petname" disabled="true" />`)
			// view: removed
			s = cut(t, s, "<savedquery>", "</savedquery>", "{d1a37e34-c945-45af-8a59-ce56f3d0548a}")
			// plug-in step: its rank
			i := strings.Index(s, `SdkMessageProcessingStepId="{64ea8779-2726-ee11-9966-00224823910f}"`)
			j := i + strings.Index(s[i:], "<Rank>1</Rank>")
			s = s[:j] + "<Rank>2</Rank>" + s[j+len("<Rank>1</Rank>"):]
			// connection reference: removed
			s = cut(t, s, "<connectionreference ", "</connectionreference>", `connectionreferencelogicalname="dem_sharedcommondataserviceforapps_1b77c"`)
			// security role: added
			s = replaceOnce(t, s, "<Roles></Roles>", "<Roles>"+role+"</Roles>")
		case strings.HasPrefix(name, "Workflows/NewPet-"):
			// cloud flow: its definition
			s = replaceOnce(t, s, `"contentVersion": "1.0.0.0"`, `"contentVersion": "1.0.0.1"`)
		case name == "CanvasApps/dem_pettraining_64f93_DocumentUri.msapp":
			// canvas app: a new version of the document
			return append(append([]byte{}, b...), 0)
		}
		return []byte(s)
	}, map[string][]byte{"environmentvariabledefinitions/dem_ApiUrl/environmentvariabledefinition.xml": envVar})

	r := Compare(mustRead(t, pl24), mustRead(t, changed))
	want := []changeKey{
		{Changed, "table", "", "dem_pet"},
		{Changed, "column", "dem_pet", "dem_petname"},
		{Changed, "form", "dem_pet", "f460123a-aab9-4f48-93d5-a6b9a4a7fdcc"},
		{Removed, "view", "dem_pet", "d1a37e34-c945-45af-8a59-ce56f3d0548a"},
		{Added, "security role", "", "346c8295-a669-f011-bec2-00224823101f"},
		{Changed, "cloud flow", "", "cc724662-8525-ee11-9cbd-00224823910f"},
		{Changed, "plug-in step", "", "64ea8779-2726-ee11-9966-00224823910f"},
		{Changed, "canvas app", "", "dem_pettraining_64f93"},
		{Removed, "connection reference", "", "dem_sharedcommondataserviceforapps_1b77c"},
		{Added, "environment variable", "", "dem_apiurl"},
	}
	if got := keys(r); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes:\n%s\ngot  %v\nwant %v", r.Text(), got, want)
	}
	parts := map[string]string{}
	names := map[string]string{}
	for _, c := range r.Changes {
		parts[c.Kind] = strings.Join(c.Parts, ",")
		names[c.Kind] = c.Name
	}
	for kind, p := range map[string]string{
		"column": "displaynames", "cloud flow": "definition", "canvas app": "app", "plug-in step": "Rank",
		"table": "EntityInfo/entity/LocalizedCollectionNames", "form": "form/tabs/tab/columns",
	} {
		if !strings.HasPrefix(parts[kind], p) {
			t.Errorf("%s: parts %q, want %q", kind, parts[kind], p)
		}
	}
	for kind, n := range map[string]string{"column": "Pet's name", "security role": "Column-level security sample role", "cloud flow": "New Pet", "canvas app": "Pet Training", "environment variable": "dem_ApiUrl"} {
		if names[kind] != n {
			t.Errorf("%s: name %q, want %q", kind, names[kind], n)
		}
	}
	if r.Added != 2 || r.Changed != 6 || r.Removed != 2 {
		t.Errorf("counts %d %d %d", r.Added, r.Changed, r.Removed)
	}
	md := r.Markdown(0)
	for _, want := range []string{"| ✏️ changed | column | dem_pet.Pet's name (`dem_petname`) | displaynames/displayname |", "| ➖ removed | connection reference |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if short := r.Markdown(3); !strings.Contains(short, "…and 7 more") {
		t.Errorf("markdown limited to 3 rows:\n%s", short)
	}
}

// What changes on every export without anyone changing anything is not a
// change: the version, line endings and indentation, a canvas app's
// AppVersion and its blob's random file name, IntroducedVersion.
func TestExportNoiseIsNotAChange(t *testing.T) {
	_, files := zipEntries(t, pl24)
	cust := string(files["customizations.xml"])
	oldBlob := "/CanvasApps/dem_pettraining_64f93_DocumentUri.msapp"
	newBlob := "/CanvasApps/dem_pettraining_64f93_12345_DocumentUri.msapp"
	noisy := rewrite(t, pl24, func(name string, b []byte) []byte {
		s := string(b)
		switch name {
		case "customizations.xml":
			s = strings.ReplaceAll(s, "\r\n", "\n")
			s = strings.ReplaceAll(s, "\n    ", "\n\t")
			s = replaceOnce(t, s, "<AppVersion>2023-07-18T15:51:37Z</AppVersion>", "<AppVersion>2026-01-01T00:00:00Z</AppVersion>")
			s = replaceOnce(t, s, oldBlob, newBlob)
			s = strings.Replace(s, "<IntroducedVersion>1.0</IntroducedVersion>", "<IntroducedVersion>1.0.24.0</IntroducedVersion>", 1)
		case "solution.xml":
			s = replaceOnce(t, s, "<Version>1.0.24.0</Version>", "<Version>1.0.25.0</Version>")
		case strings.TrimPrefix(oldBlob, "/"):
			return nil
		}
		return []byte(s)
	}, map[string][]byte{strings.TrimPrefix(newBlob, "/"): files[strings.TrimPrefix(oldBlob, "/")]})
	if cust == "" {
		t.Fatal("no customizations.xml")
	}
	r := Compare(mustRead(t, pl24), mustRead(t, noisy))
	if !r.Same() {
		t.Errorf("noise reported as changes:\n%s", r.Text())
	}
	if r.To.Version != "1.0.25.0" || !strings.Contains(r.Text(), "1.0.24.0 → 1.0.25.0") {
		t.Errorf("the version change is not in the heading:\n%s", r.Text())
	}
}

// A solution new to the target: everything is added.
func TestFromEmptyEverythingIsAdded(t *testing.T) {
	to := mustRead(t, pl23)
	r := Compare(Empty(""), to)
	if r.Removed != 0 || r.Changed != 0 || r.Added != len(to.components) || r.Added < 40 {
		t.Errorf("%d added, %d changed, %d removed of %d components", r.Added, r.Changed, r.Removed, len(to.components))
	}
	kinds := map[string]bool{}
	for _, c := range r.Changes {
		kinds[c.Kind] = true
	}
	var missing []string
	for _, k := range []string{"table", "column", "form", "view", "cloud flow", "business rule", "canvas app", "connection reference", "plug-in assembly", "plug-in step", "service endpoint", "web resource", "model-driven app", "site map", "choice", "relationship"} {
		if !kinds[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no %v among %v", missing, kinds)
	}
	if !strings.Contains(r.Text(), "PL400Demos 1.0.23.0 (new)") {
		t.Errorf("heading: %s", firstLine(r.Text()))
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// A zip that is not a solution is refused with what is wrong.
func TestNotASolution(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.zip")
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("readme.txt")
	w.Write([]byte("hi"))
	zw.Close()
	os.WriteFile(p, b.Bytes(), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "no solution.xml") || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v", err)
	}
}
