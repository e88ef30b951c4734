package entra_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
)

func TestVerifierRefusals(t *testing.T) {
	s := entratest.New(t, entratest.Options{})
	u := entratest.User{ObjectID: "o1", UPN: "a@contoso.com"}
	ctx := context.Background()
	md, err := entra.Discover(ctx, s.HTTPClient(), s.AuthorityHost(), s.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	v := &entra.Verifier{Keys: &entra.KeySet{URI: md.JWKSURI, HC: s.HTTPClient()}, Issuer: md.Issuer, Audiences: []string{"app"}, TenantID: s.TenantID}
	good := s.Issue(entratest.Token{User: u, Audience: "app"})
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"app","iss":"`+md.Issuer+`","exp":9999999999,"oid":"admin"}`)) + "." + parts[2]
	cases := []struct {
		name  string
		token string
		want  entra.Reason
	}{
		{"alg none", none, entra.Signature},
		{"tampered claims", tampered, entra.Signature},
		{"not a JWT", "abc.def", entra.Malformed},
		{"another audience", s.Issue(entratest.Token{User: u, Audience: "other"}), entra.Audience},
		{"another issuer", s.Issue(entratest.Token{User: u, Audience: "app", Issuer: "https://login.microsoftonline.com/evil/v2.0"}), entra.Issuer},
		{"expired beyond the skew", s.Issue(entratest.Token{User: u, Audience: "app", IssuedAt: time.Now().Add(-66 * time.Minute)}), entra.Expired},
		{"not yet valid", s.Issue(entratest.Token{User: u, Audience: "app", IssuedAt: time.Now().Add(10 * time.Minute)}), entra.NotYet},
		{"another tenant's key", entratest.New(t, entratest.Options{TenantID: s.TenantID}).Issue(entratest.Token{User: u, Audience: "app"}), entra.Signature},
	}
	for _, tc := range cases {
		if _, err := v.Verify(ctx, tc.token); !entra.IsReason(err, tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	// Five minutes of skew are allowed.
	if _, err := v.Verify(ctx, s.Issue(entratest.Token{User: u, Audience: "app", IssuedAt: time.Now().Add(-62 * time.Minute)})); err != nil {
		t.Errorf("within the skew: %v", err)
	}
	// The key set was fetched once, then the unknown kid was not allowed
	// to trigger a fetch storm.
	if n := s.Requests()["keys"]; n != 1 {
		t.Errorf("keys fetched %d times", n)
	}
}
