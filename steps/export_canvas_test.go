package steps

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/task"
)

// With ProcessCanvasApps the branch carries the canvas review copy, and a
// second export of the unchanged app commits nothing: the copy is stable.
func TestExportToGitProcessCanvasApps(t *testing.T) {
	ctx := context.Background()
	dev := devEnvironment(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	remote := gitRemote(t)
	var out bytes.Buffer
	clock := func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) }
	run := func() *Context {
		c := &Context{Reporter: task.NewTerminal(&out, false), Now: clock, Source: &Source{
			Dataverse: dev, Solution: "FollowSites", Publish: true, WorkDir: t.TempDir(),
			Repo: remote, Branch: "maker@contoso.com-FollowSites", Base: "main", Token: "s3cret-token",
			Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Message: "Follow sites", Push: true,
			ProcessCanvasApps: true,
		}}
		if err := (Runner{Reporter: c.Reporter, Now: clock}).Run(ctx, c, ExportToGitPipeline()); err != nil {
			t.Fatalf("export-to-git: %v\n%s", err, out.String())
		}
		return c
	}
	c := run()
	if !c.Source.Commit.Committed {
		t.Fatalf("first run made no commit")
	}
	tree := t.TempDir()
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: c.Source.Branch, Path: "FollowSites", Dest: tree, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	review := filepath.Join(tree, "SolutionPackage", "src", "CanvasApps", "src")
	for _, f := range []string{"README.md", filepath.Join("alexmsft_followsites_7d504", "Controls", "4.json"), filepath.Join("alexmsft_followsites_7d504", "Header.json")} {
		if _, err := os.Stat(filepath.Join(review, f)); err != nil {
			t.Errorf("review copy on the branch: %v", err)
		}
	}
	if c2 := run(); c2.Source.Commit.Committed {
		t.Errorf("second run of an unchanged app committed %v", c2.Source.Commit.Changes)
	}
}
