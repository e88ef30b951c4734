package devops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
)

// QueuedRun says where a queued pipeline run can be followed.
type QueuedRun struct {
	// ID is the run: the Azure DevOps run (= build) id, or the GitHub
	// workflow run id. 0 when the host did not say (GitHub Enterprise
	// Server, whose dispatch still answers 204 with no body).
	ID int64
	// PipelineID is the Azure DevOps pipeline (= build definition) id;
	// GetRun needs it.
	PipelineID int
	// Link is the run's page, or the workflow's runs when ID is 0.
	Link string
}

// RunState is a queued run as its host reports it now.
type RunState struct {
	// Status is what a maker reads: queued, running, waiting (for an
	// approval), succeeded, failed, canceled, or the host's own word for
	// anything else.
	Status string
	// Done says the run will not change any more.
	Done bool
	When time.Time // last change
	Link string
}

// maxDispatchInputs is GitHub's limit on workflow_dispatch inputs ("The
// maximum number of properties is 25", Create a workflow dispatch event,
// REST API 2026-03-10; it was 10 before).
const maxDispatchInputs = 25

// QueueRun starts pipeline on branch with parameters: the maker app's
// Commit and Deploy on a pipeline host. On GitHub pipeline is a workflow
// file name (export.yml) and params are its workflow_dispatch inputs; on
// Azure DevOps it is a pipeline's name or id and params are its runtime
// (template) parameters. The parameters are checked before anything is
// sent; the host refuses inputs the pipeline does not declare.
func (c *Client) QueueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error) {
	what := fmt.Sprintf("queue pipeline %q on %s", pipeline, shortBranch(branch))
	switch {
	case strings.TrimSpace(pipeline) == "":
		return QueuedRun{}, fmt.Errorf("%s: the profile names no pipeline", what)
	case strings.TrimSpace(branch) == "":
		return QueuedRun{}, fmt.Errorf("%s: branch is empty", what)
	case c.cfg.Host == HostGitHub && len(params) > maxDispatchInputs:
		return QueuedRun{}, fmt.Errorf("%s: %d parameters; GitHub accepts at most %d", what, len(params), maxDispatchInputs)
	}
	var run QueuedRun
	var err error
	switch h := c.host.(type) {
	case *githubHost:
		run, err = h.queueRun(ctx, pipeline, shortBranch(branch), params)
	case *azureHost:
		run, err = h.queueRun(ctx, pipeline, shortBranch(branch), params)
	default:
		err = fmt.Errorf("queueing runs on %s is not supported", c.cfg.Host)
	}
	if err != nil {
		return QueuedRun{}, fmt.Errorf("%s: %w", what, err)
	}
	return run, nil
}

// RunState reads how a queued run is doing.
func (c *Client) RunState(ctx context.Context, run QueuedRun) (RunState, error) {
	if run.ID <= 0 {
		return RunState{}, fmt.Errorf("read run state: the host gave no run id (see %s)", run.Link)
	}
	var st RunState
	var err error
	switch h := c.host.(type) {
	case *githubHost:
		st, err = h.runState(ctx, run.ID)
	case *azureHost:
		st, err = h.runState(ctx, run.PipelineID, int(run.ID))
	default:
		err = fmt.Errorf("reading runs on %s is not supported", c.cfg.Host)
	}
	if err != nil {
		return RunState{}, fmt.Errorf("read state of run %d: %w", run.ID, err)
	}
	return st, nil
}

// PullRequest reads pull request id, its state and labels included.
func (c *Client) PullRequest(ctx context.Context, id int) (PullRequest, error) {
	if id <= 0 {
		return PullRequest{}, fmt.Errorf("read pull request %d: expected a positive number", id)
	}
	var pr PullRequest
	var err error
	switch h := c.host.(type) {
	case *githubHost:
		var p ghPull
		if _, err = h.do(ctx, http.MethodGet, h.repoPath("pulls", strconv.Itoa(id)), nil, nil, &p); err == nil {
			pr = p.pullRequest()
		}
	case *azureHost:
		repo, project := h.repoArgs()
		var p *git.GitPullRequest
		if p, err = h.git.GetPullRequest(ctx, git.GetPullRequestArgs{RepositoryId: repo, Project: project, PullRequestId: &id}); err == nil {
			pr = h.pullRequest(p)
		}
	default:
		err = fmt.Errorf("reading pull requests on %s is not supported", c.cfg.Host)
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("read pull request %d: %w", id, err)
	}
	return pr, nil
}

// queueRun is POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches
// with {"ref", "inputs", "return_run_details": true}: 200 with
// workflow_run_id and html_url (github.com since February 2026). GitHub
// Enterprise Server without the feature answers 422 "return_run_details is
// not a permitted key"; the dispatch is then sent again without it and
// answers 204 No Content.
func (h *githubHost) queueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error) {
	path := h.repoPath("actions", "workflows", pipeline, "dispatches")
	in := map[string]any{"ref": branch, "return_run_details": true}
	if len(params) > 0 {
		in["inputs"] = params
	}
	var out struct {
		ID      int64  `json:"workflow_run_id"`
		HTMLURL string `json:"html_url"`
	}
	// Nothing happened when GitHub refused the request, so a second
	// dispatch without the new key cannot start a second run.
	_, err := h.do(withSideEffects(ctx), http.MethodPost, path, nil, in, &out, http.StatusOK, http.StatusNoContent)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnprocessableEntity && strings.Contains(ae.Message, "return_run_details") {
		delete(in, "return_run_details")
		_, err = h.do(withSideEffects(ctx), http.MethodPost, path, nil, in, nil, http.StatusNoContent)
	}
	if err != nil {
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			return QueuedRun{}, fmt.Errorf("workflow %s does not exist in %s/%s: %w", pipeline, h.owner, h.repo, err)
		}
		return QueuedRun{}, err
	}
	if out.ID > 0 {
		return QueuedRun{ID: out.ID, Link: out.HTMLURL}, nil
	}
	return QueuedRun{Link: fmt.Sprintf("%s/%s/%s/actions/workflows/%s", h.web(), h.owner, h.repo, url.PathEscape(pipeline))}, nil
}

// web is the site people open: github.com for api.github.com, the server
// itself for GitHub Enterprise (https://host/api/v3).
func (h *githubHost) web() string {
	web := strings.TrimSuffix(strings.TrimSuffix(h.api, "/api/v3"), "/")
	if web == "https://api.github.com" {
		return "https://github.com"
	}
	return web
}

// runState is GET /repos/{owner}/{repo}/actions/runs/{id}.
func (h *githubHost) runState(ctx context.Context, id int64) (RunState, error) {
	var r ghRun
	if _, err := h.do(ctx, http.MethodGet, h.repoPath("actions", "runs", strconv.FormatInt(id, 10)), nil, nil, &r); err != nil {
		return RunState{}, err
	}
	st := RunState{When: r.UpdatedAt, Link: r.HTMLURL}
	// status: requested, queued, pending, waiting, in_progress, completed;
	// conclusion once completed: success, failure, cancelled, skipped,
	// timed_out, action_required, neutral, stale, startup_failure.
	switch r.Status {
	case "completed":
		st.Done = true
		switch c := deref(r.Conclusion); c {
		case "success":
			st.Status = "succeeded"
		case "failure", "timed_out", "startup_failure":
			st.Status = "failed"
		case "cancelled":
			st.Status = "canceled"
		default:
			st.Status = strings.ReplaceAll(c, "_", " ")
		}
	case "in_progress":
		st.Status = "running"
	case "waiting":
		st.Status = "waiting" // an environment's required reviewers
	default:
		st.Status = "queued"
	}
	return st, nil
}

// queueRun is the Pipelines Runs API: POST
// {project}/_apis/pipelines/{pipelineId}/runs with templateParameters (the
// pipeline's runtime parameters; an undeclared one is refused with 400) and
// the branch as the self repository's refName.
func (h *azureHost) queueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error) {
	id, err := h.pipelineID(ctx, pipeline)
	if err != nil {
		return QueuedRun{}, err
	}
	ref := "refs/heads/" + branch
	tp := map[string]string{}
	for k, v := range params {
		tp[k] = v
	}
	repos := map[string]pipelines.RepositoryResourceParameters{"self": {RefName: &ref}}
	run, err := h.pipelines.RunPipeline(withSideEffects(ctx), pipelines.RunPipelineArgs{
		Project:    &h.cfg.Project,
		PipelineId: &id,
		RunParameters: &pipelines.RunPipelineParameters{
			TemplateParameters: &tp,
			Resources:          &pipelines.RunResourcesParameters{Repositories: &repos},
		},
	})
	if err != nil {
		return QueuedRun{}, err
	}
	q := QueuedRun{ID: int64(deref(run.Id)), PipelineID: id, Link: webLink(run.Links)}
	if q.Link == "" {
		q.Link = h.buildLink(int(q.ID))
	}
	return q, nil
}

func (h *azureHost) buildLink(id int) string {
	return fmt.Sprintf("%s/%s/_build/results?buildId=%d", h.org, url.PathEscape(h.cfg.Project), id)
}

// pipelineID finds a pipeline by id, name or folder\name.
func (h *azureHost) pipelineID(ctx context.Context, pipeline string) (int, error) {
	if id, err := strconv.Atoi(pipeline); err == nil && id > 0 {
		return id, nil
	}
	top := 10000
	list, err := h.pipelines.ListPipelines(ctx, pipelines.ListPipelinesArgs{Project: &h.cfg.Project, Top: &top})
	if err != nil {
		return 0, fmt.Errorf("list pipelines of project %s: %w", h.cfg.Project, err)
	}
	var names []string
	if list != nil {
		want := strings.Trim(strings.ReplaceAll(pipeline, "/", `\`), `\`)
		for _, p := range *list {
			full := strings.Trim(deref(p.Folder)+`\`+deref(p.Name), `\`)
			if strings.EqualFold(deref(p.Name), want) || strings.EqualFold(full, want) {
				return deref(p.Id), nil
			}
			names = append(names, full)
		}
	}
	return 0, fmt.Errorf("pipeline %q does not exist in project %s (pipelines there: %s)", pipeline, h.cfg.Project, strings.Join(names, ", "))
}

// runState is GET {project}/_apis/pipelines/{pipelineId}/runs/{runId}.
func (h *azureHost) runState(ctx context.Context, pipelineID, id int) (RunState, error) {
	if pipelineID <= 0 {
		return RunState{}, errors.New("no pipeline id recorded with the run")
	}
	r, err := h.pipelines.GetRun(ctx, pipelines.GetRunArgs{Project: &h.cfg.Project, PipelineId: &pipelineID, RunId: &id})
	if err != nil {
		return RunState{}, err
	}
	st := RunState{Link: webLink(r.Links)}
	if st.Link == "" {
		st.Link = h.buildLink(id)
	}
	switch {
	case r.FinishedDate != nil:
		st.When = r.FinishedDate.Time
	case r.CreatedDate != nil:
		st.When = r.CreatedDate.Time
	}
	// state: unknown, inProgress, canceling, completed; result once
	// completed: succeeded, failed, canceled, unknown. A run waiting for an
	// environment's approval is inProgress.
	switch deref(r.State) {
	case pipelines.RunStateValues.Completed:
		st.Done = true
		st.Status = string(deref(r.Result))
	case pipelines.RunStateValues.Canceling:
		st.Status = "canceling"
	case pipelines.RunStateValues.InProgress:
		st.Status = "running"
	default:
		st.Status = "queued"
	}
	return st, nil
}
