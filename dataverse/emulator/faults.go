package emulator

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// faultSpec is a parsed --faults value.
type faultSpec struct {
	p429, p503, reset float64
	jobfail           float64
	latency           time.Duration
	shareDelay        time.Duration
	seed              int64
}

// ScriptedFault injects one fault at a known request: the Nth (from 1)
// request of Route, a route as Stats names it, such as
// "POST /{env}/api/data/v9.2/ImportSolutionAsync". Kind is 429, 503,
// reset-before or reset-after; or jobfail with Route "job ACTION" (the Nth
// system job of that action to start, e.g. "job ImportSolutionAsync").
type ScriptedFault struct {
	Route string
	Nth   int
	Kind  string
}

func parseFaults(s string) (faultSpec, error) {
	var f faultSpec
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	for _, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return f, fmt.Errorf("%q: expected key=value (429, 503, reset, jobfail, latency, share-delay, seed)", item)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		prob := func() (float64, error) {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || p < 0 || p > 1 {
				return 0, fmt.Errorf("%s=%s: expected a probability between 0 and 1", k, v)
			}
			return p, nil
		}
		var err error
		switch strings.ToLower(k) {
		case "429":
			f.p429, err = prob()
		case "503":
			f.p503, err = prob()
		case "reset":
			f.reset, err = prob()
		case "jobfail":
			f.jobfail, err = prob()
		case "latency":
			f.latency, err = time.ParseDuration(v)
			if err != nil || f.latency < 0 {
				err = fmt.Errorf("latency=%s: expected a duration such as 30ms", v)
			}
		case "share-delay":
			f.shareDelay, err = time.ParseDuration(v)
			if err != nil || f.shareDelay < 0 {
				err = fmt.Errorf("share-delay=%s: expected a duration such as 2s", v)
			}
		case "seed":
			f.seed, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				err = fmt.Errorf("seed=%s: expected an integer", v)
			}
		default:
			return f, fmt.Errorf("unknown fault %q: expected 429, 503, reset, jobfail, latency, share-delay or seed", k)
		}
		if err != nil {
			return f, err
		}
	}
	if f.p429+f.p503+f.reset > 1 {
		return f, fmt.Errorf("429+503+reset probabilities add up to more than 1")
	}
	return f, nil
}

// drawFault decides the fault for a request. The draw depends only on the
// seed, the route and how many requests that route has seen, so a client
// making the same calls in the same order per route meets the same faults,
// even when routes are called concurrently.
func (e *Emulator) drawFault(route, method string) string {
	f := e.faults
	e.mu.Lock()
	n := e.seen[route]
	e.seen[route] = n + 1
	e.mu.Unlock()
	if kind := e.scripted(route, n+1); kind != "" {
		e.countFault(kind)
		return kind
	}
	if f.p429+f.p503+f.reset == 0 {
		return ""
	}
	u, u2 := draw(f.seed, route, n)
	kind := ""
	switch {
	case u < f.p429:
		kind = "429"
	case u < f.p429+f.p503:
		kind = "503"
	case u < f.p429+f.p503+f.reset:
		kind = "reset-before"
		// A non-idempotent POST loses its answer after the work was done
		// half of the time: the client must check state, not re-send.
		if method == http.MethodPost && u2 < 0.5 {
			kind = "reset-after"
		}
	}
	if kind != "" {
		e.countFault(kind)
	}
	return kind
}

// scripted returns the scripted fault of the nth request of route, if any.
func (e *Emulator) scripted(route string, nth int) string {
	for _, s := range e.opts.FaultScript {
		if s.Route == route && s.Nth == nth {
			return s.Kind
		}
	}
	return ""
}

// jobFault decides whether the system job of action now starting fails
// before it starts (jobfail). Called with e.mu held.
func (e *Emulator) jobFault(action string) bool {
	route := "job " + action
	n := e.seen[route]
	e.seen[route] = n + 1
	kind := e.scripted(route, n+1)
	if kind == "" && e.faults.jobfail > 0 {
		if u, _ := draw(e.faults.seed, route, n); u < e.faults.jobfail {
			kind = "jobfail"
		}
	}
	if kind != "jobfail" {
		return false
	}
	e.stats.Faults["jobfail"]++
	return true
}

func draw(seed int64, route string, n int) (float64, float64) {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:8], uint64(seed))
	binary.LittleEndian.PutUint64(buf[8:], uint64(n))
	h := sha256.Sum256(append(buf[:], route...))
	a := binary.LittleEndian.Uint64(h[:8]) >> 11
	b := binary.LittleEndian.Uint64(h[8:16]) >> 11
	return float64(a) / (1 << 53), float64(b) / (1 << 53)
}

// budget is one user's service-protection window (a fixed window).
type budget struct {
	start time.Time
	used  int
}

func (e *Emulator) budgetSize() int {
	if e.opts.RequestBudget > 0 {
		return e.opts.RequestBudget
	}
	return 6000
}

func (e *Emulator) budgetWindow() time.Duration {
	if e.opts.BudgetWindow > 0 {
		return e.opts.BudgetWindow
	}
	return 300 * time.Second
}

// spend takes one request from the user's budget; when it is spent it
// returns the Retry-After seconds.
func (e *Emulator) spend(u User) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	b := e.budgets[u.ObjectID]
	if b == nil || now.Sub(b.start) >= e.budgetWindow() {
		b = &budget{start: now}
		e.budgets[u.ObjectID] = b
	}
	if b.used >= e.budgetSize() {
		left := b.start.Add(e.budgetWindow()).Sub(now)
		secs := int((left + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return secs, false
	}
	b.used++
	return 0, true
}
