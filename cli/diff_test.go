package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution/diff"
)

var (
	pl23Zip = fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip")
	pl24Zip = fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")
)

// ppalm diff on the two real PL400Demos exports, as text, JSON and
// Markdown; on identical inputs it says nothing changed (exit 0, also with
// --exit-code).
func TestDiffCommand(t *testing.T) {
	out, errOut, code := runCLI(t, nil, "diff", pl23Zip, pl24Zip)
	want := "PL400Demos 1.0.23.0 → 1.0.24.0\n  + custom connector InventoryManager (dem_inventorymanager)\n1 added, 0 changed, 0 removed\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = runCLI(t, nil, "diff", "--from", pl23Zip, "--to", pl24Zip, "--output", "json")
	var r diff.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Changes) != 1 || r.Changes[0].Kind != "custom connector" || r.To.Version != "1.0.24.0" {
		t.Errorf("json: %v\n%s", err, out)
	}
	out, _, _ = runCLI(t, nil, "diff", pl23Zip, pl24Zip, "--output", "markdown")
	if !strings.HasPrefix(out, "### Solution changes: PL400Demos 1.0.23.0 → 1.0.24.0\n") || !strings.Contains(out, "| ➕ added | custom connector |") {
		t.Errorf("markdown:\n%s", out)
	}
	out, _, code = runCLI(t, nil, "diff", pl24Zip, pl24Zip, "--exit-code")
	if code != 0 || !strings.Contains(out, "Nothing changed: every component of PL400Demos is the same in both.") {
		t.Errorf("identical: exit %d\n%s", code, out)
	}
	_, errOut, code = runCLI(t, nil, "diff", pl24Zip)
	if code != ExitFailure || !strings.Contains(errOut, "two versions are needed") {
		t.Errorf("one argument: exit %d %s", code, errOut)
	}
}

// A tree and the zip it was unpacked from are the same solution: diff packs
// the tree as the build does and finds nothing changed; a component taken
// out of the tree is a removal.
func TestDiffTreeAgainstZip(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "src")
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", pl24Zip, "--folder", tree); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := runCLI(t, nil, "diff", pl24Zip, tree)
	if code != 0 || !strings.Contains(out, "Nothing changed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = runCLI(t, nil, "diff", pl23Zip, tree)
	if !strings.Contains(out, "+ custom connector InventoryManager") {
		t.Errorf("23 against the 24 tree:\n%s", out)
	}
}

// pullRequestCheckout is a working copy as a pull request build checks it
// out: PL400Demos 1.0.23.0 unpacked in PL400Demos/SolutionPackage/src and
// committed (head), then the pull request's 1.0.24.0 unpacked over it,
// uncommitted, as a merge checkout holds it.
func pullRequestCheckout(t *testing.T) (dir string, repo *git.Repository, head plumbing.Hash) {
	t.Helper()
	dir, repo = newWorkingCopy(t)
	tree := filepath.Join(dir, "PL400Demos", "SolutionPackage", "src")
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", pl23Zip, "--folder", tree); code != 0 {
		t.Fatal(errOut)
	}
	wt, _ := repo.Worktree()
	if err := wt.AddGlob("PL400Demos"); err != nil {
		t.Fatal(err)
	}
	head, err := wt.Commit("1.0.23", &git.CommitOptions{Author: &object.Signature{Name: "x", Email: "x@x"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", pl24Zip, "--folder", tree); code != 0 {
		t.Fatal(errOut)
	}
	return dir, repo, head
}

// In a pull request build, ppalm build compares the tree with the target
// branch's and writes the component diff to the run summary (GitHub
// Actions, task mode, as the host runs it).
func TestBuildWritesTheDiffToTheRunSummary(t *testing.T) {
	dir, _, _ := pullRequestCheckout(t)
	tree := filepath.Join(dir, "PL400Demos", "SolutionPackage", "src")
	summary := filepath.Join(t.TempDir(), "summary.md")
	out, code := runTaskInProcess(t, map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "output"), "GITHUB_STEP_SUMMARY": summary,
		"GITHUB_BASE_REF": "main", "INPUT_COMMAND": "build", "INPUT_FOLDER": tree, "INPUT_OUT": filepath.Join(t.TempDir(), "drop"),
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	md, _ := os.ReadFile(summary)
	if !strings.Contains(string(md), "### Solution changes: PL400Demos 1.0.23.0 → 1.0.24.0") || !strings.Contains(string(md), "| ➕ added | custom connector | InventoryManager (`dem_inventorymanager`) |") {
		t.Errorf("summary:\n%s\nlog:\n%s", md, out)
	}
	if !strings.Contains(out, "against main: 1 added, 0 changed, 0 removed") {
		t.Errorf("report:\n%s", out)
	}
}

// The Accelerator names a solution's branch after the solution, and its
// folder too: a pull request into branch PL400Demos, built in the
// checkout's root where the folder PL400Demos/ is, compares with the
// branch, not with the folder of that name.
func TestBuildComparesWithTheBranchNamedLikeTheFolder(t *testing.T) {
	dir, repo, head := pullRequestCheckout(t)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("PL400Demos"), head)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	out, code := runTaskInProcess(t, map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "output"), "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary.md"),
		"GITHUB_BASE_REF": "PL400Demos", "INPUT_COMMAND": "build", "INPUT_FOLDER": filepath.Join("PL400Demos", "SolutionPackage", "src"), "INPUT_OUT": filepath.Join(t.TempDir(), "drop"),
	})
	if code != 0 || strings.Contains(out, "::warning::") || !strings.Contains(out, "against PL400Demos: 1 added, 0 changed, 0 removed") {
		t.Errorf("exit %d, report:\n%s", code, out)
	}
}
