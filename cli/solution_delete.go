package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
)

type solutionDeleteOptions struct {
	conn *connectionFlags
	del  steps.DeleteOptions
	out  *output
}

// solutionDeleteDoc is solution delete's --output json document.
type solutionDeleteDoc struct {
	Solution       string `json:"solution"`
	Deleted        bool   `json:"deleted" doc:"false when it was not installed (--ignore-missing)"`
	Version        string `json:"version,omitempty" doc:"the version deleted"`
	Managed        bool   `json:"managed" doc:"the solution deleted was managed"`
	WithComponents bool   `json:"withComponents" doc:"its components were deleted too"`
	ManagedExport  string `json:"managedExport,omitempty" doc:"where the managed export was kept (--keep)"`
}

// newSolutionDeleteCmd builds `ppalm solution delete`.
func newSolutionDeleteCmd(f *Factory) *cobra.Command {
	o := &solutionDeleteOptions{}
	cmd := &cobra.Command{
		Use: "delete",
		Example: `  ppalm solution delete --environment https://contoso-dev.crm.dynamics.com --solution MySolution
  ppalm solution delete --environment https://contoso-dev.crm.dynamics.com --solution MySolution --with-components --keep MySolution_managed.zip
  # a clean-up pipeline that may find it gone already
  ppalm solution delete --environment https://contoso-test.crm.dynamics.com --solution MySolution --ignore-missing`,
		Short: "Delete a solution, optionally with its components",
		Long: "delete removes a solution. Deleting an unmanaged solution leaves its components behind; with\n" +
			"--with-components ppalm first exports it as managed, deletes the unmanaged container, imports the\n" +
			"managed export (the leftover components become owned by it) and deletes that, which removes them.\n" +
			"The managed export is kept where --keep says; without --keep it lives in a temporary folder that is\n" +
			"removed when the deletion succeeds and left (the error names it) when it fails, to finish by hand.\n" +
			"A solution that is not installed is an error, or with --ignore-missing a success.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSolutionDelete(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	cmd.Flags().StringVar(&o.del.Solution, "solution", "", "unique name of the solution (required)")
	cmd.Flags().BoolVar(&o.del.WithComponents, "with-components", false, "also delete the components of an unmanaged solution")
	cmd.Flags().StringVar(&o.del.Keep, "keep", "", "where to keep the managed export (default: a temporary file, removed on success)")
	cmd.Flags().BoolVar(&o.del.IgnoreMissing, "ignore-missing", false, "a solution that is not installed is a success, not an error")
	o.out = addOutputFlag(cmd, solutionDeleteDoc{})
	return cmd
}

func runSolutionDelete(ctx context.Context, f *Factory, o *solutionDeleteOptions) error {
	if o.del.Solution == "" {
		return fmt.Errorf("--solution is required")
	}
	dv, err := o.conn.client(ctx, f)
	if err != nil {
		return err
	}
	res, err := steps.DeleteSolution(ctx, dv, f.reporter(), o.del)
	if err != nil {
		return err
	}
	if o.out.json() {
		return f.writeJSON(solutionDeleteDoc{Solution: res.Solution, Deleted: !res.Missing, Version: res.Version, Managed: res.Managed,
			WithComponents: res.WithComponents, ManagedExport: res.ManagedExport})
	}
	switch {
	case res.Missing:
		fmt.Fprintf(f.Stdout, "solution %s is not installed in %s: nothing to delete\n", res.Solution, dv.EnvironmentURL())
	case res.WithComponents:
		fmt.Fprintf(f.Stdout, "deleted solution %s %s and its components\n", res.Solution, res.Version)
	default:
		fmt.Fprintf(f.Stdout, "deleted solution %s %s\n", res.Solution, res.Version)
	}
	return nil
}
