package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/devops"
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
		Use:   "plan",
		Short: "Show what an import would do (update or upgrade, components, settings gaps) without changing anything",
		Args:  cobra.NoArgs,
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
	if o.zipfile == "" {
		return fmt.Errorf("--zipfile is required")
	}
	mode, err := steps.ParseUpgradeMode(o.upgrade)
	if err != nil {
		return err
	}
	dpath, cpath, err := o.set.paths()
	if err != nil {
		return err
	}
	ds, cds, warnings, err := steps.LoadSettings(dpath, cpath, lookupEnv(f))
	if err != nil {
		return err
	}
	dv, err := o.conn.client(ctx, f)
	if err != nil {
		return err
	}
	r := f.reporter()
	for _, w := range warnings {
		r.Warning(w.String(), w.File)
	}
	sc := &steps.Context{Reporter: r, Getenv: f.Getenv, Now: time.Now, Dataverse: dv, ZipFile: o.zipfile,
		Deployment: ds, Custom: cds, Upgrade: mode,
		UpgradeRequested: func(ctx context.Context) (bool, string, error) { return devops.UpgradeRequested(ctx, f.Getenv) }}
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
