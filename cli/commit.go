package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
	"github.com/spf13/cobra"
)

func init() { register("commit", newCommitCmd) }

// commitDoc is commit's --output json document.
type commitDoc struct {
	Committed bool     `json:"committed" doc:"false when the folder already matched the branch"`
	Commit    string   `json:"commit" doc:"the new commit, or the branch head when nothing changed"`
	Branch    string   `json:"branch"`
	Pushed    bool     `json:"pushed"`
	Changes   []string `json:"changes" doc:"\"A path\", \"M path\" or \"D path\", sorted by path"`
}

func newCommitCmd(f *Factory) *cobra.Command {
	var o gitops.CommitOptions
	var format *output
	cmd := &cobra.Command{
		Use: "commit --repo PATH|URL --branch NAME --folder DIR --path REPO_DIR --message TEXT",
		Example: `  # publish an unpacked solution to a branch of the CI checkout and push it (--push=false: commit only)
  ppalm commit --repo . --branch MySolution --folder out/src --path MySolution/SolutionPackage/src --message "Update MySolution"

  # outside Azure DevOps and GitHub Actions, name the author
  ppalm commit --repo https://github.com/contoso/alm --branch MySolution --folder out/src --path MySolution/SolutionPackage/src \
      --message "Update MySolution" --author-name "Alex Maker" --author-email alex@contoso.com`,
		Short: "Commit an unpacked solution folder to a git branch and push it",
		Long: "Replaces the repository folder --path with the contents of --folder exactly (deletions included,\n" +
			"nothing outside --path touched), commits on --branch (created from --base when missing) and\n" +
			"pushes the branch (--push=false keeps it local), as export-to-git does. --repo is a working copy\n" +
			"(a CI checkout, detached HEAD is fine) or a URL, which is cloned shallow into a temporary folder. When nothing changed no commit is\n" +
			"made and committed=false is printed.\n\n" +
			"A working copy whose --path holds uncommitted or untracked files is refused, naming them,\n" +
			"unless --discard-changes is given. A password in a --repo URL is the credential sent; a token\n" +
			"or password is never sent over plain http (loopback hosts aside).\n\n" +
			"The token comes from --token or $PPALM_GIT_TOKEN, $SYSTEM_ACCESSTOKEN, $GITHUB_TOKEN (first set)\n" +
			"and is sent as HTTP basic auth; it is never printed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Token == "" {
				o.Token = gitops.TokenFromEnv(f.Getenv)
			}
			task.RegisterSecrets(f.reporter(), o.Token, gitops.URLPassword(o.Repo))
			if err := steps.DefaultAuthorFor(f.Getenv, o.Repo, &o.Author); err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			o.Now = time.Now
			res, err := gitops.Commit(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := setOutputs(f.reporter(), "committed", strconv.FormatBool(res.Committed),
				"commit", res.Hash, "branch", res.Branch, "pushed", strconv.FormatBool(res.Pushed)); err != nil {
				return err
			}
			if format.json() {
				changes := res.Changes
				if changes == nil {
					changes = []string{}
				}
				return f.writeJSON(commitDoc{Committed: res.Committed, Commit: res.Hash, Branch: res.Branch, Pushed: res.Pushed, Changes: changes})
			}
			out := f.Stdout
			if !res.Committed {
				fmt.Fprintf(out, "Nothing to commit: %s on branch %s already matches %s.\n", o.Path, res.Branch, o.Folder)
			} else {
				for _, c := range res.Changes {
					fmt.Fprintln(out, c)
				}
				fmt.Fprintf(out, "Committed %d change(s) to %s as %s.\n", len(res.Changes), res.Branch, res.Hash)
				if res.Pushed {
					fmt.Fprintf(out, "Pushed %s.\n", res.Branch)
				} else {
					fmt.Fprintf(out, "Not pushed (--push=false).\n")
				}
			}
			return nil
		},
	}
	format = addOutputFlag(cmd, commitDoc{})
	fl := cmd.Flags()
	fl.StringVar(&o.Repo, "repo", "", "working copy path or repository URL")
	fl.StringVar(&o.Branch, "branch", "", "branch to commit to")
	fl.StringVar(&o.Base, "base", "main", "branch to create --branch from when it does not exist")
	fl.StringVar(&o.Folder, "folder", "", "folder whose files are published")
	fl.StringVar(&o.Path, "path", "", "repository folder to replace, slash-separated (e.g. MySolution/SolutionPackage/src)")
	fl.StringVar(&o.Message, "message", "", "commit message, used as typed (#123 links a work item)")
	addAuthorFlags(fl, &o.Author)
	fl.BoolVar(&o.Push, "push", true, "push the branch after committing (--push=false keeps the commit local), as for export-to-git")
	fl.BoolVar(&o.DiscardChanges, "discard-changes", false, "replace --path of a working copy even when it holds uncommitted or untracked files (refused otherwise, naming them)")
	fl.StringVar(&o.Token, "token", "", "git token (default $PPALM_GIT_TOKEN, $SYSTEM_ACCESSTOKEN or $GITHUB_TOKEN); never printed")
	for _, name := range []string{"repo", "branch", "folder", "path", "message"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
