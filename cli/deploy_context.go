package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/steps"
)

// deployContext is where import, plan and configure start: the settings
// files read with their tokens filled from the environment, the target's
// client, and a steps.Context holding both, whose reporter has shown the
// settings' warnings. The settings are read first, so a missing variable is
// reported before any connection is tried.
func deployContext(ctx context.Context, f *Factory, conn *connectionFlags, deploymentPath, customPath string, strict bool, lookup settings.LookupFunc) (*steps.Context, error) {
	ds, cds, warnings, err := steps.LoadSettingsWith(deploymentPath, customPath, lookup, steps.LoadOptions{Strict: strict})
	if err != nil {
		return nil, err
	}
	dv, err := conn.client(ctx, f)
	if err != nil {
		return nil, err
	}
	r := f.reporter()
	for _, w := range warnings {
		if w.Notice {
			r.Info(w.String())
			continue
		}
		// The file goes in the file argument (a host links it); the
		// message would otherwise name it twice.
		if w.Path == "" {
			r.Warning(w.Message, w.File)
		} else {
			r.Warning(w.Path+": "+w.Message, w.File)
		}
	}
	return &steps.Context{Reporter: r, Getenv: f.Getenv, Now: time.Now, Dataverse: dv, Deployment: ds, Custom: cds}, nil
}

// zipDeployContext is deployContext for a command that imports (or plans
// to import) a zip: --zipfile is required (a pattern names one zip),
// --upgrade must parse, and the settings flags may name a config folder.
// flags sets the command's own options on the context before the
// Accelerator's control variables (--accelerator-variables) are applied,
// so a variable that is set wins.
func zipDeployContext(ctx context.Context, f *Factory, conn *connectionFlags, set *settingsFlags, zipfile, upgrade string, flags func(*steps.Context)) (*steps.Context, error) {
	if zipfile == "" {
		return nil, fmt.Errorf("--zipfile is required")
	}
	zip, err := resolveZip(zipfile)
	if err != nil {
		return nil, err
	}
	mode, err := steps.ParseUpgradeMode(upgrade)
	if err != nil {
		return nil, err
	}
	lookup := lookupEnv(f)
	vals := accelerator.Values{Lookup: lookup}
	acceleratorEnvironment(f, set, vals)
	dpath, cpath, notices, err := set.paths()
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		f.reporter().Info(n)
	}
	sc, err := deployContext(ctx, f, conn, dpath, cpath, set.strict, lookup)
	if err != nil {
		return nil, err
	}
	sc.ZipFile, sc.Upgrade = zip, mode
	if flags != nil {
		flags(sc)
	}
	upgradeVariable := false
	if set.accelerator {
		lines, err := steps.ApplyDeployVariables(sc, vals)
		for _, l := range lines {
			sc.Reporter.Info(l)
		}
		if err != nil {
			return nil, err
		}
		_, ok, err := vals.Bool("TriggerSolutionUpgrade")
		if err != nil {
			return nil, err
		}
		upgradeVariable = ok
	}
	// --upgrade auto follows the pipeline's variables and the pull
	// request's label.
	sc.UpgradeRequested = func(ctx context.Context) (bool, string, error) {
		if upgradeVariable {
			// Read through the token sources, so a GitHub variable
			// (PPALM_VARIABLES) counts as an Azure DevOps one does.
			b, _, err := vals.Bool("TriggerSolutionUpgrade")
			return b, fmt.Sprintf("pipeline variable TriggerSolutionUpgrade=%t", b), err
		}
		return devops.UpgradeRequested(ctx, f.Getenv, repoLog(f))
	}
	return sc, nil
}

// acceleratorEnvironment lets the pipeline variable EnvironmentName pick the
// environment of the config folder look-up under --accelerator-variables,
// as the Accelerator's deploy pipelines did.
func acceleratorEnvironment(f *Factory, set *settingsFlags, vals accelerator.Values) {
	if !set.accelerator {
		return
	}
	if name, ok := vals.String("EnvironmentName"); ok && !strings.EqualFold(name, set.environmentName) {
		f.reporter().Info(fmt.Sprintf("pipeline variable EnvironmentName=%s: settings of environment %s", name, name))
		set.environmentName = name
	}
}

// resolveZip returns the zip --zipfile names: the path itself, or the one
// file a pattern (drop/MySolution_*_managed.zip, as the build names its zips
// after the version) matches. No match, or more than one, is an error
// naming them.
func resolveZip(pattern string) (string, error) {
	if !strings.ContainsAny(pattern, "*?[") {
		return pattern, nil
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return "", fmt.Errorf("--zipfile %q: %w", pattern, err)
	}
	sort.Strings(matches)
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("--zipfile %q matches no file", pattern)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("--zipfile %q matches %d files (%s): name one", pattern, len(matches), strings.Join(matches, ", "))
}
