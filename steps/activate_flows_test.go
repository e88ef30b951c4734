package steps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
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
)

// flowSwitches sits in front of the emulator and records every flow switch
// (PATCH of a workflow) while it is in flight.
type flowSwitches struct {
	next http.Handler

	mu       sync.Mutex
	inFlight int
	peak     int
	calls    []flowSwitch
}

type flowSwitch struct {
	id         string
	start, end time.Time
}

func (s *flowSwitches) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, "/workflows(")
	if r.Method != http.MethodPatch || i < 0 {
		s.next.ServeHTTP(w, r)
		return
	}
	id := strings.ToLower(strings.TrimSuffix(r.URL.Path[i+len("/workflows("):], ")"))
	s.mu.Lock()
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	start := time.Now()
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
	s.mu.Lock()
	s.inFlight--
	s.calls = append(s.calls, flowSwitch{id: id, start: start, end: time.Now()})
	s.mu.Unlock()
}

// reset forgets what was recorded and returns it: the peak in flight, the
// calls, and the time from the first start to the last end.
func (s *flowSwitches) reset() (int, []flowSwitch, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	peak, calls := s.peak, s.calls
	s.peak, s.calls = 0, nil
	if len(calls) == 0 {
		return peak, nil, 0
	}
	first, last := calls[0].start, calls[0].end
	for _, c := range calls {
		if c.start.Before(first) {
			first = c.start
		}
		if c.end.After(last) {
			last = c.end
		}
	}
	return peak, calls, last.Sub(first)
}

// activationEnv is fabrikam deployed into the "test" environment of an
// emulator with latency, behind a flowSwitches recorder.
type activationEnv struct {
	e            *deployEnv
	rec          *flowSwitches
	dv           *dataverse.Client
	sol          *solution.Solution
	vars         map[string]string
	dpath, cpath string
}

func newActivationEnv(tb testing.TB, ctx context.Context, latency time.Duration) *activationEnv {
	tb.Helper()
	e := newDeployEnv(tb, emulator.Options{Faults: "latency=" + latency.String() + ",seed=1"})
	// The recorder stands in front of the emulator: every client goes
	// through it.
	rec := &flowSwitches{next: e.Emulator.Handler()}
	srv := httptest.NewServer(rec)
	tb.Cleanup(srv.Close)
	e.Server = &emulatortest.Server{Emulator: e.Emulator, URL: srv.URL}
	dv := e.Client(tb, "test", dataverse.WithMaxConcurrency(8))
	zipPath := fixtures.Path("fabrikam-environmental-large", fabrikamManaged)
	a := &activationEnv{e: e, rec: rec, dv: dv, sol: mustRead(tb, zipPath)}
	a.dpath, a.cpath = writeSettings(tb, tb.TempDir(), a.sol, nil)
	a.vars = fabrikamVariables(tb, ctx, dv, a.sol)
	ds, cds := a.load(tb, a.vars)
	c := deployContext(dv, zipPath)
	c.Deployment, c.Custom, c.Concurrency = ds, cds, 8
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, DeployPipeline()); err != nil {
		tb.Fatalf("deploy: %v\n%s", err, Report(c.Outcomes))
	}
	return a
}

func (a *activationEnv) load(tb testing.TB, vars map[string]string) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings) {
	tb.Helper()
	ds, cds, _, err := LoadSettings(a.dpath, a.cpath, mapLookup(vars))
	if err != nil {
		tb.Fatal(err)
	}
	return ds, cds
}

// unordered is the settings' variables with no sortOrder for any flow.
func (a *activationEnv) unordered() map[string]string {
	vars := maps.Clone(a.vars)
	for k := range vars {
		if strings.HasPrefix(k, "activateflow.order.") {
			vars[k] = ""
		}
	}
	return vars
}

// activation is what one activate-flows run did.
type activation struct {
	err    error
	report []FlowResult
	on     []string // flow ids in the order the emulator turned them on
	peak   int      // switches in flight at most
	calls  []flowSwitch
	span   time.Duration // first switch sent to last answered
}

// switchOff turns every flow off, the parent first as the service requires.
func (a *activationEnv) switchOff(tb testing.TB, ctx context.Context) {
	tb.Helper()
	for _, id := range append([]string{parentFlow}, ids(a.sol.CloudFlows())...) {
		if err := a.dv.SetWorkflowState(ctx, id, false); err != nil {
			tb.Fatal(err)
		}
	}
	a.rec.reset()
}

// activate runs activate-flows with these variables and concurrency.
func (a *activationEnv) activate(tb testing.TB, ctx context.Context, vars map[string]string, conc int) activation {
	tb.Helper()
	auditFrom := len(a.e.Emulator.Audit())
	ds, cds := a.load(tb, vars)
	c := deployContext(a.dv, "")
	c.SolutionName, c.Deployment, c.Custom, c.Concurrency = a.sol.UniqueName, ds, cds, conc
	r := activation{err: ActivateFlows{}.Run(ctx, c), report: c.Flows}
	for _, e := range a.e.Emulator.Audit()[auditFrom:] {
		if e.Environment == "test" && e.Action == "activate-flow" {
			r.on = append(r.on, strings.ToLower(e.ObjectID))
		}
	}
	r.peak, r.calls, r.span = a.rec.reset()
	return r
}

// TestActivateFlowsConcurrently deploys fabrikam into an environment with
// 50 ms of latency per request, then switches its seven flows off and runs
// activate-flows with different settings and concurrency.
func TestActivateFlowsConcurrently(t *testing.T) {
	const latency = 50 * time.Millisecond
	ctx := context.Background()
	a := newActivationEnv(t, ctx, latency)
	sol, vars := a.sol, a.vars
	parent, _ := sol.Flow(parentFlow)
	activate := func(t *testing.T, vars map[string]string, conc int) activation {
		t.Helper()
		a.switchOff(t, ctx)
		return a.activate(t, ctx, vars, conc)
	}
	childrenFirst := func(t *testing.T, on []string) {
		t.Helper()
		at := slices.Index(on, parentFlow)
		if len(parent.ChildFlows) != 3 || at < 0 {
			t.Fatalf("parent children %v, turned on %v", parent.ChildFlows, on)
		}
		for _, child := range parent.ChildFlows {
			if i := slices.Index(on, child); i < 0 || i > at {
				t.Errorf("child %s turned on at %d, parent at %d", child, i, at)
			}
		}
	}
	reportOf := func(rs []FlowResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.String())
		}
		return out
	}

	// No sort order: six flows at once (the parent's three children among
	// them), then the parent; about two requests of wall time, not seven.
	unordered := a.unordered()
	var concurrentReport []string
	t.Run("no sort order, concurrency 8", func(t *testing.T) {
		r := activate(t, unordered, 8)
		if r.err != nil {
			t.Fatal(r.err)
		}
		report, on, peak, calls, span := r.report, r.on, r.peak, r.calls, r.span
		childrenFirst(t, on)
		if len(on) != 7 || len(calls) != 7 || peak != 6 {
			t.Errorf("turned on %d flows in %d calls, %d in flight at most; want 7, 7, 6", len(on), len(calls), peak)
		}
		t.Logf("7 flows switched in %v, %d in flight at most", span, peak)
		// Two levels take about 2×latency; a serial run takes at least 7×.
		// The bound leaves room for a loaded machine: the peak above is
		// what proves the flows switched at once.
		if span > 5*latency {
			t.Errorf("switching 7 flows in 2 levels took %v, want about 2×%v (serial: 7×)", span, latency)
		}
		for _, r := range report {
			if r.Err != nil || r.Passes != 1 {
				t.Errorf("report %s, want on in pass 1", r)
			}
		}
		// The serial order: by name, the parent as soon as its children.
		var got []string
		for _, r := range report {
			got = append(got, r.Name)
		}
		want := []string{"Cancel expired milestones", "Cancel expired outcomes", "Change project status", "Daily status changes",
			"Request Approval", "Reset milestone status", "Set Project End Date"}
		if !slices.Equal(got, want) {
			t.Errorf("report order %q, want %q", got, want)
		}
		concurrentReport = reportOf(report)
	})
	t.Run("no sort order, concurrency 1", func(t *testing.T) {
		r := activate(t, unordered, 1)
		if r.err != nil {
			t.Fatal(r.err)
		}
		report, on, peak, span := r.report, r.on, r.peak, r.span
		childrenFirst(t, on)
		t.Logf("7 flows switched in %v, %d in flight at most", span, peak)
		if peak != 1 || span < 7*latency {
			t.Errorf("serial run: %d in flight at most, took %v; want 1 and at least 7×%v", peak, span, latency)
		}
		var want []string
		for _, r := range report {
			want = append(want, r.ID)
		}
		if !slices.Equal(on, want) {
			t.Errorf("turned on %v, want the serial order %v", on, want)
		}
		if got := reportOf(report); !slices.Equal(got, concurrentReport) {
			t.Errorf("serial report %q, concurrent report %q: want the same", got, concurrentReport)
		}
	})

	// Distinct sort orders (the parent's first): one at a time, in the
	// serial order, even at concurrency 8.
	t.Run("distinct sort orders, concurrency 8", func(t *testing.T) {
		r := activate(t, vars, 8)
		if r.err != nil {
			t.Fatal(r.err)
		}
		report, on, peak := r.report, r.on, r.peak
		childrenFirst(t, on)
		var want []string
		for _, r := range report {
			want = append(want, r.ID)
		}
		if peak != 1 || !slices.Equal(on, want) {
			t.Errorf("%d in flight at most, turned on %v; want 1 and the serial order %v", peak, on, want)
		}
	})

	// A child configured to stay off: the parent fails in pass 1, is tried
	// again in pass 2 (the other flows changed), then the step fails.
	t.Run("failed flow retried in the next pass", func(t *testing.T) {
		childOff := maps.Clone(unordered)
		child, _ := sol.Flow(parent.ChildFlows[0])
		childOff["activateflow.activate."+child.Name+"."+child.ID] = "false"
		r := activate(t, childOff, 8)
		err, report, calls := r.err, r.report, r.calls
		if err == nil || !strings.Contains(err.Error(), "1 flow(s) could not be switched") || !strings.Contains(err.Error(), parent.Name) {
			t.Fatalf("err = %v, want the parent %q reported", err, parent.Name)
		}
		tries := 0
		for _, c := range calls {
			if c.id == parentFlow {
				tries++
			}
		}
		if tries != 2 {
			t.Errorf("parent switched %d times, want 2 (passes 1 and 2)", tries)
		}
		for _, r := range report {
			switch {
			case r.ID == parentFlow && r.Err == nil:
				t.Errorf("report %s, want the parent failing", r)
			case r.ID == child.ID && (r.On || r.Passes != 0):
				t.Errorf("report %s, want the child already off", r)
			case r.ID != parentFlow && r.ID != child.ID && (r.Err != nil || r.Passes != 1):
				t.Errorf("report %s, want on in pass 1", r)
			}
		}
	})
}

func ids(flows []solution.Flow) []string {
	var out []string
	for _, f := range flows {
		out = append(out, f.ID)
	}
	return out
}

// BenchmarkActivateFlowsFabrikam switches fabrikam's seven flows on, with
// 30 ms of emulated latency per request, serial against concurrent, with no
// sortOrder (two levels: six flows, then the parent) and with fabrikam's
// distinct sort orders (one flow at a time whatever the concurrency). It
// reports the HTTP requests of one activate-flows run.
func BenchmarkActivateFlowsFabrikam(b *testing.B) {
	ctx := context.Background()
	a := newActivationEnv(b, ctx, 30*time.Millisecond)
	for _, bc := range []struct {
		name string
		vars map[string]string
		conc int
	}{
		{"no-sort-order/serial", a.unordered(), 1}, {"no-sort-order/concurrent", a.unordered(), 8},
		{"distinct-sort-orders/serial", a.vars, 1}, {"distinct-sort-orders/concurrent", a.vars, 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var requests int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				a.switchOff(b, ctx)
				from := a.dv.Requests()
				b.StartTimer()
				if r := a.activate(b, ctx, bc.vars, bc.conc); r.err != nil {
					b.Fatal(r.err)
				}
				requests += a.dv.Requests() - from
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
		})
	}
}

// The service's child-flow codes decide the hint: a child never turned on
// is fixed by ordering (another pass may succeed), a child that takes its
// connections from the run-only user is not fixed by any retry.
func TestActivationHintChildFlowCodes(t *testing.T) {
	c := &Context{}
	wrap := func(code string) error {
		return fmt.Errorf(`turn on flow x: Flow client error returned with status code "BadRequest" and details "{\"error\":{\"code\":\"%s\",\"message\":\"...\"}}". Code: 0x80060467`, code)
	}
	var perm *permanentError
	never := activationHint(wrap("ChildFlowNeverPublished"), c)
	if !strings.Contains(never.Error(), "turn the child on first") || errors.As(never, &perm) {
		t.Errorf("ChildFlowNeverPublished: %v", never)
	}
	inv := activationHint(wrap("ChildFlowUnsupportedForInvokerConnections"), c)
	if !strings.Contains(inv.Error(), "embedded connections only") || !strings.Contains(inv.Error(), "retrying does not help") || !errors.As(inv, &perm) {
		t.Errorf("ChildFlowUnsupportedForInvokerConnections: %v", inv)
	}
	// Wrapped in MultipleErrorsOccurred, the inner code still decides.
	multi := fmt.Errorf("MultipleErrorsOccurred: %w", wrap("ChildFlowUnsupportedForInvokerConnections"))
	if !errors.As(activationHint(multi, c), &perm) {
		t.Errorf("wrapped invoker error is retried")
	}
}
