package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register("connection", newConnectionCmd) }

// connectionListDoc is connection list's --output json document.
type connectionListDoc struct {
	Environment string          `json:"environment"`
	Connections []connectionRow `json:"connections"`
}

type connectionRow struct {
	ID        string `json:"id" doc:"what ConnectionReferences[].ConnectionId takes"`
	Connector string `json:"connector" doc:"shared_office365, ..."`
	Status    string `json:"status"`
	CreatedBy string `json:"createdBy" doc:"the creator's e-mail, else object id: whom flows are turned on as"`
}

// newConnectionCmd groups the connection subcommands: the ids a maker needs
// for ConnectionReferences[].ConnectionId in deploymentSettings.json.
func newConnectionCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connection",
		Short: "Work with the connections of an environment",
	}
	cmd.AddCommand(newConnectionListCmd(f))
	return cmd
}

func newConnectionListCmd(f *Factory) *cobra.Command {
	var connector string
	cmd := &cobra.Command{
		Use: "list",
		Example: `  # the ids to put in ConnectionReferences[].ConnectionId
  ppalm connection list --environment https://contoso-test.crm.dynamics.com --connector shared_sharepointonline`,
		Short: "List an environment's connections: the ConnectionId values deploymentSettings.json needs",
		Long: "Lists the connections of the environment with their connector, status and creator (the\n" +
			"ConnectionOwner flows are turned on as). --connector filters by connector, e.g. shared_office365.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&connector, "connector", "", "only connections of this connector (shared_x or /providers/Microsoft.PowerApps/apis/shared_x)")
	out := addOutputFlag(cmd, connectionListDoc{})
	return withConnection(f, cmd, func(ctx context.Context, c *dataverse.Client) error {
		envID, err := c.EnvironmentID(ctx)
		if err != nil {
			return err
		}
		conns, err := c.ListConnections(ctx, envID)
		if err != nil {
			return err
		}
		doc := connectionListDoc{Environment: c.EnvironmentURL(), Connections: []connectionRow{}}
		for _, cn := range conns {
			api := cn.ConnectorID[strings.LastIndex(cn.ConnectorID, "/")+1:]
			if connector != "" && !strings.EqualFold(api, connector) && !strings.EqualFold(cn.ConnectorID, connector) {
				continue
			}
			who := cn.CreatedBy.Email
			if who == "" {
				who = cn.CreatedBy.ID
			}
			doc.Connections = append(doc.Connections, connectionRow{ID: cn.Name, Connector: api, Status: cn.Status, CreatedBy: who})
		}
		if len(doc.Connections) == 0 && connector != "" {
			return fmt.Errorf("environment %s has no connection for connector %q: create one in make.powerapps.com (Connections) and share it with the deploying identity", c.EnvironmentURL(), connector)
		}
		if out.json() {
			return f.writeJSON(doc)
		}
		w := tabwriter.NewWriter(f.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CONNECTION ID\tCONNECTOR\tSTATUS\tCREATED BY")
		for _, r := range doc.Connections {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.ID, r.Connector, r.Status, r.CreatedBy)
		}
		return w.Flush()
	})
}
