package cli

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops/devopstest"
)

func TestPRCreateAzureDevOpsFlags(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	args := []string{"pr", "create", "--source", "feature/contoso", "--target", "main", "--title", "Contoso", "--label", "solution-upgrade", "--work-item", "42",
		"--organization-url", s.OrganizationURL(), "--project", s.Project, "--repository", s.Repository, "--token", s.Token}
	out, errOut, code := runCLI(t, map[string]string{}, args...)
	link := s.OrganizationURL() + "Power%20Apps/_git/alm-repo/pullrequest/100\n"
	if code != 0 || out != link || !strings.Contains(errOut, "created pull request 100") {
		t.Fatalf("code %d, stdout %q, stderr %q; want link %q", code, out, errOut, link)
	}
	out, errOut, code = runCLI(t, map[string]string{}, args...)
	if code != 0 || out != link || !strings.Contains(errOut, "already open; nothing changed") {
		t.Errorf("second run: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := len(s.PullRequests()); n != 1 {
		t.Errorf("%d pull requests on the server; want 1", n)
	}
}

func TestPRCreateGitHubEnvAndBadToken(t *testing.T) {
	s := devopstest.NewGitHub(t)
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_API_URL": s.APIURL(), "GITHUB_REPOSITORY": s.Repository(), "GITHUB_TOKEN": s.Token}
	out, _, code := runCLI(t, env, "pr", "create", "--source", "f", "--target", "main", "--title", "t")
	if code != 0 || out != s.URL+"/contoso/alm-repo/pull/1\n" {
		t.Errorf("code %d, stdout %q", code, out)
	}
	out, errOut, code := runCLI(t, env, "pr", "create", "--source", "g", "--target", "main", "--title", "t", "--token", "ghp_badBadBad")
	if code != 1 || out != "" || !strings.Contains(errOut, "HTTP 401: Bad credentials") || strings.Contains(errOut, "ghp_badBadBad") {
		t.Errorf("bad token: code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestUpgradeRequestedCommand(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddPull(devopstest.GitHubPull{Number: 5, Head: "f", Base: "main", State: "closed", Merged: true, MergeCommitSHA: "abc123", Labels: []string{"solution-upgrade"}})
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_API_URL": s.APIURL(), "GITHUB_REPOSITORY": s.Repository(), "GITHUB_TOKEN": s.Token, "GITHUB_SHA": "abc123"}
	out, errOut, code := runCLI(t, env, "upgrade-requested")
	if code != 0 || out != "true\n" || !strings.Contains(errOut, "upgradeRequested=true") || !strings.Contains(errOut, "pull request #5 has label solution-upgrade") {
		t.Errorf("code %d, stdout %q, stderr %q", code, out, errOut)
	}
	env["TriggerSolutionUpgrade"] = "false"
	out, _, code = runCLI(t, env, "upgrade-requested")
	if code != 0 || out != "false\n" {
		t.Errorf("variable false: code %d, stdout %q", code, out)
	}
}

func TestHistoryCommand(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddCommit(devopstest.GitHubCommit{SHA: "aaaa", Message: "Contoso: add flow", Author: "Ada", Login: "ada", Date: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Paths: []string{"Contoso/x"}})
	env := map[string]string{"GITHUB_TOKEN": s.Token}
	out, errOut, code := runCLI(t, env, "history", "--solution", "Contoso", "--repository", s.Repository(), "--github-api-url", s.APIURL())
	want := "WHEN              KIND    STATUS     BY   WHAT               LINK\n" +
		"2024-05-01 09:30  commit  committed  ada  Contoso: add flow  " + s.URL + "/contoso/alm-repo/commit/aaaa\n"
	if code != 0 || out != want {
		t.Errorf("code %d, stderr %q, stdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	_, errOut, code = runCLI(t, env, "history", "--solution", "Contoso", "--limit", "0", "--repository", s.Repository(), "--github-api-url", s.APIURL())
	if code != 1 || !strings.Contains(errOut, "limit 0: expected a positive number") {
		t.Errorf("limit 0: code %d, stderr %q", code, errOut)
	}
}

// upgrade-requested keeps its answer alone on stdout while a wait before a
// retry is logged on stderr; a Retry-After past the cap fails at once,
// naming the host and the wait.
func TestRepoHostWaitsLoggedAndCapped(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddPull(devopstest.GitHubPull{Number: 5, Head: "f", Base: "main", State: "closed", Merged: true, MergeCommitSHA: "abc123", Labels: []string{"solution-upgrade"}})
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_API_URL": s.APIURL(), "GITHUB_REPOSITORY": s.Repository(), "GITHUB_TOKEN": s.Token, "GITHUB_SHA": "abc123"}
	s.FailNext(devopstest.Fault{PathSuffix: "/pulls", Status: 429, Header: http.Header{"Retry-After": {"1"}}})
	out, errOut, code := runCLI(t, env, "upgrade-requested")
	if code != 0 || out != "true\n" || !strings.Contains(errOut, "(status: 429): waiting 1s before trying again") {
		t.Errorf("code %d, stdout %q, stderr %q", code, out, errOut)
	}

	s.FailNext(devopstest.Fault{PathSuffix: "/pulls", Status: 403, Header: http.Header{"Retry-After": {"86400"}}, Body: `{"message":"You have exceeded a secondary rate limit."}`})
	start := time.Now()
	_, errOut, code = runCLI(t, env, "upgrade-requested")
	host := strings.TrimPrefix(s.URL, "http://")
	if code == 0 || !strings.Contains(errOut, "GitHub at "+host+" answered HTTP 403 asking to wait 24h0m0s") || time.Since(start) > 5*time.Second {
		t.Errorf("code %d after %v, stderr %q", code, time.Since(start), errOut)
	}
}
