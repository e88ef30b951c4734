package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

func TestBuildCommand(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "src")
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", fixtures.Path("followsites-small", "sharepoint-followsites.zip"), "--folder", tree); code != 0 {
		t.Fatalf("unpack: %s", errOut)
	}
	if _, errOut, code := runCLI(t, nil, "normalize", "--folder", tree); code != 0 {
		t.Fatalf("normalize: %s", errOut)
	}
	out := filepath.Join(dir, "drop")
	stdout, errOut, code := runCLI(t, map[string]string{"BUILD_BUILDNUMBER": "1.0.20261128.3"}, "build", "--folder", tree, "--out", out, "--packagetype", "Managed")
	if code != 0 {
		t.Fatalf("build exit %d: %s%s", code, stdout, errOut)
	}
	managed := filepath.Join(out, "FollowSites_1_0_20261128_3_managed.zip")
	sol, err := solution.ReadFile(managed)
	if err != nil || !sol.Managed || sol.Version != "1.0.20261128.3" {
		t.Fatalf("%s: %+v %v", managed, sol, err)
	}
	// Step outputs are said on stderr, with the log; stdout has the report.
	if !strings.Contains(errOut, "managedZipfile="+managed) || !strings.Contains(errOut, "version=1.0.20261128.3") || !strings.Contains(stdout, "✓ pack") {
		t.Errorf("build outputs missing:\n%s\n--- stderr\n%s", stdout, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "build", "--folder", tree, "--out", out, "--version", "1.2"); code == 0 || !strings.Contains(errOut, "--version") {
		t.Errorf("bad version: exit %d, %s", code, errOut)
	}
}
