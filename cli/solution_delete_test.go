package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

// TestSolutionDelete deletes the unmanaged PL400Demos from a development
// environment, with and without its components, and checks what the
// environment holds afterwards.
func TestSolutionDelete(t *testing.T) {
	zipPath := fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")
	sol, err := solution.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	const (
		flowID      = "cc724662-8525-ee11-9cbd-00224823910f"
		connectorID = "bedc080f-9be1-4f80-9f35-c630109a6b89"
		endpoint    = "trickqueue pl400demosajs202307"
	)
	var emu *emulator.Emulator
	setup := func(t *testing.T) (*dataverse.Client, func(args ...string) (int, string)) {
		srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, AsyncPolls: -1,
			Seeds: map[string][]string{"dev": {zipPath}}})
		emu = srv.Emulator
		return srv.Client(t, "dev"), func(args ...string) (int, string) {
			out, errOut, code := runCLI(t, nil, append(args, "--environment", srv.EnvURL("dev"))...)
			return code, out + errOut
		}
	}
	// components reports which of the solution's components are still in
	// the environment.
	components := func(t *testing.T, dv *dataverse.Client) []string {
		ctx := context.Background()
		var left []string
		check := func(what string, err error) {
			switch {
			case err == nil:
				left = append(left, what)
			case !errors.Is(err, dataverse.ErrNotFound):
				t.Fatalf("%s: %v", what, err)
			}
		}
		_, err := dv.GetWorkflow(ctx, flowID)
		check("flow", err)
		_, err = dv.GetConnector(ctx, connectorID)
		check("connector", err)
		_, err = dv.ServiceEndpointByName(ctx, endpoint)
		check("service endpoint", err)
		return left
	}
	installed := func(t *testing.T, dv *dataverse.Client) bool {
		_, err := dv.GetSolution(context.Background(), sol.UniqueName)
		if err != nil && !errors.Is(err, dataverse.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	t.Run("container only", func(t *testing.T) {
		dv, ppalm := setup(t)
		if got := components(t, dv); len(got) != 3 {
			t.Fatalf("before: components %v, want flow, connector and service endpoint", got)
		}
		code, out := ppalm("solution", "delete", "--solution", sol.UniqueName)
		if code != 0 || !strings.Contains(out, "deleted solution PL400Demos 1.0.24.0") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if installed(t, dv) {
			t.Error("PL400Demos is still installed")
		}
		// Deleting an unmanaged solution leaves its components behind.
		if got := components(t, dv); len(got) != 3 {
			t.Errorf("after: components %v, want all three left behind", got)
		}
		code, out = ppalm("solution", "delete", "--solution", sol.UniqueName)
		if code == 0 || !strings.Contains(out, `delete solution "PL400Demos": it is not installed in`) {
			t.Errorf("second delete: exit %d\n%s", code, out)
		}
	})

	t.Run("with components", func(t *testing.T) {
		dv, ppalm := setup(t)
		keep := filepath.Join(t.TempDir(), "PL400Demos_managed.zip")
		code, out := ppalm("solution", "delete", "--solution", sol.UniqueName, "--with-components", "--keep", keep)
		if code != 0 || !strings.Contains(out, "deleted solution PL400Demos 1.0.24.0 and its components") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if installed(t, dv) {
			t.Error("PL400Demos (managed) is still installed")
		}
		if got := components(t, dv); len(got) != 0 {
			t.Errorf("components left: %v", got)
		}
		kept, err := solution.ReadFile(keep)
		if err != nil || !kept.Managed || kept.Version != sol.Version {
			t.Errorf("kept export: %+v, %v", kept, err)
		}
		// The unmanaged container goes with DELETE; the managed solution,
		// whose components go with it, with UninstallSolutionAsync and a
		// poll of its system job, never a synchronous DELETE.
		var actions []string
		for _, a := range emu.Audit() {
			if a.ObjectID == sol.UniqueName && (a.Action == "delete-solution" || a.Action == "uninstall-solution") {
				actions = append(actions, a.Action)
			}
		}
		if strings.Join(actions, ",") != "delete-solution,uninstall-solution" {
			t.Errorf("solution removals %v, want the unmanaged container deleted and the managed solution uninstalled", actions)
		}
		jobs := emu.SystemJobs("dev")
		if len(jobs) == 0 || jobs[len(jobs)-1].OperationType != dataverse.OperationUninstallSolution || jobs[len(jobs)-1].StatusCode != 30 {
			t.Errorf("system jobs %+v, want the uninstall's last, succeeded", jobs)
		}
	})
}
