package steps

import (
	"context"

	"github.com/ppalm/ppalm/dataverse"
)

// ShareFlows shares cloud flows read-only with group teams
// (FlowShareWithGroupTeamConfiguration) through GrantAccess, so the team's
// members see the flow. Unlike the Accelerator, which swallowed these
// errors, an unknown team or flow fails the step and names the entry.
type ShareFlows struct{}

func (ShareFlows) Name() string { return "share-flows" }

func (ShareFlows) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(flowShares(c)) == 0 {
		return true, "no FlowShareWithGroupTeamConfiguration with a team"
	}
	return false, ""
}

func flowShares(c *Context) []teamShare {
	cfg := c.Custom.FlowShareWithGroupTeamConfiguration
	return configuredTeamShares("FlowShareWithGroupTeamConfiguration", "flow", settingsFile(c.Custom), len(cfg), func(i int) (string, string, string) {
		return cfg[i].SolutionComponentName, cfg[i].SolutionComponentUniqueName, cfg[i].AadGroupTeamName
	})
}

func (ShareFlows) Run(ctx context.Context, c *Context) error {
	return shareWithTeams(ctx, c, shareKind{entity: "workflow", noun: "flow",
		exists: func(ctx context.Context, dv *dataverse.Client, id string) error {
			_, err := dv.GetWorkflow(ctx, id)
			return err
		}}, flowShares(c))
}
