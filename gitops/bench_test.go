package gitops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/fixtures"
)

// largeFolder writes n files shaped like an unpacked solution (a few
// hundred folders, real component XML as content) and returns its path.
func largeFolder(b *testing.B, n int) string {
	b.Helper()
	sample, err := os.ReadFile(filepath.Join(solutionFolderPath(), "Other", "Customizations.xml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "Entities", fmt.Sprintf("ent_%03d", i/10), fmt.Sprintf("part_%d.xml", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, append([]byte(fmt.Sprintf("<!-- %d -->\n", i)), sample...), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func benchRepo(b *testing.B) string {
	dir := b.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("x"), 0o644)
	wt, _ := r.Worktree()
	wt.Add("README.md")
	sig := benchSig()
	h, err := wt.Commit("seed", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		b.Fatal(err)
	}
	_ = h
	return dir
}

// BenchmarkCommitUnchanged is the common rerun: 3000 files, nothing changed.
func BenchmarkCommitUnchanged(b *testing.B) {
	folder := largeFolder(b, 3000)
	repo := benchRepo(b)
	opts := baseOptions(repo, folder)
	opts.Push, opts.Branch, opts.Base = false, "master", "master"
	if _, err := Commit(context.Background(), opts); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Commit(context.Background(), opts)
		if err != nil || res.Committed {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkCommitFirst publishes 3000 new files into a working copy.
func BenchmarkCommitFirst(b *testing.B) {
	folder := largeFolder(b, 3000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := benchRepo(b)
		opts := baseOptions(repo, folder)
		opts.Push, opts.Branch, opts.Base = false, "master", "master"
		b.StartTimer()
		res, err := Commit(context.Background(), opts)
		if err != nil || !res.Committed || len(res.Changes) != 3000 {
			b.Fatalf("%v %v", res, err)
		}
	}
}

func solutionFolderPath() string { return fixtures.Path("dynamic-forms", "unpacked") }

func benchSig() *object.Signature {
	return &object.Signature{Name: "Seed", Email: "seed@example.com", When: fixedTime}
}
