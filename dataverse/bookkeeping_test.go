package dataverse_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
)

// Import bookkeeping as the service keeps it (issue 10, item 4): the
// asyncoperations row is written when ImportSolutionAsync is accepted, the
// importjobs row only when the queued system job starts, and the job id
// cannot be chosen up front. A client that reconciles on import jobs after
// a lost answer finds none and queues the same import again.

const importRoute = "POST /{env}/api/data/v9.2/ImportSolutionAsync"

// systemJobs counts the system jobs of an operation type in env, and the
// imports the emulator's audit says ran there.
func systemJobs(t *testing.T, r interface {
	Client(testing.TB, string, ...dataverse.Option) *dataverse.Client
}, env string, opType int) int {
	t.Helper()
	ops, err := r.Client(t, env).SolutionOperations(context.Background(), time.Time{}, opType)
	if err != nil {
		t.Fatal(err)
	}
	return len(ops)
}

func auditCount(e *emulator.Emulator, env, action string) int {
	n := 0
	for _, a := range e.Audit() {
		if a.Environment == env && a.Action == action {
			n++
		}
	}
	return n
}

// The service accepted the import and the answer was lost: the client
// adopts the system job the request created instead of queueing another.
func TestImportAnswerLostIsAdoptedNotQueuedAgain(t *testing.T) {
	r := newRig(t, emulator.Options{FaultScript: []emulator.ScriptedFault{{Route: importRoute, Nth: 1, Kind: "reset-after"}}})
	var logged []string
	test := r.Client(t, "test", dataverse.WithLogger(func(f string, a ...any) { logged = append(logged, f) }))
	ctx := context.Background()
	res, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, fabrikamMngZip), OverwriteUnmanagedCustomizations: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := systemJobs(t, r, "test", dataverse.OperationImportSolution); n != 1 {
		t.Errorf("%d import system jobs in test, want 1: the lost answer made the client queue the import again", n)
	}
	if n := auditCount(r.Emulator, "test", "import-solution"); n != 1 {
		t.Errorf("the import ran %d times, want once", n)
	}
	if res.AsyncOperationID == "" || res.ImportJobID == "" || res.Result == nil || res.Result.Status != "Passed" {
		t.Errorf("adopted import result %+v: want its system job, its import job and the result", res)
	}
	if s, err := test.GetSolution(ctx, "FabrikamEnvironmental"); err != nil || s.Version != "1.1.11.71" {
		t.Errorf("imported solution %+v, %v", s, err)
	}
	if len(logged) == 0 {
		t.Error("adopting the system job was not logged")
	}
}

// The connection dropped before the service took the request: no system
// job appears, so the import is sent once more, and runs once.
func TestImportAnswerLostBeforeAcceptIsSentAgain(t *testing.T) {
	r := newRig(t, emulator.Options{FaultScript: []emulator.ScriptedFault{{Route: importRoute, Nth: 1, Kind: "reset-before"}}})
	test := r.Client(t, "test")
	if _, err := test.ImportSolution(context.Background(), dataverse.ImportRequest{Zip: readFile(t, followSitesZip)}); err != nil {
		t.Fatal(err)
	}
	if n := r.Emulator.Stats().Requests[importRoute]; n[0] != 1 || n[200] != 1 {
		t.Errorf("import POSTs by status %v, want one dropped and one answered", n)
	}
	if n := systemJobs(t, r, "test", dataverse.OperationImportSolution); n != 1 {
		t.Errorf("%d import system jobs, want 1", n)
	}
}

// The chosen ImportJobId is not the job's id on ImportSolutionAsync, so the
// client never sends one and reads the job from the answer.
func TestImportJobIsTheServicesNotTheClients(t *testing.T) {
	r := newRig(t, emulator.Options{})
	test := r.Client(t, "test")
	ctx := context.Background()
	res, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, followSitesZip)})
	if err != nil {
		t.Fatal(err)
	}
	job, err := test.GetImportJob(ctx, res.ImportJobID)
	if err != nil || job.SolutionName != "FollowSites" {
		t.Errorf("import job %s from the answer: %+v, %v", res.ImportJobID, job, err)
	}
	op, err := test.GetAsyncOperation(ctx, res.AsyncOperationID)
	if err != nil || op.OperationType != dataverse.OperationImportSolution {
		t.Errorf("system job %+v, %v: want operation type 203", op, err)
	}
}

// A system job can fail before it starts: no import job is ever created,
// and the error says so instead of sending the client after a job that
// does not exist.
func TestImportSystemJobFailingBeforeItStarts(t *testing.T) {
	r := newRig(t, emulator.Options{FaultScript: []emulator.ScriptedFault{{Route: "job ImportSolutionAsync", Nth: 1, Kind: "jobfail"}}})
	test := r.Client(t, "test")
	ctx := context.Background()
	_, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, followSitesZip)})
	var ie *dataverse.ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "before it") {
		t.Fatalf("err = %v, want an ImportError saying the job ended before it created an import job", err)
	}
	if jobs, _ := test.ListImportJobs(ctx, "FollowSites"); len(jobs) != 0 {
		t.Errorf("%d import jobs for a system job that never started", len(jobs))
	}
	if _, err := test.GetSolution(ctx, "FollowSites"); !errors.Is(err, dataverse.ErrNotFound) {
		t.Errorf("solution installed by a job that failed before it started: %v", err)
	}
	if _, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, followSitesZip)}); err != nil {
		t.Errorf("the next import: %v", err)
	}
	if r.Emulator.Stats().Faults["jobfail"] != 1 {
		t.Errorf("faults %v, want one jobfail counted", r.Emulator.Stats().Faults)
	}
}

// An import a previous run stopped waiting for still runs: the next one
// waits for it rather than queue a second import beside it.
func TestWaitSolutionOperationsWaitsForARunningImport(t *testing.T) {
	r := newRig(t, emulator.Options{AsyncPolls: 5})
	test := r.Client(t, "test")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, followSitesZip),
		Progress: func(dataverse.ImportProgress) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the first run interrupted", err)
	}
	bg := context.Background()
	pending, err := test.PendingSolutionOperations(bg)
	if err != nil || len(pending) != 1 || pending[0].OperationType != dataverse.OperationImportSolution {
		t.Fatalf("pending %+v, %v: want the interrupted import", pending, err)
	}
	var waited []string
	if err := test.WaitSolutionOperations(bg, func(op dataverse.AsyncOperation) { waited = append(waited, op.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(waited) != 1 || waited[0] != pending[0].ID {
		t.Errorf("waited for %v, want %s", waited, pending[0].ID)
	}
	if pending, _ := test.PendingSolutionOperations(bg); len(pending) != 0 {
		t.Errorf("still pending after the wait: %+v", pending)
	}
}

// A promotion whose answer was lost is adopted by its system job (207).
func TestPromoteAnswerLostIsAdopted(t *testing.T) {
	r := newRig(t, emulator.Options{FaultScript: []emulator.ScriptedFault{
		{Route: "POST /{env}/api/data/v9.2/DeleteAndPromoteAsync", Nth: 1, Kind: "reset-after"}}})
	test := r.Client(t, "test")
	ctx := context.Background()
	managed := readFile(t, fabrikamMngZip)
	if _, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: managed}); err != nil {
		t.Fatal(err)
	}
	if _, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: withVersion(t, managed, "1.2.0.0"), HoldingSolution: true}); err != nil {
		t.Fatal(err)
	}
	if err := test.DeleteAndPromote(ctx, "FabrikamEnvironmental", nil); err != nil {
		t.Fatal(err)
	}
	if n := systemJobs(t, r, "test", dataverse.OperationDeleteAndPromote); n != 1 {
		t.Errorf("%d promotion system jobs, want 1", n)
	}
	if s, err := test.GetSolution(ctx, "FabrikamEnvironmental"); err != nil || s.Version != "1.2.0.0" {
		t.Errorf("promoted solution %+v, %v", s, err)
	}
}

// A managed solution is uninstalled by UninstallSolutionAsync and a poll
// of its system job (208), never by a synchronous DELETE that a gateway
// cuts off while the service carries on.
func TestUninstallManagedSolutionAsync(t *testing.T) {
	r := newRig(t, emulator.Options{})
	test := r.Client(t, "test")
	ctx := context.Background()
	if _, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, fabrikamMngZip)}); err != nil {
		t.Fatal(err)
	}
	s, err := test.GetSolution(ctx, "FabrikamEnvironmental")
	if err != nil {
		t.Fatal(err)
	}
	var polls int
	if err := test.RemoveSolution(ctx, s, func(dataverse.AsyncOperation) { polls++ }); err != nil {
		t.Fatal(err)
	}
	if _, err := test.GetSolution(ctx, "FabrikamEnvironmental"); !errors.Is(err, dataverse.ErrNotFound) {
		t.Errorf("solution still there: %v", err)
	}
	st := r.Emulator.Stats()
	if st.Requests["POST /{env}/api/data/v9.2/UninstallSolutionAsync"][200] != 1 || len(st.Requests["DELETE /{env}/api/data/v9.2/solutions({id})"]) != 0 || polls == 0 {
		t.Errorf("uninstall went through %v / DELETE %v with %d polls: want UninstallSolutionAsync and its polls",
			st.Requests["POST /{env}/api/data/v9.2/UninstallSolutionAsync"], st.Requests["DELETE /{env}/api/data/v9.2/solutions({id})"], polls)
	}
	if systemJobs(t, r, "test", dataverse.OperationUninstallSolution) != 1 || auditCount(r.Emulator, "test", "uninstall-solution") != 1 {
		t.Error("no uninstall system job in the service's records")
	}
}

// Another identity's import submitted in the same moment is never taken
// for the caller's own: the lost request is sent again.
func TestAnotherIdentitysImportIsNotAdopted(t *testing.T) {
	r := newRig(t, emulator.Options{FaultScript: []emulator.ScriptedFault{{Route: importRoute, Nth: 2, Kind: "reset-before"}}})
	ctx := context.Background()
	admin := r.Client(t, "test", dataverse.WithCredential(staticToken(emulator.Admin.Email)))
	theirs, err := admin.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, followSitesZip)})
	if err != nil {
		t.Fatal(err)
	}
	test := r.Client(t, "test")
	ours, err := test.ImportSolution(ctx, dataverse.ImportRequest{Zip: readFile(t, fabrikamMngZip)})
	if err != nil {
		t.Fatal(err)
	}
	if ours.AsyncOperationID == theirs.AsyncOperationID || ours.Result == nil {
		t.Errorf("our import %+v took over Casey's system job %s", ours, theirs.AsyncOperationID)
	}
	if s, err := test.GetSolution(ctx, "FabrikamEnvironmental"); err != nil || s.Version != "1.1.11.71" {
		t.Errorf("our solution %+v, %v: the import was never sent again", s, err)
	}
	if n := systemJobs(t, r, "test", dataverse.OperationImportSolution); n != 2 {
		t.Errorf("%d import system jobs, want Casey's and ours", n)
	}
}
