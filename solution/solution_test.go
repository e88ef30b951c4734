package solution

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

func TestReadFollowSites(t *testing.T) {
	s, err := ReadFile(fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if s.UniqueName != "FollowSites" || s.Version != "1.0.0.0" || s.Managed || s.Publisher.Prefix != "alexmsft" {
		t.Fatalf("manifest = %q %q managed=%v prefix=%q", s.UniqueName, s.Version, s.Managed, s.Publisher.Prefix)
	}
	if got := len(s.CloudFlows()); got != 3 {
		t.Fatalf("cloud flows = %d, want 3", got)
	}
	f, ok := s.Flow("{3E587800-9A7C-EE11-8178-002248C6B93D}")
	if !ok || f.Name != "Find sites" {
		t.Fatalf("Flow(Find sites) = %+v, %v", f, ok)
	}
	if len(f.ConnectionReferences) != 1 || f.ConnectionReferences[0] != "alexmsft_SharePointConnectionFollowSites" {
		t.Fatalf("Find sites connection references = %v", f.ConnectionReferences)
	}
	if len(s.ConnectionReferences) != 1 || s.ConnectionReferences[0].ConnectorID != "/providers/Microsoft.PowerApps/apis/shared_sharepointonline" ||
		s.ConnectionReferences[0].DisplayName != "Follow Sites SharePoint Connection" {
		t.Fatalf("connection references = %+v", s.ConnectionReferences)
	}
	if len(s.EnvironmentVariables) != 1 {
		t.Fatalf("environment variables = %+v", s.EnvironmentVariables)
	}
	ev := s.EnvironmentVariables[0]
	if ev.SchemaName != "alexmsft_FollowSitesSPOSite" || ev.Type != TypeDataSource || ev.HasCurrentValue || ev.ParameterKey != "dataset" {
		t.Fatalf("environment variable = %+v", ev)
	}
	if len(s.CanvasApps) != 1 || s.CanvasApps[0].Name != "alexmsft_followsites_7d504" || s.CanvasApps[0].DisplayName != "Follow Sites" {
		t.Fatalf("canvas apps = %+v", s.CanvasApps)
	}
}

func TestChildFlowsAndCurrentValues(t *testing.T) {
	s, err := ReadFile(fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"))
	if err != nil {
		t.Fatal(err)
	}
	parent, ok := s.Flow("e9d7c2ea-062d-ed11-9db1-0022481dae3d")
	if !ok {
		t.Fatal("Daily status changes flow missing")
	}
	want := []string{"1fbeff73-232d-ed11-9db1-0022481dae3d", "5cd17c20-252d-ed11-9db1-0022481dae3d", "dace5e42-212d-ed11-9db1-0022481dae3d"}
	if strings.Join(parent.ChildFlows, ",") != strings.Join(want, ",") {
		t.Fatalf("child flows = %v, want %v", parent.ChildFlows, want)
	}
	if len(s.CloudFlows()) != 7 || len(s.Flows) < 19 {
		t.Fatalf("cloud flows %d, processes %d", len(s.CloudFlows()), len(s.Flows))
	}
	m, err := ReadFile(fixtures.Path("mcs-feedback-analyzer-managed", "MCSResponsesAnalyzer_2_0_0_2_managed.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Managed || len(m.EnvironmentVariables) != 1 || !m.EnvironmentVariables[0].HasCurrentValue ||
		!strings.Contains(m.EnvironmentVariables[0].CurrentValue, "captureUserActivity") {
		t.Fatalf("managed=%v variables=%+v", m.Managed, m.EnvironmentVariables)
	}
}

// A custom connector the solution carries is read from customizations.xml.
func TestCustomConnectors(t *testing.T) {
	s, err := ReadFile(fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	want := CustomConnector{ID: "bedc080f-9be1-4f80-9f35-c630109a6b89", Name: "dem_inventorymanager", DisplayName: "InventoryManager"}
	if len(s.CustomConnectors) != 1 || s.CustomConnectors[0] != want {
		t.Fatalf("custom connectors %+v, want %+v", s.CustomConnectors, want)
	}
	f, err := ReadFile(fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	if err != nil || len(f.CustomConnectors) != 0 {
		t.Fatalf("FollowSites: %v, %+v", err, f.CustomConnectors)
	}
}

func TestReadEveryFixture(t *testing.T) {
	zips, _ := filepath.Glob(fixtures.Path("*", "*.zip"))
	if len(zips) < 12 {
		t.Fatalf("found %d fixture zips, want at least 12", len(zips))
	}
	for _, z := range zips {
		s, err := ReadFile(z)
		if err != nil {
			t.Errorf("%s: %v", z, err)
			continue
		}
		if s.UniqueName == "" || len(s.Files) == 0 || strings.HasSuffix(z, "_managed.zip") != s.Managed {
			t.Errorf("%s: name %q, %d files, managed %v", z, s.UniqueName, len(s.Files), s.Managed)
		}
	}
}

func TestBadInput(t *testing.T) {
	mk := func(files map[string]string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, c := range files {
			w, _ := zw.Create(n)
			w.Write([]byte(c))
		}
		zw.Close()
		return buf.Bytes()
	}
	good := `<ImportExportXml><SolutionManifest><UniqueName>X</UniqueName><Version>1.0.0.0</Version><Managed>0</Managed></SolutionManifest></ImportExportXml>`
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("hello"), "not a zip"},
		{"no solution.xml", mk(map[string]string{"customizations.xml": "<ImportExportXml/>"}), "no solution.xml at the root"},
		{"malformed", mk(map[string]string{"solution.xml": "<ImportExportXml><Solution", "customizations.xml": "<ImportExportXml/>"}), "solution.xml: not well-formed XML"},
		{"bad version", mk(map[string]string{"solution.xml": strings.Replace(good, "1.0.0.0", "1.x", 1), "customizations.xml": "<ImportExportXml/>"}), "SolutionManifest/Version"},
		{"bad managed", mk(map[string]string{"solution.xml": strings.Replace(good, "<Managed>0", "<Managed>7", 1), "customizations.xml": "<ImportExportXml/>"}), "SolutionManifest/Managed"},
		{"wrong customizations root", mk(map[string]string{"solution.xml": good, "customizations.xml": "<x/>"}), "customizations.xml: expected root <ImportExportXml>, found <x>"},
		{"missing flow file", mk(map[string]string{"solution.xml": good, "customizations.xml": `<ImportExportXml><Workflows><Workflow WorkflowId="{1}" Name="F"><JsonFileName>/Workflows/F-1.json</JsonFileName><Category>5</Category></Workflow></Workflows></ImportExportXml>`}), "Workflows/F-1.json, which is not in the zip"},
	}
	for _, c := range cases {
		_, err := Read(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.zip")
	os.WriteFile(p, []byte("nope"), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadFile error %v does not name the file", err)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.0.0.10", "1.0.0.9", 1}, {"1.0", "1.0.0.0", 0}, {"2.0.0.0", "10.0.0.0", -1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// ReadModel reads the same model as ReadFile from every real export while
// holding only the entries the model comes from.
func TestReadModelMatchesReadFile(t *testing.T) {
	zips, _ := filepath.Glob(filepath.Join("..", "fixtures", "solutions", "*", "*.zip"))
	for _, z := range zips {
		full, err := ReadFile(z)
		if err != nil {
			t.Fatal(err)
		}
		lean, err := ReadModel(z)
		if err != nil {
			t.Fatal(err)
		}
		fullFiles, leanFiles := full.Files, lean.Files
		full.Files, lean.Files = nil, nil
		full.held, lean.held = 0, 0
		if !reflect.DeepEqual(full, lean) {
			t.Errorf("%s: ReadModel read another model than ReadFile", z)
		}
		for name, b := range leanFiles {
			if !bytes.Equal(b, fullFiles[name]) {
				t.Errorf("%s: %s differs", z, name)
			}
			if strings.HasSuffix(strings.ToLower(name), ".msapp") || strings.HasSuffix(strings.ToLower(name), ".dll") || name == "customizations.xml" {
				t.Errorf("%s: ReadModel held %s", z, name)
			}
		}
		if len(leanFiles) >= len(fullFiles) {
			t.Errorf("%s: ReadModel held %d of %d entries", z, len(leanFiles), len(fullFiles))
		}
	}
}
