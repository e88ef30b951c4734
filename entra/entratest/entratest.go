// Package entratest is a stand-in for one Microsoft Entra ID tenant, served
// on loopback, for tests and for `ppalm maker --demo` in team mode: sign-in
// works without a tenant, and every token it issues is a real signed JWT
// that ppalm verifies exactly as it verifies Entra's.
//
// It is its own package, not part of the Dataverse emulator, because Entra
// is another service on another host (the authority host), reached by
// different clients: azidentity/MSAL insist on an https authority, the
// browser follows redirects to the authorize page, and team mode's tests
// need it without Dataverse. The emulator, which accepts any bearer token,
// does not need it.
//
// # Two listeners
//
// The authority (discovery, signing keys, token endpoint) is served over
// TLS, because MSAL refuses an authority that is not https ("authority url
// scheme must be https", microsoft-authentication-library-for-go
// authority.go); HTTPClient trusts its certificate. The browser-facing
// pages (authorize, logout) are served over plain http on loopback, so a
// browser in the demo meets no certificate warning; the discovery document
// points at them. Both belong to one tenant and one key set.
//
// # What it models (Microsoft identity platform v2.0 endpoints)
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration; the issuer is
//     https://HOST/{tenant}/v2.0, same scheme and host as the authority, as
//     MSAL checks (ValidateIssuerMatchesAuthority).
//   - GET /{tenant}/discovery/v2.0/keys: the RSA key tokens are signed with
//     (RS256, kid).
//   - GET /common/discovery/instance: MSAL's instance discovery.
//   - GET /{tenant}/oauth2/v2.0/authorize (authorization code flow): an
//     unknown client_id is AADSTS700016, a redirect_uri the app did not
//     register AADSTS50011, both shown on the page, never redirected;
//     response_type must be code; PKCE code_challenge (S256 or plain) is
//     kept with the code. login_hint names the user; without one a page
//     lists the users to pick (the demo's "sign in as"). A loopback
//     redirect URI (localhost, 127.0.0.1, [::1]) matches a registered one
//     whatever its port: "Due to ephemeral port ranges often required by
//     native applications, the port component … is ignored for the
//     purposes of matching a redirect URI" (Microsoft identity platform,
//     "Redirect URI (reply URL) best practices and limitations",
//     Localhost exceptions; RFC 8252 §7.3), so MSAL's interactive sign-in,
//     which listens on http://localhost:{any port}, matches an app that
//     registered http://localhost. response_mode=form_post (which MSAL
//     Go's AcquireTokenInteractive sends; its loopback server takes only
//     a POST) answers with Entra's self-posting "Working..." form instead
//     of a 302.
//   - Public clients. A redirect URI of the "Mobile and desktop
//     applications" platform (App.NativeRedirectURIs) makes the code
//     redeemable without a client secret, and its refresh tokens too; an
//     app with only Web redirect URIs is a confidential client and gets
//     AADSTS7000218 without one (Azure/azure-sdk-for-go#22386: "Entra
//     considers applications having only a "web" redirect URI to be
//     confidential clients"; Azure/azure-sdk-for-js#21395). A public
//     client's request that carries a secret anyway is AADSTS700025
//     "Client is public so neither 'client_assertion' nor 'client_secret'
//     should be presented." (canonical/authd#1881).
//   - The device authorization grant ("Microsoft identity platform and the
//     OAuth 2.0 device authorization grant flow", RFC 8628): POST
//     /{tenant}/oauth2/v2.0/devicecode (client_id, scope) answers
//     user_code, device_code, verification_uri, expires_in 900, interval 5
//     and Entra's message "To sign in, use a web browser to open the page
//     … and enter the code … to authenticate."; the verification page is
//     GET/POST /devicelogin on the browser listener (DeviceLoginURL), where
//     the person types the code and picks the account. The token endpoint
//     takes grant_type urn:ietf:params:oauth:grant-type:device_code (or
//     MSAL's device_code) only for an app that allows public client flows
//     (App.PublicClient; else AADSTS7000218, as
//     Azure-Samples/active-directory-dotnetcore-devicecodeflow-v2#9 met)
//     and answers authorization_pending (AADSTS70016 "The provided request
//     has not yet been authorized by the user. The user must input their
//     code.", as quoted on Microsoft Q&A 981553) until the code is entered,
//     expired_token after fifteen minutes, bad_verification_code for a code
//     it does not know or one already redeemed (that wording is the
//     stand-in's own).
//   - POST /{tenant}/oauth2/v2.0/token with grant_type
//     authorization_code (one use, ten minutes, same client and
//     redirect_uri, and code_verifier must match: AADSTS501481 "The
//     Code_Verifier does not match the code_challenge supplied in the
//     authorization request."; a reused code is AADSTS54005),
//     refresh_token (offline_access), client_credentials, and the
//     on-behalf-of grant urn:ietf:params:oauth:grant-type:jwt-bearer with
//     requested_token_use=on_behalf_of: the assertion must be a token this
//     tenant signed whose audience is the calling app (its client id or one
//     of its identifier URIs), else AADSTS500131 "Assertion audience does
//     not match the Client app presenting the assertion…"; an expired one is
//     AADSTS500133 "Assertion is not within its valid time range"
//     (error_codes [70002, 500133], MicrosoftDocs/azure-docs#16399).
//   - Client authentication by client_secret (AADSTS7000215 when wrong) or
//     client_assertion: a JWT signed with a registered certificate's key
//     (x5t#S256 or x5t names it, RS256 or PS256 as MSAL signs), aud the
//     token endpoint, iss = sub = client id (AADSTS700027 when it fails), or
//     a federated credential: a token of this tenant for
//     api://AzureADTokenExchange whose subject the app trusts (a managed
//     identity, ManagedIdentityToken).
//   - One resource per request: scopes of two resources are AADSTS28000.
//     A scope's resource is the URI before its last segment (api://app/x,
//     https://org.crm.dynamics.com/.default); the access token's aud is the
//     resource app's client id when the resource is an app of this tenant
//     (v2 tokens), else the resource URI.
//   - Errors are {"error", "error_description": "AADSTSnnn: …\r\nTrace ID:
//     …\r\nCorrelation ID: …\r\nTimestamp: …", "error_codes": [nnn]}.
//
// Tokens carry aud, iss, iat, nbf, exp, tid, oid, sub, upn,
// preferred_username, name, ver 2.0, and azp/appid and scp (access tokens),
// nonce (ID tokens), groups (when the app asks for group claims; a user in
// more than 200 groups gets the overage claim _claim_names/_claim_sources
// instead, as a JWT from Entra does, "Access tokens in the Microsoft identity
// platform"). Lifetime is one hour; the clock is injectable (SetNow) so tests can expire them.
package entratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppalm/ppalm/entra"
)

// DefaultTenantID is the tenant a stand-in serves unless told otherwise.
const DefaultTenantID = "5f1b4c2e-8d3a-4e6f-9b7c-1a2b3c4d5e6f"

// User is a person of the tenant.
type User struct {
	ObjectID string
	UPN      string
	Name     string
	Groups   []string // group object ids
}

// App is an app registration of the tenant.
type App struct {
	ClientID string
	// Secret is its client secret; empty means none is accepted.
	Secret string
	// RedirectURIs are the Web platform's redirect URIs; authorize and
	// logout accept only these (a loopback URI on any port: see
	// NativeRedirectURIs).
	RedirectURIs []string
	// NativeRedirectURIs are the "Mobile and desktop applications"
	// platform's redirect URIs (publicClient.redirectUris), such as
	// http://localhost for MSAL's interactive sign-in. A code issued to
	// one is redeemed without a client secret: the app is a public client
	// there.
	NativeRedirectURIs []string
	// PublicClient is "Allow public client flows" (isFallbackPublicClient):
	// the device code flow is open to the app without a client secret.
	PublicClient bool
	// IdentifierURIs are its Application ID URIs (api://…): scopes of its
	// API and OBO assertions may name it by them.
	IdentifierURIs []string
	// Certificates sign its client assertions.
	Certificates []*x509.Certificate
	// FederatedSubjects are the subjects of this tenant's
	// api://AzureADTokenExchange tokens it accepts as client assertions.
	FederatedSubjects []string
	// GroupClaims puts the user's groups in its tokens
	// (groupMembershipClaims: SecurityGroup).
	GroupClaims bool
}

// Options configure a stand-in.
type Options struct {
	TenantID string // default DefaultTenantID
}

// Server is one tenant.
type Server struct {
	TenantID string

	authority *httptest.Server // TLS: discovery, keys, token
	web       *httptest.Server // http: authorize, logout

	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	users    []User
	apps     map[string]*App
	codes    map[string]*authCode
	refresh  map[string]*grant
	devices  map[string]*deviceCode // by device_code
	now      func() time.Time
	requests map[string]int
}

type authCode struct {
	clientID, redirectURI string
	challenge, method     string
	scopes                []string
	nonce                 string
	user                  User
	expires               time.Time
	redeemed              bool
	// public: issued to a native redirect URI, redeemed without a secret.
	public bool
}

type grant struct {
	clientID string
	scopes   []string
	user     User
	expires  time.Time
	public   bool // issued to a public client, refreshed without a secret
}

// Start runs a stand-in outside a test (ppalm maker --demo); Close stops it.
func Start(opts Options) *Server {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	s := &Server{
		TenantID: opts.TenantID, key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12]),
		apps: map[string]*App{}, codes: map[string]*authCode{}, refresh: map[string]*grant{}, devices: map[string]*deviceCode{},
		now: time.Now, requests: map[string]int{},
	}
	if s.TenantID == "" {
		s.TenantID = DefaultTenantID
	}
	s.authority = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.web = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// New starts a stand-in that stops when t ends.
func New(t testing.TB, opts Options) *Server {
	s := Start(opts)
	t.Cleanup(s.Close)
	return s
}

// Close stops both listeners.
func (s *Server) Close() {
	s.authority.Close()
	s.web.Close()
}

// AuthorityHost is what azidentity's ClientOptions.Cloud
// ActiveDirectoryAuthorityHost takes: https://127.0.0.1:PORT/.
func (s *Server) AuthorityHost() string { return s.authority.URL + "/" }

// Issuer is the iss of every token: https://127.0.0.1:PORT/{tenant}/v2.0.
func (s *Server) Issuer() string { return s.authority.URL + "/" + s.TenantID + "/v2.0" }

// TokenEndpoint is where code, refresh, OBO and client credential requests go.
func (s *Server) TokenEndpoint() string {
	return s.authority.URL + "/" + s.TenantID + "/oauth2/v2.0/token"
}

// AuthorizeEndpoint is the browser's sign-in page.
func (s *Server) AuthorizeEndpoint() string {
	return s.web.URL + "/" + s.TenantID + "/oauth2/v2.0/authorize"
}

// HTTPClient trusts the authority's certificate (azidentity's
// ClientOptions.Transport, team mode's HTTP client).
func (s *Server) HTTPClient() *http.Client { return s.authority.Client() }

// SetNow replaces the clock tokens and codes are stamped and checked with.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// AddUser adds a person to the tenant.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// AddApp registers an app.
func (s *Server) AddApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := a
	s.apps[strings.ToLower(a.ClientID)] = &c
}

// Users lists the tenant's people.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// Requests counts the requests received by route ("token
// authorization_code", "token on_behalf_of", "authorize", "keys", …).
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

func (s *Server) count(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[route]++
}

func (s *Server) user(hint string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u.UPN, hint) || strings.EqualFold(u.ObjectID, hint) {
			return u, true
		}
	}
	return User{}, false
}

func (s *Server) app(clientID string) (*App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[strings.ToLower(clientID)]
	return a, ok
}

// appByResource finds the app whose API a resource URI names.
func (s *Server) appByResource(resource string) (*App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if strings.EqualFold(a.ClientID, resource) {
			return a, true
		}
		for _, u := range a.IdentifierURIs {
			if strings.EqualFold(u, resource) {
				return a, true
			}
		}
	}
	return nil, false
}

// Keys is the tenant's key set (for tests that verify by hand).
func (s *Server) Keys() []entra.JSONWebKey {
	return []entra.JSONWebKey{entra.RSAKey(s.kid, &s.key.PublicKey)}
}

// Clock is a settable time for the stand-in (SetNow(c.Now)) and for the
// apps whose sessions and tokens it issues, so a test can move all of them
// past an expiry at once. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a Clock at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
