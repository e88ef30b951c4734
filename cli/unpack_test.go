package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

func TestUnpackPackVersionCommands(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "src")
	zip := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	out, errOut, code := runCLI(t, nil, "unpack", "--zipfile", zip, "--folder", tree, "--packagetype", "Both", "--line-endings", "crlf")
	if code != 0 {
		t.Fatalf("unpack exit %d: %s", code, errOut)
	}
	for _, want := range []string{"FabrikamEnvironmental 1.1.11.71 (unmanaged + managed)", "Entities", "Cloud flows", "Canvas apps", "Wrote " + tree} {
		if !strings.Contains(out, want) {
			t.Errorf("unpack output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(tree, "Other", "Solution.xml"))
	if err != nil || !bytes.Contains(b, []byte("<Managed>2</Managed>\r\n")) {
		t.Errorf("Both/crlf flags not applied to Other/Solution.xml: %v", err)
	}

	out, errOut, code = runCLI(t, map[string]string{"BUILD_BUILDNUMBER": "2.0.1.7"}, "version", "set", "--folder", tree)
	if code != 0 || !strings.Contains(out, "2.0.1.7") {
		t.Fatalf("version set exit %d: %s%s", code, out, errOut)
	}
	_, errOut, code = runCLI(t, nil, "version", "set", "--folder", tree, "--version", "2.0.1")
	if code == 0 || !strings.Contains(errOut, "four numbers") {
		t.Errorf("bad version: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, nil, "version", "set", "--folder", tree)
	if code == 0 || !strings.Contains(errOut, "BUILD_BUILDNUMBER") {
		t.Errorf("no version: exit %d, stderr %q", code, errOut)
	}
	// --keep-existing leaves a real version alone and stamps 0.0.0.0 only.
	out, _, code = runCLI(t, nil, "version", "set", "--folder", tree, "--version", "3.0.0.1", "--keep-existing")
	if code != 0 || !strings.Contains(out, "Kept version 2.0.1.7") {
		t.Errorf("version set --keep-existing on 2.0.1.7: exit %d, %s", code, out)
	}
	if out, errOut, code = runCLI(t, nil, "normalize", "--folder", tree); code != 0 {
		t.Fatalf("normalize exit %d: %s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, nil, "version", "set", "--folder", tree, "--version", "2.0.1.8", "--keep-existing")
	if b, _ := os.ReadFile(filepath.Join(tree, "Other", "Solution.xml")); code != 0 || !bytes.Contains(b, []byte("<Version>2.0.1.8</Version>")) {
		t.Errorf("version set --keep-existing after normalize: exit %d, %s", code, out)
	}

	packed := filepath.Join(dir, "out", "Fab.zip")
	out, errOut, code = runCLI(t, nil, "pack", "--folder", tree, "--zipfile", packed, "--packagetype", "Both")
	if code != 0 {
		t.Fatalf("pack exit %d: %s", code, errOut)
	}
	for _, p := range []string{packed, filepath.Join(dir, "out", "Fab_managed.zip")} {
		if _, err := os.Stat(p); err != nil || !strings.Contains(out, p) {
			t.Errorf("pack did not write (or report) %s: %v\n%s", p, err, out)
		}
	}
	if !strings.Contains(out, "2.0.1.8") {
		t.Errorf("pack output lacks the stamped version:\n%s", out)
	}

	_, errOut, code = runCLI(t, nil, "unpack", "--zipfile", filepath.Join(tree, "Other", "Solution.xml"), "--folder", filepath.Join(dir, "x"))
	if code == 0 || !strings.Contains(errOut, "not a zip") {
		t.Errorf("unpack of a non-zip: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, nil, "pack", "--folder", tree, "--zipfile", packed, "--packagetype", "Sideways")
	if code == 0 || !strings.Contains(errOut, "Unmanaged, Managed or Both") {
		t.Errorf("bad package type: exit %d, stderr %q", code, errOut)
	}
}
