package steps

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
)

// gitRemote starts a loopback git server with basic auth and an empty bare
// repository, and returns the repository URL.
func gitRemote(t *testing.T) string {
	t.Helper()
	srv := githttp.NewServer(t.TempDir(), githttp.WithBasicAuth("maker", "s3cret-token"))
	if _, err := srv.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return strings.Replace(hs.URL, "http://", "http://maker@", 1) + "/alm.git"
}

func devEnvironment(t *testing.T, zips ...string) *dataverse.Client {
	t.Helper()
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, Seeds: map[string][]string{"dev": zips}, AsyncPolls: -1})
	return srv.Client(t, "dev")
}

func TestExportToGitThenBuild(t *testing.T) {
	ctx := context.Background()
	dev := devEnvironment(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	remote := gitRemote(t)
	var out bytes.Buffer
	clock := func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) }
	newRun := func() *Context {
		return &Context{Reporter: task.NewTerminal(&out, false), Now: clock, Source: &Source{
			Dataverse: dev, Solution: "FollowSites", Publish: true, WorkDir: t.TempDir(),
			Repo: remote, Branch: "maker@contoso.com-FollowSites", Base: "main", Token: "s3cret-token",
			Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Message: "Follow sites #42", Push: true,
			Environments: []string{"test", "prod"}, DropEnvironmentVariableValues: true,
		}}
	}
	c := newRun()
	if err := (Runner{Reporter: c.Reporter, Now: clock}).Run(ctx, c, ExportToGitPipeline()); err != nil {
		t.Fatalf("export-to-git: %v\n%s", err, out.String())
	}
	if !c.Source.Commit.Committed || !c.Source.Commit.Pushed {
		t.Fatalf("commit = %+v", c.Source.Commit)
	}
	if strings.Contains(out.String(), "s3cret-token") {
		t.Fatal("the git token reached the log")
	}

	// What landed on the branch: the unpacked tree at version 0.0.0.0 and
	// tokenised settings for both environments.
	tree := t.TempDir()
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: c.Source.Branch, Path: "FollowSites", Dest: tree, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(tree, "SolutionPackage", "src")
	if name, ver, err := ReadManifest(src); err != nil || name != "FollowSites" || ver != "0.0.0.0" {
		t.Fatalf("manifest %q %q %v", name, ver, err)
	}
	if _, err := os.Stat(filepath.Join(src, "CanvasApps", "alexmsft_followsites_7d504.meta.xml")); err != nil {
		t.Errorf("canvas app meta missing from the tree: %v", err)
	}
	ds, _, err := settings.LoadDeploymentSettings(filepath.Join(tree, "config", "test", "deploymentSettings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.ConnectionReferences) != 1 || ds.ConnectionReferences[0].ConnectionID != "#{connectionreference.alexmsft_SharePointConnectionFollowSites}#" ||
		len(ds.EnvironmentVariables) != 1 || ds.EnvironmentVariables[0].Value != "#{environmentvariable.alexmsft_FollowSitesSPOSite}#" {
		t.Fatalf("test settings = %+v", ds)
	}
	if _, err := os.Stat(filepath.Join(tree, "config", "prod", "customDeploymentSettings.json")); err != nil {
		t.Fatal(err)
	}

	// A maker fills in a value by hand in config/test ...
	edited := t.TempDir()
	testCfg := filepath.Join(tree, "config", "test")
	custom, _ := os.ReadFile(filepath.Join(testCfg, "customDeploymentSettings.json"))
	os.WriteFile(filepath.Join(edited, "customDeploymentSettings.json"), custom, 0o644)
	ds.ConnectionReferences[0].ConnectionID = "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87"
	filled, _ := settings.Marshal(ds)
	os.WriteFile(filepath.Join(edited, "deploymentSettings.json"), filled, 0o644)
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: c.Source.Branch, Folder: edited, Path: "FollowSites/config/test",
		Message: "bind the SharePoint connection", Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Push: true, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	// ... and a second run with nothing changed in dev keeps it and makes
	// no commit.
	c2 := newRun()
	if err := (Runner{Reporter: c2.Reporter, Now: clock}).Run(ctx, c2, ExportToGitPipeline()); err != nil {
		t.Fatalf("second export-to-git: %v", err)
	}
	if c2.Source.Commit.Committed {
		t.Fatalf("second run committed %v", c2.Source.Commit.Changes)
	}
	again := t.TempDir()
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: c.Source.Branch, Path: "FollowSites/config/test", Dest: again, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(again, "deploymentSettings.json")); !bytes.Equal(b, filled) {
		t.Fatalf("the hand-filled settings changed:\n%s", b)
	}

	// Build: stamp the version and pack both kinds.
	b := &Context{Reporter: task.NewTerminal(&out, false), Now: clock, Build: &Build{Folder: src, Version: "1.0.20261128.1", OutDir: t.TempDir()}}
	if err := (Runner{Reporter: b.Reporter}).Run(ctx, b, BuildPipeline()); err != nil {
		t.Fatalf("build: %v", err)
	}
	for _, z := range []string{b.Build.UnmanagedZip, b.Build.ManagedZip} {
		sol, err := solution.ReadFile(z)
		if err != nil {
			t.Fatal(err)
		}
		if sol.Version != "1.0.20261128.1" || sol.Managed != strings.HasSuffix(z, "_managed.zip") || len(sol.CloudFlows()) != 3 {
			t.Errorf("%s: version %s managed %v flows %d", z, sol.Version, sol.Managed, len(sol.CloudFlows()))
		}
	}
}

func TestCheckoutKeepsFilesBesideTheTree(t *testing.T) {
	ctx := context.Background()
	remote := gitRemote(t)
	// A repository that already holds the solution folder with a README.
	seed := t.TempDir()
	os.WriteFile(filepath.Join(seed, "README.md"), []byte("ours\n"), 0o644)
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: "main", Folder: seed, Path: "FollowSites",
		Message: "seed", Author: gitops.Signature{Name: "A", Email: "a@b.c"}, Push: true, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	c := &Context{Reporter: task.NewTerminal(&bytes.Buffer{}, false), Source: &Source{Solution: "FollowSites", WorkDir: t.TempDir(),
		Repo: remote, Branch: "feature", Base: "main", Token: "s3cret-token"}}
	if err := (Checkout{}).Run(ctx, c); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(c.Source.Stage, "README.md")); err != nil || string(b) != "ours\n" {
		t.Fatalf("README from the base branch: %q %v", b, err)
	}
	// A wrong token must stop the run, not start from an empty folder.
	c.Source.Token = "wrong"
	if err := (Checkout{}).Run(ctx, c); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("checkout with a bad token: %v", err)
	}
}
