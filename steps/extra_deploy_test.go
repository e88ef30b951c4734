package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/solution"
)

// TestDeployExtraSolutions deploys solution zips of your own into the
// emulator with every setting filled: PPALM_EXTRA_SOLUTIONS=/path/to/folder
// go test ./steps -run DeployExtra. Zips that are not solution exports are
// skipped.
func TestDeployExtraSolutions(t *testing.T) {
	dir := os.Getenv("PPALM_EXTRA_SOLUTIONS")
	if dir == "" {
		t.Skip("set PPALM_EXTRA_SOLUTIONS to a folder of solution zips to deploy them into the emulator")
	}
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	for _, z := range zips {
		sol, err := solution.ReadFile(z)
		if err != nil {
			continue
		}
		t.Run(filepath.Base(z), func(t *testing.T) {
			ctx := context.Background()
			e := newDeployEnv(t, emulator.Options{Environments: []string{"test"}, Seeds: map[string][]string{}})
			dv := e.Client(t, "test")
			vars := map[string]string{}
			for _, cr := range sol.ConnectionReferences {
				name, err := e.Emulator.AddConnection("test", cr.ConnectorID, emulator.Maker.Email, emulator.ServicePrincipal.Email)
				if err != nil {
					t.Fatalf("connection for %s: %v", cr.ConnectorID, err)
				}
				vars["connectionreference."+cr.LogicalName] = name
			}
			for _, ev := range sol.EnvironmentVariables {
				vars["environmentvariable."+ev.SchemaName] = map[int]string{
					solution.TypeNumber: "42", solution.TypeBoolean: "true", solution.TypeJSON: `{"a":1}`,
				}[ev.Type]
				if vars["environmentvariable."+ev.SchemaName] == "" {
					vars["environmentvariable."+ev.SchemaName] = "https://contoso.example/" + strings.ToLower(ev.SchemaName)
				}
			}
			for i, f := range sol.CloudFlows() {
				key := f.Name + "." + f.ID
				vars["activateflow.order."+key] = string(rune('1' + i%9))
				vars["activateflow.activate."+key] = "true"
				vars["owner.ownerEmail."+key] = emulator.Maker.Email
				vars["flow.sharing."+key] = ""
			}
			for _, a := range sol.CanvasApps {
				vars["canvasowner.ownerEmail."+a.Name] = emulator.Maker.Email
				vars["canvasshare.aadGroupId."+a.Name] = emulator.Groups[0].ID
				vars["canvasshare.roleName."+a.Name] = "CanView"
			}
			dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
			ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
			if err != nil {
				t.Fatal(err)
			}
			c := deployContext(dv, z)
			c.Deployment, c.Custom = ds, cds
			if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
				t.Fatalf("deploy %s %s: %v\n%s", sol.UniqueName, sol.Version, err, Report(c.Outcomes))
			}
		})
	}
}
