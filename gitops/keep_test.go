package gitops

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5"
	gogithttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// TestCommitKeepOthers: one file of a folder changes and its neighbours
// stay, on a URL and in a working copy; without KeepOthers the folder is
// replaced exactly.
func TestCommitKeepOthers(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	seedFolder := t.TempDir()
	os.MkdirAll(filepath.Join(seedFolder, "solutions", "A"), 0o755)
	os.WriteFile(filepath.Join(seedFolder, "profiles.yaml"), []byte("profiles: []\n"), 0o644)
	os.WriteFile(filepath.Join(seedFolder, "solutions", "A", "solution.yaml"), []byte("profile: X\n"), 0o644)
	opts := CommitOptions{Repo: rem.url, Branch: "main", Base: "main", Folder: seedFolder, Path: ".ppalm", Message: "seed",
		Author: Signature{Name: "Admin", Email: "admin@contoso.com"}, Push: true, Token: token, Now: clock}
	if _, err := Commit(ctx, opts); err != nil {
		t.Fatal(err)
	}

	one := t.TempDir()
	os.WriteFile(filepath.Join(one, "profiles.yaml"), []byte("profiles:\n  - name: New\n"), 0o644)
	opts.Folder, opts.KeepOthers, opts.Message = one, true, "one profile"
	res, err := Commit(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Changes, []string{"M .ppalm/profiles.yaml"}) {
		t.Fatalf("changes = %v", res.Changes)
	}
	_, files := remoteTree(t, rem.bare, "refs/heads/main")
	if files[".ppalm/profiles.yaml"] != "profiles:\n  - name: New\n" || files[".ppalm/solutions/A/solution.yaml"] != "profile: X\n" || files["README.md"] == "" {
		t.Fatalf("after KeepOthers: %v", files)
	}
	if again, err := Commit(ctx, opts); err != nil || again.Committed {
		t.Fatalf("no change: %+v, %v", again, err)
	}

	// A working copy: the neighbour stays on disk and in the commit.
	dir := t.TempDir()
	if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: rem.url, Auth: &gogithttp.BasicAuth{Username: "x-access-token", Password: token}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(one, "profiles.yaml"), []byte("profiles: []\n"), 0o644)
	wc := opts
	wc.Repo, wc.Message = dir, "from a working copy"
	if res, err := Commit(ctx, wc); err != nil || !slices.Equal(res.Changes, []string{"M .ppalm/profiles.yaml"}) {
		t.Fatalf("working copy: %+v, %v", res, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, ".ppalm", "solutions", "A", "solution.yaml")); err != nil || string(got) != "profile: X\n" {
		t.Fatalf("the neighbour on disk: %q, %v", got, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ".ppalm", "profiles.yaml")); string(got) != "profiles: []\n" {
		t.Fatalf("the file on disk: %q", got)
	}

	// Without KeepOthers the folder is replaced exactly.
	opts.KeepOthers, opts.Message = false, "replace"
	os.WriteFile(filepath.Join(one, "profiles.yaml"), []byte("profiles: [x]\n"), 0o644)
	res, err = Commit(ctx, opts)
	if err != nil || !slices.Contains(res.Changes, "D .ppalm/solutions/A/solution.yaml") {
		t.Fatalf("replace: %+v, %v", res, err)
	}
}
