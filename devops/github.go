package devops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type githubHost struct {
	cfg   Config
	api   string // no trailing slash
	owner string
	repo  string
	hc    *http.Client
}

func newGitHubHost(cfg Config, hc *http.Client) *githubHost {
	owner, repo, _ := strings.Cut(cfg.Repository, "/")
	return &githubHost{cfg: cfg, api: strings.TrimRight(cfg.GitHubAPIURL, "/"), owner: owner, repo: repo, hc: hc}
}

// ghPull is the part of GitHub's pull request object ppalm reads.
type ghPull struct {
	Number         int        `json:"number"`
	Title          string     `json:"title"`
	HTMLURL        string     `json:"html_url"`
	State          string     `json:"state"`
	MergeCommitSHA string     `json:"merge_commit_sha"`
	MergedAt       *time.Time `json:"merged_at"`
	Labels         []ghLabel  `json:"labels"`
	Head           struct {
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

type ghLabel struct {
	Name string `json:"name"`
}

func (p ghPull) pullRequest() PullRequest {
	pr := PullRequest{ID: p.Number, Title: p.Title, WebURL: p.HTMLURL, SourceBranch: p.Head.Ref, TargetBranch: p.Base.Ref, State: p.State}
	if p.MergedAt != nil {
		pr.State = "merged"
	}
	for _, l := range p.Labels {
		pr.Labels = append(pr.Labels, l.Name)
	}
	return pr
}

// repoPath builds /repos/{owner}/{repo}/<parts...> with each part escaped.
func (h *githubHost) repoPath(parts ...string) string {
	p := "/repos/" + url.PathEscape(h.owner) + "/" + url.PathEscape(h.repo)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// do sends one REST call. A non-nil out receives the JSON answer. It returns
// the status code along with *APIError for statuses not in ok.
func (h *githubHost) do(ctx context.Context, method, path string, query url.Values, in, out any, ok ...int) (int, error) {
	u := h.api + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "ppalm")
	req.Header.Set("Authorization", "Bearer "+h.cfg.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read answer to %s %s: %w", method, path, err)
	}
	if len(ok) == 0 {
		ok = []int{http.StatusOK}
	}
	good := false
	for _, s := range ok {
		good = good || resp.StatusCode == s
	}
	if !good {
		return resp.StatusCode, &APIError{Host: HostGitHub, Method: method, URL: redact(req.URL), StatusCode: resp.StatusCode, Message: githubMessage(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode answer to %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// githubMessage joins "message" and the messages in "errors".
func githubMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	for _, x := range e.Errors {
		if x.Message != "" {
			msg += "; " + x.Message
		}
	}
	return msg
}

func (h *githubHost) findActivePullRequest(ctx context.Context, source, target string) (*PullRequest, error) {
	q := url.Values{"state": {"open"}, "head": {h.owner + ":" + source}, "base": {target}, "per_page": {"1"}}
	var pulls []ghPull
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("pulls"), q, nil, &pulls); err != nil {
		return nil, err
	}
	if len(pulls) == 0 {
		return nil, nil
	}
	pr := pulls[0].pullRequest()
	return &pr, nil
}

func (h *githubHost) createPullRequest(ctx context.Context, in NewPullRequest) (*PullRequest, error) {
	body := in.Description
	if len(in.WorkItems) > 0 {
		refs := make([]string, len(in.WorkItems))
		for i, w := range in.WorkItems {
			refs[i] = "AB#" + strconv.Itoa(w)
		}
		if body != "" {
			body += "\n\n"
		}
		body += strings.Join(refs, " ")
	}
	req := map[string]any{"title": in.Title, "head": in.SourceBranch, "base": in.TargetBranch, "body": body}
	var created ghPull
	st, err := h.do(withSideEffects(ctx), http.MethodPost, h.repoPath("pulls"), nil, req, &created, http.StatusCreated)
	if err != nil {
		if st == http.StatusUnprocessableEntity && strings.Contains(err.Error(), "already exists") {
			return nil, nil
		}
		return nil, err
	}
	if len(in.Labels) > 0 {
		var labels []ghLabel
		if _, err := h.do(ctx, http.MethodPost, h.repoPath("issues", strconv.Itoa(created.Number), "labels"), nil,
			map[string]any{"labels": in.Labels}, &labels); err != nil {
			return nil, fmt.Errorf("label pull request #%d (%s): %w", created.Number, created.HTMLURL, err)
		}
		created.Labels = labels
	}
	pr := created.pullRequest()
	return &pr, nil
}

func (h *githubHost) pullRequestLabels(ctx context.Context, id int) ([]string, error) {
	var labels []ghLabel
	q := url.Values{"per_page": {"100"}}
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("issues", strconv.Itoa(id), "labels"), q, nil, &labels); err != nil {
		return nil, fmt.Errorf("read labels of pull request #%d: %w", id, err)
	}
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l.Name
	}
	return names, nil
}

// pullRequestForMergeCommit prefers the pull request whose merge commit is
// sha, then a merged one, then any that contains the commit.
func (h *githubHost) pullRequestForMergeCommit(ctx context.Context, sha string) (*PullRequest, error) {
	var pulls []ghPull
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("commits", sha, "pulls"), nil, nil, &pulls); err != nil {
		return nil, fmt.Errorf("find pull requests of commit %s: %w", sha, err)
	}
	if len(pulls) == 0 {
		return nil, nil
	}
	best := pulls[0]
	for _, p := range pulls {
		if strings.EqualFold(p.MergeCommitSHA, sha) {
			best = p
			break
		}
		if p.MergedAt != nil && best.MergedAt == nil {
			best = p
		}
	}
	pr := best.pullRequest()
	return &pr, nil
}

type ghRun struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	DisplayTitle string    `json:"display_title"`
	RunNumber    int       `json:"run_number"`
	HeadBranch   string    `json:"head_branch"`
	Status       string    `json:"status"`
	Conclusion   *string   `json:"conclusion"`
	HTMLURL      string    `json:"html_url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Actor        *struct {
		Login string `json:"login"`
	} `json:"actor"`
}

type ghCommit struct {
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
	Commit  struct {
		Message string `json:"message"`
		Author  struct {
			Name string    `json:"name"`
			Date time.Time `json:"date"`
		} `json:"author"`
	} `json:"commit"`
	Author *struct {
		Login string `json:"login"`
	} `json:"author"`
}

// history lists workflow runs whose name, title (run-name, which is where
// workflow_dispatch inputs show) or branch mention the solution, and commits
// under <solution>/.
func (h *githubHost) history(ctx context.Context, solution string, limit int) ([]HistoryEntry, error) {
	var entries []HistoryEntry
	var runs struct {
		WorkflowRuns []ghRun `json:"workflow_runs"`
	}
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("actions", "runs"), url.Values{"per_page": {"100"}}, nil, &runs); err != nil {
		return nil, fmt.Errorf("list workflow runs: %w", err)
	}
	for _, r := range runs.WorkflowRuns {
		if !containsFold(r.Name, solution) && !containsFold(r.DisplayTitle, solution) && !branchMentions(r.HeadBranch, solution) {
			continue
		}
		e := HistoryEntry{Kind: "run", Status: r.Status, When: r.UpdatedAt, Link: r.HTMLURL}
		e.Title = fmt.Sprintf("%s #%d", r.Name, r.RunNumber)
		if r.DisplayTitle != "" && r.DisplayTitle != r.Name {
			e.Title += ": " + r.DisplayTitle
		}
		if r.Conclusion != nil && *r.Conclusion != "" {
			e.Status = *r.Conclusion
		}
		if r.Actor != nil {
			e.By = r.Actor.Login
		}
		entries = append(entries, e)
	}
	var commits []ghCommit
	q := url.Values{"path": {solution}, "per_page": {strconv.Itoa(min(limit, 100))}}
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("commits"), q, nil, &commits); err != nil {
		return nil, fmt.Errorf("list commits under %s/: %w", solution, err)
	}
	for _, c := range commits {
		e := HistoryEntry{Kind: "commit", Title: firstLine(c.Commit.Message), Status: "committed", By: c.Commit.Author.Name, When: c.Commit.Author.Date, Link: c.HTMLURL}
		if c.Author != nil && c.Author.Login != "" {
			e.By = c.Author.Login
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func branchMentions(branch, solution string) bool {
	for _, seg := range strings.Split(branch, "/") {
		if strings.EqualFold(seg, solution) {
			return true
		}
	}
	return false
}
