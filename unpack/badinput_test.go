package unpack

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

type entry struct {
	name string
	data []byte
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// baseEntries is a small real export (the bot fixture).
func baseEntries(t testing.TB) []entry {
	t.Helper()
	parts := readZip(t, fixtures.Path("sharepoint-site-creation-bot", "SharePointSiteCreationBot_2_0_0_0.zip"))
	var out []entry
	for _, n := range sortedNames(parts) {
		out = append(out, entry{n, parts[n]})
	}
	return out
}

func replaced(entries []entry, name string, data []byte) []entry {
	out := append([]entry(nil), entries...)
	for i := range out {
		if out[i].name == name {
			out[i].data = data
		}
	}
	return out
}

func without(entries []entry, name string) []entry {
	var out []entry
	for _, e := range entries {
		if e.name != name {
			out = append(out, e)
		}
	}
	return out
}

// Each bad input gets one error naming the file and the problem, and no
// folder (or temporary folder) is left behind.
func TestUnpackBadInput(t *testing.T) {
	base := baseEntries(t)
	cust := readZip(t, fixtures.Path("sharepoint-site-creation-bot", "SharePointSiteCreationBot_2_0_0_0.zip"))[customizationsPart]
	twoEntities := []byte(`<ImportExportXml><Entities><Entity><Name>Foo</Name><RibbonDiffXml /></Entity><Entity><Name>foo</Name><RibbonDiffXml /></Entity></Entities><Languages><Language>1033</Language></Languages></ImportExportXml>`)
	tests := []struct {
		name  string
		zip   []byte
		limit int64
		want  []string
	}{
		{"not a zip", []byte("hello, I am a text file"), 0, []string{"not a zip"}},
		{"no solution.xml", makeZip(t, without(base, solutionPart)...), 0, []string{"no solution.xml", "not a Dataverse solution"}},
		{"no customizations.xml", makeZip(t, without(base, customizationsPart)...), 0, []string{"no customizations.xml"}},
		{"malformed XML", makeZip(t, replaced(base, customizationsPart, bytes.Replace(cust, []byte("</Workflows>"), []byte("</Workflow>"), 1))...), 0, []string{"customizations.xml is not well-formed", "line", "</Workflow>"}},
		{"dot-dot entry", makeZip(t, append(base, entry{"Workflows/../../evil.txt", []byte("x")})...), 0, []string{"Workflows/../../evil.txt", "escape"}},
		{"absolute entry", makeZip(t, append(base, entry{"/etc/evil", []byte("x")})...), 0, []string{"/etc/evil", "absolute"}},
		{"drive letter entry", makeZip(t, append(base, entry{`C:\evil.txt`, []byte("x")})...), 0, []string{`C:\\evil.txt`}},
		{"zip bomb", makeZip(t, append(base, entry{"Workflows/bomb.json", make([]byte, 4<<20)})...), 1 << 20, []string{"Workflows/bomb.json", "inflates past"}},
		{"case-colliding entries", makeZip(t, append(base, entry{"Assets/Foo.xml", []byte("<a/>")}, entry{"Assets/foo.xml", []byte("<a/>")})...), 0, []string{"Assets/Foo.xml", "Assets/foo.xml", "letter case"}},
		{"case-colliding entities", makeZip(t, replaced(base, customizationsPart, twoEntities)...), 0, []string{"Entities/Foo", "Entities/foo", "letter case"}},
		{"doctype", makeZip(t, replaced(base, solutionPart, []byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><ImportExportXml/>`))...), 0, []string{"solution.xml", "DOCTYPE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			zipPath := filepath.Join(parent, "Bad_1_0_0_0.zip")
			must(t, os.WriteFile(zipPath, tc.zip, 0o644))
			folder := filepath.Join(parent, "out")
			_, err := Unpack(context.Background(), UnpackOptions{ZipFile: zipPath, Folder: folder, MaxInflatedBytes: tc.limit})
			if err == nil {
				t.Fatal("Unpack succeeded")
			}
			msg := err.Error()
			for _, w := range append([]string{zipPath}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			left, _ := os.ReadDir(parent)
			if len(left) != 1 {
				t.Errorf("left behind next to the zip: %v", left)
			}
		})
	}
}

func TestUnpackFolderIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := Unpack(context.Background(), UnpackOptions{ZipFile: fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip"), Folder: file})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "is a file") {
		t.Fatalf("err = %v, want it to name %s as a file", err, file)
	}
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Errorf("the file was changed")
	}
}

// A failed unpack over an existing tree leaves that tree untouched.
func TestUnpackFailureKeepsExistingTree(t *testing.T) {
	dir, _ := unpackTo(t, fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip"), UnpackOptions{})
	before := readDir(t, dir)
	bad := filepath.Join(t.TempDir(), "bad.zip")
	must(t, os.WriteFile(bad, makeZip(t, without(baseEntries(t), solutionPart)...), 0o644))
	if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: bad, Folder: dir}); err == nil {
		t.Fatal("Unpack succeeded")
	}
	after := readDir(t, dir)
	if len(before) != len(after) {
		t.Fatalf("tree changed: %d files before, %d after", len(before), len(after))
	}
	for p := range before {
		if !bytes.Equal(before[p], after[p]) {
			t.Errorf("%s changed", p)
		}
	}
}

func TestPackBadInput(t *testing.T) {
	dir, _ := unpackTo(t, fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip"), UnpackOptions{})
	out := filepath.Join(t.TempDir(), "x.zip")
	form := filepath.Join(dir, "Entities", "pop_QuestionData", "FormXml", "main", "{1e0ddcbd-d0bf-4ee0-b623-87f9a640b13b}.xml")
	must(t, os.WriteFile(form, []byte("<forms><systemform></forms>"), 0o644))
	_, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out})
	if err == nil || !strings.Contains(err.Error(), "{1e0ddcbd-d0bf-4ee0-b623-87f9a640b13b}.xml is not well-formed") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a zip was written despite the error")
	}
	_, err = Pack(context.Background(), PackOptions{Folder: filepath.Join(dir, "nope"), ZipFile: out})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing folder: err = %v", err)
	}
	yaml := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(yaml, "solutions", "X"), 0o755))
	must(t, os.WriteFile(filepath.Join(yaml, "solutions", "X", "solution.yml"), []byte("x"), 0o644))
	if _, err := Pack(context.Background(), PackOptions{Folder: yaml, ZipFile: out}); err == nil || !strings.Contains(err.Error(), "YAML source-control layout") {
		t.Errorf("YAML layout: err = %v", err)
	}
}

func FuzzUnpack(f *testing.F) {
	for _, z := range []string{
		fixtures.Path("sharepoint-site-creation-bot", "SharePointSiteCreationBot_2_0_0_0.zip"),
		fixtures.Path("column-level-security-pair", "ColumnLevelSecuritySampleSolution.zip"),
		fixtures.Path("is-system-admin-plugin", "IsSystemAdminFunction_1_0_0_0_managed.zip"),
	} {
		b, err := os.ReadFile(z)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(makeZip(f, entry{solutionPart, []byte("<ImportExportXml><SolutionManifest><Managed>0</Managed></SolutionManifest></ImportExportXml>")}, entry{customizationsPart, []byte("<ImportExportXml><Entities><Entity><Name>A</Name><FormXml><forms type=\"main\"><systemform><formid>x</formid></systemform></forms></FormXml></Entity></Entities></ImportExportXml>")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		zp := filepath.Join(parent, "f.zip")
		must(t, os.WriteFile(zp, data, 0o644))
		folder := filepath.Join(parent, "tree")
		_, err := Unpack(context.Background(), UnpackOptions{ZipFile: zp, Folder: folder, MaxInflatedBytes: 8 << 20})
		if err != nil {
			if _, serr := os.Stat(folder); serr == nil {
				t.Fatalf("failed unpack left %s behind: %v", folder, err)
			}
			return
		}
		// Whatever unpacks must stay inside the folder and pack again.
		must(t, filepath.WalkDir(parent, func(p string, d os.DirEntry, err error) error {
			if err == nil && p != parent && p != zp && !strings.HasPrefix(p, folder) {
				t.Errorf("wrote outside the folder: %s", p)
			}
			return err
		}))
		if _, err := Pack(context.Background(), PackOptions{Folder: folder, ZipFile: filepath.Join(parent, "again.zip")}); err != nil {
			t.Fatalf("unpacked tree does not pack: %v", err)
		}
	})
}

func TestSetVersionAndNormalize(t *testing.T) {
	dir, _ := unpackTo(t, fixtures.Path("mcs-feedback-analyzer-managed", "MCSResponsesAnalyzer_2_0_0_2_managed.zip"), UnpackOptions{LineEndings: "crlf"})
	sol := filepath.Join(dir, "Other", "Solution.xml")
	before, _ := os.ReadFile(sol)
	must(t, SetVersion(dir, "3.4.5.6"))
	after, _ := os.ReadFile(sol)
	want := bytes.Replace(before, []byte("<Version>2.0.0.2</Version>"), []byte("<Version>3.4.5.6</Version>"), 1)
	if !bytes.Equal(after, want) || bytes.Equal(before, after) {
		t.Errorf("SetVersion changed more (or less) than <Version>")
	}
	for _, bad := range []string{"1.2.3", "1.2.3.x", "", "1.2.3.4.5", "1..2.3"} {
		if err := SetVersion(dir, bad); err == nil || !strings.Contains(err.Error(), "four numbers") {
			t.Errorf("SetVersion(%q): err = %v", bad, err)
		}
	}
	vals, _ := filepath.Glob(filepath.Join(dir, "environmentvariabledefinitions", "*", "environmentvariablevalues.json"))
	if len(vals) == 0 {
		t.Fatal("fixture should carry an environment variable value")
	}
	must(t, Normalize(dir, NormalizeOptions{DropEnvironmentVariableValues: true}))
	after, _ = os.ReadFile(sol)
	if !bytes.Contains(after, []byte("<Version>0.0.0.0</Version>")) {
		t.Errorf("Normalize did not reset the version")
	}
	if vals, _ := filepath.Glob(filepath.Join(dir, "environmentvariabledefinitions", "*", "environmentvariablevalues.json")); len(vals) != 0 {
		t.Errorf("values left: %v", vals)
	}
	must(t, SetVersion(dir, "1.0.0.1"))
	must(t, Normalize(dir, NormalizeOptions{KeepVersion: true}))
	if after, _ = os.ReadFile(sol); !bytes.Contains(after, []byte("<Version>1.0.0.1</Version>")) {
		t.Errorf("KeepVersion did not keep the version")
	}
	if err := SetVersion(t.TempDir(), "1.0.0.0"); err == nil || !strings.Contains(err.Error(), "Solution.xml") {
		t.Errorf("SetVersion on an empty folder: err = %v", err)
	}
}
