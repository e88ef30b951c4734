package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

func init() { register("export-to-git", newExportToGitCmd) }

func newExportToGitCmd(f *Factory) *cobra.Command {
	src := &steps.Source{}
	var conn *connectionFlags
	var environments, scope string
	var noPublish, accel bool
	var out *output
	cmd := &cobra.Command{
		Use: "export-to-git --environment URL --solution NAME --repo PATH|URL --branch NAME --message TEXT",
		Example: `  ppalm export-to-git --environment https://contoso-dev.crm.dynamics.com --solution MySolution --repo . --branch MySolution \
      --message "Add the approval flow" --environments validation,test,prod`,
		Short: "Export a solution from its development environment and commit it to a branch",
		Long: "The maker's \"Commit Solution\": publish, export managed and unmanaged, unpack both into\n" +
			"<Solution>/SolutionPackage/src, normalise (version 0.0.0.0 unless --keep-version), write\n" +
			"config/<env>/ deployment settings with #{...}# tokens for the environments named by\n" +
			"--environments (existing files are kept; new components are added), commit and push.\n" +
			"When nothing changed, no commit is made and committed=false is set.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			ctx := cmd.Context()
			if src.Solution == "" {
				return fmt.Errorf("--solution is required: the unique name of the solution to export")
			}
			if src.Token == "" {
				src.Token = gitops.TokenFromEnv(f.Getenv)
			}
			task.RegisterSecrets(f.reporter(), gitops.URLPassword(src.Repo))
			if err := steps.DefaultAuthorFor(f.Getenv, src.Repo, &src.Author); err != nil {
				return err
			}
			src.Publish = !noPublish
			if src.Scope, err = steps.ParseCommitScope(scope); err != nil {
				return err
			}
			if accel {
				lines, err := steps.ApplyExportVariables(src, accelerator.Values{Lookup: lookupEnv(f)})
				for _, l := range lines {
					f.reporter().Info(l)
				}
				if err != nil {
					return err
				}
			}
			for _, e := range strings.Split(environments, ",") {
				if e = strings.TrimSpace(e); e != "" {
					src.Environments = append(src.Environments, e)
				}
			}
			client, err := conn.client(ctx, f)
			if err != nil {
				return err
			}
			src.Dataverse = client
			r := f.reporter()
			c, err := steps.ExportToGit(ctx, steps.Services{Reporter: r, Getenv: f.Getenv, Now: time.Now}, src)
			f.report(out, "export-to-git "+src.Solution, c.Outcomes)
			if out.json() {
				if werr := f.writeJSON(newRunDoc("export-to-git", c.Outcomes, f.outputs(), err)); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	out = addOutputFlag(cmd, runDoc{})
	conn = addConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&src.Solution, "solution", "", "unique name of the solution")
	fl.StringVar(&src.Repo, "repo", "", "working copy path or repository URL")
	fl.StringVar(&src.Branch, "branch", "", "branch to commit to (created from --base when missing)")
	fl.StringVar(&src.Base, "base", "main", "branch a new --branch starts from")
	fl.StringVar(&src.Message, "message", "", "commit message, used as typed (#123 links a work item)")
	addAuthorFlags(fl, &src.Author)
	fl.StringVar(&src.Token, "token", "", "git token (default $PPALM_GIT_TOKEN, $SYSTEM_ACCESSTOKEN or $GITHUB_TOKEN); never printed")
	fl.BoolVar(&src.Push, "push", true, "push the branch after committing (--push=false keeps the commit local), as for ppalm commit")
	fl.BoolVar(&src.DiscardChanges, "discard-changes", false, "replace the solution folder of a working copy even when it holds uncommitted or untracked files (refused otherwise)")
	fl.StringVar(&environments, "environments", "", "comma-separated environment names that get config/<env>/ settings, e.g. validation,test,prod")
	fl.BoolVar(&src.KeepVersion, "keep-version", false, "keep the development version instead of 0.0.0.0")
	fl.BoolVar(&src.DropEnvironmentVariableValues, "drop-environment-variable-values", false, "remove the development environment's variable values from source")
	fl.BoolVar(&noPublish, "no-publish", false, "do not publish customizations before the export")
	fl.BoolVar(&src.Async, "async", false, "export asynchronously (large solutions)")
	fl.StringVar(&src.LineEndings, "line-endings", "lf", "line endings of the unpacked XML: lf or crlf")
	fl.StringVar(&scope, "commit-scope", "all", "what to commit: all (the solution and its settings), solution (the solution only) or settings (the config/ settings only); the Accelerator's CommitScope 1, 2 or 3")
	fl.BoolVar(&src.DisableFlows, "disable-flows", false, "commit every cloud flow turned off (the Accelerator's DisableFlows)")
	fl.BoolVar(&src.ApplyDefaultEnvironmentVariables, "default-environment-variables", false, "write the DefaultEnvironmentVariables pairs of config/customDeploymentSettings.json into the variables' default values (the Accelerator's VerifyDefaultEnvironmentVariableValues)")
	fl.BoolVar(&accel, "accelerator-variables", false, "read the ALM Accelerator's export control variables from the pipeline (PublishCustomizationsBeforeExport, DoNotExportCurrentEnvironmentVariableValues, UseSolutionVersionFromDataverse, GenerateDeploymentSettings, DisableFlows, VerifyDefaultEnvironmentVariableValues, ProcessCanvasApps): one that is set wins over the flag")
	fl.BoolVar(&src.ProcessCanvasApps, "process-canvas-apps", false, "also commit CanvasApps/src/<App>/, a read-only review copy of each canvas app (pa.yaml or pretty-printed JSON)")
	for _, name := range []string{"repo", "branch", "message"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// addAuthorFlags registers --author-name and --author-email; steps.DefaultAuthor
// fills what they leave empty.
func addAuthorFlags(fl *pflag.FlagSet, a *gitops.Signature) {
	fl.StringVar(&a.Name, "author-name", "", "author and committer name (default $BUILD_REQUESTEDFOR or $GITHUB_ACTOR, else git's user.name)")
	fl.StringVar(&a.Email, "author-email", "", "author and committer e-mail (default $BUILD_REQUESTEDFOREMAIL or <actor>@users.noreply.github.com, else git's user.email)")
}
