package devops

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// PullRequest is a pull request as ppalm reports it.
type PullRequest struct {
	// ID is the Azure DevOps pullRequestId or the GitHub number.
	ID           int
	Title        string
	SourceBranch string // short name, e.g. "feature/contoso"
	TargetBranch string
	Labels       []string
	// State is open, merged or closed (GitHub's state and merged_at; Azure
	// DevOps' active, completed and abandoned).
	State string
	// WebURL is the page a person opens.
	WebURL string
}

// NewPullRequest is what `ppalm pr create` asks for.
type NewPullRequest struct {
	SourceBranch string // "feature/x" or "refs/heads/feature/x"
	TargetBranch string
	Title        string
	Description  string
	Labels       []string
	// WorkItems are Azure Boards ids: linked on Azure DevOps, mentioned as
	// AB#id in the description on GitHub.
	WorkItems []int
}

// HistoryEntry is one commit or pipeline run of a solution.
type HistoryEntry struct {
	Kind   string // "commit" or "run"
	Title  string // commit subject, or pipeline name and run number
	Status string // run status/result; "committed" for commits
	By     string
	When   time.Time
	Link   string
}

// repoHost is what each host implements.
type repoHost interface {
	findActivePullRequest(ctx context.Context, source, target string) (*PullRequest, error)
	createPullRequest(ctx context.Context, pr NewPullRequest) (*PullRequest, error)
	pullRequestLabels(ctx context.Context, id int) ([]string, error)
	pullRequestForMergeCommit(ctx context.Context, sha string) (*PullRequest, error)
	history(ctx context.Context, solution string, limit int) ([]HistoryEntry, error)
}

// Client talks to one repository on Azure DevOps or GitHub.
type Client struct {
	cfg  Config
	host repoHost
}

// New builds a Client for cfg (after cfg.Override with WithOverrides and
// cfg.Resolve). For Azure DevOps it looks up the git and build resource
// areas, so it may call the server.
func New(ctx context.Context, cfg Config, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	cfg, err := cfg.Override(o.overrides).Resolve()
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(cfg.Host, o)
	c := &Client{cfg: cfg}
	switch cfg.Host {
	case HostAzureDevOps:
		c.host, err = newAzureHost(ctx, cfg, hc)
		if err != nil {
			return nil, fmt.Errorf("connect to azure devops %s: %w", cfg.OrganizationURL, err)
		}
	case HostGitHub:
		c.host = newGitHubHost(cfg, hc)
	}
	return c, nil
}

// Config returns the resolved connection settings.
func (c *Client) Config() Config { return c.cfg }

// EnsurePullRequest returns the active pull request from pr.SourceBranch to
// pr.TargetBranch, creating it when there is none. created says which.
func (c *Client) EnsurePullRequest(ctx context.Context, pr NewPullRequest) (PullRequest, bool, error) {
	pr.SourceBranch = shortBranch(pr.SourceBranch)
	pr.TargetBranch = shortBranch(pr.TargetBranch)
	what := fmt.Sprintf("pull request %s -> %s", pr.SourceBranch, pr.TargetBranch)
	switch {
	case pr.SourceBranch == "":
		return PullRequest{}, false, fmt.Errorf("create %s: source branch is empty", what)
	case pr.TargetBranch == "":
		return PullRequest{}, false, fmt.Errorf("create %s: target branch is empty", what)
	case pr.SourceBranch == pr.TargetBranch:
		return PullRequest{}, false, fmt.Errorf("create %s: source and target branch are the same", what)
	case strings.TrimSpace(pr.Title) == "":
		return PullRequest{}, false, fmt.Errorf("create %s: title is empty", what)
	}
	for _, w := range pr.WorkItems {
		if w <= 0 {
			return PullRequest{}, false, fmt.Errorf("create %s: work item id %d: expected a positive number", what, w)
		}
	}
	existing, err := c.host.findActivePullRequest(ctx, pr.SourceBranch, pr.TargetBranch)
	if err != nil {
		return PullRequest{}, false, fmt.Errorf("find active %s: %w", what, err)
	}
	if existing != nil {
		return *existing, false, nil
	}
	created, err := c.host.createPullRequest(ctx, pr)
	if err != nil {
		return PullRequest{}, false, fmt.Errorf("create %s: %w", what, err)
	}
	if created == nil {
		// Someone else opened it between our search and our create.
		existing, err = c.host.findActivePullRequest(ctx, pr.SourceBranch, pr.TargetBranch)
		if err != nil || existing == nil {
			return PullRequest{}, false, fmt.Errorf("find %s reported as already existing: %w", what, err)
		}
		return *existing, false, nil
	}
	return *created, true, nil
}

// History lists the newest limit commits and pipeline runs of a solution,
// newest first.
func (c *Client) History(ctx context.Context, solution string, limit int) ([]HistoryEntry, error) {
	if strings.TrimSpace(solution) == "" {
		return nil, fmt.Errorf("list history: solution name is empty")
	}
	if limit <= 0 {
		return nil, fmt.Errorf("list history of %q: limit %d: expected a positive number", solution, limit)
	}
	entries, err := c.host.history(ctx, solution, limit)
	if err != nil {
		return nil, fmt.Errorf("list history of solution %q: %w", solution, err)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].When.After(entries[j].When) })
	if len(entries) > limit {
		entries = entries[:limit]
	}
	return entries, nil
}

func shortBranch(b string) string {
	return strings.TrimPrefix(strings.TrimSpace(b), "refs/heads/")
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}
