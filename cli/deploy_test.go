package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// TestImportPlanConfigureCommands drives ppalm plan, import and configure
// against the emulator: settings with tokens filled from the environment,
// one missing-token error, then a deploy whose flows end up on.
func TestImportPlanConfigureCommands(t *testing.T) {
	zipPath := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev", "test"}, AsyncPolls: -1,
		Seeds: map[string][]string{"dev": {fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")}}})
	sol, err := solution.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ds := settings.NewDeploymentSettings(sol)
	env := map[string]string{}
	dv := srv.Client(t, "test")
	envID, _ := dv.EnvironmentID(context.Background())
	conns, _ := dv.ListConnections(context.Background(), envID)
	for i, cr := range ds.ConnectionReferences {
		ds.ConnectionReferences[i].ConnectionID = "#{connectionreference." + cr.LogicalName + "}#"
		for _, cn := range conns {
			if strings.EqualFold(cn.ConnectorID, cr.ConnectorID) {
				// Azure DevOps spelling of the variable.
				env[settings.AzureDevOpsName("connectionreference."+cr.LogicalName)] = cn.Name
			}
		}
	}
	var acts []settings.FlowActivation
	for _, f := range sol.CloudFlows() {
		acts = append(acts, settings.FlowActivation{SolutionComponentName: f.Name, SolutionComponentUniqueName: f.ID, Activate: "true"})
	}
	cds := &settings.CustomDeploymentSettings{ActivateFlowConfiguration: acts,
		WebhookUrls: []settings.WebhookURL{{SchemaName: "OrderHook", Value: "https://hooks.example/x"}}}
	dpath, cpath := filepath.Join(dir, "deploymentSettings.json"), filepath.Join(dir, "customDeploymentSettings.json")
	for p, v := range map[string]any{dpath: ds, cpath: cds} {
		b, _ := settings.Marshal(v)
		os.WriteFile(p, b, 0o644)
	}
	ppalm := func(getenv map[string]string, args ...string) (int, string) {
		out, errOut, code := runCLI(t, getenv, append(args, "--environment", srv.EnvURL("test"), "--powerapps-url", srv.PowerAppsURL(), "--graph-url", srv.GraphURL())...)
		return code, out + errOut
	}

	if code, out := ppalm(map[string]string{}, "import", "--zipfile", zipPath, "--settings", dpath); code == 0 ||
		!strings.Contains(out, "CONNECTIONREFERENCE_CONTOSO_SHAREDAPPROVALS_EA5AD") || !strings.Contains(out, "connectionreference.contoso_sharedcommondataserviceforapps_05f4c") {
		t.Fatalf("import without variables: exit %d\n%s", code, out)
	}
	if code, out := ppalm(env, "plan", "--zipfile", zipPath, "--settings", dpath); code != 0 || !strings.Contains(out, "install") {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	if code, out := ppalm(env, "import", "--zipfile", zipPath, "--settings", dpath, "--upgrade", "sometimes"); code == 0 || !strings.Contains(out, "expected auto, always or never") {
		t.Fatalf("bad --upgrade: exit %d\n%s", code, out)
	}
	if code, out := ppalm(env, "import", "--zipfile", zipPath, "--settings", dpath); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	code, out := ppalm(env, "configure", "--solution", sol.UniqueName, "--settings", cpath, "--deployment-settings", dpath, "--only", "activate-flows")
	if code != 0 || strings.Contains(out, "NOT applied") {
		t.Fatalf("configure: exit %d\n%s", code, out)
	}
	for _, f := range sol.CloudFlows() {
		w, err := dv.GetWorkflow(context.Background(), f.ID)
		if err != nil || !w.On() {
			t.Errorf("flow %s: %+v %v", f.Name, w, err)
		}
	}
	if code, out := ppalm(env, "configure", "--solution", sol.UniqueName, "--settings", cpath, "--only", "bogus"); code == 0 || !strings.Contains(out, `--only "bogus"`) {
		t.Errorf("--only bogus: exit %d\n%s", code, out)
	}
}
