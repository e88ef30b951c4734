package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register(newSolutionCmd) }

// newSolutionCmd groups the solution subcommands.
func newSolutionCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "solution",
		Short: "Work with the solutions of an environment",
	}
	cmd.AddCommand(newSolutionListCmd(f), newSolutionDeleteCmd(f))
	return cmd
}

func newSolutionListCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Example: `  ppalm solution list --environment https://contoso-dev.crm.dynamics.com`,
		Short:   "List the unmanaged, visible solutions of an environment",
		Args:    cobra.NoArgs,
	}
	return withConnection(f, cmd, func(ctx context.Context, c *dataverse.Client) error {
		sols, err := c.ListSolutions(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(f.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "UNIQUE NAME\tDISPLAY NAME\tVERSION")
		for _, s := range sols {
			fmt.Fprintf(w, "%s\t%s\t%s\n", s.UniqueName, s.FriendlyName, s.Version)
		}
		return w.Flush()
	})
}
