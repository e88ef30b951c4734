package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

// accRepo is the Accelerator-layout repository's solution built, an
// emulator that records the import requests it is sent, and the pipeline
// variables of its Test environment as the agent hands them to a task
// (Azure DevOps spelling), the connection ids among them secret
// (SECRET_<NAME> under TF_BUILD).
type accRepo struct {
	t       *testing.T
	emu     *emulator.Emulator
	url     string
	drop    string // the build's zips
	config  string // the repository's config folder
	env     map[string]string
	mu      sync.Mutex
	imports []map[string]any // import action bodies, without the zip
}

func newAccelerator(t *testing.T) *accRepo {
	t.Helper()
	emu, err := emulator.New(emulator.Options{Environments: []string{"test"}, AsyncPolls: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := &accRepo{t: t, emu: emu}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/ImportSolutionAsync") || strings.HasSuffix(r.URL.Path, "/StageAndUpgradeAsync")) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				delete(m, "CustomizationFile")
				m["action"] = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
				a.mu.Lock()
				a.imports = append(a.imports, m)
				a.mu.Unlock()
			}
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL

	repo := t.TempDir()
	copyDir(t, fixtures.AcceleratorPath("repo", "ALMAcceleratorSampleSolution"), repo)
	a.drop, a.config = filepath.Join(t.TempDir(), "drop"), filepath.Join(repo, "config")
	b := &steps.Build{Folder: filepath.Join(repo, "SolutionPackage", "src"), OutDir: a.drop, Version: "1.0.20260301.1"}
	if _, err := steps.RunBuild(context.Background(), steps.Services{Reporter: task.NewTerminal(io.Discard, false), Now: time.Now}, b); err != nil {
		t.Fatal(err)
	}

	dv := a.client("test")
	envID, err := dv.EnvironmentID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conns, err := dv.ListConnections(context.Background(), envID)
	if err != nil {
		t.Fatal(err)
	}
	a.env = map[string]string{"TF_BUILD": "True"}
	for _, ref := range []struct{ name, connector string }{{"cat_CDS_Current", "shared_commondataserviceforapps"}, {"cat_sharedoffice365_4ee46", "shared_office365"}} {
		for _, c := range conns {
			if strings.HasSuffix(c.ConnectorID, "/"+ref.connector) {
				a.env["SECRET_"+settings.AzureDevOpsName("connectionreference."+ref.name)] = c.Name
			}
		}
		a.env[settings.AzureDevOpsName("connectionreference.user."+ref.name)] = emulator.Maker.Email
	}
	for k, v := range map[string]string{
		"cat_ConnectorHostUrl": "test.catfact.ninja", "cat_TextEnvironmentVariable": "Daily Cat Fact (test)",
		"cat_DecimalEnvironmentVariable": "3", "cat_JsonEnvironmentVariable": `{\"name\":\"test\"}`,
		"cat_shared_sharepointonline_97456712308a4e65aae18bafcd84c81f": "https://contoso.sharepoint.com/sites/ALMAcceleratorSampleTest",
		"cat_shared_sharepointonline_21f63b2d26f043fb85a5c32fc0c65924": "3b4c5d6e-0000-4000-8000-00000000e571",
	} {
		a.env[settings.AzureDevOpsName("environmentvariable."+k)] = v
	}
	return a
}

func (a *accRepo) client(env string) *dataverse.Client {
	return (&emulatortest.Server{Emulator: a.emu, URL: a.url}).Client(a.t, env)
}

// copyDir copies the files under from into to.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// ppalm runs a deploy command against the test environment with the
// Test variables and extra ones (control variables), as a template does:
// the config folder, the build's managed zip by its pattern.
func (a *accRepo) ppalm(extra map[string]string, args ...string) (string, int) {
	a.t.Helper()
	env := map[string]string{}
	for k, v := range a.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	// The command's own flags come last, so they win over these.
	all := []string{args[0], "--environment", a.url + "/test", "--powerapps-url", a.url + "/powerapps", "--graph-url", a.url + "/graph",
		"--settings", a.config, "--environment-name", "Test", "--accelerator-variables"}
	if args[0] != "configure" {
		all = append(all, "--zipfile", filepath.Join(a.drop, "ALMAcceleratorSampleSolution_*_managed.zip"))
	} else {
		all = append(all, "--solution", "ALMAcceleratorSampleSolution")
	}
	out, errOut, code := runCLI(a.t, env, append(all, args[1:]...)...)
	return out + errOut, code
}

func (a *accRepo) lastImport() map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.imports) == 0 {
		return nil
	}
	return a.imports[len(a.imports)-1]
}

func (a *accRepo) importCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.imports)
}

// flowsOn says, per flow name, whether the installed solution's flows are on.
func (a *accRepo) flowsOn() map[string]bool {
	a.t.Helper()
	ctx := context.Background()
	dv := a.client("test")
	s, err := dv.GetSolution(ctx, "ALMAcceleratorSampleSolution")
	if err != nil {
		a.t.Fatal(err)
	}
	flows, err := dv.ListSolutionFlows(ctx, s.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range flows {
		out[f.Name] = f.On()
	}
	return out
}

// The Accelerator imported with OverwriteUnmanagedCustomizations and
// ActivatePlugins (PublishWorkflows) on, as the templates now pass them;
// ActivateFlowsOnTheSolutionImport=false turned ActivatePlugins off and,
// for a solution already installed, turned its flows off before the
// import (disable-flows.yml). Both reach the service's request.
func TestImportAcceleratorDefaultsAndActivateFlowsOnTheSolutionImport(t *testing.T) {
	a := newAccelerator(t)
	out, code := a.ppalm(nil, "import", "--overwrite-unmanaged", "--publish-workflows", "--configure")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	req := a.lastImport()
	if req["OverwriteUnmanagedCustomizations"] != true || req["PublishWorkflows"] != true {
		t.Errorf("import request %v: want OverwriteUnmanagedCustomizations and PublishWorkflows true", req)
	}
	for name, on := range a.flowsOn() {
		if !on {
			t.Fatalf("flow %s is off after the first deployment", name)
		}
	}
	for _, e := range a.emu.Audit() {
		if e.Action == "deactivate-flow" {
			t.Errorf("a flow was turned off during the first deployment: %+v", e)
		}
	}

	out, code = a.ppalm(map[string]string{"ACTIVATEFLOWSONTHESOLUTIONIMPORT": "false"}, "import", "--overwrite-unmanaged", "--publish-workflows")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if req := a.lastImport(); req["PublishWorkflows"] != false {
		t.Errorf("ActivateFlowsOnTheSolutionImport=false: import request %v, want PublishWorkflows false", req)
	}
	if !strings.Contains(out, "2 flow(s) of ALMAcceleratorSampleSolution turned off before the import (pipeline variable ActivateFlowsOnTheSolutionImport=false)") {
		t.Errorf("the flows were not turned off before the import:\n%s", out)
	}
	for name, on := range a.flowsOn() {
		if on {
			t.Errorf("flow %s is on after an import that turned the flows off first and activated nothing", name)
		}
	}
}

// SkipSolutionImport=true skips the import while the settings are still
// checked and the configuration still runs; EnableFlows=false skips flow
// activation.
func TestSkipSolutionImportAndEnableFlows(t *testing.T) {
	a := newAccelerator(t)
	if out, code := a.ppalm(nil, "import", "--configure"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	dv := a.client("test")
	ctx := context.Background()
	s, _ := dv.GetSolution(ctx, "ALMAcceleratorSampleSolution")
	flows, _ := dv.ListSolutionFlows(ctx, s.ID)
	for _, f := range flows {
		if err := dv.SetWorkflowState(ctx, f.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	imports := a.importCount()

	out, code := a.ppalm(map[string]string{"SKIPSOLUTIONIMPORT": "true", "ENABLEFLOWS": "false"}, "import", "--configure")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if a.importCount() != imports {
		t.Error("SkipSolutionImport=true: an import was sent")
	}
	for _, want := range []string{"settings-check", "import             skipped: pipeline variable SkipSolutionImport=true",
		"activate-flows     skipped: pipeline variable EnableFlows=false"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for name, on := range a.flowsOn() {
		if on {
			t.Errorf("EnableFlows=false: flow %s was turned on", name)
		}
	}

	// The configuration alone, with flows enabled again: they go on.
	if out, code := a.ppalm(map[string]string{"ENABLEFLOWS": "true"}, "configure"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for name, on := range a.flowsOn() {
		if !on {
			t.Errorf("EnableFlows=true: flow %s is off", name)
		}
	}
}

// ImportUnmanaged=true imports the build's unmanaged zip instead of the
// managed one the template names.
func TestImportUnmanagedVariable(t *testing.T) {
	a := newAccelerator(t)
	out, code := a.ppalm(map[string]string{"IMPORTUNMANAGED": "true"}, "import")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	s, err := a.client("test").GetSolution(context.Background(), "ALMAcceleratorSampleSolution")
	if err != nil {
		t.Fatal(err)
	}
	if s.IsManaged {
		t.Errorf("ImportUnmanaged=true installed the managed solution:\n%s", out)
	}
	if !strings.Contains(out, "pipeline variable ImportUnmanaged=true") {
		t.Errorf("the log does not say why the unmanaged zip was imported:\n%s", out)
	}
	// A value other than true or false is an error naming the variable.
	if out, code := a.ppalm(map[string]string{"IMPORTUNMANAGED": "yes"}, "import"); code == 0 || !strings.Contains(out, `pipeline variable ImportUnmanaged is "yes": expected true or false`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// BypassAppConsent (the variable or --bypass-app-consent) makes the
// solution's canvas apps skip the consent dialog.
func TestBypassAppConsent(t *testing.T) {
	a := newAccelerator(t)
	if out, code := a.ppalm(nil, "import", "--configure"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	bypassed := func() int {
		n := 0
		for _, e := range a.emu.Audit() {
			if e.Action == "app-consent-bypass" && e.Detail == "true" {
				n++
			}
		}
		return n
	}
	if n := bypassed(); n != 0 {
		t.Fatalf("%d consent bypass(es) without BypassAppConsent", n)
	}
	if out, code := a.ppalm(map[string]string{"BYPASSAPPCONSENT": "true"}, "configure"); code != 0 || bypassed() != 1 ||
		!strings.Contains(out, `canvas app "DevOpsKitSampleCanvasApp" bypasses the consent dialog`) {
		t.Fatalf("BypassAppConsent=true: exit %d, %d bypass(es):\n%s", code, bypassed(), out)
	}
	if out, code := a.ppalm(nil, "configure", "--bypass-app-consent"); code != 0 || bypassed() != 2 {
		t.Fatalf("--bypass-app-consent: exit %d, %d bypass(es):\n%s", code, bypassed(), out)
	}
}

// The settings are looked up per environment as the Accelerator did,
// each file optional: the artifact's flattened <name>-<env>.json first,
// then <env>/<name>.json, then the shared <name>.json; a file that is
// missing is said, not an error, and what the solution then lacks is named
// before anything is sent.
func TestSettingsLookupEachFileOptional(t *testing.T) {
	a := newAccelerator(t)
	flat := t.TempDir()
	for _, f := range []string{"deploymentSettings.json", "customDeploymentSettings.json"} {
		b, err := os.ReadFile(filepath.Join(a.config, "Test", f))
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(f, ".json") + "-Test.json"
		if f == "customDeploymentSettings.json" {
			name = f // shared by every environment
		}
		if err := os.WriteFile(filepath.Join(flat, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a.config = flat
	out, code := a.ppalm(nil, "plan")
	if code != 0 || !strings.Contains(out, "install") {
		t.Fatalf("flattened and shared files: exit %d:\n%s", code, out)
	}

	// Only the shared custom file for Prod: the import says the
	// deployment settings are missing and stops at what the solution
	// needs, sending nothing.
	out, code = a.ppalm(nil, "import", "--environment-name", "Prod")
	if code == 0 || !strings.Contains(out, `no deploymentSettings.json for environment "Prod"`) ||
		!strings.Contains(out, "cat_CDS_Current") || a.importCount() != 0 {
		t.Fatalf("exit %d, %d import(s):\n%s", code, a.importCount(), out)
	}
}
