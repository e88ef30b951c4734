package cli

import (
	"context"
	"fmt"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/steps"
	"github.com/spf13/cobra"
)

func init() { register("pr", newPRCmd) }

// repoFlags are the repository host connection flags shared by pr, history
// and upgrade-requested; each overrides the matching CI variable.
type repoFlags struct {
	host, orgURL, project, repository, token, githubAPI string
}

func addRepoFlags(cmd *cobra.Command) *repoFlags {
	r := &repoFlags{}
	fl := cmd.Flags()
	fl.StringVar(&r.host, "host", "", `repository host: "azure-devops" or "github" (default: from TF_BUILD / GITHUB_ACTIONS, the other flags, or the working copy's origin remote)`)
	fl.StringVar(&r.orgURL, "organization-url", "", "Azure DevOps organization URL (default $SYSTEM_COLLECTIONURI)")
	fl.StringVar(&r.project, "project", "", "Azure DevOps project (default $SYSTEM_TEAMPROJECT)")
	fl.StringVar(&r.repository, "repository", "", "Azure Repos repository name or id (default $BUILD_REPOSITORY_ID / $BUILD_REPOSITORY_NAME), or GitHub owner/name (default $GITHUB_REPOSITORY)")
	fl.StringVar(&r.token, "token", "", "access token (default $SYSTEM_ACCESSTOKEN or $GITHUB_TOKEN); never printed")
	fl.StringVar(&r.githubAPI, "github-api-url", "", "GitHub REST root (default $GITHUB_API_URL or https://api.github.com)")
	return r
}

func (r *repoFlags) overrides() devops.Config {
	return devops.Config{Host: devops.Host(r.host), OrganizationURL: r.orgURL, Project: r.project, Repository: r.repository, Token: r.token, GitHubAPIURL: r.githubAPI}
}

// client connects to the repository host the flags and the CI variables
// name; on a terminal with neither, to the host of the working copy's
// origin remote, as gh does, with the token from the environment.
func (r *repoFlags) client(ctx context.Context, f *Factory) (*devops.Client, error) {
	cfg := devops.LoadConfig(f.Getenv, r.overrides())
	if cfg.Host == "" {
		origin := gitops.OriginURL(f.dir())
		if fromOrigin, ok := devops.ConfigFromRemote(origin); ok {
			cfg = fromOrigin.Override(r.overrides())
			if cfg.Token == "" {
				cfg.Token = firstSet(f.getenv, tokenVars[cfg.Host]...)
			}
			f.reporter().Info(fmt.Sprintf("repository host from origin %s: %s %s", origin, cfg.Host, cfg.Repository))
		}
	}
	return devops.New(ctx, cfg, r.options(f)...)
}

// tokenVars are where a repository host's token is read from on a
// terminal, first set wins: ppalm's own, the host's CI token, and the
// variable the host's own CLI reads (gh: GH_TOKEN, az devops:
// AZURE_DEVOPS_EXT_PAT).
var tokenVars = map[devops.Host][]string{
	devops.HostGitHub:      {"PPALM_GIT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"},
	devops.HostAzureDevOps: {"PPALM_GIT_TOKEN", "SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_EXT_PAT"},
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// options are the devops client options every repository host call gets.
func (r *repoFlags) options(f *Factory) []devops.Option {
	var opts []devops.Option
	if log := f.httpLog(); log != nil {
		opts = append(opts, devops.WithRequestLog(log))
	}
	opts = append(opts, repoLog(f))
	return append(opts, f.DevopsOptions...)
}

// repoLog puts each wait before a retry of an Azure DevOps or GitHub call
// in the run's log (the reporter: the host's log, or stderr on a terminal,
// since stdout carries the command's answer).
func repoLog(f *Factory) devops.Option {
	return devops.WithLog(func(line string) { f.reporter().Info(line) })
}

func newPRCmd(f *Factory) *cobra.Command {
	pr := &cobra.Command{
		Use:   "pr",
		Short: "Work with pull requests on Azure Repos or GitHub",
	}
	pr.AddCommand(newPRCreateCmd(f))
	return pr
}

// prDoc is pr create's --output json document.
type prDoc struct {
	ID           int          `json:"id" doc:"Azure DevOps pullRequestId or GitHub number"`
	Title        string       `json:"title"`
	URL          string       `json:"url" doc:"the page a person opens"`
	Created      bool         `json:"created" doc:"false when one was already open for the branches (nothing changed)"`
	SourceBranch string       `json:"sourceBranch"`
	TargetBranch string       `json:"targetBranch"`
	Diff         *diff.Result `json:"diff,omitempty" doc:"the component diff put in the description (with --solution)"`
}

func newPRCreateCmd(f *Factory) *cobra.Command {
	var in devops.NewPullRequest
	var repo *repoFlags
	var solutionName, gitRepo string
	var out *output
	cmd := &cobra.Command{
		Use: "create --source BRANCH --target BRANCH --title TITLE",
		Example: `  ppalm pr create --source MySolution --target main --title "Deploy MySolution" --label solution-upgrade
  # with the component diff of MySolution/SolutionPackage/src between the branches in the description
  ppalm pr create --source MySolution --target main --title "Deploy MySolution" --solution MySolution`,
		Short: "Open a pull request, or show the one already open for the same branches",
		Long: "Opens a pull request from --source to --target and prints its link. If an active pull request\n" +
			"for the same branches exists, nothing is changed and its link is printed. With --solution NAME\n" +
			"the description gets what the pull request changes in the solution, component by component\n" +
			"(ppalm diff of NAME/SolutionPackage/src on --target and --source, read from --repo).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var changes *diff.Result
			if solutionName != "" {
				token := gitops.TokenFromEnv(f.getenv)
				if repo.token != "" {
					token = repo.token
				}
				r, err := steps.DiffRefs(ctx, gitRepo, token, solutionName, in.TargetBranch, in.SourceBranch)
				if err != nil {
					return fmt.Errorf("pr create: the component diff of %s: %w", solutionName, err)
				}
				changes = r
				in.Description = steps.DescribeChanges(in.Description, r, steps.MaxPullRequestDescription)
			}
			c, err := repo.client(ctx, f)
			if err != nil {
				return fmt.Errorf("pr create: %w", err)
			}
			got, created, err := c.EnsurePullRequest(ctx, in)
			if err != nil {
				return err
			}
			if created {
				f.reporter().Info(fmt.Sprintf("created pull request %d: %s", got.ID, got.Title))
			} else {
				f.reporter().Info(fmt.Sprintf("pull request %d from %s to %s is already open; nothing changed", got.ID, got.SourceBranch, got.TargetBranch))
			}
			if out.json() {
				return f.writeJSON(prDoc{ID: got.ID, Title: got.Title, URL: got.WebURL, Created: created, SourceBranch: got.SourceBranch, TargetBranch: got.TargetBranch, Diff: changes})
			}
			fmt.Fprintln(f.Stdout, got.WebURL)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.SourceBranch, "source", "", "source branch (required)")
	fl.StringVar(&in.TargetBranch, "target", "", "target branch (required)")
	fl.StringVar(&in.Title, "title", "", "title (required)")
	fl.StringVar(&in.Description, "description", "", "description (Azure DevOps: at most 4000 characters)")
	fl.StringArrayVar(&in.Labels, "label", nil, "label to add; repeat for more (solution-upgrade asks the deployment to upgrade)")
	fl.IntSliceVar(&in.WorkItems, "work-item", nil, "Azure Boards work item id to link; repeat for more (GitHub: AB#id in the description)")
	fl.StringVar(&solutionName, "solution", "", "solution whose component diff between the branches goes in the description")
	fl.StringVar(&gitRepo, "repo", ".", "working copy path or repository URL the branches are read from (with --solution)")
	for _, name := range []string{"source", "target", "title"} {
		_ = cmd.MarkFlagRequired(name)
	}
	repo = addRepoFlags(cmd)
	out = addOutputFlag(cmd, prDoc{})
	return cmd
}
