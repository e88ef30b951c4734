package dataverse_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
)

// A port nobody listens on is a wrong URL, not a passing fault: the client
// says so at once instead of retrying for minutes, and names the URL once,
// without its query.
func TestUnreachableEnvironmentFailsAtOnceAndSaysCheckTheURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var waits int
	c, err := dataverse.New("http://"+addr+"/x", dataverse.WithSleep(func(ctx context.Context, _ time.Duration) error { waits++; return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListSolutions(context.Background())
	if err == nil {
		t.Fatal("listing solutions of a closed port succeeded")
	}
	msg := err.Error()
	if waits != 0 || !strings.Contains(msg, "check the URL") || strings.Contains(msg, "$select") || strings.Count(msg, addr+"/x/api") != 1 {
		t.Errorf("after %d waits: %s", waits, msg)
	}
}

// auto falls back to the Azure CLI; without it the error lists what to set.
func TestAutoAuthWithoutAzureCLISaysWhatToSet(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := dataverse.NewCredential(dataverse.CredentialOptions{TenantID: "t"})
	if err == nil {
		t.Fatal("auto auth without az and without a secret built a credential")
	}
	for _, want := range []string{"--client-id", "--client-secret", "AZURE_CLIENT_SECRET", "az is not on PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %s", err, want)
		}
	}
	// An explicit --auth azure-cli is left to the CLI's own error.
	if _, err := dataverse.NewCredential(dataverse.CredentialOptions{Auth: dataverse.AuthAzureCLI}); err != nil {
		t.Errorf("--auth azure-cli: %v", err)
	}
}

// Interrupting the wait (Ctrl-C, or --wait running out) does not stop the
// import on the server; the error says so and names the job to watch.
func TestInterruptedImportSaysTheImportGoesOn(t *testing.T) {
	srv := newRig(t, emulator.Options{AsyncPolls: 1 << 20})
	dv := srv.Client(t, "test")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := dv.ImportSolution(ctx, dataverse.ImportRequest{
		Zip:      readFile(t, followSitesZip),
		Progress: func(dataverse.ImportProgress) { cancel() },
	})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a cancelled wait", err)
	}
	for _, want := range []string{"the import goes on in " + srv.EnvURL("test"), "async operation ", "before importing again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
}
