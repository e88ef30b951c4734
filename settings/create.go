package settings

import (
	"github.com/ppalm/ppalm/solution"
)

// NewDeploymentSettings lists every connection reference and environment
// variable of sol with empty values, as `pac solution create-settings` does.
func NewDeploymentSettings(sol *solution.Solution) *DeploymentSettings {
	ds := &DeploymentSettings{
		EnvironmentVariables: make([]EnvironmentVariableSetting, 0, len(sol.EnvironmentVariables)),
		ConnectionReferences: make([]ConnectionReferenceSetting, 0, len(sol.ConnectionReferences)),
	}
	for _, v := range sol.EnvironmentVariables {
		ds.EnvironmentVariables = append(ds.EnvironmentVariables, EnvironmentVariableSetting{SchemaName: v.SchemaName})
	}
	for _, c := range sol.ConnectionReferences {
		ds.ConnectionReferences = append(ds.ConnectionReferences, ConnectionReferenceSetting{LogicalName: c.LogicalName, ConnectorID: c.ConnectorID})
	}
	return ds
}

// CustomOptions says how NewCustomDeploymentSettings fills values.
type CustomOptions struct {
	// Placeholders writes the Accelerator's #{...}# tokens; false leaves
	// the values empty.
	Placeholders bool
}

// NewCustomDeploymentSettings lists what can be configured for sol's cloud
// flows and canvas apps (see the package documentation for the entries and
// their tokens). Sections the solution cannot fill (group teams, connector
// shares, webhooks, plug-in steps) are empty.
func NewCustomDeploymentSettings(sol *solution.Solution, opt CustomOptions) *CustomDeploymentSettings {
	tok := func(name string) string {
		if !opt.Placeholders {
			return ""
		}
		return "#{" + name + "}#"
	}
	c := &CustomDeploymentSettings{}
	flows := sol.CloudFlows()
	for _, f := range flows {
		key := f.Name + "." + f.ID
		c.ActivateFlowConfiguration = append(c.ActivateFlowConfiguration, FlowActivation{
			SolutionComponentName: f.Name, SolutionComponentUniqueName: f.ID,
			SortOrder: tok("activateflow.order." + key), Activate: tok("activateflow.activate." + key),
		})
	}
	for _, f := range flows {
		c.SolutionComponentOwnershipConfiguration = append(c.SolutionComponentOwnershipConfiguration, ComponentOwnership{
			SolutionComponentType: ComponentTypeWorkflow, SolutionComponentName: f.Name,
			SolutionComponentUniqueName: f.ID, OwnerEmail: tok("owner.ownerEmail." + f.Name + "." + f.ID),
		})
	}
	for _, a := range sharableApps(sol) {
		c.SolutionComponentOwnershipConfiguration = append(c.SolutionComponentOwnershipConfiguration, ComponentOwnership{
			SolutionComponentType: ComponentTypeCanvasApp, SolutionComponentName: a.Name,
			OwnerEmail: tok("canvasowner.ownerEmail." + a.Name),
		})
		c.AadGroupCanvasConfiguration = append(c.AadGroupCanvasConfiguration, CanvasAppShare{
			AadGroupID: tok("canvasshare.aadGroupId." + a.Name), CanvasNameInSolution: a.Name,
			CanvasDisplayName: a.DisplayName, RoleName: tok("canvasshare.roleName." + a.Name),
		})
	}
	for _, f := range flows {
		c.FlowShareWithGroupTeamConfiguration = append(c.FlowShareWithGroupTeamConfiguration, FlowShare{
			SolutionComponentName: f.Name, SolutionComponentUniqueName: f.ID,
			AadGroupTeamName: tok("flow.sharing." + f.Name + "." + f.ID),
		})
	}
	return c
}

// sharableApps are the canvas apps proper: custom pages (type 2) and
// component libraries (type 1) are neither shared nor owned on their own.
func sharableApps(sol *solution.Solution) []solution.CanvasApp {
	var out []solution.CanvasApp
	for _, a := range sol.CanvasApps {
		if a.AppType == 0 {
			out = append(out, a)
		}
	}
	return out
}
