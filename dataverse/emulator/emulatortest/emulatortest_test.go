package emulatortest_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
)

// TestClientReachesEveryService: the client talks to the named
// environment, and to the emulator's Power Apps and Graph, not the real
// services.
func TestClientReachesEveryService(t *testing.T) {
	ctx := context.Background()
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev", "test"}})
	dv := srv.Client(t, "test")
	got, err := dv.EnvironmentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := srv.Emulator.EnvironmentID("test"); got != want {
		t.Errorf("environment id %q, want test's %q (dev's is another)", got, want)
	}
	conns, err := dv.ListConnections(ctx, got)
	if err != nil || len(conns) == 0 {
		t.Errorf("Power Apps connections in test: %d, %v", len(conns), err)
	}
	g, err := dv.GraphGroup(ctx, emulator.Groups[0].ID)
	if err != nil || g.DisplayName != emulator.Groups[0].DisplayName {
		t.Errorf("Graph group %s: %+v, %v", emulator.Groups[0].ID, g, err)
	}
}

// TestClientNeverSleeps: a 429 with a five-minute Retry-After is retried
// at once, so the client gives up with the 429 well within the deadline
// instead of waiting.
func TestClientNeverSleeps(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{RequestBudget: 1, BudgetWindow: 5 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dv := srv.Client(t, "dev", dataverse.WithMaxRetries(2))
	if _, err := dv.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := dv.WhoAmI(ctx)
	var apiErr *dataverse.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.RetryAfter < time.Minute {
		t.Fatalf("WhoAmI past the budget: %v, want a 429 with a Retry-After of minutes", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the retries took %s: the client slept", d)
	}
}

// TestServerClosesWithTheTest: the server lives as long as the test that
// started it.
func TestServerClosesWithTheTest(t *testing.T) {
	var srv *emulatortest.Server
	t.Run("inner", func(t *testing.T) {
		srv = emulatortest.Start(t, emulator.Options{})
		if srv.EnvURL("dev") != srv.URL+"/dev" {
			t.Errorf("EnvURL(dev) = %q", srv.EnvURL("dev"))
		}
		if _, err := srv.Client(t, "dev").WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	resp, err := http.Get(srv.URL + "/_emulator/environments")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the server still answers (%s) after its test ended", resp.Status)
	}
}

// TestStartRefusesBadOptions: a bad option fails the test that asked.
func TestStartRefusesBadOptions(t *testing.T) {
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		emulatortest.Start(ft, emulator.Options{Environments: []string{"dev/x"}})
	}()
	<-done
	if !ft.failed {
		t.Fatal("Start accepted the environment name dev/x")
	}
}

// fatalRecorder records Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	runtime.Goexit()
}
