package entratest_test

import (
	"fmt"
	"testing"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
)

// TestGroupsOverage: up to 200 groups ride in the token; one more and the
// token says where to ask instead, with no groups claim.
func TestGroupsOverage(t *testing.T) {
	s := entratest.New(t, entratest.Options{})
	u := entratest.User{ObjectID: "a3e2f1d0-1111-4000-8000-000000000009", UPN: "many@contoso.com"}
	for i := range entratest.MaxGroupClaims {
		u.Groups = append(u.Groups, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
	}
	c, err := entra.ParseUnverified(s.Issue(entratest.Token{User: u, Audience: "x", Groups: true}))
	if err != nil || c.GroupsOverage || len(c.Groups) != entratest.MaxGroupClaims {
		t.Fatalf("200 groups: overage %v, %d groups, %v", c.GroupsOverage, len(c.Groups), err)
	}
	u.Groups = append(u.Groups, "ffffffff-0000-4000-8000-000000000000")
	c, err = entra.ParseUnverified(s.Issue(entratest.Token{User: u, Audience: "x", Groups: true}))
	if err != nil || !c.GroupsOverage || len(c.Groups) != 0 {
		t.Fatalf("201 groups: overage %v, %d groups, %v", c.GroupsOverage, len(c.Groups), err)
	}
}
