package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/accelerator"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd(f *Factory) *cobra.Command {
	var repo, hooks, host string
	var write bool
	cmd := &cobra.Command{
		Use: "migrate --repo PATH [--write]",
		Example: `  # what ppalm finds in an ALM Accelerator repository and what, if anything, must change
  ppalm migrate --repo .

  # also read the hooks of the Accelerator's templates repository, then write the pipeline
  ppalm migrate --repo . --hooks ../coe-alm-accelerator-templates/Pipelines/Templates/Hooks --write --host azure-devops`,
		Short: "Check an ALM Accelerator repository for ppalm and write the pipelines that replace the Accelerator's",
		Long: "migrate reads a repository the ALM Accelerator for Power Platform kept (a working copy) and says\n" +
			"what it finds: each solution's source layout, its environments with the settings files the\n" +
			"deployment will read and the variables they need (in Azure DevOps' and GitHub's spelling), the\n" +
			"deploy pipelines the Accelerator generated, the hooks a team filled in; what to set up once\n" +
			"(a variable group or GitHub environment per environment); and what, if anything, must change in\n" +
			"the repository before ppalm deploys it. It changes nothing: with --write it only adds, per\n" +
			"solution, the pipeline (Azure DevOps) or workflow (GitHub) extending ppalm's templates. Exit\n" +
			"status 1 when something must change.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repo == "" {
				return fmt.Errorf("--repo is required: the Accelerator repository's working copy")
			}
			r, err := accelerator.Inspect(repo, hooks)
			if err != nil {
				return err
			}
			fmt.Fprint(f.Stdout, r.String())
			if write {
				files, err := r.PipelineFiles(host)
				if err != nil {
					return fmt.Errorf("--host: %w", err)
				}
				for _, pf := range files {
					p := filepath.Join(repo, filepath.FromSlash(pf.Path))
					if _, err := os.Stat(p); err == nil {
						return fmt.Errorf("%s exists: ppalm migrate does not overwrite files; remove it to write it again", p)
					} else if !errors.Is(err, fs.ErrNotExist) {
						return err
					}
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						return err
					}
					if err := os.WriteFile(p, []byte(pf.Content), 0o644); err != nil {
						return err
					}
					fmt.Fprintf(f.Stdout, "wrote %s\n", p)
				}
			}
			if n := len(r.MustChange()); n > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("migrate: %d thing(s) must change before ppalm deploys %s", n, repo)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&repo, "repo", "", "the Accelerator repository's working copy")
	fl.StringVar(&hooks, "hooks", "", "the Accelerator templates' Pipelines/Templates/Hooks folder (default: the repository's own, when it has one)")
	fl.BoolVar(&write, "write", false, "write each solution's pipeline for --host (new files only; nothing else changes)")
	fl.StringVar(&host, "host", accelerator.HostAzureDevOps, "the pipeline host for --write: azure-devops or github")
	return cmd
}
