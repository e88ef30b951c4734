package dataverse_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
)

type callerKey struct{}

// onBehalfOf stands in for team mode's credential: it hands out the token
// of whoever the context names (the emulator takes a user's object id as
// their token) and counts how often it is asked.
type onBehalfOf struct{ asked atomic.Int64 }

func (c *onBehalfOf) Caller(ctx context.Context) (string, error) {
	if who, ok := ctx.Value(callerKey{}).(string); ok {
		return who, nil
	}
	return "", errors.New("no signed-in maker on this request")
}

func (c *onBehalfOf) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.asked.Add(1)
	who, err := c.Caller(ctx)
	return azcore.AccessToken{Token: who, ExpiresOn: time.Now().Add(time.Hour)}, err
}

// TestPerCallerTokens: one client serves two makers in turn, each call as
// its own maker, with one token request per maker; a context naming nobody
// gets no token at all.
func TestPerCallerTokens(t *testing.T) {
	_, base, _ := makerRig(t, emulator.Options{})
	cred := &onBehalfOf{}
	c, err := dataverse.New(base+"/dev", dataverse.WithCredential(cred), dataverse.WithGraphURL(base+"/graph"), dataverse.WithPowerAppsURL(base+"/powerapps"))
	if err != nil {
		t.Fatal(err)
	}
	as := func(u emulator.User) context.Context {
		return context.WithValue(context.Background(), callerKey{}, u.ObjectID)
	}
	for range 3 {
		for _, u := range []emulator.User{emulator.Maker, emulator.Admin} {
			who, err := c.WhoAmI(as(u))
			if err != nil || who.UserID != u.SystemUserID("dev") {
				t.Fatalf("as %s: %+v, %v", u.Name, who, err)
			}
		}
	}
	if n := cred.asked.Load(); n != 2 {
		t.Errorf("%d token requests for two makers", n)
	}
	if _, err := c.WhoAmI(context.Background()); err == nil {
		t.Fatal("a call naming no maker went out")
	}

	// Graph's groups of the signed-in maker, for the groups overage.
	gs, err := c.MemberGroups(as(emulator.Maker))
	if err != nil || len(gs) != 1 || gs[0] != emulator.Groups[1].ID {
		t.Fatalf("Alex's groups: %v, %v", gs, err)
	}
	if gs, err := c.MemberGroups(as(emulator.NoAccess)); err != nil || len(gs) != 0 {
		t.Fatalf("Nico's groups: %v, %v", gs, err)
	}
	spn, _ := dataverse.New(base+"/dev", dataverse.WithGraphURL(base+"/graph"))
	if _, err := spn.MemberGroups(context.Background()); dataverse.StatusCode(err) != 400 {
		t.Fatalf("/me as an application: %v", err)
	}
}
