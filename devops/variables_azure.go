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
	drop := make([]string, 0, len(vars))
	for _, v := range vars {
		drop = append(drop, v.stored)
	}
	// Names are case-insensitive: any spelling of a name set is replaced.
	merged, _ := keptVariables(existing, drop)
	for _, v := range vars {
		value, secret := v.Value, v.Secret
		merged[v.stored] = taskagent.VariableValue{Value: &value, IsSecret: &secret}
	}
	if group != nil {
		return h.updateGroup(ctx, ta, name, group, merged)
	}
	description := "Pipeline variables of the " + environment + " deployment, set by ppalm maker"
	vgType := variableGroupType
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

// keptVariables is a group's variable map without the names in drop
// (compared without case), each secret sent back without a value so that it
// keeps its stored one; removed says whether any name was dropped.
func keptVariables(existing map[string]taskagent.VariableValue, drop []string) (kept map[string]any, removed bool) {
	gone := make(map[string]bool, len(drop))
	for _, n := range drop {
		gone[strings.ToUpper(n)] = true
	}
	kept = make(map[string]any, len(existing))
	for n, v := range existing {
		if gone[strings.ToUpper(n)] {
			removed = true
			continue
		}
		if v.IsSecret != nil && *v.IsSecret {
			v.Value = nil // keep the stored secret
		}
		kept[n] = v
	}
	return kept, removed
}

// variableGroupType is the type of a group whose variables the group holds
// itself (not linked from a key vault).
const variableGroupType = "Vsts"

// updateGroup replaces the variables of group (named name) by vars (the PUT
// deletes every variable it does not carry), keeping its other fields.
func (h *azureHost) updateGroup(ctx context.Context, ta taskagent.Client, name string, group *taskagent.VariableGroup, vars map[string]any) error {
	params := &taskagent.VariableGroupParameters{
		Name: group.Name, Description: group.Description, Type: group.Type, ProviderData: group.ProviderData,
		VariableGroupProjectReferences: group.VariableGroupProjectReferences, Variables: &vars,
	}
	if params.Type == nil {
		vgType := variableGroupType
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
	kept, removed := keptVariables(existing, stored)
	if !removed {
		return nil
	}
	return h.updateGroup(ctx, ta, name, group, kept)
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
