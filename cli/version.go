package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() {
	register("version", newVersionCmd)
	register("normalize", newNormalizeCmd)
}

// normalizeDoc is normalize's --output json document.
type normalizeDoc struct {
	Folder                           string `json:"folder"`
	Version                          string `json:"version" doc:"the tree's version afterwards (0.0.0.0 unless --keep-version)"`
	DroppedEnvironmentVariableValues bool   `json:"droppedEnvironmentVariableValues"`
}

// newNormalizeCmd is export-to-git's normalize step on its own, for
// pipelines that export and unpack with other tools.
func newNormalizeCmd(f *Factory) *cobra.Command {
	var folder string
	var opts unpack.NormalizeOptions
	var out *output
	cmd := &cobra.Command{
		Use:     "normalize --folder DIR [--keep-version] [--drop-environment-variable-values]",
		Example: `  ppalm normalize --folder MySolution/SolutionPackage/src --drop-environment-variable-values`,
		Short:   "Remove per-export noise from an unpacked solution before it is committed",
		Long: "Sets <Version> in Other/Solution.xml to 0.0.0.0 (the build stamps the real one) unless\n" +
			"--keep-version, and with --drop-environment-variable-values deletes the\n" +
			"environmentvariablevalues.json files, which hold the development environment's values.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := unpack.Normalize(folder, opts); err != nil {
				return err
			}
			_, ver, err := steps.ReadManifest(folder)
			if err != nil {
				return err
			}
			if out.json() {
				return f.writeJSON(normalizeDoc{Folder: folder, Version: ver, DroppedEnvironmentVariableValues: opts.DropEnvironmentVariableValues})
			}
			fmt.Fprintf(f.Stdout, "Normalized %s (version %s)\n", folder, ver)
			return nil
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "unpacked solution folder")
	cmd.Flags().BoolVar(&opts.KeepVersion, "keep-version", false, "keep the version instead of 0.0.0.0")
	cmd.Flags().BoolVar(&opts.DropEnvironmentVariableValues, "drop-environment-variable-values", false, "delete environmentvariablevalues.json files")
	_ = cmd.MarkFlagRequired("folder")
	out = addOutputFlag(cmd, normalizeDoc{})
	return cmd
}

// versionDoc is `ppalm version --output json`.
type versionDoc struct {
	Version string `json:"version" doc:"ppalm's release, or dev-<commit> for a build from source"`
	Go      string `json:"go" doc:"the Go release it was built with"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// versionSetDoc is `ppalm version set --output json`.
type versionSetDoc struct {
	Folder   string `json:"folder"`
	Version  string `json:"version" doc:"the tree's version afterwards"`
	Previous string `json:"previous" doc:"the tree's version before"`
	Stamped  bool   `json:"stamped" doc:"false when --keep-existing kept a real version"`
}

// newVersionCmd is `ppalm version` (ppalm's own version, as gh and
// terraform print theirs) and `ppalm version set` (a solution tree's).
func newVersionCmd(f *Factory) *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:     "version",
		Example: "  ppalm version\n  ppalm version --output json",
		Short:   "Print ppalm's version; `version set` stamps a solution's",
		Long: "Prints the version of ppalm itself (also --version). `ppalm version set` stamps the version of an\n" +
			"unpacked solution (pac: solution version).",
		Args: subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := versionDoc{Version: buildVersion(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
			if out.json() {
				return f.writeJSON(d)
			}
			fmt.Fprintf(f.Stdout, "ppalm %s (%s, %s/%s)\n", d.Version, d.Go, d.OS, d.Arch)
			return nil
		},
	}
	out = addOutputFlag(cmd, versionDoc{})
	var folder, version string
	var keepExisting bool
	var setOut *output
	set := &cobra.Command{
		Use: "set --folder DIR [--version V]",
		Example: `  ppalm version set --folder MySolution/SolutionPackage/src --version 1.2.3.4
  # in Azure DevOps, from the build number
  ppalm version set --folder MySolution/SolutionPackage/src --keep-existing`,
		Short: "Stamp a version into Other/Solution.xml of an unpacked solution",
		Long: "Writes V into <Version> of DIR/Other/Solution.xml. V must have four numbers (1.2.3.4);\n" +
			"without --version a pipeline run's number is used: the Azure DevOps build number when it is a\n" +
			"four-part version, else 1.0.<yyyyMMdd>.<r> from its default format, or 1.0.<yyyyMMdd>.<run number>\n" +
			"on GitHub.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("version") {
				version = steps.BuildVersion(f.Getenv, time.Now())
				if version == "" {
					return fmt.Errorf("version set: no --version given and no pipeline build number (BUILD_BUILDNUMBER, GITHUB_RUN_NUMBER) to make one from")
				}
			}
			_, cur, err := steps.ReadManifest(folder)
			if err != nil {
				return err
			}
			d := versionSetDoc{Folder: folder, Version: cur, Previous: cur}
			if keepExisting && cur != "0.0.0.0" {
				if setOut.json() {
					return f.writeJSON(d)
				}
				fmt.Fprintf(f.Stdout, "Kept version %s in %s (--keep-existing: source carries a real version)\n", cur, folder)
				return nil
			}
			if err := unpack.SetVersion(folder, version); err != nil {
				return err
			}
			d.Version, d.Stamped = version, true
			if setOut.json() {
				return f.writeJSON(d)
			}
			fmt.Fprintf(f.Stdout, "Set version %s in %s\n", version, folder)
			return nil
		},
	}
	set.Flags().StringVar(&folder, "folder", "", "unpacked solution folder")
	set.Flags().StringVar(&version, "version", "", "four-part version (default: the pipeline run's build number, see above)")
	set.Flags().BoolVar(&keepExisting, "keep-existing", false, "stamp only a tree whose version is 0.0.0.0 (as export-to-git leaves it); keep a real version")
	_ = set.MarkFlagRequired("folder")
	setOut = addOutputFlag(set, versionSetDoc{})
	cmd.AddCommand(set)
	return cmd
}
