package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
)

// emulatorServer serves dev holding FollowSites.
func emulatorServer(t *testing.T) *emulatortest.Server {
	t.Helper()
	return emulatortest.Start(t, emulator.Options{
		Environments: []string{"dev"},
		Seeds:        map[string][]string{"dev": {fixtures.Path("followsites-small", "sharepoint-followsites.zip")}},
		AsyncPolls:   -1,
	})
}

func TestWhoamiAgainstEmulator(t *testing.T) {
	srv := emulatorServer(t)
	out, errOut, code := runCLI(t, nil, "whoami", "--environment", srv.URL+"/dev")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, emulator.ServicePrincipal.SystemUserID("dev")) || !strings.Contains(out, "environment id:") {
		t.Errorf("output:\n%s", out)
	}
}

func TestSolutionListUsesEnvironmentVariable(t *testing.T) {
	srv := emulatorServer(t)
	out, errOut, code := runCLI(t, map[string]string{"PPALM_ENVIRONMENT_URL": srv.URL + "/dev"}, "solution", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "FollowSites") || !strings.Contains(out, "1.0.0.0") {
		t.Errorf("output:\n%s", out)
	}
}

func TestExportWritesBothKinds(t *testing.T) {
	srv := emulatorServer(t)
	dir := t.TempDir()
	out, errOut, code := runCLI(t, nil, "export", "--environment", srv.URL+"/dev", "--solution", "FollowSites", "--out", dir, "--async")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for name, managed := range map[string]bool{"FollowSites.zip": false, "FollowSites_managed.zip": true} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := dataverse.ReadManifest(b)
		if err != nil || m.Managed != managed || m.UniqueName != "FollowSites" {
			t.Errorf("%s: %+v %v", name, m, err)
		}
	}
	// Progress on stderr, the result on stdout, as every command.
	if !strings.Contains(errOut, "exporting managed FollowSites") || !strings.Contains(out, "wrote "+filepath.Join(dir, "FollowSites_managed.zip")) || strings.Contains(out, "exporting") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("out dir holds %d entries, want 2 (no temp files left)", len(entries))
	}
}

func TestExportManagedOnlyAndUnknownSolution(t *testing.T) {
	srv := emulatorServer(t)
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, nil, "export", "--environment", srv.URL+"/dev", "--solution", "FollowSites", "--out", dir, "--managed"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "FollowSites.zip")); !os.IsNotExist(err) {
		t.Errorf("unmanaged zip written with --managed only: %v", err)
	}
	_, errOut, code := runCLI(t, nil, "export", "--environment", srv.URL+"/dev", "--solution", "Nope", "--out", dir)
	if code == 0 || !strings.Contains(errOut, "Nope") {
		t.Errorf("unknown solution: exit %d, stderr %s", code, errOut)
	}
}

func TestConnectionErrorsAreClearAndSecretFree(t *testing.T) {
	_, errOut, code := runCLI(t, nil, "whoami")
	if code == 0 || !strings.Contains(errOut, "PPALM_ENVIRONMENT_URL") {
		t.Errorf("no environment: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCLI(t, nil, "whoami", "--environment", "http://contoso.crm.dynamics.com")
	if code == 0 || !strings.Contains(errOut, "https") {
		t.Errorf("http environment: exit %d, %s", code, errOut)
	}
	env := map[string]string{"AZURE_CLIENT_SECRET": "hunter2-secret", "AZURE_TENANT_ID": "t"}
	_, errOut, code = runCLI(t, env, "whoami", "--environment", "https://contoso.crm.dynamics.com")
	if code == 0 || strings.Contains(errOut, "hunter2") || !strings.Contains(errOut, "client id") {
		t.Errorf("missing client id: exit %d, %s", code, errOut)
	}
	out, _, _ := runCLI(t, env, "export", "--help")
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "--client-secret") {
		t.Errorf("help shows a secret or lacks the flag:\n%s", out)
	}
}

// An export that fails halfway (here the managed export's system job
// fails before it starts) writes neither zip: a pipeline never picks up
// one of the pair beside the other's old copy (issue 11, item 9).
func TestHalfFinishedExportLeavesNoZip(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{
		Environments: []string{"dev"},
		Seeds:        map[string][]string{"dev": {fixtures.Path("followsites-small", "sharepoint-followsites.zip")}},
		FaultScript:  []emulator.ScriptedFault{{Route: "job ExportSolutionAsync", Nth: 2, Kind: "jobfail"}},
	})
	dir := t.TempDir()
	_, errOut, code := runCLI(t, nil, "export", "--environment", srv.URL+"/dev", "--solution", "FollowSites", "--out", dir, "--async")
	if code == 0 {
		t.Fatalf("export succeeded although the managed export failed:\n%s", errOut)
	}
	if !strings.Contains(errOut, "nothing was written") {
		t.Errorf("stderr does not say nothing was written:\n%s", errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("out dir holds %d entries after a failed export, want none", len(entries))
	}
}
