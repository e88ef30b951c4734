package steps

import (
	"context"

	"github.com/ppalm/ppalm/dataverse"
)

// ShareConnectors shares custom connectors read-only with group teams
// (ConnectorShareWithGroupTeamConfiguration) through GrantAccess, so the
// team's members can create connections with them.
type ShareConnectors struct{}

func (ShareConnectors) Name() string { return "share-connectors" }

func (ShareConnectors) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(connectorShares(c)) == 0 {
		return true, "no ConnectorShareWithGroupTeamConfiguration with a team"
	}
	return false, ""
}

func connectorShares(c *Context) []teamShare {
	cfg := c.Custom.ConnectorShareWithGroupTeamConfiguration
	return configuredTeamShares("ConnectorShareWithGroupTeamConfiguration", "custom connector", settingsFile(c.Custom), len(cfg), func(i int) (string, string, string) {
		return cfg[i].SolutionComponentName, cfg[i].SolutionComponentUniqueName, cfg[i].AadGroupTeamName
	})
}

func (ShareConnectors) Run(ctx context.Context, c *Context) error {
	return shareWithTeams(ctx, c, shareKind{entity: "connector", noun: "custom connector",
		exists: func(ctx context.Context, dv *dataverse.Client, id string) error {
			_, err := dv.GetConnector(ctx, id)
			return err
		}}, connectorShares(c))
}
