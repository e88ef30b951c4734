package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/unpack"
)

func init() { register(newBuildCmd) }

// newBuildCmd is the build pipeline (version, pack) as one command: what a
// pipeline's build stage runs between checkout and publishing the artifact.
func newBuildCmd(f *Factory) *cobra.Command {
	b := &steps.Build{}
	var packageType string
	cmd := &cobra.Command{
		Use:   "build --folder DIR --out DIR [--version V]",
		Short: "Stamp the build version into an unpacked solution and pack it (the build stage in one step)",
		Long: "Runs the build pipeline: stamps --version (default $BUILD_BUILDNUMBER) into a tree that\n" +
			"export-to-git left at 0.0.0.0 (a real version in source is kept, as the Accelerator's build\n" +
			"does), then packs <Solution>_<version>.zip and <Solution>_<version>_managed.zip into --out.",
		Example: `  ppalm build --folder MySolution/SolutionPackage/src --out drop --version 1.0.20261128.1
  BUILD_BUILDNUMBER=1.0.20261128.2 ppalm build --folder MySolution/SolutionPackage/src --out drop --packagetype Managed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if b.Version == "" {
				b.Version = f.Getenv("BUILD_BUILDNUMBER")
			}
			pt, err := unpack.ParsePackageType(packageType)
			if err != nil {
				return fmt.Errorf("--packagetype: %w", err)
			}
			b.PackageType = pt
			r := f.reporter()
			c, err := steps.RunBuild(cmd.Context(), steps.Services{Reporter: r, Getenv: f.Getenv, Now: time.Now}, b)
			fmt.Fprint(f.Stdout, steps.Report(c.Outcomes))
			_ = r.Summary(steps.Markdown("build "+b.SolutionName, c.Outcomes))
			if err != nil {
				return err
			}
			return setOutputs(r, "version", b.SolutionVer, "zipfile", b.UnmanagedZip, "managedZipfile", b.ManagedZip)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&b.Folder, "folder", "", "unpacked solution folder (<Solution>/SolutionPackage/src)")
	fl.StringVar(&b.OutDir, "out", "", "folder for the zips")
	fl.StringVar(&b.Version, "version", "", "four-part version for a tree at 0.0.0.0 (default $BUILD_BUILDNUMBER; none: keep the tree's)")
	fl.StringVar(&packageType, "packagetype", "Both", "what to pack: Unmanaged, Managed or Both")
	fl.StringSliceVar(&b.AllowExtra, "allow-extra", nil, "tree paths to carry into the zip as they are though no rule places them (patterns, e.g. 'Extras/**')")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
