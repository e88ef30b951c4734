package cli

import (
	"fmt"

	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

func newVersionCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Work with the version of an unpacked solution",
		Args:  cobra.NoArgs,
	}
	var folder, version string
	set := &cobra.Command{
		Use:   "set --folder DIR [--version V]",
		Short: "Stamp a version into Other/Solution.xml of an unpacked solution",
		Long: "Writes V into <Version> of DIR/Other/Solution.xml. V must have four numbers (1.2.3.4);\n" +
			"without --version it is taken from $BUILD_BUILDNUMBER (the Azure DevOps build number).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("version") {
				version = f.Getenv("BUILD_BUILDNUMBER")
				if version == "" {
					return fmt.Errorf("version set: no --version given and BUILD_BUILDNUMBER is not set")
				}
			}
			if err := unpack.SetVersion(folder, version); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Set version %s in %s\n", version, folder)
			return nil
		},
	}
	set.Flags().StringVar(&folder, "folder", "", "unpacked solution folder")
	set.Flags().StringVar(&version, "version", "", "four-part version (default $BUILD_BUILDNUMBER)")
	_ = set.MarkFlagRequired("folder")
	cmd.AddCommand(set)
	return cmd
}
