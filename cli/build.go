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
		Long: "Runs the build pipeline: finds the tree (a legacy tree directly under SolutionPackage/ is\n" +
			"built where it is; old CanvasApps/*_msapp_src folders are left out, their .msapp is packed),\n" +
			"stamps --version into a tree that export-to-git left at 0.0.0.0 (a real version in source is\n" +
			"kept, as the Accelerator's build does), then packs <Solution>_<version>.zip and\n" +
			"<Solution>_<version>_managed.zip into --out. Without --version a pipeline run stamps\n" +
			"1.0.<yyyyMMdd>.<n>: Azure DevOps' build number when it is a four-part version, else derived\n" +
			"from it ($(Date:yyyyMMdd)$(Rev:.r)); on GitHub, n is the run number.",
		Example: `  ppalm build --folder MySolution/SolutionPackage/src --out drop --version 1.0.20261128.1
  BUILD_BUILDNUMBER=1.0.20261128.2 ppalm build --folder MySolution/SolutionPackage/src --out drop --packagetype Managed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if b.Version == "" {
				b.Version = steps.BuildVersion(f.Getenv, time.Now())
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
	fl.StringVar(&b.Version, "version", "", "four-part version for a tree at 0.0.0.0 (default in a pipeline: 1.0.<yyyyMMdd>.<run>, see above; elsewhere none: keep the tree's)")
	fl.BoolVar(&b.SetRunName, "set-run-name", false, "name the pipeline run after the version (Azure DevOps build.updatebuildnumber), as the Accelerator's runs were named")
	fl.StringVar(&packageType, "packagetype", "Both", "what to pack: Unmanaged, Managed or Both")
	fl.StringSliceVar(&b.AllowExtra, "allow-extra", nil, "tree paths to carry into the zip as they are though no rule places them (patterns, e.g. 'Extras/**')")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
