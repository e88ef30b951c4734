package devops_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/httplog"
)

// The --verbose log sees each attempt of a call to the repository host and
// the wait the host asked for before the retry, without the token.
func TestRequestLogShowsAttemptsAndRetryAfter(t *testing.T) {
	s := devopstest.NewGitHub(t)
	var mu sync.Mutex
	var lines []string
	log := func(e httplog.Entry) { mu.Lock(); lines = append(lines, e.String()); mu.Unlock() }
	c := newGitHubClient(t, s, devops.WithRequestLog(log), devops.WithRetryWait(func(time.Duration) time.Duration { return 0 }))
	s.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/pulls", Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7"}}})
	if _, _, err := c.EnsurePullRequest(context.Background(), devops.NewPullRequest{SourceBranch: "f", TargetBranch: "main", Title: "t"}); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	pulls := s.APIURL() + "/repos/" + s.Repository() + "/pulls"
	for _, want := range []string{
		"HTTP GET " + pulls,
		": 429 Too Many Requests",
		"retry 1 after 429 in 0s (Retry-After)",
		"HTTP POST " + pulls + ": 201 Created",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, githubEnv(s)["GITHUB_TOKEN"]) {
		t.Errorf("log shows the token:\n%s", all)
	}
}
