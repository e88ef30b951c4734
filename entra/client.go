package entra

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/hashicorp/go-retryablehttp"
)

// DefaultAuthorityHost is Entra ID's public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com/"

// HTTPClient wraps base (nil: a client with a 30 s timeout) in the retry
// policy of this package: reads retry 429, 5xx and network errors; token
// requests (POST) retry only 429 and 503. Retry-After is honoured.
func HTTPClient(base *http.Client, retries int) *http.Client {
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	rc := &retryablehttp.Client{
		HTTPClient:   base,
		RetryWaitMin: 500 * time.Millisecond,
		RetryWaitMax: 10 * time.Second,
		RetryMax:     retries,
		Backoff:      retryablehttp.DefaultBackoff, // honours Retry-After on 429 and 503
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if ctx.Value(tokenRequestKey{}) != nil {
				// A token request that failed in transit or with a 5xx may
				// have been run: an authorization code is good once.
				return resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable), nil
			}
			return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		},
	}
	return &http.Client{Transport: &retryablehttp.RoundTripper{Client: rc}, Timeout: base.Timeout}
}

type tokenRequestKey struct{}

// Metadata is a tenant's OpenID Connect discovery document.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
}

func getJSON(ctx context.Context, hc *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: the answer is not JSON: %w", u, err)
	}
	return nil
}

// Discover reads the tenant's discovery document from the authority host
// (DefaultAuthorityHost, or a sovereign cloud's, or a stand-in's).
func Discover(ctx context.Context, hc *http.Client, authorityHost, tenant string) (*Metadata, error) {
	u := strings.TrimRight(authorityHost, "/") + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration"
	var m Metadata
	if err := getJSON(ctx, hc, u, &m); err != nil {
		return nil, fmt.Errorf("discover tenant %s: %w", tenant, err)
	}
	if m.Issuer == "" || m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" || m.JWKSURI == "" {
		return nil, fmt.Errorf("discover tenant %s: the document at %s lacks issuer, authorization_endpoint, token_endpoint or jwks_uri", tenant, u)
	}
	return &m, nil
}

// KeySet is a tenant's signing keys, fetched on first use and again when a
// token names a key it does not hold (at most once a minute).
type KeySet struct {
	URI string
	HC  *http.Client
	Now func() time.Time

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (ks *KeySet) now() time.Time {
	if ks.Now != nil {
		return ks.Now()
	}
	return time.Now()
}

func (ks *KeySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k := ks.keys[kid]; k != nil {
		return k, nil
	}
	if ks.URI == "" || !ks.fetched.IsZero() && ks.now().Sub(ks.fetched) < time.Minute {
		return nil, refuse(Signature, "key %q is not in the tenant's key set", kid)
	}
	var set struct {
		Keys []JSONWebKey `json:"keys"`
	}
	if err := getJSON(ctx, ks.HC, ks.URI, &set); err != nil {
		return nil, fmt.Errorf("fetch signing keys: %w", err)
	}
	ks.fetched = ks.now()
	ks.keys = map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if pub, err := k.PublicKey(); err == nil {
			ks.keys[k.Kid] = pub
		}
	}
	if k := ks.keys[kid]; k != nil {
		return k, nil
	}
	return nil, refuse(Signature, "key %q is not in the tenant's key set", kid)
}

// StaticKeySet is a key set that is never fetched (a stand-in's own keys).
func StaticKeySet(keys map[string]*rsa.PublicKey) *KeySet { return &KeySet{keys: keys} }

// Verifier checks tokens of one tenant for one audience.
type Verifier struct {
	Keys      *KeySet
	Issuer    string
	Audiences []string // any one must be in aud
	// TenantID, when set, must equal tid.
	TenantID string
	Now      func() time.Time
	// Leeway is the clock skew allowed on exp and nbf (default 5 minutes).
	Leeway time.Duration
}

// Verify checks token's signature and claims and returns them.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	h, raw, signed, sig, err := parse(token)
	if err != nil {
		return nil, err
	}
	if h.Alg != "RS256" {
		return nil, refuse(Signature, "alg %q; Entra signs with RS256", h.Alg)
	}
	pub, err := v.Keys.key(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	if verifyRS256(pub, signed, sig) != nil {
		return nil, refuse(Signature, "the signature does not match key %q", h.Kid)
	}
	c := claimsFrom(raw)
	if c.Issuer != v.Issuer {
		return nil, refuse(Issuer, "issued by %q, expected %q", c.Issuer, v.Issuer)
	}
	if v.TenantID != "" && !strings.EqualFold(c.TenantID, v.TenantID) {
		return nil, refuse(Tenant, "tenant %q, expected %q", c.TenantID, v.TenantID)
	}
	ok := false
	for _, a := range v.Audiences {
		ok = ok || slices.Contains(c.Audience, a)
	}
	if !ok {
		return nil, refuse(Audience, "issued for %q, not for this application (%s)", strings.Join(c.Audience, ","), strings.Join(v.Audiences, ","))
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	leeway := v.Leeway
	if leeway == 0 {
		leeway = 5 * time.Minute
	}
	if c.Expiry.IsZero() || !now.Before(c.Expiry.Add(leeway)) {
		return nil, refuse(Expired, "expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return nil, refuse(NotYet, "valid from %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// ClientAuth is how a confidential client proves itself at the token
// endpoint: a secret, or a signed assertion (a certificate's, see
// CertificateAssertion, or a federated one, see ManagedIdentityAssertion).
type ClientAuth struct {
	Secret    string
	Assertion func(ctx context.Context) (string, error)
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
}

// OAuthError is an error answer of the token endpoint.
type OAuthError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

func (e *OAuthError) Error() string {
	// Entra's descriptions carry trace and correlation ids on later lines.
	d, _, _ := strings.Cut(e.Description, "\r\n")
	d, _, _ = strings.Cut(d, "\n")
	return fmt.Sprintf("token endpoint: HTTP %d %s: %s", e.Status, e.Code, d)
}

// RequestToken posts one token request (form values plus the client's
// authentication) to endpoint.
func RequestToken(ctx context.Context, hc *http.Client, endpoint, clientID string, auth ClientAuth, form url.Values) (*TokenResponse, error) {
	form.Set("client_id", clientID)
	switch {
	case auth.Assertion != nil:
		a, err := auth.Assertion(ctx)
		if err != nil {
			return nil, fmt.Errorf("client assertion: %w", err)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	case auth.Secret != "":
		form.Set("client_secret", auth.Secret)
	default:
		return nil, errors.New("no client secret or assertion configured")
	}
	ctx = context.WithValue(ctx, tokenRequestKey{}, true)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &OAuthError{Status: resp.StatusCode}
		if json.Unmarshal(body, e) != nil || e.Code == "" {
			e.Code = "unexpected_answer"
		}
		return nil, e
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.TokenType == "" && tr.AccessToken == "" && tr.IDToken == "" {
		return nil, fmt.Errorf("POST %s: the answer holds no token", endpoint)
	}
	return &tr, nil
}

// CertificateAssertion signs client assertions with a certificate's key as
// MSAL does for a confidential client (RFC 7523: iss = sub = client id,
// aud = token endpoint, ten minutes), with the certificate's SHA-256
// thumbprint as x5t#S256. The key must be RSA.
func CertificateAssertion(cert *x509.Certificate, key crypto.Signer, clientID, tokenEndpoint string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return "", errors.New("certificate key is not RSA")
		}
		thumb := sha256.Sum256(cert.Raw)
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		now := time.Now()
		return SignRS256(rk, "", map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(thumb[:])}, map[string]any{
			"aud": tokenEndpoint, "iss": clientID, "sub": clientID, "jti": base64.RawURLEncoding.EncodeToString(jti),
			"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		})
	}
}

// ManagedIdentityAssertion uses a managed identity (or any azidentity
// credential) as the app registration's federated credential: the token it
// gets for api://AzureADTokenExchange is the client assertion. This is how
// team mode runs on Azure Container Apps or App Service without a secret.
func ManagedIdentityAssertion(cred azcore.TokenCredential) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"api://AzureADTokenExchange/.default"}})
		if err != nil {
			return "", err
		}
		return tok.Token, nil
	}
}
