package cli

import (
	"fmt"
	"strconv"

	"github.com/ppalm/ppalm/devops"
	"github.com/spf13/cobra"
)

func init() { register(newUpgradeRequestedCmd) }

func newUpgradeRequestedCmd(f *Factory) *cobra.Command {
	var repo *repoFlags
	cmd := &cobra.Command{
		Use: "upgrade-requested",
		Example: `  # in a pull request build (Azure DevOps or GitHub Actions)
  ppalm upgrade-requested`,
		Short: "Print whether this deployment should upgrade the solution (true or false)",
		Long: "Prints true when the TriggerSolutionUpgrade variable is true, or, when it is not set, when the\n" +
			"pull request behind this build carries the label " + devops.UpgradeLabel + "; false otherwise.\n" +
			"Also writes the output upgradeRequested.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			up, reason, err := devops.UpgradeRequested(cmd.Context(), f.Getenv, devops.WithOverrides(repo.overrides()), repoLog(f))
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Stderr, "upgrade requested: %v (%s)\n", up, reason)
			fmt.Fprintln(f.Stdout, strconv.FormatBool(up))
			return f.reporter().SetOutput("upgradeRequested", strconv.FormatBool(up))
		},
	}
	repo = addRepoFlags(cmd)
	return cmd
}
