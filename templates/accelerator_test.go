package templates_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
)

// The repository a team leaving the ALM Accelerator has
// (fixtures/accelerator/repo: the legacy layout, config/Test and
// config/Prod as the export wrote them, the generated deploy pipelines) and
// the pipeline variables the Accelerator left for it
// (fixtures/accelerator/pipeline-variables.json).
const accSolution = "ALMAcceleratorSampleSolution"

// accVar is one pipeline variable as the Accelerator left it.
type accVar struct {
	value  string
	secret bool
}

// accEnvironment is one deployment environment of the Accelerator: its
// deploy pipeline's definition variables, resolved for the emulator.
type accEnvironment struct {
	pipeline string // deploy-<env>-ALMAcceleratorSampleSolution
	env      string // the emulator environment
	vars     map[string]accVar
}

// acceleratorTarget starts the emulator with test and prod as the team had
// them (the security roles the Prod team's settings name exist in prod) and
// returns the shared variable group and the two environments' variables.
func acceleratorTarget(ctx context.Context, t *testing.T) (*emulatortest.Server, map[string]accVar, map[string]accEnvironment) {
	t.Helper()
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test", "prod"}, AsyncPolls: -1})
	for _, role := range []string{"CCI admin", "Data Sync Framework Role", "Data Sync Service Role"} {
		if _, err := srv.Emulator.AddRole("prod", role); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(fixtures.AcceleratorPath("pipeline-variables.json"))
	if err != nil {
		t.Fatal(err)
	}
	type jvar struct {
		Value    string `json:"value"`
		IsSecret bool   `json:"isSecret"`
	}
	var file struct {
		VariableGroups map[string]map[string]jvar `json:"variableGroups"`
		Pipelines      map[string]struct {
			Environment string          `json:"environment"`
			Variables   map[string]jvar `json:"variables"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("pipeline-variables.json: %v", err)
	}
	shared := map[string]accVar{}
	for k, v := range file.VariableGroups["alm-accelerator-variable-group"] {
		shared[k] = accVar{value: v.Value, secret: v.IsSecret}
	}
	placeholder := regexp.MustCompile(`\{\{(\w+)(?: ([^}]+))?\}\}`)
	envs := map[string]accEnvironment{}
	for name, p := range file.Pipelines {
		dv := srv.Client(t, p.Environment)
		envID, err := dv.EnvironmentID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns, err := dv.ListConnections(ctx, envID)
		if err != nil {
			t.Fatal(err)
		}
		e := accEnvironment{pipeline: name, env: p.Environment, vars: map[string]accVar{}}
		for k, v := range p.Variables {
			val := placeholder.ReplaceAllStringFunc(v.Value, func(m string) string {
				sub := placeholder.FindStringSubmatch(m)
				switch sub[1] {
				case "url":
					return srv.EnvURL(p.Environment) + "/"
				case "connection":
					for _, c := range conns {
						if strings.EqualFold(c.ConnectorID, "/providers/Microsoft.PowerApps/apis/"+sub[2]) {
							return c.Name
						}
					}
				case "user":
					switch sub[2] {
					case "maker":
						return emulator.Maker.Email
					case "flowowner":
						return emulator.FlowOwner.Email
					}
				case "group":
					var n int
					fmt.Sscan(sub[2], &n)
					return emulator.Groups[n].ID
				}
				t.Fatalf("pipeline-variables.json %s %s: placeholder %s has no value in %s", name, k, m, p.Environment)
				return ""
			})
			e.vars[k] = accVar{value: val, secret: v.IsSecret}
		}
		envs[p.Environment] = e
	}
	return srv, shared, envs
}

// acceleratorRepository commits fixtures/accelerator/repo, unchanged, to a
// new repository on main and on the solution branch, as the Accelerator's
// export left them, and returns its path.
func acceleratorRepository(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, fixtures.AcceleratorPath("repo"), dir)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alex Maker", Email: emulator.Maker.Email, When: time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC)}
	h := commitAll(t, repo, "ALMAcceleratorSampleSolution as the ALM Accelerator left it", sig, accSolution)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), h)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkAcceleratorDeployed asserts the solution's state in environment e
// after a deployment with e's variables: version, connection references
// bound, environment variable values, flows on and owned as configured,
// the canvas app shared, the group team with its roles and the flows
// shared with it, the consent bypass, each exactly where e's variables ask
// for it and nowhere they do not.
func checkAcceleratorDeployed(ctx context.Context, t *testing.T, srv *emulatortest.Server, e accEnvironment, version string) {
	t.Helper()
	dv := srv.Client(t, e.env)
	s, err := dv.GetSolution(ctx, accSolution)
	if err != nil {
		t.Fatalf("%s: %v", e.env, err)
	}
	if s.Version != version || !s.IsManaged {
		t.Errorf("%s: %s %s managed %v, want %s managed", e.env, accSolution, s.Version, s.IsManaged, version)
	}
	val := func(name string) string { return e.vars[name].value }

	refs, err := dv.ListSolutionConnectionReferences(ctx, s.ID)
	if err != nil || len(refs) != 2 {
		t.Fatalf("%s: connection references %+v, %v", e.env, refs, err)
	}
	for _, r := range refs {
		if want := val("connectionreference." + r.LogicalName); want == "" || r.ConnectionID != want {
			t.Errorf("%s: connection reference %s bound to %q, want %q", e.env, r.LogicalName, r.ConnectionID, want)
		}
	}
	for _, schema := range []string{"cat_ConnectorHostUrl", "cat_TextEnvironmentVariable", "cat_DecimalEnvironmentVariable",
		"cat_JsonEnvironmentVariable", "cat_shared_sharepointonline_97456712308a4e65aae18bafcd84c81f", "cat_shared_sharepointonline_21f63b2d26f043fb85a5c32fc0c65924"} {
		want := val("environmentvariable." + schema)
		// A value escaped by hand for the Accelerator's replacetokens
		// means its unescaped text.
		var unescaped string
		if strings.Contains(want, `\`) && json.Unmarshal([]byte(`"`+want+`"`), &unescaped) == nil {
			want = unescaped
		}
		defs, err := dv.ListEnvironmentVariableDefinitions(ctx, schema)
		if err != nil || len(defs) != 1 {
			t.Fatalf("%s: %s: %+v %v", e.env, schema, defs, err)
		}
		vals, err := dv.ListEnvironmentVariableValues(ctx, defs[0].ID)
		if err != nil || len(vals) != 1 || vals[0].Value != want {
			t.Errorf("%s: %s values %+v %v, want %q", e.env, schema, vals, err, want)
		}
	}

	flows, err := dv.ListSolutionFlows(ctx, s.ID)
	if err != nil || len(flows) != 2 {
		t.Fatalf("%s: flows %+v %v", e.env, flows, err)
	}
	team, teamErr := dv.TeamByGroupID(ctx, val("groupTeam.6efb89e3-c102-458d-b83c-7a62fd4fde61.Prod Team"))
	for _, f := range flows {
		if !f.On() {
			t.Errorf("%s: flow %s is off", e.env, f.Name)
		}
		token := strings.ReplaceAll(f.Name, " ", "") + "." + f.ID
		owner, err := dv.SystemUserByEmail(ctx, val("owner.ownerEmail."+token))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(f.OwnerID, owner.ID) {
			t.Errorf("%s: flow %s owned by %s, want %s", e.env, f.Name, f.OwnerID, val("owner.ownerEmail."+token))
		}
		shared := false
		for _, a := range srv.Emulator.SharedAccess(e.env, f.ID) {
			shared = shared || (teamErr == nil && strings.EqualFold(a.PrincipalID, team.ID))
		}
		if want := val("flow.sharing."+token) != ""; shared != want {
			t.Errorf("%s: flow %s shared with the team: %v, want %v", e.env, f.Name, shared, want)
		}
	}
	if group := val("groupTeam.6efb89e3-c102-458d-b83c-7a62fd4fde61.Prod Team"); group != "" {
		if teamErr != nil {
			t.Fatalf("%s: team for %s: %v", e.env, group, teamErr)
		}
		roles, err := dv.TeamRoles(ctx, team.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range roles {
			names = append(names, r.Name)
		}
		sort.Strings(names)
		if got := strings.Join(names, ", "); got != "CCI admin, Data Sync Framework Role, Data Sync Service Role" {
			t.Errorf("%s: team %s roles %s", e.env, team.Name, got)
		}
	} else if _, err := dv.TeamByGroupID(ctx, emulator.Groups[1].ID); err == nil {
		t.Errorf("%s: a group team was made though its group variable was never set", e.env)
	}

	envID, err := dv.EnvironmentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := dv.ListSolutionCanvasApps(ctx, s.ID)
	if err != nil || len(apps) != 1 {
		t.Fatalf("%s: canvas apps %+v %v", e.env, apps, err)
	}
	perms, err := dv.CanvasAppPermissions(ctx, envID, apps[0].AppName())
	if err != nil {
		t.Fatal(err)
	}
	role := ""
	for _, p := range perms {
		if strings.EqualFold(p.Principal.ID, val("canvasshare.aadGroupId.cat_devopskitsamplecanvasapp_c7ec5")) {
			role = p.RoleName
		}
	}
	if want := val("canvasshare.roleName.cat_devopskitsamplecanvasapp_c7ec5"); role != want {
		t.Errorf("%s: canvas app shared as %q with the group, want %q", e.env, role, want)
	}
	bypassed := false
	for _, a := range srv.Emulator.Audit() {
		bypassed = bypassed || (a.Environment == e.env && a.Action == "app-consent-bypass" && a.Detail == "true")
	}
	if want := val("BypassAppConsent") == "true"; bypassed != want {
		t.Errorf("%s: canvas app consent bypassed %v, want %v", e.env, bypassed, want)
	}
}

// TestAzureDevOpsDeploysAcceleratorRepository runs build-deploy-solution.yml
// as the agent would on the Accelerator-layout repository, unchanged, with
// the pipeline variables the Accelerator left: each deploy pipeline's
// definition variables are a variable group of their own (secret ones
// stay secret), linked by the environment's stage, beside the shared
// alm-accelerator-variable-group. A push to the solution branch deploys to
// test and a push to main to prod, with different values; the pipeline
// keeps the default run number format, which the template turns into the
// Accelerator's 1.0.<yyyyMMdd>.<r>. Hooks run where the Accelerator's did.
func TestAzureDevOpsDeploysAcceleratorRepository(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	srv, shared, envs := acceleratorTarget(ctx, t)
	origin := acceleratorRepository(t)
	ado := noREST(t, "Azure DevOps")

	// The pipeline ppalm migrate writes from what it finds (the
	// Accelerator's deploy pipelines and config folders), with the hooks
	// a team adds.
	params := migratedPipeline(t, bin, origin)
	want := map[string]any{"solutionName": accSolution, "variableGroup": "alm-accelerator-variable-group", "environments": []any{
		map[string]any{"name": "prod", "branch": "main", "config": "Prod", "variableGroup": "deploy-prod-" + accSolution},
		map[string]any{"name": "test", "branch": accSolution, "config": "Test", "variableGroup": "deploy-test-" + accSolution},
	}}
	if got, _ := json.Marshal(params); string(got) != mustJSON(t, want) {
		t.Fatalf("ppalm migrate wrote the parameters\n%s\nwant\n%s", got, mustJSON(t, want))
	}
	hook := func(name, text string) []any {
		return []any{map[string]any{"bash": "echo \"hook " + name + " " + text + "\"", "displayName": name}}
	}
	params["preBuild"] = hook("preBuild", "$(Build.SourceBranchName)")
	params["postBuild"] = hook("postBuild", "$(Build.SourceBranch)")
	params["preImport"] = hook("preImport", "$(Environment.Name) $(EnvironmentName) $(Build.BuildNumber)")
	params["postImport"] = hook("postImport", "$(Environment.Name)")
	params["preConfigure"] = hook("preConfigure", "$(Environment.Name)")
	params["postConfigure"] = hook("postConfigure", "$(Environment.Name)")
	doc, err := loadTemplate(filepath.Join("azure-devops", "build-deploy-solution.yml"), params)
	if err != nil {
		t.Fatal(err)
	}
	library := map[string]*variables{"alm-accelerator-variable-group": newVariables()}
	for k, v := range shared {
		library["alm-accelerator-variable-group"].set(k, v.value)
	}
	// The Accelerator named each environment's service connection by its
	// URL (ServiceConnection); the agent hands the task the connection's id.
	endpoints := map[string]endpoint{}
	var secrets []string
	for _, e := range envs {
		g := newVariables()
		for k, v := range e.vars {
			if v.secret {
				g.setSecret(k, v.value)
				secrets = append(secrets, v.value)
			} else {
				g.set(k, v.value)
			}
		}
		library[e.pipeline] = g
		endpoints[e.vars["ServiceConnection"].value] = devEndpoint(fmt.Sprintf("5e1c0000-0000-4000-8000-%012d", len(endpoints)+1), srv.EnvURL(e.env)+"/")
	}

	run := func(branch, buildNumber string) *agentRun {
		v := newVariables()
		v.set("PPALM_POWERAPPS_URL", srv.PowerAppsURL())
		v.set("PPALM_GRAPH_URL", srv.GraphURL())
		a := newAgentRun(t, bin, origin, v, endpoints)
		a.library = library
		a.predefinedRun(ado+"/contoso/", buildNumber, "IndividualCI", branch, branchHead(t, origin, branch))
		a.applyVariables(a.vars, doc["variables"], "pipeline")
		runADO(t, a, doc)
		for name, log := range a.logs {
			for _, s := range secrets {
				for _, l := range strings.Split(log, "\n") {
					if strings.Contains(l, s) && !strings.HasPrefix(l, "##vso[task.setsecret]") {
						t.Errorf("%s shows a secret variable's value: %s", name, l)
					}
				}
			}
		}
		return a
	}
	deploySteps := func(stage string) []string {
		return []string{
			stage + "/deploy: download drop",
			stage + "/deploy: ppalm plan",
			stage + "/deploy: script preImport",
			stage + "/deploy: ppalm import",
			stage + "/deploy: script postImport",
			stage + "/deploy: script preConfigure",
			stage + "/deploy: ppalm configure",
			stage + "/deploy: script postConfigure",
		}
	}
	buildSteps := []string{
		"build/build: checkout self",
		"build/build: script preBuild",
		"build/build: ppalm build",
		"build/build: CopyFiles@2",
		"build/build: script postBuild",
		"build/build: publish drop",
	}

	// A push to the solution branch: test, with test's variables.
	a := run(accSolution, "20260301.1")
	checkRan(t, a.ran, append(buildSteps, deploySteps("test")...)...)
	if strings.Join(a.runNames, ",") != "1.0.20260301.1" {
		t.Errorf("run renamed %v, want 1.0.20260301.1 (from the default number 20260301.1)", a.runNames)
	}
	if got := strings.Join(a.groups, "; "); got != "pipeline: alm-accelerator-variable-group; stage test: deploy-test-"+accSolution {
		t.Errorf("variable groups linked: %s", got)
	}
	for name, want := range map[string]string{
		"build/build: script postBuild":     "hook postBuild refs/heads/" + accSolution,
		"test/deploy: script preImport":     "hook preImport test Test 1.0.20260301.1", // the run renamed by the build job
		"test/deploy: script postConfigure": "hook postConfigure test",
		"build/build: script preBuild":      "hook preBuild " + accSolution,
		"test/deploy: script preConfigure":  "hook preConfigure test",
		"test/deploy: script postImport":    "hook postImport test",
		"build/build: ppalm build":          "legacy layout",
		"test/deploy: ppalm import":         "install " + accSolution + " 1.0.20260301.1",
		"test/deploy: ppalm plan":           "install",
	} {
		if !strings.Contains(a.logs[name], want) {
			t.Errorf("%s log lacks %q:\n%s", name, want, a.logs[name])
		}
	}
	if log := a.logs["test/deploy: ppalm configure"]; !strings.Contains(log, "AadGroupTeamConfiguration[0] (Prod Team) not configured") {
		t.Errorf("test: the group team whose variable was never set is not reported as not configured:\n%s", log)
	}
	checkAcceleratorDeployed(ctx, t, srv, envs["test"], "1.0.20260301.1")
	if _, err := srv.Client(t, "prod").GetSolution(ctx, accSolution); err == nil {
		t.Fatal("a push to the solution branch deployed to prod")
	}

	// A push to main: prod, with prod's variables and a new run number.
	a = run("main", "20260302.1")
	checkRan(t, a.ran, append(buildSteps, deploySteps("prod")...)...)
	checkAcceleratorDeployed(ctx, t, srv, envs["prod"], "1.0.20260302.1")
	checkAcceleratorDeployed(ctx, t, srv, envs["test"], "1.0.20260301.1")
	if log := a.logs["prod/deploy: ppalm configure"]; !strings.Contains(log, "pipeline variable BypassAppConsent=true") {
		t.Errorf("prod configure does not say BypassAppConsent came from the pipeline:\n%s", log)
	}
}

// TestGitHubDeploysAcceleratorRepository runs the workflow ppalm migrate
// writes for the repository (build-solution.yml once, deploy-solution.yml
// per environment, as examples/deploy-environments.yml does) as GitHub's
// runner would on the Accelerator-layout repository, unchanged, with the
// Accelerator's variables as a team moves them to GitHub: each deploy
// pipeline's variables become its GitHub environment's variables and
// secrets, named in GitHub's spelling (CONNECTIONREFERENCE_CAT_CDS_CURRENT
// for #{connectionreference.cat_CDS_Current}#), control variables under
// their own names; variables the Accelerator left empty do not exist on
// GitHub, which refuses empty values. A push to the solution branch deploys
// to test; hooks are then added and a push to main deploys to prod.
func TestGitHubDeploysAcceleratorRepository(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	srv, _, envs := acceleratorTarget(ctx, t)
	origin := acceleratorRepository(t)
	api := noREST(t, "GitHub")

	environments := map[string]map[string]string{}
	envSecrets := map[string]map[string]string{}
	for _, e := range envs {
		vars := map[string]string{"DATAVERSE_URL": srv.EnvURL(e.env) + "/", "AZURE_TENANT_ID": ghTenantID,
			"AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID}
		secrets := map[string]string{}
		for k, v := range e.vars {
			if v.value == "" || k == "ServiceConnection" || k == "ServiceConnectionUrl" {
				continue // GitHub has no empty variables; service connections are Azure DevOps'
			}
			if v.secret {
				secrets[settings.GitHubName(k)] = v.value
			} else {
				vars[settings.GitHubName(k)] = v.value
			}
		}
		environments[e.env], envSecrets[e.env] = vars, secrets
	}
	// The workflow ppalm migrate writes from what it finds.
	out, err := exec.Command(bin, "migrate", "--repo", origin, "--write", "--host", "github").CombinedOutput()
	if err != nil {
		t.Fatalf("ppalm migrate: %v\n%s", err, out)
	}
	workflow := filepath.Join(origin, ".github", "workflows", "ppalm-"+accSolution+".yml")
	repo, err := git.PlainOpen(origin)
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alex Maker", Email: emulator.Maker.Email, When: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	h := commitAll(t, repo, "Deploy with ppalm (ppalm migrate --write --host github)", sig, accSolution)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), h)); err != nil {
		t.Fatal(err)
	}
	newRun := func(ev ghEvent) *ghRun {
		r := newGHRun(t, bin, origin, workflow, ev, api, srv, environments)
		r.envSecrets, r.solution = envSecrets, accSolution
		return r
	}

	// A push to the solution branch: test.
	r := newRun(pushEvent("refs/heads/"+accSolution, branchHead(t, origin, accSolution), 1))
	if got := r.run(); got != "build deploy@test" {
		t.Fatalf("push to %s ran %q, want build deploy@test", accSolution, got)
	}
	checkRan(t, r.ran,
		"build: actions/checkout@v4",
		"build: ppalm build",
		`build: run cp -R "$FOLDER/config" "$RUNNER_TEMP/drop/config"`,
		"build: actions/upload-artifact@v4 drop",
		"deploy: actions/checkout@v4",
		"deploy: actions/download-artifact@v4 drop",
		"deploy: ppalm plan",
		"deploy: ppalm import",
		"deploy: ppalm configure",
	)
	checkAcceleratorDeployed(ctx, t, srv, envs["test"], ghVersion(1))
	if log := r.logs["deploy: ppalm import"]; !strings.Contains(log, "config/Test/customDeploymentSettings.json") {
		t.Errorf("test: the import did not read config/Test:\n%s", log)
	}

	// The team adds hooks (the Accelerator's Hooks folder) and merges to
	// main: prod, with the hooks run where the Accelerator ran its.
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("main"), Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"pre-build", "post-build", "pre-import", "post-import", "pre-configure", "post-configure"} {
		dir := filepath.Join(origin, ".ppalm", "hooks", h)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		action := "name: " + h + "\nruns:\n  using: composite\n  steps:\n  - shell: bash\n    run: echo \"hook " + h + " ${{ github.job }} ${CONFIG:-none}\"\n"
		if err := os.WriteFile(filepath.Join(dir, "action.yml"), []byte(action), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sig.When = sig.When.Add(24 * time.Hour)
	commitAll(t, repo, "Hooks", sig, "main")

	r = newRun(pushEvent("refs/heads/main", branchHead(t, origin, "main"), 2))
	if got := r.run(); got != "build deploy@prod" {
		t.Fatalf("push to main ran %q, want build deploy@prod", got)
	}
	checkRan(t, r.ran,
		"build: actions/checkout@v4",
		"build: ./.ppalm/hooks/pre-build",
		"build: ppalm build",
		`build: run cp -R "$FOLDER/config" "$RUNNER_TEMP/drop/config"`,
		"build: ./.ppalm/hooks/post-build",
		"build: actions/upload-artifact@v4 drop",
		"deploy: actions/checkout@v4",
		"deploy: actions/download-artifact@v4 drop",
		"deploy: ppalm plan",
		"deploy: ./.ppalm/hooks/pre-import",
		"deploy: ppalm import",
		"deploy: ./.ppalm/hooks/post-import",
		"deploy: ./.ppalm/hooks/pre-configure",
		"deploy: ppalm configure",
		"deploy: ./.ppalm/hooks/post-configure",
	)
	if log := r.logs["deploy: ./.ppalm/hooks/pre-import"]; !strings.Contains(log, "hook pre-import deploy Prod") {
		t.Errorf("pre-import hook log: %q", log)
	}
	checkAcceleratorDeployed(ctx, t, srv, envs["prod"], ghVersion(2))
	checkAcceleratorDeployed(ctx, t, srv, envs["test"], ghVersion(1))
}

// migratedPipeline runs ppalm migrate --write on the repository and
// returns the parameters the pipeline it wrote passes to ppalm's Azure
// DevOps template.
func migratedPipeline(t *testing.T, bin, repo string) map[string]any {
	t.Helper()
	out, err := exec.Command(bin, "migrate", "--repo", repo, "--write").CombinedOutput()
	if err != nil {
		t.Fatalf("ppalm migrate: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(repo, accSolution, "ppalm-"+accSolution+".yml"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Extends struct {
			Template   string         `yaml:"template"`
			Parameters map[string]any `yaml:"parameters"`
		} `yaml:"extends"`
	}
	if err := yaml.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.Extends.Template != "templates/azure-devops/build-deploy-solution.yml@ppalm" {
		t.Fatalf("the pipeline extends %q", p.Extends.Template)
	}
	return p.Extends.Parameters
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
