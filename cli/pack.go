package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { register(newPackCmd) }

func newPackCmd(f *Factory) *cobra.Command {
	var o unpack.PackOptions
	var packageType string
	cmd := &cobra.Command{
		Use:     "pack --folder DIR --zipfile ZIP [--packagetype Unmanaged|Managed|Both]",
		Example: `  ppalm pack --folder MySolution/SolutionPackage/src --zipfile build/MySolution.zip --packagetype Both`,
		Short:   "Pack a SolutionPackager source tree into a solution zip",
		Long: "Builds a Dataverse solution zip from the tree in --folder, in the container format of a\n" +
			"Dataverse export. --packagetype Both writes ZIP and NAME_managed.zip; the default follows\n" +
			"Other/Solution.xml (a Both tree, Managed=2, packs unmanaged).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pt, err := unpack.ParsePackageType(packageType)
			if err != nil {
				return fmt.Errorf("pack: --packagetype: %w", err)
			}
			o.PackageType = pt
			if st, err := os.Stat(o.ZipFile); err == nil && st.IsDir() {
				return fmt.Errorf("pack: --zipfile %s is a folder: expected the path of the zip to write, e.g. %s", o.ZipFile, filepath.Join(o.ZipFile, "MySolution.zip"))
			}
			sum, err := unpack.Pack(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), sum.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Folder, "folder", "", "unpacked solution folder")
	cmd.Flags().StringVar(&o.ZipFile, "zipfile", "", "solution zip to write")
	cmd.Flags().StringVar(&packageType, "packagetype", "", "Unmanaged, Managed or Both (default: as Other/Solution.xml says)")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("zipfile")
	return cmd
}
