package devops_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
)

func exportWorkflow() devopstest.GitHubWorkflow {
	return devopstest.GitHubWorkflow{File: "export.yml", Name: "Export solution", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
		"solution-name": {Required: true}, "commit-message": {Required: true}, "branch": {Default: "main"}}}
}

func TestGitHubQueueRunAndItsState(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddWorkflow(exportWorkflow())
	c := newGitHubClient(t, s)
	ctx := context.Background()

	run, err := c.QueueRun(ctx, "export.yml", "refs/heads/main", map[string]string{"solution-name": "Contoso", "commit-message": "Fix #1", "branch": "Contoso"})
	if err != nil {
		t.Fatal(err)
	}
	ds := s.Dispatches()
	if len(ds) != 1 || ds[0].Ref != "main" || ds[0].Inputs["solution-name"] != "Contoso" || ds[0].Inputs["branch"] != "Contoso" {
		t.Fatalf("dispatches: %+v", ds)
	}
	if run.ID != ds[0].RunID || !strings.HasSuffix(run.Link, fmt.Sprintf("/contoso/alm-repo/actions/runs/%d", run.ID)) {
		t.Fatalf("run %+v, dispatch %+v", run, ds[0])
	}
	st, err := c.RunState(ctx, run)
	if err != nil || st.Status != "queued" || st.Done {
		t.Fatalf("state %+v, %v", st, err)
	}
	s.SetRun(run.ID, "waiting", "")
	if st, _ = c.RunState(ctx, run); st.Status != "waiting" || st.Done {
		t.Fatalf("waiting: %+v", st)
	}
	s.SetRun(run.ID, "completed", "failure")
	if st, _ = c.RunState(ctx, run); st.Status != "failed" || !st.Done || st.Link != run.Link {
		t.Fatalf("failed: %+v", st)
	}
}

// TestGitHubQueueRunRefusals: what GitHub refuses is a failed QueueRun that
// names the cause, and nothing runs.
func TestGitHubQueueRunRefusals(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddWorkflow(exportWorkflow())
	s.AddWorkflow(devopstest.GitHubWorkflow{File: "deploy.yml", Name: "Deploy Contoso"}) // push trigger only
	c := newGitHubClient(t, s)
	ctx := context.Background()
	for _, tt := range []struct {
		name, workflow string
		params         map[string]string
		want           string
	}{
		{"unknown workflow", "missing.yml", nil, "missing.yml does not exist"},
		{"no workflow_dispatch trigger", "deploy.yml", nil, "Workflow does not have 'workflow_dispatch' trigger"},
		{"undeclared input", "export.yml", map[string]string{"solution-name": "C", "commit-message": "m", "environment": "test"}, `Unexpected inputs provided: ["environment"]`},
		{"required input left out", "export.yml", map[string]string{"solution-name": "C"}, "Required input 'commit-message' not provided"},
	} {
		if _, err := c.QueueRun(ctx, tt.workflow, "main", tt.params); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "HTTP 4") {
			t.Errorf("%s: err = %v; want %q", tt.name, err, tt.want)
		}
	}
	if len(s.Dispatches()) != 0 || len(s.Runs()) != 0 {
		t.Fatalf("a refused dispatch started a run: %+v", s.Runs())
	}
	sent := len(s.Requests())
	many := map[string]string{}
	for i := range 26 {
		many[fmt.Sprint("p", i)] = "x"
	}
	if _, err := c.QueueRun(ctx, "export.yml", "main", many); err == nil || !strings.Contains(err.Error(), "at most 25") {
		t.Fatalf("26 inputs: %v", err)
	}
	if _, err := c.QueueRun(ctx, "", "main", nil); err == nil {
		t.Fatal("no pipeline accepted")
	}
	if len(s.Requests()) != sent {
		t.Fatal("a run refused before sending was sent")
	}
}

// TestGitHubEnterpriseWithoutRunDetails: a server that refuses
// return_run_details gets the classic dispatch, and the link is the
// workflow's runs.
func TestGitHubEnterpriseWithoutRunDetails(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.WithoutRunDetails = true
	s.AddWorkflow(exportWorkflow())
	c := newGitHubClient(t, s)
	run, err := c.QueueRun(context.Background(), "export.yml", "main", map[string]string{"solution-name": "C", "commit-message": "m"})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != 0 || !strings.HasSuffix(run.Link, "/contoso/alm-repo/actions/workflows/export.yml") || len(s.Dispatches()) != 1 {
		t.Fatalf("run %+v, dispatches %+v", run, s.Dispatches())
	}
	if _, err := c.RunState(context.Background(), run); err == nil || !strings.Contains(err.Error(), "no run id") {
		t.Fatalf("state without id: %v", err)
	}
}

func TestGitHubPullRequestState(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddPull(devopstest.GitHubPull{Head: "Contoso", Base: "main", Title: "Deploy", Labels: []string{"solution-upgrade"}})
	c := newGitHubClient(t, s)
	pr, err := c.PullRequest(context.Background(), 1)
	if err != nil || pr.State != "open" || pr.Labels[0] != "solution-upgrade" {
		t.Fatalf("%+v, %v", pr, err)
	}
	s.MergePull(1)
	if pr, _ = c.PullRequest(context.Background(), 1); pr.State != "merged" {
		t.Fatalf("merged: %+v", pr)
	}
	if _, err := c.PullRequest(context.Background(), 7); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing: %v", err)
	}
}

func exportPipeline(s *devopstest.AzureDevOps) {
	s.AddPipeline(devopstest.AzurePipeline{ID: 12, Name: "export-solution-to-git", Folder: `\ALM`, Parameters: []devopstest.AzureParameter{
		{Name: "solutionName", Required: true}, {Name: "commitMessage"}, {Name: "branch"}}})
	s.AddPipeline(devopstest.AzurePipeline{ID: 13, Name: "deploy-prod"})
}

func TestAzureQueueRunAndItsState(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	exportPipeline(s)
	c := newAzureClient(t, s)
	ctx := context.Background()

	run, err := c.QueueRun(ctx, `ALM\export-solution-to-git`, "Contoso", map[string]string{"solutionName": "Contoso", "commitMessage": "Fix #1", "branch": "Contoso"})
	if err != nil {
		t.Fatal(err)
	}
	bs := s.Builds()
	if len(bs) != 1 || bs[0].DefinitionID != 12 || bs[0].Branch != "refs/heads/Contoso" || bs[0].TemplateParameters["commitMessage"] != "Fix #1" {
		t.Fatalf("runs: %+v", bs)
	}
	if run.ID != int64(bs[0].ID) || run.PipelineID != 12 || !strings.HasSuffix(run.Link, fmt.Sprintf("/Power%%20Apps/_build/results?buildId=%d", bs[0].ID)) {
		t.Fatalf("run %+v", run)
	}
	var runPosts int
	for _, r := range s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/_apis/pipelines/12/runs") {
			runPosts++
			if !strings.Contains(r.Accept, "api-version=7.1") {
				t.Errorf("Accept %q", r.Accept)
			}
		}
	}
	if runPosts != 1 {
		t.Fatalf("%d run requests", runPosts)
	}
	st, err := c.RunState(ctx, run)
	if err != nil || st.Status != "running" || st.Done {
		t.Fatalf("state %+v, %v", st, err)
	}
	s.SetRun(int(run.ID), "completed", "succeeded")
	if st, _ = c.RunState(ctx, run); st.Status != "succeeded" || !st.Done || st.When.IsZero() {
		t.Fatalf("completed: %+v", st)
	}
	// By id too.
	if _, err := c.QueueRun(ctx, "13", "main", nil); err != nil {
		t.Fatal(err)
	}
}

func TestAzureQueueRunRefusals(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	exportPipeline(s)
	c := newAzureClient(t, s)
	ctx := context.Background()
	for _, tt := range []struct {
		name, pipeline string
		params         map[string]string
		want           string
	}{
		{"undeclared parameter", "export-solution-to-git", map[string]string{"solutionName": "C", "solution-name": "C"}, "Unexpected parameter 'solution-name'"},
		{"required parameter left out", "export-solution-to-git", map[string]string{"branch": "C"}, "A value for the 'solutionName' parameter must be provided."},
		{"unknown pipeline", "export.yml", nil, `pipeline "export.yml" does not exist in project Power Apps (pipelines there: ALM\export-solution-to-git, deploy-prod)`},
	} {
		if _, err := c.QueueRun(ctx, tt.pipeline, "main", tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want %q", tt.name, err, tt.want)
		}
	}
	if bs := s.Builds(); len(bs) != 0 {
		t.Fatalf("a refused run started: %+v", bs)
	}
}

// TestAzureBearerToken: a maker's Entra token goes as Bearer, not as a PAT.
func TestAzureBearerToken(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	s.EntraToken = "eyJ0eXAiOiJKV1QifQ.eyJ1cG4iOiJhbGV4In0.sig"
	exportPipeline(s)
	cfg := devops.Config{Host: devops.HostAzureDevOps, OrganizationURL: s.OrganizationURL(), Project: s.Project, Repository: s.Repository, Token: s.EntraToken}
	if _, err := devops.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Entra token as a PAT: %v", err)
	}
	cfg.Bearer = true
	c, err := devops.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueueRun(context.Background(), "deploy-prod", "main", nil); err != nil {
		t.Fatal(err)
	}
}

func TestAzurePullRequestState(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	s.AddPullRequest(devopstest.AzurePullRequest{ID: 100, Source: "refs/heads/Contoso", Target: "refs/heads/main", Title: "Deploy", Labels: []string{"solution-upgrade"}})
	c := newAzureClient(t, s)
	pr, err := c.PullRequest(context.Background(), 100)
	if err != nil || pr.State != "open" || pr.Labels[0] != "solution-upgrade" || !strings.HasSuffix(pr.WebURL, "/pullrequest/100") {
		t.Fatalf("%+v, %v", pr, err)
	}
	s.CompletePullRequest(100)
	if pr, _ = c.PullRequest(context.Background(), 100); pr.State != "merged" {
		t.Fatalf("completed: %+v", pr)
	}
}
