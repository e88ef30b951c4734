package templates_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// The development templates, run on both hosts as the agent or runner
// would: export-solution-to-git (dev to a branch of a git server on
// loopback), import-unmanaged-to-dev (a branch into a dev environment) and
// delete-solution.

const (
	// The ids the server gave the "contoso-dev" and "contoso-dev2"
	// service connections.
	devConnectionID  = "0b1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3"
	dev2ConnectionID = "1c2d3e4f-5061-4b7c-9d8e-9fa0b1c2d3e4"
	adoCommitMessage = "FollowSites: first export AB#42"
	ghCommitMessage  = "FollowSites: first export"
)

func followSites(t *testing.T) (string, *solution.Solution) {
	t.Helper()
	zip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	src, err := solution.ReadFile(zip)
	if err != nil {
		t.Fatal(err)
	}
	return zip, src
}

// devEmulator serves the emulator with the named environments, those in
// seeded holding the unmanaged FollowSites as a maker left it.
func devEmulator(t *testing.T, envs []string, seeded ...string) *emulatortest.Server {
	t.Helper()
	zip, _ := followSites(t)
	seeds := map[string][]string{}
	for _, e := range seeded {
		seeds[e] = []string{zip}
	}
	return emulatortest.Start(t, emulator.Options{Environments: envs, AsyncPolls: -1, Seeds: seeds})
}

// noREST is a host REST API none of these runs may call.
func noREST(t *testing.T, host string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected %s REST call %s %s", host, r.Method, r.URL)
		http.Error(w, "not expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func devEndpoint(id, url string) endpoint {
	return endpoint{id: id, url: url, scheme: "None", params: map[string]string{
		"tenantId": "72f988bf-0000-4000-8000-000000000001", "applicationId": emulator.ServicePrincipal.ApplicationID, "clientSecret": clientSecret,
	}}
}

// runADO runs every stage of doc whose condition holds.
func runADO(t *testing.T, a *agentRun, doc map[string]any) {
	t.Helper()
	for _, s := range listOf(t, doc["stages"], "stages") {
		ok, err := a.vars.condition(str(s["condition"]))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			a.runStage(s)
		}
	}
}

func checkRan(t *testing.T, ran []string, want ...string) {
	t.Helper()
	if got := strings.Join(ran, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("steps run:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// checkExported asserts what the export committed on the remote's branch:
// the unpacked tree with the file set a local unpack of the same solution
// gives, at version 0.0.0.0, config/<env>/ settings full of tokens for
// every env, main's files kept, and the requesting user as author.
func checkExported(t *testing.T, bin string, c *object.Commit, message, authorName, authorEmail string, envs ...string) {
	t.Helper()
	if c.Author.Name != authorName || c.Author.Email != authorEmail || c.Committer.Email != authorEmail {
		t.Errorf("commit %s: author %s <%s>, committer <%s>; want %s <%s>", c.Hash, c.Author.Name, c.Author.Email, c.Committer.Email, authorName, authorEmail)
	}
	if strings.TrimSpace(c.Message) != message {
		t.Errorf("commit message %q, want %q", c.Message, message)
	}
	files := commitFiles(t, c)
	if files["README.md"] == "" {
		t.Error("the branch lost main's README.md")
	}
	prefix := solutionName + "/SolutionPackage/src/"
	if !strings.Contains(files[prefix+"Other/Solution.xml"], "<Version>0.0.0.0</Version>") {
		t.Errorf("%sOther/Solution.xml is not at version 0.0.0.0:\n%.600s", prefix, files[prefix+"Other/Solution.xml"])
	}
	// The same tree a maker gets from the fixture with ppalm unpack.
	zip, _ := followSites(t)
	local := filepath.Join(t.TempDir(), "src")
	cli(t, bin, "unpack", "--zipfile", zip, "--folder", local)
	var want, got []string
	if err := filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(local, p)
			want = append(want, filepath.ToSlash(rel))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for p := range files {
		if rel, ok := strings.CutPrefix(p, prefix); ok {
			got = append(got, rel)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("committed tree:\n%s\nwant (ppalm unpack of the fixture):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, env := range envs {
		for file, tokens := range map[string][]string{
			"deploymentSettings.json":       {"#{connectionreference.", "#{connectionreference.user.", "#{environmentvariable."},
			"customDeploymentSettings.json": {"#{activateflow.order.", "#{owner.ownerEmail."},
		} {
			p := solutionName + "/config/" + env + "/" + file
			for _, tok := range tokens {
				if !strings.Contains(files[p], tok) {
					t.Errorf("%s has no %s...}# token:\n%.400s", p, tok, files[p])
				}
			}
		}
	}
}

// TestAzureDevOpsExportSolutionToGit runs azure-devops/export-solution-to-git.yml
// as the agent would for a manual run on main: checkout: self of a git
// server on loopback that takes only the job's access token, then ppalm
// export-to-git from the emulator's dev environment to the new solution
// branch. A second run with nothing changed in dev makes no commit.
func TestAzureDevOpsExportSolutionToGit(t *testing.T) {
	bin := buildPpalm(t)
	srv := devEmulator(t, []string{"dev"}, "dev")
	ado := noREST(t, "Azure DevOps")
	remote := newGitRemote(t, "contoso", accessToken)
	// Azure Repos' clone URL carries the organisation as user name.
	origin := strings.Replace(remote.url, "://", "://contoso@", 1)
	doc, err := loadTemplate(filepath.Join("azure-devops", "export-solution-to-git.yml"), map[string]any{
		"solutionName": solutionName, "serviceConnection": "contoso-dev", "branch": solutionName,
		"commitMessage": adoCommitMessage, "configs": "Test,Prod",
	})
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string]endpoint{"contoso-dev": devEndpoint(devConnectionID, srv.URL+"/dev/")}
	mainHead := remote.head(t, "main").Hash
	run := func(n int) *agentRun {
		a := newAgentRun(t, bin, origin, newVariables(), endpoints)
		a.predefinedRun(ado+"/contoso/", fmt.Sprintf("20260301.%d", n), "Manual", "main", mainHead.String())
		a.vars.set("Build.Repository.Uri", origin)
		runADO(t, a, doc)
		checkRan(t, a.ran, "export/export: checkout self", "export/export: ppalm export-to-git")
		return a
	}
	const step = "export/export: ppalm export-to-git"

	a := run(1)
	log := a.logs[step]
	if !strings.Contains(log, "##vso[task.setvariable variable=committed;isOutput=true]true") {
		t.Errorf("first export: no committed=true output:\n%s", log)
	}
	if !strings.Contains(log, "##vso[task.setsecret]"+accessToken) {
		t.Errorf("first export: the access token was not registered as a secret:\n%s", log)
	}
	first := remote.head(t, solutionName)
	if first == nil {
		t.Fatalf("the remote has no branch %s after the export:\n%s", solutionName, log)
	}
	checkExported(t, bin, first, adoCommitMessage, "Alex Maker", emulator.Maker.Email, "Test", "Prod")
	if len(first.ParentHashes) != 1 || first.ParentHashes[0] != mainHead {
		t.Errorf("branch %s starts from %v, want main %s", solutionName, first.ParentHashes, mainHead)
	}
	if h := remote.head(t, "main").Hash; h != mainHead {
		t.Errorf("main moved to %s", h)
	}

	a = run(2)
	log = a.logs[step]
	if !strings.Contains(log, "##vso[task.setvariable variable=committed;isOutput=true]false") {
		t.Errorf("second export: no committed=false output:\n%s", log)
	}
	if h := remote.head(t, solutionName).Hash; h != first.Hash {
		t.Errorf("second export with nothing changed moved %s from %s to %s", solutionName, first.Hash, h)
	}
}

// TestGitHubExportSolutionToGit runs github/export-solution-to-git.yml,
// dispatched from examples/export.yml on main, as the runner would:
// actions/checkout of a git server on loopback that takes only
// github.token, then ppalm export-to-git to the new solution branch; a
// second dispatch with nothing changed makes no commit.
func TestGitHubExportSolutionToGit(t *testing.T) {
	bin := buildPpalm(t)
	srv := devEmulator(t, []string{"dev"}, "dev")
	api := noREST(t, "GitHub")
	remote := newGitRemote(t, "x-access-token", ghJobToken)
	environments := map[string]map[string]string{"dev": {
		"DATAVERSE_URL": srv.URL + "/dev/", "AZURE_TENANT_ID": ghTenantID, "AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID,
	}}
	mainHead := remote.head(t, "main").Hash
	const step = "export: ppalm export-to-git"
	run := func(n int) *ghRun {
		r := newGHRun(t, bin, remote.url, "export.yml", dispatchEvent("refs/heads/main", mainHead.String(), n, map[string]any{
			"solution-name": solutionName, "commit-message": ghCommitMessage, "branch": solutionName,
		}), api, srv, environments)
		if got := r.run(); got != "export@dev" {
			t.Fatalf("dispatch ran %q, want export@dev", got)
		}
		checkRan(t, r.ran, "export: actions/checkout@v4", step)
		return r
	}

	r := run(1)
	if got := r.outputs[step]["committed"]; got != "true" {
		t.Errorf("first export: committed=%q, want true\n%s", got, r.logs[step])
	}
	if !strings.Contains(r.logs[step], "::add-mask::"+ghJobToken) {
		t.Errorf("first export: github.token was not masked:\n%s", r.logs[step])
	}
	first := remote.head(t, solutionName)
	if first == nil {
		t.Fatalf("the remote has no branch %s after the export:\n%s", solutionName, r.logs[step])
	}
	checkExported(t, bin, first, ghCommitMessage, "alex-maker", "alex-maker@users.noreply.github.com", "Validation", "Test", "Prod")
	if len(first.ParentHashes) != 1 || first.ParentHashes[0] != mainHead {
		t.Errorf("branch %s starts from %v, want main %s", solutionName, first.ParentHashes, mainHead)
	}
	if !strings.Contains(r.summaries["export"], "export-to-git") {
		t.Errorf("job summary lacks the export:\n%s", r.summaries["export"])
	}

	r = run(2)
	if got := r.outputs[step]["committed"]; got != "false" {
		t.Errorf("second export: committed=%q, want false\n%s", got, r.logs[step])
	}
	if h := remote.head(t, solutionName).Hash; h != first.Hash {
		t.Errorf("second export with nothing changed moved %s from %s to %s", solutionName, first.Hash, h)
	}
}

// newGHRun is a run of the caller example against origin, on a runner
// whose machine environment points ppalm at the emulator's Power Apps and
// Graph.
func newGHRun(t *testing.T, bin, origin, caller string, ev ghEvent, api string, dv *emulatortest.Server, environments map[string]map[string]string) *ghRun {
	return &ghRun{
		t: t, bin: bin, origin: origin, work: t.TempDir(), caller: caller, ev: ev,
		apiURL: api, oidcURL: api + "/oidc?api-version=2.0", environments: environments,
		machineEnv: map[string]string{"PPALM_POWERAPPS_URL": dv.PowerAppsURL(), "PPALM_GRAPH_URL": dv.GraphURL()},
		artifacts:  map[string]string{}, logs: map[string]string{}, summaries: map[string]string{}, outputs: map[string]map[string]string{},
	}
}

// devRepository is the team's repository with only a maker's own config
// folder, config/JohannaDev (config/Test renamed), so a run that read any
// other folder would fail.
func devRepository(t *testing.T, bin string) string {
	t.Helper()
	dir := solutionRepository(t, bin)
	moveConfig(t, dir, "Test", "JohannaDev")
	return dir
}

// checkImportedUnmanaged asserts FollowSites is installed unmanaged in the
// dev environment, at the tree's version, with the settings and the
// custom settings of config/JohannaDev applied.
func checkImportedUnmanaged(ctx context.Context, t *testing.T, emu *emulator.Emulator, dv *dataverse.Client, src *solution.Solution, tokens map[string]string, configureLog string) {
	t.Helper()
	s, err := dv.GetSolution(ctx, solutionName)
	if err != nil {
		t.Fatalf("solution %s in dev: %v", solutionName, err)
	}
	if s.IsManaged || s.Version != "0.0.0.0" {
		t.Errorf("solution %s in dev: version %s managed %v, want 0.0.0.0 unmanaged", solutionName, s.Version, s.IsManaged)
	}
	checkSettingsApplied(ctx, t, dv, src, s, tokens)
	checkConfiguredIn(ctx, t, emu, "dev", dv, src, configureLog)
	if got := importActions(emu); got != "ImportSolutionAsync=1" {
		t.Errorf("import actions: %s, want ImportSolutionAsync=1", got)
	}
}

// TestAzureDevOpsImportUnmanagedToDev runs azure-devops/import-unmanaged-to-dev.yml
// for the solution branch with config JohannaDev: pack Unmanaged, then the
// shared deploy steps (validate, plan, import without upgrade, configure)
// into an empty dev environment.
func TestAzureDevOpsImportUnmanagedToDev(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	_, src := followSites(t)
	srv := devEmulator(t, []string{"dev"})
	dv := srv.Client(t, "dev")
	ado := noREST(t, "Azure DevOps")
	origin := devRepository(t, bin)
	tokens := tokenVariables(ctx, t, dv, src)
	doc, err := loadTemplate(filepath.Join("azure-devops", "import-unmanaged-to-dev.yml"),
		map[string]any{"solutionName": solutionName, "serviceConnection": "contoso-dev", "config": "JohannaDev"})
	if err != nil {
		t.Fatal(err)
	}
	v := newVariables()
	for k, val := range tokens {
		v.set(k, val)
	}
	v.set("PPALM_POWERAPPS_URL", srv.PowerAppsURL())
	v.set("PPALM_GRAPH_URL", srv.GraphURL())
	a := newAgentRun(t, bin, origin, v, map[string]endpoint{"contoso-dev": devEndpoint(devConnectionID, srv.URL+"/dev/")})
	a.predefinedRun(ado+"/contoso/", "20260301.1", "Manual", solutionName, branchHead(t, origin, solutionName))
	runADO(t, a, doc)
	checkRan(t, a.ran,
		"import/import: checkout self",
		"import/import: ppalm build",
		"import/import: ppalm plan",
		"import/import: ppalm import",
		"import/import: ppalm configure",
	)
	checkImportedUnmanaged(ctx, t, srv.Emulator, dv, src, tokens, a.logs["import/import: ppalm configure"])
}

// TestGitHubImportUnmanagedToDev runs github/import-unmanaged-to-dev.yml,
// dispatched from examples/import-dev.yml on the solution branch with
// config JohannaDev, the tokens' values in the dev GitHub environment.
func TestGitHubImportUnmanagedToDev(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	_, src := followSites(t)
	srv := devEmulator(t, []string{"dev"})
	dv := srv.Client(t, "dev")
	api := noREST(t, "GitHub")
	origin := devRepository(t, bin)
	tokens := tokenVariables(ctx, t, dv, src)
	vars := map[string]string{"DATAVERSE_URL": srv.URL + "/dev/", "AZURE_TENANT_ID": ghTenantID, "AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID}
	for name, val := range tokens {
		vars[settings.GitHubName(name)] = val
	}
	r := newGHRun(t, bin, origin, "import-dev.yml", dispatchEvent("refs/heads/"+solutionName, branchHead(t, origin, solutionName), 1,
		map[string]any{"environment": "dev", "config": "JohannaDev"}), api, srv, map[string]map[string]string{"dev": vars})
	if got := r.run(); got != "import@dev" {
		t.Fatalf("dispatch ran %q, want import@dev", got)
	}
	checkRan(t, r.ran, "import: actions/checkout@v4", "import: ppalm build", "import: ppalm import", "import: ppalm configure")
	checkImportedUnmanaged(ctx, t, srv.Emulator, dv, src, tokens, r.logs["import: ppalm configure"])
}

// componentsLeft names FollowSites' flows, connection references and
// environment variable definitions still in the environment.
func componentsLeft(ctx context.Context, t *testing.T, dv *dataverse.Client, src *solution.Solution) []string {
	t.Helper()
	var left []string
	for _, f := range src.CloudFlows() {
		_, err := dv.GetWorkflow(ctx, f.ID)
		switch {
		case err == nil:
			left = append(left, "flow "+f.Name)
		case !errors.Is(err, dataverse.ErrNotFound):
			t.Fatalf("flow %s: %v", f.Name, err)
		}
	}
	var names []string
	for _, r := range src.ConnectionReferences {
		names = append(names, r.LogicalName)
	}
	refs, err := dv.ListConnectionReferences(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		left = append(left, "connection reference "+r.LogicalName)
	}
	names = nil
	for _, ev := range src.EnvironmentVariables {
		names = append(names, ev.SchemaName)
	}
	defs, err := dv.ListEnvironmentVariableDefinitions(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		left = append(left, "environment variable "+d.SchemaName)
	}
	sort.Strings(left)
	return left
}

func installed(ctx context.Context, t *testing.T, dv *dataverse.Client) bool {
	t.Helper()
	_, err := dv.GetSolution(ctx, solutionName)
	if err != nil && !errors.Is(err, dataverse.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestAzureDevOpsDeleteSolution runs azure-devops/delete-solution.yml's
// deployment job twice: in dev with the default (the components go too),
// and in dev2 with withComponents: false (they stay).
func TestAzureDevOpsDeleteSolution(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	_, src := followSites(t)
	srv := devEmulator(t, []string{"dev", "dev2"}, "dev", "dev2")
	ado := noREST(t, "Azure DevOps")
	endpoints := map[string]endpoint{
		"contoso-dev":  devEndpoint(devConnectionID, srv.URL+"/dev/"),
		"contoso-dev2": devEndpoint(dev2ConnectionID, srv.URL+"/dev2/"),
	}
	all := len(src.CloudFlows()) + len(src.ConnectionReferences) + len(src.EnvironmentVariables)
	for _, tt := range []struct {
		env    string
		params map[string]any
		left   int
		log    string
	}{
		{"dev", map[string]any{}, 0, "and its components"},
		{"dev2", map[string]any{"withComponents": false}, all, "deleted solution FollowSites"},
	} {
		dv := srv.Client(t, tt.env)
		if !installed(ctx, t, dv) || len(componentsLeft(ctx, t, dv, src)) != all {
			t.Fatalf("%s before: installed %v, components %v", tt.env, installed(ctx, t, dv), componentsLeft(ctx, t, dv, src))
		}
		params := map[string]any{"solutionName": solutionName, "serviceConnection": "contoso-" + tt.env, "environment": "contoso-" + tt.env}
		for k, v := range tt.params {
			params[k] = v
		}
		doc, err := loadTemplate(filepath.Join("azure-devops", "delete-solution.yml"), params)
		if err != nil {
			t.Fatal(err)
		}
		a := newAgentRun(t, bin, "", newVariables(), endpoints)
		a.predefinedRun(ado+"/contoso/", "20260301.1", "Manual", "main", "0000000000000000000000000000000000000000")
		runADO(t, a, doc)
		checkRan(t, a.ran, "delete/delete: ppalm solution-delete")
		if log := a.logs["delete/delete: ppalm solution-delete"]; !strings.Contains(log, tt.log) {
			t.Errorf("%s: log lacks %q:\n%s", tt.env, tt.log, log)
		}
		if installed(ctx, t, dv) {
			t.Errorf("%s: %s is still installed", tt.env, solutionName)
		}
		if got := componentsLeft(ctx, t, dv, src); len(got) != tt.left {
			t.Errorf("%s: components left %v, want %d", tt.env, got, tt.left)
		}
	}
}

// TestGitHubDeleteSolution runs github/delete-solution.yml, dispatched from
// examples/delete.yml: the solution and its components leave dev.
func TestGitHubDeleteSolution(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	_, src := followSites(t)
	srv := devEmulator(t, []string{"dev"}, "dev")
	dv := srv.Client(t, "dev")
	api := noREST(t, "GitHub")
	if !installed(ctx, t, dv) || len(componentsLeft(ctx, t, dv, src)) == 0 {
		t.Fatalf("before: installed %v, components %v", installed(ctx, t, dv), componentsLeft(ctx, t, dv, src))
	}
	environments := map[string]map[string]string{"dev": {
		"DATAVERSE_URL": srv.URL + "/dev/", "AZURE_TENANT_ID": ghTenantID, "AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID,
	}}
	r := newGHRun(t, bin, "", "delete.yml", dispatchEvent("refs/heads/main", "0000000000000000000000000000000000000000", 1,
		map[string]any{"solution-name": solutionName}), api, srv, environments)
	if got := r.run(); got != "delete@dev" {
		t.Fatalf("dispatch ran %q, want delete@dev", got)
	}
	checkRan(t, r.ran, "delete: ppalm solution-delete")
	if log := r.logs["delete: ppalm solution-delete"]; !strings.Contains(log, "and its components") {
		t.Errorf("log lacks \"and its components\":\n%s", log)
	}
	if installed(ctx, t, dv) {
		t.Errorf("%s is still installed", solutionName)
	}
	if got := componentsLeft(ctx, t, dv, src); len(got) != 0 {
		t.Errorf("components left: %v", got)
	}
}
