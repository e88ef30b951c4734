package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
)

var followSitesZip = fixtures.Path("followsites-small", "sharepoint-followsites.zip")

// Pointed at the emulator, a command needs only --environment: the Power
// Apps and Graph APIs default to the emulator's, not to the public
// services, which would need a credential and could never answer.
func TestLoopbackEnvironmentUsesTheEmulatorsPowerAppsAndGraph(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	out, errOut, code := runCLI(t, nil, "connection", "list", "--environment", srv.EnvURL("test"))
	if code != 0 || !strings.Contains(out, "shared_office365") {
		t.Fatalf("connection list: exit %d\n%s%s", code, out, errOut)
	}
}

// configure with a solution name the environment does not have fails
// before changing anything; without the check it configured the components
// the settings name, whatever solution holds them.
func TestConfigureUnknownSolutionChangesNothing(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, Seeds: map[string][]string{"dev": {followSitesZip}}})
	cds := filepath.Join(t.TempDir(), "customDeploymentSettings.json")
	os.WriteFile(cds, []byte(`{"AadGroupTeamConfiguration":[{"aadGroupTeamName":"Sales Team","aadSecurityGroupId":"`+emulator.Groups[0].ID+`","dataverseSecurityRoleNames":["Basic User"]}]}`), 0o644)
	out, errOut, code := runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSitez", "--settings", cds)
	if code == 0 || !strings.Contains(errOut, `--solution "FollowSitez": no such solution in `+srv.EnvURL("dev")) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "==> ") {
		t.Errorf("a step ran:\n%s", out)
	}
	// The right name configures.
	if out, errOut, code := runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--settings", cds); code != 0 || !strings.Contains(out, `team "Sales Team": created`) {
		t.Fatalf("configure FollowSites: exit %d\n%s%s", code, out, errOut)
	}
}

// A settings warning names its file once.
func TestSettingsWarningNamesTheFileOnce(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	ds := filepath.Join(t.TempDir(), "ds.json")
	os.WriteFile(ds, []byte(`{"EnvironmentVariables":[],"ConnectionReferences":[],"Extra":[]}`), 0o644)
	out, errOut, _ := runCLI(t, nil, "plan", "--environment", srv.EnvURL("test"), "--zipfile", followSitesZip, "--settings", ds)
	if !strings.Contains(errOut, ds+`: warning: Extra: unknown section "Extra"`) {
		t.Fatalf("plan output:\n%s%s", out, errOut)
	}
	for _, line := range strings.Split(out+errOut, "\n") {
		if strings.Count(line, ds) > 1 {
			t.Errorf("file named twice: %s", line)
		}
	}
	// Each unbound connection reference and unset variable is one gap, not
	// one from the import's parameters and one more from validation.
	if strings.Count(out, "  ! ") != 2 || !strings.Contains(out, "2 settings gap(s)") || !strings.Contains(errOut, "the import would fail: 2 gap(s) to fix") {
		t.Errorf("want 2 gaps:\n%s%s", out, errOut)
	}
}

// --settings naming a config folder without --environment-name says to
// pass it, rather than that files for environment "" are missing.
func TestSettingsFolderWithoutEnvironmentNameSaysWhatToPass(t *testing.T) {
	config := t.TempDir()
	os.MkdirAll(filepath.Join(config, "test"), 0o755)
	os.WriteFile(filepath.Join(config, "test", "deploymentSettings.json"), []byte(`{}`), 0o644)
	_, errOut, code := runCLI(t, nil, "plan", "--environment", "http://127.0.0.1:1/test", "--zipfile", followSitesZip, "--settings", config)
	if code == 0 || !strings.Contains(errOut, "pass --environment-name NAME") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// pack --zipfile naming a folder says so instead of failing on a rename of
// a temporary file.
func TestPackZipfileIsAFolder(t *testing.T) {
	out := t.TempDir()
	_, errOut, code := runCLI(t, nil, "pack", "--folder", fixtures.Path("followsites-small", "unpacked"), "--zipfile", out)
	if code == 0 || !strings.Contains(errOut, "--zipfile "+out+" is a folder") || strings.Contains(errOut, ".ppalm-") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("pack left %d file(s) in %s", len(entries), out)
	}
}

// Every command a user runs shows an example in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.Runnable() && strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(NewRoot(&Factory{Stdout: &strings.Builder{}, Stderr: &strings.Builder{}, Getenv: func(string) string { return "" }}))
}

// A failed step's error is printed in full where it happened and named in
// the report; the exit line names the step instead of a third copy.
func TestStepErrorIsNotPrintedThreeTimes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.zip")
	out, errOut, code := runCLI(t, nil, "import", "--environment", "http://127.0.0.1:1/test", "--zipfile", missing)
	if code == 0 || !strings.HasSuffix(errOut, "\nppalm: settings-check failed (details above)\n") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// The log (stderr) says it in full once; the report (stdout) names it
	// in its step's line; the last line names the step.
	if strings.Count(errOut, "no such file") != 1 || strings.Count(out, "no such file") != 1 || !strings.Contains(out, "✗ settings-check") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if n := strings.Count(out+errOut, "no such file"); n != 2 {
		t.Errorf("the error is printed %d times, want 2 (where it happened, the report):\n%s%s", n, out, errOut)
	}
}
