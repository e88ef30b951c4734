package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/task"
	"github.com/ppalm/ppalm/unpack"
)

// legacyFollowSites commits FollowSites to main as an Accelerator
// repository of the first years kept it: the tree unpacked directly under
// SolutionPackage/ (no src/), and config/customDeploymentSettings.json
// holding a hand-written DefaultEnvironmentVariables pair.
func legacyFollowSites(ctx context.Context, t *testing.T, remote string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := unpack.Unpack(ctx, unpack.UnpackOptions{ZipFile: fixtures.Path("followsites-small", "sharepoint-followsites.zip"),
		Folder: filepath.Join(dir, "SolutionPackage"), PackageType: unpack.Unmanaged}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	custom := `{"DefaultEnvironmentVariables": [["alexmsft_FollowSitesSPOSite", "https://contoso.sharepoint.com/sites/<Follow & Sites>"]]}`
	if err := os.WriteFile(filepath.Join(dir, "config", "customDeploymentSettings.json"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: "main", Folder: dir, Path: "FollowSites", Message: "as the Accelerator left it",
		Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Push: true, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
}

// exportRun is an export-to-git run of FollowSites from dev to main.
func exportRun(t *testing.T, remote string, out *bytes.Buffer, src func(*Source)) *Context {
	dev := devEnvironment(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	s := &Source{Dataverse: dev, Solution: "FollowSites", WorkDir: t.TempDir(), Repo: remote, Branch: "main", Token: "s3cret-token",
		Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Message: "export", Push: true}
	src(s)
	clock := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	return &Context{Reporter: task.NewTerminal(out, false), Now: clock, Source: s}
}

func readBranch(ctx context.Context, t *testing.T, remote string) string {
	t.Helper()
	tree := t.TempDir()
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: "main", Path: "FollowSites", Dest: tree, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	return tree
}

// An export over a legacy layout replaces the tree under SolutionPackage/
// by SolutionPackage/src/, as the Accelerator's export replaced it with a
// fresh clone; config/ stays. VerifyDefaultEnvironmentVariableValues
// (ApplyDefaultEnvironmentVariables) writes the shared custom file's
// DefaultEnvironmentVariables into the definition's default value, XML
// escaped, and DisableFlows commits every flow turned off.
func TestExportOverLegacyLayoutWithDefaultsAndDisabledFlows(t *testing.T) {
	ctx := context.Background()
	remote := gitRemote(t)
	legacyFollowSites(ctx, t, remote)
	var out bytes.Buffer
	c := exportRun(t, remote, &out, func(s *Source) { s.ApplyDefaultEnvironmentVariables, s.DisableFlows = true, true })
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, ExportToGitPipeline()); err != nil {
		t.Fatalf("export-to-git: %v\n%s", err, out.String())
	}
	tree := readBranch(ctx, t, remote)
	if _, err := os.Stat(filepath.Join(tree, "SolutionPackage", "Other")); err == nil {
		t.Error("the legacy tree under SolutionPackage/ is still there beside src/")
	}
	if _, err := os.Stat(filepath.Join(tree, "config", "customDeploymentSettings.json")); err != nil {
		t.Errorf("config/ was not kept: %v", err)
	}
	src := filepath.Join(tree, "SolutionPackage", "src")
	def, err := os.ReadFile(filepath.Join(src, "environmentvariabledefinitions", "alexmsft_FollowSitesSPOSite", "environmentvariabledefinition.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(def, []byte("<defaultvalue>https://contoso.sharepoint.com/sites/&lt;Follow &amp; Sites&gt;</defaultvalue>")) {
		t.Errorf("default value not written:\n%s", def)
	}
	flows, _ := filepath.Glob(filepath.Join(src, "Workflows", "*.xml"))
	if len(flows) != 3 {
		t.Fatalf("%d workflow files", len(flows))
	}
	for _, f := range flows {
		b, _ := os.ReadFile(f)
		if !bytes.Contains(b, []byte("<StateCode>0</StateCode>")) || !bytes.Contains(b, []byte("<StatusCode>1</StatusCode>")) {
			t.Errorf("%s is not committed off", filepath.Base(f))
		}
	}
	for _, want := range []string{"legacy layout", "3 cloud flow(s) committed turned off", "default value set from config/customDeploymentSettings.json DefaultEnvironmentVariables: alexmsft_FollowSitesSPOSite"} {
		if !strings.Contains(Report(c.Outcomes), want) {
			t.Errorf("report lacks %q:\n%s", want, Report(c.Outcomes))
		}
	}
	// The tree packs and builds as it is now laid out.
	if _, err := RunBuild(ctx, Services{Reporter: task.NewTerminal(&out, false)}, &Build{Folder: src, OutDir: t.TempDir(), Version: "1.0.20260301.1"}); err != nil {
		t.Fatalf("build of the exported tree: %v", err)
	}

	// A pair naming a variable the solution does not have fails the
	// export, naming the file and the pair; nothing is committed.
	legacyCustom := filepath.Join(t.TempDir(), "config")
	os.MkdirAll(legacyCustom, 0o755)
	os.WriteFile(filepath.Join(legacyCustom, "customDeploymentSettings.json"), []byte(`{"DefaultEnvironmentVariables": [["new_Missing", "x"]]}`), 0o644)
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: "main", Folder: legacyCustom, Path: "FollowSites/config", Message: "bad pair",
		Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Push: true, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	c = exportRun(t, remote, &out, func(s *Source) { s.ApplyDefaultEnvironmentVariables = true })
	err = (Runner{Reporter: c.Reporter}).Run(ctx, c, ExportToGitPipeline())
	if err == nil || !strings.Contains(err.Error(), `DefaultEnvironmentVariables[0] names "new_Missing"`) {
		t.Fatalf("a pair for a variable the solution lacks: %v", err)
	}
}

// CommitScope: solution commits the source and leaves the settings as they
// are; settings commits the settings and leaves the source as it is.
func TestExportCommitScope(t *testing.T) {
	ctx := context.Background()
	remote := gitRemote(t)
	legacyFollowSites(ctx, t, remote)
	var out bytes.Buffer

	c := exportRun(t, remote, &out, func(s *Source) { s.Scope, s.Environments = ScopeSolution, []string{"Test"} })
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, ExportToGitPipeline()); err != nil {
		t.Fatalf("scope solution: %v\n%s", err, out.String())
	}
	tree := readBranch(ctx, t, remote)
	if _, err := os.Stat(filepath.Join(tree, "SolutionPackage", "src", "Other", "Solution.xml")); err != nil {
		t.Errorf("scope solution: no source committed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tree, "config", "Test")); err == nil {
		t.Error("scope solution: config/Test was written")
	}

	// Scope settings, after a maker changed the source by hand on main:
	// the change stays, the settings are written.
	edited := filepath.Join(t.TempDir(), "FollowSites")
	copyDirTree(t, tree, edited)
	readme := filepath.Join(edited, "SolutionPackage", "src", "Other", "Solution.xml")
	b, _ := os.ReadFile(readme)
	b = regexp.MustCompile(`<Version>[^<]*</Version>`).ReplaceAll(b, []byte("<Version>9.9.9.9</Version>"))
	os.WriteFile(readme, b, 0o644)
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: "main", Folder: edited, Path: "FollowSites", Message: "by hand",
		Author: gitops.Signature{Name: "Maker", Email: "maker@contoso.com"}, Push: true, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	c = exportRun(t, remote, &out, func(s *Source) { s.Scope, s.Environments = ScopeSettings, []string{"Test"} })
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, ExportToGitPipeline()); err != nil {
		t.Fatalf("scope settings: %v\n%s", err, out.String())
	}
	tree = readBranch(ctx, t, remote)
	if _, ver, _ := ReadManifest(filepath.Join(tree, "SolutionPackage", "src")); ver != "9.9.9.9" {
		t.Errorf("scope settings replaced the source: version %s", ver)
	}
	if _, err := os.Stat(filepath.Join(tree, "config", "Test", "deploymentSettings.json")); err != nil {
		t.Errorf("scope settings: config/Test not written: %v", err)
	}
	if !strings.Contains(Report(c.Outcomes), "commit scope settings: the solution's source is not replaced") {
		t.Errorf("report:\n%s", Report(c.Outcomes))
	}
	if _, err := ParseCommitScope("2"); err != nil {
		t.Error(err)
	}
	if _, err := ParseCommitScope("4"); err == nil {
		t.Error("CommitScope 4 accepted")
	}
}

func copyDirTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// The Accelerator's legacy layouts build: a tree directly under
// SolutionPackage/ (asked for as SolutionPackage/src), its old canvas
// source folder left out of the zip; the same folder without its .msapp is
// refused with what to do.
func TestBuildLegacyLayouts(t *testing.T) {
	ctx := context.Background()
	repo := t.TempDir()
	copyDirTree(t, fixtures.AcceleratorPath("repo", "ALMAcceleratorSampleSolution"), repo)
	var out bytes.Buffer
	drop := t.TempDir()
	b := &Build{Folder: filepath.Join(repo, "SolutionPackage", "src"), OutDir: drop, Version: "1.0.20260301.1"}
	bc, err := RunBuild(ctx, Services{Reporter: task.NewTerminal(&out, false)}, b)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	sol := mustRead(t, b.ManagedZip)
	if sol.UniqueName != "ALMAcceleratorSampleSolution" || sol.Version != "1.0.20260301.1" || len(sol.CloudFlows()) != 2 || len(sol.CanvasApps) != 1 {
		t.Fatalf("built %s %s: %d flows, %d apps", sol.UniqueName, sol.Version, len(sol.CloudFlows()), len(sol.CanvasApps))
	}
	for _, z := range []string{b.ManagedZip, b.UnmanagedZip} {
		entries, err := zipEntries(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e, "_msapp_src") {
				t.Errorf("%s holds the old canvas source %s", filepath.Base(z), e)
			}
		}
	}
	if r := Report(bc.Outcomes); !strings.Contains(r, "legacy layout") || !strings.Contains(r, "_msapp_src (old canvas source) is not packed") {
		t.Errorf("report:\n%s", r)
	}

	// Without its .msapp the old source folder cannot be built.
	os.Remove(filepath.Join(repo, "SolutionPackage", "CanvasApps", "cat_devopskitsamplecanvasapp_c7ec5_DocumentUri.msapp"))
	out.Reset()
	_, err = RunBuild(ctx, Services{Reporter: task.NewTerminal(&out, false)}, &Build{Folder: filepath.Join(repo, "SolutionPackage", "src"), OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "CanvasApps/cat_devopskitsamplecanvasapp_c7ec5_DocumentUri_msapp_src have no .msapp beside them") ||
		!strings.Contains(err.Error(), "does not compile canvas source") {
		t.Fatalf("build without the .msapp: %v", err)
	}
}

// A pipeline run stamps a four-part version whatever its number format,
// as the Accelerator's run name 1.0.$(Date:yyyyMMdd)$(Rev:.r) did.
func TestBuildVersionFromThePipeline(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.FixedZone("", 5*3600)) // 18:30 UTC
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TF_BUILD": "True", "BUILD_BUILDNUMBER": "1.0.20260228.3"}, "1.0.20260228.3"}, // the Accelerator's name: kept
		{map[string]string{"TF_BUILD": "True", "BUILD_BUILDNUMBER": "20260301.2"}, "1.0.20260301.2"},     // Azure DevOps' default format
		{map[string]string{"TF_BUILD": "True", "BUILD_BUILDNUMBER": "Release-42", "BUILD_BUILDID": "4711"}, "1.0.20260301.4711"},
		{map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_NUMBER": "57"}, "1.0.20260301.57"},
		{map[string]string{}, ""},
	} {
		if got := BuildVersion(func(k string) string { return tt.env[k] }, now); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.env, got, tt.want)
		}
	}
}

func zipEntries(path string) ([]string, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for _, f := range r.File {
		out = append(out, f.Name)
	}
	return out, nil
}

// customDeploymentSettings is checked with the deployment settings before
// the import, not first at configure after the target already changed: an
// entry naming a flow the solution does not have, or a sortOrder that is
// not a number once its token is filled, stops the deployment at the
// settings check and nothing is imported.
func TestCustomSettingsCheckedBeforeTheImport(t *testing.T) {
	ctx := context.Background()
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	e := newDeployEnv(t, emulator.Options{})
	dv := e.Client(t, "test")
	sol := mustRead(t, zipPath)
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	vars := fabrikamVariables(t, ctx, dv, sol)
	flow := sol.CloudFlows()[0]
	vars["activateflow.order."+flow.Name+"."+flow.ID] = "first"
	raw, err := os.ReadFile(cpath)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte(`"ActivateFlowConfiguration": [`),
		[]byte(`"ActivateFlowConfiguration": [{"solutionComponentName": "Gone", "solutionComponentUniqueName": "0f0e0d0c-0000-4000-8000-000000000001", "activate": "true"},`), 1)
	if err := os.WriteFile(cpath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ds, cds, _, err := LoadSettingsWith(dpath, cpath, mapLookup(vars), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom = ds, cds
	err = (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline())
	if err == nil || !strings.Contains(err.Error(), "settings-check") || !strings.Contains(err.Error(), "no flow with id 0f0e0d0c-0000-4000-8000-000000000001") ||
		!strings.Contains(err.Error(), `sortOrder "first" is not a whole number`) {
		t.Fatalf("deploy with a wrong custom file: %v", err)
	}
	if n := e.changes("test"); n != 0 {
		t.Errorf("the target changed %d time(s) before the custom settings were found wrong", n)
	}
}

// The settings files Microsoft's CoE team committed while running the
// Accelerator (fixtures/accelerator/coe-starter-kit) load as a deployment
// reads them, with the variables a team really has: most tokens set, the
// ones the maker app stopped writing or nobody configured not set. Each
// file loads; the entries left without a value are skipped as not
// configured, by name; --strict (LoadSettings) still names every token
// without a variable. The sample solution's pair also passes every check
// against the solution built from the Accelerator-layout repository.
func TestRealAcceleratorSettingsLoad(t *testing.T) {
	ctx := context.Background()
	for _, sol := range []string{"ALMAcceleratorSampleSolution", "CenterofExcellenceALMAccelerator"} {
		dir := fixtures.AcceleratorPath("coe-starter-kit", sol, "config", "Prod")
		dpath, cpath := filepath.Join(dir, "deploymentSettings.json"), filepath.Join(dir, "customDeploymentSettings.json")
		// The variables a team has: every connection, owner and share
		// token, not the activateas ones (unused since 2023), nor the
		// connector sharing nobody configured.
		vars := map[string]string{}
		for _, p := range []string{dpath, cpath} {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range settings.Tokens(raw) {
				switch {
				case strings.HasPrefix(name, "activateflow.activateas."), strings.HasPrefix(name, "connector.teamname."):
				case strings.HasPrefix(name, "connectionreference.user."), strings.HasPrefix(name, "owner."):
					vars[name] = "alex.maker@contoso.example"
				case strings.HasPrefix(name, "connectionreference."):
					vars[name] = "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87"
				case strings.HasPrefix(name, "activateflow.order."):
					vars[name] = "1"
				case strings.HasPrefix(name, "activateflow.activate."):
					vars[name] = "true"
				case strings.HasPrefix(name, "canvasshare.aadGroupId."), strings.HasPrefix(name, "groupTeam."):
					vars[name] = "6a0b1c2d-0000-4000-8000-0000000000a1"
				case strings.HasPrefix(name, "canvasshare.roleName."):
					vars[name] = "CanView"
				case name == "environmentvariable.cat_DecimalEnvironmentVariable":
					vars[name] = "5"
				case name == "environmentvariable.cat_JsonEnvironmentVariable":
					vars[name] = `{\"name\":\"prod\"}` // escaped by hand, as the Accelerator needed
				default:
					vars[name] = "value of " + name
				}
			}
		}
		if _, _, _, err := LoadSettings(dpath, cpath, mapLookup(vars)); err == nil || !strings.Contains(err.Error(), "activateflow.activateas.") {
			t.Errorf("%s: strict load: %v, want the activateas tokens named", sol, err)
		}
		ds, cds, warnings, err := LoadSettingsWith(dpath, cpath, mapLookup(vars), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", sol, err)
		}
		var notes []string
		for _, w := range warnings {
			if !w.Notice {
				t.Errorf("%s: warning %s", sol, w)
			}
			notes = append(notes, w.Message)
		}
		if got := strings.Join(notes, "\n"); !strings.Contains(got, "ConnectorShareWithGroupTeamConfiguration[0] not configured: aadGroupTeamName is empty, entry skipped") {
			t.Errorf("%s: notes:\n%s", sol, got)
		}
		if len(cds.ConnectorShareWithGroupTeamConfiguration) != 0 || len(cds.ActivateFlowConfiguration) == 0 || len(ds.ConnectionReferences) == 0 {
			t.Errorf("%s: %d connector shares, %d activations, %d connection references", sol, len(cds.ConnectorShareWithGroupTeamConfiguration),
				len(cds.ActivateFlowConfiguration), len(ds.ConnectionReferences))
		}
		if sol != "ALMAcceleratorSampleSolution" {
			continue // no export of the CoE's own solution to check against
		}
		repo := t.TempDir()
		copyDirTree(t, fixtures.AcceleratorPath("repo", sol), repo)
		b := &Build{Folder: filepath.Join(repo, "SolutionPackage", "src"), OutDir: t.TempDir(), Version: "1.0.20260301.1"}
		if _, err := RunBuild(ctx, Services{Reporter: &quietReporter{}}, b); err != nil {
			t.Fatal(err)
		}
		built := mustRead(t, b.ManagedZip)
		for _, p := range settings.Validate(built, ds, cds) {
			if p.Severity == settings.SeverityError {
				t.Errorf("%s: %s", sol, p)
			}
		}
	}
}
