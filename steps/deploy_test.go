package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
)

// quietReporter is a task.Reporter that keeps what it is told; like every
// Reporter it is safe for concurrent use.
type quietReporter struct {
	mu    sync.Mutex
	lines []string
}

func (r *quietReporter) add(m string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, m)
}

func (r *quietReporter) StartGroup(string) func()       { return func() {} }
func (r *quietReporter) Info(m string)                  { r.add(m) }
func (r *quietReporter) Warning(m, _ string)            { r.add("warning: " + m) }
func (r *quietReporter) Error(m, _ string)              { r.add("error: " + m) }
func (r *quietReporter) Progress(int, string)           {}
func (r *quietReporter) SetOutput(string, string) error { return nil }
func (r *quietReporter) SetSecret(string)               {}
func (r *quietReporter) Summary(string) error           { return nil }
func (r *quietReporter) Complete(bool, string)          {}

var _ task.Reporter = (*quietReporter)(nil)

const (
	fabrikamManaged   = "FabrikamEnvironmental_1_1_11_71_managed.zip"
	fabrikamUnmanaged = "FabrikamEnvironmental_1_1_11_71.zip"
	parentFlow        = "e9d7c2ea-062d-ed11-9db1-0022481dae3d" // "Daily status changes" calls three children
)

// deployEnv is the emulator a deploy test runs against.
type deployEnv struct{ *emulatortest.Server }

func newDeployEnv(t testing.TB, opts emulator.Options) *deployEnv {
	t.Helper()
	if opts.Environments == nil {
		opts.Environments = []string{"dev", "test"}
	}
	if opts.Seeds == nil {
		// The dev environment the solution comes from; seeding it also
		// gives every environment a connection per connector it uses.
		opts.Seeds = map[string][]string{"dev": {fixtures.Path("fabrikam-environmental-large", fabrikamUnmanaged)}}
	}
	if opts.AsyncPolls == 0 {
		opts.AsyncPolls = -1
	}
	return &deployEnv{emulatortest.Start(t, opts)}
}

// changes counts the audited changes in an environment.
func (e *deployEnv) changes(env string) int {
	n := 0
	for _, a := range e.Emulator.Audit() {
		if a.Environment == env {
			n++
		}
	}
	return n
}

// writeSettings writes settings created from sol, with the Accelerator's
// tokens in every value, and returns the two paths.
func writeSettings(t testing.TB, dir string, sol *solution.Solution, teams []settings.GroupTeam) (string, string) {
	t.Helper()
	ds := settings.NewDeploymentSettings(sol)
	for i := range ds.ConnectionReferences {
		ds.ConnectionReferences[i].ConnectionID = "#{connectionreference." + ds.ConnectionReferences[i].LogicalName + "}#"
	}
	for i := range ds.EnvironmentVariables {
		ds.EnvironmentVariables[i].Value = "#{environmentvariable." + ds.EnvironmentVariables[i].SchemaName + "}#"
	}
	cds := settings.NewCustomDeploymentSettings(sol, settings.CustomOptions{Placeholders: true})
	cds.AadGroupTeamConfiguration = teams
	dpath, cpath := filepath.Join(dir, "deploymentSettings.json"), filepath.Join(dir, "customDeploymentSettings.json")
	for path, v := range map[string]any{dpath: ds, cpath: cds} {
		data, err := settings.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dpath, cpath
}

// fabrikamVariables answers the tokens of fabrikam's settings the way a
// pipeline's variables would: connections of the target, sort orders that
// put the parent flow FIRST (so only dependency ordering can save it),
// an owner for one flow, a CanViewWithShare share.
func fabrikamVariables(t testing.TB, ctx context.Context, dv *dataverse.Client, sol *solution.Solution) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for name, cn := range emulatortest.ConnectionsFor(t, ctx, dv, sol) {
		vars["connectionreference."+name] = cn.Name
	}
	for _, ev := range sol.EnvironmentVariables {
		vars["environmentvariable."+ev.SchemaName] = "https://test.contoso.example/outcome?id="
	}
	for i, f := range sol.CloudFlows() {
		key := f.Name + "." + f.ID
		order := "9"
		if f.ID == parentFlow {
			order = "1"
		} else {
			order = string(rune('2' + i%7))
		}
		vars["activateflow.order."+key] = order
		vars["activateflow.activate."+key] = "true"
		vars["owner.ownerEmail."+key] = ""
		vars["flow.sharing."+key] = ""
		if f.Name == "Request Approval" {
			vars["owner.ownerEmail."+key] = emulator.FlowOwner.Email
		}
	}
	for _, a := range sol.CanvasApps {
		vars["canvasshare.aadGroupId."+a.Name] = ""
		vars["canvasshare.roleName."+a.Name] = ""
		vars["canvasowner.ownerEmail."+a.Name] = ""
		if a.AppType == 0 {
			vars["canvasshare.aadGroupId."+a.Name] = emulator.Groups[0].ID
			vars["canvasshare.roleName."+a.Name] = "CanViewWithShare"
		}
	}
	return vars
}

func mapLookup(m map[string]string) settings.LookupFunc {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

func deployContext(dv *dataverse.Client, zipPath string) *Context {
	return &Context{Reporter: &quietReporter{}, Getenv: func(string) string { return "" }, Now: time.Now,
		Dataverse: dv, ZipFile: zipPath, Upgrade: UpgradeAuto}
}

func TestDeployFabrikamEndToEnd(t *testing.T) {
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{})
	dv := e.Client(t, "test")
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	sol, err := solution.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	team := settings.GroupTeam{AadGroupTeamName: "Fabrikam Makers", AadSecurityGroupID: emulator.Groups[1].ID,
		DataverseSecurityRoleNames: []string{"Basic User", "Environment Maker"}, SkipRolesDeletion: "true"}
	dpath, cpath := writeSettings(t, t.TempDir(), sol, []settings.GroupTeam{team})
	vars := fabrikamVariables(t, ctx, dv, sol)
	ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
	if err != nil {
		t.Fatal(err)
	}
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom = ds, cds
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
		t.Fatalf("deploy: %v\n%s", err, Report(c.Outcomes))
	}
	if c.Imported.Kind != ImportNew {
		t.Errorf("import kind = %s, want %s", c.Imported.Kind, ImportNew)
	}

	// Connection references bound and the variable set, by the import.
	var names []string
	for _, cr := range sol.ConnectionReferences {
		names = append(names, cr.LogicalName)
	}
	refs, err := dv.ListConnectionReferences(ctx, names...)
	if err != nil || len(refs) != len(names) {
		t.Fatalf("connection references: %v %v", refs, err)
	}
	for _, r := range refs {
		if want := vars["connectionreference."+r.LogicalName]; r.ConnectionID != want || want == "" {
			t.Errorf("connection reference %s bound to %q, want %q", r.LogicalName, r.ConnectionID, want)
		}
	}
	ev := sol.EnvironmentVariables[0]
	defs, err := dv.ListEnvironmentVariableDefinitions(ctx, ev.SchemaName)
	if err != nil || len(defs) != 1 {
		t.Fatalf("definitions: %v %v", defs, err)
	}
	vals, err := dv.ListEnvironmentVariableValues(ctx, defs[0].ID)
	if err != nil || len(vals) != 1 || vals[0].Value != vars["environmentvariable."+ev.SchemaName] {
		t.Errorf("environment variable %s values = %+v (%v)", ev.SchemaName, vals, err)
	}

	// The group team with its roles.
	tm, err := dv.TeamByGroupID(ctx, team.AadSecurityGroupID)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := dv.TeamRoles(ctx, tm.ID)
	if err != nil {
		t.Fatal(err)
	}
	var roleNames []string
	for _, r := range roles {
		roleNames = append(roleNames, r.Name)
	}
	slices.Sort(roleNames)
	if !slices.Equal(roleNames, []string{"Basic User", "Environment Maker"}) {
		t.Errorf("team roles = %q", roleNames)
	}

	// The canvas app shared as asked (CanViewWithShare is sent, not
	// downgraded first); the service grants CanView, and the deployment
	// reports the role granted as a warning naming app, group and both
	// roles, without failing.
	envID, _ := dv.EnvironmentID(ctx)
	app, err := dv.CanvasAppByName(ctx, "contoso_environmentalworkdelivery_39672")
	if err != nil {
		t.Fatal(err)
	}
	perms, err := dv.CanvasAppPermissions(ctx, envID, app.AppName())
	if err != nil {
		t.Fatal(err)
	}
	granted := ""
	for _, p := range perms {
		if strings.EqualFold(p.Principal.ID, emulator.Groups[0].ID) {
			granted = p.RoleName
		}
	}
	if granted != "CanView" {
		t.Errorf("app permissions = %+v, want group %s with the CanView the service grants", perms, emulator.Groups[0].ID)
	}
	asked := false
	for _, a := range e.Emulator.Audit() {
		asked = asked || (a.Action == "share-app" && strings.Contains(a.Detail, "(asked CanViewWithShare)"))
	}
	if !asked {
		t.Error("the share was not sent as CanViewWithShare")
	}
	wantWarning := "app \"" + app.DisplayName + "\" shared with group \"" + emulator.Groups[0].DisplayName + "\" (" + emulator.Groups[0].ID + "): asked CanViewWithShare, the service granted CanView"
	if !slices.ContainsFunc(c.Reporter.(*quietReporter).lines, func(l string) bool { return strings.HasPrefix(l, "warning: "+wantWarning) }) ||
		!strings.Contains(Report(c.Outcomes), wantWarning) {
		t.Errorf("no warning %q in the log %q or the report:\n%s", wantWarning, c.Reporter.(*quietReporter).lines, Report(c.Outcomes))
	}

	// Owner set and every cloud flow on.
	owner := emulator.FlowOwner.SystemUserID("test")
	for _, f := range sol.CloudFlows() {
		w, err := dv.GetWorkflow(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !w.On() {
			t.Errorf("flow %q is off", f.Name)
		}
		if f.Name == "Request Approval" && !strings.EqualFold(w.OwnerID, owner) {
			t.Errorf("flow %q owner = %s, want %s", f.Name, w.OwnerID, owner)
		}
	}
	for _, r := range c.Flows {
		if r.Err != nil {
			t.Errorf("flow report %s", r)
		}
	}

	// The import itself turns flows on where it can; switch them all off
	// (parent first, as the service requires) and let activate-flows do it:
	// children before the parent whose sort order is first, each in the
	// first pass, as the deploying identity (the connections are shared
	// with it), never impersonating their owner.
	parent, _ := sol.Flow(parentFlow)
	if err := dv.SetWorkflowState(ctx, parentFlow, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range sol.CloudFlows() {
		if err := dv.SetWorkflowState(ctx, f.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	auditFrom := len(e.Emulator.Audit())
	c3 := deployContext(dv, "")
	c3.SolutionName, c3.Deployment, c3.Custom = sol.UniqueName, ds, cds
	if err := (Runner{Reporter: c3.Reporter}).Run(ctx, c3, []Step{ActivateFlows{}}); err != nil {
		t.Fatalf("activate-flows: %v", err)
	}
	var activated []string
	for _, a := range e.Emulator.Audit()[auditFrom:] {
		if a.Environment == "test" && a.Action == "activate-flow" {
			activated = append(activated, strings.ToLower(a.ObjectID))
			if a.CallerObjectID != emulator.ServicePrincipal.ObjectID || a.ImpersonatedBy != "" {
				t.Errorf("flow %s turned on as %s (impersonated by %q), want the deploying identity %s", a.ObjectID, a.CallerObjectID, a.ImpersonatedBy, emulator.ServicePrincipal.ObjectID)
			}
		}
	}
	parentAt := slices.Index(activated, parentFlow)
	if len(parent.ChildFlows) != 3 || parentAt < 0 || len(activated) != len(sol.CloudFlows()) {
		t.Fatalf("parent flow children %v, activations %v", parent.ChildFlows, activated)
	}
	for _, child := range parent.ChildFlows {
		if i := slices.Index(activated, child); i < 0 || i > parentAt {
			t.Errorf("child %s turned on at %d, parent at %d", child, i, parentAt)
		}
	}
	for _, r := range c3.Flows {
		if r.Err != nil || r.Passes != 1 {
			t.Errorf("flow report %s", r)
		}
		// Flows go on as the deploying identity, impersonating nobody.
		if r.As != "" {
			t.Errorf("flow %s switched as %q, want the deploying identity", r.Name, r.As)
		}
	}

	// An upgrade to a version that dropped a flow removes it.
	dropped := "7faeff67-f0d3-ef11-a730-0022480b5362"
	v2 := editZip(t, zipPath, "1.1.11.72", dropped)
	c2 := deployContext(dv, v2)
	c2.Deployment, c2.Upgrade = ds, UpgradeAlways
	if err := (Runner{Reporter: c2.Reporter}).Run(ctx, c2, []Step{SettingsCheck{}, Import{}}); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if c2.Imported.Kind != ImportUpgrade {
		t.Errorf("kind = %s, want upgrade", c2.Imported.Kind)
	}
	if _, err := dv.GetWorkflow(ctx, dropped); !errors.Is(err, dataverse.ErrNotFound) {
		t.Errorf("dropped flow after upgrade: %v, want not found", err)
	}
	if s, err := dv.GetSolution(ctx, sol.UniqueName); err != nil || s.Version != "1.1.11.72" {
		t.Errorf("installed = %+v %v", s, err)
	}
}

// editZip writes a copy of a real solution zip with another version and
// without the given workflow (its file, its customizations.xml entry and its
// root component).
func editZip(t testing.TB, src, version, dropWorkflow string) string {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if dropWorkflow != "" && strings.HasPrefix(f.Name, "Workflows/") && strings.Contains(strings.ToLower(f.Name), strings.ToUpper(dropWorkflow)) ||
			dropWorkflow != "" && strings.HasPrefix(f.Name, "Workflows/") && strings.Contains(strings.ToLower(f.Name), dropWorkflow) {
			continue
		}
		s := string(data)
		switch f.Name {
		case "solution.xml":
			i := strings.Index(s, "<Version>")
			j := strings.Index(s, "</Version>")
			s = s[:i+len("<Version>")] + version + s[j:]
			if dropWorkflow != "" {
				s = dropElement(s, "<RootComponent ", "/>", dropWorkflow)
			}
		case "customizations.xml":
			if dropWorkflow != "" {
				s = dropElement(s, "<Workflow ", "</Workflow>", dropWorkflow)
			}
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
	}
	zw.Close()
	out := filepath.Join(t.TempDir(), "v.zip")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// dropElement removes the element starting with open, ending with close,
// whose start tag mentions id.
func dropElement(s, open, close, id string) string {
	for from := 0; ; {
		i := strings.Index(s[from:], open)
		if i < 0 {
			return s
		}
		i += from
		tagEnd := strings.Index(s[i:], ">") + i
		if !strings.Contains(strings.ToLower(s[i:tagEnd]), id) {
			from = tagEnd
			continue
		}
		j := strings.Index(s[i:], close) + i + len(close)
		return s[:i] + s[j:]
	}
}

func mustRead(t testing.TB, path string) *solution.Solution {
	t.Helper()
	s, err := solution.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func importRequest(zip []byte, params []dataverse.ComponentParameter, holding bool) dataverse.ImportRequest {
	return dataverse.ImportRequest{Zip: zip, ComponentParameters: params, HoldingSolution: holding}
}
