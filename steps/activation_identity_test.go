package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/solution"
)

// asUser calls the emulator as one documented user.
type asUser string

func (u asUser) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(u)}, nil
}

// Flows are turned on as the deploying identity (issue 10, item 1): the
// service no longer turns them on for an impersonated user
// (coe-starter-kit #3306, #5772), so every connection a flow binds must be
// shared with the deployer. One that is not stops activate-flows before
// any flow is switched, naming the connection, its owner and how to share.
func TestActivateAsDeployerNeedsSharedConnections(t *testing.T) {
	ctx := context.Background()
	a := newActivationEnv(t, ctx, 0)
	emu := a.e.Emulator

	// Request Approval's first connection reference now binds a new
	// connection of Alex's that the service principal may not use.
	var flow = "Request Approval"
	f := flowNamed(t, a.sol, flow)
	ref := f.ConnectionReferences[0]
	var connector string
	for _, cr := range a.sol.ConnectionReferences {
		if strings.EqualFold(cr.LogicalName, ref) {
			connector = cr.ConnectorID
		}
	}
	unshared, err := emu.AddConnection("test", connector, emulator.Maker.Email)
	if err != nil {
		t.Fatal(err)
	}
	alex := a.e.Client(t, "test", dataverse.WithCredential(asUser(emulator.Maker.Email)))
	refs, err := alex.ListConnectionReferences(ctx, ref)
	if err != nil || len(refs) != 1 {
		t.Fatalf("connection reference %s: %v", ref, err)
	}
	if err := alex.SetConnectionReferenceConnection(ctx, refs[0].ID, unshared); err != nil {
		t.Fatal(err)
	}
	vars := a.unordered()
	vars["connectionreference."+ref] = unshared

	a.switchOff(t, ctx)
	// The preflight reads each connection's permissions once, however many
	// flows bind it.
	conns := map[string]bool{}
	for _, f := range a.sol.CloudFlows() {
		for _, ref := range f.ConnectionReferences {
			if id := vars["connectionreference."+ref]; id != "" {
				conns[strings.ToLower(id)] = true
			}
		}
	}
	if len(conns) < 2 {
		t.Fatalf("the flows bind %d connection(s); the count below needs several", len(conns))
	}
	reads := permissionReads(emu)
	r := a.activate(t, ctx, vars, 4)
	if n := permissionReads(emu) - reads; n != len(conns) {
		t.Errorf("%d connection permission reads for %d connections, want one each", n, len(conns))
	}
	for _, want := range []string{unshared, emulator.Maker.Email, "not shared with the deploying identity", emulator.ServicePrincipal.Name,
		emulator.ServicePrincipal.ApplicationID, "Share", flow, "nothing was switched"} {
		if r.err == nil || !strings.Contains(r.err.Error(), want) {
			t.Errorf("err = %v\nwant it to name %q", r.err, want)
		}
	}
	if len(r.calls) != 0 || len(r.on) != 0 {
		t.Errorf("%d flow switches sent (%d turned on) before the sharing was fixed; want none", len(r.calls), len(r.on))
	}

	// Once Alex shares it with the service principal, every flow goes on
	// as the deployer, none impersonated.
	if err := emu.ShareConnection("test", unshared, emulator.ServicePrincipal.ObjectID, "CanEdit"); err != nil {
		t.Fatal(err)
	}
	auditFrom := len(emu.Audit())
	reads = permissionReads(emu)
	r = a.activate(t, ctx, vars, 4)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := permissionReads(emu) - reads; n != len(conns) {
		t.Errorf("%d connection permission reads for %d connections, want one each", n, len(conns))
	}
	if len(r.on) != len(a.sol.CloudFlows()) {
		t.Errorf("turned on %d flows, want %d", len(r.on), len(a.sol.CloudFlows()))
	}
	for _, e := range emu.Audit()[auditFrom:] {
		if e.Action == "activate-flow" && (e.CallerObjectID != emulator.ServicePrincipal.ObjectID || e.ImpersonatedBy != "") {
			t.Errorf("flow %s turned on as %s (impersonated by %q), want the deployer", e.ObjectID, e.CallerObjectID, e.ImpersonatedBy)
		}
	}
	for _, res := range r.report {
		if res.As != "" || !strings.Contains(res.String(), "as the deploying identity") {
			t.Errorf("report %s, want it turned on as the deploying identity", res)
		}
	}
}

// permissionReads counts the connection permission lists the emulator
// has answered.
func permissionReads(emu *emulator.Emulator) int {
	n := 0
	for route, byStatus := range emu.Stats().Requests {
		if strings.HasPrefix(route, "GET ") && strings.HasSuffix(route, "/connections/{connection}/permissions") {
			for _, c := range byStatus {
				n += c
			}
		}
	}
	return n
}

func flowNamed(t *testing.T, sol *solution.Solution, name string) solution.Flow {
	t.Helper()
	for _, f := range sol.CloudFlows() {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no flow %q", name)
	return solution.Flow{}
}
