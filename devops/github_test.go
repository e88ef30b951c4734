package devops_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
)

func githubEnv(s *devopstest.GitHub) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_API_URL":    s.APIURL(),
		"GITHUB_REPOSITORY": s.Repository(),
		"GITHUB_TOKEN":      s.Token,
	}
}

func writeEvent(t *testing.T, json string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGitHubUpgradeRequested(t *testing.T) {
	const sha = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	tests := []struct {
		name    string
		event   string // "" = no event file
		pull    devopstest.GitHubPull
		want    bool
		because string
	}{
		{"event PR labelled", `{"action":"labeled","number":7,"pull_request":{"number":7,"labels":[{"id":1,"name":"solution-upgrade"}]}}`, devopstest.GitHubPull{}, true, "pull request #7 of the event has label"},
		{"event PR not labelled", `{"action":"opened","pull_request":{"number":7,"labels":[{"name":"deploy"}]}}`, devopstest.GitHubPull{}, false, "pull request #7 of the event has no label"},
		{"push, merged PR labelled", `{"ref":"refs/heads/main","after":"` + sha + `"}`, devopstest.GitHubPull{Number: 3, Head: "f", Base: "main", State: "closed", Merged: true, MergeCommitSHA: sha, Labels: []string{"solution-upgrade"}}, true, "pull request #3 has label"},
		{"push, merged PR not labelled", "", devopstest.GitHubPull{Number: 3, Head: "f", Base: "main", State: "closed", Merged: true, MergeCommitSHA: sha}, false, "pull request #3 has no label"},
		{"push, no PR", "", devopstest.GitHubPull{Number: 3, Head: "f", Base: "main", MergeCommitSHA: "other"}, false, "no pull request contains commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := devopstest.NewGitHub(t)
			if tt.pull.Number != 0 {
				s.AddPull(tt.pull)
			}
			env := githubEnv(s)
			env["GITHUB_SHA"] = sha
			if tt.event != "" {
				env["GITHUB_EVENT_PATH"] = writeEvent(t, tt.event)
			}
			got, reason, err := devops.UpgradeRequested(context.Background(), envMap(env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !strings.Contains(reason, tt.because) {
				t.Errorf("got %v, %q; want %v, reason containing %q", got, reason, tt.want, tt.because)
			}
			fromEvent := strings.Contains(tt.event, "pull_request")
			if n := len(s.Requests()); fromEvent != (n == 0) {
				t.Errorf("%d requests; the event's own labels should decide without calling GitHub", n)
			}
		})
	}
}

func TestGitHubBadEventFile(t *testing.T) {
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": writeEvent(t, "{not json")}
	_, _, err := devops.UpgradeRequested(context.Background(), envMap(env))
	if err == nil || !strings.Contains(err.Error(), "event.json") {
		t.Errorf("err = %v; want one naming the event file", err)
	}
}

func newGitHubClient(t *testing.T, s *devopstest.GitHub, opts ...devops.Option) *devops.Client {
	t.Helper()
	c, err := devops.New(context.Background(), devops.ConfigFromEnv(envMap(githubEnv(s))), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGitHubEnsurePullRequest(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s)
	in := devops.NewPullRequest{SourceBranch: "refs/heads/feature/contoso", TargetBranch: "main", Title: "Contoso 1.2", Description: "Exported by ppalm", Labels: []string{"solution-upgrade"}, WorkItems: []int{42}}
	pr, created, err := c.EnsurePullRequest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !created || pr.ID != 1 || pr.WebURL != s.URL+"/contoso/alm-repo/pull/1" || strings.Join(pr.Labels, ",") != "solution-upgrade" {
		t.Errorf("created %+v, %v", pr, created)
	}
	stored := s.Pulls()
	if len(stored) != 1 || stored[0].Head != "feature/contoso" || stored[0].Body != "Exported by ppalm\n\nAB#42" {
		t.Errorf("server holds %+v", stored)
	}
	again, created, err := c.EnsurePullRequest(context.Background(), in)
	if err != nil || created || again.ID != 1 {
		t.Errorf("second call %+v, %v, %v; want existing #1", again, created, err)
	}
	// Lost race: the list misses it, the create answers 422 "already exists".
	s.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/pulls", Status: 200, Body: "[]"})
	raced, created, err := c.EnsurePullRequest(context.Background(), in)
	if err != nil || created || raced.ID != 1 {
		t.Errorf("race: %+v, %v, %v; want existing #1", raced, created, err)
	}
}

func TestGitHubHistory(t *testing.T) {
	s := devopstest.NewGitHub(t)
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	s.AddRun(devopstest.GitHubRun{ID: 11, Name: "export-solution-to-git", DisplayTitle: "Export Contoso by ada", RunNumber: 4, Branch: "main", Status: "completed", Conclusion: "success", Actor: "ada", Updated: t0})
	s.AddRun(devopstest.GitHubRun{ID: 12, Name: "deploy", DisplayTitle: "deploy", RunNumber: 9, Branch: "solution/Contoso", Status: "in_progress", Actor: "bo", Updated: t0.Add(2 * time.Hour)})
	s.AddRun(devopstest.GitHubRun{ID: 13, Name: "export-solution-to-git", DisplayTitle: "Export Fabrikam", RunNumber: 5, Branch: "main", Status: "completed", Conclusion: "failure", Actor: "cy", Updated: t0.Add(3 * time.Hour)})
	s.AddCommit(devopstest.GitHubCommit{SHA: "aaaa", Message: "Contoso: add flow\n\nmore", Author: "Ada Lovelace", Login: "ada", Date: t0.Add(time.Hour), Paths: []string{"Contoso/src/Workflows/x.json"}})
	s.AddCommit(devopstest.GitHubCommit{SHA: "bbbb", Message: "Fabrikam", Author: "Cy", Date: t0.Add(4 * time.Hour), Paths: []string{"Fabrikam/a"}})
	c := newGitHubClient(t, s)
	got, err := c.History(context.Background(), "Contoso", 10)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range got {
		lines = append(lines, e.Kind+"|"+e.Title+"|"+e.Status+"|"+e.By+"|"+e.Link)
	}
	want := []string{
		"run|deploy #9|in_progress|bo|" + s.URL + "/contoso/alm-repo/actions/runs/12",
		"commit|Contoso: add flow|committed|ada|" + s.URL + "/contoso/alm-repo/commit/aaaa",
		"run|export-solution-to-git #4: Export Contoso by ada|success|ada|" + s.URL + "/contoso/alm-repo/actions/runs/11",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestGitHubUnauthorized(t *testing.T) {
	s := devopstest.NewGitHub(t)
	cfg := devops.ConfigFromEnv(envMap(githubEnv(s)))
	cfg.Token = "ghp_wrongTokenValue"
	c, err := devops.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.History(context.Background(), "Contoso", 5)
	var api *devops.APIError
	if !errors.As(err, &api) || api.StatusCode != 401 {
		t.Fatalf("err = %v; want *APIError 401", err)
	}
	for _, want := range []string{"GitHub GET", "HTTP 401: Bad credentials", "GITHUB_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "ghp_wrongTokenValue") {
		t.Errorf("error shows the token")
	}
}

func TestGitHubRetriesRateLimits(t *testing.T) {
	s := devopstest.NewGitHub(t)
	// GitHub's primary limit is a 429; its secondary limit a 403 with Retry-After.
	s.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 429, Header: http.Header{"Retry-After": {"3"}}})
	s.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 403, Header: http.Header{"Retry-After": {"60"}}, Body: `{"message":"You have exceeded a secondary rate limit."}`})
	var ns noSleep
	c := newGitHubClient(t, s, ns.option())
	if _, err := c.History(context.Background(), "Contoso", 5); err != nil {
		t.Fatal(err)
	}
	if len(ns.waits) != 2 || ns.waits[0] != 3*time.Second || ns.waits[1] != time.Minute {
		t.Errorf("waits = %v; want [3s 1m0s]", ns.waits)
	}
}

func TestGitHubGivesUpWithServerMessage(t *testing.T) {
	s := devopstest.NewGitHub(t)
	for range 3 {
		s.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 429, Header: http.Header{"Retry-After": {"1"}}, Body: `{"message":"API rate limit exceeded"}`})
	}
	var ns noSleep
	c := newGitHubClient(t, s, ns.option(), devops.WithRetries(2))
	_, err := c.History(context.Background(), "Contoso", 5)
	if err == nil || !strings.Contains(err.Error(), "HTTP 429: API rate limit exceeded") {
		t.Errorf("err = %v", err)
	}
	if len(ns.waits) != 2 {
		t.Errorf("waited %d times; want 2 (WithRetries(2))", len(ns.waits))
	}
}

func TestConfigResolveErrors(t *testing.T) {
	tests := []struct {
		cfg  devops.Config
		want string
	}{
		{devops.Config{}, "no repository host"},
		{devops.Config{Host: devops.HostAzureDevOps, OrganizationURL: "https://dev.azure.com/x/"}, "missing project (SYSTEM_TEAMPROJECT or --project), repository (BUILD_REPOSITORY_NAME or --repository), token"},
		{devops.Config{OrganizationURL: "dev.azure.com/x", Project: "p", Repository: "r", Token: "t"}, `organization URL "dev.azure.com/x": expected an absolute http(s) URL`},
		{devops.Config{Host: devops.HostGitHub, Repository: "just-a-name", Token: "t"}, `github repository "just-a-name": expected owner/name`},
		{devops.Config{Repository: "o/r"}, "github connection: missing token (GITHUB_TOKEN or --token)"},
	}
	for _, tt := range tests {
		_, err := tt.cfg.Resolve()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Resolve(%+v) = %v; want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestLoadConfigChoosesHost(t *testing.T) {
	env := envMap(map[string]string{"GITHUB_TOKEN": "gh", "SYSTEM_ACCESSTOKEN": "ado", "TF_BUILD": "True", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/x/", "SYSTEM_TEAMPROJECT": "P", "BUILD_REPOSITORY_NAME": "r"})
	if c := devops.LoadConfig(env, devops.Config{}); c.Host != devops.HostAzureDevOps || c.Token != "ado" || c.Repository != "r" {
		t.Errorf("on Azure DevOps: %+v", c)
	}
	// Flags for GitHub on an Azure DevOps agent: GitHub's variables fill the rest.
	if c := devops.LoadConfig(env, devops.Config{GitHubAPIURL: "https://ghe.example/api/v3", Repository: "o/r"}); c.Host != devops.HostGitHub || c.Token != "gh" || c.Repository != "o/r" {
		t.Errorf("github flags: %+v", c)
	}
	terminal := envMap(map[string]string{"GITHUB_TOKEN": "gh"})
	if c := devops.LoadConfig(terminal, devops.Config{Repository: "o/r"}); c.Host != devops.HostGitHub || c.Token != "gh" {
		t.Errorf("terminal: %+v", c)
	}
}
