package devops

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/taskagent"
)

// Azure DevOps variable groups (distributedtask/variablegroups, api-version
// 7.1-preview.2), through azure-devops-go-api's taskagent client:
//
//   - GetVariableGroups (GET {project}/_apis/distributedtask/variablegroups
//     ?groupName=) finds the group; secret variables come back with no
//     value.
//   - AddVariableGroup (POST _apis/distributedtask/variablegroups, at the
//     organization) needs "at least one variable group project reference"
//     naming the project by id, so the project's id is looked up first
//     (core GetProject). The microsoft/terraform-provider-azuredevops
//     variable group resource builds the same body.
//   - UpdateVariableGroup (PUT _apis/distributedtask/variablegroups/{id})
//     replaces the whole variable map: "all variables in the VariableGroup
//     that is not in the request payload are deleted from the group"
//     (MicrosoftDocs/vsts-rest-api-specs#235). So the group is read, the
//     new values merged in, and every other variable sent back; a secret
//     sent back with no value keeps its value ("the azdo http service has
//     always allowed you to send a null for a value of an existing secret
//     and it would NOT update the value", terraform-provider-azuredevops#1433).
//
// The read-modify-write is not atomic: two makers saving the same
// environment at the same moment can lose one of the two saves (the
// service offers no revision check on variable groups).

func (h *azureHost) taskAgent() (taskagent.Client, error) {
	c, err := h.area(taskagent.ResourceAreaId, "distributedtask")
	if err != nil {
		return nil, err
	}
	return &taskagent.ClientImpl{Client: *c}, nil
}

// findVariableGroup returns the project's group named name, or nil.
func (h *azureHost) findVariableGroup(ctx context.Context, ta taskagent.Client, name string) (*taskagent.VariableGroup, error) {
	groups, err := ta.GetVariableGroups(ctx, taskagent.GetVariableGroupsArgs{Project: &h.cfg.Project, GroupName: &name})
	if err != nil {
		return nil, fmt.Errorf("find variable group %q: %w", name, err)
	}
	if groups == nil {
		return nil, nil
	}
	for i, g := range *groups {
		if g.Name != nil && strings.EqualFold(*g.Name, name) {
			return &(*groups)[i], nil
		}
	}
	return nil, nil
}

// groupVariables decodes a group's variable map.
func groupVariables(g *taskagent.VariableGroup) (map[string]taskagent.VariableValue, error) {
	out := map[string]taskagent.VariableValue{}
	if g == nil || g.Variables == nil {
		return out, nil
	}
	for name, raw := range *g.Variables {
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, err
		}
		var v taskagent.VariableValue
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

func (h *azureHost) setVariables(ctx context.Context, environment string, vars []resolvedVariable) error {
	ta, err := h.taskAgent()
	if err != nil {
		return err
	}
	name := VariableGroupName(environment)
	group, err := h.findVariableGroup(ctx, ta, name)
	if err != nil {
		return err
	}
	existing, err := groupVariables(group)
	if err != nil {
		return fmt.Errorf("read variable group %q: %w", name, err)
	}
	merged := map[string]any{}
	for n, v := range existing {
		if v.IsSecret != nil && *v.IsSecret {
			v.Value = nil // keep the stored secret
		}
		merged[n] = v
	}
	for _, v := range vars {
		// Names are case-insensitive: replace any spelling of this one.
		for n := range merged {
			if strings.EqualFold(n, v.stored) {
				delete(merged, n)
			}
		}
		value, secret := v.Value, v.Secret
		merged[v.stored] = taskagent.VariableValue{Value: &value, IsSecret: &secret}
	}
	description := "Pipeline variables of the " + environment + " deployment, set by ppalm maker"
	vgType := "Vsts"
	if group == nil {
		cc, err := h.area(core.ResourceAreaId, "core")
		if err != nil {
			return err
		}
		project, err := (&core.ClientImpl{Client: *cc}).GetProject(ctx, core.GetProjectArgs{ProjectId: &h.cfg.Project})
		if err != nil {
			return fmt.Errorf("look up project %q: %w", h.cfg.Project, err)
		}
		if project == nil || project.Id == nil {
			return fmt.Errorf("look up project %q: the answer has no id", h.cfg.Project)
		}
		_, err = ta.AddVariableGroup(withSideEffects(ctx), taskagent.AddVariableGroupArgs{VariableGroupParameters: &taskagent.VariableGroupParameters{
			Name: &name, Description: &description, Type: &vgType, Variables: &merged,
			VariableGroupProjectReferences: &[]taskagent.VariableGroupProjectReference{{
				Name: &name, Description: &description,
				ProjectReference: &taskagent.ProjectReference{Id: project.Id, Name: project.Name},
			}},
		}})
		if err != nil {
			return fmt.Errorf("create variable group %q: %w", name, err)
		}
		return nil
	}
	params := &taskagent.VariableGroupParameters{
		Name: group.Name, Description: group.Description, Type: group.Type, ProviderData: group.ProviderData,
		VariableGroupProjectReferences: group.VariableGroupProjectReferences, Variables: &merged,
	}
	if params.Type == nil {
		params.Type = &vgType
	}
	if _, err := ta.UpdateVariableGroup(ctx, taskagent.UpdateVariableGroupArgs{GroupId: group.Id, VariableGroupParameters: params}); err != nil {
		return fmt.Errorf("update variable group %q: %w", name, err)
	}
	return nil
}

func (h *azureHost) deleteVariables(ctx context.Context, environment string, stored []string) error {
	ta, err := h.taskAgent()
	if err != nil {
		return err
	}
	name := VariableGroupName(environment)
	group, err := h.findVariableGroup(ctx, ta, name)
	if err != nil || group == nil {
		return err
	}
	existing, err := groupVariables(group)
	if err != nil {
		return fmt.Errorf("read variable group %q: %w", name, err)
	}
	merged := map[string]any{}
	removed := false
	for n, v := range existing {
		gone := false
		for _, s := range stored {
			gone = gone || strings.EqualFold(n, s)
		}
		if gone {
			removed = true
			continue
		}
		if v.IsSecret != nil && *v.IsSecret {
			v.Value = nil // keep the stored secret
		}
		merged[n] = v
	}
	if !removed {
		return nil
	}
	params := &taskagent.VariableGroupParameters{
		Name: group.Name, Description: group.Description, Type: group.Type, ProviderData: group.ProviderData,
		VariableGroupProjectReferences: group.VariableGroupProjectReferences, Variables: &merged,
	}
	if params.Type == nil {
		vgType := "Vsts"
		params.Type = &vgType
	}
	if _, err := ta.UpdateVariableGroup(ctx, taskagent.UpdateVariableGroupArgs{GroupId: group.Id, VariableGroupParameters: params}); err != nil {
		return fmt.Errorf("update variable group %q: %w", name, err)
	}
	return nil
}

func (h *azureHost) variables(ctx context.Context, environment string) ([]StoredVariable, error) {
	ta, err := h.taskAgent()
	if err != nil {
		return nil, err
	}
	group, err := h.findVariableGroup(ctx, ta, VariableGroupName(environment))
	if err != nil || group == nil {
		return nil, err
	}
	vars, err := groupVariables(group)
	if err != nil {
		return nil, err
	}
	var out []StoredVariable
	for n, v := range vars {
		s := StoredVariable{Name: n, Secret: v.IsSecret != nil && *v.IsSecret}
		if !s.Secret && v.Value != nil {
			s.Value = *v.Value
		}
		out = append(out, s)
	}
	return out, nil
}
