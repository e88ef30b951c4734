package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
)

type solutionDeleteOptions struct {
	conn           *connectionFlags
	solution       string
	withComponents bool
	keep           string
}

// newSolutionDeleteCmd builds `ppalm solution delete` (the lead wires it
// under `ppalm solution`).
func newSolutionDeleteCmd(f *Factory) *cobra.Command {
	o := &solutionDeleteOptions{}
	cmd := &cobra.Command{
		Use: "delete",
		Example: `  ppalm solution delete --environment https://contoso-dev.crm.dynamics.com --solution MySolution
  ppalm solution delete --environment https://contoso-dev.crm.dynamics.com --solution MySolution --with-components --keep MySolution_managed.zip`,
		Short: "Delete a solution, optionally with its components",
		Long: "delete removes a solution. Deleting an unmanaged solution leaves its components behind; with\n" +
			"--with-components ppalm first exports it as managed, deletes the unmanaged container, imports the\n" +
			"managed export (the leftover components become owned by it) and deletes that, which removes them.\n" +
			"The managed export is kept (--keep) so a failed run can be finished by hand.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSolutionDelete(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	cmd.Flags().StringVar(&o.solution, "solution", "", "unique name of the solution (required)")
	cmd.Flags().BoolVar(&o.withComponents, "with-components", false, "also delete the components of an unmanaged solution")
	cmd.Flags().StringVar(&o.keep, "keep", "", "where to keep the managed export (default: a temporary file)")
	return cmd
}

func runSolutionDelete(ctx context.Context, f *Factory, o *solutionDeleteOptions) error {
	if o.solution == "" {
		return fmt.Errorf("--solution is required")
	}
	dv, err := o.conn.client(ctx, f)
	if err != nil {
		return err
	}
	r := &steps.Removal{Dataverse: dv, Solution: o.solution, WithComponents: o.withComponents, Keep: o.keep}
	err = steps.DeleteSolution(ctx, r)
	if r.Kept != "" {
		fmt.Fprintf(f.Stdout, "exported %s as managed to %s\n", o.solution, r.Kept)
	}
	if err != nil {
		return err
	}
	if r.Components {
		fmt.Fprintf(f.Stdout, "deleted solution %s %s and its components\n", o.solution, r.Version)
	} else {
		fmt.Fprintf(f.Stdout, "deleted solution %s %s\n", o.solution, r.Version)
	}
	return nil
}
