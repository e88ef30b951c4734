package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
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
	sol, err := dv.GetSolution(ctx, o.solution)
	if errors.Is(err, dataverse.ErrNotFound) {
		return fmt.Errorf("delete solution %q: it is not installed in %s", o.solution, dv.EnvironmentURL())
	}
	if err != nil {
		return err
	}
	if sol.IsManaged || !o.withComponents {
		if err := dv.RemoveSolution(ctx, sol, nil); err != nil {
			return fmt.Errorf("delete solution %q: %w", o.solution, err)
		}
		fmt.Fprintf(f.Stdout, "deleted solution %s %s\n", o.solution, sol.Version)
		return nil
	}
	zip, err := dv.Export(ctx, o.solution, dataverse.ExportOptions{Managed: true, Async: true})
	if err != nil {
		return fmt.Errorf("delete solution %q with components: export it as managed: %w", o.solution, err)
	}
	keep := o.keep
	if keep == "" {
		dir, err := os.MkdirTemp("", "ppalm-delete-")
		if err != nil {
			return err
		}
		keep = filepath.Join(dir, o.solution+"_managed.zip")
	}
	if err := os.WriteFile(keep, zip, 0o644); err != nil {
		return fmt.Errorf("keep the managed export: %w", err)
	}
	fmt.Fprintf(f.Stdout, "exported %s as managed to %s\n", o.solution, keep)
	if err := dv.DeleteSolution(ctx, sol.ID); err != nil {
		return fmt.Errorf("delete unmanaged solution %q: %w", o.solution, err)
	}
	if _, err := dv.ImportSolution(ctx, dataverse.ImportRequest{Zip: zip, SolutionName: o.solution,
		OverwriteUnmanagedCustomizations: true, ConvertToManaged: true}); err != nil {
		return fmt.Errorf("import %s as managed to take over its components (the environment may need fixing, e.g. a canvas app open in the studio; then rerun: ppalm import --zipfile %s): %w", o.solution, keep, err)
	}
	managed, err := dv.GetSolution(ctx, o.solution)
	if err != nil {
		return fmt.Errorf("find the managed %q after import: %w", o.solution, err)
	}
	if err := dv.RemoveSolution(ctx, managed, nil); err != nil {
		return fmt.Errorf("delete managed solution %q (other solutions may depend on its components): %w", o.solution, err)
	}
	fmt.Fprintf(f.Stdout, "deleted solution %s %s and its components\n", o.solution, sol.Version)
	return nil
}
