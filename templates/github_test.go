package templates_test

import (
	"bufio"
	"bytes"
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
	"github.com/ppalm/ppalm/settings"
)

const (
	ghRepository = "contoso/alm"
	ghTenantID   = "72f988bf-0000-4000-8000-000000000001"
	// ghJobToken is github.token; ghOIDCRequestToken is the runner's
	// ACTIONS_ID_TOKEN_REQUEST_TOKEN. Neither may ever be printed.
	ghJobToken         = "ghs_job-token-that-must-never-be-logged"
	ghOIDCRequestToken = "oidc-request-token-that-must-never-be-logged"
	ghPRNumber         = 7
)

// TestGitHubBuildDeploySolution runs github/build-deploy-solution.yml as
// GitHub's runner would, called by the example callers in
// github/examples/ (their Contoso renamed to the fixture's FollowSites):
// a push to the solution branch builds and deploys to test; a pull request
// deploys to validation, and the pull request's solution-upgrade label
// makes the next validation run an upgrade. Routing for main (prod) and
// other branches is checked by evaluating the callers' triggers and the
// workflow's job conditions.
func TestGitHubBuildDeploySolution(t *testing.T) {
	ctx := context.Background()
	bin := buildPpalm(t)
	dvSrv := emulatortest.Start(t, emulator.Options{Environments: []string{"validation", "test", "prod"}, AsyncPolls: -1})
	emu := dvSrv.Emulator
	// GitHub's REST API and the OIDC token endpoint: nothing in these runs
	// may need them (the upgrade label comes from the event payload, and
	// a loopback environment needs no token).
	api := noREST(t, "GitHub")
	_, src := followSites(t)
	dvTest, dvValidation := dvSrv.Client(t, "test"), dvSrv.Client(t, "validation")
	tokens := map[string]map[string]string{
		"Test":       tokenVariables(ctx, t, dvTest, src),
		"Validation": tokenVariables(ctx, t, dvValidation, src),
	}
	origin := ghSolutionRepository(t, bin)

	// The repository's GitHub environments, with the variables the
	// workflow reads (the config folder follows the event: Validation,
	// Test or Prod).
	environments := map[string]map[string]string{
		"contoso-test": {"DATAVERSE_URL": dvSrv.URL + "/test/", "AZURE_TENANT_ID": ghTenantID,
			"AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID},
		"contoso-validation": {"DATAVERSE_URL": dvSrv.URL + "/validation/", "AZURE_TENANT_ID": ghTenantID,
			"AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID},
		"contoso-prod": {"DATAVERSE_URL": "https://contoso.crm.dynamics.com/", "AZURE_TENANT_ID": ghTenantID,
			"AZURE_CLIENT_ID": emulator.ServicePrincipal.ApplicationID},
	}
	// The #{token}# values, as a team keeps them: environment variables in
	// GitHub's spelling (CONNECTIONREFERENCE_X for #{connectionreference.x}#).
	for env, config := range map[string]string{"contoso-test": "Test", "contoso-validation": "Validation"} {
		for name, v := range tokens[config] {
			environments[env][settings.GitHubName(name)] = v
		}
	}
	// The runner machine's own environment (a self-hosted runner's .env)
	// says where the emulator serves Power Apps and Graph.
	newRun := func(caller string, ev ghEvent) *ghRun {
		return newGHRun(t, bin, origin, caller, ev, api, dvSrv, environments)
	}
	head := func(ref string) string {
		r, err := git.PlainOpen(origin)
		if err != nil {
			t.Fatal(err)
		}
		h, err := r.Reference(plumbing.ReferenceName(ref), true)
		if err != nil {
			t.Fatalf("origin %s: %v", ref, err)
		}
		return h.Hash().String()
	}

	// The routing: which caller runs for which event, and where its
	// deploy job goes.
	for _, tt := range []struct {
		caller string
		ev     ghEvent
		want   string // jobs and the deploy job's environment
	}{
		{"deploy.yml", pushEvent("refs/heads/FollowSites", "1", 1), "build deploy@contoso-test"},
		{"deploy.yml", pushEvent("refs/heads/main", "1", 1), "build deploy@contoso-prod"},
		{"deploy.yml", pushEvent("refs/heads/feature/x", "1", 1), "(not triggered)"},
		{"validate.yml", prEvent("opened", "", nil, "1", 1), "build deploy@contoso-validation"},
		{"validate.yml", prEvent("labeled", "solution-upgrade", []string{"solution-upgrade"}, "1", 1), "build deploy@contoso-validation"},
		{"validate.yml", prEvent("labeled", "documentation", []string{"documentation"}, "1", 1), "(skipped by the caller's if)"},
		{"validate.yml", prEvent("closed", "", nil, "1", 1), "(not triggered)"},
	} {
		r := newRun(tt.caller, tt.ev)
		r.planOnly = true
		if got := r.run(); got != tt.want {
			t.Errorf("%s on %s %s: %q, want %q", tt.caller, tt.ev.name, tt.ev.ref, got, tt.want)
		}
	}

	// First run: a push to the solution branch installs in test.
	r := newRun("deploy.yml", pushEvent("refs/heads/FollowSites", head("refs/heads/FollowSites"), 1))
	if got := r.run(); got != "build deploy@contoso-test" {
		t.Fatalf("push to FollowSites ran %q", got)
	}
	wantSteps := []string{
		"build: actions/checkout@v4",
		"build: ppalm build",
		"build: run cp -R \"$FOLDER/config\" \"$RUNNER_TEMP/drop/config\"",
		"build: actions/upload-artifact@v4 drop",
		"deploy: actions/checkout@v4",
		"deploy: actions/download-artifact@v4 drop",
		"deploy: ppalm plan",
		"deploy: ppalm import",
		"deploy: ppalm configure",
	}
	if got := strings.Join(r.ran, "\n"); got != strings.Join(wantSteps, "\n") {
		t.Fatalf("steps run:\n%s\nwant:\n%s", got, strings.Join(wantSteps, "\n"))
	}
	checkDeployed(ctx, t, dvTest, src, ghVersion(1), tokens["Test"])
	checkConfigured(ctx, t, emu, dvTest, src, r.logs["deploy: ppalm configure"])
	if log := r.logs["deploy: ppalm import"]; !strings.Contains(log, "install") {
		t.Errorf("first import is not an install:\n%s", log)
	}
	// Every ppalm step wrote its result to $GITHUB_OUTPUT, and the runner
	// read it back as steps.<id>.outputs.result.
	for _, name := range wantSteps {
		if strings.Contains(name, ": ppalm ") && r.outputs[name]["result"] != "Succeeded" {
			t.Errorf("%s: outputs %v, want result=Succeeded", name, r.outputs[name])
		}
	}
	for job, want := range map[string][]string{
		"build":  {"### ppalm build"},
		"deploy": {"### ppalm plan", "### ppalm import", "### ppalm configure", "Succeeded"},
	} {
		for _, w := range want {
			if !strings.Contains(r.summaries[job], w) {
				t.Errorf("job %s summary lacks %q:\n%s", job, w, r.summaries[job])
			}
		}
	}
	if got := importActions(emu); got != "ImportSolutionAsync=1" {
		t.Errorf("import actions after the push: %s, want ImportSolutionAsync=1", got)
	}

	// A pull request into the solution branch: validation installs.
	prHead := head(fmt.Sprintf("refs/pull/%d/merge", ghPRNumber))
	r = newRun("validate.yml", prEvent("opened", "", nil, prHead, 1))
	if got := r.run(); got != "build deploy@contoso-validation" {
		t.Fatalf("pull request opened ran %q", got)
	}
	checkDeployed(ctx, t, dvValidation, src, ghVersion(1), tokens["Validation"])
	if got := importActions(emu); got != "ImportSolutionAsync=2" {
		t.Errorf("import actions after the pull request: %s, want ImportSolutionAsync=2", got)
	}

	// The solution-upgrade label re-runs validation, which upgrades.
	r = newRun("validate.yml", prEvent("labeled", "solution-upgrade", []string{"solution-upgrade"}, prHead, 2))
	if got := r.run(); got != "build deploy@contoso-validation" {
		t.Fatalf("pull request labeled ran %q", got)
	}
	checkDeployed(ctx, t, dvValidation, src, ghVersion(2), tokens["Validation"])
	if got := importActions(emu); got != "ImportSolutionAsync=2 StageAndUpgradeAsync=1" {
		t.Errorf("import actions after the label: %s, want ImportSolutionAsync=2 StageAndUpgradeAsync=1\nimport log:\n%s", got, r.logs["deploy: ppalm import"])
	}
	if log := r.logs["deploy: ppalm import"]; !strings.Contains(log, "upgrade FollowSites "+ghVersion(2)) || !strings.Contains(log, "solution-upgrade") {
		t.Errorf("labeled import is not an upgrade asked for by the label:\n%s", log)
	}
}

// ghVersion is the version a GitHub build of run n stamps:
// 1.0.<yyyyMMdd>.<run number>, the date in UTC (steps.BuildVersion).
func ghVersion(n int) string {
	return fmt.Sprintf("1.0.%s.%d", time.Now().UTC().Format("20060102"), n)
}

// ghEvent is the event that starts a run: its name, payload and ref.
type ghEvent struct {
	name, ref, sha, baseRef, headRef string
	runNumber                        int
	payload                          map[string]any
}

func pushEvent(ref, sha string, runNumber int) ghEvent {
	return ghEvent{name: "push", ref: ref, sha: sha, runNumber: runNumber, payload: map[string]any{
		"ref": ref, "after": sha, "repository": map[string]any{"full_name": ghRepository},
		"pusher": map[string]any{"name": "alex-maker"},
	}}
}

// prEvent is a pull_request event for pull request ghPRNumber from
// feature/tweak into FollowSites.
func prEvent(action, label string, labels []string, sha string, runNumber int) ghEvent {
	ls := make([]any, len(labels))
	for i, l := range labels {
		ls[i] = map[string]any{"name": l}
	}
	p := map[string]any{"action": action, "number": ghPRNumber, "repository": map[string]any{"full_name": ghRepository},
		"pull_request": map[string]any{"number": ghPRNumber, "labels": ls,
			"base": map[string]any{"ref": solutionName}, "head": map[string]any{"ref": "feature/tweak"}, "merge_commit_sha": sha}}
	if label != "" {
		p["label"] = map[string]any{"name": label}
	}
	return ghEvent{name: "pull_request", ref: fmt.Sprintf("refs/pull/%d/merge", ghPRNumber), sha: sha,
		baseRef: solutionName, headRef: "feature/tweak", runNumber: runNumber, payload: p}
}

// ghSolutionRepository is solutionRepository with config/Validation beside
// config/Test, both holding #{token}# placeholders: their values live in the
// GitHub environments' variables, which the workflow hands to ppalm as
// PPALM_VARIABLES. It also adds refs/pull/7/merge, the merge commit GitHub
// makes for a pull request into FollowSites.
func ghSolutionRepository(t *testing.T, bin string) string {
	t.Helper()
	dir := solutionRepository(t, bin)
	cfg := filepath.Join(dir, solutionName, "config")
	for _, f := range []string{"deploymentSettings.json", "customDeploymentSettings.json"} {
		raw, err := os.ReadFile(filepath.Join(cfg, "Test", f))
		if err != nil {
			t.Fatal(err)
		}
		if len(settings.Tokens(raw)) == 0 {
			t.Fatalf("config/Test/%s holds no #{token}#: the test would not prove tokens are filled", f)
		}
		if err := os.MkdirAll(filepath.Join(cfg, "Validation"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg, "Validation", f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alex Maker", Email: emulator.Maker.Email, When: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	h := commitAll(t, repo, "FollowSites: settings for test and validation", sig, solutionName)
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	sig.When = sig.When.Add(time.Hour)
	m, err := wt.Commit(fmt.Sprintf("Merge %s into %s", "feature/tweak", solutionName),
		&git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true, Parents: []plumbing.Hash{h}})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(fmt.Sprintf("refs/pull/%d/merge", ghPRNumber)), m)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ghRun plays GitHub for one workflow run: the caller workflow's trigger
// and job, the reusable workflow's inputs, secrets and env, then each job
// on a fresh runner with the environment the runner gives each step.
type ghRun struct {
	t            *testing.T
	bin, origin  string
	work         string
	caller       string // file in github/examples
	ev           ghEvent
	apiURL       string
	oidcURL      string
	environments map[string]map[string]string // GitHub environment -> variables
	envSecrets   map[string]map[string]string // GitHub environment -> secrets
	machineEnv   map[string]string
	solution     string // what the examples' Contoso stands for (default solutionName)
	planOnly     bool   // evaluate triggers, conditions and environments only

	jobs      int
	ran       []string
	logs      map[string]string            // step -> stdout
	outputs   map[string]map[string]string // step -> outputs read from $GITHUB_OUTPUT
	summaries map[string]string            // job -> job summary
	artifacts map[string]string            // name -> stored copy
}

// loadYAML reads a workflow; replace holds old, new pairs applied to its
// text first.
func loadYAML(t *testing.T, path string, replace ...string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.NewReplacer(replace...).Replace(string(raw)))
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// checkKeys fails on any key the emulation does not implement.
func checkKeys(t *testing.T, what string, m map[string]any, allowed ...string) {
	t.Helper()
	for k := range m {
		if !contains(allowed, k) {
			t.Fatalf("%s: key %q is not supported by this runner emulation", what, k)
		}
	}
}

func mapOf(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	if v == nil {
		return map[string]any{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: expected a mapping, got %T", what, v)
	}
	return m
}

func strList(t *testing.T, v any, what string) []string {
	t.Helper()
	if s, ok := v.(string); ok {
		return []string{s}
	}
	l, ok := v.([]any)
	if v != nil && !ok {
		t.Fatalf("%s: expected a list, got %T", what, v)
	}
	out := make([]string, len(l))
	for i, x := range l {
		if out[i], ok = x.(string); !ok {
			t.Fatalf("%s[%d]: expected a string", what, i)
		}
	}
	return out
}

// triggered reports whether the caller's on: starts a run for the event
// (branches and types; paths are taken as matching).
func (r *ghRun) triggered(on map[string]any) bool {
	t := r.t
	checkKeys(t, r.caller+" on", on, "push", "pull_request", "workflow_dispatch")
	spec, ok := on[r.ev.name]
	if !ok {
		return false
	}
	f := mapOf(t, spec, r.caller+" on."+r.ev.name)
	if r.ev.name == "workflow_dispatch" {
		r.dispatchInputs(f) // fails on a missing required input
		return true
	}
	checkKeys(t, r.caller+" on."+r.ev.name, f, "branches", "paths", "types")
	branch := strings.TrimPrefix(r.ev.ref, "refs/heads/")
	types := []string{"opened", "synchronize", "reopened"}
	if r.ev.name == "pull_request" {
		branch = r.ev.baseRef
		if f["types"] != nil {
			types = strList(t, f["types"], "types")
		}
		if !contains(types, r.ev.payload["action"].(string)) {
			return false
		}
	}
	if f["branches"] != nil {
		bs := strList(t, f["branches"], "branches")
		for _, b := range bs {
			if strings.ContainsAny(b, "*?[!") {
				t.Fatalf("%s: branch filter %q: patterns are not supported by this runner emulation", r.caller, b)
			}
		}
		return contains(bs, branch)
	}
	return true
}

func (r *ghRun) githubContext() ghStrict {
	refName := strings.TrimPrefix(r.ev.ref, "refs/heads/")
	if r.ev.name == "pull_request" {
		refName = fmt.Sprintf("%d/merge", ghPRNumber)
	}
	return ghStrict{
		"event_name": r.ev.name, "event": r.ev.payload, "ref": r.ev.ref, "ref_name": refName, "ref_type": "branch",
		"sha": r.ev.sha, "head_ref": r.ev.headRef, "base_ref": r.ev.baseRef,
		"repository": ghRepository, "repository_owner": strings.Split(ghRepository, "/")[0],
		"run_id": "9100200300", "run_number": float64(r.ev.runNumber), "run_attempt": 1.0,
		"actor": "alex-maker", "triggering_actor": "alex-maker", "workflow": r.caller,
		"server_url": "https://github.com", "api_url": r.apiURL, "graphql_url": r.apiURL + "/graphql",
		"token": ghJobToken, "action": "", "job": "", "workspace": "",
	}
}

// run runs the caller's jobs and returns what ran: the reusable workflows'
// jobs, with the environment each deployed to.
func (r *ghRun) run() string {
	t := r.t
	// The examples' solution is Contoso (its branch, folder and name); a
	// team copying one puts its own, here the fixture's.
	name := r.solution
	if name == "" {
		name = solutionName
	}
	file := filepath.Join("github", "examples", r.caller)
	if filepath.IsAbs(r.caller) {
		file = r.caller // a team's own workflow (ppalm migrate --write)
	}
	caller := loadYAML(t, file, "Contoso", name)
	checkKeys(t, r.caller, caller, "name", "on", "jobs")
	if !r.triggered(mapOf(t, caller["on"], r.caller+" on")) {
		return "(not triggered)"
	}
	inputs := ghStrict{}
	if r.ev.name == "workflow_dispatch" {
		inputs = r.dispatchInputs(mapOf(t, mapOf(t, caller["on"], r.caller+" on")["workflow_dispatch"], r.caller+" on.workflow_dispatch"))
	}
	// The caller's jobs may only call reusable workflows; the repository
	// has no secrets of its own (environments may).
	out := r.runJobs(jobGraph{path: r.caller, caller: true, inputs: inputs, secrets: map[string]any{}, idToken: true},
		mapOf(t, caller["jobs"], r.caller+" jobs"))
	if len(out) == 0 {
		return "(skipped by the caller's if)"
	}
	return strings.Join(out, " ")
}

// jobGraph is what the jobs of one workflow run with.
type jobGraph struct {
	path    string
	caller  bool // a caller's jobs: calls of reusable workflows only
	inputs  ghStrict
	secrets map[string]any
	inherit bool
	// idToken: the workflow may get an OIDC token (its permissions and its
	// caller's grant id-token: write).
	idToken bool
	perms   map[string]any // the permissions in force, for nested calls
	wfEnv   map[string]string
}

// runJobs runs a workflow's jobs in needs order: a job that calls a
// reusable workflow (uses:) runs that workflow's jobs, any other runs on a
// fresh runner. It returns what ran, each job with the environment it
// deployed to.
func (r *ghRun) runJobs(g jobGraph, jobs map[string]any) []string {
	t := r.t
	gh := r.githubContext()
	vars := map[string]any{} // repository variables: none
	done := map[string]bool{}
	needs := ghStrict{}
	var out []string
	for len(done) < len(jobs) {
		var ready []string
		for id, j := range jobs {
			if done[id] {
				continue
			}
			ok := true
			for _, n := range strList(t, mapOf(t, j, id)["needs"], id+" needs") {
				if _, exists := jobs[n]; !exists {
					t.Fatalf("%s job %s needs %s, which does not exist", g.path, id, n)
				}
				ok = ok && done[n]
			}
			if ok {
				ready = append(ready, id)
			}
		}
		if len(ready) == 0 {
			t.Fatalf("%s: the jobs' needs form a cycle", g.path)
		}
		sort.Strings(ready)
		for _, id := range ready {
			done[id] = true
			job := mapOf(t, jobs[id], g.path+" job "+id)
			jobNeeds := ghStrict{}
			skippedNeed := false
			for _, n := range strList(t, job["needs"], id+" needs") {
				jobNeeds[n] = needs[n]
				skippedNeed = skippedNeed || needs[n].(ghStrict)["result"] != "success"
			}
			scope := ghScope{contexts: map[string]any{"github": gh, "inputs": g.inputs, "vars": vars, "needs": jobNeeds}}
			run, err := scope.condition(str(job["if"]))
			if err != nil {
				t.Fatalf("%s job %s: %v", g.path, id, err)
			}
			// A job whose needs did not succeed is skipped unless its if
			// asks for always() or failure(); the emulation never fails.
			if !run || (skippedNeed && !strings.Contains(str(job["if"]), "always()")) {
				needs[id] = ghStrict{"result": "skipped", "outputs": ghStrict{}}
				continue
			}
			if job["uses"] != nil {
				out = append(out, r.callWorkflow(g, id, job, scope)...)
				needs[id] = ghStrict{"result": "success", "outputs": ghStrict{}}
				continue
			}
			if g.caller {
				t.Fatalf("%s job %s: a caller's job must call a reusable workflow (uses:)", g.path, id)
			}
			checkKeys(t, g.path+" job "+id, job, "needs", "if", "runs-on", "environment", "steps", "env", "permissions")
			jobToken := g.idToken
			if p, ok := job["permissions"]; ok {
				jobToken = jobToken && mapOf(t, p, g.path+" job "+id+" permissions")["id-token"] == "write"
			}
			runsOn, err := scope.interpolate(str(job["runs-on"]))
			if err != nil || runsOn != "ubuntu-latest" {
				t.Fatalf("%s job %s: runs-on %q (%v): this emulation is an ubuntu-latest runner", g.path, id, runsOn, err)
			}
			envName := ""
			if job["environment"] != nil {
				if envName, err = scope.interpolate(str(job["environment"])); err != nil {
					t.Fatalf("%s job %s environment: %v", g.path, id, err)
				}
				if _, ok := r.environments[envName]; !ok {
					t.Fatalf("%s job %s: environment %q does not exist in the repository", g.path, id, envName)
				}
				out = append(out, id+"@"+envName)
			} else {
				out = append(out, id)
			}
			if !r.planOnly {
				r.runJob(g.path, id, job, envName, g.inputs, g.secrets, g.wfEnv, jobNeeds, jobToken)
			}
			needs[id] = ghStrict{"result": "success", "outputs": ghStrict{}}
		}
	}
	return out
}

// callWorkflow runs job, a call of a reusable workflow: its with: values
// evaluated where the job stands, its secrets (inherit passes on the
// caller's), its permissions (they can only narrow the caller's).
func (r *ghRun) callWorkflow(g jobGraph, id string, job map[string]any, scope ghScope) []string {
	t := r.t
	checkKeys(t, g.path+" job "+id, job, "needs", "if", "uses", "with", "secrets", "permissions")
	uses := str(job["uses"])
	file, ok := strings.CutPrefix(uses, "ppalm/ppalm/.github/workflows/")
	if !ok || !strings.HasSuffix(file, ".yml@v1") {
		t.Fatalf("%s job %s: uses %q: expected ppalm/ppalm/.github/workflows/<file>.yml@v1", g.path, id, uses)
	}
	// scripts/dist.sh publishes github/*.yml as the tag's .github/workflows.
	file = strings.TrimSuffix(file, "@v1")
	with := map[string]any{}
	for k, v := range mapOf(t, job["with"], g.path+" job "+id+" with") {
		if s, ok := v.(string); ok {
			var err error
			if v, err = scope.interpolate(s); err != nil {
				t.Fatalf("%s job %s with.%s: %v", g.path, id, k, err)
			}
		}
		with[k] = v
	}
	perms := g.perms
	if p, ok := job["permissions"]; ok {
		perms = mapOf(t, p, g.path+" job "+id+" permissions")
	}
	inherit := job["secrets"] == "inherit"
	var passed map[string]any
	if inherit {
		passed = g.secrets
	} else {
		passed = map[string]any{}
		for k, v := range mapOf(t, job["secrets"], g.path+" job "+id+" secrets") {
			if s, ok := v.(string); ok {
				var err error
				if v, err = (ghScope{contexts: map[string]any{"secrets": g.secrets}}).interpolate(s); err != nil {
					t.Fatalf("%s job %s secrets.%s: %v", g.path, id, k, err)
				}
			}
			passed[k] = v
		}
	}
	return r.runWorkflow(filepath.Join("github", file), with, passed, inherit, perms, g.idToken)
}

// runWorkflow runs a reusable workflow's jobs. inherit is the caller's
// secrets: inherit, which hands over every secret of the caller.
func (r *ghRun) runWorkflow(path string, with, secrets map[string]any, inherit bool, perms map[string]any, callerToken bool) []string {
	t := r.t
	doc := loadYAML(t, path)
	checkKeys(t, path, doc, "name", "on", "permissions", "env", "jobs")
	on := mapOf(t, doc["on"], path+" on")
	checkKeys(t, path+" on", on, "workflow_call")
	call := mapOf(t, on["workflow_call"], path+" on.workflow_call")
	checkKeys(t, path+" workflow_call", call, "inputs", "secrets", "outputs")

	inputs := ghStrict{}
	for name, d := range mapOf(t, call["inputs"], path+" inputs") {
		decl := mapOf(t, d, path+" input "+name)
		checkKeys(t, path+" input "+name, decl, "type", "required", "default", "description")
		v, given := with[name]
		if !given {
			if decl["required"] == true {
				t.Fatalf("%s: required input %s not given by %s", path, name, r.caller)
			}
			v = decl["default"]
		}
		switch decl["type"] {
		case "string":
			if v == nil {
				v = ""
			}
			if _, ok := v.(string); !ok {
				t.Fatalf("%s: input %s is %v (%T): expected a string", path, name, v, v)
			}
		case "boolean":
			if s, ok := v.(string); ok && (s == "true" || s == "false") {
				v = s == "true" // an expression's result arrives as text
			}
			if _, ok := v.(bool); !ok && v != nil {
				t.Fatalf("%s: input %s is %v: expected a boolean", path, name, v)
			}
		default:
			t.Fatalf("%s: input %s: type %v is not supported by this runner emulation", path, name, decl["type"])
		}
		inputs[name] = v
	}
	for k := range with {
		if _, ok := inputs[k]; !ok {
			t.Fatalf("%s: %s passes input %q, which the workflow does not declare", path, r.caller, k)
		}
	}
	declaredSecrets := mapOf(t, call["secrets"], path+" secrets")
	sec := map[string]any{}
	for k, v := range secrets {
		if _, ok := declaredSecrets[k]; !ok && !inherit {
			t.Fatalf("%s: %s passes secret %q, which the workflow does not declare", path, r.caller, k)
		}
		sec[k] = v
	}
	// The job gets an OIDC token when the caller grants id-token: write
	// and the called workflow does not take it away (a permissions map
	// sets every scope it leaves out to none).
	idToken := callerToken && perms["id-token"] == "write"
	if p, ok := doc["permissions"]; ok {
		idToken = idToken && mapOf(t, p, path+" permissions")["id-token"] == "write"
		perms = mapOf(t, p, path+" permissions")
	}

	gh := r.githubContext()
	wfScope := ghScope{contexts: map[string]any{"github": gh, "inputs": inputs, "vars": map[string]any{}, "secrets": sec}}
	wfEnv := map[string]string{}
	for k, v := range mapOf(t, doc["env"], path+" env") {
		s, err := ghValue(v)
		if err == nil {
			s, err = wfScope.interpolate(s)
		}
		if err != nil {
			t.Fatalf("%s env.%s: %v", path, k, err)
		}
		wfEnv[k] = s
	}
	return r.runJobs(jobGraph{path: path, inputs: inputs, secrets: sec, inherit: inherit, idToken: idToken, perms: perms, wfEnv: wfEnv},
		mapOf(t, doc["jobs"], path+" jobs"))
}

// ghJob is one job on a fresh runner.
type ghJob struct {
	*ghRun
	id       string
	ws, temp string
	files    string // the runner's file-command folder
	env      map[string]string
	path     []string // added by $GITHUB_PATH, newest first
	scope    ghScope
	steps    ghStrict
	baseEnv  map[string]string
	secrets  []string
	summary  strings.Builder
	stepSeq  int
	eventLoc string
}

func (r *ghRun) runJob(wf, id string, job map[string]any, envName string, inputs, secrets map[string]any, wfEnv map[string]string, needs ghStrict, idToken bool) {
	t := r.t
	r.jobs++
	root := filepath.Join(r.work, fmt.Sprint(r.jobs))
	j := &ghJob{ghRun: r, id: id, ws: filepath.Join(root, "work", "alm", "alm"), temp: filepath.Join(root, "temp"),
		files: filepath.Join(root, "temp", "_runner_file_commands"), steps: ghStrict{}}
	for _, d := range []string{j.ws, j.files, filepath.Join(root, "tool")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ev, _ := json.Marshal(r.ev.payload)
	j.eventLoc = filepath.Join(root, "event.json")
	if err := os.WriteFile(j.eventLoc, ev, 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{}
	for k, v := range r.environments[envName] {
		vars[k] = v
	}
	// A job on an environment sees the environment's secrets beside those
	// it was given (they win over a caller's of the same name).
	if len(r.envSecrets[envName]) > 0 {
		all := map[string]any{}
		for k, v := range secrets {
			all[k] = v
		}
		for k, v := range r.envSecrets[envName] {
			all[k] = v
		}
		secrets = all
	}
	gh := r.githubContext()
	gh["job"], gh["workspace"] = id, j.ws
	j.env = map[string]string{}
	for k, v := range wfEnv {
		j.env[k] = v
	}
	j.scope = ghScope{workspace: j.ws, contexts: map[string]any{
		"github": gh, "inputs": inputs, "vars": vars, "secrets": secrets, "needs": needs, "steps": j.steps,
		"env":    ghStrict{},
		"runner": ghStrict{"os": "Linux", "arch": "X64", "name": "GitHub Actions 2", "temp": j.temp, "tool_cache": filepath.Join(root, "tool")},
		"job":    ghStrict{"status": "success"},
	}}
	for k, v := range mapOf(t, job["env"], id+" env") {
		s, err := ghValue(v)
		if err == nil {
			s, err = j.scope.interpolate(s)
		}
		if err != nil {
			t.Fatalf("job %s env.%s: %v", id, k, err)
		}
		j.env[k] = s
	}
	j.baseEnv = map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true", "HOME": filepath.Join(root, "home"), "PATH": os.Getenv("PATH"),
		"GITHUB_WORKSPACE": j.ws, "RUNNER_TEMP": j.temp, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
		"RUNNER_NAME": "GitHub Actions 2", "RUNNER_TOOL_CACHE": filepath.Join(root, "tool"), "RUNNER_ENVIRONMENT": "github-hosted",
		"GITHUB_REF": r.ev.ref, "GITHUB_REF_NAME": gh["ref_name"].(string), "GITHUB_REF_TYPE": "branch", "GITHUB_SHA": r.ev.sha,
		"GITHUB_HEAD_REF": r.ev.headRef, "GITHUB_BASE_REF": r.ev.baseRef,
		"GITHUB_EVENT_NAME": r.ev.name, "GITHUB_EVENT_PATH": j.eventLoc,
		"GITHUB_REPOSITORY": ghRepository, "GITHUB_REPOSITORY_OWNER": gh["repository_owner"].(string),
		"GITHUB_RUN_ID": gh["run_id"].(string), "GITHUB_RUN_NUMBER": fmt.Sprint(r.ev.runNumber), "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_ACTOR": "alex-maker", "GITHUB_TRIGGERING_ACTOR": "alex-maker", "GITHUB_WORKFLOW": r.caller, "GITHUB_JOB": id,
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": r.apiURL, "GITHUB_GRAPHQL_URL": r.apiURL + "/graphql",
		"GITHUB_WORKFLOW_REF": ghRepository + "/.github/workflows/" + r.caller + "@" + r.ev.ref,
	}
	if err := os.MkdirAll(j.baseEnv["HOME"], 0o755); err != nil {
		t.Fatal(err)
	}
	j.secrets = []string{ghJobToken}
	if idToken {
		j.baseEnv["ACTIONS_ID_TOKEN_REQUEST_URL"] = r.oidcURL
		j.baseEnv["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = ghOIDCRequestToken
		j.secrets = append(j.secrets, ghOIDCRequestToken)
	}
	for _, s := range secrets {
		if s, ok := s.(string); ok && s != "" {
			j.secrets = append(j.secrets, s)
		}
	}
	for k, v := range r.machineEnv {
		j.baseEnv[k] = v
	}
	for i, s := range listOf(t, job["steps"], wf+" job "+id+" steps") {
		j.runStep(i, s)
	}
	r.summaries[id] = j.summary.String()
}

// stepEnv is the process environment of a step: the runner's variables,
// the job's env (workflow, job, $GITHUB_ENV), the step's env, the file
// commands of this step, and extra (INPUT_*).
func (j *ghJob) stepEnv(step map[string]any, files map[string]string, extra map[string]string) []string {
	t := j.t
	env := map[string]string{}
	for k, v := range j.baseEnv {
		env[k] = v
	}
	for k, v := range j.env {
		env[k] = v
	}
	for k, v := range mapOf(t, step["env"], j.id+" step env") {
		s, err := ghValue(v)
		if err == nil {
			s, err = j.scope.interpolate(s)
		}
		if err != nil {
			t.Fatalf("job %s step env.%s: %v", j.id, k, err)
		}
		env[k] = s
	}
	for k, v := range files {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	if len(j.path) > 0 {
		env["PATH"] = strings.Join(j.path, string(os.PathListSeparator)) + string(os.PathListSeparator) + env["PATH"]
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (j *ghJob) runStep(i int, step map[string]any) {
	t := j.t
	checkKeys(t, j.id+" step", step, "uses", "with", "run", "shell", "env", "id", "name", "if")
	envCtx := ghStrict{}
	for k, v := range j.env {
		envCtx[k] = v
	}
	j.scope.contexts["env"] = envCtx
	if ok, err := j.scope.condition(str(step["if"])); err != nil {
		t.Fatalf("job %s step %d: %v", j.id, i, err)
	} else if !ok {
		return
	}
	id := str(step["id"])
	if id == "" {
		id = fmt.Sprintf("__step_%d", i)
	}
	with := map[string]string{}
	for k, v := range mapOf(t, step["with"], j.id+" step with") {
		s, err := ghValue(v)
		if err == nil {
			s, err = j.scope.interpolate(s)
		}
		if err != nil {
			t.Fatalf("job %s step %d with.%s: %v", j.id, i, k, err)
		}
		with[k] = s
	}
	withOnly := func(what string, allowed ...string) {
		for k := range with {
			if !contains(allowed, k) {
				t.Fatalf("job %s: %s input %q is not emulated", j.id, what, k)
			}
		}
	}
	j.stepSeq++
	files := map[string]string{}
	for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(j.files, fmt.Sprintf("%s_%d", strings.ToLower(strings.TrimPrefix(f, "GITHUB_")), j.stepSeq))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		files[f] = p
	}
	uses := str(step["uses"])
	var name, log string
	switch {
	case uses == "actions/checkout@v4":
		withOnly(uses, "ref", "fetch-depth")
		name = j.id + ": " + uses
		j.checkout(name, with)
	case uses == "actions/upload-artifact@v4":
		withOnly(uses, "name", "path")
		name = j.id + ": " + uses + " " + with["name"]
		if _, dup := j.artifacts[with["name"]]; dup {
			t.Fatalf("%s: artifact %s already exists in this run (v4 artifacts are immutable)", name, with["name"])
		}
		store := filepath.Join(j.work, "artifacts", with["name"])
		copyTree(t, j.abs(with["path"]), store)
		j.artifacts[with["name"]] = store
	case uses == "actions/download-artifact@v4":
		withOnly(uses, "name", "path")
		name = j.id + ": " + uses + " " + with["name"]
		store, ok := j.artifacts[with["name"]]
		if !ok {
			t.Fatalf("%s: no artifact %s in this run", name, with["name"])
		}
		dest := j.ws
		if with["path"] != "" {
			dest = j.abs(with["path"])
		}
		copyTree(t, store, dest)
	case uses == "ppalm/ppalm@v1":
		name = j.id + ": ppalm " + with["command"]
		log = j.runAction(name, step, with, files)
	case strings.HasPrefix(uses, "./"):
		withOnly(uses)
		name = j.id + ": " + uses
		log = j.runComposite(name, uses, step, files)
	case uses == "" && step["run"] != nil:
		if step["shell"] != "bash" {
			t.Fatalf("job %s step %d: shell %v: only bash is emulated", j.id, i, step["shell"])
		}
		script, err := j.scope.interpolate(str(step["run"]))
		if err != nil {
			t.Fatalf("job %s step %d run: %v", j.id, i, err)
		}
		name = j.id + ": run " + strings.TrimSpace(str(step["run"]))
		withOnly("run")
		p := filepath.Join(j.temp, fmt.Sprintf("step_%d.sh", j.stepSeq))
		if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", p)
		log = j.exec(name, cmd, j.stepEnv(step, files, nil))
	default:
		t.Fatalf("job %s step %d: uses %q is not emulated", j.id, i, uses)
	}
	j.ran = append(j.ran, name)
	j.logs[name] = log
	outputs := j.readFileCommands(name, files)
	j.outputs[name] = outputs
	outCtx := map[string]any{}
	for k, v := range outputs {
		outCtx[k] = v
	}
	j.steps[id] = ghStrict{"outputs": outCtx, "outcome": "success", "conclusion": "success"}
}

// runComposite runs a local composite action (uses: ./path): the runner
// reads path/action.yml (or action.yaml) from the workspace and runs its
// run steps (bash here) with the job's environment and each step's env.
func (j *ghJob) runComposite(name, uses string, step map[string]any, files map[string]string) string {
	t := j.t
	dir := filepath.Join(j.ws, filepath.FromSlash(strings.TrimPrefix(uses, "./")))
	raw, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		if raw, err = os.ReadFile(filepath.Join(dir, "action.yaml")); err != nil {
			t.Fatalf("%s: Can't find 'action.yml' or 'action.yaml' under '%s'", name, dir)
		}
	}
	var action struct {
		Runs struct {
			Using string           `yaml:"using"`
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(raw, &action); err != nil {
		t.Fatalf("%s: action.yml: %v", name, err)
	}
	if action.Runs.Using != "composite" {
		t.Fatalf("%s: runs.using %q: only composite local actions are emulated", name, action.Runs.Using)
	}
	var log strings.Builder
	for i, st := range action.Runs.Steps {
		checkKeys(t, name+" step", st, "run", "shell", "name", "env")
		if st["shell"] != "bash" {
			t.Fatalf("%s step %d: shell %v: only bash is emulated", name, i, st["shell"])
		}
		script, err := j.scope.interpolate(str(st["run"]))
		if err != nil {
			t.Fatalf("%s step %d run: %v", name, i, err)
		}
		p := filepath.Join(j.temp, fmt.Sprintf("step_%d_%d.sh", j.stepSeq, i))
		if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", p)
		merged := map[string]any{}
		for k, v := range mapOf(t, step["env"], name+" env") {
			merged[k] = v
		}
		for k, v := range mapOf(t, st["env"], name+" step env") {
			merged[k] = v
		}
		log.WriteString(j.exec(name, cmd, j.stepEnv(map[string]any{"env": merged}, files, nil)))
	}
	return log.String()
}

// abs resolves a path input against the workspace, as actions do.
func (j *ghJob) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(j.ws, p)
}

// runAction runs the ppalm action (action.yml, node24 shim): the shim
// spawns the binary with the step's environment plus INPUT_* for every
// input, the step's with: values over action.yml's defaults.
func (j *ghJob) runAction(name string, step map[string]any, with, files map[string]string) string {
	t := j.t
	raw, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Required bool    `yaml:"required"`
			Default  *string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(raw, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "node24" {
		t.Fatalf("action.yml: runs.using %q, want node24", action.Runs.Using)
	}
	in := map[string]string{}
	for k, decl := range action.Inputs {
		if decl.Default != nil {
			in[k] = *decl.Default
		}
	}
	for k, v := range with {
		if _, ok := action.Inputs[k]; !ok {
			// The runner only warns ("Unexpected input(s)"); a template
			// must not pass an input ppalm would ignore.
			t.Fatalf("%s: input %q is not declared in action.yml", name, k)
		}
		in[k] = v
	}
	extra := map[string]string{}
	for k, v := range in {
		if action.Inputs[k].Required && v == "" {
			t.Fatalf("%s: required input %s is empty", name, k)
		}
		// GitHub's spelling: upper case, spaces to '_', '-' kept.
		extra["INPUT_"+strings.ToUpper(strings.ReplaceAll(k, " ", "_"))] = v
	}
	cmd := exec.Command(j.bin)
	log := j.exec(name, cmd, j.stepEnv(step, files, extra))
	if problems := checkGitHubLog(log, j.secrets); len(problems) > 0 {
		t.Fatalf("%s: log:\n%s\nproblems:\n%s", name, log, strings.Join(problems, "\n"))
	}
	return log
}

// exec runs a step's process in the workspace and fails the test when it
// fails.
func (j *ghJob) exec(name string, cmd *exec.Cmd, env []string) string {
	t := j.t
	cmd.Env, cmd.Dir = env, j.ws
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: %s", name, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("%s: wrote to stderr:\n%s", name, stderr.String())
	}
	return stdout.String()
}

// readFileCommands applies a step's file commands as the runner does after
// the step: outputs, env for later steps, PATH, the summary.
func (j *ghJob) readFileCommands(name string, files map[string]string) map[string]string {
	t := j.t
	read := func(f string) map[string]string {
		raw, err := os.ReadFile(files[f])
		if err != nil {
			t.Fatal(err)
		}
		kv, err := parseFileCommand(string(raw))
		if err != nil {
			t.Fatalf("%s: %s: %v", name, f, err)
		}
		return kv
	}
	for k, v := range read("GITHUB_ENV") {
		j.env[k] = v
	}
	if raw, err := os.ReadFile(files["GITHUB_PATH"]); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				j.path = append([]string{l}, j.path...)
			}
		}
	}
	summary, err := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	if len(summary) > 1<<20 {
		t.Errorf("%s: step summary of %d bytes: GitHub drops a summary over 1 MiB", name, len(summary))
	}
	for _, s := range j.secrets {
		if bytes.Contains(summary, []byte(s)) {
			t.Errorf("%s: the step summary shows a secret", name)
		}
	}
	j.summary.Write(summary)
	return read("GITHUB_OUTPUT")
}

// parseFileCommand reads $GITHUB_OUTPUT or $GITHUB_ENV: name=value lines
// and name<<DELIMITER heredocs, as the runner's FileCommandManager does.
func parseFileCommand(text string) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		if eq >= 0 && (heredoc < 0 || eq < heredoc) {
			if eq == 0 {
				return nil, fmt.Errorf("line %q: empty name", line)
			}
			out[line[:eq]] = line[eq+1:]
			continue
		}
		if heredoc <= 0 {
			return nil, fmt.Errorf("line %q: expected name=value or name<<DELIMITER", line)
		}
		key, delim := line[:heredoc], line[heredoc+2:]
		var lines []string
		closed := false
		for sc.Scan() {
			if sc.Text() == delim {
				closed = true
				break
			}
			lines = append(lines, sc.Text())
		}
		if !closed {
			return nil, fmt.Errorf("%s: delimiter %q not found before the end", key, delim)
		}
		out[key] = strings.Join(lines, "\n")
	}
	return out, sc.Err()
}

var (
	ghCommandRE = regexp.MustCompile(`^::([a-z-]+)(?: ([^:]*))?::(.*)$`)
	ghPropRE    = regexp.MustCompile(`^[A-Za-z]+=[^,:\r\n]*$`)
)

// checkGitHubLog checks an action's stdout as the runner parses it:
// well-formed workflow commands of known kinds, groups balanced and never
// nested, no error or warning annotation in a clean run, no deprecated or
// command-stopping commands, and secrets only in ::add-mask::.
func checkGitHubLog(log string, secrets []string) []string {
	var problems []string
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	depth := 0
	for i, l := range lines {
		if strings.Contains(l, "\r") {
			problems = append(problems, fmt.Sprintf("line %d holds a CR", i+1))
		}
		for _, s := range secrets {
			if strings.Contains(l, s) && !strings.HasPrefix(l, "::add-mask::") {
				problems = append(problems, fmt.Sprintf("line %d shows a secret", i+1))
			}
		}
		// The runner trims the line before looking for a command, and
		// still reads the old ##[command] form.
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "##[") {
			problems = append(problems, fmt.Sprintf("line %d: %q is a workflow command in the old ##[...] form", i+1, l))
			continue
		}
		if !strings.HasPrefix(trimmed, "::") {
			continue
		}
		m := ghCommandRE.FindStringSubmatch(trimmed)
		if m == nil || trimmed != l {
			problems = append(problems, fmt.Sprintf("line %d: malformed or embedded workflow command %q", i+1, l))
			continue
		}
		if m[2] != "" {
			for _, p := range strings.Split(m[2], ",") {
				if !ghPropRE.MatchString(p) {
					problems = append(problems, fmt.Sprintf("line %d: property %q is not key=value with an escaped value", i+1, p))
				}
			}
		}
		switch m[1] {
		case "group":
			if depth > 0 {
				problems = append(problems, fmt.Sprintf("line %d: %q opens a group inside an open group", i+1, l))
			}
			depth++
		case "endgroup":
			if depth--; depth < 0 {
				problems = append(problems, fmt.Sprintf("line %d: ::endgroup:: without ::group::", i+1))
				depth = 0
			}
		case "add-mask", "debug", "notice":
		case "error", "warning":
			problems = append(problems, fmt.Sprintf("line %d: %s annotation in a clean run: %s", i+1, m[1], m[3]))
		default:
			// set-output, set-env, add-path, save-state are disabled or
			// deprecated; stop-commands would hide what follows.
			problems = append(problems, fmt.Sprintf("line %d: workflow command %s is not expected", i+1, m[1]))
		}
	}
	if depth != 0 {
		problems = append(problems, fmt.Sprintf("%d group(s) left open", depth))
	}
	return problems
}

// TestGitHubRunnerEmulation checks the runner emulation itself on a small
// job: outputs and env from the file commands reach later steps, a failing
// log check is caught, and an unknown action input fails.
func TestGitHubRunnerEmulation(t *testing.T) {
	for _, tt := range []struct {
		log  string
		want string // "" for a clean log
	}{
		{"::group::a\nx\n::endgroup::\n::group::b\n::endgroup::\n", ""},
		{"::group::a\n::group::b\n::endgroup::\n::endgroup::\n", "inside an open group"},
		{"::group::a\n", "left open"},
		{"::endgroup::\n", "without ::group::"},
		{"::add-mask::" + ghJobToken + "\nusing " + ghJobToken + "\n", "shows a secret"},
		{"::error file=a,b.json::x\n", "property"},
		{"::warning::x\n", "annotation"},
		{"::set-output name=a::b\n", "not expected"},
		{"value: ::error::injected\n", ""},
		{"  ::error::indented\n", "embedded"},
		{"##[group]old\n", "old"},
	} {
		problems := strings.Join(checkGitHubLog(tt.log, []string{ghJobToken}), "\n")
		if (tt.want == "") != (problems == "") || !strings.Contains(problems, tt.want) {
			t.Errorf("log %q: problems %q, want %q", tt.log, problems, tt.want)
		}
	}

	kv, err := parseFileCommand("a=1\nb<<EOF\nline 1\nline 2\nEOF\nc=x=y\n")
	if err != nil || kv["a"] != "1" || kv["b"] != "line 1\nline 2" || kv["c"] != "x=y" {
		t.Errorf("parseFileCommand = %v, %v", kv, err)
	}
	if _, err := parseFileCommand("b<<EOF\nno end\n"); err == nil {
		t.Error("an unterminated heredoc parsed")
	}

	// Step outputs and $GITHUB_ENV reach later steps.
	r := &ghRun{t: t, work: t.TempDir(), caller: "test.yml", ev: pushEvent("refs/heads/main", "0", 1),
		logs: map[string]string{}, outputs: map[string]map[string]string{}, summaries: map[string]string{}, artifacts: map[string]string{}}
	job := map[string]any{"steps": []any{
		map[string]any{"id": "a", "shell": "bash", "run": "echo 'x=from a' >> \"$GITHUB_OUTPUT\"\necho 'E=env' >> \"$GITHUB_ENV\"\necho '# sum' >> \"$GITHUB_STEP_SUMMARY\""},
		map[string]any{"shell": "bash", "run": "test \"${{ steps.a.outputs.x }}\" = 'from a' && test \"$E\" = env && test \"${{ env.E }}\" = env && test \"$GITHUB_ACTIONS\" = true"},
	}}
	r.runJob("test.yml", "j", job, "", ghStrict{}, map[string]any{}, nil, ghStrict{}, false)
	if r.outputs["j: run "+str(job["steps"].([]any)[0].(map[string]any)["run"])]["x"] != "from a" || !strings.Contains(r.summaries["j"], "# sum") {
		t.Errorf("outputs %v, summary %q", r.outputs, r.summaries["j"])
	}
}
