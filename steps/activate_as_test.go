package steps

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/internal/guid"
)

// --activate-as connection-owner keeps the Accelerator's old impersonation
// as an opt-in; the service refuses it, and the report says what to do
// instead, once per flow rather than pass after pass.
func TestActivateAsConnectionOwnerIsRefusedByTheService(t *testing.T) {
	ctx := context.Background()
	a := newActivationEnv(t, ctx, 0)
	a.switchOff(t, ctx)
	ds, cds := a.load(t, a.unordered())
	c := deployContext(a.dv, "")
	c.SolutionName, c.Deployment, c.Custom, c.ActivateAs = a.sol.UniqueName, ds, cds, ActivateAsConnectionOwner
	err := ActivateFlows{}.Run(ctx, c)
	if err == nil || !strings.Contains(err.Error(), "drop --activate-as connection-owner") || !strings.Contains(err.Error(), "ImpersonatedActivationNotSupported") {
		t.Fatalf("err = %v, want the service's refusal and what to do", err)
	}
	impersonated := 0
	for _, r := range c.Flows {
		if r.As != "" {
			impersonated++
			// Named, not given as an object id: the connections' creator
			// is looked up in the target.
			if guid.Valid(r.As) {
				t.Errorf("%s: impersonated user given as an object id %q", r.Name, r.As)
			}
			var perm *permanentError
			if !errors.As(r.Err, &perm) || r.Passes != 0 {
				t.Errorf("%s: want a refusal another pass cannot fix", r)
			}
		}
	}
	if impersonated == 0 {
		t.Error("no flow was tried as its connections' owner")
	}
	if _, err := ParseActivateAs("someone-else"); err == nil {
		t.Error("--activate-as someone-else accepted")
	}
}
