package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// startEmulatorCommand runs `ppalm emulator` with args until the test ends
// and returns its base URL.
func startEmulatorCommand(t *testing.T, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &Factory{Stdout: pw, Stderr: io.Discard, Getenv: func(string) string { return "" }},
			append([]string{"emulator", "--listen", "127.0.0.1:0", "--environments", "test"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("emulator exit %d", code)
		}
	})
	lines := bufio.NewReader(pr)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("emulator printed no address: %v", err)
	}
	go io.Copy(io.Discard, lines)
	base, ok := strings.CutPrefix(strings.TrimSpace(first), "listening on ")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	return base
}

// targetSettings writes settings for the followsites solution bound to the
// target's connection of connector (e.g. shared_sharepointonline), with an
// owner and a group team; edit changes them before they are written.
func targetSettings(t *testing.T, base, connector string, edit func(*settings.DeploymentSettings, *settings.CustomDeploymentSettings)) (zip, dpath, cpath string) {
	t.Helper()
	zip = fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	sol, err := solution.ReadFile(zip)
	if err != nil {
		t.Fatal(err)
	}
	dv, err := dataverse.New(base+"/test", dataverse.WithPowerAppsURL(base+"/powerapps"))
	if err != nil {
		t.Fatal(err)
	}
	envID, err := dv.EnvironmentID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conns, err := dv.ListConnections(context.Background(), envID)
	if err != nil {
		t.Fatal(err)
	}
	ds := settings.NewDeploymentSettings(sol)
	for _, cn := range conns {
		if strings.HasSuffix(cn.ConnectorID, "/"+connector) {
			ds.ConnectionReferences[0].ConnectionID = cn.Name
		}
	}
	if ds.ConnectionReferences[0].ConnectionID == "" {
		t.Fatalf("no %s connection in the emulator: %+v", connector, conns)
	}
	ds.EnvironmentVariables[0].Value = "https://contoso.sharepoint.com/sites/a"
	all := settings.NewCustomDeploymentSettings(sol, settings.CustomOptions{})
	cds := &settings.CustomDeploymentSettings{
		SolutionComponentOwnershipConfiguration: all.SolutionComponentOwnershipConfiguration[:1],
		AadGroupTeamConfiguration:               []settings.GroupTeam{{AadGroupTeamName: "Sales", AadSecurityGroupID: emulator.Groups[0].ID}},
	}
	cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = emulator.Maker.Email
	if edit != nil {
		edit(ds, cds)
	}
	dir := t.TempDir()
	dpath, cpath = filepath.Join(dir, "deploymentSettings.json"), filepath.Join(dir, "customDeploymentSettings.json")
	for p, v := range map[string]any{dpath: ds, cpath: cds} {
		b, err := settings.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return zip, dpath, cpath
}

func validateAgainst(t *testing.T, base string, args ...string) (int, string) {
	t.Helper()
	if base != "" {
		args = append(args, "--environment", base+"/test", "--powerapps-url", base+"/powerapps", "--graph-url", base+"/graph")
	}
	out, errOut, code := runCLI(t, nil, append([]string{"settings", "validate"}, args...)...)
	return code, out + errOut
}

func TestSettingsValidateAgainstTarget(t *testing.T) {
	base := startEmulatorCommand(t)
	zip, dpath, cpath := targetSettings(t, base, "shared_sharepointonline", nil)

	// Without --environment only the offline checks run, and it says so.
	code, out := validateAgainst(t, "", "--zipfile", zip, "--settings", dpath, "--custom-settings", cpath)
	if code != 0 || !strings.Contains(out, "offline checks only: pass --environment") || !strings.Contains(out, "Settings are valid for solution") {
		t.Fatalf("offline: exit %d\n%s", code, out)
	}
	code, out = validateAgainst(t, base, "--zipfile", zip, "--settings", dpath, "--custom-settings", cpath)
	if code != 0 || strings.Contains(out, "offline checks only") || !strings.Contains(out, "and target "+base+"/test") {
		t.Fatalf("valid against the target: exit %d\n%s", code, out)
	}

	// An Outlook connection for a SharePoint reference, an owner who is not a
	// user of the target and a group the directory lacks: each named.
	zip, dpath, cpath = targetSettings(t, base, "shared_office365", func(_ *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) {
		cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = "ghost@contoso.example"
		cds.AadGroupTeamConfiguration[0].AadSecurityGroupID = "6a0b1c2d-0000-4000-8000-0000000000ff"
	})
	code, out = validateAgainst(t, base, "--zipfile", zip, "--settings", dpath, "--custom-settings", cpath)
	for _, want := range []string{
		"ConnectionReferences[0].ConnectionId: connection ",
		"is for shared_office365 but alexmsft_SharePointConnectionFollowSites needs shared_sharepointonline",
		`SolutionComponentOwnershipConfiguration[0].ownerEmail: user "ghost@contoso.example" is not a user of ` + base + "/test",
		"AadGroupTeamConfiguration[0].aadSecurityGroupId: Entra group 6a0b1c2d-0000-4000-8000-0000000000ff does not exist",
		"validate settings: 3 problem(s) to fix",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 2 || strings.Count(out, "error: ") != 3 {
		t.Fatalf("exit %d\n%s", code, out)
	}

	// --environment is the target's URL; the --config name has its own flag.
	code, out = validateAgainst(t, "", "--zipfile", zip, "--config", t.TempDir(), "--environment", "Test")
	if code == 0 || !strings.Contains(out, `--environment "Test" is not an environment URL`) || !strings.Contains(out, "--environment-name") {
		t.Fatalf("a name as --environment: exit %d\n%s", code, out)
	}
}

// A credential that may not read the directory: groups become one warning
// and validation goes on (the owner is still checked in Dataverse).
func TestSettingsValidateGraphForbidden(t *testing.T) {
	base := startEmulatorCommand(t, "--graph-forbidden")
	zip, dpath, cpath := targetSettings(t, base, "shared_sharepointonline", func(_ *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) {
		cds.AadGroupTeamConfiguration = append(cds.AadGroupTeamConfiguration,
			settings.GroupTeam{AadGroupTeamName: "Unknown", AadSecurityGroupID: "6a0b1c2d-0000-4000-8000-0000000000ff"})
	})
	code, out := validateAgainst(t, base, "--zipfile", zip, "--settings", dpath, "--custom-settings", cpath)
	if code != 0 || strings.Count(out, "warning: ") != 1 || !strings.Contains(out, "warning: "+cpath+": AadGroupTeamConfiguration[0].aadSecurityGroupId: cannot read the directory") ||
		!strings.Contains(out, "Settings are valid for solution") {
		t.Fatalf("exit %d\n%s", code, out)
	}

	_, dpath, cpath = targetSettings(t, base, "shared_sharepointonline", func(_ *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) {
		cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = "ghost@contoso.example"
	})
	code, out = validateAgainst(t, base, "--zipfile", zip, "--settings", dpath, "--custom-settings", cpath)
	if code != 2 || !strings.Contains(out, "cannot read the directory") || !strings.Contains(out, `user "ghost@contoso.example" is not a user of`) {
		t.Fatalf("after the 403 the other checks did not go on: exit %d\n%s", code, out)
	}
}
