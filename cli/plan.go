package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
)

func init() { register(newPlanCmd) }

type planOptions struct {
	conn    *connectionFlags
	set     settingsFlags
	zipfile string
	upgrade string
}

func newPlanCmd(f *Factory) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:     "plan",
		Example: `  ppalm plan --environment https://contoso-test.crm.dynamics.com --zipfile MySolution_managed.zip --settings MySolution/config --environment-name test`,
		Short:   "Show what an import would do (update or upgrade, components, settings gaps) without changing anything",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	o.set.add(cmd, "custom-settings")
	cmd.Flags().StringVar(&o.zipfile, "zipfile", "", "solution zip (required)")
	cmd.Flags().StringVar(&o.upgrade, "upgrade", "auto", "auto|always|never, as for ppalm import")
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
	fmt.Fprint(f.Stdout, p.String())
	if p.Kind == "refused" || len(p.Gaps) > 0 {
		return &ExitError{Code: 2, Err: fmt.Errorf("plan: the import would fail: %d settings gap(s)%s", len(p.Gaps), map[bool]string{true: ", import refused", false: ""}[p.Kind == "refused"])}
	}
	return nil
}
