package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

func init() { register("import", newImportCmd) }

// settingsFlags locate the settings files: a deploymentSettings.json path,
// or a config folder plus an environment name (the Accelerator's look-up).
type settingsFlags struct {
	settings        string
	custom          string
	environmentName string
	strict          bool
	// accelerator reads the Accelerator's control variables
	// (--accelerator-variables, see package accelerator).
	accelerator bool
}

func (s *settingsFlags) add(cmd *cobra.Command, customFlag string) {
	fl := cmd.Flags()
	fl.StringVar(&s.settings, "settings", "", "deploymentSettings.json, or a config folder (with --environment-name)")
	fl.BoolVar(&s.accelerator, "accelerator-variables", false, "read the ALM Accelerator's control variables from the pipeline (SkipSolutionImport, ActivateFlowsOnTheSolutionImport, ImportUnmanaged, EnableFlows, BypassAppConsent, TriggerSolutionUpgrade, EnvironmentName): one that is set wins over the flag")
	fl.BoolVar(&s.strict, "strict", false, "a #{token}# without a value is an error (otherwise, as in the Accelerator, it is empty and a customDeploymentSettings entry left empty is skipped as not configured)")
	fl.StringVar(&s.environmentName, "environment-name", "", "environment name for the config folder look-up (config/<name>/..., <file>-<name>.json)")
	if customFlag != "" {
		fl.StringVar(&s.custom, customFlag, "", "customDeploymentSettings.json")
	}
}

// legacyCustom keeps `configure --settings customDeploymentSettings.json`
// working: configure's --settings used to name the custom file, while every
// other command's names deploymentSettings.json. A --settings file that holds
// custom sections and no deployment ones is taken as --custom-settings, with
// a warning saying so.
func (s *settingsFlags) legacyCustom(r task.Reporter) error {
	if s.settings == "" {
		return nil
	}
	st, err := os.Stat(s.settings)
	if err != nil || st.IsDir() {
		return nil // paths says what is wrong
	}
	data, err := os.ReadFile(s.settings)
	if err != nil {
		return fmt.Errorf("--settings: %w", err)
	}
	if !settings.IsCustomOnly(data) {
		return nil
	}
	if s.custom != "" {
		return fmt.Errorf("--settings %s is a customDeploymentSettings.json and --custom-settings names another: --settings names deploymentSettings.json (or a config folder)", s.settings)
	}
	r.Warning("--settings names a customDeploymentSettings.json: read as --custom-settings; pass it as --custom-settings (--settings names deploymentSettings.json or a config folder, for configure as for import)", s.settings)
	s.custom, s.settings = s.settings, ""
	return nil
}

// paths resolves the deployment and custom settings files ("" when none).
// A config folder is looked up as the Accelerator did, each file optional
// (Get-Does-Deployment-Settings-Exist): a file not found for the
// environment is left out with a notice, and the settings check then says
// what the solution still needs.
func (s *settingsFlags) paths() (deploy, custom string, notices []string, err error) {
	deploy, custom = s.settings, s.custom
	if deploy == "" {
		return "", custom, nil, nil
	}
	st, err := os.Stat(deploy)
	if err != nil {
		return "", "", nil, fmt.Errorf("--settings: %w", err)
	}
	if !st.IsDir() {
		return deploy, custom, nil, nil
	}
	loc, err := settings.Locate(deploy, s.environmentName)
	if err != nil {
		return "", "", nil, fmt.Errorf("--settings %s: %w", deploy, err)
	}
	if loc.DeploymentSettings == "" && loc.CustomDeploymentSettings == "" && s.environmentName == "" {
		return "", "", nil, fmt.Errorf("--settings %s is a folder without deploymentSettings.json or customDeploymentSettings.json: pass --environment-name NAME to read %s, or pass the file itself",
			deploy, filepath.Join(deploy, "NAME", "deploymentSettings.json"))
	}
	looked := func(base string) string {
		if s.environmentName == "" {
			return base + ".json"
		}
		return fmt.Sprintf("%s-%s.json, %s, %s.json", base, s.environmentName, filepath.Join(s.environmentName, base+".json"), base)
	}
	if loc.DeploymentSettings == "" {
		notices = append(notices, fmt.Sprintf("no deploymentSettings.json for environment %q in %s (looked for %s): no connection reference or environment variable value is set by the import",
			s.environmentName, deploy, looked("deploymentSettings")))
	}
	if custom == "" {
		custom = loc.CustomDeploymentSettings
		if custom == "" {
			notices = append(notices, fmt.Sprintf("no customDeploymentSettings.json for environment %q in %s (looked for %s): nothing to configure after the import",
				s.environmentName, deploy, looked("customDeploymentSettings")))
		}
	}
	return loc.DeploymentSettings, custom, notices, nil
}

// lookupEnv is where #{name}# tokens get their values (settings.Variables:
// the environment, SECRET_<NAME> under TF_BUILD, PPALM_VARIABLES and
// PPALM_SECRETS); every secret value is registered with the reporter before
// it is handed out, so it is masked. An empty value counts as missing.
func lookupEnv(f *Factory) settings.LookupFunc {
	r := f.reporter()
	v := settings.NewVariables(f.Getenv, func(s string) { task.RegisterSecrets(r, s) })
	for _, w := range v.Warnings {
		r.Warning(w, "")
	}
	return v.Lookup
}

type importOptions struct {
	conn               *connectionFlags
	set                settingsFlags
	zipfile            string
	upgrade            string
	overwriteUnmanaged bool
	publish            bool
	publishWorkflows   bool
	wait               time.Duration
	configure          bool
	bypassConsent      bool
	out                *output
	activateAs         string
}

func newImportCmd(f *Factory) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use: "import",
		Example: `  ppalm import --environment https://contoso-test.crm.dynamics.com --zipfile MySolution_managed.zip --settings MySolution/config/test/deploymentSettings.json

  # the settings files for environment "test" from a config folder, then the post-import configuration
  ppalm import --environment https://contoso-test.crm.dynamics.com --zipfile MySolution_managed.zip --settings MySolution/config --environment-name test --configure`,
		Short: "Import a solution zip with its deployment settings (update or upgrade)",
		Long: "import checks the deployment settings against the zip (every connection reference bound, every\n" +
			"environment variable set) and the target (connections, users and groups exist), then imports it\n" +
			"asynchronously: a new install, an update, or an upgrade (--upgrade auto follows\n" +
			"TriggerSolutionUpgrade or the solution-upgrade pull request label).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImport(cmd.Context(), f, o)
		},
	}
	o.conn = addConnectionFlags(cmd)
	o.set.add(cmd, "custom-settings")
	fl := cmd.Flags()
	fl.StringVar(&o.zipfile, "zipfile", "", "solution zip to import (required)")
	fl.StringVar(&o.upgrade, "upgrade", "auto", "auto|always|never: upgrade (StageAndUpgrade) an installed managed solution")
	fl.BoolVar(&o.overwriteUnmanaged, "overwrite-unmanaged", false, "overwrite unmanaged customizations")
	fl.BoolVar(&o.publish, "publish", false, "publish all customizations after the import (always done for unmanaged)")
	fl.BoolVar(&o.publishWorkflows, "publish-workflows", false, "let the import turn processes on itself (PublishWorkflows; the Accelerator's ActivatePlugins, on by default there); activate-flows turns them on in any case")
	fl.BoolVar(&o.bypassConsent, "bypass-app-consent", false, "with --configure: every canvas app of the solution skips the connection consent dialog")
	fl.DurationVar(&o.wait, "wait", 60*time.Minute, "how long to wait for the import")
	fl.BoolVar(&o.configure, "configure", false, "also run the post-import configuration (ppalm configure's steps) after the import")
	o.out = addOutputFlag(cmd, deployDoc{})
	addActivateAsFlag(cmd, &o.activateAs)
	return cmd
}

// deployDoc is the --output json document of import and configure.
type deployDoc struct {
	runDoc
	Import *importDoc `json:"import,omitempty" doc:"what the import did (import only)"`
	Flows  []flowDoc  `json:"flows" doc:"the activate-flows report, one entry per flow, in switching order"`
}

type importDoc struct {
	Solution         string   `json:"solution" doc:"unique name"`
	Version          string   `json:"version" doc:"the version imported"`
	Kind             string   `json:"kind" doc:"install, update or upgrade"`
	Why              string   `json:"why" doc:"how the kind was chosen"`
	InstalledVersion string   `json:"installedVersion,omitempty" doc:"the version installed before"`
	FinishedHolding  string   `json:"finishedHolding,omitempty" doc:"a leftover NAME_Upgrade applied first"`
	ImportJobID      string   `json:"importJobId,omitempty"`
	Warnings         []string `json:"warnings" doc:"what the import job reported as warnings"`
}

type flowDoc struct {
	ID    string `json:"id" doc:"workflow id"`
	Name  string `json:"name"`
	State string `json:"state" doc:"on or off: the state asked for"`
	As    string `json:"as,omitempty" doc:"who switched it (the connections' owner); omitted: the deploying identity"`
	Pass  int    `json:"pass" doc:"the pass that switched it; 0: it already was in that state"`
	Error string `json:"error,omitempty"`
}

func newDeployDoc(command string, f *Factory, sc *steps.Context, err error) deployDoc {
	d := deployDoc{runDoc: newRunDoc(command, sc.Outcomes, f.outputs(), err), Flows: []flowDoc{}}
	if im := sc.Imported; im != nil {
		d.Import = &importDoc{Solution: im.Solution, Version: im.Version, Kind: im.Kind, Why: im.Why, InstalledVersion: im.InstalledVersion,
			FinishedHolding: im.FinishedHolding, ImportJobID: im.ImportJobID, Warnings: append([]string{}, im.Warnings...)}
	}
	for _, fl := range sc.Flows {
		state := "off"
		if fl.On {
			state = "on"
		}
		fd := flowDoc{ID: fl.ID, Name: fl.Name, State: state, As: fl.As, Pass: fl.Passes}
		if fl.Err != nil {
			fd.Error = fl.Err.Error()
		}
		d.Flows = append(d.Flows, fd)
	}
	return d
}

func runImport(ctx context.Context, f *Factory, o *importOptions) error {
	sc, err := zipDeployContext(ctx, f, o.conn, &o.set, o.zipfile, o.upgrade, func(sc *steps.Context) {
		sc.PublishWorkflows, sc.BypassAppConsent = o.publishWorkflows, o.bypassConsent
	})
	if err != nil {
		return err
	}
	sc.OverwriteUnmanaged, sc.Publish = o.overwriteUnmanaged, o.publish
	if sc.ActivateAs, err = steps.ParseActivateAs(o.activateAs); err != nil {
		return err
	}
	// --wait bounds the whole run: the client waits on its context.
	ctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	err = steps.Deploy(ctx, sc, o.configure)
	f.report(o.out, "ppalm import "+filepath.Base(o.zipfile), sc.Outcomes)
	if o.out.json() {
		if werr := f.writeJSON(newDeployDoc("import", f, sc, err)); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// addActivateAsFlag registers --activate-as (activate-flows' identity).
func addActivateAsFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "activate-as", steps.ActivateAsServicePrincipal,
		"who turns flows on: service-principal (the deploying identity; each connection a flow uses must be shared with it) or connection-owner (impersonate the connections' owner, which the service no longer supports)")
}
