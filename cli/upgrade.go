package cli

import (
	"fmt"
	"strconv"

	"github.com/ppalm/ppalm/devops"
	"github.com/spf13/cobra"
)

func init() { register("upgrade-requested", newUpgradeRequestedCmd) }

// upgradeDoc is upgrade-requested's --output json document.
type upgradeDoc struct {
	UpgradeRequested bool   `json:"upgradeRequested"`
	Reason           string `json:"reason" doc:"what decided it: the variable, or the pull request and its labels"`
}

func newUpgradeRequestedCmd(f *Factory) *cobra.Command {
	var repo *repoFlags
	var out *output
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
			if err := f.reporter().SetOutput("upgradeRequested", strconv.FormatBool(up)); err != nil {
				return err
			}
			if out.json() {
				return f.writeJSON(upgradeDoc{UpgradeRequested: up, Reason: reason})
			}
			f.reporter().Info(fmt.Sprintf("upgrade requested: %v (%s)", up, reason))
			fmt.Fprintln(f.Stdout, strconv.FormatBool(up))
			return nil
		},
	}
	repo = addRepoFlags(cmd)
	out = addOutputFlag(cmd, upgradeDoc{})
	return cmd
}
