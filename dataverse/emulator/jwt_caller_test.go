package emulator

import (
	"encoding/base64"
	"testing"
)

func TestUserByJWT(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	if u := userByToken(jwt(`{"aud":"https://x.crm.dynamics.com","oid":"` + Maker.ObjectID + `","upn":"alex.maker@contoso.example"}`)); u.ObjectID != Maker.ObjectID {
		t.Errorf("maker's token calls as %+v", u)
	}
	for name, tok := range map[string]string{
		"unknown oid":  jwt(`{"oid":"00000000-0000-0000-0000-000000000000"}`),
		"no oid":       jwt(`{"aud":"x"}`),
		"bad payload":  "a.!!!.c",
		"JSON garbage": jwt(`[1,2]`),
	} {
		if u := userByToken(tok); u.ObjectID != ServicePrincipal.ObjectID {
			t.Errorf("%s: calls as %s, want the service principal", name, u.Name)
		}
	}
}
