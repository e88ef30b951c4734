package templates_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	gogithttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/ppalm/ppalm/gitops/githttp"
)

// What the hosts' checkouts do, shared by every template test: the Azure
// Pipelines agent's `checkout: self` and GitHub's actions/checkout@v4, from
// a repository on disk or a git server on loopback.

// checkoutAuth is the basic auth a host's checkout sends to an HTTP(S)
// remote: the user from the URL (or def) and the job's token.
func checkoutAuth(remote, def, token string) *gogithttp.BasicAuth {
	if !strings.HasPrefix(remote, "http://") && !strings.HasPrefix(remote, "https://") {
		return nil
	}
	user := def
	if at := strings.Index(remote, "@"); at > 0 {
		if i := strings.Index(remote, "://"); i > 0 && i < at {
			user = remote[i+3 : at]
		}
	}
	return &gogithttp.BasicAuth{Username: user, Password: token}
}

// checkoutSelf is the agent's `checkout: self` (GitSourceProvider): a fresh
// repository in Build.SourcesDirectory with origin set to the repository
// URL, a fetch of every branch into refs/remotes/origin/* (and of the pull
// request's merge ref for a PR build) with the job's access token, and a
// detached checkout of Build.SourceVersion. fetchDepth only limits history,
// which the tests never read, so every fetch is complete.
func (a *agentRun) checkoutSelf(job string, v *variables) {
	t := a.t
	dest, _ := v.get("Build.SourcesDirectory")
	branch, _ := v.get("Build.SourceBranch")
	sha, _ := v.get("Build.SourceVersion")
	token, _ := v.get("System.AccessToken")
	if err := os.RemoveAll(dest); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainInit(dest, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{a.origin}}); err != nil {
		t.Fatal(err)
	}
	specs := []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}
	if rest, ok := strings.CutPrefix(branch, "refs/pull/"); ok {
		specs = append(specs, config.RefSpec("+"+branch+":refs/remotes/pull/"+rest))
	}
	opts := &git.FetchOptions{RemoteName: "origin", RefSpecs: specs, Tags: git.NoTags}
	if auth := checkoutAuth(a.origin, "build", token); auth != nil {
		opts.Auth = auth
	}
	if err := repo.Fetch(opts); err != nil && err != git.NoErrAlreadyUpToDate {
		t.Fatalf("%s: checkout: fetch from %s: %v", job, a.origin, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: plumbing.NewHash(sha), Force: true}); err != nil {
		t.Fatalf("%s: checkout %s (%s): %v", job, sha, branch, err)
	}
}

// downloadNone reports whether a deployment job's steps turn off the
// automatic artifact download.
func downloadNone(steps []map[string]any) bool {
	for _, s := range steps {
		if s["download"] == "none" {
			return true
		}
	}
	return false
}

// checkout is actions/checkout@v4 with its ref and fetch-depth inputs
// (token and persist-credentials at their defaults: github.token, kept).
// Without ref it fetches GITHUB_REF and checks out GITHUB_SHA; with a
// branch name it checks that branch out, failing as the action does when
// the remote has no such branch. fetch-depth 0 fetches every branch into
// refs/remotes/origin/*; otherwise only the ref is fetched (depth itself is
// not emulated: the tests never read history).
func (j *ghJob) checkout(name string, with map[string]string) {
	t := j.t
	if err := os.RemoveAll(j.ws); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainInit(j.ws, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{j.origin}}); err != nil {
		t.Fatal(err)
	}
	depth := 1
	if d := with["fetch-depth"]; d != "" {
		if depth, err = strconv.Atoi(d); err != nil || depth < 0 {
			t.Fatalf("%s: fetch-depth %q: expected a whole number", name, d)
		}
	}
	ref, sha := j.ev.ref, j.ev.sha
	if r := with["ref"]; r != "" {
		if strings.HasPrefix(r, "refs/") || len(r) == 40 {
			t.Fatalf("%s: ref %q: only a branch name is emulated", name, r)
		}
		ref, sha = "refs/heads/"+r, ""
	}
	// Where the fetched ref lands (refHelper.getRefSpec).
	tracking := "refs/remotes/origin/" + strings.TrimPrefix(ref, "refs/heads/")
	if rest, ok := strings.CutPrefix(ref, "refs/pull/"); ok {
		tracking = "refs/remotes/pull/" + rest
	}
	specs := []config.RefSpec{config.RefSpec("+" + ref + ":" + tracking)}
	if depth == 0 {
		specs = []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}
		if strings.HasPrefix(ref, "refs/pull/") {
			specs = append(specs, config.RefSpec("+"+ref+":"+tracking))
		}
	}
	opts := &git.FetchOptions{RemoteName: "origin", RefSpecs: specs, Tags: git.NoTags}
	if auth := checkoutAuth(j.origin, "x-access-token", ghJobToken); auth != nil {
		opts.Auth = auth
	}
	if err := repo.Fetch(opts); err != nil && err != git.NoErrAlreadyUpToDate {
		if with["ref"] != "" {
			t.Fatalf("%s: A branch or tag with the name '%s' could not be found (%v)", name, with["ref"], err)
		}
		t.Fatalf("%s: fetch %s: %v", name, ref, err)
	}
	r, err := repo.Reference(plumbing.ReferenceName(tracking), true)
	if err != nil {
		t.Fatalf("%s: A branch or tag with the name '%s' could not be found", name, strings.TrimPrefix(ref, "refs/heads/"))
	}
	if sha == "" {
		sha = r.Hash().String()
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	co := &git.CheckoutOptions{Hash: plumbing.NewHash(sha), Force: true}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		// git checkout --force -B <branch> refs/remotes/origin/<branch>
		co.Branch, co.Create = plumbing.NewBranchReferenceName(b), true
	}
	if err := wt.Checkout(co); err != nil {
		t.Fatalf("%s: checkout %s at %s: %v", name, ref, sha, err)
	}
}

// dispatchInputs binds a workflow_dispatch trigger's inputs to the event's:
// the given value or the default, a required input missing, an input of a
// type other than string, or an undeclared one fails.
func (r *ghRun) dispatchInputs(spec map[string]any) ghStrict {
	t := r.t
	checkKeys(t, r.caller+" on.workflow_dispatch", spec, "inputs")
	given, _ := r.ev.payload["inputs"].(map[string]any)
	out := ghStrict{}
	for name, d := range mapOf(t, spec["inputs"], r.caller+" workflow_dispatch inputs") {
		decl := mapOf(t, d, r.caller+" workflow_dispatch input "+name)
		checkKeys(t, r.caller+" workflow_dispatch input "+name, decl, "description", "required", "default", "type")
		if typ := str(decl["type"]); typ != "" && typ != "string" {
			t.Fatalf("%s: workflow_dispatch input %s: type %s is not emulated", r.caller, name, typ)
		}
		v, ok := given[name]
		if !ok {
			if decl["required"] == true {
				t.Fatalf("%s: workflow_dispatch input %s is required but not given", r.caller, name)
			}
			v = decl["default"]
			if v == nil {
				v = ""
			}
		}
		out[name] = v
	}
	for k := range given {
		if _, ok := out[k]; !ok {
			t.Fatalf("%s: workflow_dispatch input %s is not declared", r.caller, k)
		}
	}
	return out
}

// dispatchEvent is a workflow_dispatch from the Actions tab on branch
// (refs/heads/...) at sha, with the form's inputs.
func dispatchEvent(ref, sha string, runNumber int, inputs map[string]any) ghEvent {
	return ghEvent{name: "workflow_dispatch", ref: ref, sha: sha, runNumber: runNumber, payload: map[string]any{
		"ref": ref, "inputs": inputs, "repository": map[string]any{"full_name": ghRepository},
		"sender": map[string]any{"login": "alex-maker"}, "workflow": ".github/workflows/x.yml",
	}}
}

// gitRemote is a team's repository behind the githttp server on loopback,
// which takes only basic auth user:token; main holds a README.
type gitRemote struct {
	url  string // http://127.0.0.1:port/alm.git
	bare string // the repository on disk, for reading what was pushed
}

func newGitRemote(t *testing.T, user, token string) gitRemote {
	t.Helper()
	srv := githttp.NewServer(t.TempDir(), githttp.WithBasicAuth(user, token))
	bare, err := srv.InitBare("alm.git", "main")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	rem := gitRemote{url: hs.URL + "/alm.git", bare: bare}

	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# Contoso ALM\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("README.md"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Lead", Email: "lead@contoso.example", When: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}
	h, err := wt.Commit("Start the ALM repository", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", h)); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{rem.url}}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"},
		Auth: &gogithttp.BasicAuth{Username: user, Password: token}}); err != nil {
		t.Fatalf("seed %s: %v", rem.url, err)
	}
	return rem
}

// head is the commit branch points at on the remote, or nil.
func (g gitRemote) head(t *testing.T, branch string) *object.Commit {
	t.Helper()
	repo, err := git.PlainOpen(g.bare)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err == plumbing.ErrReferenceNotFound {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// commitFiles lists a commit's files, path to content.
func commitFiles(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	files := map[string]string{}
	iter, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	err = iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// moveConfig renames config/<from> of the solution's folder to
// config/<to> in the repository at dir and commits it on the solution
// branch.
func moveConfig(t *testing.T, dir, from, to string) {
	t.Helper()
	cfg := filepath.Join(dir, solutionName, "config")
	if err := os.MkdirAll(filepath.Join(cfg, to), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deploymentSettings.json", "customDeploymentSettings.json"} {
		raw, err := os.ReadFile(filepath.Join(cfg, from, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg, to, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(cfg, from)); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Alex Maker", Email: "alex@contoso.example", When: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)}
	commitAll(t, repo, fmt.Sprintf("%s: settings for %s", solutionName, to), sig, solutionName)
}

// commitAll commits every file of repo's work tree as sig and points
// branch at the commit.
func commitAll(t *testing.T, repo *git.Repository, message string, sig *object.Signature, branch string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(message, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)); err != nil {
		t.Fatal(err)
	}
	return h
}

// branchHead is the commit branch points at in the repository on disk.
func branchHead(t *testing.T, dir, branch string) string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatalf("%s: branch %s: %v", dir, branch, err)
	}
	return ref.Hash().String()
}
