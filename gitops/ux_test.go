package gitops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// A bare repository given as --repo is what a remote is: ppalm commits
// through a clone and pushes into it, and writes no working tree into it.
func TestCommitToBareRepositoryPathPushesIntoIt(t *testing.T) {
	bare := filepath.Join(t.TempDir(), "sol.git")
	if _, err := git.PlainInit(bare, true); err != nil {
		t.Fatal(err)
	}
	res, err := Commit(context.Background(), CommitOptions{
		Repo: bare, Branch: "DynamicForms", Folder: solutionFolder(t), Path: solPath, Message: "first",
		Author: Signature{Name: "Alex", Email: "alex@contoso.example"}, Push: true, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || !res.Pushed {
		t.Fatalf("result %+v, want committed and pushed", res)
	}
	if _, err := os.Stat(filepath.Join(bare, "DynamicForms")); !os.IsNotExist(err) {
		t.Errorf("files written into the bare repository (stat: %v)", err)
	}
	r, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName("DynamicForms"), true)
	if err != nil || ref.Hash().String() != res.Hash {
		t.Fatalf("branch in the bare repository: %v, %v; want %s", ref, err, res.Hash)
	}
}

// --push on a working copy with no origin fails before anything is
// committed, and says what to do.
func TestPushWithoutOriginFailsBeforeCommitting(t *testing.T) {
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	sig := &object.Signature{Name: "Seed", Email: "seed@example.com", When: fixedTime}
	h, err := wt.Commit("seed", &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", h)); err != nil {
		t.Fatal(err)
	}
	_, err = Commit(context.Background(), CommitOptions{
		Repo: dir, Branch: "DynamicForms", Folder: solutionFolder(t), Path: solPath, Message: "first",
		Author: Signature{Name: "Alex", Email: "alex@contoso.example"}, Push: true, Now: clock,
	})
	if err == nil || !strings.Contains(err.Error(), `no remote "origin"`) || !strings.Contains(err.Error(), "URL as --repo") {
		t.Fatalf("err = %v, want no remote origin and what to do", err)
	}
	if _, err := r.Reference(plumbing.NewBranchReferenceName("DynamicForms"), true); err == nil {
		t.Error("the branch was committed although the push could not happen")
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(solPath))); !os.IsNotExist(err) {
		t.Errorf("files written to the working copy (stat: %v)", err)
	}
}
