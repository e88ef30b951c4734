package unpack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// packFails packs folder and checks that it fails with every want in the
// message and writes no zip.
func packFails(t *testing.T, folder string, opts PackOptions, want ...string) {
	t.Helper()
	opts.Folder = folder
	opts.ZipFile = filepath.Join(t.TempDir(), "x.zip")
	_, err := Pack(context.Background(), opts)
	if err == nil {
		t.Fatalf("pack succeeded; want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant it to contain %q", err, w)
		}
	}
	if _, serr := os.Stat(opts.ZipFile); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a zip was written despite the error")
	}
}

func followSitesTree(t *testing.T) string {
	dir, _ := unpackTo(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"), UnpackOptions{})
	return dir
}

func writeFile(t *testing.T, dir, rel, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
}

// A folder that is no component folder of an export, and that nothing in
// customizations.xml names, is refused by name; --allow-extra carries it.
func TestPackRefusesUnknownTopLevelFolder(t *testing.T) {
	dir := followSitesTree(t)
	writeFile(t, dir, "Extras/notes.txt", "hello")
	writeFile(t, dir, "Extras/deep/more.bin", "x")
	packFails(t, dir, PackOptions{}, "Extras/notes.txt", "Extras/deep/more.bin", "--allow-extra 'Extras/**'")

	out := filepath.Join(t.TempDir(), "x.zip")
	if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out, AllowExtra: []string{"Extras/**"}}); err != nil {
		t.Fatal(err)
	}
	parts := readZip(t, out)
	if string(parts["Extras/notes.txt"]) != "hello" || string(parts["Extras/deep/more.bin"]) != "x" {
		t.Errorf("--allow-extra did not carry the files as they are")
	}
	packFails(t, dir, PackOptions{AllowExtra: []string{"Extras/*.txt"}}, "Extras/deep/more.bin")
	packFails(t, dir, PackOptions{AllowExtra: []string{"Extras/["}}, `--allow-extra "Extras/[" is not a valid pattern`)
}

// Record-style folders of component kinds ppalm has no rule for pack as
// they are, as the export holds them.
func TestPackCarriesRecordStyleFolders(t *testing.T) {
	dir := followSitesTree(t)
	writeFile(t, dir, "copilotwidgets/contoso_widget/copilotwidget.xml", "<copilotwidget />")
	writeFile(t, dir, "copilotwidgets/contoso_widget/data/config.json", "{}")
	parts := readZip(t, packTo(t, dir, 0))
	if string(parts["copilotwidgets/contoso_widget/data/config.json"]) != "{}" {
		t.Errorf("record-style folder not carried")
	}
	// The same file without its record's XML is no record.
	must(t, os.Remove(filepath.Join(dir, "copilotwidgets", "contoso_widget", "copilotwidget.xml")))
	packFails(t, dir, PackOptions{}, "copilotwidgets/contoso_widget/data/config.json")
}

// A component whose metadata stays while the file it needs is gone (a
// deleted flow definition, a canvas app's .msapp) is refused by name.
func TestPackRefusesComponentWithoutItsFile(t *testing.T) {
	dir := followSitesTree(t)
	must(t, os.Remove(filepath.Join(dir, "Workflows", "Findsites-3E587800-9A7C-EE11-8178-002248C6B93D.json")))
	must(t, os.Remove(filepath.Join(dir, "CanvasApps", "alexmsft_followsites_7d504_DocumentUri.msapp")))
	packFails(t, dir, PackOptions{}, "<JsonFileName>Workflows/Findsites-3E587800-9A7C-EE11-8178-002248C6B93D.json",
		"<DocumentUri>CanvasApps/alexmsft_followsites_7d504_DocumentUri.msapp")
}
