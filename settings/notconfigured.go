package settings

import (
	"fmt"
	"strings"
)

// SkipNotConfigured applies the Accelerator's token semantics to a filled
// customDeploymentSettings file: its token step turned an undefined or
// empty variable into "", and its configure scripts skipped an entry whose
// key value was empty. Each such entry is removed from cds (so no step and
// no check sees it) and named in one report line (without the file name:
// the caller reports it against cds.File). sortOrder and
// activateAsUser that are empty are not a reason to skip: an empty
// sortOrder means "after the ordered flows", and activateAsUser is unused.
// A nil cds gives nil.
func SkipNotConfigured(cds *CustomDeploymentSettings) []string {
	if cds == nil {
		return nil
	}
	var lines []string
	skip := func(section string, i int, name, field string) {
		what := ""
		if name != "" {
			what = " (" + name + ")"
		}
		lines = append(lines, fmt.Sprintf("%s[%d]%s not configured: %s is empty, entry skipped", section, i, what, field))
	}
	empty := func(s string) bool { return strings.TrimSpace(s) == "" }

	var flows []FlowActivation
	for i, f := range cds.ActivateFlowConfiguration {
		if empty(f.SolutionComponentUniqueName) && empty(f.SolutionComponentName) {
			skip("ActivateFlowConfiguration", i, "", "solutionComponentUniqueName")
			continue
		}
		flows = append(flows, f)
	}
	cds.ActivateFlowConfiguration = flows

	var owners []ComponentOwnership
	for i, o := range cds.SolutionComponentOwnershipConfiguration {
		switch {
		case empty(o.OwnerEmail):
			skip("SolutionComponentOwnershipConfiguration", i, o.SolutionComponentName, "ownerEmail")
		case empty(o.SolutionComponentUniqueName) && empty(o.SolutionComponentName):
			skip("SolutionComponentOwnershipConfiguration", i, "", "solutionComponentUniqueName")
		default:
			owners = append(owners, o)
		}
	}
	cds.SolutionComponentOwnershipConfiguration = owners

	var apps []CanvasAppShare
	for i, a := range cds.AadGroupCanvasConfiguration {
		switch {
		case empty(a.AadGroupID):
			skip("AadGroupCanvasConfiguration", i, a.CanvasNameInSolution, "aadGroupId")
		case empty(a.RoleName):
			skip("AadGroupCanvasConfiguration", i, a.CanvasNameInSolution, "roleName")
		default:
			apps = append(apps, a)
		}
	}
	cds.AadGroupCanvasConfiguration = apps

	var teams []GroupTeam
	for i, t := range cds.AadGroupTeamConfiguration {
		switch {
		case empty(t.AadGroupTeamName):
			skip("AadGroupTeamConfiguration", i, "", "aadGroupTeamName")
		case empty(t.AadSecurityGroupID):
			skip("AadGroupTeamConfiguration", i, t.AadGroupTeamName, "aadSecurityGroupId")
		default:
			var roles []string
			for _, r := range t.DataverseSecurityRoleNames {
				if !empty(r) {
					roles = append(roles, r)
				}
			}
			t.DataverseSecurityRoleNames = roles
			teams = append(teams, t)
		}
	}
	cds.AadGroupTeamConfiguration = teams

	var flowShares []FlowShare
	for i, s := range cds.FlowShareWithGroupTeamConfiguration {
		if empty(s.AadGroupTeamName) {
			skip("FlowShareWithGroupTeamConfiguration", i, s.SolutionComponentName, "aadGroupTeamName")
			continue
		}
		flowShares = append(flowShares, s)
	}
	cds.FlowShareWithGroupTeamConfiguration = flowShares

	var connShares []ConnectorShare
	for i, s := range cds.ConnectorShareWithGroupTeamConfiguration {
		switch {
		case empty(s.AadGroupTeamName):
			skip("ConnectorShareWithGroupTeamConfiguration", i, s.SolutionComponentName, "aadGroupTeamName")
		case empty(s.SolutionComponentUniqueName):
			skip("ConnectorShareWithGroupTeamConfiguration", i, s.SolutionComponentName, "solutionComponentUniqueName")
		default:
			connShares = append(connShares, s)
		}
	}
	cds.ConnectorShareWithGroupTeamConfiguration = connShares

	var hooks []WebhookURL
	for i, w := range cds.WebhookUrls {
		if empty(w.Value) {
			skip("WebhookUrls", i, w.SchemaName, "Value")
			continue
		}
		hooks = append(hooks, w)
	}
	cds.WebhookUrls = hooks

	var sdk []SDKMessageStepConfig
	for i, m := range cds.SDKMessages {
		if empty(m.Value) {
			skip("SDKMessages", i, m.Config, "Value")
			continue
		}
		sdk = append(sdk, m)
	}
	cds.SDKMessages = sdk

	var defaults [][2]string
	for i, d := range cds.DefaultEnvironmentVariables {
		if empty(d[1]) {
			skip("DefaultEnvironmentVariables", i, d[0], "value")
			continue
		}
		defaults = append(defaults, d)
	}
	cds.DefaultEnvironmentVariables = defaults
	return lines
}
