package settings

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// settingsFixtures are the real solutions with connection references or
// environment variables.
var settingsFixtures = []struct{ dir, zip string }{
	{"followsites-small", "sharepoint-followsites.zip"},
	{"fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"},
	{"qa-assessment-managed", "QualityAssuranceAssessment_1_0_0_3_managed.zip"},
	{"mcs-feedback-analyzer-managed", "MCSResponsesAnalyzer_2_0_0_2_managed.zip"},
}

func readFixture(t testing.TB, dir, zip string) *solution.Solution {
	t.Helper()
	sol, err := solution.ReadFile(fixtures.Path(dir, zip))
	if err != nil {
		t.Fatal(err)
	}
	return sol
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./settings/... -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestCreateMatchesGoldenFiles(t *testing.T) {
	for _, fx := range settingsFixtures {
		t.Run(fx.dir, func(t *testing.T) {
			sol := readFixture(t, fx.dir, fx.zip)
			ds := NewDeploymentSettings(sol)
			if len(ds.ConnectionReferences) != len(sol.ConnectionReferences) || len(ds.EnvironmentVariables) != len(sol.EnvironmentVariables) {
				t.Fatalf("created %d connection references / %d variables, solution has %d / %d",
					len(ds.ConnectionReferences), len(ds.EnvironmentVariables), len(sol.ConnectionReferences), len(sol.EnvironmentVariables))
			}
			data, err := Marshal(ds)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(fx.dir, DeploymentSettingsFile), data)

			cds := NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true})
			if len(cds.ActivateFlowConfiguration) != len(sol.CloudFlows()) {
				t.Fatalf("%d activation entries for %d cloud flows", len(cds.ActivateFlowConfiguration), len(sol.CloudFlows()))
			}
			cdata, err := Marshal(cds)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(fx.dir, CustomDeploymentSettingsFile), cdata)

			// What create writes reads back to the same settings, without warnings.
			back, warns, err := ParseDeploymentSettings("ds.json", data)
			if err != nil || len(warns) > 0 {
				t.Fatalf("re-read: %v %v", err, warns)
			}
			back.File = ""
			if !reflect.DeepEqual(back, ds) {
				t.Fatalf("round trip:\n%+v\n%+v", back, ds)
			}
			cback, warns, err := ParseCustomDeploymentSettings("cds.json", cdata)
			if err != nil || len(warns) > 0 {
				t.Fatalf("re-read custom: %v %v", err, warns)
			}
			again, _ := Marshal(cback)
			if !bytes.Equal(again, cdata) {
				t.Fatalf("custom round trip differs:\n%s", again)
			}
			// A generated custom file is valid before its tokens are filled.
			if p := Validate(sol, nil, cback); len(p) > 0 {
				t.Fatalf("generated custom settings have problems: %v", p)
			}
		})
	}
}

func TestCreateEmptyValuesWithoutPlaceholders(t *testing.T) {
	sol := readFixture(t, "followsites-small", "sharepoint-followsites.zip")
	cds := NewCustomDeploymentSettings(sol, CustomOptions{})
	data, _ := Marshal(cds)
	if bytes.Contains(data, []byte("#{")) {
		t.Fatalf("placeholders written although disabled:\n%s", data)
	}
	if cds.AadGroupCanvasConfiguration[0].CanvasNameInSolution != "alexmsft_followsites_7d504" || cds.ActivateFlowConfiguration[0].SortOrder != "" {
		t.Fatalf("unexpected entries %+v", cds)
	}
}

func TestCreateSkipsCustomPagesAndLibraries(t *testing.T) {
	sol := readFixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	cds := NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true})
	if len(cds.AadGroupCanvasConfiguration) != 1 || cds.AadGroupCanvasConfiguration[0].CanvasNameInSolution != "contoso_environmentalworkdelivery_39672" {
		t.Fatalf("canvas shares = %+v, want only the canvas app proper", cds.AadGroupCanvasConfiguration)
	}
	// 7 cloud flows; classic workflows, business rules and BPFs are not listed.
	if len(cds.ActivateFlowConfiguration) != 7 {
		t.Fatalf("activation entries = %d, want 7", len(cds.ActivateFlowConfiguration))
	}
}

func BenchmarkCreate(b *testing.B) {
	sol := readFixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	for b.Loop() {
		if _, err := Marshal(NewDeploymentSettings(sol)); err != nil {
			b.Fatal(err)
		}
		if _, err := Marshal(NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true})); err != nil {
			b.Fatal(err)
		}
	}
}
