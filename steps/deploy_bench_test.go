package steps

import (
	"context"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// BenchmarkDeployFabrikam measures a full deploy (settings check, import,
// teams, share-apps, set-flow-owners, activate-flows) of the largest fixture
// into a fresh environment with 30 ms of emulated latency per request:
// serial (one call at a time) against ppalm's concurrency. It reports the
// HTTP requests of one deploy.
func BenchmarkDeployFabrikam(b *testing.B) {
	for _, bc := range []struct {
		name string
		conc int
	}{{"serial", 1}, {"concurrent", 8}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
			sol, err := solution.ReadFile(zipPath)
			if err != nil {
				b.Fatal(err)
			}
			team := settings.GroupTeam{AadGroupTeamName: "Fabrikam Makers", AadSecurityGroupID: emulator.Groups[1].ID,
				DataverseSecurityRoleNames: []string{"Basic User", "Environment Maker", "System Customizer"}}
			dpath, cpath := writeSettings(b, b.TempDir(), sol, []settings.GroupTeam{team})
			var requests int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := newDeployEnv(b, emulator.Options{Faults: "latency=30ms,seed=1"})
				vars := fabrikamVariables(b, ctx, e.Client(b, "test"), sol)
				ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
				if err != nil {
					b.Fatal(err)
				}
				dv := e.Client(b, "test", dataverse.WithMaxConcurrency(bc.conc))
				c := deployContext(dv, zipPath)
				c.Deployment, c.Custom, c.Concurrency = ds, cds, bc.conc
				b.StartTimer()
				if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
					b.Fatalf("deploy: %v\n%s", err, Report(c.Outcomes))
				}
				requests += dv.Requests()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}
