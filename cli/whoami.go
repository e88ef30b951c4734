package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newWhoamiCmd) }

func newWhoamiCmd(f *Factory) *cobra.Command {
	var conn *connectionFlags
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who ppalm signs in as and the environment's ids",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := conn.client(ctx, f)
			if err != nil {
				return err
			}
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
		},
	}
	conn = addConnectionFlags(cmd)
	return cmd
}
