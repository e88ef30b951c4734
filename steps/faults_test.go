package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
)

// TestImportUnderHeavyFaults deploys (settings check, import) into an
// emulator answering half of all requests 429, a fifth 503 and dropping a
// tenth of the connections, some after the work was done, over many seeds
// (issue 11, item 9). Whatever happens:
//   - the import is never queued twice;
//   - an import the target completed is never reported failed: polling
//     outlasts any fault the import itself survives;
//   - a run that gives up says so without calling throttling a settings
//     mismatch, and, once an import was submitted, names its system job.
func TestImportUnderHeavyFaults(t *testing.T) {
	const faults = "429=0.5,503=0.2,reset=0.1"
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	ctx := context.Background()
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	sol := mustRead(t, zipPath)
	dpath, _ := writeSettings(t, t.TempDir(), sol, nil)
	var completed, failedRuns int
	total := map[string]int{}
	for seed := 1; seed <= seeds; seed++ {
		e := newDeployEnv(t, emulator.Options{Environments: []string{"test"}, Seeds: map[string][]string{},
			Faults: fmt.Sprintf("%s,seed=%d", faults, seed), AsyncPolls: 2})
		// A connection per connection reference, shared with the
		// deploying identity, and a value per variable.
		vars := map[string]string{}
		for _, cr := range sol.ConnectionReferences {
			name, err := e.Emulator.AddConnection("test", cr.ConnectorID, emulator.Maker.Email, emulator.ServicePrincipal.ObjectID)
			if err != nil {
				t.Fatal(err)
			}
			vars["connectionreference."+cr.LogicalName] = name
		}
		for _, ev := range sol.EnvironmentVariables {
			vars["environmentvariable."+ev.SchemaName] = "https://test.contoso.example/outcome?id="
		}
		ds, _, _, err := LoadSettings(dpath, "", mapLookup(vars))
		if err != nil {
			t.Fatal(err)
		}
		dv := e.Client(t, "test")
		c := deployContext(dv, zipPath)
		c.Deployment = ds
		runErr := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{SettingsCheck{}, Import{}})

		var submitted []emulator.SystemJob
		for _, j := range e.Emulator.SystemJobs("test") {
			if j.OperationType == dataverse.OperationImportSolution || j.OperationType == dataverse.OperationStageAndUpgrade {
				submitted = append(submitted, j)
			}
		}
		ran := 0
		for _, a := range e.Emulator.Audit() {
			if a.Environment == "test" && a.Action == "import-solution" {
				ran++
			}
		}
		for k, v := range e.Emulator.Stats().Faults {
			total[k] += v
		}
		if len(submitted) > 1 || ran > 1 {
			t.Errorf("seed %d: %d import system jobs submitted, %d imports ran; want at most one of each", seed, len(submitted), ran)
		}
		// The target completed the import once it ran it (the emulator
		// applies it when the system job starts), whether or not anyone
		// polled the job to its end.
		done := len(submitted) == 1 && ran == 1 && submitted[0].StatusCode != 31
		if done {
			completed++
		}
		if runErr == nil {
			if !done {
				t.Errorf("seed %d: the run succeeded but the target shows system jobs %+v and %d imports", seed, submitted, ran)
			}
			continue
		}
		failedRuns++
		msg := runErr.Error()
		var ie *dataverse.ImportError
		if done && (errors.As(runErr, &ie) || strings.Contains(msg, "ImportSolutionAsync of solution") || strings.Contains(msg, "import solution \"")) {
			t.Errorf("seed %d: the target completed the import, yet the run reports it failed:\n%v", seed, runErr)
		}
		if strings.Contains(msg, "do not match") {
			t.Errorf("seed %d: a run under faults reports a settings mismatch:\n%v", seed, runErr)
		}
		if len(submitted) == 1 && !done && !strings.Contains(msg, submitted[0].ID) {
			t.Errorf("seed %d: gave up with import system job %s submitted but does not name it:\n%v", seed, submitted[0].ID, runErr)
		}
		t.Logf("seed %d gave up (import submitted: %v, done: %v): %.300s", seed, len(submitted) == 1, done, msg)
	}
	t.Logf("%d seeds: %d imports completed, %d runs gave up; faults %v", seeds, completed, failedRuns, total)
	if completed == 0 || total["reset-after"] == 0 || total["429"] == 0 || total["503"] == 0 {
		t.Errorf("the fault mix was not exercised: %d imports completed, faults %v", completed, total)
	}
}
