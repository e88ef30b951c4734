package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// LoadSettings reads the deployment settings files (either may be ""),
// fills their #{name}# tokens through lookup and parses them. Tokens missing
// from both files come back as ONE *settings.MissingTokensError naming all
// of them, so a pipeline learns every missing variable at once and before
// anything is sent. Warnings (unknown sections and fields) are returned for
// the caller to print.
func LoadSettings(deploymentPath, customPath string, lookup settings.LookupFunc) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings, []settings.Warning, error) {
	return LoadSettingsWith(deploymentPath, customPath, lookup, LoadOptions{Strict: true})
}

// LoadOptions says how LoadSettingsWith treats tokens without a value.
type LoadOptions struct {
	// Strict makes any token without a value an error (LoadSettings, and
	// --strict). Otherwise the Accelerator's semantics apply: an undefined
	// or empty token becomes "", a customDeploymentSettings entry whose key
	// value is then empty is "not configured" and skipped with one warning
	// (settings.SkipNotConfigured), and in deploymentSettings an unbound
	// connection reference or a variable without any value is still an
	// error at the settings check, before anything is sent.
	Strict bool
}

// LoadSettingsWith is LoadSettings with the token semantics of opts.
func LoadSettingsWith(deploymentPath, customPath string, lookup settings.LookupFunc, opts LoadOptions) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings, []settings.Warning, error) {
	var missing []string
	var files []string
	var lenient []settings.Warning
	fill := func(path string) ([]byte, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read settings: %w", err)
		}
		if !opts.Strict {
			out, unset := settings.FillTokensLenient(raw, lookup)
			if len(unset) > 0 {
				// Said once per file, so a gap the settings check
				// reports later can be traced to the variable to set.
				me := &settings.MissingTokensError{File: path, Names: unset}
				lenient = append(lenient, settings.Warning{File: path, Message: strings.TrimPrefix(me.Error(), path+": ") + " (taken as empty, as the Accelerator did)"})
			}
			return out, nil
		}
		out, err := settings.FillTokens(path, raw, lookup)
		var me *settings.MissingTokensError
		if errors.As(err, &me) {
			missing = append(missing, me.Names...)
			files = append(files, path)
			return nil, nil
		}
		return out, err
	}
	var dsData, cdsData []byte
	var err error
	if deploymentPath != "" {
		if dsData, err = fill(deploymentPath); err != nil {
			return nil, nil, nil, err
		}
	}
	if customPath != "" {
		if cdsData, err = fill(customPath); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(missing) > 0 {
		return nil, nil, nil, &settings.MissingTokensError{File: strings.Join(files, " and "), Names: uniqueSorted(missing)}
	}
	warnings := lenient
	var ds *settings.DeploymentSettings
	var cds *settings.CustomDeploymentSettings
	if dsData != nil {
		var w []settings.Warning
		if ds, w, err = settings.ParseDeploymentSettings(deploymentPath, dsData); err != nil {
			return nil, nil, nil, err
		}
		warnings = append(warnings, w...)
	}
	if cdsData != nil {
		var w []settings.Warning
		if cds, w, err = settings.ParseCustomDeploymentSettings(customPath, cdsData); err != nil {
			return nil, nil, nil, err
		}
		warnings = append(warnings, w...)
		if !opts.Strict {
			for _, line := range settings.SkipNotConfigured(cds) {
				warnings = append(warnings, settings.Warning{File: customPath, Message: line})
			}
		}
	}
	return ds, cds, warnings, nil
}

func uniqueSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// SettingsCheck is the preflight of a deployment: it reads the zip, checks
// the filled deployment settings against it and builds the import's
// ComponentParameters. Every connection reference must be bound and every
// environment variable must have a value (or a default); all gaps come back
// as one error naming each, before anything is sent to the target.
type SettingsCheck struct{}

func (SettingsCheck) Name() string { return "settings-check" }

func (SettingsCheck) Skip(c *Context) (bool, string) {
	if c.ZipFile == "" && c.Solution == nil {
		return true, "no solution zip"
	}
	return false, ""
}

func (SettingsCheck) Run(ctx context.Context, c *Context) error {
	sol, err := loadSolution(c)
	if err != nil {
		return err
	}
	params, gaps := BuildComponentParameters(sol, c.Deployment)
	if len(gaps) > 0 && c.Dataverse != nil {
		// A variable the settings leave without a value may already have
		// one in the target: the Accelerator's export dropped variables
		// whose value was empty, and its import kept the target's value.
		inTarget, err := targetValues(ctx, c, sol)
		if err != nil {
			return err
		}
		var kept []string
		params, gaps, kept = buildComponentParameters(sol, c.Deployment, func(s string) bool { return inTarget[strings.ToLower(s)] })
		for _, name := range kept {
			c.Note("environment variable %s has no value in %s: the value already set in the target is kept", name, deploymentFile(c.Deployment))
		}
	}
	if len(gaps) > 0 {
		hint := ""
		if c.Deployment == nil {
			hint = "\n  no deployment settings were given: write them with `ppalm settings create --zipfile " + c.ZipFile +
				" --out deploymentSettings.json`, fill in the values (`ppalm connection list` shows the connection ids) and pass --settings"
		}
		return fmt.Errorf("%d setting(s) missing for solution %q:\n  %s%s", len(gaps), sol.UniqueName, strings.Join(gaps, "\n  "), hint)
	}
	// Then the target, still before anything changes: a connection id
	// that does not exist there, or a user or group that does not, would
	// otherwise fail halfway through the deployment.
	if c.Dataverse != nil {
		var errs, unchecked []string
		for _, p := range validateTarget(ctx, c, sol, c.Deployment, c.Custom) {
			switch {
			case p.Severity != settings.SeverityError:
				c.Reporter.Warning(p.String(), p.File)
			case p.Check == checkTargetLookup:
				unchecked = append(unchecked, p.String())
			default:
				errs = append(errs, p.String())
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d setting(s) do not match %s:\n  %s", len(errs), c.Dataverse.EnvironmentURL(), strings.Join(errs, "\n  "))
		}
		if len(unchecked) > 0 {
			// Not a mismatch: the service did not answer. Say so, and
			// what a 429 means, rather than send the user to the settings.
			return fmt.Errorf("could not check %d setting(s) against %s, so nothing was imported; the settings may well be right, the service did not answer "+
				"(HTTP 429 means it is throttling the deploying identity: run again in a few minutes; 5xx or no answer: check the service's health):\n  %s",
				len(unchecked), c.Dataverse.EnvironmentURL(), strings.Join(unchecked, "\n  "))
		}
	}
	c.ComponentParameters = params
	c.Note("%d connection reference(s) and %d environment variable value(s) to apply at import",
		countKind(params, "connectionreference"), countKind(params, "environmentvariablevalue"))
	for _, s := range UnhandledSections(c.Custom) {
		c.Reporter.Warning(s, settingsFile(c.Custom))
		c.Note("%s", s)
	}
	return nil
}

func countKind(params []dataverse.ComponentParameter, kind string) int {
	n := 0
	for _, p := range params {
		if p["@odata.type"] == "Microsoft.Dynamics.CRM."+kind {
			n++
		}
	}
	return n
}

func settingsFile(cds *settings.CustomDeploymentSettings) string {
	if cds == nil || cds.File == "" {
		return settings.CustomDeploymentSettingsFile
	}
	return cds.File
}

func deploymentFile(ds *settings.DeploymentSettings) string {
	if ds == nil || ds.File == "" {
		return settings.DeploymentSettingsFile
	}
	return ds.File
}

// BuildComponentParameters is settings.BuildImportParameters (the one
// implementation of the rules) as the client's ComponentParameters; gaps
// names each connection reference without a connection, each value still
// holding a #{token}# and each environment variable without a value (and
// without a default or exported value), with what to set where: the
// Accelerator skipped these silently and the import then failed or left
// flows unbound.
func BuildComponentParameters(sol *solution.Solution, ds *settings.DeploymentSettings) (params []dataverse.ComponentParameter, gaps []string) {
	params, gaps, _ = buildComponentParameters(sol, ds, nil)
	return params, gaps
}

func buildComponentParameters(sol *solution.Solution, ds *settings.DeploymentSettings, inTarget func(string) bool) (params []dataverse.ComponentParameter, gaps []string, kept []string) {
	p, err := settings.BuildImportParametersWith(sol, ds, inTarget)
	var inc *settings.IncompleteSettingsError
	if errors.As(err, &inc) {
		gaps = inc.Gaps
	}
	for _, cr := range p.ConnectionReferences {
		params = append(params, dataverse.ConnectionReferenceParameter(cr.LogicalName, cr.ConnectorID, cr.ConnectionID))
	}
	for _, ev := range p.EnvironmentVariables {
		params = append(params, dataverse.EnvironmentVariableParameter(ev.SchemaName, ev.Value))
	}
	return params, gaps, p.KeptInTarget
}

// targetValues says, lower-cased by schema name, which of the solution's
// environment variables already have a non-empty value in the target.
func targetValues(ctx context.Context, c *Context, sol *solution.Solution) (map[string]bool, error) {
	var names []string
	for _, ev := range sol.EnvironmentVariables {
		names = append(names, ev.SchemaName)
	}
	out := map[string]bool{}
	if len(names) == 0 {
		return out, nil
	}
	defs, err := c.Dataverse.ListEnvironmentVariableDefinitions(ctx, names...)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		vals, err := c.Dataverse.ListEnvironmentVariableValues(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if v.Value != "" {
				out[strings.ToLower(d.SchemaName)] = true
			}
		}
	}
	return out, nil
}

// UnhandledSections names the customDeploymentSettings sections ppalm reads
// but does not act on, so a user never believes they were applied. Every
// deployment section has a step now (FlowShareWithGroupTeamConfiguration:
// share-flows, ConnectorShareWithGroupTeamConfiguration: share-connectors,
// WebhookUrls: webhook-urls, SDKMessages: plugin-step-config); a section
// added to the settings before its step belongs here.
func UnhandledSections(cds *settings.CustomDeploymentSettings) []string {
	return nil
}
