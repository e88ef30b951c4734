package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// ppalm migrate checks without changing anything, exits 2 (a check found
// problems, as plan and settings validate) when something must change, and with --write adds the pipeline only, never overwriting.
func TestMigrateCommand(t *testing.T) {
	repo := t.TempDir()
	copyDir(t, fixtures.AcceleratorPath("repo"), repo)
	out, errOut, code := runCLI(t, nil, "migrate", "--repo", repo)
	if code != 0 || !strings.Contains(out, "nothing in the repository must change") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "ALMAcceleratorSampleSolution", "ppalm-ALMAcceleratorSampleSolution.yml")); err == nil {
		t.Fatal("check mode wrote a file")
	}
	out, errOut, code = runCLI(t, nil, "migrate", "--repo", repo, "--write", "--host", "github")
	written := filepath.Join(repo, ".github", "workflows", "ppalm-ALMAcceleratorSampleSolution.yml")
	if code != 0 || !strings.Contains(out, "wrote "+written) {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	if _, _, code = runCLI(t, nil, "migrate", "--repo", repo, "--write", "--host", "github"); code == 0 {
		t.Error("--write overwrote an existing workflow")
	}
	os.Remove(filepath.Join(repo, "ALMAcceleratorSampleSolution", "SolutionPackage", "CanvasApps", "cat_devopskitsamplecanvasapp_c7ec5_DocumentUri.msapp"))
	out, errOut, code = runCLI(t, nil, "migrate", "--repo", repo)
	if code != ExitCheckFailed || !strings.Contains(out, "1 thing(s) to change") || !strings.Contains(errOut, "1 thing(s) must change") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
}
