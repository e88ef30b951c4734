package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// TestDemo runs `ppalm demo` as a user would and checks that every stage
// ran, that the maker-facing report is there, and that the repository it
// leaves holds the committed solution.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	f := &Factory{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	start := time.Now()
	if code := run(context.Background(), f, []string{"demo", "--dir", dir}); code != 0 {
		t.Fatalf("ppalm demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the demo took %s; the README promises under 30 seconds", d)
	}
	text := out.String()
	for _, want := range []string{
		"1. Commit solution: export FollowSites from dev",
		"2. Build: check out branch FollowSites, stamp version",
		"3. Deploy FollowSites 1.0.",
		"to test",
		"4. Deploy FollowSites",
		"to prod",
		"6. Upgrade FollowSites in prod",
		"upgrade FollowSites", // the import step's note: an upgrade, not an update
		"test  FollowSites 1.0.",
		"3 of 3 cloud flows on",
		"now owned by bea.owner@contoso.example",
		"→ on as the deploying identity",
		// Names, not ids, for the group the app is shared with.
		`shared with group "Contoso Sales" (`,
		// The clone it suggests has the branch the demo pushed.
		"git clone --branch FollowSites " + filepath.Join(dir, "git", "alm.git"),
		// The header does not promise a branch step 1 then says is missing.
		"(an empty repository: step 1 pushes its first branch)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "✗") {
		t.Errorf("a step failed:\n%s", text)
	}
	// The repository the demo leaves behind has the solution branch with the
	// unpacked tree and the settings.
	repo, err := git.PlainOpen(filepath.Join(dir, "git", "alm.git"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("FollowSites"), true)
	if err != nil {
		t.Fatalf("branch FollowSites: %v", err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"FollowSites/SolutionPackage/src/Other/Solution.xml", "FollowSites/config/test/deploymentSettings.json"} {
		if _, err := commit.File(p); err != nil {
			t.Errorf("%s missing from the branch: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "build-2", "drop")); err != nil {
		t.Errorf("second build output: %v", err)
	}
	// The suggested clone is not empty: it checks the branch out.
	clone := filepath.Join(t.TempDir(), "alm")
	if _, err := git.PlainClone(clone, false, &git.CloneOptions{URL: filepath.Join(dir, "git", "alm.git"), ReferenceName: plumbing.NewBranchReferenceName("FollowSites")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(clone, "FollowSites", "SolutionPackage", "src", "Other", "Solution.xml")); err != nil {
		t.Errorf("the suggested clone: %v", err)
	}

	// A second demo in the same folder starts afresh instead of failing
	// on the repository the first one left.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), f, []string{"demo", "--dir", dir}); code != 0 {
		t.Fatalf("second ppalm demo --dir: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "starting afresh in "+dir) {
		t.Errorf("stderr:\n%s", errOut.String())
	}
}
