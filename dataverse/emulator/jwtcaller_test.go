package emulator

import (
	"encoding/base64"
	"testing"
)

func TestUserFromJWT(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	if u, ok := userFromJWT(jwt(`{"aud":"https://x.crm.dynamics.com","oid":"` + Maker.ObjectID + `","upn":"alex.maker@contoso.example"}`)); !ok || u.ObjectID != Maker.ObjectID {
		t.Errorf("maker's token: %+v, %v", u, ok)
	}
	for name, tok := range map[string]string{
		"unknown oid":  jwt(`{"oid":"00000000-0000-0000-0000-000000000000"}`),
		"no oid":       jwt(`{"aud":"x"}`),
		"not a JWT":    Maker.ObjectID,
		"bad payload":  "a.!!!.c",
		"JSON garbage": jwt(`[1,2]`),
	} {
		if _, ok := userFromJWT(tok); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
