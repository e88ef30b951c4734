package dataverse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every call has a deadline suited to it and the server's waits are capped
// (issue 11, item 5).

// hungServer accepts connections on loopback and never answers them.
func hungServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c) // held open, never read, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String(), &accepted
}

func TestHungServerFailsAtTheDeadlineNamingTheHost(t *testing.T) {
	base, accepted := hungServer(t)
	c, _ := newTestClient(t, base+"/dev", WithDeadlines(Deadlines{Quick: 200 * time.Millisecond, Default: 400 * time.Millisecond, Upload: 300 * time.Millisecond}))
	host := strings.TrimPrefix(base, "http://")
	// Without deadlines these calls hang for as long as one waits; the
	// context only keeps a broken client from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := time.Now()
	_, err := c.WhoAmI(ctx)
	took := time.Since(start)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("WhoAmI against a silent server: err = %v after %v, want it to fail at its deadline", err, took)
	}
	for _, want := range []string{"no answer from " + host, "within 200ms", "2 attempt(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %q", err, want)
		}
	}
	if took > 2*time.Second || accepted.Load() != 2 {
		t.Errorf("WhoAmI gave up after %v and %d connections; want two attempts of 200ms", took, accepted.Load())
	}

	// An ordinary read has the longer default deadline.
	start = time.Now()
	_, err = c.GetSolution(ctx, "Contoso")
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "within 400ms") {
		t.Errorf("GetSolution: err = %v after %v, want it to fail at 2×400ms", err, time.Since(start))
	}
	// A non-idempotent submission is not repeated after a deadline: its
	// outcome is unknown, so the caller reconciles instead.
	before := accepted.Load()
	_, err = c.postJSON(ctx, c.api("ImportSolutionAsync"), false, map[string]any{}, nil)
	if !uncertain(err) || accepted.Load()-before != 1 {
		t.Errorf("import submission: err = %v after %d attempts, want one attempt and an uncertain outcome", err, accepted.Load()-before)
	}
}

func TestDeadlinesSuitTheCall(t *testing.T) {
	d := DefaultDeadlines
	if !(d.Quick <= time.Minute && d.Quick < d.Default && d.Default <= 5*time.Minute && d.Default < d.Long) {
		t.Errorf("default deadlines %+v: want whoami quick, rows in minutes, the synchronous export longest", d)
	}
	c, _ := newTestClient(t, "https://contoso.crm.dynamics.com")
	// The emulator serves Power Apps and Graph on its own host.
	emu, _ := newTestClient(t, "http://127.0.0.1:8080/dev", WithPowerAppsURL("http://127.0.0.1:8080/powerapps"), WithGraphURL("http://127.0.0.1:8080/graph"))
	for path, want := range map[string]time.Duration{"/graph/v1.0/groups/x": d.Quick, "/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/e/connections": d.Default,
		"/dev/api/data/v9.2/WhoAmI": d.Quick, "/dev/api/data/v9.2/ExportSolution": d.Long} {
		if got := emu.attemptTimeout(&url.URL{Scheme: "http", Host: "127.0.0.1:8080", Path: path}, 0); got != want {
			t.Errorf("deadline of %s on the emulator = %v, want %v", path, got, want)
		}
	}
	for _, tc := range []struct {
		url  string
		size int
		want time.Duration
	}{
		{"https://contoso.crm.dynamics.com/api/data/v9.2/WhoAmI", 0, d.Quick},
		{"https://contoso.crm.dynamics.com/api/data/v9.2/RetrieveCurrentOrganization(AccessType=Microsoft.Dynamics.CRM.EndpointAccessType'Default')", 0, d.Quick},
		{"https://graph.microsoft.com/v1.0/groups/x", 0, d.Quick},
		{"https://contoso.crm.dynamics.com/api/data/v9.2/solutions?$filter=x", 0, d.Default},
		{"https://api.powerapps.com/providers/Microsoft.PowerApps/scopes/admin/environments/e/connections", 0, d.Default},
		{"https://contoso.crm.dynamics.com/api/data/v9.2/ExportSolution", 100, d.Long},
		{"https://contoso.crm.dynamics.com/api/data/v9.2/PublishAllXml", 2, d.Long},
		{"https://contoso.crm.dynamics.com/api/data/v9.2/ImportSolutionAsync", 40 << 20, d.Upload + 40*d.UploadPerMB},
	} {
		u, _ := url.Parse(tc.url)
		if got := c.attemptTimeout(u, tc.size); got != tc.want {
			t.Errorf("deadline of %s (%d bytes) = %v, want %v", tc.url, tc.size, got, tc.want)
		}
	}
}

func TestHugeRetryAfterFailsAtOnceNamingTheWait(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if strings.HasSuffix(r.URL.Path, "/date") {
			w.Header().Set("Retry-After", time.Now().Add(48*time.Hour).UTC().Format(http.TimeFormat))
			dvError(w, 503, "", "Service Unavailable")
			return
		}
		w.Header().Set("Retry-After", "86400")
		dvError(w, 429, "0x80072322", "Number of requests exceeded the limit")
	}))
	defer srv.Close()
	var logged []string
	c, sl := newTestClient(t, srv.URL, WithLogger(func(f string, a ...any) { logged = append(logged, f) }))
	host := strings.TrimPrefix(srv.URL, "http://")
	_, err := c.WhoAmI(context.Background())
	for _, want := range []string{host + " asked to wait 24h0m0s", "longer than the 5m0s ppalm waits", "nothing was retried"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to say %q", err, want)
		}
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 {
		t.Errorf("err = %v, want the 429 APIError inside", err)
	}
	if calls.Load() != 1 || len(sl.all()) != 0 || len(logged) != 0 {
		t.Errorf("%d requests, waits %v and log %q for a 24h Retry-After; want one request and no wait", calls.Load(), sl.all(), logged)
	}
	err = c.getJSON(context.Background(), srv.URL+"/api/data/v9.2/date", &struct{}{})
	if err == nil || !strings.Contains(err.Error(), "asked to wait 4") || calls.Load() != 2 {
		t.Errorf("Retry-After as an HTTP date two days off: err = %v after %d requests", err, calls.Load())
	}
}

func TestRetryAfterWaitsAreLogged(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			dvError(w, 429, "0x80072322", "Number of requests exceeded the limit")
			return
		}
		writeJSON(w, 200, map[string]any{"UserId": "u1"})
	}))
	defer srv.Close()
	var mu sync.Mutex
	var logged []string
	c, sl := newTestClient(t, srv.URL, WithLogger(func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(f, a...))
	}))
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := sl.all(); len(w) != 1 || w[0] != 7*time.Second {
		t.Errorf("waits %v, want the server's 7s", w)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "HTTP 429; waiting 7s (Retry-After) before retry 1") || !strings.Contains(logged[0], "/api/data/v9.2/WhoAmI") {
		t.Errorf("log %q, want the wait, its reason and the call", logged)
	}
}
