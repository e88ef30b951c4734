// Package devopstest runs Azure DevOps and GitHub REST servers on loopback
// for tests. They answer with the JSON shapes the real services send,
// including what azure-devops-go-api asks before any call (OPTIONS _apis for
// the route table, GET _apis/ResourceAreas), check the token, keep pull
// requests as state, record every request and can be told to fail the next
// matching request (a 429 with Retry-After, a 5xx).
//
// # What they refuse, and where that comes from
//
// Like the Dataverse emulator, the fakes refuse what the services refuse,
// with the services' status codes and words:
//
//   - GitHub, Create a workflow dispatch event
//     (POST /repos/{o}/{r}/actions/workflows/{file}/dispatches): 404 for a
//     workflow file the repository lacks; 422 "Workflow does not have
//     'workflow_dispatch' trigger" (benc-uk/workflow-dispatch #46, #81,
//     go-gitea/gitea #37660, which copied the behaviour); 422 "Unexpected
//     inputs provided: [\"x\"]" for an input the trigger does not declare
//     (convictional/trigger-workflow-and-wait #53, backstage/backstage
//     #20023); 422 "Required input 'x' not provided" (backstage/backstage
//     #18511); at most 25 inputs (the endpoint's documentation, REST API
//     2026-03-10; the fake's wording for that refusal is its own). With
//     "return_run_details": true it answers 200 with workflow_run_id,
//     run_url and html_url instead of 204 (GitHub changelog 2026-02-19,
//     google/go-github #4028, PyGithub #3471); GitHub Enterprise Server
//     3.19 refuses that key with 422 "\"return_run_details\" is not a
//     permitted key." (benc-uk/workflow-dispatch #86), which
//     GitHub.WithoutRunDetails reproduces. A dispatched run starts queued.
//   - Azure DevOps, Pipelines Runs API
//     (POST {project}/_apis/pipelines/{id}/runs): a templateParameters key
//     the pipeline does not declare as a top-level parameter is refused with
//     400 PipelineValidationException (measured against the service with
//     the preview endpoint, which expands the same way: templateParameters
//     {"nosuch": "value"} gave HTTP 400, typeKey PipelineValidationException;
//     the message "Unexpected parameter 'x'" is the template engine's
//     wording for an undeclared parameter). A required parameter left out is
//     refused with "A value for the 'x' parameter must be provided.", the
//     service's sentence for it (microsoft/azure-devops-node-api #392). A
//     run is a build of the pipeline's definition (same id); the Pipelines
//     API reports a notStarted build as inProgress.
package devopstest

import (
	"net/http"
	"strings"
	"sync"
)

// Request is one request a fake server received.
type Request struct {
	Method string
	Path   string // decoded
	Query  string // raw
	Accept string
	Body   string
}

// Fault is an answer given instead of the real one.
type Fault struct {
	Method     string // "" matches any
	PathSuffix string // matched against the decoded path
	Status     int
	Header     http.Header
	Body       string
}

type recorder struct {
	mu       sync.Mutex
	requests []Request
	faults   []Fault
}

// Requests returns what the server received so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// FailNext makes the next request matching f get f's answer; faults are used
// once each, in order.
func (r *recorder) FailNext(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// record notes the request and answers a pending fault; it reports whether
// it answered.
func (r *recorder) record(w http.ResponseWriter, req *http.Request, body string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Accept: req.Header.Get("Accept"), Body: body})
	for i, f := range r.faults {
		if (f.Method == "" || f.Method == req.Method) && strings.HasSuffix(req.URL.Path, f.PathSuffix) {
			r.faults = append(r.faults[:i], r.faults[i+1:]...)
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return true
		}
	}
	return false
}
