package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

// The Accelerator's export dropped an environment variable whose value was
// empty from deploymentSettings.json, and its import kept whatever the
// target held: a variable already set there is kept with a notice, one set
// nowhere is still an error before anything is sent.
func TestVariableLeftOutKeepsTargetValue(t *testing.T) {
	ctx := context.Background()
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	e := newDeployEnv(t, emulator.Options{Environments: []string{"dev", "test", "prod"}})
	dv := e.Client(t, "test")
	sol := mustRead(t, zipPath)
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	vars := fabrikamVariables(t, ctx, dv, sol)
	ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
	if err != nil {
		t.Fatal(err)
	}
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom = ds, cds
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
		t.Fatalf("first deploy: %v\n%s", err, Report(c.Outcomes))
	}

	// Second deployment: the variable has no default and the file leaves it out.
	noDefault := func() *solution.Solution {
		s := mustRead(t, zipPath)
		for i := range s.EnvironmentVariables {
			s.EnvironmentVariables[i].DefaultValue = ""
			s.EnvironmentVariables[i].HasCurrentValue = false
		}
		return s
	}
	left := *ds
	left.EnvironmentVariables = nil
	c2 := deployContext(dv, zipPath)
	c2.Solution, c2.Deployment = noDefault(), &left
	if err := (SettingsCheck{}).Run(ctx, c2); err != nil {
		t.Fatalf("settings check refused a variable the target already holds: %v", err)
	}
	if got := strings.Join(c2.notes, "\n"); !strings.Contains(got, "already set in the target is kept") {
		t.Errorf("no notice for the kept value: %q", got)
	}

	// The same file against an environment that has never seen the variable.
	c3 := deployContext(e.Client(t, "prod"), zipPath)
	c3.Solution, c3.Deployment = noDefault(), &left
	err = (SettingsCheck{}).Run(ctx, c3)
	if err == nil || !strings.Contains(err.Error(), "has no value: set EnvironmentVariables[].Value") {
		t.Fatalf("a variable with no value anywhere: err = %v", err)
	}
}

// Without --strict, a file whose flow-order, owner and sharing tokens have
// no variable (as the Accelerator's maker app left them) loads; the
// entries are skipped with a warning each, and an unbound connection
// reference is still refused before anything is sent.
func TestLenientLoadSkipsNotConfigured(t *testing.T) {
	ctx := context.Background()
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	e := newDeployEnv(t, emulator.Options{Environments: []string{"dev", "test", "prod"}})
	dv := e.Client(t, "test")
	sol := mustRead(t, zipPath)
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	all := fabrikamVariables(t, ctx, dv, sol)
	vars := map[string]string{}
	for k, v := range all {
		if strings.HasPrefix(k, "connectionreference.") || strings.HasPrefix(k, "environmentvariable.") {
			vars[k] = v
		}
	}
	if _, _, _, err := LoadSettings(dpath, cpath, mapLookup(vars)); err == nil {
		t.Fatal("strict load accepted tokens without a value")
	}
	ds, cds, warnings, err := LoadSettingsWith(dpath, cpath, mapLookup(vars), LoadOptions{})
	if err != nil {
		t.Fatalf("lenient load: %v", err)
	}
	skipped := 0
	for _, w := range warnings {
		if strings.Contains(w.Message, "not configured") {
			skipped++
		}
	}
	if skipped == 0 || len(cds.SolutionComponentOwnershipConfiguration)+len(cds.AadGroupCanvasConfiguration)+len(cds.FlowShareWithGroupTeamConfiguration) != 0 {
		t.Errorf("skipped %d, left %+v", skipped, cds)
	}
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom = ds, cds
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
		t.Fatalf("deploy with not-configured entries: %v\n%s", err, Report(c.Outcomes))
	}

	delete(vars, "connectionreference.contoso_sharedapprovals_ea5ad")
	ds, _, _, err = LoadSettingsWith(dpath, cpath, mapLookup(vars), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c = deployContext(e.Client(t, "prod"), zipPath)
	c.Deployment = ds
	runExpectingFailure(t, e, "prod", c, DeployPipeline(), "connection reference contoso_sharedapprovals_ea5ad is not bound")
}
