package dataverse_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
)

// An emulator whose Graph refuses the caller (Options.GraphForbidden): the
// client's Graph lookups wrap ErrDirectoryForbidden, keep the service's
// error, and are not mistaken for "not found"; Dataverse is unaffected.
func TestGraphForbiddenOnEmulator(t *testing.T) {
	r := newRig(t, emulator.Options{GraphForbidden: true})
	c := r.Client(t, "dev")
	ctx := context.Background()
	_, gerr := c.GraphGroup(ctx, emulator.Groups[0].ID)
	_, uerr := c.GraphUser(ctx, emulator.Maker.Email)
	for what, err := range map[string]error{"group": gerr, "user": uerr} {
		if !errors.Is(err, dataverse.ErrDirectoryForbidden) || errors.Is(err, dataverse.ErrNotFound) {
			t.Errorf("%s lookup: err = %v, want ErrDirectoryForbidden", what, err)
		}
		var apiErr *dataverse.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Code != "Authorization_RequestDenied" {
			t.Errorf("%s lookup: err = %v, want the 403 Authorization_RequestDenied APIError", what, err)
		}
	}
	if _, err := c.WhoAmI(ctx); err != nil {
		t.Errorf("Dataverse refused too: %v", err)
	}
	// The same emulator without the option answers the lookup.
	if _, err := newRig(t, emulator.Options{}).Client(t, "dev").GraphGroup(ctx, emulator.Groups[0].ID); err != nil {
		t.Errorf("Graph without GraphForbidden: %v", err)
	}
}
