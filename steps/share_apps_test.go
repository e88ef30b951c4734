package steps

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
)

// A share takes a while to show in the app's permissions (here 300 ms,
// --faults share-delay): share-apps looks again rather than call a share
// that is on its way a failure (issue 10, item 2).
func TestShareAppsWaitsForTheShareToShow(t *testing.T) {
	ctx := context.Background()
	e := newDeployEnv(t, emulator.Options{Faults: "share-delay=300ms"})
	var logged []string
	dv := e.Client(t, "test", dataverse.WithSleep(func(ctx context.Context, d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}), dataverse.WithPollInterval(25*time.Millisecond), dataverse.WithLogger(func(f string, a ...any) { logged = append(logged, f) }))
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	sol := mustRead(t, zipPath)
	dpath, cpath := writeSettings(t, t.TempDir(), sol, nil)
	vars := fabrikamVariables(t, ctx, dv, sol)
	ds, cds, _, err := LoadSettings(dpath, cpath, mapLookup(vars))
	if err != nil {
		t.Fatal(err)
	}
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom = ds, cds
	start := time.Now()
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{SettingsCheck{}, Import{}, ShareApps{}}); err != nil {
		t.Fatalf("deploy with a 300 ms share delay: %v\n%s", err, Report(c.Outcomes))
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("deploy took %v: the share could not have shown yet", d)
	}
	if !strings.Contains(Report(c.Outcomes), "the service granted CanView") {
		t.Errorf("report does not say which role was granted:\n%s", Report(c.Outcomes))
	}
	if len(logged) == 0 {
		t.Error("looking again for the share was not logged")
	}
}
