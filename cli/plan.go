package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
)

func init() { register("plan", newPlanCmd) }

type planOptions struct {
	conn    *connectionFlags
	set     settingsFlags
	zipfile string
	upgrade string
	out     *output
}

// planDoc is plan's --output json document.
type planDoc struct {
	Solution  string   `json:"solution" doc:"unique name, from the zip"`
	Version   string   `json:"version" doc:"the zip's version"`
	Kind      string   `json:"kind" doc:"install, update, upgrade, or refused (the target would refuse the import)"`
	Why       string   `json:"why" doc:"how the kind was chosen, or why the target refuses"`
	Added     []string `json:"added" doc:"components the import adds (\"process Find sites\", \"canvas app x\", ...)"`
	Changed   []string `json:"changed" doc:"components it changes"`
	Removed   []string `json:"removed" doc:"components the target has and the zip does not (only an upgrade removes them)"`
	Gaps      []string `json:"gaps" doc:"what the import would stop at: missing settings values, connections, users or groups missing in the target"`
	Kept      []string `json:"kept" doc:"environment variables the settings leave without a value whose value in the target is kept"`
	Warnings  []string `json:"warnings" doc:"what the import would warn about"`
	WouldFail bool     `json:"wouldFail" doc:"the import would fail (exit code 2)"`
}

func newPlanCmd(f *Factory) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:     "plan",
		Example: `  ppalm plan --environment https://contoso-test.crm.dynamics.com --zipfile MySolution_managed.zip --settings MySolution/config --environment-name test`,
		Short:   "Show what an import would do (update or upgrade, components, settings gaps) without changing anything",
		Long: "plan reads the zip, the settings and the target, changes nothing, and says what `ppalm import`\n" +
			"would do: install, update or upgrade; the components added, changed and removed; and every gap the\n" +
			"import would stop at: a connection reference or environment variable without a value, a connection\n" +
			"that does not exist in the target or is for another connector, a user or Entra group that does not\n" +
			"exist there. The last line sums it up.\n\n" +
			"Exit codes: 0 the import would go ahead; 2 it would fail (gaps, or the target refuses it);\n" +
			"1 the plan itself failed (see ppalm help exit-codes).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	o.set.add(cmd, "custom-settings")
	cmd.Flags().StringVar(&o.zipfile, "zipfile", "", "solution zip (required)")
	cmd.Flags().StringVar(&o.upgrade, "upgrade", "auto", "auto|always|never, as for ppalm import")
	o.out = addOutputFlag(cmd, planDoc{})
	return cmd
}

func runPlan(ctx context.Context, f *Factory, o *planOptions) error {
	sc, err := zipDeployContext(ctx, f, o.conn, &o.set, o.zipfile, o.upgrade, nil)
	if err != nil {
		return err
	}
	p, err := steps.Plan(ctx, sc)
	if err != nil {
		return err
	}
	if o.out.json() {
		if err := f.writeJSON(planDoc{Solution: p.Solution, Version: p.Version, Kind: p.Kind, Why: p.Why, Added: p.Added, Changed: p.Changed,
			Removed: p.Removed, Gaps: p.Gaps, Kept: p.Kept, Warnings: p.Warnings, WouldFail: p.WouldFail()}); err != nil {
			return err
		}
	} else {
		fmt.Fprint(f.Stdout, p.String())
	}
	if p.WouldFail() {
		// The message names each gap: in a pipeline it is the error the
		// run's summary lists when plan, run before the import, fails the
		// stage.
		why := fmt.Sprintf("%d gap(s) to fix:\n  %s", len(p.Gaps), strings.Join(p.Gaps, "\n  "))
		if p.Kind == "refused" {
			why = "the target refuses it: " + p.Why
			if len(p.Gaps) > 0 {
				why += fmt.Sprintf("; and %d gap(s) to fix:\n  %s", len(p.Gaps), strings.Join(p.Gaps, "\n  "))
			}
		}
		return &ExitError{Code: ExitCheckFailed, Err: fmt.Errorf("plan: the import would fail: %s", why)}
	}
	return nil
}
