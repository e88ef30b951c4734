package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/dataverse"
)

// Removal says which solution to delete from an environment, and how.
type Removal struct {
	Dataverse *dataverse.Client
	Solution  string // unique name
	// WithComponents also removes an unmanaged solution's components: it is
	// exported as managed, the unmanaged container deleted, the managed
	// export imported (the leftover components become owned by it) and
	// deleted, which removes them.
	WithComponents bool
	// Keep is where the managed export is kept, so a failed run can be
	// finished by hand (default: a temporary file).
	Keep string

	// Produced.
	Version string // of the deleted solution
	Kept    string // the managed export, with WithComponents
	// Components says the components went too.
	Components bool
}

// DeleteSolution deletes r.Solution: `ppalm solution delete` and the maker
// app's Delete. A solution that is not installed is an error naming the
// environment.
func DeleteSolution(ctx context.Context, r *Removal) error {
	if r.Solution == "" {
		return errors.New("delete solution: the unique name of the solution is required")
	}
	dv := r.Dataverse
	sol, err := dv.GetSolution(ctx, r.Solution)
	if errors.Is(err, dataverse.ErrNotFound) {
		return fmt.Errorf("delete solution %q: it is not installed in %s", r.Solution, dv.EnvironmentURL())
	}
	if err != nil {
		return err
	}
	r.Version = sol.Version
	if sol.IsManaged || !r.WithComponents {
		if err := dv.DeleteSolution(ctx, sol.ID); err != nil {
			return fmt.Errorf("delete solution %q: %w", r.Solution, err)
		}
		return nil
	}
	zip, err := dv.Export(ctx, r.Solution, dataverse.ExportOptions{Managed: true, Async: true})
	if err != nil {
		return fmt.Errorf("delete solution %q with components: export it as managed: %w", r.Solution, err)
	}
	r.Kept = r.Keep
	if r.Kept == "" {
		dir, err := os.MkdirTemp("", "ppalm-delete-")
		if err != nil {
			return err
		}
		r.Kept = filepath.Join(dir, r.Solution+"_managed.zip")
	}
	if err := os.WriteFile(r.Kept, zip, 0o644); err != nil {
		return fmt.Errorf("keep the managed export: %w", err)
	}
	if err := dv.DeleteSolution(ctx, sol.ID); err != nil {
		return fmt.Errorf("delete unmanaged solution %q: %w", r.Solution, err)
	}
	if _, err := dv.ImportSolution(ctx, dataverse.ImportRequest{Zip: zip, SolutionName: r.Solution,
		OverwriteUnmanagedCustomizations: true, ConvertToManaged: true}); err != nil {
		return fmt.Errorf("import %s as managed to take over its components (the environment may need fixing, e.g. a canvas app open in the studio; then rerun: ppalm import --zipfile %s): %w", r.Solution, r.Kept, err)
	}
	managed, err := dv.GetSolution(ctx, r.Solution)
	if err != nil {
		return fmt.Errorf("find the managed %q after import: %w", r.Solution, err)
	}
	if err := dv.DeleteSolution(ctx, managed.ID); err != nil {
		return fmt.Errorf("delete managed solution %q (other solutions may depend on its components): %w", r.Solution, err)
	}
	r.Components = true
	return nil
}
