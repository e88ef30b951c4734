package devops_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
)

// envMap turns a map into an environment lookup.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// noSleep records the waits the retry policy chose and waits 0.
type noSleep struct{ waits []time.Duration }

func (n *noSleep) option() devops.Option {
	return devops.WithRetryWait(func(d time.Duration) time.Duration { n.waits = append(n.waits, d); return 0 })
}

func azureEnv(s *devopstest.AzureDevOps) map[string]string {
	return map[string]string{
		"TF_BUILD":                  "True",
		"SYSTEM_COLLECTIONURI":      s.OrganizationURL(),
		"SYSTEM_TEAMPROJECT":        s.Project,
		"BUILD_REPOSITORY_NAME":     s.Repository,
		"BUILD_REPOSITORY_PROVIDER": "TfsGit",
		"SYSTEM_ACCESSTOKEN":        s.Token,
	}
}

func countRequests(reqs []devopstest.Request, method, suffix string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestAzureUpgradeRequested(t *testing.T) {
	const mergeSHA = "9f3c2b1a0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
	tests := []struct {
		name    string
		labels  []string
		env     map[string]string
		want    bool
		because string
	}{
		{"PR build, label present", []string{"deploy", "Solution-Upgrade"}, map[string]string{"SYSTEM_PULLREQUEST_PULLREQUESTID": "100"}, true, "pull request 100 has label solution-upgrade"},
		{"PR build, label absent", []string{"deploy"}, map[string]string{"SYSTEM_PULLREQUEST_PULLREQUESTID": "100"}, false, "pull request 100 has no label"},
		{"CI build, PR found by merge commit", []string{"solution-upgrade"}, map[string]string{"BUILD_SOURCEVERSION": mergeSHA}, true, "pull request 100 has label"},
		{"CI build, no PR for commit", []string{"solution-upgrade"}, map[string]string{"BUILD_SOURCEVERSION": "0000000000000000000000000000000000000001"}, false, "no pull request has merge commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := devopstest.NewAzureDevOps(t)
			s.AddPullRequest(devopstest.AzurePullRequest{ID: 100, Source: "refs/heads/feature/contoso", Target: "refs/heads/main", Title: "Contoso", Status: "completed", Labels: tt.labels, MergeCommit: mergeSHA})
			env := azureEnv(s)
			for k, v := range tt.env {
				env[k] = v
			}
			got, reason, err := devops.UpgradeRequested(context.Background(), envMap(env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !strings.Contains(reason, tt.because) {
				t.Errorf("UpgradeRequested = %v, %q; want %v, reason containing %q", got, reason, tt.want, tt.because)
			}
			reqs := s.Requests()
			// The SDK's own first calls: the route table, then the resource areas.
			if len(reqs) < 2 || reqs[0].Method != http.MethodOptions || reqs[0].Path != "/contoso/_apis" || reqs[1].Path != "/contoso/_apis/ResourceAreas" {
				t.Errorf("first requests = %+v; want OPTIONS /contoso/_apis then GET /contoso/_apis/ResourceAreas", reqs[:min(2, len(reqs))])
			}
			for _, r := range reqs[2:] {
				if !strings.Contains(r.Accept, "api-version=7.1-preview.1") {
					t.Errorf("%s %s sent Accept %q; want a negotiated api-version", r.Method, r.Path, r.Accept)
				}
			}
			if _, ok := tt.env["BUILD_SOURCEVERSION"]; ok {
				if countRequests(reqs, http.MethodPost, "/pullRequestQuery") != 1 {
					t.Errorf("want one pullRequestQuery, got requests %+v", reqs)
				}
			}
		})
	}
}

func TestUpgradeVariableWins(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	s.AddPullRequest(devopstest.AzurePullRequest{ID: 100, Source: "refs/heads/a", Target: "refs/heads/main", Labels: []string{"solution-upgrade"}})
	for _, tt := range []struct {
		name, value string
		want        bool
	}{{"TRIGGERSOLUTIONUPGRADE", "False", false}, {"TriggerSolutionUpgrade", "TRUE", true}} {
		env := azureEnv(s)
		env["SYSTEM_PULLREQUEST_PULLREQUESTID"] = "100"
		env[tt.name] = tt.value
		got, reason, err := devops.UpgradeRequested(context.Background(), envMap(env))
		if err != nil || got != tt.want || !strings.Contains(reason, "TriggerSolutionUpgrade") {
			t.Errorf("%s=%s: got %v, %q, %v; want %v from the variable", tt.name, tt.value, got, reason, err, tt.want)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("the variable decided, but %d requests reached the server", n)
	}
	env := azureEnv(s)
	env["TRIGGERSOLUTIONUPGRADE"] = "yes"
	if _, _, err := devops.UpgradeRequested(context.Background(), envMap(env)); err == nil || !strings.Contains(err.Error(), `TRIGGERSOLUTIONUPGRADE is "yes": expected true or false`) {
		t.Errorf("invalid variable: err = %v", err)
	}
	// An undefined variable mapped into env: stays a macro and means "not set".
	env["TRIGGERSOLUTIONUPGRADE"] = "$(TriggerSolutionUpgrade)"
	env["SYSTEM_PULLREQUEST_PULLREQUESTID"] = "100"
	if got, _, err := devops.UpgradeRequested(context.Background(), envMap(env)); err != nil || !got {
		t.Errorf("macro value: got %v, %v; want the label to decide (true)", got, err)
	}
}

func newAzureClient(t *testing.T, s *devopstest.AzureDevOps, opts ...devops.Option) *devops.Client {
	t.Helper()
	c, err := devops.New(context.Background(), devops.ConfigFromEnv(envMap(azureEnv(s))), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAzureEnsurePullRequest(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	c := newAzureClient(t, s)
	want := devops.NewPullRequest{SourceBranch: "refs/heads/feature/contoso", TargetBranch: "main", Title: "Contoso 1.2", Description: "Exported by ppalm", Labels: []string{"solution-upgrade"}, WorkItems: []int{42}}
	pr, created, err := c.EnsurePullRequest(context.Background(), want)
	if err != nil {
		t.Fatal(err)
	}
	wantURL := s.OrganizationURL() + "Power%20Apps/_git/alm-repo/pullrequest/100"
	if !created || pr.ID != 100 || pr.WebURL != wantURL || pr.SourceBranch != "feature/contoso" {
		t.Errorf("first call: %+v created=%v; want created #100 at %s", pr, created, wantURL)
	}
	stored := s.PullRequests()
	if len(stored) != 1 || stored[0].Source != "refs/heads/feature/contoso" || stored[0].Target != "refs/heads/main" ||
		strings.Join(stored[0].Labels, ",") != "solution-upgrade" || strings.Join(stored[0].WorkItemRefs, ",") != "42" || stored[0].Description != "Exported by ppalm" {
		t.Errorf("server holds %+v", stored)
	}
	again, created, err := c.EnsurePullRequest(context.Background(), want)
	if err != nil || created || again.ID != 100 || again.WebURL != wantURL {
		t.Errorf("second call: %+v created=%v err=%v; want the existing #100", again, created, err)
	}
	if n := countRequests(s.Requests(), http.MethodPost, "/pullRequests"); n != 1 {
		t.Errorf("%d create requests; want 1", n)
	}
}

func TestAzureEnsurePullRequestRace(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	s.AddPullRequest(devopstest.AzurePullRequest{Source: "refs/heads/b", Target: "refs/heads/main", Title: "theirs"})
	c := newAzureClient(t, s)
	// The search misses it (opened a moment later); the create gets TF401179.
	s.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/pullRequests", Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"count":0,"value":[]}`})
	pr, created, err := c.EnsurePullRequest(context.Background(), devops.NewPullRequest{SourceBranch: "b", TargetBranch: "main", Title: "ours"})
	if err != nil || created || pr.Title != "theirs" {
		t.Errorf("got %+v created=%v err=%v; want the existing pull request", pr, created, err)
	}
}

func TestAzureDescriptionTooLong(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	c := newAzureClient(t, s)
	_, _, err := c.EnsurePullRequest(context.Background(), devops.NewPullRequest{SourceBranch: "b", TargetBranch: "main", Title: "t", Description: strings.Repeat("x", 4001)})
	if err == nil || !strings.Contains(err.Error(), "description is 4001 characters") {
		t.Errorf("err = %v", err)
	}
}

func TestAzureHistory(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	s.AddBuild(devopstest.AzureBuild{ID: 1, Number: "20240501.1", DefinitionID: 7, Definition: "deploy-test-Contoso", Status: "completed", Result: "succeeded", Branch: "refs/heads/main", RequestedFor: "Ada Maker", Queued: t0, Finished: t0.Add(3 * time.Minute)})
	s.AddBuild(devopstest.AzureBuild{ID: 2, Number: "20240502.1", DefinitionID: 3, Definition: "export-solution-to-git", Status: "completed", Result: "failed", RequestedFor: "Ada Maker", TemplateParameters: map[string]string{"SolutionName": "Contoso", "Branch": "main"}, Queued: t0.Add(24 * time.Hour), Finished: t0.Add(25 * time.Hour)})
	s.AddBuild(devopstest.AzureBuild{ID: 3, Number: "20240503.1", DefinitionID: 3, Definition: "export-solution-to-git", Status: "completed", Result: "succeeded", TemplateParameters: map[string]string{"SolutionName": "Fabrikam"}, Queued: t0.Add(48 * time.Hour), Finished: t0.Add(49 * time.Hour)})
	s.AddBuild(devopstest.AzureBuild{ID: 4, Number: "20240504.1", DefinitionID: 9, Definition: "ci", Status: "inProgress", Tags: []string{"contoso"}, RequestedFor: "Bo", Queued: t0.Add(72 * time.Hour)})
	s.AddCommit(devopstest.AzureCommit{ID: "c0ffee0000000000000000000000000000000001", Author: "Ada Maker", Date: t0.Add(25*time.Hour + 30*time.Minute), Message: "Contoso: new table\n\nbody", Paths: []string{"/Contoso/SolutionPackage/src/Other/Solution.xml"}})
	s.AddCommit(devopstest.AzureCommit{ID: "c0ffee0000000000000000000000000000000002", Author: "Bo", Date: t0.Add(26 * time.Hour), Message: "Fabrikam", Paths: []string{"/Fabrikam/x.xml"}})
	c := newAzureClient(t, s)
	got, err := c.History(context.Background(), "Contoso", 10)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range got {
		lines = append(lines, e.Kind+"|"+e.Title+"|"+e.Status+"|"+e.By+"|"+e.When.Format(time.RFC3339))
	}
	want := []string{
		"run|ci 20240504.1|inProgress|Bo|2024-05-04T08:00:20Z",
		"commit|Contoso: new table|committed|Ada Maker|2024-05-02T09:30:00Z",
		"run|export-solution-to-git 20240502.1|failed|Ada Maker|2024-05-02T09:00:00Z",
		"run|deploy-test-Contoso 20240501.1|succeeded|Ada Maker|2024-05-01T08:03:00Z",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got[0].Link != s.OrganizationURL()+"Power%20Apps/_build/results?buildId=4" || !strings.HasSuffix(got[1].Link, "/_git/alm-repo/commit/c0ffee0000000000000000000000000000000001") {
		t.Errorf("links: %q, %q", got[0].Link, got[1].Link)
	}
	if short, err := c.History(context.Background(), "Contoso", 2); err != nil || len(short) != 2 {
		t.Errorf("limit 2: %d entries, %v", len(short), err)
	}
	// A solution never committed: no folder (404 on commits) is not an error.
	if none, err := c.History(context.Background(), "Nobody", 5); err != nil || len(none) != 0 {
		t.Errorf("unknown solution: %+v, %v", none, err)
	}
}

func TestAzureUnauthorized(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	cfg := devops.ConfigFromEnv(envMap(azureEnv(s)))
	cfg.Token = "wrong-token-value"
	_, err := devops.New(context.Background(), cfg)
	var api *devops.APIError
	if !errors.As(err, &api) || api.StatusCode != 401 {
		t.Fatalf("err = %v; want *APIError 401", err)
	}
	msg := err.Error()
	for _, want := range []string{"Azure DevOps", "HTTP 401", "TF400813", "SYSTEM_ACCESSTOKEN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "wrong-token-value") {
		t.Errorf("error shows the token: %q", msg)
	}
}

func TestAzureRetriesTooManyRequests(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	s.AddPullRequest(devopstest.AzurePullRequest{ID: 100, Source: "refs/heads/b", Target: "refs/heads/main", Labels: []string{"solution-upgrade"}})
	s.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/labels", Status: 429, Header: http.Header{"Retry-After": {"7"}, "X-RateLimit-Resource": {"core"}}})
	s.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/labels", Status: 503, Header: http.Header{"Retry-After": {"2"}}})
	var ns noSleep
	env := azureEnv(s)
	env["SYSTEM_PULLREQUEST_PULLREQUESTID"] = "100"
	got, _, err := devops.UpgradeRequested(context.Background(), envMap(env), ns.option())
	if err != nil || !got {
		t.Fatalf("got %v, %v; want true after retries", got, err)
	}
	if len(ns.waits) != 2 || ns.waits[0] != 7*time.Second || ns.waits[1] != 2*time.Second {
		t.Errorf("waits = %v; want [7s 2s] from Retry-After", ns.waits)
	}
	if n := countRequests(s.Requests(), http.MethodGet, "/labels"); n != 3 {
		t.Errorf("%d label requests; want 3", n)
	}
}

func TestAzureCreateNotRepeatedAfterServerError(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	var ns noSleep
	c := newAzureClient(t, s, ns.option())
	s.FailNext(devopstest.Fault{Method: http.MethodPost, PathSuffix: "/pullRequests", Status: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"message":"TF246017: database unavailable"}`})
	_, _, err := c.EnsurePullRequest(context.Background(), devops.NewPullRequest{SourceBranch: "b", TargetBranch: "main", Title: "t"})
	if err == nil || !strings.Contains(err.Error(), "TF246017") {
		t.Errorf("err = %v; want the server's message", err)
	}
	if n := countRequests(s.Requests(), http.MethodPost, "/pullRequests"); n != 1 {
		t.Errorf("create sent %d times; a create must not be repeated after a 5xx", n)
	}
}
