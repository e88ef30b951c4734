package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register("solution", newSolutionCmd) }

// newSolutionCmd groups the solution subcommands.
func newSolutionCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "solution",
		Short: "Work with the solutions of an environment",
	}
	cmd.AddCommand(newSolutionListCmd(f), newSolutionDeleteCmd(f))
	return cmd
}

// solutionListDoc is solution list's --output json document.
type solutionListDoc struct {
	Environment string            `json:"environment" doc:"the environment URL"`
	Solutions   []solutionListRow `json:"solutions" doc:"ordered by display name"`
}

type solutionListRow struct {
	UniqueName  string `json:"uniqueName"`
	DisplayName string `json:"displayName"`
	Version     string `json:"version"`
	Managed     bool   `json:"managed"`
}

func newSolutionListCmd(f *Factory) *cobra.Command {
	var managed, unmanaged bool
	cmd := &cobra.Command{
		Use: "list",
		Example: `  ppalm solution list --environment https://contoso-test.crm.dynamics.com
  # only what makers work on
  ppalm solution list --environment https://contoso-dev.crm.dynamics.com --unmanaged`,
		Short: "List the visible solutions of an environment, managed and unmanaged, with their versions",
		Long: "Lists every visible solution of the environment: unique name, display name, version and whether\n" +
			"it is managed (what a deployment installs in test and prod) or unmanaged (what makers edit in dev).\n" +
			"--managed or --unmanaged shows only that kind.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&managed, "managed", false, "only managed solutions")
	cmd.Flags().BoolVar(&unmanaged, "unmanaged", false, "only unmanaged solutions")
	cmd.MarkFlagsMutuallyExclusive("managed", "unmanaged")
	out := addOutputFlag(cmd, solutionListDoc{})
	return withConnection(f, cmd, func(ctx context.Context, c *dataverse.Client) error {
		sols, err := c.ListVisibleSolutions(ctx)
		if err != nil {
			return err
		}
		doc := solutionListDoc{Environment: c.EnvironmentURL(), Solutions: []solutionListRow{}}
		for _, s := range sols {
			if (managed && !s.IsManaged) || (unmanaged && s.IsManaged) {
				continue
			}
			doc.Solutions = append(doc.Solutions, solutionListRow{UniqueName: s.UniqueName, DisplayName: s.FriendlyName, Version: s.Version, Managed: s.IsManaged})
		}
		if out.json() {
			return f.writeJSON(doc)
		}
		w := tabwriter.NewWriter(f.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "UNIQUE NAME\tDISPLAY NAME\tVERSION\tMANAGED")
		for _, s := range doc.Solutions {
			fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", s.UniqueName, s.DisplayName, s.Version, s.Managed)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if len(doc.Solutions) == 0 {
			f.reporter().Info(fmt.Sprintf("no solutions in %s", c.EnvironmentURL()))
		}
		return nil
	})
}
