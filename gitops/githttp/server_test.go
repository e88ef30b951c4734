package githttp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

const (
	testUser = "x-access-token"
	testPass = "s3cret-token"
)

func startServer(t *testing.T, opts ...Option) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer(t.TempDir(), opts...)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// gitCmd runs the real git client with an isolated configuration.
func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmdErr(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitCmdErr(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-c", "protocol.version=0"}, args...)...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git client not installed")
	}
}

func withCreds(raw, user, pass string) string {
	u, _ := url.Parse(raw)
	u.User = url.UserPassword(user, pass)
	return u.String()
}

func refHash(t *testing.T, bare, ref string) plumbing.Hash {
	t.Helper()
	r, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Reference(plumbing.ReferenceName(ref), true)
	if err != nil {
		t.Fatalf("bare repository ref %s: %v", ref, err)
	}
	return h.Hash()
}

func TestRealGitAndGoGitRoundTrip(t *testing.T) {
	requireGit(t)
	s, ts := startServer(t, WithBasicAuth(testUser, testPass))
	bare, err := s.InitBare("team/demo", "main")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(bare) != "demo.git" {
		t.Fatalf("InitBare path = %s", bare)
	}
	remote := ts.URL + "/team/demo.git"
	authed := withCreds(remote, testUser, testPass)

	// 1. The real git client clones the empty repository and pushes to it.
	work := t.TempDir()
	gitCmd(t, work, "clone", authed, "a")
	a := filepath.Join(work, "a")
	if err := os.WriteFile(filepath.Join(a, "readme.txt"), []byte("one\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, a, "add", ".")
	gitCmd(t, a, "commit", "-m", "first #123")
	gitCmd(t, a, "push", "origin", "main")
	first := strings.TrimSpace(gitCmd(t, a, "rev-parse", "HEAD"))
	if got := refHash(t, bare, "refs/heads/main"); got.String() != first {
		t.Fatalf("bare main = %s, want %s", got, first)
	}

	// 2. go-git clones over HTTP, commits and pushes a second commit.
	auth := &githttp.BasicAuth{Username: testUser, Password: testPass}
	b := filepath.Join(work, "b")
	repo, err := git.PlainClone(b, false, &git.CloneOptions{URL: remote, Auth: auth})
	if err != nil {
		t.Fatalf("go-git clone: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(b, "readme.txt"))
	if err != nil || string(data) != "one\r\n" {
		t.Fatalf("cloned readme = %q, %v", data, err)
	}
	wt, _ := repo.Worktree()
	if err := os.WriteFile(filepath.Join(b, "two.txt"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("two.txt"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Go Git", Email: "gogit@example.com", When: time.Unix(1700000000, 0).UTC()}
	second, err := wt.Commit("second", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(&git.PushOptions{Auth: auth}); err != nil {
		t.Fatalf("go-git push: %v", err)
	}
	if got := refHash(t, bare, "refs/heads/main"); got != second {
		t.Fatalf("bare main = %s, want %s", got, second)
	}

	// 3. The real git client fetches with haves (a negotiation round) and
	// sees go-git's commit; git fsck on the bare repository is clean.
	gitCmd(t, a, "pull", "--ff-only", "origin", "main")
	if got := strings.TrimSpace(gitCmd(t, a, "rev-parse", "HEAD")); got != second.String() {
		t.Fatalf("after pull HEAD = %s, want %s", got, second)
	}
	if log := gitCmd(t, bare, "log", "--format=%an <%ae>|%s", "main"); !strings.Contains(log, "Go Git <gogit@example.com>|second") || !strings.Contains(log, "|first #123") {
		t.Fatalf("git log on bare:\n%s", log)
	}
	gitCmd(t, bare, "fsck", "--strict")

	// 4. A new branch from the real client, then a shallow clone of it.
	gitCmd(t, a, "checkout", "-b", "feature")
	if err := os.WriteFile(filepath.Join(a, "three.txt"), []byte("3"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, a, "add", ".")
	gitCmd(t, a, "commit", "-m", "third")
	gitCmd(t, a, "push", "origin", "feature")
	gitCmd(t, work, "-c", "http.postBuffer=100", "clone", "--depth", "1", "--branch", "feature", authed, "c")
	if _, err := os.Stat(filepath.Join(work, "c", "three.txt")); err != nil {
		t.Fatalf("shallow clone of feature lacks three.txt: %v", err)
	}

	// 5. A non-fast-forward push is refused by the client and a forced one
	// with a stale old value is refused by the server's compare-and-swap.
	gitCmd(t, a, "reset", "--hard", first)
	if out, err := gitCmdErr(t, a, "push", "origin", "HEAD:main"); err == nil {
		t.Fatalf("non-fast-forward push succeeded:\n%s", out)
	}
	if out, err := gitCmdErr(t, a, "push", "--force-with-lease=main:"+first, "origin", "HEAD:main"); err == nil || !strings.Contains(out, "stale info") {
		t.Fatalf("push with stale lease: err=%v\n%s", err, out)
	}
	if got := refHash(t, bare, "refs/heads/main"); got != second {
		t.Fatalf("bare main moved to %s after refused pushes", got)
	}
}

func TestBasicAuthRequired(t *testing.T) {
	s, ts := startServer(t, WithBasicAuth(testUser, testPass))
	if _, err := s.InitBare("r", "main"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		user, pass string
		want       int
	}{
		{"none", "", "", http.StatusUnauthorized},
		{"wrong password", testUser, "nope", http.StatusUnauthorized},
		{"wrong user", "someone", testPass, http.StatusUnauthorized},
		{"right", testUser, testPass, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/r.git/info/refs?service=git-receive-pack", nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if tc.want == http.StatusOK {
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				if ct := resp.Header.Get("Content-Type"); ct != "application/x-git-receive-pack-advertisement" {
					t.Fatalf("Content-Type = %q", ct)
				}
				if !strings.HasPrefix(buf.String(), "001f# service=git-receive-pack\n0000") {
					t.Fatalf("advertisement starts %q", buf.String())
				}
			}
		})
	}

	// go-git with a wrong password gets transport's authentication error.
	_, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: ts.URL + "/r.git", Auth: &githttp.BasicAuth{Username: testUser, Password: "bad"}})
	if err == nil || !strings.Contains(err.Error(), "authentication required") {
		t.Fatalf("clone with bad password: %v", err)
	}
}

func TestRepositoryNames(t *testing.T) {
	s, ts := startServer(t)
	if _, err := s.InitBare("../escape", "main"); err == nil {
		t.Fatal("InitBare accepted ../escape")
	}
	if _, err := s.InitBare("ok", "bad..branch"); err == nil {
		t.Fatal("InitBare accepted branch bad..branch")
	}
	if _, err := s.InitBare("ok", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitBare("ok.git", "main"); err == nil {
		t.Fatal("InitBare created ok.git twice")
	}
	for _, p := range []string{"/missing.git/info/refs?service=git-upload-pack", "/%2e%2e/ok.git/info/refs?service=git-upload-pack", "/ok.git/info/refs", "/ok.git/HEAD"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("GET %s = 200", p)
		}
	}
	// The empty repository advertises its default branch to go-git.
	r, err := git.Init(memoryStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rem, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{ts.URL + "/ok.git"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rem.List(&git.ListOptions{}); err != nil && err.Error() != "remote repository is empty" {
		t.Fatalf("ls-remote on empty repository: %v", err)
	}
}

func memoryStorage() *memory.Storage { return memory.NewStorage() }
