package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
)

func init() { register("export", newExportCmd) }

type exportOptions struct {
	conn *connectionFlags
	req  steps.ExportRequest
	out  *output
}

// exportDoc is export's --output json document.
type exportDoc struct {
	Solution    string        `json:"solution"`
	Environment string        `json:"environment"`
	Files       []exportedDoc `json:"files" doc:"the zips written"`
}

type exportedDoc struct {
	Path     string `json:"path"`
	Kind     string `json:"kind" doc:"managed or unmanaged"`
	Bytes    int    `json:"bytes"`
	Replaced bool   `json:"replaced" doc:"a file was there before (--overwrite)"`
}

func newExportCmd(f *Factory) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use: "export",
		Example: `  ppalm export --environment https://contoso-dev.crm.dynamics.com --solution MySolution --out build
  ppalm export --environment https://contoso-dev.crm.dynamics.com --solution MySolution --managed --async --out build
  # as pac solution export: one zip at --path, replacing it
  ppalm export --environment https://contoso-dev.crm.dynamics.com --name MySolution --path out/MySolution.zip --overwrite`,
		Short: "Export a solution as NAME.zip and NAME_managed.zip",
		Long: "Export a solution from an environment. Both the unmanaged (NAME.zip) and the managed\n" +
			"(NAME_managed.zip) package are written into --out unless --managed or --unmanaged picks one;\n" +
			"--path writes one zip (the unmanaged one unless --managed) where it says. A zip that exists is\n" +
			"refused before anything is exported unless --overwrite. --async uses ExportSolutionAsync, for\n" +
			"solutions that take more than two minutes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd.Context(), f, o) },
	}
	o.conn = addConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.req.Solution, "solution", "", "unique name of the solution (required)")
	fl.StringVar(&o.req.OutDir, "out", ".", "directory to write the zips to")
	fl.StringVar(&o.req.Path, "path", "", "the zip file to write instead of --out/NAME.zip (pac's --path)")
	fl.BoolVar(&o.req.Managed, "managed", false, "export the managed package")
	fl.BoolVar(&o.req.Unmanaged, "unmanaged", false, "export the unmanaged package")
	fl.BoolVar(&o.req.Async, "async", false, "export asynchronously (ExportSolutionAsync)")
	fl.BoolVar(&o.req.Overwrite, "overwrite", false, "replace zips that exist (refused otherwise)")
	cmd.MarkFlagsMutuallyExclusive("out", "path")
	o.out = addOutputFlag(cmd, exportDoc{})
	return cmd
}

func runExport(ctx context.Context, f *Factory, o *exportOptions) error {
	if o.req.Solution == "" {
		return fmt.Errorf("export: --solution is required")
	}
	c, err := o.conn.client(ctx, f)
	if err != nil {
		return err
	}
	files, err := steps.ExportZips(ctx, c, f.reporter(), o.req)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	doc := exportDoc{Solution: o.req.Solution, Environment: c.EnvironmentURL(), Files: []exportedDoc{}}
	for _, fl := range files {
		kind := "unmanaged"
		if fl.Managed {
			kind = "managed"
		}
		doc.Files = append(doc.Files, exportedDoc{Path: fl.Path, Kind: kind, Bytes: fl.Bytes, Replaced: fl.Replaced})
	}
	if o.out.json() {
		return f.writeJSON(doc)
	}
	for _, fl := range doc.Files {
		replaced := ""
		if fl.Replaced {
			replaced = " (replaced the file that was there)"
		}
		fmt.Fprintf(f.Stdout, "wrote %s (%s, %d bytes)%s\n", fl.Path, fl.Kind, fl.Bytes, replaced)
	}
	return nil
}
