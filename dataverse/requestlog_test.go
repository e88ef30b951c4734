package dataverse_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/httplog"
)

// Under service protection limits every attempt and every wait reaches the
// request log, and the counters say how many requests were retries and how
// long the client waited: what --verbose and the end-of-run note print.
func TestRequestLogShowsThrottlingRetriesAndWaits(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}, Faults: "429=0.5,seed=3"})
	var mu sync.Mutex
	var lines []string
	dv := srv.Client(t, "test", dataverse.WithRequestLog(func(e httplog.Entry) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, e.String())
	}))
	for i := 0; i < 6; i++ {
		if _, err := dv.WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	retries, waited := dv.Retries()
	if retries == 0 || waited <= 0 {
		t.Fatalf("no retries counted (%d, %s): the faults should have throttled some of 6 calls\n%s", retries, waited, strings.Join(lines, "\n"))
	}
	var attempts, waits, throttled int
	for _, l := range lines {
		switch {
		case strings.Contains(l, ": retry ") && strings.Contains(l, "(Retry-After)"):
			waits++
		case strings.Contains(l, "GET "+srv.EnvURL("test")+"/api/data/v9.2/WhoAmI: 429"):
			throttled++
			attempts++
		case strings.Contains(l, "GET "+srv.EnvURL("test")+"/api/data/v9.2/WhoAmI: 200 OK"):
			attempts++
		}
	}
	if int64(waits) != retries || throttled != waits || attempts != int(dv.Requests()) {
		t.Errorf("%d waits, %d throttled answers, %d attempts logged; client counted %d retries, %d requests\n%s",
			waits, throttled, attempts, retries, dv.Requests(), strings.Join(lines, "\n"))
	}
}
