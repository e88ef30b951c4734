package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register(newExportCmd) }

type exportOptions struct {
	conn      *connectionFlags
	solution  string
	out       string
	managed   bool
	unmanaged bool
	async     bool
}

func newExportCmd(f *Factory) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use: "export",
		Example: `  ppalm export --environment https://contoso-dev.crm.dynamics.com --solution MySolution --out build
  ppalm export --environment https://contoso-dev.crm.dynamics.com --solution MySolution --managed --async --out build`,
		Short: "Export a solution as NAME.zip and NAME_managed.zip",
		Long: "Export a solution from an environment. Both the unmanaged (NAME.zip) and the managed\n" +
			"(NAME_managed.zip) package are written unless --managed or --unmanaged picks one.\n" +
			"--async uses ExportSolutionAsync, for solutions that take more than two minutes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd.Context(), f, o) },
	}
	o.conn = addConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.solution, "solution", "", "unique name of the solution (required)")
	fl.StringVar(&o.out, "out", ".", "directory to write the zips to")
	fl.BoolVar(&o.managed, "managed", false, "export the managed package")
	fl.BoolVar(&o.unmanaged, "unmanaged", false, "export the unmanaged package")
	fl.BoolVar(&o.async, "async", false, "export asynchronously (ExportSolutionAsync)")
	return cmd
}

func runExport(ctx context.Context, f *Factory, o *exportOptions) error {
	if o.solution == "" {
		return fmt.Errorf("export: --solution is required")
	}
	c, err := o.conn.client(ctx, f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("export: create output directory: %w", err)
	}
	kinds := []bool{false, true} // unmanaged, managed
	switch {
	case o.managed && !o.unmanaged:
		kinds = []bool{true}
	case o.unmanaged && !o.managed:
		kinds = []bool{false}
	}
	// Both zips are exported before either is written: a run that fails
	// halfway leaves neither, never one of the pair beside an old other.
	type exported struct {
		path string
		zip  []byte
	}
	var done []exported
	for _, managed := range kinds {
		name := o.solution + ".zip"
		kind := "unmanaged"
		if managed {
			name, kind = o.solution+"_managed.zip", "managed"
		}
		fmt.Fprintf(f.Stderr, "exporting %s %s from %s\n", kind, o.solution, c.EnvironmentURL())
		opts := dataverse.ExportOptions{Managed: managed, Async: o.async, Progress: func(op dataverse.AsyncOperation) {
			fmt.Fprintf(f.Stderr, "  export %s: state %d status %d\n", kind, op.StateCode, op.StatusCode)
		}}
		zip, err := c.Export(ctx, o.solution, opts)
		if !opts.Async && timedOut(err) {
			fmt.Fprintf(f.Stderr, "  synchronous export timed out; exporting asynchronously\n")
			opts.Async = true
			zip, err = c.Export(ctx, o.solution, opts)
		}
		if err != nil {
			if len(done) > 0 {
				return fmt.Errorf("export: %w (nothing was written: %s was exported but is written only with its pair)", err, filepath.Base(done[0].path))
			}
			return fmt.Errorf("export: %w", err)
		}
		done = append(done, exported{filepath.Join(o.out, name), zip})
	}
	for _, e := range done {
		if err := writeFileAtomic(e.path, e.zip); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(f.Stderr, "  wrote %s (%d bytes)\n", e.path, len(e.zip))
	}
	return nil
}

// timedOut reports a gateway or request timeout of a synchronous export,
// or the client's own deadline running out.
func timedOut(err error) bool {
	var apiErr *dataverse.APIError
	var netErr net.Error
	return (errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusGatewayTimeout || apiErr.StatusCode == http.StatusRequestTimeout)) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// writeFileAtomic writes through a temporary file so a failed export never
// leaves half a zip under the final name.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ppalm-export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
