package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
)

func TestConnectionList(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	id, err := srv.Emulator.AddConnection("test", "/providers/Microsoft.PowerApps/apis/shared_sql", emulator.Admin.Email)
	if err != nil {
		t.Fatal(err)
	}
	list := func(args ...string) (int, string, string) {
		base := []string{"connection", "list", "--environment", srv.EnvURL("test"), "--powerapps-url", srv.PowerAppsURL()}
		out, errOut, code := runCLI(t, nil, append(base, args...)...)
		return code, out, errOut
	}
	code, out, errOut := list("--connector", "shared_sql")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], id) || !strings.Contains(lines[1], "shared_sql") || !strings.Contains(lines[1], emulator.Admin.Email) {
		t.Fatalf("connection list --connector shared_sql:\n%s", out)
	}
	if code, out, _ := list(); code != 0 || !strings.Contains(out, "shared_office365") {
		t.Fatalf("unfiltered list (exit %d):\n%s", code, out)
	}
	if code, _, errOut := list("--connector", "shared_nothing"); code == 0 || !strings.Contains(errOut, `no connection for connector "shared_nothing"`) {
		t.Fatalf("unknown connector: exit %d, %s", code, errOut)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	f := &Factory{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	old := version
	version = "9.8.7"
	defer func() { version = old }()
	if code := run(context.Background(), f, []string{"--version"}); code != 0 || strings.TrimSpace(out.String()) != "ppalm version 9.8.7" {
		t.Fatalf("ppalm --version: exit %d, %q", code, out.String())
	}
}
