package devopstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// GitHubPull is a pull request held by the GitHub fake.
type GitHubPull struct {
	Number         int
	Title, Body    string
	Head, Base     string // branch names
	State          string // open, closed
	Labels         []string
	MergeCommitSHA string
	Merged         bool
	// Commits are the shas GET /commits/{sha}/pulls finds it by.
	Commits []string
}

// GitHubRun is a workflow run held by the GitHub fake.
type GitHubRun struct {
	ID                 int64
	Name, DisplayTitle string
	RunNumber          int
	Branch             string
	Status, Conclusion string
	Actor              string
	Updated            time.Time
}

// GitHubCommit is a commit held by the GitHub fake.
type GitHubCommit struct {
	SHA, Message, Author, Login string
	Date                        time.Time
	Paths                       []string // "Contoso/src/Other/Solution.xml"
}

// GitHub is one repository on a GitHub Enterprise-style API root
// (<url>/api/v3), served on loopback.
type GitHub struct {
	*httptest.Server
	recorder
	Owner, Repo, Token string

	pulls   []*GitHubPull
	runs    []GitHubRun
	commits []GitHubCommit
	// Workflows are the workflow files that have a workflow_dispatch
	// trigger; a dispatch of another answers 404 as GitHub does.
	Workflows  []string
	dispatches []GitHubDispatch
	// environments holds deployment environments (variables_github.go).
	environments map[string]*ghEnvironment
	keySerial    int
}

// GitHubDispatch is one workflow_dispatch event the fake accepted.
type GitHubDispatch struct {
	Workflow, Ref string
	Inputs        map[string]any
}

// Dispatches returns the accepted workflow_dispatch events.
func (s *GitHub) Dispatches() []GitHubDispatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GitHubDispatch(nil), s.dispatches...)
}

// NewGitHub starts the fake; it stops when t ends.
func NewGitHub(t testing.TB) *GitHub {
	s := StartGitHub()
	t.Cleanup(s.Close)
	return s
}

// StartGitHub starts the fake outside a test (ppalm maker --demo, where it
// stands in for the repository host); the caller closes it.
func StartGitHub() *GitHub {
	s := &GitHub{Owner: "contoso", Repo: "alm-repo", Token: "ghs_fakeTokenS3cret"}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIURL is what GITHUB_API_URL would hold.
func (s *GitHub) APIURL() string { return s.URL + "/api/v3" }

// Repository is what GITHUB_REPOSITORY would hold.
func (s *GitHub) Repository() string { return s.Owner + "/" + s.Repo }

// AddPull stores a pull request; Number 0 gets the next number.
func (s *GitHub) AddPull(p GitHubPull) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Number == 0 {
		p.Number = len(s.pulls) + 1
	}
	if p.State == "" {
		p.State = "open"
	}
	s.pulls = append(s.pulls, &p)
}

// Pulls returns a copy of the stored pull requests.
func (s *GitHub) Pulls() []GitHubPull {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GitHubPull, len(s.pulls))
	for i, p := range s.pulls {
		out[i] = *p
	}
	return out
}

// AddRun stores a workflow run.
func (s *GitHub) AddRun(r GitHubRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs = append(s.runs, r)
}

// AddCommit stores a commit.
func (s *GitHub) AddCommit(c GitHubCommit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits = append(s.commits, c)
}

func ghError(w http.ResponseWriter, status int, msg string, errs ...string) {
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		var list []map[string]string
		for _, e := range errs {
			list = append(list, map[string]string{"resource": "PullRequest", "code": "custom", "message": e})
		}
		body["errors"] = list
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func ghJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *GitHub) labelsJSON(names []string) []map[string]any {
	out := []map[string]any{}
	for i, n := range names {
		out = append(out, map[string]any{"id": 5000 + i, "node_id": "LA_kwDO" + strconv.Itoa(i), "url": s.APIURL() + "/repos/" + s.Repository() + "/labels/" + n,
			"name": n, "color": "ededed", "default": false, "description": nil})
	}
	return out
}

func (s *GitHub) pullJSON(p *GitHubPull) map[string]any {
	html := fmt.Sprintf("%s/%s/pull/%d", s.URL, s.Repository(), p.Number)
	var merged any
	if p.Merged {
		merged = "2024-05-03T11:00:00Z"
	}
	repo := map[string]any{"id": 123456, "name": s.Repo, "full_name": s.Repository(), "owner": map[string]any{"login": s.Owner, "type": "Organization"}}
	return map[string]any{
		"url": fmt.Sprintf("%s/repos/%s/pulls/%d", s.APIURL(), s.Repository(), p.Number),
		"id":  900000 + p.Number, "node_id": "PR_kwDO" + strconv.Itoa(p.Number), "html_url": html, "number": p.Number,
		"state": p.State, "locked": false, "title": p.Title, "body": p.Body, "draft": false,
		"user":   map[string]any{"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
		"labels": s.labelsJSON(p.Labels), "created_at": "2024-05-02T09:14:03Z", "updated_at": "2024-05-02T09:14:03Z",
		"merged_at": merged, "merge_commit_sha": p.MergeCommitSHA,
		"head": map[string]any{"label": s.Owner + ":" + p.Head, "ref": p.Head, "sha": "1111111111111111111111111111111111111111", "repo": repo},
		"base": map[string]any{"label": s.Owner + ":" + p.Base, "ref": p.Base, "sha": "2222222222222222222222222222222222222222", "repo": repo},
	}
}

func (s *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if s.record(w, r, string(body)) {
		return
	}
	if a := r.Header.Get("Authorization"); a != "Bearer "+s.Token && a != "token "+s.Token {
		ghError(w, 401, "Bad credentials")
		return
	}
	prefix := "/api/v3/repos/" + s.Owner + "/" + s.Repo + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		ghError(w, 404, "Not Found")
		return
	}
	rest := strings.Split(strings.TrimPrefix(r.URL.Path, prefix), "/")
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serveEnvironment(w, r, rest, body) {
		return
	}
	switch {
	case len(rest) == 1 && rest[0] == "pulls" && r.Method == http.MethodGet:
		out := []map[string]any{}
		for _, p := range s.pulls {
			if st := q.Get("state"); st != "" && st != "all" && st != p.State {
				continue
			}
			if h := q.Get("head"); h != "" && h != s.Owner+":"+p.Head {
				continue
			}
			if b := q.Get("base"); b != "" && b != p.Base {
				continue
			}
			out = append(out, s.pullJSON(p))
		}
		ghJSON(w, 200, out)
	case len(rest) == 4 && rest[0] == "actions" && rest[1] == "workflows" && rest[3] == "dispatches" && r.Method == http.MethodPost:
		// Create a workflow dispatch event: 204; ref required; at most 10
		// inputs; 404 for a workflow the repository does not have.
		known := false
		for _, w := range s.Workflows {
			known = known || w == rest[2]
		}
		if !known {
			ghError(w, 404, "Not Found")
			return
		}
		var in struct {
			Ref    string         `json:"ref"`
			Inputs map[string]any `json:"inputs"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Ref == "" {
			ghError(w, 422, "Invalid request.", "ref is required")
			return
		}
		if len(in.Inputs) > 10 {
			ghError(w, 422, "Invalid request.", "you may only define up to 10 `inputs` for a `workflow_dispatch` event")
			return
		}
		s.dispatches = append(s.dispatches, GitHubDispatch{Workflow: rest[2], Ref: in.Ref, Inputs: in.Inputs})
		w.WriteHeader(http.StatusNoContent)
	case len(rest) == 1 && rest[0] == "pulls" && r.Method == http.MethodPost:
		var in struct{ Title, Head, Base, Body string }
		if err := json.Unmarshal(body, &in); err != nil || in.Head == "" || in.Base == "" {
			ghError(w, 422, "Validation Failed", "head and base are required")
			return
		}
		for _, p := range s.pulls {
			if p.State == "open" && p.Head == in.Head && p.Base == in.Base {
				ghError(w, 422, "Validation Failed", "A pull request already exists for "+s.Owner+":"+in.Head+".")
				return
			}
		}
		p := &GitHubPull{Number: len(s.pulls) + 1, Title: in.Title, Body: in.Body, Head: in.Head, Base: in.Base, State: "open"}
		s.pulls = append(s.pulls, p)
		ghJSON(w, 201, s.pullJSON(p))
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "labels":
		n, _ := strconv.Atoi(rest[1])
		var p *GitHubPull
		for _, x := range s.pulls {
			if x.Number == n {
				p = x
			}
		}
		if p == nil {
			ghError(w, 404, "Not Found")
			return
		}
		if r.Method == http.MethodPost {
			var in struct{ Labels []string }
			if err := json.Unmarshal(body, &in); err != nil {
				ghError(w, 422, "Validation Failed", err.Error())
				return
			}
			p.Labels = append(p.Labels, in.Labels...)
		}
		ghJSON(w, 200, s.labelsJSON(p.Labels))
	case len(rest) == 3 && rest[0] == "commits" && rest[2] == "pulls" && r.Method == http.MethodGet:
		out := []map[string]any{}
		for _, p := range s.pulls {
			hit := p.MergeCommitSHA == rest[1]
			for _, c := range p.Commits {
				hit = hit || c == rest[1]
			}
			if hit {
				out = append(out, s.pullJSON(p))
			}
		}
		ghJSON(w, 200, out)
	case len(rest) == 2 && rest[0] == "actions" && rest[1] == "runs" && r.Method == http.MethodGet:
		runs := []map[string]any{}
		for _, x := range s.runs {
			var concl any
			if x.Conclusion != "" {
				concl = x.Conclusion
			}
			runs = append(runs, map[string]any{"id": x.ID, "name": x.Name, "display_title": x.DisplayTitle, "run_number": x.RunNumber,
				"head_branch": x.Branch, "status": x.Status, "conclusion": concl, "event": "workflow_dispatch",
				"html_url":   fmt.Sprintf("%s/%s/actions/runs/%d", s.URL, s.Repository(), x.ID),
				"created_at": x.Updated.Add(-5 * time.Minute).UTC().Format(time.RFC3339), "updated_at": x.Updated.UTC().Format(time.RFC3339),
				"actor": map[string]any{"login": x.Actor, "type": "User"}, "triggering_actor": map[string]any{"login": x.Actor, "type": "User"}})
		}
		ghJSON(w, 200, map[string]any{"total_count": len(runs), "workflow_runs": runs})
	case len(rest) == 1 && rest[0] == "commits" && r.Method == http.MethodGet:
		out := []map[string]any{}
		for _, c := range s.commits {
			if pth := q.Get("path"); pth != "" && !touches(c.Paths, pth) {
				continue
			}
			author := map[string]any{"name": c.Author, "email": strings.ToLower(c.Login) + "@contoso.com", "date": c.Date.UTC().Format(time.RFC3339)}
			m := map[string]any{"sha": c.SHA, "node_id": "C_kwDO", "html_url": fmt.Sprintf("%s/%s/commit/%s", s.URL, s.Repository(), c.SHA),
				"commit": map[string]any{"message": c.Message, "author": author, "committer": author}, "author": nil}
			if c.Login != "" {
				m["author"] = map[string]any{"login": c.Login, "type": "User"}
			}
			out = append(out, m)
		}
		if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n < len(out) {
			out = out[:n]
		}
		ghJSON(w, 200, out)
	default:
		ghError(w, 404, "Not Found")
	}
}
