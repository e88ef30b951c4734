package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/steps"
)

func init() { register("configure", newConfigureCmd) }

type configureOptions struct {
	conn     *connectionFlags
	set      settingsFlags
	solution string
	// deploy is the deprecated --deployment-settings.
	deploy        string
	only          []string
	bypassConsent bool
	out           *output
	activateAs    string
}

func newConfigureCmd(f *Factory) *cobra.Command {
	o := &configureOptions{}
	cmd := &cobra.Command{
		Use: "configure",
		Example: `  ppalm configure --environment https://contoso-test.crm.dynamics.com --solution MySolution \
      --settings MySolution/config/test/deploymentSettings.json --custom-settings MySolution/config/test/customDeploymentSettings.json

  # both files of environment "test" from the config folder; only turn the flows on
  ppalm configure --environment https://contoso-test.crm.dynamics.com --solution MySolution --settings MySolution/config --environment-name test --only activate-flows`,
		Short: "Configure an installed solution: endpoints, plug-in steps, teams, shares, owners, flow activation",
		Long: "configure runs, in order, webhook-urls, plugin-step-config, teams, share-apps, bypass-app-consent, share-flows,\n" +
			"share-connectors, set-flow-owners and activate-flows from customDeploymentSettings.json\n" +
			"(--custom-settings; tokens filled from the environment). --settings is deploymentSettings.json (the\n" +
			"connection owners flows are turned on as) or a config folder with --environment-name, as for import.\n" +
			"--only runs a subset.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigure(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	o.set.add(cmd, "custom-settings")
	fl := cmd.Flags()
	fl.StringVar(&o.solution, "solution", "", "unique name of the installed solution (required)")
	// The name configure used for deploymentSettings.json before --settings
	// meant the same file for every command.
	fl.StringVar(&o.deploy, "deployment-settings", "", "deploymentSettings.json")
	// Hidden, and said on stderr when used (pflag's own deprecation
	// notice would go to stdout).
	_ = fl.MarkHidden("deployment-settings")
	fl.BoolVar(&o.bypassConsent, "bypass-app-consent", false, "every canvas app of the solution skips the connection consent dialog (bypass-app-consent)")
	// settingsFlags registers --accelerator-variables with import's list;
	// configure reads only these.
	fl.Lookup("accelerator-variables").Usage = "read the ALM Accelerator's control variables from the pipeline (EnableFlows, BypassAppConsent, EnvironmentName): one that is set wins over the flag"
	fl.StringSliceVar(&o.only, "only", nil, "run only these steps: webhook-urls,plugin-step-config,teams,share-apps,bypass-app-consent,share-flows,share-connectors,set-flow-owners,activate-flows")
	o.out = addOutputFlag(cmd, deployDoc{})
	addActivateAsFlag(cmd, &o.activateAs)
	return cmd
}

func runConfigure(ctx context.Context, f *Factory, o *configureOptions) error {
	if o.solution == "" {
		return fmt.Errorf("--solution is required: the unique name of the installed solution")
	}
	if _, err := steps.ConfigureSteps(o.only); err != nil {
		return err
	}
	if err := o.set.legacyCustom(f.reporter()); err != nil {
		return err
	}
	if o.deploy != "" {
		f.reporter().Warning("--deployment-settings is deprecated: --settings names deploymentSettings.json (or a config folder) for configure as for every command", "")
		if o.set.settings != "" {
			return fmt.Errorf("--deployment-settings %s and --settings %s: pass deploymentSettings.json once, as --settings", o.deploy, o.set.settings)
		}
		o.set.settings = o.deploy
	}
	if o.set.custom == "" && o.set.settings == "" {
		return fmt.Errorf("--custom-settings (customDeploymentSettings.json) or --settings with a config folder and --environment-name is required")
	}
	lookup := lookupEnv(f)
	vals := accelerator.Values{Lookup: lookup}
	acceleratorEnvironment(f, &o.set, vals)
	dpath, cpath, notices, err := o.set.paths()
	if err != nil {
		return err
	}
	for _, n := range notices {
		f.reporter().Info(n)
	}
	sc, err := deployContext(ctx, f, o.conn, dpath, cpath, o.set.strict, lookup)
	if err != nil {
		return err
	}
	sc.SolutionName = o.solution
	sc.BypassAppConsent = o.bypassConsent
	if o.set.accelerator {
		lines, err := steps.ApplyDeployVariables(sc, vals)
		for _, l := range lines {
			sc.Reporter.Info(l)
		}
		if err != nil {
			return err
		}
	}
	if cpath == "" {
		sc.Reporter.Info("no customDeploymentSettings.json: the configure steps that need it have nothing to do")
	}
	if sc.ActivateAs, err = steps.ParseActivateAs(o.activateAs); err != nil {
		return err
	}
	err = steps.Configure(ctx, sc, o.only)
	if len(sc.Outcomes) == 0 && err != nil {
		// Refused before any step ran: nothing to report.
		return err
	}
	f.report(o.out, "ppalm configure "+o.solution, sc.Outcomes)
	if o.out.json() {
		if werr := f.writeJSON(newDeployDoc("configure", f, sc, err)); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
