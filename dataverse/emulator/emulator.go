package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// Options configures an Emulator.
type Options struct {
	// Environments are the environment names, e.g. dev, test, prod. Each is
	// served at /NAME. Empty means one environment named "dev".
	Environments []string
	// Seeds maps an environment name to solution zip paths imported at start.
	Seeds map[string][]string
	// SeedZips is Seeds from memory (the demo embeds its zip).
	SeedZips map[string][][]byte
	// Faults injects failures: "429=0.2,503=0.05,reset=0.02,latency=30ms,seed=7",
	// also jobfail=P (a system job fails before it starts) and
	// share-delay=D (a canvas app share shows in its permissions only D
	// after it was made).
	Faults string
	// FaultScript injects faults at known requests, on top of Faults.
	FaultScript []ScriptedFault
	// JobTime is how long a submitted system job stays queued when nobody
	// polls it, and then how long it runs. 0 means 2 s. A poll of the
	// asyncoperations row starts a queued job at once.
	JobTime time.Duration
	// AsyncPolls is how many polls (GET of the asyncoperations or importjobs
	// row) see an async operation still queued or running before it
	// completes. 0 means 2; negative means operations complete at once.
	AsyncPolls int
	// RequestBudget is the service-protection budget: requests per user per
	// BudgetWindow before 429. 0 means 6000.
	RequestBudget int
	// BudgetWindow is the service-protection window. 0 means 300 s.
	BudgetWindow time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NotManagementApp makes the Power Apps admin routes answer 403 for
	// ServicePrincipal, as when the app is not registered as a Power
	// Platform management application.
	NotManagementApp bool
	// GraphForbidden makes every Graph call answer 403
	// Authorization_RequestDenied, as when the credential lacks
	// User.Read.All / Group.Read.All on the directory.
	GraphForbidden bool
	// PowerAppsPageSize is the number of items per page of the Power Apps
	// admin lists (connections, apps), which page ARM-style with nextLink.
	// 0 means 250; tests set it small to prove a client follows the pages.
	PowerAppsPageSize int
}

// Emulator is an in-memory Dataverse, Power Apps and Graph service.
type Emulator struct {
	mu       sync.Mutex
	opts     Options
	now      func() time.Time
	polls    int
	envs     map[string]*environment
	names    []string
	faults   faultSpec
	stats    Stats
	budgets  map[string]*budget
	seen     map[string]int // requests per route, for deterministic faults
	audit    []AuditEntry
	parsed   map[uint64]*solution.Solution // readSolution's cache
	hashSeed maphash.Seed
}

// Stats are request counts by route and status, and injected faults by kind.
type Stats struct {
	Total int `json:"total"`
	// Requests maps a route ("GET /{env}/api/data/v9.2/workflows({id})") to
	// counts by HTTP status; status 0 counts dropped connections.
	Requests map[string]map[int]int `json:"requests"`
	// Faults counts injected faults by kind: 429, 503, reset-before,
	// reset-after, jobfail, share-delay, latency; "budget" counts
	// service-protection 429s.
	Faults map[string]int `json:"faults"`
}

// AuditEntry records a change and who made it. CallerObjectID is the
// effective user (the impersonated one when CallerObjectId was sent);
// ImpersonatedBy is the authenticated caller in that case.
type AuditEntry struct {
	Time           time.Time `json:"time"`
	Environment    string    `json:"environment"`
	Action         string    `json:"action"` // activate-flow, deactivate-flow, assign-owner, bind-connection-reference, import-solution, ...
	ObjectID       string    `json:"objectId"`
	Detail         string    `json:"detail,omitempty"`
	CallerName     string    `json:"callerName"`
	CallerObjectID string    `json:"callerObjectId"`
	ImpersonatedBy string    `json:"impersonatedBy,omitempty"`
}

// New builds an emulator with its environments and imports the seeds.
func New(opts Options) (*Emulator, error) {
	fs, err := parseFaults(opts.Faults)
	if err != nil {
		return nil, fmt.Errorf("emulator faults %q: %w", opts.Faults, err)
	}
	for i, sf := range opts.FaultScript {
		switch {
		case sf.Nth < 1:
			return nil, fmt.Errorf("emulator fault script [%d]: Nth %d: expected 1 or more", i, sf.Nth)
		case sf.Kind == "jobfail" && !strings.HasPrefix(sf.Route, "job "):
			return nil, fmt.Errorf("emulator fault script [%d]: jobfail needs Route \"job ACTION\", not %q", i, sf.Route)
		case sf.Kind != "429" && sf.Kind != "503" && sf.Kind != "reset-before" && sf.Kind != "reset-after" && sf.Kind != "jobfail":
			return nil, fmt.Errorf("emulator fault script [%d]: kind %q: expected 429, 503, reset-before, reset-after or jobfail", i, sf.Kind)
		}
	}
	e := &Emulator{
		opts: opts, now: opts.Now, faults: fs, envs: map[string]*environment{},
		budgets: map[string]*budget{}, seen: map[string]int{}, parsed: map[uint64]*solution.Solution{}, hashSeed: maphash.MakeSeed(),
		stats: Stats{Requests: map[string]map[int]int{}, Faults: map[string]int{}},
	}
	if e.now == nil {
		e.now = time.Now
	}
	switch {
	case opts.AsyncPolls == 0:
		e.polls = 2
	case opts.AsyncPolls > 0:
		e.polls = opts.AsyncPolls
	}
	names := opts.Environments
	if len(names) == 0 {
		names = []string{"dev"}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || strings.ContainsAny(n, "/?#% ") || strings.HasPrefix(n, "_") || n == "powerapps" || n == "graph" {
			return nil, fmt.Errorf("emulator environment name %q: expected a plain name such as dev, test or prod", n)
		}
		key := strings.ToLower(n)
		if _, dup := e.envs[key]; dup {
			return nil, fmt.Errorf("emulator environment %q is listed twice", n)
		}
		e.envs[key] = newEnvironment(n, e.now())
		e.names = append(e.names, n)
	}
	// Read every seed first: the environments' connections cover every
	// connector a seeded solution uses.
	type seed struct {
		env  *environment
		name string
		data []byte
		sol  *solution.Solution
	}
	var seeds []seed
	addSeed := func(envName, label string, data []byte) error {
		env, ok := e.envs[strings.ToLower(envName)]
		if !ok {
			return fmt.Errorf("emulator seed %s: environment %q is not one of %s", label, envName, strings.Join(e.names, ", "))
		}
		sol, err := e.readSolution(data)
		if err != nil {
			return fmt.Errorf("emulator seed %s: %w", label, err)
		}
		seeds = append(seeds, seed{env, label, data, sol})
		return nil
	}
	for _, envName := range sortedMapKeys(opts.Seeds) {
		for _, p := range opts.Seeds[envName] {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("emulator seed: %w", err)
			}
			if err := addSeed(envName, p, data); err != nil {
				return nil, err
			}
		}
	}
	for _, envName := range sortedMapKeys(opts.SeedZips) {
		for i, data := range opts.SeedZips[envName] {
			if err := addSeed(envName, fmt.Sprintf("%s zip #%d", envName, i+1), data); err != nil {
				return nil, err
			}
		}
	}
	connectors := append([]string(nil), CommonConnectors...)
	for _, s := range seeds {
		for _, cr := range s.sol.ConnectionReferences {
			connectors = append(connectors, cr.ConnectorID)
		}
	}
	for _, n := range e.names {
		env := e.envs[strings.ToLower(n)]
		for _, c := range connectors {
			env.ensureConnection(c, Maker, e.now())
		}
	}
	for _, s := range seeds {
		if _, err := e.seedSolution(s.env, s.sol, s.data); err != nil {
			return nil, fmt.Errorf("emulator seed %s into %s: %w", s.name, s.env.name, err)
		}
	}
	return e, nil
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EnvironmentID returns the environment id of the named environment.
func (e *Emulator) EnvironmentID(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return env.id, true
}

// Stats returns a copy of the request and fault counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := Stats{Total: e.stats.Total, Requests: map[string]map[int]int{}, Faults: map[string]int{}}
	for route, m := range e.stats.Requests {
		c := map[int]int{}
		for k, v := range m {
			c[k] = v
		}
		out.Requests[route] = c
	}
	for k, v := range e.stats.Faults {
		out.Faults[k] = v
	}
	return out
}

// Audit returns the recorded changes in order.
func (e *Emulator) Audit() []AuditEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]AuditEntry(nil), e.audit...)
}

// Handler serves every emulated API.
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serve) }

func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		rec := &statusWriter{ResponseWriter: w}
		e.serveControl(rec, r)
		e.count(routeLabel(r.Method, r.URL.Path), rec.code())
		return
	}
	// The service's clock, as clients see it in Date: the times in rows
	// (createdon) and the Date header agree.
	w.Header().Set("Date", e.now().UTC().Format(http.TimeFormat))
	route := routeLabel(r.Method, r.URL.Path)
	fault := e.drawFault(route, r.Method)
	if e.faults.latency > 0 {
		e.countFault("latency")
		t := time.NewTimer(e.faults.latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	switch fault {
	case "429":
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		e.count(route, 429)
		return
	case "503":
		writeError(w, http.StatusServiceUnavailable, "0x80040216", "The service is temporarily unavailable. Please try again later.")
		e.count(route, 503)
		return
	case "reset-before":
		e.count(route, 0)
		dropConnection(w)
		return
	case "reset-after":
		buf := &bufferedWriter{header: http.Header{}}
		e.dispatch(buf, r)
		e.count(route, 0)
		dropConnection(w)
		return
	}
	rec := &statusWriter{ResponseWriter: w}
	e.dispatch(rec, r)
	e.count(route, rec.code())
}

func (e *Emulator) dispatch(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer"))
	if token == InvalidToken {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://login.microsoftonline.com/`+TenantID+`/oauth2/authorize`)
		writeError(w, http.StatusUnauthorized, "0x80072560", "The token is invalid or has expired.")
		return
	}
	caller := userByToken(token)
	if retry, ok := e.spend(caller); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(retry))
		writeError(w, http.StatusTooManyRequests, "0x80072322",
			fmt.Sprintf("Number of requests exceeded the limit of %d over time window of %d seconds.", e.budgetSize(), int(e.budgetWindow().Seconds())))
		e.countFault("budget")
		return
	}
	if e.serveMaker(w, r, caller) {
		return
	}
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/powerapps/"):
		e.servePowerApps(w, r, caller, strings.TrimPrefix(p, "/powerapps"))
	case strings.HasPrefix(p, "/graph/v1.0/"):
		e.serveGraph(w, r, strings.TrimPrefix(p, "/graph/v1.0"))
	default:
		e.serveWebAPI(w, r, caller)
	}
}

func (e *Emulator) count(route string, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Total++
	m := e.stats.Requests[route]
	if m == nil {
		m = map[int]int{}
		e.stats.Requests[route] = m
	}
	m[status]++
}

func (e *Emulator) countFault(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Faults[kind]++
}

func (e *Emulator) record(env *environment, action, objectID, detail string, c *caller) {
	entry := AuditEntry{Time: e.now().UTC(), Environment: env.name, Action: action, ObjectID: objectID, Detail: detail,
		CallerName: c.effective.Name, CallerObjectID: c.effective.ObjectID}
	if c.effective.ObjectID != c.authenticated.ObjectID {
		entry.ImpersonatedBy = c.authenticated.ObjectID
	}
	e.audit = append(e.audit, entry)
}

// routeLabel turns a request path into its route pattern for the stats:
// environment names, keys and ids become placeholders.
func routeLabel(method, p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(segs) > 0 && segs[0] == "_emulator":
	case len(segs) > 0 && (segs[0] == "powerapps" || segs[0] == "graph"):
		for i := 1; i < len(segs); i++ {
			switch strings.ToLower(segs[i-1]) {
			case "environments", "apps", "apis", "connections", "users", "groups", "adminapplications":
				segs[i] = "{" + strings.TrimSuffix(strings.ToLower(segs[i-1]), "s") + "}"
			}
		}
	case len(segs) > 0:
		segs[0] = "{env}"
		for i, s := range segs {
			if open := strings.IndexByte(s, '('); open >= 0 && strings.HasSuffix(s, ")") {
				arg := "{id}"
				if strings.Contains(s[open:], "=") {
					arg = "{key}"
				}
				segs[i] = s[:open] + "(" + arg + ")"
			}
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "0x80040216", "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes the Dataverse error envelope {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// apiError is an error answer carried up from the model to the handler.
type apiError struct {
	status  int
	code    string
	message string
}

func (a *apiError) Error() string { return a.message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func writeAPIError(w http.ResponseWriter, err error) {
	if a, ok := err.(*apiError); ok {
		writeError(w, a.status, a.code, a.message)
		return
	}
	writeError(w, http.StatusInternalServerError, "0x80040216", err.Error())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// bufferedWriter swallows a response whose connection is dropped after the
// work was done.
type bufferedWriter struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST, as a dropped proxy connection does
	}
	_ = conn.Close()
}
