package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/steps"
)

func init() { register(newConfigureCmd) }

type configureOptions struct {
	conn          *connectionFlags
	solution      string
	custom        string
	deploy        string
	only          []string
	strict        bool
	envName       string
	accelerator   bool
	bypassConsent bool
}

func newConfigureCmd(f *Factory) *cobra.Command {
	o := &configureOptions{}
	cmd := &cobra.Command{
		Use: "configure",
		Example: `  ppalm configure --environment https://contoso-test.crm.dynamics.com --solution MySolution \
      --settings MySolution/config/test/customDeploymentSettings.json --deployment-settings MySolution/config/test/deploymentSettings.json

  # only turn the flows on
  ppalm configure --environment https://contoso-test.crm.dynamics.com --solution MySolution --settings customDeploymentSettings.json --only activate-flows`,
		Short: "Configure an installed solution: endpoints, plug-in steps, teams, shares, owners, flow activation",
		Long: "configure runs, in order, webhook-urls, plugin-step-config, teams, share-apps, bypass-app-consent, share-flows,\n" +
			"share-connectors, set-flow-owners and activate-flows from customDeploymentSettings.json\n" +
			"(tokens filled from the environment). --only runs a subset.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConfigure(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.solution, "solution", "", "unique name of the installed solution (required)")
	fl.StringVar(&o.custom, "settings", "", "customDeploymentSettings.json, or a config folder (with --environment-name) holding both files (required)")
	fl.StringVar(&o.deploy, "deployment-settings", "", "deploymentSettings.json (connection owners for activation)")
	fl.StringVar(&o.envName, "environment-name", "", "environment name for the config folder look-up (config/<name>/..., <file>-<name>.json)")
	fl.BoolVar(&o.bypassConsent, "bypass-app-consent", false, "every canvas app of the solution skips the connection consent dialog (bypass-app-consent)")
	fl.BoolVar(&o.accelerator, "accelerator-variables", false, "read the ALM Accelerator's control variables from the pipeline (EnableFlows, BypassAppConsent, EnvironmentName): one that is set wins over the flag")
	fl.BoolVar(&o.strict, "strict", false, "a #{token}# without a value is an error (otherwise, as in the Accelerator, an entry left empty is skipped as not configured)")
	fl.StringSliceVar(&o.only, "only", nil, "run only these steps: webhook-urls,plugin-step-config,teams,share-apps,bypass-app-consent,share-flows,share-connectors,set-flow-owners,activate-flows")
	return cmd
}

// configurePipeline returns the configure steps, or the --only subset in
// pipeline order.
func configurePipeline(only []string) ([]steps.Step, error) {
	all := steps.ConfigurePipeline()
	if len(only) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range only {
		n = strings.TrimSpace(n)
		if _, ok := steps.ConfigureStep(n); !ok {
			var names []string
			for _, s := range all {
				names = append(names, s.Name())
			}
			return nil, fmt.Errorf("--only %q: expected one of %s", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	var out []steps.Step
	for _, s := range all {
		if want[s.Name()] {
			out = append(out, s)
		}
	}
	return out, nil
}

func runConfigure(ctx context.Context, f *Factory, o *configureOptions) error {
	if o.solution == "" || o.custom == "" {
		return fmt.Errorf("--solution and --settings (customDeploymentSettings.json) are required")
	}
	pipeline, err := configurePipeline(o.only)
	if err != nil {
		return err
	}
	lookup := lookupEnv(f)
	vals := accelerator.Values{Lookup: lookup}
	if o.accelerator {
		if name, ok := vals.String("EnvironmentName"); ok {
			o.envName = name
		}
	}
	set := settingsFlags{settings: o.custom, environmentName: o.envName}
	if st, err := os.Stat(o.custom); err == nil && st.IsDir() {
		deploy, custom, notices, err := set.paths()
		if err != nil {
			return err
		}
		for _, n := range notices {
			f.reporter().Info(n)
		}
		o.custom = custom
		if o.deploy == "" {
			o.deploy = deploy
		}
	}
	sc, err := deployContext(ctx, f, o.conn, o.deploy, o.custom, o.strict, lookup)
	if err != nil {
		return err
	}
	sc.SolutionName = o.solution
	sc.BypassAppConsent = o.bypassConsent
	if o.accelerator {
		lines, err := steps.ApplyDeployVariables(sc, vals)
		for _, l := range lines {
			sc.Reporter.Info(l)
		}
		if err != nil {
			return err
		}
	}
	// Every step looks components up by id, not through the solution, so a
	// mistyped name would configure whatever the environment holds.
	if _, err := sc.Dataverse.GetSolution(ctx, o.solution); errors.Is(err, dataverse.ErrNotFound) {
		return fmt.Errorf("--solution %q: no such solution in %s: import it first, or check the unique name (not the display name)", o.solution, sc.Dataverse.EnvironmentURL())
	} else if err != nil {
		return fmt.Errorf("configure %s: %w", o.solution, err)
	}
	for _, s := range steps.UnhandledSections(sc.Custom) {
		sc.Reporter.Warning(s, o.custom)
	}
	if o.custom == "" {
		sc.Reporter.Info("no customDeploymentSettings.json: the configure steps that need it have nothing to do")
	}
	return runSteps(ctx, f, sc.Reporter, sc, "ppalm configure "+o.solution, pipeline)
}
