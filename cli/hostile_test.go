package cli

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
)

// hostileZip copies the entries of a real export (raw, as they are) and
// then applies edit: entries to add, or to replace by name.
func hostileZip(t *testing.T, base string, replace map[string]string, add ...[2]string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(base)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if data, ok := replace[f.Name]; ok {
			w, _ := zw.Create(f.Name)
			w.Write([]byte(data))
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range add {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a[0], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(a[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every command that reads a solution zip refuses the same hostile zips for
// the same reason, before it writes a file or sends an import: unpack,
// plan, import, settings validate and diff all open zips through solzip.
func TestEveryCommandRefusesTheSameHostileZips(t *testing.T) {
	base := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	zr, err := zip.OpenReader(base)
	if err != nil {
		t.Fatal(err)
	}
	var solutionXML string
	for _, f := range zr.File {
		if f.Name == "solution.xml" {
			rc, _ := f.Open()
			b := new(bytes.Buffer)
			b.ReadFrom(rc)
			rc.Close()
			solutionXML = b.String()
		}
	}
	zr.Close()
	other := strings.Replace(solutionXML, "<UniqueName>FollowSites</UniqueName>", "<UniqueName>Impostor</UniqueName>", 1)
	if other == solutionXML {
		t.Fatal("fixture's UniqueName not found")
	}
	cases := []struct {
		name    string
		replace map[string]string
		add     [][2]string
		want    string
	}{
		{"zip slip", nil, [][2]string{{"../../evil.dll", "MZ"}}, `"../../evil.dll": a ".." path segment`},
		{"absolute path", nil, [][2]string{{"/etc/cron.d/evil", "x"}}, `"/etc/cron.d/evil" is an absolute path`},
		{"backslash", nil, [][2]string{{`..\evil.dll`, "MZ"}}, "uses a backslash"},
		{"case collision", nil, [][2]string{{"WebResources/x.js", "1"}, {"WebResources/X.js", "2"}}, `"WebResources/x.js" and "WebResources/X.js" differ only in letter case`},
		{"second solution.xml", nil, [][2]string{{"Solution.xml", other}}, `"solution.xml" and "Solution.xml" differ only in letter case`},
		{"solution.xml twice", nil, [][2]string{{"solution.xml", other}}, `"solution.xml" appears twice`},
		{"customizations.xml wrong root", map[string]string{"customizations.xml": "<Entities><Entity/></Entities>"}, nil, "customizations.xml: expected root <ImportExportXml>, found <Entities>"},
		{"invalid UTF-8 name", nil, [][2]string{{"WebResources/\xff\xfe.js", "x"}}, "not valid UTF-8"},
		{"control character", nil, [][2]string{{"WebResources/a\x07b.js", "x"}}, "control character U+0007"},
		{"CON", nil, [][2]string{{"WebResources/CON.js", "x"}}, `"CON.js" is not a file name every OS can store`},
		{"COM1 folder", nil, [][2]string{{"com1/readme.txt", "x"}}, `"com1" is not a file name every OS can store`},
		{"trailing dot", nil, [][2]string{{"WebResources/x.js.", "x"}}, "ends in a dot or a space"},
		{"trailing space", nil, [][2]string{{"WebResources/x /y.js", "x"}}, "ends in a dot or a space"},
		{"file and folder", nil, [][2]string{{"Workflows", "x"}}, `"Workflows" is both a file and a folder`},
	}
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	dir := t.TempDir()
	settingsFile := filepath.Join(dir, "deploymentSettings.json")
	if _, errOut, code := runCLI(t, nil, "settings", "create", "--zipfile", base, "--out", settingsFile); code != 0 {
		t.Fatalf("settings create: %s", errOut)
	}
	connect := []string{"--environment", srv.EnvURL("test"), "--powerapps-url", srv.PowerAppsURL(), "--graph-url", srv.GraphURL()}
	commands := []struct {
		name string
		args func(zip, out string) []string
	}{
		{"unpack", func(zip, out string) []string { return []string{"unpack", "--zipfile", zip, "--folder", out} }},
		{"plan", func(zip, _ string) []string {
			return append([]string{"plan", "--zipfile", zip, "--settings", settingsFile}, connect...)
		}},
		{"import", func(zip, _ string) []string {
			return append([]string{"import", "--zipfile", zip, "--settings", settingsFile}, connect...)
		}},
		{"settings validate", func(zip, _ string) []string {
			return []string{"settings", "validate", "--zipfile", zip, "--settings", settingsFile}
		}},
		{"diff", func(zip, _ string) []string { return []string{"diff", base, zip} }},
	}

	// The clean export passes the reader in every command.
	for _, c := range commands {
		out := filepath.Join(dir, "clean-"+strings.ReplaceAll(c.name, " ", "-"))
		stdout, stderr, _ := runCLI(t, nil, c.args(base, out)...)
		if strings.Contains(stdout+stderr, "read solution") {
			t.Fatalf("%s refused the clean export:\n%s%s", c.name, stdout, stderr)
		}
	}
	importsBefore := importRequests(srv)

	for i, hc := range cases {
		zipPath := filepath.Join(dir, "hostile", hc.name, "FollowSites.zip")
		os.MkdirAll(filepath.Dir(zipPath), 0o755)
		if err := os.WriteFile(zipPath, hostileZip(t, base, hc.replace, hc.add...), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, c := range commands {
			out := filepath.Join(dir, "out", string(rune('a'+i)), strings.ReplaceAll(c.name, " ", "-"))
			stdout, stderr, code := runCLI(t, nil, c.args(zipPath, out)...)
			if all := stdout + stderr; code == 0 || !strings.Contains(all, hc.want) || !strings.Contains(all, zipPath) {
				t.Errorf("%s, %s: exit %d, want a refusal naming the zip and saying %q:\n%s%s", hc.name, c.name, code, hc.want, stdout, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s, %s: wrote %s", hc.name, c.name, out)
			}
		}
	}
	if after := importRequests(srv); after != importsBefore {
		t.Errorf("the emulator received %d import requests for hostile zips", after-importsBefore)
	}
}

// importRequests counts the import and upgrade actions the emulator served.
func importRequests(srv *emulatortest.Server) int {
	n := 0
	for route, byStatus := range srv.Emulator.Stats().Requests {
		if strings.HasPrefix(route, "POST") && (strings.Contains(route, "ImportSolution") || strings.Contains(route, "StageAndUpgrade")) {
			for _, c := range byStatus {
				n += c
			}
		}
	}
	return n
}
