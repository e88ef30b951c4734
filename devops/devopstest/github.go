package devopstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
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

	// WithoutRunDetails makes dispatches refuse return_run_details, as
	// GitHub Enterprise Server 3.19 does (benc-uk/workflow-dispatch #86).
	WithoutRunDetails bool

	pulls      []*GitHubPull
	runs       []GitHubRun
	commits    []GitHubCommit
	workflows  []GitHubWorkflow
	dispatches []GitHubDispatch
	nextRun    int64
	// environments holds deployment environments (variables_github.go).
	environments map[string]*ghEnvironment
	keySerial    int
}

// GitHubWorkflow is a workflow file of the fake repository.
type GitHubWorkflow struct {
	File string // export.yml
	Name string // the workflow's name:, File when empty
	// Dispatch says the workflow has a workflow_dispatch trigger.
	Dispatch bool
	// Inputs are the trigger's inputs, by name.
	Inputs map[string]GitHubInput
}

// GitHubInput is one workflow_dispatch input.
type GitHubInput struct {
	Required bool
	Default  string
}

// AddWorkflow adds a workflow file to the repository, or replaces the file
// of that name (an edited workflow).
func (s *GitHub) AddWorkflow(w GitHubWorkflow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.Name == "" {
		w.Name = w.File
	}
	for i := range s.workflows {
		if s.workflows[i].File == w.File {
			s.workflows[i] = w
			return
		}
	}
	s.workflows = append(s.workflows, w)
}

// GitHubDispatch is one workflow_dispatch event the fake accepted.
type GitHubDispatch struct {
	Workflow, Ref string
	Inputs        map[string]any
	RunID         int64 // the run it started
}

// SetRun changes a run's status (queued, in_progress, waiting, completed)
// and conclusion (success, failure, cancelled, ...; "" until completed).
func (s *GitHub) SetRun(id int64, status, conclusion string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.runs {
		if s.runs[i].ID == id {
			s.runs[i].Status, s.runs[i].Conclusion, s.runs[i].Updated = status, conclusion, time.Now()
		}
	}
}

// Runs returns a copy of the workflow runs.
func (s *GitHub) Runs() []GitHubRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GitHubRun(nil), s.runs...)
}

// MergePull merges an open pull request.
func (s *GitHub) MergePull(number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pulls {
		if p.Number == number {
			p.State, p.Merged = "closed", true
		}
	}
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
		s.dispatch(w, rest[2], body)
	case len(rest) == 3 && rest[0] == "actions" && rest[1] == "runs" && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(rest[2], 10, 64)
		for _, x := range s.runs {
			if x.ID == id {
				ghJSON(w, 200, s.runJSON(x))
				return
			}
		}
		ghError(w, 404, "Not Found")
	case len(rest) == 2 && rest[0] == "pulls" && r.Method == http.MethodGet:
		n, _ := strconv.Atoi(rest[1])
		for _, p := range s.pulls {
			if p.Number == n {
				ghJSON(w, 200, s.pullJSON(p))
				return
			}
		}
		ghError(w, 404, "Not Found")
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
			runs = append(runs, s.runJSON(x))
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

func (s *GitHub) runJSON(x GitHubRun) map[string]any {
	var concl any
	if x.Conclusion != "" {
		concl = x.Conclusion
	}
	return map[string]any{"id": x.ID, "name": x.Name, "display_title": x.DisplayTitle, "run_number": x.RunNumber,
		"head_branch": x.Branch, "status": x.Status, "conclusion": concl, "event": "workflow_dispatch",
		"url":        fmt.Sprintf("%s/repos/%s/actions/runs/%d", s.APIURL(), s.Repository(), x.ID),
		"html_url":   fmt.Sprintf("%s/%s/actions/runs/%d", s.URL, s.Repository(), x.ID),
		"created_at": x.Updated.Add(-5 * time.Minute).UTC().Format(time.RFC3339), "updated_at": x.Updated.UTC().Format(time.RFC3339),
		"actor": map[string]any{"login": x.Actor, "type": "User"}, "triggering_actor": map[string]any{"login": x.Actor, "type": "User"}}
}

// dispatch is Create a workflow dispatch event, refusing what GitHub
// refuses, in GitHub's words (see doc.go): an unknown workflow (404), a
// workflow without the trigger, more than 25 inputs, inputs the trigger does
// not declare and a required input left out (422). An accepted dispatch
// starts a queued run; with return_run_details it answers 200 with the
// run's id and URLs, without it 204.
func (s *GitHub) dispatch(w http.ResponseWriter, file string, body []byte) {
	var wf *GitHubWorkflow
	for i := range s.workflows {
		if s.workflows[i].File == file {
			wf = &s.workflows[i]
		}
	}
	if wf == nil {
		ghError(w, 404, "Not Found")
		return
	}
	var in struct {
		Ref     string         `json:"ref"`
		Inputs  map[string]any `json:"inputs"`
		Details *bool          `json:"return_run_details"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Ref == "" {
		ghError(w, 422, "Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	}
	if in.Details != nil && s.WithoutRunDetails {
		ghError(w, 422, "Invalid request.\n\n\"return_run_details\" is not a permitted key.")
		return
	}
	if !wf.Dispatch {
		ghError(w, 422, "Workflow does not have 'workflow_dispatch' trigger")
		return
	}
	if len(in.Inputs) > 25 {
		ghError(w, 422, "Invalid request.\n\nThe maximum number of properties is 25.")
		return
	}
	var unexpected []string
	for k := range in.Inputs {
		if _, ok := wf.Inputs[k]; !ok {
			unexpected = append(unexpected, strconv.Quote(k))
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		ghError(w, 422, "Unexpected inputs provided: ["+strings.Join(unexpected, ", ")+"]")
		return
	}
	names := make([]string, 0, len(wf.Inputs))
	for k := range wf.Inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if def := wf.Inputs[k]; def.Required && def.Default == "" {
			if v, ok := in.Inputs[k]; !ok || v == "" {
				ghError(w, 422, "Required input '"+k+"' not provided")
				return
			}
		}
	}
	if s.nextRun == 0 {
		s.nextRun = 9000000001
	}
	id := s.nextRun
	s.nextRun++
	s.runs = append(s.runs, GitHubRun{ID: id, Name: wf.Name, DisplayTitle: wf.Name, RunNumber: len(s.runs) + 1, Branch: in.Ref,
		Status: "queued", Actor: "alex-maker", Updated: time.Now()})
	s.dispatches = append(s.dispatches, GitHubDispatch{Workflow: file, Ref: in.Ref, Inputs: in.Inputs, RunID: id})
	if in.Details == nil || !*in.Details {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ghJSON(w, 200, map[string]any{"workflow_run_id": id,
		"run_url":  fmt.Sprintf("%s/repos/%s/actions/runs/%d", s.APIURL(), s.Repository(), id),
		"html_url": fmt.Sprintf("%s/%s/actions/runs/%d", s.URL, s.Repository(), id)})
}
