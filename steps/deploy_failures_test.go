package steps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
)

// Each failure names what is wrong and what to set, and the target is left
// exactly as it was (no audited change).

func fabrikamSettings(t *testing.T, ctx context.Context, e *deployEnv, env string, edit func(map[string]string)) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings) {
	t.Helper()
	sol, err := solution.ReadFile(fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	if err != nil {
		t.Fatal(err)
	}
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	vars := fabrikamVariables(t, ctx, e.Client(t, env), sol)
	if edit != nil {
		edit(vars)
	}
	ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
	if err != nil {
		t.Fatal(err)
	}
	return ds, cds
}

func runExpectingFailure(t *testing.T, e *deployEnv, env string, c *Context, pipeline []Step, want ...string) {
	t.Helper()
	before := e.changes(env)
	err := (Runner{Reporter: c.Reporter}).Run(context.Background(), c, pipeline)
	if err == nil {
		t.Fatal("run succeeded, want a failure")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nlacks %q", err, w)
		}
	}
	if after := e.changes(env); after != before {
		t.Errorf("target changed: %d audited changes before, %d after", before, after)
	}
}

func TestFailureUnboundConnectionReference(t *testing.T) {
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{})
	ds, _ := fabrikamSettings(t, ctx, e, "test", func(v map[string]string) {
		v["connectionreference.contoso_sharedapprovals_ea5ad"] = ""
	})
	c := deployContext(e.Client(t, "test"), fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	c.Deployment = ds
	runExpectingFailure(t, e, "test", c, DeployPipeline(),
		"connection reference contoso_sharedapprovals_ea5ad is not bound: set ConnectionReferences[].ConnectionId for contoso_sharedapprovals_ea5ad in")
}

func TestFailureEmptyEnvironmentVariable(t *testing.T) {
	sol, err := solution.ReadFile(fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	if err != nil {
		t.Fatal(err)
	}
	// The real variable ships a default; without one an empty value is a gap.
	sol.EnvironmentVariables[0].DefaultValue = ""
	ds := settings.NewDeploymentSettings(sol)
	ds.File = "deploymentSettings.json"
	for i := range ds.ConnectionReferences {
		ds.ConnectionReferences[i].ConnectionID = "x"
	}
	_, gaps := BuildComponentParameters(sol, ds)
	if len(gaps) != 1 || !strings.Contains(gaps[0], "environment variable contoso_outcomeformlink (String) has no value: set EnvironmentVariables[].Value for contoso_outcomeformlink in deploymentSettings.json") {
		t.Fatalf("gaps = %q", gaps)
	}
}

func TestFailureMissingTokensAllNamedAtOnce(t *testing.T) {
	sol, err := solution.ReadFile(fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	if err != nil {
		t.Fatal(err)
	}
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	_, _, _, err = LoadSettings(dpath, cpath, mapLookup(map[string]string{}))
	var me *settings.MissingTokensError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want MissingTokensError", err)
	}
	for _, want := range []string{"connectionreference.contoso_sharedapprovals_ea5ad", "environmentvariable.contoso_outcomeformlink",
		"activateflow.order.Daily status changes." + parentFlow} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// installFabrikam deploys fabrikam into test so the configure failures act
// on an installed solution.
func installFabrikam(t *testing.T) (*deployEnv, *settings.DeploymentSettings, *settings.CustomDeploymentSettings) {
	t.Helper()
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{Seeds: map[string][]string{"test": {fixtures.Path("fabrikam-environmental-large", fabrikamManaged)}}})
	ds, cds := fabrikamSettings(t, ctx, e, "test", nil)
	return e, ds, cds
}

func configureContext(e *deployEnv, t *testing.T, ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) *Context {
	c := deployContext(e.Client(t, "test"), "")
	c.SolutionName, c.Deployment, c.Custom = "FabrikamEnvironmental", ds, cds
	return c
}

func TestFailureUnknownUser(t *testing.T) {
	e, ds, cds := installFabrikam(t)
	cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = "nobody@contoso.example"
	c := configureContext(e, t, ds, cds)
	runExpectingFailure(t, e, "test", c, []Step{SetFlowOwners{}},
		`user "nobody@contoso.example" is not a user of`, "SolutionComponentOwnershipConfiguration[0]")
}

func TestFailureUnknownGroup(t *testing.T) {
	e, ds, cds := installFabrikam(t)
	for i := range cds.AadGroupCanvasConfiguration {
		if cds.AadGroupCanvasConfiguration[i].AadGroupID != "" {
			cds.AadGroupCanvasConfiguration[i].AadGroupID = "6a0b1c2d-0000-4000-8000-0000000000ff"
		}
	}
	c := configureContext(e, t, ds, cds)
	runExpectingFailure(t, e, "test", c, []Step{ShareApps{}},
		"Entra group 6a0b1c2d-0000-4000-8000-0000000000ff does not exist: fix aadGroupId")
}

func TestFailureUnknownRole(t *testing.T) {
	e, ds, cds := installFabrikam(t)
	cds.AadGroupTeamConfiguration = []settings.GroupTeam{{AadGroupTeamName: "Sales", AadSecurityGroupID: emulator.Groups[0].ID,
		DataverseSecurityRoleNames: []string{"Basic User", "No Such Role"}}}
	c := configureContext(e, t, ds, cds)
	runExpectingFailure(t, e, "test", c, []Step{Teams{}}, `security role "No Such Role" does not exist`, "AadGroupTeamConfiguration[0]")
}

func TestFailureManagedOverUnmanaged(t *testing.T) {
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{Seeds: map[string][]string{"test": {fixtures.Path("fabrikam-environmental-large", fabrikamUnmanaged)}}})
	ds, _ := fabrikamSettings(t, ctx, e, "test", nil)
	c := deployContext(e.Client(t, "test"), fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	c.Deployment = ds
	runExpectingFailure(t, e, "test", c, []Step{SettingsCheck{}, Import{}},
		"is managed but", "has it unmanaged", "ppalm solution delete")
}

func TestFailureLowerVersion(t *testing.T) {
	e, ds, _ := installFabrikam(t)
	older := editZip(t, fixtures.Path("fabrikam-environmental-large", fabrikamManaged), "1.1.11.70", "")
	c := deployContext(e.Client(t, "test"), older)
	c.Deployment = ds
	runExpectingFailure(t, e, "test", c, []Step{SettingsCheck{}, Import{}},
		`"FabrikamEnvironmental" 1.1.11.70 is older than version 1.1.11.71`, "build a version higher than 1.1.11.71")
}

func TestLeftoverHoldingSolutionIsFinished(t *testing.T) {
	ctx := context.Background()
	e, ds, _ := installFabrikam(t)
	dv := e.Client(t, "test")
	v2 := editZip(t, fixtures.Path("fabrikam-environmental-large", fabrikamManaged), "1.1.11.72", "")
	params, gaps := BuildComponentParameters(mustRead(t, v2), ds)
	if len(gaps) > 0 {
		t.Fatal(gaps)
	}
	// A previous run staged the upgrade and died before applying it.
	data := mustReadFile(t, v2)
	if _, err := dv.ImportSolution(ctx, importRequest(data, params, true)); err != nil {
		t.Fatal(err)
	}
	c := deployContext(dv, v2)
	c.Deployment = ds
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{SettingsCheck{}, Import{}}); err != nil {
		t.Fatalf("import with a leftover holding solution: %v", err)
	}
	if c.Imported.FinishedHolding != "1.1.11.72" {
		t.Errorf("FinishedHolding = %q", c.Imported.FinishedHolding)
	}
	if _, err := dv.GetSolution(ctx, "FabrikamEnvironmental_Upgrade"); err == nil {
		t.Error("holding solution still there")
	}
}

// With no settings file at all, the error says how to make one.
func TestSettingsCheckWithoutSettingsSaysHowToMakeThem(t *testing.T) {
	zip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	c := &Context{Reporter: task.NewTerminal(&bytes.Buffer{}, false), ZipFile: zip}
	err := SettingsCheck{}.Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "no deployment settings were given: write them with `ppalm settings create --zipfile "+zip) ||
		!strings.Contains(err.Error(), "alexmsft_SharePointConnectionFollowSites is not bound") {
		t.Fatalf("error = %v", err)
	}
}

// Settings that name what the target lacks (a connection id, an owner, a
// group) stop the deployment before the import, not halfway through it.
func TestFailureTargetMismatchStopsBeforeImport(t *testing.T) {
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{})
	ds, cds := fabrikamSettings(t, ctx, e, "test", func(v map[string]string) {
		v["connectionreference.contoso_sharedapprovals_ea5ad"] = "0123456789abcdef0123456789abcdef"
	})
	cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = "nobody@contoso.example"
	c := deployContext(e.Client(t, "test"), fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	c.Deployment, c.Custom = ds, cds
	runExpectingFailure(t, e, "test", c, DeployPipeline(),
		"setting(s) do not match", "0123456789abcdef0123456789abcdef", "nobody@contoso.example")
	if c.Imported != nil {
		t.Fatalf("the import ran: %+v", c.Imported)
	}
	for route := range e.Emulator.Stats().Requests {
		if strings.Contains(route, "ImportSolution") || strings.Contains(route, "StageAndUpgrade") {
			t.Fatalf("an import was sent: %s", route)
		}
	}
}
