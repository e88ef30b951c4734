package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register(newWhoamiCmd) }

func newWhoamiCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use: "whoami",
		Example: `  ppalm whoami --environment https://contoso-dev.crm.dynamics.com
  # the emulator (ppalm emulator) needs no credentials
  ppalm whoami --environment http://127.0.0.1:8080/dev`,
		Short: "Show who ppalm signs in as and the environment's ids",
		Args:  cobra.NoArgs,
	}
	return withConnection(f, cmd, func(ctx context.Context, c *dataverse.Client) error {
		who, err := c.WhoAmI(ctx)
		if err != nil {
			return err
		}
		org, err := c.Organization(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.Stdout, "environment:     %s\n", c.EnvironmentURL())
		fmt.Fprintf(f.Stdout, "environment id:  %s\n", org.EnvironmentID)
		fmt.Fprintf(f.Stdout, "organization id: %s\n", who.OrganizationID)
		fmt.Fprintf(f.Stdout, "user id:         %s\n", who.UserID)
		fmt.Fprintf(f.Stdout, "business unit:   %s\n", who.BusinessUnitID)
		return nil
	})
}
