package devops_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
)

// hungServer accepts connections on loopback and never answers.
func hungServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never read or written
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

var short = devops.WithDeadlines(devops.Deadlines{Call: 1500 * time.Millisecond, Attempt: 400 * time.Millisecond})

// A server that accepts and never answers fails each call in its deadline,
// retries included, naming the host: on GitHub and on Azure DevOps (whose
// client looks up resource areas first).
func TestHungServerFailsWithinTheCallDeadline(t *testing.T) {
	addr := hungServer(t)
	var ns noSleep
	gh := devops.Config{Host: devops.HostGitHub, GitHubAPIURL: "http://" + addr, Repository: "o/r", Token: "t"}
	ado := devops.Config{Host: devops.HostAzureDevOps, OrganizationURL: "http://" + addr + "/org/", Project: "p", Repository: "r", Token: "t"}
	for name, call := range map[string]func() error{
		"github history": func() error {
			c, err := devops.New(context.Background(), gh, short, ns.option())
			if err != nil {
				return err
			}
			_, err = c.History(context.Background(), "Contoso", 5)
			return err
		},
		"azure devops connect": func() error {
			_, err := devops.New(context.Background(), ado, short, ns.option())
			return err
		},
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		var de *devops.DeadlineError
		if !errors.As(err, &de) || de.Attempt || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "no answer within 1.5s") {
			t.Errorf("%s: err = %v; want a DeadlineError naming %s and the deadline", name, err, addr)
		}
		if took > 4*time.Second {
			t.Errorf("%s: took %v for a deadline of 1.5s", name, took)
		}
	}
}

// A write is not repeated once it may have reached the server: its one
// attempt fails in the attempt deadline, saying it was not retried.
func TestWriteNotRepeatedAfterItsAttemptTimesOut(t *testing.T) {
	var posts atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Write([]byte("[]"))
			return
		}
		posts.Add(1)
		<-release
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	var ns noSleep
	c, err := devops.New(context.Background(), devops.Config{Host: devops.HostGitHub, GitHubAPIURL: srv.URL, Repository: "o/r", Token: "t"}, short, ns.option())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.EnsurePullRequest(context.Background(), devops.NewPullRequest{SourceBranch: "b", TargetBranch: "main", Title: "t"})
	var de *devops.DeadlineError
	if !errors.As(err, &de) || !de.Attempt || !strings.Contains(err.Error(), "not retried") {
		t.Errorf("err = %v; want the attempt's deadline, not retried", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the pull request was sent %d times; a create must not be repeated", n)
	}
}

// Retry-After: 86400 fails the call at once, naming the host and the wait,
// instead of sleeping (the old policy slept 5 minutes, four times).
func TestRetryAfterPastTheCapFailsAtOnce(t *testing.T) {
	gh := devopstest.NewGitHub(t)
	gh.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 429, Header: http.Header{"Retry-After": {"86400"}}, Body: `{"message":"API rate limit exceeded"}`})
	var ns noSleep
	_, err := newGitHubClient(t, gh, ns.option()).History(context.Background(), "Contoso", 5)
	host := strings.TrimPrefix(gh.URL, "http://")
	if err == nil || !strings.Contains(err.Error(), "GitHub at "+host) || !strings.Contains(err.Error(), "wait 24h0m0s") || !strings.Contains(err.Error(), "1m0s ppalm waits") {
		t.Errorf("err = %v; want the host and the wait named", err)
	}
	if len(ns.waits) != 0 {
		t.Errorf("waited %v", ns.waits)
	}

	ado := devopstest.NewAzureDevOps(t)
	ado.AddPullRequest(devopstest.AzurePullRequest{ID: 100, Source: "refs/heads/b", Target: "refs/heads/main"})
	ado.FailNext(devopstest.Fault{Method: http.MethodGet, PathSuffix: "/labels", Status: 429, Header: http.Header{"Retry-After": {"86400"}}})
	env := azureEnv(ado)
	env["SYSTEM_PULLREQUEST_PULLREQUESTID"] = "100"
	ns = noSleep{}
	_, _, err = devops.UpgradeRequested(context.Background(), envMap(env), ns.option())
	if err == nil || !strings.Contains(err.Error(), "Azure DevOps at ") || !strings.Contains(err.Error(), "wait 24h0m0s") {
		t.Errorf("err = %v; want the host and the wait named", err)
	}
	if len(ns.waits) != 0 {
		t.Errorf("waited %v", ns.waits)
	}
	if n := countRequests(ado.Requests(), http.MethodGet, "/labels"); n != 1 {
		t.Errorf("%d label requests; want 1", n)
	}
}

// Every wait before a retry reaches the log: the request, the status and
// the wait.
func TestWaitsAreLogged(t *testing.T) {
	gh := devopstest.NewGitHub(t)
	gh.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 429, Header: http.Header{"Retry-After": {"3"}}})
	gh.FailNext(devopstest.Fault{PathSuffix: "/actions/runs", Status: 502})
	var lines []string
	// Waits a thousandth of what the policy chose, so the log shows it.
	shorter := devops.WithRetryWait(func(d time.Duration) time.Duration { return d / 1000 })
	c := newGitHubClient(t, gh, shorter, devops.WithLog(func(l string) { lines = append(lines, l) }))
	if _, err := c.History(context.Background(), "Contoso", 5); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "GitHub: GET "+gh.URL) || !strings.Contains(lines[0], "/actions/runs") ||
		!strings.Contains(lines[0], "status: 429") || !strings.Contains(lines[0], "waiting 3ms") || !strings.Contains(lines[1], "status: 502") {
		t.Errorf("log lines = %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, gh.Token) {
			t.Errorf("a log line shows the token: %q", l)
		}
	}
}

// A workflow dispatch answered by a 502 is not sent again: the workflow
// may already run.
func TestDispatchNotRepeated(t *testing.T) {
	gh := devopstest.NewGitHub(t)
	gh.FailNext(devopstest.Fault{Method: http.MethodPost, PathSuffix: "/dispatches", Status: 502})
	var ns noSleep
	_, err := newGitHubClient(t, gh, ns.option()).QueueRun(context.Background(), "export.yml", "main", nil)
	if err == nil {
		t.Fatal("a 502 dispatch succeeded")
	}
	if n := countRequests(gh.Requests(), http.MethodPost, "/dispatches"); n != 1 {
		t.Errorf("dispatch sent %d times; want 1", n)
	}
}
