package steps

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/accelerator"
)

// The export control variables set Source's options, each in its own
// sense (GenerateDeploymentSettings=false writes no settings files), log a
// line each, leave unset ones alone, and refuse a value that is not a
// Boolean naming the variable.
func TestApplyExportVariables(t *testing.T) {
	src := Source{ProcessCanvasApps: true}
	lines, err := ApplyExportVariables(&src, accelerator.Values{Lookup: mapLookup(map[string]string{
		"PublishCustomizationsBeforeExport":           "true",
		"DoNotExportCurrentEnvironmentVariableValues": "True",
		"UseSolutionVersionFromDataverse":             "true",
		"GenerateDeploymentSettings":                  "false",
		"DisableFlows":                                "true",
		"VerifyDefaultEnvironmentVariableValues":      "true",
	})})
	if err != nil {
		t.Fatal(err)
	}
	want := Source{Publish: true, DropEnvironmentVariableValues: true, KeepVersion: true, NoSettingsFiles: true,
		DisableFlows: true, ApplyDefaultEnvironmentVariables: true, ProcessCanvasApps: true}
	if !reflect.DeepEqual(src, want) {
		t.Errorf("source options %+v, want %+v", src, want)
	}
	if len(lines) != 6 || lines[3] != "pipeline variable GenerateDeploymentSettings=false" {
		t.Errorf("log %q, want one line per variable set", lines)
	}
	src = Source{}
	if _, err := ApplyExportVariables(&src, accelerator.Values{Lookup: mapLookup(map[string]string{"GenerateDeploymentSettings": "true", "DisableFlows": "maybe"})}); err == nil || !strings.Contains(err.Error(), "DisableFlows") {
		t.Errorf("DisableFlows=maybe: err = %v, want it refused naming the variable", err)
	}
	if src.NoSettingsFiles {
		t.Error("GenerateDeploymentSettings=true turned the settings files off")
	}
}
