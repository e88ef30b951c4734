package templates_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

const (
	solutionName = "FollowSites"
	// testConnectionID is the id the server gave the "contoso-test"
	// service connection; the agent hands tasks the id, not the name.
	testConnectionID = "6f1c2b7e-3d4a-4e5f-9a0b-1c2d3e4f5a6b"
	clientSecret     = "s3cr3t-client-value-that-must-never-be-logged"
	accessToken      = "job-access-token-that-must-never-be-logged"
)

// TestAzureDevOpsBuildDeploySolution runs the steps of
// azure-devops/build-deploy-solution.yml in order, each with the
// environment an agent gives it, for a push to the solution branch: the
// build stage, then the test stage's deployment job, against the Dataverse
// emulator. A second run with TriggerSolutionUpgrade=true upgrades.
func TestAzureDevOpsBuildDeploySolution(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	dvSrv := emulatortest.Start(t, emulator.Options{Environments: []string{"validation", "test", "prod"}, AsyncPolls: -1})
	emu := dvSrv.Emulator
	// Azure DevOps REST: nothing in these runs may need it (the first
	// deployment installs, the second is told to upgrade by a variable).
	ado := noREST(t, "Azure DevOps")
	dv := dvSrv.Client(t, "test")
	_, src := followSites(t)
	origin := solutionRepository(t, bin)
	tokens := tokenVariables(ctx, t, dv, src)

	params := map[string]any{
		"solutionName": solutionName,
		"validation":   map[string]any{"environment": "contoso-validation", "serviceConnection": "contoso-validation", "config": "Validation"},
		"test":         map[string]any{"environment": "contoso-test", "serviceConnection": "contoso-test", "config": "Test"},
		"prod":         map[string]any{"environment": "contoso-prod", "serviceConnection": "contoso-prod", "config": "Prod"},
	}
	doc, err := loadTemplate(filepath.Join("azure-devops", "build-deploy-solution.yml"), params)
	if err != nil {
		t.Fatal(err)
	}
	stages := listOf(t, doc["stages"], "stages")

	// The routing: which stages a run starts, by reason and branch.
	for _, tt := range []struct {
		reason, branch string
		want           []string
	}{
		{"IndividualCI", "refs/heads/FollowSites", []string{"build", "test"}},
		{"PullRequest", "refs/pull/7/merge", []string{"build", "validation"}},
		{"IndividualCI", "refs/heads/main", []string{"build", "prod"}},
		{"Manual", "refs/heads/feature/x", []string{"build"}},
	} {
		v := newVariables()
		v.set("Build.Reason", tt.reason)
		v.set("Build.SourceBranch", tt.branch)
		var got []string
		for _, s := range stages {
			run, err := v.condition(str(s["condition"]))
			if err != nil {
				t.Fatalf("stage %s: %v", s["stage"], err)
			}
			if run {
				got = append(got, str(s["stage"]))
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s on %s runs stages %v, want %v", tt.reason, tt.branch, got, tt.want)
		}
	}

	endpoints := map[string]endpoint{"contoso-test": {
		id: testConnectionID, url: dvSrv.URL + "/test/", scheme: "None",
		params: map[string]string{"tenantId": "72f988bf-0000-4000-8000-000000000001", "applicationId": emulator.ServicePrincipal.ApplicationID, "clientSecret": clientSecret},
	}}
	run := func(buildNumber string, upgrade bool) *agentRun {
		v := newVariables()
		for k, val := range tokens {
			v.set(k, val)
		}
		// Where the emulator serves Power Apps and Graph: pipeline
		// variables, which the agent exports like any other.
		v.set("PPALM_POWERAPPS_URL", dvSrv.PowerAppsURL())
		v.set("PPALM_GRAPH_URL", dvSrv.GraphURL())
		if upgrade {
			v.set("TriggerSolutionUpgrade", "true")
		}
		a := newAgentRun(t, bin, origin, v, endpoints)
		a.predefined(ado+"/contoso/", buildNumber)
		for _, s := range stages {
			ok, err := a.vars.condition(str(s["condition"]))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				a.runStage(s)
			}
		}
		return a
	}

	// First run: install.
	a := run("1.0.20260301.1", false)
	wantSteps := []string{
		"build/build: checkout self",
		"build/build: ppalm version-set",
		"build/build: ppalm pack",
		"build/build: CopyFiles@2",
		"build/build: publish drop",
		"test/test: download drop",
		"test/test: ppalm settings-validate",
		"test/test: ppalm plan",
		"test/test: ppalm import",
		"test/test: ppalm configure",
	}
	if got := strings.Join(a.ran, "\n"); got != strings.Join(wantSteps, "\n") {
		t.Fatalf("steps run:\n%s\nwant:\n%s", got, strings.Join(wantSteps, "\n"))
	}
	checkDeployed(ctx, t, dv, src, "1.0.20260301.1", tokens)
	if !strings.Contains(a.logs["test/test: ppalm import"], "install") {
		t.Errorf("first import is not an install:\n%s", a.logs["test/test: ppalm import"])
	}

	if got := importActions(emu); got != "ImportSolutionAsync=1" {
		t.Errorf("first run's import actions: %s, want ImportSolutionAsync=1", got)
	}

	// Second run, with TriggerSolutionUpgrade: an upgrade
	// (StageAndUpgradeAsync, which applies the upgrade in one action).
	checkConfigured(ctx, t, emu, dv, src, a.logs["test/test: ppalm configure"])
	a = run("1.0.20260302.2", true)
	checkDeployed(ctx, t, dv, src, "1.0.20260302.2", tokens)
	if got := importActions(emu); got != "ImportSolutionAsync=1 StageAndUpgradeAsync=1" {
		t.Errorf("import actions after the second run: %s, want ImportSolutionAsync=1 StageAndUpgradeAsync=1\nimport log:\n%s", got, a.logs["test/test: ppalm import"])
	}
	if log := a.logs["test/test: ppalm import"]; !strings.Contains(log, "upgrade FollowSites 1.0.20260302.2") {
		t.Errorf("second import is not an upgrade:\n%s", log)
	}
}

// checkConfigured asserts that configure applied customDeploymentSettings.json
// in test: the group team created, the canvas app shared with the group,
// every flow owned by its configured owner; and that it read
// deploymentSettings.json: every flow was switched on as the deploying
// identity, with the connections it names shared with it, never
// impersonating the ConnectionOwner configured there (Maker) or the flows'
// owner, which the service no longer supports.
func checkConfigured(ctx context.Context, t *testing.T, emu *emulator.Emulator, dv *dataverse.Client, src *solution.Solution, log string) {
	t.Helper()
	checkConfiguredIn(ctx, t, emu, "test", dv, src, log)
}

// checkConfiguredIn is checkConfigured for the emulator environment env.
func checkConfiguredIn(ctx context.Context, t *testing.T, emu *emulator.Emulator, env string, dv *dataverse.Client, src *solution.Solution, log string) {
	t.Helper()
	shared := 0
	for _, e := range emu.Audit() {
		if e.Environment == env && e.Action == "share-app" && strings.Contains(e.Detail, emulator.Groups[0].ID) && strings.Contains(e.Detail, "CanView") {
			shared++
		}
	}
	if shared != len(src.CanvasApps) {
		t.Errorf("configure: %d app share(s) with %s, want %d\nconfigure log:\n%s", shared, emulator.Groups[0].DisplayName, len(src.CanvasApps), log)
	}
	if _, err := dv.TeamByGroupID(ctx, emulator.Groups[0].ID); err != nil {
		t.Errorf("configure: team for %s: %v", emulator.Groups[0].DisplayName, err)
	}
	owner, err := dv.SystemUserByEmail(ctx, emulator.FlowOwner.Email)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dv.GetSolution(ctx, solutionName)
	if err != nil {
		t.Fatal(err)
	}
	flows, err := dv.ListSolutionFlows(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows {
		if !strings.EqualFold(f.OwnerID, owner.ID) {
			t.Errorf("configure: flow %s owned by %s, want %s (%s)", f.Name, f.OwnerID, emulator.FlowOwner.Email, owner.ID)
		}
	}
	activatedBy := map[string]string{}
	for _, e := range emu.Audit() {
		if e.Environment == env && e.Action == "activate-flow" {
			activatedBy[strings.ToLower(e.ObjectID)] = e.CallerName
			if e.CallerObjectID != emulator.ServicePrincipal.ObjectID || e.ImpersonatedBy != "" {
				t.Errorf("configure: flow %s switched on by %s (%s) impersonated by %q, want the deploying identity %s itself",
					e.ObjectID, e.CallerName, e.CallerObjectID, e.ImpersonatedBy, emulator.ServicePrincipal.Name)
			}
		}
	}
	for _, f := range flows {
		if _, ok := activatedBy[strings.ToLower(f.ID)]; !ok {
			t.Errorf("configure: flow %s (%s) was never switched on in %s\nconfigure log:\n%s", f.Name, f.ID, env, log)
		}
	}
}

// importActions counts the successful import actions the emulator served,
// as "Action=n" sorted by action.
func importActions(emu *emulator.Emulator) string {
	counts := map[string]int{}
	for route, byStatus := range emu.Stats().Requests {
		for _, action := range []string{"ImportSolutionAsync", "StageAndUpgradeAsync", "ImportSolution", "StageAndUpgrade"} {
			if strings.HasPrefix(route, "POST ") && strings.HasSuffix(route, "/"+action) {
				for status, n := range byStatus {
					if status < 300 {
						counts[action] += n
					}
				}
			}
		}
	}
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// checkDeployed asserts the state of the test environment after a deploy.
func checkDeployed(ctx context.Context, t *testing.T, dv *dataverse.Client, src *solution.Solution, version string, tokens map[string]string) {
	t.Helper()
	s, err := dv.GetSolution(ctx, solutionName)
	if err != nil {
		t.Fatalf("solution %s in test: %v", solutionName, err)
	}
	if s.Version != version || !s.IsManaged {
		t.Errorf("solution %s in test: version %s managed %v, want %s managed", solutionName, s.Version, s.IsManaged, version)
	}
	checkSettingsApplied(ctx, t, dv, src, s, tokens)
}

// checkSettingsApplied asserts that the installed solution s has its
// connection references bound and its environment variables set to the
// tokens' values, and every flow on.
func checkSettingsApplied(ctx context.Context, t *testing.T, dv *dataverse.Client, src *solution.Solution, s *dataverse.Solution, tokens map[string]string) {
	t.Helper()
	refs, err := dv.ListSolutionConnectionReferences(ctx, s.ID)
	if err != nil || len(refs) != len(src.ConnectionReferences) {
		t.Fatalf("connection references: %+v %v, want %d", refs, err, len(src.ConnectionReferences))
	}
	for _, r := range refs {
		if want := tokens["connectionreference."+r.LogicalName]; r.ConnectionID == "" || r.ConnectionID != want {
			t.Errorf("connection reference %s bound to %q, want %q", r.LogicalName, r.ConnectionID, want)
		}
	}
	for _, ev := range src.EnvironmentVariables {
		defs, err := dv.ListEnvironmentVariableDefinitions(ctx, ev.SchemaName)
		if err != nil || len(defs) != 1 {
			t.Fatalf("environment variable %s: %+v %v", ev.SchemaName, defs, err)
		}
		vals, err := dv.ListEnvironmentVariableValues(ctx, defs[0].ID)
		if want := tokens["environmentvariable."+ev.SchemaName]; err != nil || len(vals) != 1 || vals[0].Value != want {
			t.Errorf("environment variable %s values %+v %v, want one value %q", ev.SchemaName, vals, err, want)
		}
	}
	flows, err := dv.ListSolutionFlows(ctx, s.ID)
	if err != nil || len(flows) != len(src.CloudFlows()) {
		t.Fatalf("flows: %d %v, want %d", len(flows), err, len(src.CloudFlows()))
	}
	for _, f := range flows {
		if !f.On() {
			t.Errorf("flow %s is off", f.Name)
		}
	}
}

// buildPpalm builds ./cmd/ppalm into a temporary folder.
func buildPpalm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ppalm")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ppalm/ppalm/cmd/ppalm").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/ppalm: %v\n%s", err, out)
	}
	return bin
}

// solutionRepository makes the git repository a team keeps, laid out as
// the Accelerator does: FollowSites/SolutionPackage/src (ppalm unpack of
// the real export) and FollowSites/config/Test/{deploymentSettings,
// customDeploymentSettings}.json with #{token}# placeholders, committed on
// branch FollowSites. It returns the repository's path.
func solutionRepository(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	srcDir := filepath.Join(dir, solutionName, "SolutionPackage", "src")
	cfg := filepath.Join(dir, solutionName, "config", "Test")
	cli(t, bin, "unpack", "--zipfile", fixtures.Path("followsites-small", "sharepoint-followsites.zip"), "--folder", srcDir)
	// As export-to-git commits it: version 0.0.0.0, which the build's
	// version-set (keep-existing) stamps with the build number.
	cli(t, bin, "normalize", "--folder", srcDir)
	cli(t, bin, "settings", "create", "--folder", srcDir, "--out", filepath.Join(cfg, "deploymentSettings.json"),
		"--custom-out", filepath.Join(cfg, "customDeploymentSettings.json"))
	// pac leaves the values empty; a team puts the tokens in.
	path := filepath.Join(cfg, "deploymentSettings.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		EnvironmentVariables []map[string]string
		ConnectionReferences []map[string]string
	}
	if err := json.Unmarshal(raw, &ds); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, ev := range ds.EnvironmentVariables {
		ev["Value"] = "#{environmentvariable." + ev["SchemaName"] + "}#"
	}
	for _, cr := range ds.ConnectionReferences {
		cr["ConnectionId"] = "#{connectionreference." + cr["LogicalName"] + "}#"
		// The Accelerator's ConnectionOwner: kept in the settings, but the
		// flows go on as the deploying identity, the connections being
		// shared with it (only --activate-as connection-owner would
		// impersonate this user).
		cr["ConnectionOwner"] = "#{connectionreference.user." + cr["LogicalName"] + "}#"
	}
	raw, _ = json.MarshalIndent(ds, "", "  ")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// The flows are shared with a group team, which the team adds by hand
	// (settings create has no way to know it).
	path = filepath.Join(cfg, "customDeploymentSettings.json")
	if raw, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	var cds map[string]any
	if err := json.Unmarshal(raw, &cds); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	cds["AadGroupTeamConfiguration"] = []any{map[string]any{
		"aadGroupTeamName": emulator.Groups[0].DisplayName, "aadSecurityGroupId": emulator.Groups[0].ID,
		"dataverseSecurityRoleNames": []string{"Basic User"},
	}}
	raw, _ = json.MarshalIndent(cds, "", "  ")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alex Maker", Email: emulator.Maker.Email, When: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	commitAll(t, repo, "FollowSites: first version", sig, solutionName)
	return dir
}

// tokenVariables are the pipeline variables (a variable group) that fill
// the settings' tokens for test, with connections that exist there.
func tokenVariables(ctx context.Context, t *testing.T, dv *dataverse.Client, sol *solution.Solution) map[string]string {
	t.Helper()
	v := map[string]string{}
	for name, c := range emulatortest.ConnectionsFor(t, ctx, dv, sol) {
		v["connectionreference."+name] = c.Name
		v["connectionreference.user."+name] = emulator.Maker.Email
	}
	for _, ev := range sol.EnvironmentVariables {
		v["environmentvariable."+ev.SchemaName] = "https://contoso.sharepoint.com/sites/test"
	}
	for i, f := range sol.CloudFlows() {
		key := f.Name + "." + f.ID
		v["activateflow.order."+key] = fmt.Sprint(i + 1)
		v["activateflow.activate."+key] = "true"
		// FlowOwner has no connections: turning a flow on as its owner
		// would fail; the deploying identity, with whom they are shared,
		// turns them on.
		v["owner.ownerEmail."+key] = emulator.FlowOwner.Email
		v["flow.sharing."+key] = emulator.Groups[0].DisplayName
	}
	for _, app := range sol.CanvasApps {
		v["canvasowner.ownerEmail."+app.Name] = emulator.Maker.Email
		v["canvasshare.aadGroupId."+app.Name] = emulator.Groups[0].ID
		v["canvasshare.roleName."+app.Name] = "CanView"
	}
	return v
}

// cli runs ppalm as a command line, outside any host.
func cli(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ppalm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func listOf(t *testing.T, v any, what string) []map[string]any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: expected a list, got %T", what, v)
	}
	out := make([]map[string]any, len(l))
	for i, item := range l {
		if out[i], ok = item.(map[string]any); !ok {
			t.Fatalf("%s[%d]: expected a mapping, got %T", what, i, item)
		}
	}
	return out
}

// endpoint is a service connection as the agent hands it to a task.
type endpoint struct {
	id, url, scheme string
	params          map[string]string
}

// taskInput is an input declared in task.json.
type taskInput struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Required     bool   `json:"required"`
	DefaultValue string `json:"defaultValue"`
}

// agentRun plays the Azure Pipelines agent for one pipeline run: it runs
// jobs in fresh workspaces, hands each task step the environment the agent
// builds (Handler.cs: inputs, endpoints, variables), keeps published
// artifacts for the deployment jobs and checks every step's log.
type agentRun struct {
	t         *testing.T
	bin       string
	origin    string
	work      string
	vars      *variables
	endpoints map[string]endpoint
	inputs    []taskInput
	artifacts map[string]string
	jobs      int
	ran       []string
	logs      map[string]string
}

func newAgentRun(t *testing.T, bin, origin string, vars *variables, endpoints map[string]endpoint) *agentRun {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "task.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Inputs []taskInput `json:"inputs"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatalf("task.json: %v", err)
	}
	return &agentRun{t: t, bin: bin, origin: origin, work: t.TempDir(), vars: vars, endpoints: endpoints,
		inputs: def.Inputs, artifacts: map[string]string{}, logs: map[string]string{}}
}

// predefined sets the run's predefined variables for a push to the
// solution branch.
func (a *agentRun) predefined(collectionURI, buildNumber string) {
	head, err := git.PlainOpen(a.origin)
	if err != nil {
		a.t.Fatal(err)
	}
	ref, err := head.Reference(plumbing.NewBranchReferenceName(solutionName), true)
	if err != nil {
		a.t.Fatal(err)
	}
	a.predefinedRun(collectionURI, buildNumber, "IndividualCI", solutionName, ref.Hash().String())
}

// predefinedRun sets the run's predefined variables for a run of branch at
// commit sha, started for reason.
func (a *agentRun) predefinedRun(collectionURI, buildNumber, reason, branch, sha string) {
	for k, v := range map[string]string{
		"System.CollectionUri":               collectionURI,
		"System.TeamFoundationCollectionUri": collectionURI,
		"System.TeamProject":                 "ALM",
		"System.TeamProjectId":               "0d1e2f30-0000-4000-8000-00000000a1a1",
		"System.DefinitionId":                "12",
		"System.HostType":                    "build",
		"System.PlanId":                      "9c8b7a60-0000-4000-8000-00000000b2b2",
		"System.Debug":                       "false",
		"Build.BuildId":                      "4711",
		"Build.BuildNumber":                  buildNumber,
		"Build.DefinitionName":               "FollowSites-build-deploy",
		"Build.Reason":                       reason,
		"Build.SourceBranch":                 "refs/heads/" + branch,
		"Build.SourceBranchName":             branch,
		"Build.SourceVersion":                sha,
		"Build.Repository.Name":              "alm",
		"Build.Repository.Provider":          "TfsGit",
		"Build.Repository.Uri":               strings.Replace(collectionURI, "://", "://contoso@", 1) + "ALM/_git/alm",
		"Build.RequestedFor":                 "Alex Maker",
		"Build.RequestedForEmail":            emulator.Maker.Email,
		"Agent.Id":                           "3",
		"Agent.Name":                         "Hosted Agent",
		"Agent.OS":                           "Linux",
	} {
		a.vars.set(k, v)
	}
	a.vars.setSecret("System.AccessToken", accessToken)
}

func (a *agentRun) runStage(stage map[string]any) {
	for _, job := range listOf(a.t, stage["jobs"], "stage "+str(stage["stage"])+" jobs") {
		a.runJob(str(stage["stage"]), job)
	}
}

// runJob runs a job or a runOnce deployment job in a fresh workspace, as a
// fresh agent would.
func (a *agentRun) runJob(stage string, job map[string]any) {
	t := a.t
	a.jobs++
	ws := filepath.Join(a.work, fmt.Sprint(a.jobs))
	temp := filepath.Join(a.work, "_temp", fmt.Sprint(a.jobs))
	for _, d := range []string{"s", "a", "b"} {
		if err := os.MkdirAll(filepath.Join(ws, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(temp, 0o755); err != nil {
		t.Fatal(err)
	}
	v := a.vars.clone()
	for k, val := range map[string]string{
		"Pipeline.Workspace":             ws,
		"Agent.BuildDirectory":           ws,
		"Build.SourcesDirectory":         filepath.Join(ws, "s"),
		"System.DefaultWorkingDirectory": filepath.Join(ws, "s"),
		"Build.ArtifactStagingDirectory": filepath.Join(ws, "a"),
		"Build.StagingDirectory":         filepath.Join(ws, "a"),
		"Build.BinariesDirectory":        filepath.Join(ws, "b"),
		"Agent.TempDirectory":            temp,
		"Agent.WorkFolder":               a.work,
		"System.StageName":               stage,
		"System.JobId":                   fmt.Sprintf("7a6b5c4d-0000-4000-8000-%012d", a.jobs),
	} {
		v.set(k, val)
	}
	var steps []map[string]any
	name := str(job["job"])
	allowed := []string{"job", "pool", "steps", "displayName"}
	if d, ok := job["deployment"]; ok {
		name = str(d)
		allowed = []string{"deployment", "pool", "environment", "strategy", "displayName"}
		strategy, _ := job["strategy"].(map[string]any)
		runOnce, _ := strategy["runOnce"].(map[string]any)
		deploy, _ := runOnce["deploy"].(map[string]any)
		if len(strategy) != 1 || len(runOnce) != 1 || deploy == nil {
			t.Fatalf("deployment %s: strategy %v: only runOnce with a deploy hook is supported", name, strategy)
		}
		steps = listOf(t, deploy["steps"], "deployment "+name+" steps")
		v.set("Environment.Name", str(job["environment"]))
		v.set("Strategy.Name", "runOnce")
		// runOnce deploy downloads the run's artifacts first, unless a
		// download: none step says not to.
		names := make([]string, 0, len(a.artifacts))
		for n := range a.artifacts {
			names = append(names, n)
		}
		sort.Strings(names)
		if downloadNone(steps) {
			names = nil
		}
		for _, n := range names {
			a.ran = append(a.ran, stage+"/"+name+": download "+n)
			copyTree(t, a.artifacts[n], filepath.Join(ws, n))
		}
	} else {
		steps = listOf(t, job["steps"], "job "+name+" steps")
	}
	for k := range job {
		if !contains(allowed, k) {
			t.Fatalf("job %s: key %q is not supported by this agent", name, k)
		}
	}
	v.set("Agent.JobName", name)
	v.set("System.JobName", name)
	for _, s := range steps {
		a.runStep(stage+"/"+name, v, s)
	}
}

func (a *agentRun) runStep(job string, v *variables, step map[string]any) {
	t := a.t
	keys := func(allowed ...string) {
		for k := range step {
			if !contains(allowed, k) {
				t.Fatalf("%s: step %v: key %q is not supported by this agent", job, step, k)
			}
		}
	}
	expand := func(s string) string {
		out, err := v.macros(s)
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		return out
	}
	inputs := map[string]string{}
	if in, ok := step["inputs"].(map[string]any); ok {
		for k, val := range in {
			s, err := scalar(val)
			if err != nil {
				t.Fatalf("%s: input %s: %v", job, k, err)
			}
			inputs[k] = strings.TrimSpace(s)
		}
	}
	switch {
	case step["checkout"] != nil:
		keys("checkout", "fetchDepth", "persistCredentials")
		if step["checkout"] != "self" {
			t.Fatalf("%s: checkout %v: only self is supported", job, step["checkout"])
		}
		a.ran = append(a.ran, job+": checkout self")
		a.checkoutSelf(job, v)
	case step["download"] != nil:
		// download: none turns off a deployment job's artifact download
		// (runJob honours it); downloading a named artifact is not emulated.
		keys("download")
		if step["download"] != "none" {
			t.Fatalf("%s: download %v: only none is supported", job, step["download"])
		}
	case step["publish"] != nil:
		keys("publish", "artifact", "displayName")
		name := str(step["artifact"])
		a.ran = append(a.ran, job+": publish "+name)
		store := filepath.Join(a.work, "artifacts", name)
		copyTree(t, expand(str(step["publish"])), store)
		a.artifacts[name] = store
	case step["task"] == "CopyFiles@2":
		keys("task", "inputs", "displayName")
		a.ran = append(a.ran, job+": CopyFiles@2")
		for k := range inputs {
			if !contains([]string{"SourceFolder", "TargetFolder"}, k) {
				t.Fatalf("%s: CopyFiles@2 input %s is not emulated (only SourceFolder and TargetFolder, Contents **)", job, k)
			}
		}
		copyTree(t, expand(inputs["SourceFolder"]), expand(inputs["TargetFolder"]))
	case step["task"] == "ppalm@1":
		keys("task", "inputs", "displayName", "env")
		name := job + ": ppalm " + inputs["command"]
		a.ran = append(a.ran, name)
		env := a.taskEnv(job, v, inputs, step["env"])
		a.logs[name] = a.runTask(name, v, env)
	default:
		t.Fatalf("%s: step %v is not supported by this agent", job, step)
	}
}

// taskEnv builds the environment of a task step as the agent does.
func (a *agentRun) taskEnv(job string, v *variables, given map[string]string, stepEnv any) []string {
	t := a.t
	home, _ := v.get("Agent.TempDirectory")
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": home, "TF_BUILD": "True"}
	var secretNames []string
	for lower, val := range v.values {
		name := v.names[lower]
		if v.secrets[lower] {
			env["SECRET_"+envName(name)] = val
			secretNames = append(secretNames, name)
			continue
		}
		env[envName(name)] = val
	}
	sj, _ := json.Marshal(secretNames)
	env["VSTS_SECRET_VARIABLES"] = string(sj)
	// The job's own connection, always added (TaskRunner.cs).
	collection, _ := v.get("System.CollectionUri")
	env["ENDPOINT_URL_SYSTEMVSSCONNECTION"] = collection
	env["ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION"] = "OAuth"
	env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = accessToken
	env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = fmt.Sprintf(`{"parameters":{"AccessToken":%q},"scheme":"OAuth"}`, accessToken)

	// Inputs: task.json defaults, then the step's values, then macros.
	declared := map[string]taskInput{}
	for _, in := range a.inputs {
		declared[strings.ToLower(in.Name)] = in
	}
	values := map[string]string{}
	for _, in := range a.inputs {
		if in.DefaultValue != "" {
			values[in.Name] = in.DefaultValue
		}
	}
	for k, val := range given {
		in, ok := declared[strings.ToLower(k)]
		if !ok {
			t.Fatalf("%s: input %q is not declared in task.json", job, k)
		}
		values[in.Name] = val
	}
	for name, val := range values {
		val, err := v.macros(val)
		if err != nil {
			t.Fatalf("%s: input %s: %v", job, name, err)
		}
		in := declared[strings.ToLower(name)]
		if in.Required && val == "" {
			t.Fatalf("%s: required input %s is empty", job, name)
		}
		if strings.HasPrefix(in.Type, "connectedService:") && val != "" {
			ep, ok := a.endpoints[val]
			if !ok {
				t.Fatalf("%s: input %s names service connection %q, which this project does not have", job, name, val)
			}
			val = ep.id
			env["ENDPOINT_URL_"+ep.id] = ep.url
			env["ENDPOINT_AUTH_SCHEME_"+ep.id] = ep.scheme
			auth, _ := json.Marshal(map[string]any{"parameters": ep.params, "scheme": ep.scheme})
			env["ENDPOINT_AUTH_"+ep.id] = string(auth)
			for k, p := range ep.params {
				env["ENDPOINT_AUTH_PARAMETER_"+ep.id+"_"+envName(k)] = p
			}
		}
		env["INPUT_"+envName(name)] = val
	}
	if m, ok := stepEnv.(map[string]any); ok {
		for k, val := range m {
			s, err := scalar(val)
			if err != nil {
				t.Fatalf("%s: env %s: %v", job, k, err)
			}
			if env[k], err = v.macros(s); err != nil {
				t.Fatalf("%s: env %s: %v", job, k, err)
			}
		}
	} else if stepEnv != nil {
		t.Fatalf("%s: env: expected a mapping", job)
	}
	out := make([]string, 0, len(env))
	for k, val := range env {
		out = append(out, k+"="+val)
	}
	sort.Strings(out)
	return out
}

// runTask runs the binary as the task's handler does (no arguments, in the
// sources directory) and checks its exit code and log.
func (a *agentRun) runTask(name string, v *variables, env []string) string {
	t := a.t
	cmd := exec.Command(a.bin)
	cmd.Env = env
	cmd.Dir, _ = v.get("System.DefaultWorkingDirectory")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	log := stdout.String()
	t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, log, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s: wrote to stderr (the agent shows it as plain text):\n%s", name, stderr.String())
	}
	temp, _ := v.get("Agent.TempDirectory")
	if problems := checkAgentLog(log, temp); len(problems) > 0 {
		t.Fatalf("%s: log:\n%s\nproblems:\n%s", name, log, strings.Join(problems, "\n"))
	}
	return log
}

var (
	vsoRE    = regexp.MustCompile(`^##vso\[([a-z]+)\.([a-z]+)(?: ([^\]]*))?\](.*)$`)
	propRE   = regexp.MustCompile(`^[A-Za-z]+=[^;\]\r\n]*$`)
	formatRE = regexp.MustCompile(`^##\[(warning|error|section|debug|command)\]`)
)

// checkAgentLog checks a task's stdout as the agent would parse it:
// well-formed logging commands of known kinds, balanced groups that never
// nest, no issue
// (error or warning), secrets only in task.setsecret, summaries that exist under the
// temp folder, and task.complete result=Succeeded as the last line.
func checkAgentLog(log, tempDir string) []string {
	var problems []string
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	known := map[string]bool{"task.setsecret": true, "task.setvariable": true, "task.logissue": true, "task.complete": true,
		"task.uploadsummary": true, "task.setprogress": true}
	depth := 0
	for i, l := range lines {
		if strings.Contains(l, "\r") {
			problems = append(problems, fmt.Sprintf("line %d holds a CR", i+1))
		}
		if !strings.HasPrefix(l, "##vso[task.setsecret]") && (strings.Contains(l, clientSecret) || strings.Contains(l, accessToken)) {
			problems = append(problems, fmt.Sprintf("line %d shows a secret", i+1))
		}
		switch {
		case l == "##[endgroup]":
			depth--
			if depth < 0 {
				problems = append(problems, fmt.Sprintf("line %d: ##[endgroup] without ##[group]", i+1))
			}
			continue
		case strings.HasPrefix(l, "##[group]"):
			// The agent does not nest groups: a second ##[group] ends the
			// first one's collapsing and the endgroups no longer match.
			if depth > 0 {
				problems = append(problems, fmt.Sprintf("line %d: %q opens a group inside an open group", i+1, l))
			}
			depth++
			continue
		case strings.HasPrefix(l, "##["):
			if !formatRE.MatchString(l) {
				problems = append(problems, fmt.Sprintf("line %d: unknown formatting command %q", i+1, l))
			}
			continue
		case !strings.Contains(l, "##vso["):
			continue
		}
		m := vsoRE.FindStringSubmatch(l)
		if m == nil {
			problems = append(problems, fmt.Sprintf("line %d: malformed or embedded logging command %q", i+1, l))
			continue
		}
		cmd := m[1] + "." + m[2]
		if !known[cmd] {
			problems = append(problems, fmt.Sprintf("line %d: unexpected logging command %s", i+1, cmd))
		}
		if m[3] != "" {
			for _, p := range strings.Split(strings.TrimSuffix(m[3], ";"), ";") {
				if !propRE.MatchString(p) {
					problems = append(problems, fmt.Sprintf("line %d: property %q is not key=value", i+1, p))
				}
			}
		}
		switch cmd {
		case "task.logissue":
			// A clean, fully configured run has nothing to warn about.
			problems = append(problems, fmt.Sprintf("line %d: issue %s: %s", i+1, m[3], m[4]))
		case "task.uploadsummary":
			if !filepath.IsAbs(m[4]) || !strings.HasPrefix(m[4], tempDir+string(filepath.Separator)) {
				problems = append(problems, fmt.Sprintf("line %d: summary %s is not a file under %s", i+1, m[4], tempDir))
			} else if _, err := os.Stat(m[4]); err != nil {
				problems = append(problems, fmt.Sprintf("line %d: summary: %v", i+1, err))
			}
		case "task.complete":
			if i != len(lines)-1 {
				problems = append(problems, fmt.Sprintf("line %d: task.complete before the end of the log", i+1))
			}
		}
	}
	if depth != 0 {
		problems = append(problems, fmt.Sprintf("%d group(s) left open", depth))
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "##vso[task.complete result=Succeeded") {
		problems = append(problems, fmt.Sprintf("last line %q: expected ##vso[task.complete result=Succeeded", last))
	}
	return problems
}

// copyTree copies the files under from into to (CopyFiles@2 with
// Contents **, and artifact publish and download).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
