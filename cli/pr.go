package cli

import (
	"context"
	"fmt"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/task"
	"github.com/spf13/cobra"
)

func init() { register(newPRCmd) }

// repoFlags are the repository host connection flags shared by pr, history
// and upgrade-requested; each overrides the matching CI variable.
type repoFlags struct {
	host, orgURL, project, repository, token, githubAPI string
}

func addRepoFlags(cmd *cobra.Command) *repoFlags {
	r := &repoFlags{}
	fl := cmd.Flags()
	fl.StringVar(&r.host, "host", "", `repository host: "azure-devops" or "github" (default: from TF_BUILD / GITHUB_ACTIONS or the other flags)`)
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

func (r *repoFlags) client(ctx context.Context, f *Factory) (*devops.Client, error) {
	return devops.New(ctx, devops.LoadConfig(f.Getenv, r.overrides()), repoLog(f))
}

// repoLog puts each wait before a retry of an Azure DevOps or GitHub call
// in the run's log: the host's in task mode, stderr in a terminal (stdout
// carries the command's answer, e.g. upgrade-requested's true or false).
func repoLog(f *Factory) devops.Option {
	return devops.WithLog(func(line string) {
		r := f.reporter()
		if _, terminal := r.(*task.Terminal); !terminal {
			r.Info(line)
			return
		}
		fmt.Fprintln(f.Stderr, task.Mask(r, line))
	})
}

func newPRCmd(f *Factory) *cobra.Command {
	pr := &cobra.Command{
		Use:   "pr",
		Short: "Work with pull requests on Azure Repos or GitHub",
	}
	pr.AddCommand(newPRCreateCmd(f))
	return pr
}

func newPRCreateCmd(f *Factory) *cobra.Command {
	var in devops.NewPullRequest
	var repo *repoFlags
	cmd := &cobra.Command{
		Use:     "create --source BRANCH --target BRANCH --title TITLE",
		Example: `  ppalm pr create --source MySolution --target main --title "Deploy MySolution" --label solution-upgrade`,
		Short:   "Open a pull request, or show the one already open for the same branches",
		Long: "Opens a pull request from --source to --target and prints its link. If an active pull request\n" +
			"for the same branches exists, nothing is changed and its link is printed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := repo.client(ctx, f)
			if err != nil {
				return fmt.Errorf("pr create: %w", err)
			}
			got, created, err := c.EnsurePullRequest(ctx, in)
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(f.Stderr, "created pull request %d: %s\n", got.ID, got.Title)
			} else {
				fmt.Fprintf(f.Stderr, "pull request %d from %s to %s is already open; nothing changed\n", got.ID, got.SourceBranch, got.TargetBranch)
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
	for _, name := range []string{"source", "target", "title"} {
		_ = cmd.MarkFlagRequired(name)
	}
	repo = addRepoFlags(cmd)
	return cmd
}
