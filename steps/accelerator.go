package steps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppalm/ppalm/accelerator"
)

// ApplyDeployVariables sets c's deployment options from the Accelerator's
// control variables that are set (accelerator.Values): a variable that is
// set wins over the command's flag, since it is what the team configured
// for the environment. It returns one line per variable applied, for the
// log. The variables and what the Accelerator did with them are in
// accelerator.Variables:
//
//   - SkipSolutionImport=true skips the import;
//   - ActivateFlowsOnTheSolutionImport is the import's PublishWorkflows
//     (the build tools' ActivatePlugins); false also turns the solution's
//     flows off before a managed import (the Accelerator's disable-flows.yml);
//   - EnableFlows=false skips activate-flows;
//   - BypassAppConsent=true runs bypass-app-consent;
//   - ImportUnmanaged=true imports the unmanaged zip beside c.ZipFile.
func ApplyDeployVariables(c *Context, v accelerator.Values) ([]string, error) {
	return applyVariables(v, []boolVariable{
		{"SkipSolutionImport", func(b bool) error { c.SkipImport = b; return nil }},
		{"ActivateFlowsOnTheSolutionImport", func(b bool) error { c.PublishWorkflows, c.DeactivateFlowsFirst = b, !b; return nil }},
		{"EnableFlows", func(b bool) error { c.SkipActivation = !b; return nil }},
		{"BypassAppConsent", func(b bool) error { c.BypassAppConsent = b; return nil }},
		{"ImportUnmanaged", func(b bool) error {
			if !b || c.ZipFile == "" {
				return nil
			}
			z, err := UnmanagedZipFor(c.ZipFile)
			if err != nil {
				return fmt.Errorf("pipeline variable ImportUnmanaged=true: %w", err)
			}
			c.ZipFile, c.Solution = z, nil
			return nil
		}},
	}, func(name string, b bool) {
		// Kept so a skipped step can say which variable skipped it.
		if c.Accelerator == nil {
			c.Accelerator = map[string]string{}
		}
		c.Accelerator[name] = fmt.Sprint(b)
	})
}

// boolVariable is an Accelerator control variable and what setting it does.
type boolVariable struct {
	name string
	set  func(bool) error
}

// applyVariables sets each variable of vars that v has, in order, calls
// applied (when not nil) after each, and returns one log line per
// variable applied.
func applyVariables(v accelerator.Values, vars []boolVariable, applied func(name string, b bool)) ([]string, error) {
	var lines []string
	for _, a := range vars {
		b, ok, err := v.Bool(a.name)
		if err != nil {
			return lines, err
		}
		if !ok {
			continue
		}
		if err := a.set(b); err != nil {
			return lines, err
		}
		if applied != nil {
			applied(a.name, b)
		}
		lines = append(lines, fmt.Sprintf("pipeline variable %s=%t", a.name, b))
	}
	return lines, nil
}

// accelerated says why a step is skipped when a control variable asked for
// it ("pipeline variable EnableFlows=false"), or fallback.
func (c *Context) accelerated(name, fallback string) string {
	if v, ok := c.Accelerator[name]; ok {
		return fmt.Sprintf("pipeline variable %s=%s", name, v)
	}
	return fallback
}

// UnmanagedZipFor returns the unmanaged zip a build wrote beside managed
// (NAME_VERSION.zip beside NAME_VERSION_managed.zip); an unmanaged zip is
// returned as it is.
func UnmanagedZipFor(managed string) (string, error) {
	base := filepath.Base(managed)
	if !strings.HasSuffix(strings.ToLower(base), "_managed.zip") {
		return managed, nil
	}
	z := filepath.Join(filepath.Dir(managed), base[:len(base)-len("_managed.zip")]+".zip")
	if _, err := os.Stat(z); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no unmanaged zip %s beside %s: build both package types (ppalm build --packagetype Both)", filepath.Base(z), base)
	} else if err != nil {
		return "", err
	}
	return z, nil
}

// ApplyExportVariables sets src's options from the Accelerator's export
// control variables that are set, as ApplyDeployVariables does for a
// deployment: PublishCustomizationsBeforeExport,
// DoNotExportCurrentEnvironmentVariableValues, UseSolutionVersionFromDataverse,
// GenerateDeploymentSettings, DisableFlows, VerifyDefaultEnvironmentVariableValues
// and ProcessCanvasApps.
func ApplyExportVariables(src *Source, v accelerator.Values) ([]string, error) {
	set := func(to *bool, invert bool) func(bool) error {
		return func(b bool) error { *to = b != invert; return nil }
	}
	return applyVariables(v, []boolVariable{
		{"PublishCustomizationsBeforeExport", set(&src.Publish, false)},
		{"DoNotExportCurrentEnvironmentVariableValues", set(&src.DropEnvironmentVariableValues, false)},
		{"UseSolutionVersionFromDataverse", set(&src.KeepVersion, false)},
		{"GenerateDeploymentSettings", set(&src.NoSettingsFiles, true)},
		{"DisableFlows", set(&src.DisableFlows, false)},
		{"VerifyDefaultEnvironmentVariableValues", set(&src.ApplyDefaultEnvironmentVariables, false)},
		{"ProcessCanvasApps", set(&src.ProcessCanvasApps, false)},
	}, nil)
}
