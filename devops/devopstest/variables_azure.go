package devopstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Azure DevOps variable groups (Library) and the project lookup they need,
// as the service answers azure-devops-go-api v7's taskagent and core
// clients:
//
//   - GET _apis/projects/{name or id}: the project, with its id.
//   - GET {project}/_apis/distributedtask/variablegroups?groupName=: the
//     project's groups whose name matches (case-insensitive); a secret
//     variable comes back as {"isSecret": true, "value": null}.
//   - POST _apis/distributedtask/variablegroups (organization level): a new
//     group. The body must carry "at least one variable group project
//     reference" whose projectReference.id is the project's id (the
//     service's message when it is missing, Dejulia489/AzurePipelinesPS#32);
//     a second group with the same name in the project is refused with
//     "Variable group 'NAME' already exists." (microsoft/bedrock#788; the
//     status code is not documented, 400 here).
//   - PUT _apis/distributedtask/variablegroups/{id}: replaces the group; a
//     variable left out is deleted (MicrosoftDocs/vsts-rest-api-specs#235);
//     a secret sent with no value keeps its stored value
//     (microsoft/terraform-provider-azuredevops#1433). An unknown id is 404.
//
// The fake keeps secret values so tests can check what the pipeline would
// read; it never serves them.

// AzureVariable is a variable of a variable group.
type AzureVariable struct {
	Value    string
	IsSecret bool
}

// AzureVariableGroup is a variable group held by the Azure DevOps fake.
type AzureVariableGroup struct {
	ID          int
	Name        string
	Description string
	Variables   map[string]AzureVariable
	Modified    time.Time
}

const azureProjectID = "c1f0c8a2-9a56-4bd6-8d41-3c5c0b0d9a11"

// variableGroupLocations are the location ids of variable groups and
// projects.
func variableGroupLocations() []map[string]any {
	return []map[string]any{
		loc("ef5b7057-ffc3-4c77-bbad-c10b4a4abcc7", "distributedtask", "variablegroups", "_apis/{area}/{resource}/{groupId}", "5.0", "7.1", 2),
		loc("f5b09dd5-9d54-45a1-8b5a-1c8287d634cc", "distributedtask", "variablegroups", "{project}/_apis/{area}/{resource}/{groupId}", "3.2", "7.1", 2),
		loc("603fe2ac-9723-48b9-88ad-09305aa6c6e1", "core", "projects", "_apis/{resource}/{*projectId}", "1.0", "7.1", 4),
	}
}

// VariableGroup returns a copy of the project's group named name.
func (s *AzureDevOps) VariableGroup(name string) (AzureVariableGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.variableGroups {
		if strings.EqualFold(g.Name, name) {
			c := *g
			c.Variables = map[string]AzureVariable{}
			for k, v := range g.Variables {
				c.Variables[k] = v
			}
			return c, true
		}
	}
	return AzureVariableGroup{}, false
}

func (s *AzureDevOps) groupJSON(g *AzureVariableGroup) map[string]any {
	vars := map[string]any{}
	for n, v := range g.Variables {
		if v.IsSecret {
			vars[n] = map[string]any{"isSecret": true, "value": nil}
		} else {
			vars[n] = map[string]any{"value": v.Value}
		}
	}
	who := map[string]any{"displayName": "Megan Bowen", "id": "a3e2f1d0-0000-0000-0000-000000000001", "uniqueName": "megan@contoso.com"}
	return map[string]any{
		"variables": vars, "id": g.ID, "type": "Vsts", "name": g.Name, "description": g.Description,
		"createdBy": who, "createdOn": g.Modified.UTC().Format(time.RFC3339Nano), "modifiedBy": who, "modifiedOn": g.Modified.UTC().Format(time.RFC3339Nano),
		"isShared": false,
		"variableGroupProjectReferences": []any{map[string]any{"name": g.Name, "description": g.Description,
			"projectReference": map[string]any{"id": azureProjectID, "name": s.Project}}},
	}
}

// variableGroupBody is what POST and PUT carry.
type variableGroupBody struct {
	Name        string
	Description string
	Type        string
	Variables   map[string]struct {
		Value    *string
		IsSecret bool
	}
	VariableGroupProjectReferences []struct {
		Name             string
		ProjectReference *struct{ ID, Name string }
	}
}

func distributedTaskError(w http.ResponseWriter, status int, typeKey, msg string) {
	writeJSON(w, status, map[string]any{"$id": "1", "innerException": nil, "message": msg,
		"typeName": "Microsoft.TeamFoundation.DistributedTask.WebApi." + typeKey + ", Microsoft.TeamFoundation.DistributedTask.WebApi",
		"typeKey":  typeKey, "errorCode": 0, "eventId": 3000})
}

// serveLibrary answers the project and variable group routes; p is the path
// after the organization. It reports whether it answered.
func (s *AzureDevOps) serveLibrary(w http.ResponseWriter, r *http.Request, p string, body []byte) bool {
	projectGroups := "/" + s.Project + "/_apis/distributedtask/variablegroups"
	switch {
	case strings.HasPrefix(p, "/_apis/projects/") && r.Method == http.MethodGet:
		name := strings.TrimPrefix(p, "/_apis/projects/")
		if !strings.EqualFold(name, s.Project) && !strings.EqualFold(name, azureProjectID) {
			adoError(w, 404, "ProjectDoesNotExistWithNameException", fmt.Sprintf("TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", name))
			return true
		}
		writeJSON(w, 200, map[string]any{"id": azureProjectID, "name": s.Project, "state": "wellFormed", "revision": 11, "visibility": "private",
			"url": s.OrganizationURL() + "_apis/projects/" + azureProjectID, "lastUpdateTime": "2024-04-02T08:00:00Z"})
		return true
	case (p == projectGroups || strings.HasPrefix(p, projectGroups+"/")) && r.Method == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		if id := strings.TrimPrefix(strings.TrimPrefix(p, projectGroups), "/"); id != "" {
			for _, g := range s.variableGroups {
				if strconv.Itoa(g.ID) == id {
					writeJSON(w, 200, s.groupJSON(g))
					return true
				}
			}
			distributedTaskError(w, 404, "VariableGroupNotFoundException", fmt.Sprintf("Variable group with id %s does not exist.", id))
			return true
		}
		name := r.URL.Query().Get("groupName")
		var out []map[string]any
		for _, g := range s.variableGroups {
			if name == "" || strings.EqualFold(g.Name, name) {
				out = append(out, s.groupJSON(g))
			}
		}
		writeJSON(w, 200, collection(out))
		return true
	case p == "/_apis/distributedtask/variablegroups" && r.Method == http.MethodPost:
		in, ok := s.decodeGroupBody(w, body)
		if !ok {
			return true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, g := range s.variableGroups {
			if strings.EqualFold(g.Name, in.Name) {
				distributedTaskError(w, 400, "VariableGroupExistsException", fmt.Sprintf("Variable group '%s' already exists.", in.Name))
				return true
			}
		}
		g := &AzureVariableGroup{ID: len(s.variableGroups) + 1, Name: in.Name, Description: in.Description, Variables: map[string]AzureVariable{}, Modified: time.Now()}
		s.applyVariables(g, in)
		s.variableGroups = append(s.variableGroups, g)
		writeJSON(w, 200, s.groupJSON(g))
		return true
	case strings.HasPrefix(p, "/_apis/distributedtask/variablegroups/") && r.Method == http.MethodPut:
		id := strings.TrimPrefix(p, "/_apis/distributedtask/variablegroups/")
		in, ok := s.decodeGroupBody(w, body)
		if !ok {
			return true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, g := range s.variableGroups {
			if strconv.Itoa(g.ID) == id {
				g.Name, g.Description, g.Modified = in.Name, in.Description, time.Now()
				s.applyVariables(g, in)
				writeJSON(w, 200, s.groupJSON(g))
				return true
			}
		}
		distributedTaskError(w, 404, "VariableGroupNotFoundException", fmt.Sprintf("Variable group with id %s does not exist.", id))
		return true
	}
	return false
}

// decodeGroupBody reads the body of a POST or PUT of a group, answering
// the service's refusal when it has no name or no reference to the project.
func (s *AzureDevOps) decodeGroupBody(w http.ResponseWriter, body []byte) (variableGroupBody, bool) {
	var in variableGroupBody
	if err := json.Unmarshal(body, &in); err != nil || strings.TrimSpace(in.Name) == "" {
		distributedTaskError(w, 400, "ArgumentNullException", "Value cannot be null. Parameter name: group.Name")
		return in, false
	}
	for _, ref := range in.VariableGroupProjectReferences {
		if ref.ProjectReference != nil && strings.EqualFold(ref.ProjectReference.ID, azureProjectID) {
			return in, true
		}
	}
	distributedTaskError(w, 400, "ArgumentException", "At least one variable group project reference is required.")
	return in, false
}

// applyVariables replaces g's variables by in's, keeping a secret's stored
// value when in sends it without one.
func (s *AzureDevOps) applyVariables(g *AzureVariableGroup, in variableGroupBody) {
	next := map[string]AzureVariable{}
	for name, v := range in.Variables {
		nv := AzureVariable{IsSecret: v.IsSecret}
		if v.Value != nil {
			nv.Value = *v.Value
		} else if old, ok := g.Variables[name]; ok && old.IsSecret && v.IsSecret {
			nv.Value = old.Value
		}
		next[name] = nv
	}
	g.Variables = next
}

// VariableGroups lists the names of the project's variable groups.
func (s *AzureDevOps) VariableGroups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.variableGroups {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}
