package accelerator

import (
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/settings"
)

// Variable is one of the Accelerator's pipeline control variables.
type Variable struct {
	// Name is the variable's name as the Accelerator spells it.
	Name string
	// Default is the Accelerator's value when the variable is not set.
	Default string
	// Pipeline is the Accelerator pipeline that read it: export, build,
	// deploy (import and configuration) or all.
	Pipeline string
	// PPALM says what ppalm does with it.
	PPALM string
	// Honoured is true when ppalm reads the variable under its Accelerator
	// name (the commands' --accelerator-variables, which the templates
	// set); false when it has no meaning for ppalm.
	Honoured bool
}

// Variables lists every control variable the Accelerator's pipelines read,
// in the order the migration page of the README gives them.
var Variables = []Variable{
	// Deployment (build-deploy-<env>-<Solution> and deploy-Solution.yml).
	{"EnvironmentName", "", "deploy", "names the config folder of the environment (config/<name>/, <file>-<name>.json); the template's `config` of the environment, overridden by the variable when it is set", true},
	{"ServiceConnection", "", "deploy", "the Azure DevOps template's default service connection of an environment (`$(ServiceConnection)` from the environment's variable group)", true},
	{"ServiceConnectionUrl", "", "deploy", "not needed: ppalm reads the environment URL from the service connection", false},
	{"TriggerSolutionUpgrade", "false", "deploy", "import --upgrade auto: true upgrades (StageAndUpgrade) an installed solution; so does the solution-upgrade pull request label", true},
	{"SkipSolutionImport", "false", "deploy", "true skips the import; the settings check and the configuration still run", true},
	{"ActivateFlowsOnTheSolutionImport", "true", "deploy", "the import's PublishWorkflows (the build tools' ActivatePlugins); false also turns the solution's flows off in the target before a managed import, and activate-flows turns them on afterwards", true},
	{"ImportUnmanaged", "false", "deploy", "true imports the build's unmanaged zip instead of the managed one", true},
	{"EnableFlows", "true", "deploy", "false skips configure's activate-flows (flows stay as the import left them)", true},
	{"BypassAppConsent", "false", "deploy", "true runs configure's bypass-app-consent: every canvas app of the solution bypasses the connection consent dialog", true},
	{"FailPluginIfAppShareError", "false", "deploy", "not needed: a canvas app share that fails always fails the step", false},
	{"CacheEnabled", "true", "deploy", "not needed: ppalm installs no PowerShell modules", false},
	{"TestOverride", "", "deploy", "not supported: ppalm runs no canvas app UI tests (TestAutomation* variables likewise)", false},
	{"AADHost", "login.microsoftonline.com", "all", "not needed: sign-in goes through azidentity, which reads AZURE_AUTHORITY_HOST for other clouds", false},
	// Build (build-Solution.yml).
	{"ProcessCanvasApps", "true", "build and export", "export-to-git --process-canvas-apps (a review copy of each canvas app; the .msapp stays what is packed)", true},
	{"DisableSolutionChecker", "false", "build", "not needed: ppalm runs no solution checker", false},
	{"TriggerFlowValidation", "false", "build", "not supported: ppalm does not scan flow conditions", false},
	{"PluginSNK", "", "build", "not supported: ppalm packs the solution as exported and builds no plug-in or PCF project", false},
	// Export (export-solution-to-git).
	{"PublishCustomizationsBeforeExport", "true", "export", "false: export-to-git does not publish customizations first (--no-publish)", true},
	{"DoNotExportCurrentEnvironmentVariableValues", "false", "export", "true: export-to-git drops the development environment's variable values from source", true},
	{"UseSolutionVersionFromDataverse", "false", "export", "true: export-to-git keeps the development version (the build then keeps it too)", true},
	{"GenerateDeploymentSettings", "true", "export", "false: export-to-git writes no config/ settings files", true},
	{"DisableFlows", "false", "export", "true: export-to-git commits every cloud flow turned off", true},
	{"VerifyDefaultEnvironmentVariableValues", "false", "export", "true: export-to-git writes the DefaultEnvironmentVariables pairs of config/customDeploymentSettings.json into the variables' default values", true},
	{"UseDeploymentSettingsPlaceholders", "true", "export", "not needed: export-to-git always writes #{token}# placeholders, so no value reaches git", false},
	{"DisableCustomConnectorCode", "false", "export", "not supported: custom connector code is exported as it is", false},
	{"PipelineProject", "", "export", "not needed: ppalm creates no pipelines or branch policies (PipelineRepository likewise)", false},
	{"PowerPageWebsiteId", "", "export", "not supported: ppalm does not download or upload Power Pages sites", false},
	{"pacVersion", "", "all", "not needed: ppalm does not use pac", false},
}

// Lookup returns the Variable named name (any letter case).
func Lookup(name string) (Variable, bool) {
	for _, v := range Variables {
		if strings.EqualFold(v.Name, name) {
			return v, true
		}
	}
	return Variable{}, false
}

// Values reads the control variables a run was given, through the same
// sources as #{tokens}# (settings.Lookup over settings.Variables). A
// variable that is empty is unset, as it was for the Accelerator.
type Values struct {
	Lookup settings.LookupFunc
}

// String returns a variable's value; ok is false when it is not set.
func (v Values) String(name string) (string, bool) {
	if v.Lookup == nil {
		return "", false
	}
	s, ok := settings.Lookup(v.Lookup, name)
	s = strings.TrimSpace(s)
	return s, ok && s != ""
}

// Bool reads a true/false variable (any letter case, as the Accelerator's
// eq() compared them); set is false when it is not set. Any other value is
// an error naming the variable.
func (v Values) Bool(name string) (value, set bool, err error) {
	s, ok := v.String(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, fmt.Errorf("pipeline variable %s is %q: expected true or false", name, s)
}
