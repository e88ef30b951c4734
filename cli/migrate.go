package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/accelerator"
)

func init() { register("migrate", newMigrateCmd) }

// migrateDoc is migrate's --output json document.
type migrateDoc struct {
	Repo      string               `json:"repo" doc:"the repository's working copy"`
	Solutions []migrateSolutionDoc `json:"solutions" doc:"each solution folder found"`
	HooksDir  string               `json:"hooksDir,omitempty" doc:"where the Accelerator's hook templates were read"`
	Hooks     []migrateHookDoc     `json:"hooks" doc:"the hooks a team filled in"`
	// MustChange is what blocks: the exit code is 2 when it is not empty.
	MustChange []string `json:"mustChange" doc:"what must change before ppalm deploys the repository (exit code 2 when any)"`
	Written    []string `json:"written" doc:"the files --write added"`
}

type migrateSolutionDoc struct {
	Name          string                  `json:"name" doc:"unique name, from Solution.xml"`
	Folder        string                  `json:"folder" doc:"the repository folder"`
	Tree          string                  `json:"tree" doc:"the unpacked tree ppalm builds"`
	Legacy        bool                    `json:"legacy" doc:"the tree is directly under SolutionPackage/ (no src/)"`
	Version       string                  `json:"version" doc:"the version in source (0.0.0.0: stamped at build)"`
	CanvasSources []string                `json:"canvasSources" doc:"old CanvasApps/*_msapp_src folders, left out of the zip"`
	CanvasMissing []string                `json:"canvasMissing" doc:"those without their .msapp (must change)"`
	SharedFiles   []string                `json:"sharedFiles" doc:"config/ settings files used by every environment without its own"`
	Environments  []migrateEnvironmentDoc `json:"environments" doc:"each deployment environment"`
	NotDeployed   []string                `json:"notDeployed" doc:"what the folder holds that ppalm neither builds nor deploys"`
}

type migrateEnvironmentDoc struct {
	Name          string   `json:"name"`
	Deployment    string   `json:"deploymentSettings,omitempty" doc:"the deploymentSettings.json the look-up finds"`
	Custom        string   `json:"customDeploymentSettings,omitempty" doc:"the customDeploymentSettings.json the look-up finds"`
	Variables     []string `json:"variables" doc:"every #{token}# of both files (Azure DevOps spelling)"`
	Problems      []string `json:"problems" doc:"what fails to parse (must change)"`
	Warnings      []string `json:"warnings"`
	Pipeline      string   `json:"pipeline,omitempty" doc:"the deploy pipeline the Accelerator generated"`
	Branch        string   `json:"branch,omitempty" doc:"the branch that deploys here"`
	PullRequest   bool     `json:"pullRequest" doc:"pull requests deploy here"`
	VariableGroup string   `json:"variableGroup" doc:"the variable group (or GitHub environment) to create"`
}

type migrateHookDoc struct {
	File  string `json:"file"`
	Steps int    `json:"steps" doc:"enabled steps"`
	PPALM string `json:"ppalm,omitempty" doc:"where the steps go in ppalm's templates; omitted: no such point (must change)"`
}

func newMigrateDoc(r *accelerator.Report, written []string) migrateDoc {
	list := func(in []string) []string { return append([]string{}, in...) }
	d := migrateDoc{Repo: r.Repo, HooksDir: r.HooksDir, Solutions: []migrateSolutionDoc{}, Hooks: []migrateHookDoc{},
		MustChange: list(r.MustChange()), Written: list(written)}
	for _, s := range r.Solutions {
		sd := migrateSolutionDoc{Name: s.Name, Folder: s.Folder, Tree: s.Tree, Legacy: s.Legacy, Version: s.Version,
			CanvasSources: list(s.CanvasSources), CanvasMissing: list(s.CanvasMissing), SharedFiles: list(s.SharedFiles),
			Environments: []migrateEnvironmentDoc{}, NotDeployed: list(s.NotDeployed)}
		for _, e := range s.Environments {
			ed := migrateEnvironmentDoc{Name: e.Name, Deployment: e.Deployment, Custom: e.Custom, Variables: list(e.Tokens),
				Problems: list(e.Problems), Warnings: list(e.Warnings), Branch: e.Branch, PullRequest: e.PullRequest, VariableGroup: e.VariableGroupToCreate}
			if e.Pipeline != nil {
				ed.Pipeline = e.Pipeline.File
			}
			sd.Environments = append(sd.Environments, ed)
		}
		d.Solutions = append(d.Solutions, sd)
	}
	for _, h := range r.Hooks {
		d.Hooks = append(d.Hooks, migrateHookDoc{File: h.File, Steps: h.Steps, PPALM: h.PPALM})
	}
	return d
}

func newMigrateCmd(f *Factory) *cobra.Command {
	var repo, hooks, host string
	var write bool
	var out *output
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
			"solution, the pipeline (Azure DevOps) or workflow (GitHub) extending ppalm's templates.\n\n" +
			"Exit codes: 0 nothing must change; 2 something must change (listed last); 1 migrate itself\n" +
			"failed (see ppalm help exit-codes).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repo == "" {
				return fmt.Errorf("--repo is required: the Accelerator repository's working copy")
			}
			r, err := accelerator.Inspect(repo, hooks)
			if err != nil {
				return err
			}
			if !out.json() {
				fmt.Fprint(f.Stdout, r.String())
			}
			var written []string
			if write {
				if written, err = r.WritePipelines(repo, host); err != nil {
					if len(written) > 0 {
						err = fmt.Errorf("%w (written before the failure: %s)", err, strings.Join(written, ", "))
					}
					return fmt.Errorf("--write: %w", err)
				}
				if !out.json() {
					for _, p := range written {
						fmt.Fprintf(f.Stdout, "wrote %s\n", p)
					}
				}
			}
			if out.json() {
				if err := f.writeJSON(newMigrateDoc(r, written)); err != nil {
					return err
				}
			}
			if n := len(r.MustChange()); n > 0 {
				return &ExitError{Code: ExitCheckFailed, Err: fmt.Errorf("migrate: %d thing(s) must change before ppalm deploys %s", n, repo)}
			}
			return nil
		},
	}
	out = addOutputFlag(cmd, migrateDoc{})
	fl := cmd.Flags()
	fl.StringVar(&repo, "repo", "", "the Accelerator repository's working copy")
	fl.StringVar(&hooks, "hooks", "", "the Accelerator templates' Pipelines/Templates/Hooks folder (default: the repository's own, when it has one)")
	fl.BoolVar(&write, "write", false, "write each solution's pipeline for --host (new files only; nothing else changes)")
	fl.StringVar(&host, "host", accelerator.HostAzureDevOps, "the pipeline host for --write: azure-devops or github")
	return cmd
}
