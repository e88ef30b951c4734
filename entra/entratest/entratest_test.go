package entratest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
)

const (
	makerAppID = "8a7c1e52-3f44-4c59-9f2d-6b1e0c9d4a21"
	otherAppID = "1b2c3d4e-0000-4000-8000-00000000beef"
	redirect   = "https://maker.contoso.com/auth/callback"
	secret     = "maker~app~secret"
	dataverse  = "https://contoso-test.crm.dynamics.com"
)

var megan = entratest.User{ObjectID: "a3e2f1d0-1111-4000-8000-000000000001", UPN: "megan@contoso.com", Name: "Megan Bowen", Groups: []string{"g-makers"}}

func standIn(t *testing.T) *entratest.Server {
	t.Helper()
	s := entratest.New(t, entratest.Options{})
	s.AddUser(megan)
	s.AddApp(entratest.App{ClientID: makerAppID, Secret: secret, RedirectURIs: []string{redirect},
		IdentifierURIs: []string{"api://" + makerAppID}, GroupClaims: true, FederatedSubjects: []string{"mi-object-id"}})
	s.AddApp(entratest.App{ClientID: otherAppID, Secret: "other", RedirectURIs: []string{"https://other/cb"}})
	return s
}

// signIn walks the authorization code flow with PKCE as a browser and a
// web app would, and returns the token endpoint's answer.
func signIn(t *testing.T, s *entratest.Server, verifier, sentVerifier string) (*entra.TokenResponse, error) {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {makerAppID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid profile offline_access api://" + makerAppID + "/user_impersonation"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "login_hint": {megan.UPN}}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(s.AuthorizeEndpoint() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d %s", resp.StatusCode, loc)
	}
	md, err := entra.Discover(context.Background(), s.HTTPClient(), s.AuthorityHost(), s.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	return entra.RequestToken(context.Background(), s.HTTPClient(), md.TokenEndpoint, makerAppID, entra.ClientAuth{Secret: secret},
		url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {sentVerifier}})
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	s := standIn(t)
	const verifier = "v3ry-l0ng-c0de-verifier-0123456789-abcdefghijklmnopq"
	tr, err := signIn(t, s, verifier, verifier)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	md, _ := entra.Discover(ctx, s.HTTPClient(), s.AuthorityHost(), s.TenantID)
	if md.Issuer != s.Issuer() || !strings.HasPrefix(md.AuthorizationEndpoint, "http://127.0.0.1:") {
		t.Errorf("discovery = %+v", md)
	}
	v := &entra.Verifier{Keys: &entra.KeySet{URI: md.JWKSURI, HC: s.HTTPClient()}, Issuer: md.Issuer, Audiences: []string{makerAppID}, TenantID: s.TenantID}
	id, err := v.Verify(ctx, tr.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	if id.ObjectID != megan.ObjectID || id.UPN != megan.UPN || id.Nonce != "n-1" || id.TenantID != s.TenantID || strings.Join(id.Groups, ",") != "g-makers" {
		t.Errorf("ID token claims = %+v", id)
	}
	at, err := v.Verify(ctx, tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if at.AppID != makerAppID || strings.Join(at.Scopes, " ") != "user_impersonation" {
		t.Errorf("access token claims = %+v", at)
	}
	if tr.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}
	// The token for another app's audience is refused by this app.
	other := &entra.Verifier{Keys: v.Keys, Issuer: md.Issuer, Audiences: []string{otherAppID}}
	if _, err := other.Verify(ctx, tr.AccessToken); !entra.IsReason(err, entra.Audience) {
		t.Errorf("another audience: %v", err)
	}
	// An expired token is refused.
	expired := s.Issue(entratest.Token{User: megan, Audience: makerAppID, IssuedAt: time.Now().Add(-3 * time.Hour)})
	if _, err := v.Verify(ctx, expired); !entra.IsReason(err, entra.Expired) {
		t.Errorf("expired: %v", err)
	}
	// Refresh.
	rt, err := entra.RequestToken(ctx, s.HTTPClient(), md.TokenEndpoint, makerAppID, entra.ClientAuth{Secret: secret},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"openid api://" + makerAppID + "/user_impersonation offline_access"}})
	if err != nil || rt.AccessToken == "" {
		t.Errorf("refresh: %v", err)
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	s := standIn(t)
	_, err := signIn(t, s, "the-right-verifier-0123456789-0123456789-abcdef", "another-verifier-0123456789-0123456789-abcdefgh")
	if oe, ok := err.(*entra.OAuthError); !ok || oe.Code != "invalid_grant" || !strings.Contains(oe.Description, "AADSTS501481") {
		t.Errorf("wrong verifier: %v", err)
	}
	ctx := context.Background()
	md, _ := entra.Discover(ctx, s.HTTPClient(), s.AuthorityHost(), s.TenantID)
	_, err = entra.RequestToken(ctx, s.HTTPClient(), md.TokenEndpoint, makerAppID, entra.ClientAuth{Secret: "wrong"},
		url.Values{"grant_type": {"client_credentials"}, "scope": {dataverse + "/.default"}})
	if oe, ok := err.(*entra.OAuthError); !ok || oe.Status != 401 || !strings.Contains(oe.Error(), "AADSTS7000215") {
		t.Errorf("wrong secret: %v", err)
	}
	_, err = entra.RequestToken(ctx, s.HTTPClient(), md.TokenEndpoint, makerAppID, entra.ClientAuth{Secret: secret},
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}})
	if oe, ok := err.(*entra.OAuthError); !ok || oe.Code != "invalid_grant" {
		t.Errorf("unknown refresh token: %v", err)
	}
	// The authorize page refuses an unregistered redirect URI on the page.
	resp, err := http.Get(s.AuthorizeEndpoint() + "?" + url.Values{"client_id": {makerAppID}, "response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("unregistered redirect: %d", resp.StatusCode)
	}
}

func oboOptions(s *entratest.Server) *azidentity.OnBehalfOfCredentialOptions {
	return &azidentity.OnBehalfOfCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()},
			Transport: s.HTTPClient(),
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	}
}

func TestAzidentityOnBehalfOf(t *testing.T) {
	s := standIn(t)
	ctx := context.Background()
	userToken := s.Issue(entratest.Token{User: megan, Audience: makerAppID, ClientID: "spa-client", Scopes: []string{"user_impersonation"}})
	scope := policy.TokenRequestOptions{Scopes: []string{dataverse + "/.default"}}
	v := &entra.Verifier{Keys: entra.StaticKeySet(nil), Issuer: s.Issuer()}
	v.Keys = &entra.KeySet{URI: s.AuthorityHost() + s.TenantID + "/discovery/v2.0/keys", HC: s.HTTPClient()}

	check := func(name string, cred azcore.TokenCredential) {
		t.Helper()
		tok, err := cred.GetToken(ctx, scope)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v.Audiences = []string{dataverse}
		c, err := v.Verify(ctx, tok.Token)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.ObjectID != megan.ObjectID || c.UPN != megan.UPN || c.AppID != makerAppID {
			t.Errorf("%s: claims = %+v", name, c)
		}
	}
	cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(s.TenantID, makerAppID, userToken, secret, oboOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	check("secret", cred)

	// A certificate, as MSAL signs client assertions (PS256, x5t#S256).
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ppalm maker"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	s.AddApp(entratest.App{ClientID: makerAppID, RedirectURIs: []string{redirect}, IdentifierURIs: []string{"api://" + makerAppID}, Certificates: []*x509.Certificate{cert}, FederatedSubjects: []string{"mi-object-id"}})
	certCred, err := azidentity.NewOnBehalfOfCredentialWithCertificate(s.TenantID, makerAppID, userToken, []*x509.Certificate{cert}, key, oboOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	check("certificate", certCred)

	// Workload identity: a managed identity's token as the federated assertion.
	fedCred, err := azidentity.NewOnBehalfOfCredentialWithClientAssertions(s.TenantID, makerAppID, userToken,
		func(context.Context) (string, error) { return s.ManagedIdentityToken("mi-object-id"), nil }, oboOptions(s))
	if err != nil {
		t.Fatal(err)
	}
	check("federated", fedCred)
	untrusted, _ := azidentity.NewOnBehalfOfCredentialWithClientAssertions(s.TenantID, makerAppID, userToken,
		func(context.Context) (string, error) { return s.ManagedIdentityToken("someone-else"), nil }, oboOptions(s))
	if _, err := untrusted.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Errorf("untrusted federated subject: %v", err)
	}
	if n := s.Requests()["token on_behalf_of"]; n < 3 {
		t.Errorf("%d on-behalf-of requests reached the stand-in", n)
	}
}

func TestOnBehalfOfRefusesForeignAndExpiredAssertions(t *testing.T) {
	s := standIn(t)
	ctx := context.Background()
	scope := policy.TokenRequestOptions{Scopes: []string{dataverse + "/.default"}}
	foreign := s.Issue(entratest.Token{User: megan, Audience: otherAppID})
	cred, _ := azidentity.NewOnBehalfOfCredentialWithSecret(s.TenantID, makerAppID, foreign, secret, oboOptions(s))
	if _, err := cred.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "AADSTS500131") {
		t.Errorf("assertion for another audience: %v", err)
	}
	expired := s.Issue(entratest.Token{User: megan, Audience: makerAppID, IssuedAt: time.Now().Add(-2 * time.Hour)})
	cred, _ = azidentity.NewOnBehalfOfCredentialWithSecret(s.TenantID, makerAppID, expired, secret, oboOptions(s))
	if _, err := cred.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "AADSTS500133") {
		t.Errorf("expired assertion: %v", err)
	}
	forged := entratest.New(t, entratest.Options{TenantID: s.TenantID}).Issue(entratest.Token{User: megan, Audience: makerAppID})
	cred, _ = azidentity.NewOnBehalfOfCredentialWithSecret(s.TenantID, makerAppID, forged, secret, oboOptions(s))
	if _, err := cred.GetToken(ctx, scope); err == nil || !strings.Contains(err.Error(), "AADSTS50013") {
		t.Errorf("assertion signed by another key: %v", err)
	}
	// Two resources in one request.
	good := s.Issue(entratest.Token{User: megan, Audience: makerAppID})
	cred, _ = azidentity.NewOnBehalfOfCredentialWithSecret(s.TenantID, makerAppID, good, secret, oboOptions(s))
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{dataverse + "/.default", "https://graph.microsoft.com/.default"}}); err == nil || !strings.Contains(err.Error(), "AADSTS28000") {
		t.Errorf("two resources: %v", err)
	}
}
