// Package emulatortest starts the Dataverse emulator for tests — ppalm's own
// and those of teams testing their pipelines against it — and builds clients
// that talk to it. It is for tests only: it calls t.Fatal, and its clients
// never sleep.
//
//	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev", "test"}})
//	dv := srv.Client(t, "test")
//	// srv.EnvURL("test") is the --environment a command under test gets.
package emulatortest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/solution"
)

// Server is an emulator served over loopback for the length of one test.
type Server struct {
	// Emulator is the emulator itself: its Audit, Stats and helpers such as
	// AddConnection.
	Emulator *emulator.Emulator
	// URL is the server's base URL, http://127.0.0.1:PORT, with no slash
	// at the end.
	URL string
}

// Start builds an emulator from opts (as given: the emulator's own
// defaults apply) and serves it on loopback until the test and its
// subtests end. It fails the test if the options are refused.
func Start(t testing.TB, opts emulator.Options) *Server {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("start the Dataverse emulator: %v", err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return &Server{Emulator: emu, URL: srv.URL}
}

// EnvURL is the environment URL of the emulator environment env, as a
// pipeline's --environment or PPALM_ENVIRONMENT_URL names it.
func (s *Server) EnvURL(env string) string { return s.URL + "/" + env }

// PowerAppsURL is where the emulator serves the Power Apps admin API
// (--powerapps-url, PPALM_POWERAPPS_URL).
func (s *Server) PowerAppsURL() string { return s.URL + "/powerapps" }

// GraphURL is where the emulator serves Microsoft Graph (--graph-url,
// PPALM_GRAPH_URL).
func (s *Server) GraphURL() string { return s.URL + "/graph" }

// Client is a Dataverse client for the emulator environment env, with Power
// Apps and Graph pointed at the emulator, polling every millisecond and
// never sleeping (a Retry-After or back-off wait returns at once). opts
// come last, so a test can override any of these.
func (s *Server) Client(t testing.TB, env string, opts ...dataverse.Option) *dataverse.Client {
	t.Helper()
	base := []dataverse.Option{
		dataverse.WithPowerAppsURL(s.PowerAppsURL()),
		dataverse.WithGraphURL(s.GraphURL()),
		dataverse.WithSleep(NoSleep),
		dataverse.WithPollInterval(time.Millisecond),
	}
	c, err := dataverse.New(s.EnvURL(env), append(base, opts...)...)
	if err != nil {
		t.Fatalf("Dataverse client for emulator environment %q: %v", env, err)
	}
	return c
}

// NoSleep is a dataverse.WithSleep function that returns at once (with the
// context's error, if it is done).
func NoSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// ConnectionsFor returns, for each connection reference of sol (by logical
// name), a connection of dv's environment for the same connector: the
// ConnectionId a deployment's settings would bind it to. It fails the test
// when the environment has none for a connector.
func ConnectionsFor(t testing.TB, ctx context.Context, dv *dataverse.Client, sol *solution.Solution) map[string]dataverse.Connection {
	t.Helper()
	envID, err := dv.EnvironmentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := dv.ListConnections(ctx, envID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dataverse.Connection{}
	for _, ref := range sol.ConnectionReferences {
		for _, c := range conns {
			if strings.EqualFold(c.ConnectorID, ref.ConnectorID) {
				out[ref.LogicalName] = c
				break
			}
		}
		if _, ok := out[ref.LogicalName]; !ok {
			t.Fatalf("%s has no connection for %s (connection reference %s)", dv.EnvironmentURL(), ref.ConnectorID, ref.LogicalName)
		}
	}
	return out
}
