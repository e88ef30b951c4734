package cli

import (
	"fmt"

	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { register(newUnpackCmd) }

func newUnpackCmd(f *Factory) *cobra.Command {
	var o unpack.UnpackOptions
	var packageType string
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
			fmt.Fprint(cmd.OutOrStdout(), sum.String())
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
	return cmd
}
