package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/safefile"
	"github.com/ppalm/ppalm/task"
)

// DeleteOptions say which solution DeleteSolution removes, and how.
type DeleteOptions struct {
	Solution string
	// WithComponents also removes the components of an unmanaged solution:
	// export it as managed, delete the unmanaged container, import the
	// managed export (the leftover components become owned by it) and
	// delete that.
	WithComponents bool
	// Keep is where the managed export is kept; "" keeps it only while the
	// deletion runs, and where a failed run leaves it to finish by hand.
	Keep string
	// IgnoreMissing makes a solution that is not installed a success
	// (clean-up pipelines that may run twice).
	IgnoreMissing bool
}

// DeleteResult says what DeleteSolution did.
type DeleteResult struct {
	Solution string
	Version  string // the version deleted; "" when it was not installed
	Managed  bool
	// Missing says the solution was not installed (IgnoreMissing).
	Missing bool
	// WithComponents says the components went too.
	WithComponents bool
	// ManagedExport is the managed export kept (DeleteOptions.Keep), "" when
	// none is left.
	ManagedExport string
}

// DeleteSolution deletes a solution from the environment dv talks to.
func DeleteSolution(ctx context.Context, dv *dataverse.Client, r task.Reporter, o DeleteOptions) (*DeleteResult, error) {
	if o.Solution == "" {
		return nil, fmt.Errorf("--solution is required")
	}
	res := &DeleteResult{Solution: o.Solution}
	sol, err := dv.GetSolution(ctx, o.Solution)
	if errors.Is(err, dataverse.ErrNotFound) {
		if o.IgnoreMissing {
			res.Missing = true
			return res, nil
		}
		return nil, fmt.Errorf("delete solution %q: it is not installed in %s (--ignore-missing makes that a success)", o.Solution, dv.EnvironmentURL())
	}
	if err != nil {
		return nil, err
	}
	res.Version, res.Managed = sol.Version, sol.IsManaged
	if sol.IsManaged || !o.WithComponents {
		// A managed solution is uninstalled (UninstallSolutionAsync and a
		// poll), an unmanaged one's container deleted.
		if err := dv.RemoveSolution(ctx, sol, nil); err != nil {
			return nil, fmt.Errorf("delete solution %q: %w", o.Solution, err)
		}
		return res, nil
	}
	res.WithComponents = true
	zip, err := dv.Export(ctx, o.Solution, dataverse.ExportOptions{Managed: true, Async: true})
	if err != nil {
		return nil, fmt.Errorf("delete solution %q with components: export it as managed: %w", o.Solution, err)
	}
	keep := o.Keep
	if keep == "" {
		// Kept while the deletion runs: a failure after the unmanaged
		// container is gone needs it to finish by hand. Removed on success.
		dir, err := os.MkdirTemp("", "ppalm-delete-")
		if err != nil {
			return nil, err
		}
		keep = filepath.Join(dir, o.Solution+"_managed.zip")
		defer func() {
			if res.ManagedExport == "" {
				_ = os.RemoveAll(dir)
			}
		}()
	}
	if err := safefile.WriteFile(keep, zip); err != nil {
		return nil, fmt.Errorf("keep the managed export: %w", err)
	}
	r.Info(fmt.Sprintf("exported %s as managed to %s", o.Solution, keep))
	// Until the end, a failure leaves the export where the error says.
	res.ManagedExport = keep
	if err := dv.DeleteSolution(ctx, sol.ID); err != nil {
		return nil, fmt.Errorf("delete unmanaged solution %q: %w", o.Solution, err)
	}
	if _, err := dv.ImportSolution(ctx, dataverse.ImportRequest{Zip: zip, SolutionName: o.Solution,
		OverwriteUnmanagedCustomizations: true, ConvertToManaged: true}); err != nil {
		return nil, fmt.Errorf("import %s as managed to take over its components (the environment may need fixing, e.g. a canvas app open in the studio; then rerun: ppalm import --zipfile %s): %w", o.Solution, keep, err)
	}
	managed, err := dv.GetSolution(ctx, o.Solution)
	if err != nil {
		return nil, fmt.Errorf("find the managed %q after import (its export is %s): %w", o.Solution, keep, err)
	}
	if err := dv.RemoveSolution(ctx, managed, nil); err != nil {
		return nil, fmt.Errorf("delete managed solution %q (other solutions may depend on its components; its export is %s): %w", o.Solution, keep, err)
	}
	if o.Keep == "" {
		res.ManagedExport = ""
	}
	return res, nil
}
