package teamauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ppalm/ppalm/entra"
)

// Routes Handler serves itself.
const (
	SignInPath    = "/auth/signin"
	CallbackPath  = "/auth/callback"
	SignOutPath   = "/auth/signout"
	SignedOutPath = "/auth/signedout"
)

// CSRFField is the form field that carries the CSRF token, as in local mode.
const CSRFField = "csrf"

// CSRFHeader is the header that may carry it instead (scripts).
const CSRFHeader = "X-CSRF-Token"

// Config is one team-mode deployment's sign-in.
type Config struct {
	// PublicURL is where makers reach the app (https://maker.contoso.com);
	// http is accepted only for a loopback host (the demo).
	PublicURL string
	TenantID  string
	ClientID  string
	// AuthorityHost is Entra's (default entra.DefaultAuthorityHost), a
	// sovereign cloud's, or a stand-in's.
	AuthorityHost string

	// The app's credential, exactly one of: a client secret; a certificate
	// and its key; an assertion (a federated credential such as
	// entra.ManagedIdentityAssertion for a managed identity).
	ClientSecret    string
	Certificates    []*x509.Certificate
	CertificateKey  crypto.PrivateKey
	ClientAssertion func(context.Context) (string, error)

	// APIScope is the scope of the app's own API the maker's access token
	// is issued for (default api://CLIENT_ID/user_impersonation); that
	// token is the user assertion of on-behalf-of calls.
	APIScope string
	// APIAudience is the app's Application ID URI when it is not
	// api://CLIENT_ID and the app issues v1 access tokens (whose aud is
	// that URI); v2 tokens carry the client id, always accepted.
	APIAudience string
	// SessionKeys seal the cookies (see ParseSessionKeys); every replica
	// must have the same.
	SessionKeys [][]byte
	// SessionLifetime is how long a sign-in lasts (default 8 hours).
	SessionLifetime time.Duration
	// HTTPClient carries requests to Entra (default: a 30 s client); it is
	// wrapped in entra's retry policy.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Auth signs makers in and guards the app's routes.
type Auth struct {
	cfg       Config
	public    *url.URL
	md        *entra.Metadata
	hc        *http.Client
	verifier  *entra.Verifier
	apiAuds   []string
	sealer    *sealer
	jar       cookieJar
	session   string // cookie names
	signIn    string
	clientAut entra.ClientAuth

	credMu sync.Mutex
	creds  map[string]cachedCredential
}

type cachedCredential struct {
	cred    azcore.TokenCredential
	expires time.Time
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// New checks cfg and reads the tenant's discovery document.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	var problems []string
	u, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	switch {
	case cfg.PublicURL == "":
		problems = append(problems, "the public URL is empty (--public-url https://…)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		problems = append(problems, fmt.Sprintf("public URL %q: expected https://host[:port]", cfg.PublicURL))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		problems = append(problems, fmt.Sprintf("public URL %q: http is allowed only on loopback; session cookies must be Secure", cfg.PublicURL))
	case u.Path != "" || u.RawQuery != "":
		problems = append(problems, fmt.Sprintf("public URL %q: expected no path or query", cfg.PublicURL))
	}
	if cfg.TenantID == "" {
		problems = append(problems, "the tenant id is empty")
	}
	if cfg.ClientID == "" {
		problems = append(problems, "the client id is empty")
	}
	n := 0
	for _, set := range []bool{cfg.ClientSecret != "", len(cfg.Certificates) > 0 || cfg.CertificateKey != nil, cfg.ClientAssertion != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		problems = append(problems, "expected exactly one app credential: a client secret, a certificate with its key, or a client assertion (workload identity)")
	}
	if len(cfg.Certificates) > 0 {
		if _, ok := cfg.CertificateKey.(crypto.Signer); !ok {
			problems = append(problems, "the certificate's private key is missing or cannot sign")
		}
	}
	seal, err := newSealer(cfg.SessionKeys)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("team sign-in: %s", strings.Join(problems, "; "))
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = entra.DefaultAuthorityHost
	}
	if cfg.APIScope == "" {
		cfg.APIScope = "api://" + cfg.ClientID + "/user_impersonation"
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := entra.HTTPClient(cfg.HTTPClient, 3)
	md, err := entra.Discover(ctx, hc, cfg.AuthorityHost, cfg.TenantID)
	if err != nil {
		return nil, fmt.Errorf("team sign-in: %w", err)
	}
	a := &Auth{cfg: cfg, public: u, md: md, hc: hc, sealer: seal, jar: cookieJar{secure: u.Scheme == "https"}, creds: map[string]cachedCredential{}}
	if a.jar.secure {
		a.session, a.signIn = "__Host-ppalm-team", "__Host-ppalm-signin"
	} else {
		a.session, a.signIn = "ppalm-team", "ppalm-signin"
	}
	a.apiAuds = []string{cfg.ClientID, "api://" + cfg.ClientID}
	if cfg.APIAudience != "" {
		a.apiAuds = append(a.apiAuds, cfg.APIAudience)
	}
	a.verifier = &entra.Verifier{Keys: &entra.KeySet{URI: md.JWKSURI, HC: hc, Now: cfg.Now}, Issuer: md.Issuer, TenantID: cfg.TenantID, Now: cfg.Now}
	switch {
	case cfg.ClientSecret != "":
		a.clientAut = entra.ClientAuth{Secret: cfg.ClientSecret}
	case cfg.ClientAssertion != nil:
		a.clientAut = entra.ClientAuth{Assertion: cfg.ClientAssertion}
	default:
		a.clientAut = entra.ClientAuth{Assertion: entra.CertificateAssertion(cfg.Certificates[0], cfg.CertificateKey.(crypto.Signer), cfg.ClientID, md.TokenEndpoint)}
	}
	return a, nil
}

func (a *Auth) redirectURI() string { return a.public.String() + CallbackPath }

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeReturn keeps a return target inside the app: a path, never another
// host ("//evil", "/\evil", "https://…").
func safeReturn(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

// Session is a signed-in maker, as handlers see it.
type Session struct {
	ObjectID      string
	UPN           string
	Name          string
	TenantID      string
	Groups        []string
	GroupsOverage bool
	Expires       time.Time
	csrf          string
	accessToken   string
	accessExpires time.Time
}

// CSRFToken is the value state-changing forms carry in the field "csrf".
func (s *Session) CSRFToken() string { return s.csrf }

type ctxKey struct{}

// FromContext returns the signed-in maker of a request Handler let through.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok
}

// Handler serves the sign-in routes and lets only signed-in makers, with
// the CSRF token on state-changing requests, through to next.
func (a *Auth) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case SignInPath:
			a.startSignIn(w, r)
			return
		case CallbackPath:
			a.callback(w, r)
			return
		case SignOutPath:
			a.signOut(w, r)
			return
		case SignedOutPath:
			a.page(w, http.StatusOK, pageSignedOut, "")
			return
		}
		sess, why := a.load(w, r)
		if sess == nil {
			a.jar.clear(w, r, a.session)
			a.page(w, http.StatusUnauthorized, why, r.URL.RequestURI())
			return
		}
		if !safeMethod(r.Method) {
			if why := a.checkCSRF(r, sess); why != "" {
				a.pageWith(w, http.StatusForbidden, pageCSRF, "", why)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF says why a state-changing request is refused, or "".
func (a *Auth) checkCSRF(r *http.Request, sess *Session) string {
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.EqualFold(o, a.public.Scheme+"://"+a.public.Host) {
		return "it came from another site (" + o + ")"
	}
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		token = r.PostFormValue(CSRFField)
	}
	if token == "" {
		return "it carried no security token"
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1 {
		return "its security token belongs to another session"
	}
	return ""
}

// load opens the session cookie, refreshing the maker's access token when
// it is about to expire; it returns nil and the page to show otherwise.
func (a *Auth) load(w http.ResponseWriter, r *http.Request) (*Session, pageKind) {
	raw, ok := a.jar.read(r, a.session)
	if !ok {
		return nil, pageSignedOut
	}
	var d sessionData
	if err := a.sealer.open(a.session, raw, &d); err != nil || d.V != 1 {
		return nil, pageSignedOut
	}
	now := a.cfg.Now()
	if !now.Before(d.Expires) {
		return nil, pageExpired
	}
	if now.Add(5 * time.Minute).After(d.AccessExpires) {
		if d.RefreshToken == "" {
			return nil, pageExpired
		}
		tr, err := entra.RequestToken(r.Context(), a.hc, a.md.TokenEndpoint, a.cfg.ClientID, a.clientAut, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {d.RefreshToken}, "scope": {"openid profile offline_access " + a.cfg.APIScope},
		})
		if err != nil {
			return nil, pageExpired
		}
		claims, err := a.checkAccessToken(r.Context(), tr.AccessToken, d.ObjectID)
		if err != nil {
			return nil, pageExpired
		}
		d.AccessToken, d.AccessExpires = tr.AccessToken, claims.Expiry
		if tr.RefreshToken != "" {
			d.RefreshToken = tr.RefreshToken
		}
		if err := a.writeSession(w, r, &d); err != nil {
			return nil, pageExpired
		}
	}
	return &Session{ObjectID: d.ObjectID, UPN: d.UPN, Name: d.Name, TenantID: d.TenantID, Groups: d.Groups, GroupsOverage: d.GroupsOverage,
		Expires: d.Expires, csrf: d.CSRF, accessToken: d.AccessToken, accessExpires: d.AccessExpires}, 0
}

func (a *Auth) writeSession(w http.ResponseWriter, r *http.Request, d *sessionData) error {
	v, err := a.sealer.seal(a.session, d)
	if err != nil {
		return err
	}
	a.jar.write(w, r, a.session, v, int(d.Expires.Sub(a.cfg.Now()).Seconds()))
	return nil
}

// checkAccessToken verifies the maker's token for the app's API.
func (a *Auth) checkAccessToken(ctx context.Context, token, oid string) (*entra.Claims, error) {
	v := *a.verifier
	v.Audiences = a.apiAuds
	c, err := v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if oid != "" && c.ObjectID != oid {
		return nil, &entra.Error{Reason: entra.Audience, Detail: "the access token is for another user"}
	}
	return c, nil
}

func (a *Auth) startSignIn(w http.ResponseWriter, r *http.Request) {
	verifier := random(48)
	sum := sha256.Sum256([]byte(verifier))
	d := signInData{State: random(24), Nonce: random(24), Verifier: verifier, Return: safeReturn(r.URL.Query().Get("return")), Expires: a.cfg.Now().Add(10 * time.Minute)}
	v, err := a.sealer.seal(a.signIn, d)
	if err != nil {
		a.pageWith(w, http.StatusInternalServerError, pageSignInFailed, "", "the sign-in could not be started")
		return
	}
	a.jar.write(w, r, a.signIn, v, 600)
	q := url.Values{
		"client_id": {a.cfg.ClientID}, "response_type": {"code"}, "redirect_uri": {a.redirectURI()}, "response_mode": {"query"},
		"scope": {"openid profile offline_access " + a.cfg.APIScope}, "state": {d.State}, "nonce": {d.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if hint := r.URL.Query().Get("login_hint"); hint != "" {
		q.Set("login_hint", hint)
	}
	target := a.md.AuthorizationEndpoint
	if strings.Contains(target, "?") {
		target += "&" + q.Encode()
	} else {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw, ok := a.jar.read(r, a.signIn)
	a.jar.clear(w, r, a.signIn)
	var d signInData
	if !ok || a.sealer.open(a.signIn, raw, &d) != nil || !a.cfg.Now().Before(d.Expires) {
		a.pageWith(w, http.StatusBadRequest, pageSignInFailed, "/", "this sign-in was not started here, was started in another tab, or took longer than ten minutes")
		return
	}
	if e := q.Get("error"); e != "" {
		a.pageWith(w, http.StatusUnauthorized, pageSignInFailed, d.Return, "Microsoft Entra ID answered "+e+": "+firstLine(q.Get("error_description")))
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(d.State)) != 1 || q.Get("code") == "" {
		a.pageWith(w, http.StatusBadRequest, pageSignInFailed, d.Return, "the answer does not belong to the sign-in this browser started")
		return
	}
	tr, err := entra.RequestToken(r.Context(), a.hc, a.md.TokenEndpoint, a.cfg.ClientID, a.clientAut, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {a.redirectURI()}, "code_verifier": {d.Verifier},
		"scope": {"openid profile offline_access " + a.cfg.APIScope},
	})
	if err != nil {
		a.pageWith(w, http.StatusBadGateway, pageSignInFailed, d.Return, "the sign-in code could not be redeemed: "+err.Error())
		return
	}
	iv := *a.verifier
	iv.Audiences = []string{a.cfg.ClientID}
	id, err := iv.Verify(r.Context(), tr.IDToken)
	if err == nil && subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(d.Nonce)) != 1 {
		err = &entra.Error{Reason: entra.Nonce, Detail: "the ID token's nonce is not this sign-in's"}
	}
	if err != nil {
		a.pageWith(w, http.StatusForbidden, pageTokenRefused, d.Return, "the ID token "+refusal(err))
		return
	}
	at, err := a.checkAccessToken(r.Context(), tr.AccessToken, id.ObjectID)
	if err != nil {
		a.pageWith(w, http.StatusForbidden, pageTokenRefused, d.Return, "the access token "+refusal(err))
		return
	}
	now := a.cfg.Now()
	sess := sessionData{V: 1, ObjectID: id.ObjectID, UPN: id.UPN, Name: id.Name, TenantID: id.TenantID, Groups: id.Groups, GroupsOverage: id.GroupsOverage,
		Issued: now, Expires: now.Add(a.cfg.SessionLifetime), CSRF: random(32), AccessToken: tr.AccessToken, AccessExpires: at.Expiry, RefreshToken: tr.RefreshToken}
	if err := a.writeSession(w, r, &sess); err != nil {
		a.pageWith(w, http.StatusInternalServerError, pageSignInFailed, d.Return, "the session could not be sealed")
		return
	}
	http.Redirect(w, r, d.Return, http.StatusFound)
}

func refusal(err error) string {
	var e *entra.Error
	if errors.As(err, &e) {
		switch e.Reason {
		case entra.Audience:
			return "was issued for another application: " + e.Detail
		case entra.Expired:
			return "has expired: " + e.Detail
		case entra.Issuer, entra.Tenant:
			return "comes from another tenant: " + e.Detail
		}
		return "failed its " + string(e.Reason) + " check: " + e.Detail
	}
	return "could not be checked: " + err.Error()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(strings.TrimSuffix(s, "\r"))
}

func (a *Auth) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		a.pageWith(w, http.StatusMethodNotAllowed, pageCSRF, "", "sign-out is a button, not a link")
		return
	}
	if sess, _ := a.load(w, r); sess != nil {
		if why := a.checkCSRF(r, sess); why != "" {
			a.pageWith(w, http.StatusForbidden, pageCSRF, "", why)
			return
		}
		a.forgetCredential(sess.accessToken)
	}
	a.jar.clear(w, r, a.session)
	target := a.public.String() + SignedOutPath
	if a.md.EndSessionEndpoint != "" {
		target = a.md.EndSessionEndpoint + "?" + url.Values{"post_logout_redirect_uri": {target}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// SignInURL is the link that signs a maker in and returns to path.
func (a *Auth) SignInURL(path string) string {
	return SignInPath + "?" + url.Values{"return": {safeReturn(path)}}.Encode()
}

func assertionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Credential is an azidentity on-behalf-of credential for the maker
// signed in on ctx: Dataverse, Graph and Azure DevOps calls made with it
// act as the maker. Credentials are cached per maker token in this
// process (a cache, not state: another replica builds its own).
func (a *Auth) Credential(ctx context.Context) (azcore.TokenCredential, error) {
	sess, ok := FromContext(ctx)
	if !ok {
		return nil, errors.New("no signed-in maker on this request")
	}
	key := assertionKey(sess.accessToken)
	now := a.cfg.Now()
	a.credMu.Lock()
	defer a.credMu.Unlock()
	if c, ok := a.creds[key]; ok && now.Before(c.expires) {
		return c.cred, nil
	}
	opts := &azidentity.OnBehalfOfCredentialOptions{
		ClientOptions: azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: a.cfg.AuthorityHost}},
		// Instance discovery asks login.microsoftonline.com about the
		// authority: right for Microsoft's clouds, wrong for a stand-in.
		DisableInstanceDiscovery: !knownAuthority(a.cfg.AuthorityHost),
	}
	if a.cfg.HTTPClient != nil {
		opts.ClientOptions.Transport = a.cfg.HTTPClient
	}
	var cred azcore.TokenCredential
	var err error
	switch {
	case a.cfg.ClientSecret != "":
		cred, err = azidentity.NewOnBehalfOfCredentialWithSecret(a.cfg.TenantID, a.cfg.ClientID, sess.accessToken, a.cfg.ClientSecret, opts)
	case a.cfg.ClientAssertion != nil:
		cred, err = azidentity.NewOnBehalfOfCredentialWithClientAssertions(a.cfg.TenantID, a.cfg.ClientID, sess.accessToken, a.cfg.ClientAssertion, opts)
	default:
		cred, err = azidentity.NewOnBehalfOfCredentialWithCertificate(a.cfg.TenantID, a.cfg.ClientID, sess.accessToken, a.cfg.Certificates, a.cfg.CertificateKey, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("on-behalf-of credential for %s: %w", sess.UPN, err)
	}
	if len(a.creds) >= 1000 {
		for k, c := range a.creds {
			if !now.Before(c.expires) || len(a.creds) >= 1000 {
				delete(a.creds, k)
			}
		}
	}
	a.creds[key] = cachedCredential{cred: cred, expires: sess.accessExpires}
	return cred, nil
}

func (a *Auth) forgetCredential(accessToken string) {
	a.credMu.Lock()
	defer a.credMu.Unlock()
	delete(a.creds, assertionKey(accessToken))
}

func knownAuthority(host string) bool {
	u, err := url.Parse(host)
	if err != nil {
		return false
	}
	for _, c := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureGovernment, cloud.AzureChina} {
		if cu, err := url.Parse(c.ActiveDirectoryAuthorityHost); err == nil && strings.EqualFold(cu.Host, u.Host) {
			return true
		}
	}
	return false
}
