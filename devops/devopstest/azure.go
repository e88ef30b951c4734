package devopstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// AzurePullRequest is a pull request held by the Azure DevOps fake.
type AzurePullRequest struct {
	ID           int
	Source       string // refs/heads/...
	Target       string
	Title        string
	Description  string
	Status       string // active, completed, abandoned
	Labels       []string
	WorkItemRefs []string
	// MergeCommit is lastMergeCommit.commitId.
	MergeCommit string
}

// AzureBuild is a pipeline run held by the Azure DevOps fake.
type AzureBuild struct {
	ID                 int
	Number             string
	DefinitionID       int
	Definition         string
	Status             string // completed, inProgress, ...
	Result             string // succeeded, failed, ... ("" while running)
	Branch             string
	RequestedFor       string
	Tags               []string
	TemplateParameters map[string]string
	Queued             time.Time
	Finished           time.Time // zero while running
}

// AzureCommit is a commit held by the Azure DevOps fake; Paths are the items
// it touched ("/Contoso/src/Other/Solution.xml").
type AzureCommit struct {
	ID      string
	Author  string
	Email   string
	Date    time.Time
	Message string
	Paths   []string
}

// AzureDevOps is an Azure DevOps organization with one project and one
// repository, served on loopback.
type AzureDevOps struct {
	*httptest.Server
	recorder
	Org, Project, Repository, Token string
	// EntraToken, when set, is accepted as "Bearer": a maker's Entra access
	// token for Azure DevOps. Token is the PAT, accepted in Basic.
	EntraToken string

	pullRequests []*AzurePullRequest
	builds       []AzureBuild
	commits      []AzureCommit
	pipelines    []AzurePipeline
	// variableGroups is the project's Library (variables_azure.go).
	variableGroups []*AzureVariableGroup
}

// AzurePipeline is a YAML pipeline of the fake project.
type AzurePipeline struct {
	ID     int
	Name   string
	Folder string // "\\" when empty
	// Parameters are the pipeline's top-level (runtime) parameters.
	Parameters []AzureParameter
}

// AzureParameter is one runtime parameter of a pipeline.
type AzureParameter struct {
	Name string
	// Required says the parameter has no default: a run must give it.
	Required bool
}

// AddPipeline adds a pipeline, or replaces the one with its id (an edited
// YAML file); its id also names its build definition.
func (s *AzureDevOps) AddPipeline(p AzurePipeline) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Folder == "" {
		p.Folder = "\\"
	}
	for i := range s.pipelines {
		if s.pipelines[i].ID == p.ID {
			s.pipelines[i] = p
			return
		}
	}
	s.pipelines = append(s.pipelines, p)
}

// Builds returns a copy of the pipeline runs.
func (s *AzureDevOps) Builds() []AzureBuild {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AzureBuild(nil), s.builds...)
}

// SetRun changes a run's state (inProgress, completed) and result
// (succeeded, failed, canceled; "" until completed).
func (s *AzureDevOps) SetRun(id int, state, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.builds {
		if s.builds[i].ID == id {
			s.builds[i].Status, s.builds[i].Result = state, result
			if state == "completed" {
				s.builds[i].Finished = time.Now()
			}
		}
	}
}

// CompletePullRequest marks a pull request completed (merged).
func (s *AzureDevOps) CompletePullRequest(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pullRequests {
		if p.ID == id {
			p.Status = "completed"
		}
	}
}

// NewAzureDevOps starts the fake; it stops when t ends. The project name has a
// space so tests see escaping.
func NewAzureDevOps(t testing.TB) *AzureDevOps {
	s := &AzureDevOps{Org: "contoso", Project: "Power Apps", Repository: "alm-repo", Token: "ado-job-token-s3cret"}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// OrganizationURL is what SYSTEM_COLLECTIONURI would hold.
func (s *AzureDevOps) OrganizationURL() string { return s.URL + "/" + s.Org + "/" }

// AddPullRequest stores pr; ID 0 gets the next id.
func (s *AzureDevOps) AddPullRequest(pr AzurePullRequest) *AzurePullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr.ID == 0 {
		pr.ID = len(s.pullRequests) + 100
	}
	if pr.Status == "" {
		pr.Status = "active"
	}
	s.pullRequests = append(s.pullRequests, &pr)
	return &pr
}

// PullRequests returns a copy of the stored pull requests.
func (s *AzureDevOps) PullRequests() []AzurePullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AzurePullRequest, len(s.pullRequests))
	for i, p := range s.pullRequests {
		out[i] = *p
	}
	return out
}

// AddBuild stores a pipeline run.
func (s *AzureDevOps) AddBuild(b AzureBuild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.builds = append(s.builds, b)
}

// AddCommit stores a commit.
func (s *AzureDevOps) AddCommit(c AzureCommit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits = append(s.commits, c)
}

// Location ids and route templates as the service publishes them in
// OPTIONS _apis; built when a fake first answers, not at each ppalm start.
var azureLocations = sync.OnceValue(func() []map[string]any {
	return append([]map[string]any{
		loc("e81700f7-3be2-46de-8624-2eb35882fcaa", "Location", "ResourceAreas", "_apis/{resource}/{areaId}", "3.2", "0.0", 1),
		loc("9946fd70-0d40-406e-b686-b4744cbbcc37", "git", "pullRequests", "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}", "3.0", "7.1", 1),
		loc("f22387e3-984e-4c52-9c6d-fbb8f14c812d", "git", "pullRequestLabels", "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels/{labelIdOrName}", "5.0", "0.0", 1),
		loc("b3a6eebe-9cf0-49ea-b6cb-1a4c5f5007b0", "git", "pullRequestQuery", "{project}/_apis/{area}/repositories/{repositoryId}/{resource}", "3.0", "7.1", 1),
		loc("c2570c3b-5b3f-41b8-98bf-5407bfde8d58", "git", "commits", "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{commitId}", "1.0", "7.1", 1),
		loc("0cd358e1-9217-4d94-8269-1c1ee6f93dcf", "build", "builds", "{project}/_apis/{area}/{resource}/{buildId}", "2.0", "7.1", 7),
		loc("dbeaf647-6167-421a-bda9-c9327b25e2e6", "build", "definitions", "{project}/_apis/{area}/{resource}/{definitionId}", "2.0", "7.1", 7),
		loc("28e1305e-2afe-47bf-abaf-cbb0e6a91988", "pipelines", "pipelines", "{project}/_apis/{area}/{pipelineId}", "5.1", "7.1", 1),
		loc("7859261e-d2e9-4a68-b820-a5d84cc5bb3d", "pipelines", "runs", "{project}/_apis/{area}/{pipelineId}/{resource}/{runId}", "5.1", "7.1", 1),
	}, variableGroupLocations()...)
})

func loc(id, area, resource, route, minV, released string, rv int) map[string]any {
	return map[string]any{"id": id, "area": area, "resourceName": resource, "routeTemplate": route,
		"resourceVersion": rv, "minVersion": minV, "maxVersion": "7.2", "releasedVersion": released}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1-preview.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func collection[T any](items []T) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"count": len(items), "value": items}
}

// adoError answers like the service: a JSON exception body.
func adoError(w http.ResponseWriter, status int, typeKey, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg,
		"typeName": "Microsoft.TeamFoundation.Git.Server." + typeKey + ", Microsoft.TeamFoundation.Git.Server",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3000})
}

func (s *AzureDevOps) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if s.record(w, r, string(body)) {
		return
	}
	auth := r.Header.Get("Authorization")
	if auth != "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+s.Token)) && (s.EntraToken == "" || auth != "Bearer "+s.EntraToken) {
		w.Header().Set("X-TFS-ServiceError", url.QueryEscape("TF400813: The user 'Anonymous' is not authorized to access this resource."))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body></body></html>")
		return
	}
	org := "/" + s.Org
	p := strings.TrimPrefix(r.URL.Path, org)
	switch {
	case r.Method == http.MethodOptions && p == "/_apis":
		writeJSON(w, 200, collection(azureLocations()))
		return
	case r.Method == http.MethodGet && p == "/_apis/ResourceAreas":
		base := s.OrganizationURL()
		writeJSON(w, 200, collection([]map[string]any{
			{"id": "79134c72-4a58-4b42-976c-04e7115f32bf", "name": "core", "locationUrl": base},
			{"id": "4e080c62-fa21-4fbc-8fef-2a10a2b38049", "name": "git", "locationUrl": base},
			{"id": "965220d5-5bb9-42cf-8d67-9b146df2a5a4", "name": "build", "locationUrl": base},
			{"id": "5264459e-e5e0-4bd8-b118-0985e68a4ec5", "name": "wit", "locationUrl": base},
			{"id": "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd", "name": "distributedtask", "locationUrl": base},
		}))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Accept"), "application/json;api-version=") {
		adoError(w, 400, "VssVersionOutOfRangeException", "The request indicated a Content-Type of \"\" for method type \"GET\" which is not supported. Valid content types for this method are: application/json.")
		return
	}
	if s.serveLibrary(w, r, p, body) {
		return
	}
	proj := "/" + s.Project + "/_apis/"
	if !strings.HasPrefix(p, proj) {
		adoError(w, 404, "ProjectDoesNotExistWithNameException", fmt.Sprintf("TF200016: The following project does not exist: %s.", strings.Split(strings.TrimPrefix(p, "/"), "/")[0]))
		return
	}
	rest := strings.Split(strings.TrimPrefix(p, proj), "/")
	q := r.URL.Query()
	switch {
	case len(rest) >= 3 && rest[0] == "git" && rest[1] == "repositories":
		if rest[2] != s.Repository {
			adoError(w, 404, "GitRepositoryNotFoundException", fmt.Sprintf("TF401019: The Git repository with name or identifier %s does not exist or you do not have permissions for the operation you are attempting.", rest[2]))
			return
		}
		s.serveGit(w, r, rest[3:], q, body)
	case len(rest) == 2 && rest[0] == "build" && rest[1] == "definitions" && r.Method == http.MethodGet:
		s.serveDefinitions(w, q)
	case len(rest) == 2 && rest[0] == "build" && rest[1] == "builds" && r.Method == http.MethodGet:
		s.serveBuilds(w, q)
	case rest[0] == "pipelines":
		s.servePipelines(w, r, rest[1:], body)
	default:
		adoError(w, 404, "RouteNotFoundException", "no route for "+r.Method+" "+r.URL.Path)
	}
}

func (s *AzureDevOps) prJSON(p *AzurePullRequest) map[string]any {
	labels := []map[string]any{}
	for i, l := range p.Labels {
		labels = append(labels, map[string]any{"id": fmt.Sprintf("6f5c2d8e-0000-0000-0000-%012d", i), "name": l, "active": true})
	}
	repoURL := s.OrganizationURL() + "_apis/git/repositories/7a1c7a4e-3f4f-4b8e-9a38-b1d3bd7b3a01"
	m := map[string]any{
		"repository": map[string]any{"id": "7a1c7a4e-3f4f-4b8e-9a38-b1d3bd7b3a01", "name": s.Repository, "url": repoURL,
			"project": map[string]any{"id": "c1f0c8a2-9a56-4bd6-8d41-3c5c0b0d9a11", "name": s.Project, "state": "unchanged", "visibility": "private"}},
		"pullRequestId": p.ID, "codeReviewId": p.ID, "status": p.Status,
		"createdBy":    map[string]any{"displayName": "Project Collection Build Service (contoso)", "id": "2d4bd1a2-6f1b-4c8d-9d33-1f1e1c3a0a77", "uniqueName": "Build\\2d4bd1a2"},
		"creationDate": "2024-05-02T09:14:03.5712345Z",
		"title":        p.Title, "description": p.Description,
		"sourceRefName": p.Source, "targetRefName": p.Target,
		"mergeStatus": "succeeded", "isDraft": false, "mergeId": "e2b0a8d1-1b25-4d1f-9a3b-0f1c2d3e4f50",
		"reviewers": []any{}, "labels": labels, "supportsIterations": true,
		"url": fmt.Sprintf("%s/pullRequests/%d", repoURL, p.ID),
	}
	if p.MergeCommit != "" {
		m["lastMergeCommit"] = map[string]any{"commitId": p.MergeCommit, "url": repoURL + "/commits/" + p.MergeCommit}
	}
	return m
}

func (s *AzureDevOps) serveGit(w http.ResponseWriter, r *http.Request, rest []string, q url.Values, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(rest) == 1 && rest[0] == "pullRequests" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, p := range s.pullRequests {
			if v := q.Get("searchCriteria.sourceRefName"); v != "" && v != p.Source {
				continue
			}
			if v := q.Get("searchCriteria.targetRefName"); v != "" && v != p.Target {
				continue
			}
			if v := q.Get("searchCriteria.status"); v != "" && v != "all" && v != p.Status {
				continue
			}
			out = append(out, s.prJSON(p))
		}
		if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < len(out) {
			out = out[:top]
		}
		writeJSON(w, 200, collection(out))
	case len(rest) == 1 && rest[0] == "pullRequests" && r.Method == http.MethodPost:
		var in struct {
			SourceRefName, TargetRefName, Title, Description string
			Labels                                           []struct{ Name string }
			WorkItemRefs                                     []struct{ ID string }
		}
		if err := json.Unmarshal(body, &in); err != nil || in.SourceRefName == "" || in.TargetRefName == "" || in.Title == "" {
			adoError(w, 400, "InvalidArgumentValueException", "Value cannot be null. Parameter name: sourceRefName, targetRefName and title are required")
			return
		}
		for _, p := range s.pullRequests {
			if p.Status == "active" && p.Source == in.SourceRefName && p.Target == in.TargetRefName {
				adoError(w, 409, "GitPullRequestExistsException", "TF401179: An active pull request for the source and target branch already exists.")
				return
			}
		}
		p := &AzurePullRequest{ID: len(s.pullRequests) + 100, Source: in.SourceRefName, Target: in.TargetRefName, Title: in.Title, Description: in.Description, Status: "active"}
		for _, l := range in.Labels {
			p.Labels = append(p.Labels, l.Name)
		}
		for _, wi := range in.WorkItemRefs {
			p.WorkItemRefs = append(p.WorkItemRefs, wi.ID)
		}
		s.pullRequests = append(s.pullRequests, p)
		writeJSON(w, 201, s.prJSON(p))
	case len(rest) == 2 && rest[0] == "pullRequests" && r.Method == http.MethodGet:
		id, _ := strconv.Atoi(rest[1])
		for _, p := range s.pullRequests {
			if p.ID == id {
				writeJSON(w, 200, s.prJSON(p))
				return
			}
		}
		adoError(w, 404, "GitPullRequestNotFoundException", "TF401180: The requested pull request was not found.")
	case len(rest) == 3 && rest[0] == "pullRequests" && rest[2] == "labels" && r.Method == http.MethodGet:
		id, _ := strconv.Atoi(rest[1])
		for _, p := range s.pullRequests {
			if p.ID == id {
				writeJSON(w, 200, collection(s.prJSON(p)["labels"].([]map[string]any)))
				return
			}
		}
		adoError(w, 404, "GitPullRequestNotFoundException", "TF401180: The requested pull request was not found.")
	case len(rest) == 1 && rest[0] == "pullRequestQuery" && r.Method == http.MethodPost:
		var in struct {
			Queries []struct {
				Items []string
				Type  string
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			adoError(w, 400, "InvalidArgumentValueException", "queries: "+err.Error())
			return
		}
		var results []map[string][]map[string]any
		for _, qi := range in.Queries {
			res := map[string][]map[string]any{}
			for _, sha := range qi.Items {
				for _, p := range s.pullRequests {
					if qi.Type == "lastMergeCommit" && p.MergeCommit == sha {
						res[sha] = append(res[sha], s.prJSON(p))
					}
				}
			}
			results = append(results, res)
		}
		writeJSON(w, 200, map[string]any{"queries": json.RawMessage(mustJSON(in.Queries)), "results": results})
	case len(rest) == 1 && rest[0] == "commits" && r.Method == http.MethodGet:
		item := q.Get("searchCriteria.itemPath")
		var out []map[string]any
		for _, c := range s.commits {
			if item != "" && !touches(c.Paths, item) {
				continue
			}
			author := map[string]any{"name": c.Author, "email": c.Email, "date": c.Date.UTC().Format(time.RFC3339)}
			out = append(out, map[string]any{"commitId": c.ID, "author": author, "committer": author, "comment": c.Message,
				"changeCounts": map[string]int{"Add": 0, "Edit": len(c.Paths), "Delete": 0},
				"url":          s.OrganizationURL() + "_apis/git/repositories/7a1c7a4e-3f4f-4b8e-9a38-b1d3bd7b3a01/commits/" + c.ID,
				"remoteUrl":    s.OrganizationURL() + url.PathEscape(s.Project) + "/_git/" + s.Repository + "/commit/" + c.ID})
		}
		if item != "" && len(out) == 0 {
			adoError(w, 404, "GitItemNotFoundException", fmt.Sprintf("TF401174: The item '%s' could not be found in the repository '%s' at the version specified by '<Branch: main >' (resolved to commit '0000000000000000000000000000000000000000').", item, s.Repository))
			return
		}
		if top, err := strconv.Atoi(q.Get("searchCriteria.$top")); err == nil && top < len(out) {
			out = out[:top]
		}
		writeJSON(w, 200, collection(out))
	default:
		adoError(w, 404, "RouteNotFoundException", "no route for "+r.Method+" "+r.URL.Path)
	}
}

func touches(paths []string, item string) bool {
	for _, p := range paths {
		if p == item || strings.HasPrefix(p, strings.TrimRight(item, "/")+"/") {
			return true
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *AzureDevOps) serveDefinitions(w http.ResponseWriter, q url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pattern := strings.ToLower(q.Get("name"))
	seen := map[int]bool{}
	var out []map[string]any
	for _, b := range s.builds {
		if seen[b.DefinitionID] {
			continue
		}
		if ok, _ := path.Match(pattern, strings.ToLower(b.Definition)); pattern != "" && !ok {
			continue
		}
		seen[b.DefinitionID] = true
		out = append(out, s.definitionJSON(b))
	}
	writeJSON(w, 200, collection(out))
}

func (s *AzureDevOps) definitionJSON(b AzureBuild) map[string]any {
	return map[string]any{"id": b.DefinitionID, "name": b.Definition, "path": "\\", "type": "build", "queueStatus": "enabled", "revision": 3,
		"url":     fmt.Sprintf("%s%s/_apis/build/Definitions/%d?revision=3", s.OrganizationURL(), url.PathEscape(s.Project), b.DefinitionID),
		"project": map[string]any{"id": "c1f0c8a2-9a56-4bd6-8d41-3c5c0b0d9a11", "name": s.Project}}
}

func (s *AzureDevOps) serveBuilds(w http.ResponseWriter, q url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defs := map[string]bool{}
	if v := q.Get("definitions"); v != "" {
		for _, d := range strings.Split(v, ",") {
			defs[d] = true
		}
	}
	builds := append([]AzureBuild(nil), s.builds...)
	sort.SliceStable(builds, func(i, j int) bool { return builds[i].Queued.After(builds[j].Queued) })
	var out []map[string]any
	for _, b := range builds {
		if len(defs) > 0 && !defs[strconv.Itoa(b.DefinitionID)] {
			continue
		}
		web := fmt.Sprintf("%s%s/_build/results?buildId=%d", s.OrganizationURL(), url.PathEscape(s.Project), b.ID)
		m := map[string]any{
			"_links": map[string]any{"self": map[string]any{"href": fmt.Sprintf("%s_apis/build/Builds/%d", s.OrganizationURL(), b.ID)}, "web": map[string]any{"href": web}},
			"id":     b.ID, "buildNumber": b.Number, "status": b.Status,
			"queueTime":    b.Queued.UTC().Format(time.RFC3339Nano),
			"startTime":    b.Queued.Add(20 * time.Second).UTC().Format(time.RFC3339Nano),
			"definition":   s.definitionJSON(b),
			"sourceBranch": b.Branch, "sourceVersion": "5d2c0b8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
			"requestedFor": map[string]any{"displayName": b.RequestedFor, "uniqueName": strings.ReplaceAll(strings.ToLower(b.RequestedFor), " ", ".") + "@contoso.com", "id": "a3e2f1d0-0000-0000-0000-000000000001"},
			"reason":       "manual", "tags": b.Tags, "templateParameters": b.TemplateParameters,
		}
		if b.Tags == nil {
			m["tags"] = []string{}
		}
		if b.Result != "" {
			m["result"] = b.Result
		}
		if !b.Finished.IsZero() {
			m["finishTime"] = b.Finished.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, m)
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < len(out) {
		out = out[:top]
	}
	writeJSON(w, 200, collection(out))
}

func (s *AzureDevOps) pipelineJSON(p AzurePipeline) map[string]any {
	api := fmt.Sprintf("%s%s/_apis/pipelines/%d", s.OrganizationURL(), url.PathEscape(s.Project), p.ID)
	return map[string]any{"id": p.ID, "name": p.Name, "folder": p.Folder, "revision": 1, "url": api + "?revision=1",
		"_links": map[string]any{"self": map[string]any{"href": api}, "web": map[string]any{"href": fmt.Sprintf("%s%s/_build/definition?definitionId=%d", s.OrganizationURL(), url.PathEscape(s.Project), p.ID)}}}
}

func (s *AzureDevOps) runJSON(p AzurePipeline, b AzureBuild) map[string]any {
	api := fmt.Sprintf("%s%s/_apis/pipelines/%d/runs/%d", s.OrganizationURL(), url.PathEscape(s.Project), p.ID, b.ID)
	web := fmt.Sprintf("%s%s/_build/results?buildId=%d", s.OrganizationURL(), url.PathEscape(s.Project), b.ID)
	state := b.Status
	if state == "notStarted" {
		state = "inProgress" // the Pipelines API folds the build's notStarted into inProgress
	}
	m := map[string]any{"id": b.ID, "name": b.Number, "state": state, "url": api,
		"_links":             map[string]any{"self": map[string]any{"href": api}, "web": map[string]any{"href": web}},
		"pipeline":           map[string]any{"id": p.ID, "name": p.Name, "folder": p.Folder, "revision": 1},
		"createdDate":        b.Queued.UTC().Format(time.RFC3339Nano),
		"templateParameters": b.TemplateParameters,
		"resources": map[string]any{"repositories": map[string]any{"self": map[string]any{"refName": b.Branch, "version": "5d2c0b8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
			"repository": map[string]any{"id": "7a1c7a4e-3f4f-4b8e-9a38-b1d3bd7b3a01", "type": "azureReposGit"}}}},
	}
	if b.Result != "" {
		m["result"] = b.Result
	}
	if !b.Finished.IsZero() {
		m["finishedDate"] = b.Finished.UTC().Format(time.RFC3339Nano)
	}
	return m
}

// pipelineError answers like the pipelines service (see doc.go).
func pipelineError(w http.ResponseWriter, status int, typeKey, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg,
		"typeName": "Microsoft.Azure.Pipelines.WebApi." + typeKey + ", Microsoft.Azure.Pipelines.WebApi",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3000})
}

// servePipelines is the Pipelines API: list pipelines, run one with
// templateParameters (refusing a parameter the pipeline does not declare and
// a required one left out, 400 PipelineValidationException), read a run.
func (s *AzureDevOps) servePipelines(w http.ResponseWriter, r *http.Request, rest []string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rest) == 0 && r.Method == http.MethodGet {
		var out []map[string]any
		for _, p := range s.pipelines {
			out = append(out, s.pipelineJSON(p))
		}
		writeJSON(w, 200, collection(out))
		return
	}
	id, _ := strconv.Atoi(rest[0])
	var p *AzurePipeline
	for i := range s.pipelines {
		if s.pipelines[i].ID == id {
			p = &s.pipelines[i]
		}
	}
	if p == nil {
		pipelineError(w, 404, "PipelineNotFoundException", fmt.Sprintf("Pipeline with id %s not found.", rest[0]))
		return
	}
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		writeJSON(w, 200, s.pipelineJSON(*p))
	case len(rest) == 2 && rest[1] == "runs" && r.Method == http.MethodPost:
		var in struct {
			TemplateParameters map[string]string `json:"templateParameters"`
			Resources          struct {
				Repositories map[string]struct {
					RefName string `json:"refName"`
				} `json:"repositories"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			pipelineError(w, 400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: runParameters")
			return
		}
		declared := map[string]bool{}
		for _, d := range p.Parameters {
			declared[d.Name] = true
		}
		var names []string
		for k := range in.TemplateParameters {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !declared[k] {
				pipelineError(w, 400, "PipelineValidationException", fmt.Sprintf("Unexpected parameter '%s'", k))
				return
			}
		}
		for _, d := range p.Parameters {
			if _, ok := in.TemplateParameters[d.Name]; d.Required && !ok {
				pipelineError(w, 400, "PipelineValidationException", fmt.Sprintf("A value for the '%s' parameter must be provided.", d.Name))
				return
			}
		}
		ref := "refs/heads/main"
		if self, ok := in.Resources.Repositories["self"]; ok && self.RefName != "" {
			ref = self.RefName
		}
		b := AzureBuild{ID: 500 + len(s.builds), DefinitionID: p.ID, Definition: p.Name, Status: "notStarted", Branch: ref,
			RequestedFor: "Alex Maker", TemplateParameters: in.TemplateParameters, Queued: time.Now()}
		b.Number = fmt.Sprintf("%s.%d", b.Queued.UTC().Format("20060102"), len(s.builds)+1)
		s.builds = append(s.builds, b)
		writeJSON(w, 200, s.runJSON(*p, b))
	case len(rest) == 3 && rest[1] == "runs" && r.Method == http.MethodGet:
		run, _ := strconv.Atoi(rest[2])
		for _, b := range s.builds {
			if b.ID == run && b.DefinitionID == p.ID {
				writeJSON(w, 200, s.runJSON(*p, b))
				return
			}
		}
		pipelineError(w, 404, "PipelineRunNotFoundException", fmt.Sprintf("Pipeline run %d not found in pipeline %d.", run, p.ID))
	default:
		adoError(w, 404, "RouteNotFoundException", "no route for "+r.Method+" "+r.URL.Path)
	}
}
