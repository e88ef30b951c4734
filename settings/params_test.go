package settings

import (
	"errors"
	"strings"
	"testing"
)

func TestComponentParametersFollowSites(t *testing.T) {
	sol := readFixture(t, "followsites-small", "sharepoint-followsites.zip")
	ds := NewDeploymentSettings(sol)
	ds.ConnectionReferences[0].ConnectionID = "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87"
	ds.EnvironmentVariables[0].Value = "https://contoso.sharepoint.com/sites/test"
	got, err := ComponentParameters(sol, ds)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"@odata.type":"Microsoft.Dynamics.CRM.connectionreference","connectionreferencelogicalname":"alexmsft_SharePointConnectionFollowSites",` +
		`"connectionreferencedisplayname":"","description":"","connectorid":"/providers/Microsoft.PowerApps/apis/shared_sharepointonline",` +
		`"connectionid":"4f2b8c61d0e94a7f9b3e5c2d1a6f0e87"},` +
		`{"@odata.type":"Microsoft.Dynamics.CRM.environmentvariablevalue","schemaname":"alexmsft_FollowSitesSPOSite","value":"https://contoso.sharepoint.com/sites/test"}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestComponentParametersNamesEveryMissingValue(t *testing.T) {
	sol := readFixture(t, "qa-assessment-managed", "QualityAssuranceAssessment_1_0_0_3_managed.zip")
	ds := NewDeploymentSettings(sol)
	ds.File = "config/Prod/deploymentSettings.json"
	ds.ConnectionReferences[1].ConnectionID = "abc"
	ds.ConnectionReferences = ds.ConnectionReferences[1:] // natiturt_Office365User has no entry at all
	ds.ConnectionReferences[1].ConnectionID = "#{connectionreference.natiturt_sharedcommondataserviceforapps_40972}#"
	_, err := ComponentParameters(sol, ds)
	var inc *IncompleteSettingsError
	if !errors.As(err, &inc) {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(inc.ConnectionReferences, ",") != "natiturt_Office365User" ||
		strings.Join(inc.EnvironmentVariables, ",") != "natiturt_QualityAssuranceEnvironmentID" ||
		strings.Join(inc.Unfilled, ",") != "natiturt_sharedcommondataserviceforapps_40972" {
		t.Fatalf("incomplete = %+v", inc)
	}
	for _, w := range []string{"config/Prod/deploymentSettings.json", "natiturt_Office365User", "natiturt_QualityAssuranceEnvironmentID", "#{token}#"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
}

func TestComponentParametersKeepDefaultsAndShippedValues(t *testing.T) {
	// Fabrikam's variable has a default value; MCS ships a current value.
	for _, fx := range settingsFixtures[1:] {
		if fx.dir == "qa-assessment-managed" {
			continue
		}
		sol := readFixture(t, fx.dir, fx.zip)
		ds := NewDeploymentSettings(sol)
		for i := range ds.ConnectionReferences {
			ds.ConnectionReferences[i].ConnectionID = "conn" + string(rune('a'+i))
			ds.ConnectionReferences[i].ConnectorID = "" // falls back to the solution's connector
		}
		got, err := ComponentParameters(sol, ds)
		if err != nil {
			t.Fatalf("%s: %v", fx.dir, err)
		}
		if strings.Contains(string(got), "environmentvariablevalue") {
			t.Fatalf("%s: an empty value was sent: %s", fx.dir, got)
		}
		if strings.Count(string(got), `"connectorid":"/providers/Microsoft.PowerApps/apis/shared_`) != len(sol.ConnectionReferences) {
			t.Fatalf("%s: connector ids not taken from the solution: %s", fx.dir, got)
		}
	}
}

func TestComponentParametersNothingToSend(t *testing.T) {
	sol := readFixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	sol.ConnectionReferences = nil
	got, err := ComponentParameters(sol, nil)
	if err != nil || got != nil {
		t.Fatalf("got %s, %v; want nil", got, err)
	}
}

// Each gap says what to set in which file; a token is never sent as a value.
func TestImportParametersGapsSayWhatToSetWhere(t *testing.T) {
	sol := readFixture(t, "qa-assessment-managed", "QualityAssuranceAssessment_1_0_0_3_managed.zip")
	ds := NewDeploymentSettings(sol)
	ds.File = "config/Prod/deploymentSettings.json"
	ds.ConnectionReferences[1].ConnectionID = "abc"
	ds.ConnectionReferences = ds.ConnectionReferences[1:]
	ds.ConnectionReferences[1].ConnectionID = "#{connectionreference.natiturt_sharedcommondataserviceforapps_40972}#"
	p, err := BuildImportParameters(sol, ds)
	var inc *IncompleteSettingsError
	if !errors.As(err, &inc) || len(inc.Gaps) != 3 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{
		"connection reference natiturt_Office365User is not bound: set ConnectionReferences[].ConnectionId for natiturt_Office365User in config/Prod/deploymentSettings.json",
		"connection reference natiturt_sharedcommondataserviceforapps_40972 still holds a #{token}#: set the variable it names, or put the connection id in ConnectionReferences[].ConnectionId for natiturt_sharedcommondataserviceforapps_40972 in config/Prod/deploymentSettings.json",
		"environment variable natiturt_QualityAssuranceEnvironmentID (String) has no value: set EnvironmentVariables[].Value for natiturt_QualityAssuranceEnvironmentID in config/Prod/deploymentSettings.json",
	} {
		if !strings.HasPrefix(inc.Gaps[i], want) {
			t.Errorf("gap %d = %q, want %q", i, inc.Gaps[i], want)
		}
	}
	if len(p.ConnectionReferences) != 1 || p.ConnectionReferences[0].ConnectionID != "abc" {
		t.Errorf("the bound reference is not kept: %+v", p.ConnectionReferences)
	}
}
