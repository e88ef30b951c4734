package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
)

func TestSettingsCreateWritesPacAndAcceleratorFiles(t *testing.T) {
	dir := t.TempDir()
	zip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	ds, cds := filepath.Join(dir, "config", "Test", "deploymentSettings.json"), filepath.Join(dir, "config", "Test", "customDeploymentSettings.json")
	out, stderr, code := runCLI(t, nil, "settings", "create", "--zipfile", zip, "--out", ds, "--custom-out", cds)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "1 connection reference(s), 1 environment variable(s)") {
		t.Fatalf("output %q", out)
	}
	for file, golden := range map[string]string{ds: "deploymentSettings.json", cds: "customDeploymentSettings.json"} {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "settings", "testdata", "followsites-small", golden))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from settings/testdata golden:\n%s", golden, got)
		}
	}

	// Freshly created settings have no values: validate lists both and fails.
	out, _, code = runCLI(t, nil, "settings", "validate", "--zipfile", zip, "--config", filepath.Join(dir, "config"), "--environment-name", "test")
	if code != 2 || strings.Count(out, "error: ") != 2 ||
		!strings.Contains(out, "ConnectionReferences[0].ConnectionId") || !strings.Contains(out, "EnvironmentVariables[0].Value") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestSettingsValidateFillsTokensFromEitherSpelling(t *testing.T) {
	dir := t.TempDir()
	zip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	ds := filepath.Join(dir, "deploymentSettings.json")
	data := `{"EnvironmentVariables":[{"SchemaName":"alexmsft_FollowSitesSPOSite","Value":"#{environmentvariable.alexmsft_FollowSitesSPOSite}#"}],
"ConnectionReferences":[{"LogicalName":"alexmsft_SharePointConnectionFollowSites","ConnectionId":"#{connectionreference.alexmsft_SharePointConnectionFollowSites}#",
"ConnectorId":"/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}],"Unused":1}`
	if err := os.WriteFile(ds, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"environmentvariable.alexmsft_FollowSitesSPOSite":              "https://contoso.sharepoint.com/sites/a",
		"CONNECTIONREFERENCE_ALEXMSFT_SHAREPOINTCONNECTIONFOLLOWSITES": "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87",
	}
	out, stderr, code := runCLI(t, env, "settings", "validate", "--zipfile", zip, "--settings", ds, "--fill-tokens")
	if code != 0 || !strings.Contains(out, `warning: `+ds+`: Unused: unknown section "Unused"`) || !strings.Contains(out, "Settings are valid") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, stderr)
	}
	if strings.Contains(out, "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87") {
		t.Fatal("a value was printed")
	}

	// As the Accelerator: a token without a value is empty, and an empty
	// connection id or variable without default is then an error.
	out, _, code = runCLI(t, nil, "settings", "validate", "--zipfile", zip, "--settings", ds, "--fill-tokens")
	if code != 2 || strings.Count(out, "error: ") != 2 || !strings.Contains(out, "taken as empty") ||
		!strings.Contains(out, "ConnectionReferences[0].ConnectionId") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	out, _, code = runCLI(t, nil, "settings", "validate", "--zipfile", zip, "--settings", ds, "--fill-tokens", "--strict")
	if code != 2 || strings.Count(out, "error: ") != 1 ||
		!strings.Contains(out, "connectionreference.alexmsft_SharePointConnectionFollowSites, environmentvariable.alexmsft_FollowSitesSPOSite") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

// settings validate reads the settings as import does: by default it fills
// the tokens, so unfilled tokens that import refuses are refused here too
// (it used to pass them). --fill-tokens=false checks the files as written
// and names the tokens it did not check.
func TestSettingsValidatePredictsImportForUnfilledTokens(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	zip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	ds := filepath.Join(t.TempDir(), "deploymentSettings.json")
	data := `{"EnvironmentVariables":[{"SchemaName":"alexmsft_FollowSitesSPOSite","Value":"#{environmentvariable.alexmsft_FollowSitesSPOSite}#"}],
"ConnectionReferences":[{"LogicalName":"alexmsft_SharePointConnectionFollowSites","ConnectionId":"#{connectionreference.alexmsft_SharePointConnectionFollowSites}#",
"ConnectorId":"/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}]}`
	os.WriteFile(ds, []byte(data), 0o644)

	out, errOut, code := runCLI(t, nil, "settings", "validate", "--zipfile", zip, "--settings", ds)
	if code != ExitCheckFailed || strings.Count(out, "error: ") != 2 || !strings.Contains(out, "ConnectionReferences[0].ConnectionId") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	// What import says of the same settings.
	_, importErr, importCode := runCLI(t, nil, "import", "--environment", srv.EnvURL("test"), "--zipfile", zip, "--settings", ds)
	if importCode == 0 || !strings.Contains(importErr, "alexmsft_SharePointConnectionFollowSites is not bound") {
		t.Fatalf("import: exit %d\n%s", importCode, importErr)
	}

	out, _, code = runCLI(t, nil, "settings", "validate", "--zipfile", zip, "--settings", ds, "--fill-tokens=false")
	if code != 0 || !strings.Contains(out, "2 value(s) are #{tokens}# and were not checked (connectionreference.alexmsft_SharePointConnectionFollowSites, environmentvariable.alexmsft_FollowSitesSPOSite)") ||
		!strings.Contains(out, "(as written: tokens not filled)") {
		t.Fatalf("--fill-tokens=false: exit %d\n%s", code, out)
	}
}

func TestSettingsFlags(t *testing.T) {
	var got *settingsCreateOptions
	f := &Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	cmd := newSettingsCreateCmd(f, func(_ context.Context, o *settingsCreateOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--zipfile", "s.zip", "--custom-out", "c.json", "--placeholders=false"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Source.ZipFile != "s.zip" || got.Out != "deploymentSettings.json" || got.CustomOut != "c.json" || got.Placeholders {
		t.Fatalf("options %+v", got)
	}
	_, stderr, code := runCLI(t, nil, "settings", "create", "--zipfile", "a.zip", "--folder", "src")
	if code == 0 || !strings.Contains(stderr, "zipfile") {
		t.Fatalf("both sources accepted: %d %s", code, stderr)
	}
	_, stderr, code = runCLI(t, nil, "settings", "validate", "--zipfile", "a.zip")
	if code == 0 || !strings.Contains(stderr, "--settings") {
		t.Fatalf("validate without settings: %d %s", code, stderr)
	}
}

func TestSettingsCreateFromUnpackedFolder(t *testing.T) {
	for _, fx := range []string{"followsites-small", "qa-assessment-managed"} {
		dir := t.TempDir()
		out := filepath.Join(dir, "deploymentSettings.json")
		_, stderr, code := runCLI(t, nil, "settings", "create", "--folder", fixtures.Path(fx, "unpacked"), "--out", out)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", fx, code, stderr)
		}
		got, _ := os.ReadFile(out)
		want, err := os.ReadFile(filepath.Join("..", "settings", "testdata", fx, "deploymentSettings.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: settings from the folder differ from those of the zip:\n%s", fx, got)
		}
	}
}
