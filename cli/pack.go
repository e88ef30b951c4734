package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { registerNamed("pack", newPackCmd) }

func newPackCmd(f *Factory) *cobra.Command {
	var o unpack.PackOptions
	var packageType string
	cmd := &cobra.Command{
		Use:     "pack --folder DIR --zipfile ZIP [--packagetype Unmanaged|Managed|Both]",
		Example: `  ppalm pack --folder MySolution/SolutionPackage/src --zipfile build/MySolution.zip --packagetype Both`,
		Short:   "Pack a SolutionPackager source tree into a solution zip",
		Long: "Builds a Dataverse solution zip from the tree in --folder, in the container format of a\n" +
			"Dataverse export. --packagetype Both writes ZIP and NAME_managed.zip; the default follows\n" +
			"Other/Solution.xml (a Both tree, Managed=2, packs unmanaged).\n\n" +
			"Every file of the tree is placed by a rule; a file none places (an unknown folder, KB article\n" +
			"or mail merge template documents ppalm does not join back) fails the pack, naming it, rather\n" +
			"than travelling as a loose part the import ignores.",
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
	cmd.Flags().StringSliceVar(&o.AllowExtra, "allow-extra", nil, "tree paths to carry into the zip as they are though no rule places them (patterns, e.g. 'Extras/**'); without it such files fail the pack")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("zipfile")
	return cmd
}
