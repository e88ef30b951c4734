package devops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

// maxDescription is the longest pull request description Azure DevOps takes.
const maxDescription = 4000

type azureHost struct {
	cfg       Config
	org       string // trimmed organization URL
	git       git.Client
	build     build.Client
	pipelines pipelines.Client
	// area builds the client of another resource area (taskagent, core).
	area func(id uuid.UUID, name string) (*azuredevops.Client, error)
}

// newAzureHost does what git.NewClient and build.NewClient do (find each
// area's host through _apis/ResourceAreas; an empty list means "this
// server", as on Azure DevOps Server) but with our retrying HTTP client.
func newAzureHost(ctx context.Context, cfg Config, hc *http.Client) (*azureHost, error) {
	conn := azuredevops.NewPatConnection(cfg.OrganizationURL, cfg.Token)
	if cfg.Bearer {
		// The SDK has no bearer constructor (azure-devops-go-api #101).
		conn.AuthorizationString = "Bearer " + cfg.Token
	}
	conn.UserAgent = "ppalm"
	root := azuredevops.NewClientWithOptions(conn, conn.BaseUrl, azuredevops.WithHTTPClient(hc))
	areas, err := root.GetResourceAreas(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up resource areas: %w", err)
	}
	areaClient := func(id uuid.UUID, name string) (*azuredevops.Client, error) {
		base := conn.BaseUrl
		if areas != nil && len(*areas) > 0 {
			base = ""
			for _, a := range *areas {
				if a.Id != nil && *a.Id == id && a.LocationUrl != nil {
					base = *a.LocationUrl
				}
			}
			if base == "" {
				return nil, fmt.Errorf("resource area %s (%s) is not registered on %s", name, id, conn.BaseUrl)
			}
		}
		return azuredevops.NewClientWithOptions(conn, strings.TrimRight(base, "/"), azuredevops.WithHTTPClient(hc)), nil
	}
	g, err := areaClient(git.ResourceAreaId, "git")
	if err != nil {
		return nil, err
	}
	b, err := areaClient(build.ResourceAreaId, "build")
	if err != nil {
		return nil, err
	}
	// pipelines.NewClient uses the organization URL as it is, with no
	// resource area lookup: so do we.
	p := azuredevops.NewClientWithOptions(conn, conn.BaseUrl, azuredevops.WithHTTPClient(hc))
	return &azureHost{
		cfg:       cfg,
		org:       strings.TrimRight(cfg.OrganizationURL, "/"),
		git:       &git.ClientImpl{Client: *g},
		build:     &build.ClientImpl{Client: *b},
		pipelines: &pipelines.ClientImpl{Client: *p},
		area:      areaClient,
	}, nil
}

func (h *azureHost) repoArgs() (*string, *string) {
	return &h.cfg.Repository, &h.cfg.Project
}

func (h *azureHost) findActivePullRequest(ctx context.Context, source, target string) (*PullRequest, error) {
	repo, project := h.repoArgs()
	src, tgt := "refs/heads/"+source, "refs/heads/"+target
	top := 1
	prs, err := h.git.GetPullRequests(ctx, git.GetPullRequestsArgs{
		RepositoryId: repo,
		Project:      project,
		SearchCriteria: &git.GitPullRequestSearchCriteria{
			SourceRefName: &src,
			TargetRefName: &tgt,
			Status:        &git.PullRequestStatusValues.Active,
		},
		Top: &top,
	})
	if err != nil {
		return nil, err
	}
	if prs == nil || len(*prs) == 0 {
		return nil, nil
	}
	pr := h.pullRequest(&(*prs)[0])
	return &pr, nil
}

func (h *azureHost) createPullRequest(ctx context.Context, in NewPullRequest) (*PullRequest, error) {
	if n := len([]rune(in.Description)); n > maxDescription {
		return nil, fmt.Errorf("description is %d characters; Azure DevOps accepts at most %d", n, maxDescription)
	}
	repo, project := h.repoArgs()
	src, tgt := "refs/heads/"+in.SourceBranch, "refs/heads/"+in.TargetBranch
	want := git.GitPullRequest{
		SourceRefName: &src,
		TargetRefName: &tgt,
		Title:         &in.Title,
		Description:   &in.Description,
	}
	if len(in.Labels) > 0 {
		labels := make([]core.WebApiTagDefinition, len(in.Labels))
		for i := range in.Labels {
			labels[i].Name = &in.Labels[i]
		}
		want.Labels = &labels
	}
	if len(in.WorkItems) > 0 {
		refs := make([]webapi.ResourceRef, len(in.WorkItems))
		for i, w := range in.WorkItems {
			id := strconv.Itoa(w)
			refs[i].Id = &id
		}
		want.WorkItemRefs = &refs
	}
	got, err := h.git.CreatePullRequest(withSideEffects(ctx), git.CreatePullRequestArgs{
		RepositoryId:           repo,
		Project:                project,
		GitPullRequestToCreate: &want,
	})
	if err != nil {
		// TF401179: an active pull request for these branches already exists.
		if status(err) == http.StatusConflict && strings.Contains(err.Error(), "TF401179") {
			return nil, nil
		}
		return nil, err
	}
	pr := h.pullRequest(got)
	return &pr, nil
}

func (h *azureHost) pullRequestLabels(ctx context.Context, id int) ([]string, error) {
	repo, project := h.repoArgs()
	tags, err := h.git.GetPullRequestLabels(ctx, git.GetPullRequestLabelsArgs{
		RepositoryId:  repo,
		Project:       project,
		PullRequestId: &id,
	})
	if err != nil {
		return nil, fmt.Errorf("read labels of pull request %d: %w", id, err)
	}
	var names []string
	if tags != nil {
		for _, t := range *tags {
			if t.Name != nil && (t.Active == nil || *t.Active) {
				names = append(names, *t.Name)
			}
		}
	}
	return names, nil
}

func (h *azureHost) pullRequestForMergeCommit(ctx context.Context, sha string) (*PullRequest, error) {
	repo, project := h.repoArgs()
	items := []string{sha}
	res, err := h.git.GetPullRequestQuery(ctx, git.GetPullRequestQueryArgs{
		RepositoryId: repo,
		Project:      project,
		Queries: &git.GitPullRequestQuery{Queries: &[]git.GitPullRequestQueryInput{{
			Items: &items,
			Type:  &git.GitPullRequestQueryTypeValues.LastMergeCommit,
		}}},
	})
	if err != nil {
		return nil, fmt.Errorf("find pull request with merge commit %s: %w", sha, err)
	}
	if res == nil || res.Results == nil {
		return nil, nil
	}
	for _, byCommit := range *res.Results {
		for commit, prs := range byCommit {
			if strings.EqualFold(commit, sha) && len(prs) > 0 {
				pr := h.pullRequest(&prs[0])
				return &pr, nil
			}
		}
	}
	return nil, nil
}

func (h *azureHost) pullRequest(p *git.GitPullRequest) PullRequest {
	pr := PullRequest{
		ID:           deref(p.PullRequestId),
		Title:        deref(p.Title),
		SourceBranch: shortBranch(deref(p.SourceRefName)),
		TargetBranch: shortBranch(deref(p.TargetRefName)),
		State:        map[git.PullRequestStatus]string{"active": "open", "completed": "merged", "abandoned": "closed"}[deref(p.Status)],
	}
	if p.Labels != nil {
		for _, l := range *p.Labels {
			if l.Name != nil {
				pr.Labels = append(pr.Labels, *l.Name)
			}
		}
	}
	if p.Repository != nil && p.Repository.WebUrl != nil {
		pr.WebURL = strings.TrimRight(*p.Repository.WebUrl, "/") + "/pullrequest/" + strconv.Itoa(pr.ID)
	} else {
		pr.WebURL = fmt.Sprintf("%s/%s/_git/%s/pullrequest/%d", h.org, url.PathEscape(h.cfg.Project), url.PathEscape(h.cfg.Repository), pr.ID)
	}
	return pr
}

// history lists runs of pipelines named for the solution, recent runs tagged
// for it or started with it as a parameter or branch, and commits under
// /<solution>.
func (h *azureHost) history(ctx context.Context, solution string, limit int) ([]HistoryEntry, error) {
	project := &h.cfg.Project
	seen := map[int]bool{}
	var entries []HistoryEntry
	add := func(builds []build.Build, keep func(build.Build) bool) {
		for _, b := range builds {
			if b.Id == nil || seen[*b.Id] || !keep(b) {
				continue
			}
			seen[*b.Id] = true
			entries = append(entries, h.runEntry(b))
		}
	}
	order := build.BuildQueryOrderValues.QueueTimeDescending

	name := "*" + solution + "*"
	defs, err := h.build.GetDefinitions(ctx, build.GetDefinitionsArgs{Project: project, Name: &name})
	if err != nil {
		return nil, fmt.Errorf("list pipelines named for the solution: %w", err)
	}
	if defs != nil && len(defs.Value) > 0 {
		ids := make([]int, 0, len(defs.Value))
		for _, d := range defs.Value {
			if d.Id != nil {
				ids = append(ids, *d.Id)
			}
		}
		runs, err := h.build.GetBuilds(ctx, build.GetBuildsArgs{Project: project, Definitions: &ids, Top: &limit, QueryOrder: &order})
		if err != nil {
			return nil, fmt.Errorf("list runs of pipelines named for the solution: %w", err)
		}
		if runs != nil {
			add(runs.Value, func(build.Build) bool { return true })
		}
	}

	// Export and deploy pipelines shared by all solutions: the solution is a
	// tag, a template parameter or part of the branch.
	recent := limit * 10
	if recent < 200 {
		recent = 200
	}
	runs, err := h.build.GetBuilds(ctx, build.GetBuildsArgs{Project: project, Top: &recent, QueryOrder: &order})
	if err != nil {
		return nil, fmt.Errorf("list recent runs: %w", err)
	}
	if runs != nil {
		add(runs.Value, func(b build.Build) bool { return buildMentions(b, solution) })
	}

	path := "/" + solution
	commits, err := h.git.GetCommits(ctx, git.GetCommitsArgs{
		RepositoryId:   &h.cfg.Repository,
		Project:        project,
		SearchCriteria: &git.GitQueryCommitsCriteria{ItemPath: &path, Top: &limit},
	})
	if err != nil {
		// A solution that was never committed has no folder yet.
		if status(err) != http.StatusNotFound {
			return nil, fmt.Errorf("list commits under %s: %w", path, err)
		}
	}
	if commits != nil {
		for _, c := range *commits {
			e := HistoryEntry{Kind: "commit", Title: firstLine(deref(c.Comment)), Status: "committed", Link: deref(c.RemoteUrl)}
			if c.Author != nil {
				e.By = deref(c.Author.Name)
				if c.Author.Date != nil {
					e.When = c.Author.Date.Time
				}
			}
			if e.Link == "" && c.CommitId != nil {
				e.Link = fmt.Sprintf("%s/%s/_git/%s/commit/%s", h.org, url.PathEscape(h.cfg.Project), url.PathEscape(h.cfg.Repository), *c.CommitId)
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

func buildMentions(b build.Build, solution string) bool {
	if b.Tags != nil {
		for _, t := range *b.Tags {
			if strings.EqualFold(t, solution) {
				return true
			}
		}
	}
	if b.TemplateParameters != nil {
		for _, v := range *b.TemplateParameters {
			if strings.EqualFold(v, solution) {
				return true
			}
		}
	}
	if b.Definition != nil && containsFold(deref(b.Definition.Name), solution) {
		return true
	}
	return branchMentions(deref(b.SourceBranch), solution)
}

func (h *azureHost) runEntry(b build.Build) HistoryEntry {
	e := HistoryEntry{Kind: "run"}
	def := ""
	if b.Definition != nil {
		def = deref(b.Definition.Name)
	}
	e.Title = strings.TrimSpace(def + " " + deref(b.BuildNumber))
	e.Status = string(deref(b.Status))
	if b.Result != nil && *b.Result != build.BuildResultValues.None {
		e.Status = string(*b.Result)
	}
	if b.RequestedFor != nil {
		e.By = deref(b.RequestedFor.DisplayName)
	}
	switch {
	case b.FinishTime != nil:
		e.When = b.FinishTime.Time
	case b.StartTime != nil:
		e.When = b.StartTime.Time
	case b.QueueTime != nil:
		e.When = b.QueueTime.Time
	}
	e.Link = webLink(b.Links)
	if e.Link == "" {
		e.Link = fmt.Sprintf("%s/%s/_build/results?buildId=%d", h.org, url.PathEscape(h.cfg.Project), deref(b.Id))
	}
	return e
}

// webLink reads _links.web.href.
func webLink(links any) string {
	m, _ := links.(map[string]any)
	web, _ := m["web"].(map[string]any)
	href, _ := web["href"].(string)
	return href
}

// status returns the HTTP status an error carries, or 0.
func status(err error) int {
	var api *APIError
	if errors.As(err, &api) {
		return api.StatusCode
	}
	var w azuredevops.WrappedError
	if errors.As(err, &w) && w.StatusCode != nil {
		return *w.StatusCode
	}
	var wp *azuredevops.WrappedError
	if errors.As(err, &wp) && wp.StatusCode != nil {
		return *wp.StatusCode
	}
	return 0
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
