package settings

import (
	"strings"
	"testing"
)

// A deploymentSettings.json given where customDeploymentSettings.json is
// expected (configure --settings takes the custom file) would be read as a
// file of unknown sections and configure nothing; it is an error that says
// the files look swapped. The same holds the other way round.
func TestSwappedSettingsFilesAreErrors(t *testing.T) {
	ds := `{"EnvironmentVariables":[{"SchemaName":"a_X","Value":"1"}],"ConnectionReferences":[]}`
	_, _, err := ParseCustomDeploymentSettings("ds.json", []byte(ds))
	if err == nil || !strings.Contains(err.Error(), "ds.json: (top level): expected a customDeploymentSettings.json, got the sections of a deploymentSettings.json (ConnectionReferences, EnvironmentVariables)") {
		t.Errorf("custom read of a deployment file: %v", err)
	}
	cds := `{"ActivateFlowConfiguration":[],"WebhookUrls":[]}`
	_, _, err = ParseDeploymentSettings("cds.json", []byte(cds))
	if err == nil || !strings.Contains(err.Error(), "expected a deploymentSettings.json, got the sections of a customDeploymentSettings.json (ActivateFlowConfiguration, WebhookUrls)") {
		t.Errorf("deployment read of a custom file: %v", err)
	}
	// A file with one section of its own kind, or with nothing known at all,
	// stays a file with warnings.
	for _, data := range []string{`{"EnvironmentVariables":[],"WebhookUrls":[]}`, `{}`, `{"Extra":1}`} {
		if _, _, err := ParseDeploymentSettings("x.json", []byte(data)); err != nil {
			t.Errorf("%s: %v", data, err)
		}
	}
}
