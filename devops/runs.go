package devops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// QueuedRun says where a queued pipeline run can be followed.
type QueuedRun struct {
	// Link is the page listing the pipeline's runs (GitHub's dispatch
	// answers 204 with no run id, so the workflow's page is the link).
	Link string
}

// maxDispatchInputs is GitHub's limit on workflow_dispatch inputs ("The
// maximum number of properties is 10", Create a workflow dispatch event).
const maxDispatchInputs = 10

// QueueRun starts pipeline (a GitHub workflow file name) on branch with
// parameters: the maker app's Commit and Deploy on a pipeline host. The
// parameters are checked before anything is sent.
func (c *Client) QueueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error) {
	what := fmt.Sprintf("queue pipeline %q on %s", pipeline, branch)
	switch {
	case strings.TrimSpace(pipeline) == "":
		return QueuedRun{}, fmt.Errorf("%s: the profile names no pipeline", what)
	case strings.TrimSpace(branch) == "":
		return QueuedRun{}, fmt.Errorf("%s: branch is empty", what)
	case len(params) > maxDispatchInputs:
		return QueuedRun{}, fmt.Errorf("%s: %d parameters; GitHub accepts at most %d", what, len(params), maxDispatchInputs)
	}
	q, ok := c.host.(interface {
		queueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error)
	})
	if !ok {
		return QueuedRun{}, fmt.Errorf("%s: queueing runs on %s is not built yet", what, c.cfg.Host)
	}
	run, err := q.queueRun(ctx, pipeline, shortBranch(branch), params)
	if err != nil {
		return QueuedRun{}, fmt.Errorf("%s: %w", what, err)
	}
	return run, nil
}

// queueRun is POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches
// with {"ref", "inputs"}; GitHub answers 204 No Content.
func (h *githubHost) queueRun(ctx context.Context, pipeline, branch string, params map[string]string) (QueuedRun, error) {
	in := map[string]any{"ref": branch}
	if len(params) > 0 {
		in["inputs"] = params
	}
	// A dispatch repeated after a broken answer would run the workflow twice.
	if _, err := h.do(withSideEffects(ctx), http.MethodPost, h.repoPath("actions", "workflows", pipeline, "dispatches"), nil, in, nil, http.StatusNoContent); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
			return QueuedRun{}, fmt.Errorf("workflow %s does not exist in %s/%s: %w", pipeline, h.owner, h.repo, err)
		}
		return QueuedRun{}, err
	}
	web := strings.TrimSuffix(strings.TrimSuffix(h.api, "/api/v3"), "/")
	if web == "https://api.github.com" {
		web = "https://github.com"
	}
	return QueuedRun{Link: fmt.Sprintf("%s/%s/%s/actions/workflows/%s", web, h.owner, h.repo, pipeline)}, nil
}
