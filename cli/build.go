package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/unpack"
)

func init() { register("build", newBuildCmd) }

// buildDoc is build's --output json document.
type buildDoc struct {
	runDoc
	Diff *diff.Result `json:"diff,omitempty" doc:"the component diff against --compare-to (or the pull request's target branch)"`
}

// newBuildCmd is the build pipeline (version, pack) as one command: what a
// pipeline's build stage runs between checkout and publishing the artifact.
func newBuildCmd(f *Factory) *cobra.Command {
	b := &steps.Build{}
	var packageType string
	var out *output
	cmd := &cobra.Command{
		Use:   "build --folder DIR --out DIR [--version V]",
		Short: "Stamp the build version into an unpacked solution and pack it (the build stage in one step)",
		Long: "Runs the build pipeline: finds the tree (a legacy tree directly under SolutionPackage/ is\n" +
			"built where it is; old CanvasApps/*_msapp_src folders are left out, their .msapp is packed),\n" +
			"stamps --version into a tree that export-to-git left at 0.0.0.0 (a real version in source is\n" +
			"kept, as the Accelerator's build does, with a warning when --version asked for another), then\n" +
			"packs <Solution>_<version>.zip and <Solution>_<version>_managed.zip into --out. Without --version\n" +
			"a pipeline run stamps 1.0.<yyyyMMdd>.<n>: Azure DevOps' build number when it is a four-part\n" +
			"version, else derived from it ($(Date:yyyyMMdd)$(Rev:.r)); on GitHub, n is the run number.\n" +
			"In a pull request build (or with --compare-to) it last compares the tree with the target\n" +
			"branch's, component by component (ppalm diff), and writes that to the run summary for the reviewer.",
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
			b.VersionGiven = cmd.Flags().Changed("version")
			if b.CompareTo == "" {
				b.CompareTo = steps.PullRequestBase(f.getenv)
				b.CompareToBranch = b.CompareTo != ""
			}
			r := f.reporter()
			c, err := steps.RunBuild(cmd.Context(), steps.Services{Reporter: r, Getenv: f.Getenv, Now: time.Now}, b)
			if err == nil {
				err = setOutputs(r, "version", b.SolutionVer, "zipfile", b.UnmanagedZip, "managedZipfile", b.ManagedZip)
			}
			f.report(out, "build "+b.SolutionName, c.Outcomes)
			if out.json() {
				if werr := f.writeJSON(buildDoc{runDoc: newRunDoc("build", c.Outcomes, f.outputs(), err), Diff: b.Diff}); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	out = addOutputFlag(cmd, buildDoc{})
	fl := cmd.Flags()
	fl.StringVar(&b.Folder, "folder", "", "unpacked solution folder (<Solution>/SolutionPackage/src)")
	fl.StringVar(&b.OutDir, "out", "", "folder for the zips")
	fl.StringVar(&b.Version, "version", "", "four-part version for a tree at 0.0.0.0 (default in a pipeline: 1.0.<yyyyMMdd>.<run>, see above; elsewhere none: keep the tree's)")
	fl.BoolVar(&b.SetRunName, "set-run-name", false, "name the pipeline run after the version (Azure DevOps build.updatebuildnumber), as the Accelerator's runs were named")
	fl.StringVar(&packageType, "packagetype", "Both", "what to pack: Unmanaged, Managed or Both")
	fl.StringVar(&b.CompareTo, "compare-to", "", "branch, zip or folder to compare the tree with; the component diff goes to the run summary (default: the pull request's target branch in a pull request build)")
	fl.StringSliceVar(&b.AllowExtra, "allow-extra", nil, "tree paths to carry into the zip as they are though no rule places them (patterns, e.g. 'Extras/**')")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
