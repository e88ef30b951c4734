package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ppalm/ppalm/task"
	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { register("unpack", newUnpackCmd) }

// reportRemoved tells the host which files an unpack took out of an existing
// tree: the count as the output removed-files, and the list in the run
// summary, where a reviewer sees a component disappear.
func reportRemoved(r task.Reporter, folder string, removed []string) error {
	if err := r.SetOutput("removed-files", strconv.Itoa(len(removed))); err != nil {
		return err
	}
	if len(removed) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### ppalm unpack: %d file(s) removed from %s\n\n", len(removed), folder)
	for _, p := range removed {
		fmt.Fprintf(&b, "- `%s`\n", p)
	}
	return r.Summary(b.String())
}

func newUnpackCmd(f *Factory) *cobra.Command {
	var o unpack.UnpackOptions
	var packageType string
	var out *output
	cmd := &cobra.Command{
		Use:     "unpack --zipfile ZIP --folder DIR [--packagetype Unmanaged|Managed|Both]",
		Example: `  ppalm unpack --zipfile MySolution.zip --folder MySolution/SolutionPackage/src --packagetype Both --process-canvas-apps`,
		Short:   "Unpack a solution zip into a SolutionPackager source tree",
		Long: "Writes the SolutionPackager tree (Other/, Entities/, Workflows/, CanvasApps/, ...) of a\n" +
			"Dataverse solution zip into --folder. Files of components that are gone are deleted; files\n" +
			"beside the tree that the packager does not own (README, config/) stay. With --packagetype Both\n" +
			"--zipfile is the unmanaged zip and NAME_managed.zip beside it the managed one.\n" +
			"XML files are written with LF line endings unless --line-endings crlf.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pt, err := unpack.ParsePackageType(packageType)
			if err != nil {
				return fmt.Errorf("unpack: --packagetype: %w", err)
			}
			o.PackageType = pt
			sum, err := unpack.Unpack(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := reportRemoved(f.reporter(), o.Folder, sum.Removed); err != nil {
				return err
			}
			if out.json() {
				return f.writeJSON(newPackageDoc(sum, nil))
			}
			fmt.Fprint(f.Stdout, sum.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&o.ZipFile, "zipfile", "", "solution zip to unpack (the unmanaged one with --packagetype Both)")
	cmd.Flags().StringVar(&o.Folder, "folder", "", "folder to write the source tree into")
	cmd.Flags().StringVar(&packageType, "packagetype", "", "Unmanaged, Managed or Both (default: as the zip says)")
	cmd.Flags().StringVar(&o.LineEndings, "line-endings", "lf", "line endings of the XML files written: lf or crlf")
	cmd.Flags().BoolVar(&o.ProcessCanvasApps, "process-canvas-apps", false, "also write CanvasApps/src/<App>/, a read-only review copy of each canvas app (pa.yaml or pretty-printed JSON); pack ignores it")
	_ = cmd.MarkFlagRequired("zipfile")
	_ = cmd.MarkFlagRequired("folder")
	out = addOutputFlag(cmd, packageDoc{})
	return cmd
}
