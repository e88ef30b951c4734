package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/unpack"
	"github.com/spf13/cobra"
)

func init() { register("pack", newPackCmd) }

// packageDoc is the --output json document of unpack and pack.
type packageDoc struct {
	Solution     string         `json:"solution" doc:"unique name"`
	Version      string         `json:"version"`
	Managed      bool           `json:"managed"`
	Both         bool           `json:"both" doc:"the tree holds the unmanaged and the managed variants"`
	Components   map[string]int `json:"components" doc:"components by kind (\"Cloud flows\", \"Entities\", ...)"`
	FilesWritten int            `json:"filesWritten" doc:"files (unpack) or zip entries (pack) written"`
	Outputs      []string       `json:"outputs" doc:"the folder or zips written"`
	Replaced     []string       `json:"replaced" doc:"zips that existed and were replaced (pack)"`
	Removed      []string       `json:"removed" doc:"files an unpack took out of an existing tree, '/' paths"`
}

func newPackageDoc(s *unpack.Summary, replaced []string) packageDoc {
	d := packageDoc{Solution: s.UniqueName, Version: s.Version, Managed: s.Managed, Both: s.Both, Components: s.Components,
		FilesWritten: s.FilesWritten, Outputs: s.Outputs, Replaced: replaced, Removed: s.Removed}
	if d.Components == nil {
		d.Components = map[string]int{}
	}
	for _, l := range []*[]string{&d.Outputs, &d.Replaced, &d.Removed} {
		if *l == nil {
			*l = []string{}
		}
	}
	return d
}

func newPackCmd(f *Factory) *cobra.Command {
	var o unpack.PackOptions
	var packageType string
	var out *output
	cmd := &cobra.Command{
		Use:     "pack --folder DIR --zipfile ZIP [--packagetype Unmanaged|Managed|Both]",
		Example: `  ppalm pack --folder MySolution/SolutionPackage/src --zipfile build/MySolution.zip --packagetype Both`,
		Short:   "Pack a SolutionPackager source tree into a solution zip",
		Long: "Builds a Dataverse solution zip from the tree in --folder, in the container format of a\n" +
			"Dataverse export. --packagetype Both writes ZIP and NAME_managed.zip; the default follows\n" +
			"Other/Solution.xml (a Both tree, Managed=2, packs unmanaged). A zip that exists is replaced,\n" +
			"and the report says so.\n\n" +
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
			existed := map[string]bool{}
			for _, z := range []string{o.ZipFile, unpack.ManagedZipName(o.ZipFile)} {
				if _, err := os.Stat(z); err == nil {
					existed[z] = true
				}
			}
			sum, err := unpack.Pack(cmd.Context(), o)
			if err != nil {
				return err
			}
			var replaced []string
			for _, z := range sum.Outputs {
				if existed[z] {
					replaced = append(replaced, z)
				}
			}
			if out.json() {
				return f.writeJSON(newPackageDoc(sum, replaced))
			}
			fmt.Fprint(f.Stdout, sum.String())
			for _, z := range replaced {
				fmt.Fprintf(f.Stdout, "replaced %s, which existed\n", z)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Folder, "folder", "", "unpacked solution folder")
	cmd.Flags().StringVar(&o.ZipFile, "zipfile", "", "solution zip to write")
	cmd.Flags().StringVar(&packageType, "packagetype", "", "Unmanaged, Managed or Both (default: as Other/Solution.xml says)")
	cmd.Flags().StringSliceVar(&o.AllowExtra, "allow-extra", nil, "tree paths to carry into the zip as they are though no rule places them (patterns, e.g. 'Extras/**'); without it such files fail the pack")
	_ = cmd.MarkFlagRequired("folder")
	_ = cmd.MarkFlagRequired("zipfile")
	out = addOutputFlag(cmd, packageDoc{})
	return cmd
}
