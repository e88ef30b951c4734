package entratest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/entra"
)

// Token describes a token for Issue.
type Token struct {
	User     User
	Audience string
	// ClientID is the app the token was issued to (azp, appid).
	ClientID string
	Scopes   []string // scp
	// ID makes an ID token: no scp, azp or appid; Nonce is set.
	ID    bool
	Nonce string
	// IssuedAt defaults to the stand-in's clock, Lifetime to one hour.
	IssuedAt time.Time
	Lifetime time.Duration
	// Issuer overrides iss (a token from another tenant).
	Issuer string
	Groups bool
	// Subject overrides sub (managed identity tokens).
	Subject string
}

// MaxGroupClaims is how many groups fit in a token's groups claim: a user
// in more gets the overage claim instead, and the app asks Graph.
const MaxGroupClaims = 200

// Issue signs a token with the tenant's key: tests mint tokens for another
// audience, an expired one, or one for a user who never signed in.
func (s *Server) Issue(t Token) string {
	now := t.IssuedAt
	if now.IsZero() {
		now = s.clock()
	}
	life := t.Lifetime
	if life == 0 {
		life = time.Hour
	}
	iss := t.Issuer
	if iss == "" {
		iss = s.Issuer()
	}
	sub := t.Subject
	if sub == "" {
		sum := sha256.Sum256([]byte(t.User.ObjectID + "|" + t.ClientID))
		sub = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	uti := make([]byte, 16)
	_, _ = rand.Read(uti)
	c := map[string]any{
		"aud": t.Audience, "iss": iss, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(life).Unix(),
		"tid": s.TenantID, "sub": sub, "ver": "2.0", "uti": base64.RawURLEncoding.EncodeToString(uti),
	}
	if t.User.ObjectID != "" {
		c["oid"] = t.User.ObjectID
		c["upn"] = t.User.UPN
		c["preferred_username"] = t.User.UPN
		c["name"] = t.User.Name
	}
	if t.ID {
		if t.Nonce != "" {
			c["nonce"] = t.Nonce
		}
	} else if t.ClientID != "" {
		c["azp"] = t.ClientID
		c["appid"] = t.ClientID
		if len(t.Scopes) > 0 {
			c["scp"] = strings.Join(t.Scopes, " ")
		}
	}
	switch {
	case t.Groups && len(t.User.Groups) > MaxGroupClaims:
		// The groups overage: a JWT carries at most 200 groups; beyond,
		// Entra names where to ask instead ("Access tokens in the
		// Microsoft identity platform", groups overage claim).
		c["_claim_names"] = map[string]any{"groups": "src1"}
		c["_claim_sources"] = map[string]any{"src1": map[string]any{
			"endpoint": "https://graph.windows.net/" + s.TenantID + "/users/" + t.User.ObjectID + "/getMemberObjects"}}
	case t.Groups:
		c["groups"] = append([]string{}, t.User.Groups...)
	}
	tok, err := entra.SignRS256(s.key, s.kid, nil, c)
	if err != nil {
		panic(err)
	}
	return tok
}

// ManagedIdentityToken is what a managed identity with the given subject
// (its object id) gets for api://AzureADTokenExchange: a client assertion
// for an app that trusts that subject.
func (s *Server) ManagedIdentityToken(subject string) string {
	return s.Issue(Token{Audience: "api://AzureADTokenExchange", Subject: subject, ClientID: subject})
}

// aadError writes the token endpoint's error body.
func (s *Server) aadError(w http.ResponseWriter, status int, code string, codes []int, msg string) {
	now := s.clock().UTC()
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 7c5b0f0e-3a4d-4c1b-9f2e-0d1c2b3a4f00\r\nCorrelation ID: 0a49cdbc-2e94-4089-bc6f-1162b123592c\r\nTimestamp: %s",
		codes[len(codes)-1], msg, now.Format("2006-01-02 15:04:05Z"))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc, "error_codes": codes,
		"timestamp": now.Format("2006-01-02 15:04:05Z"), "trace_id": "7c5b0f0e-3a4d-4c1b-9f2e-0d1c2b3a4f00", "correlation_id": "0a49cdbc-2e94-4089-bc6f-1162b123592c"})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) == 3 && segs[0] == "common" && segs[1] == "discovery" && segs[2] == "instance" {
		s.count("instance")
		writeJSON(w, map[string]any{
			"tenant_discovery_endpoint": s.authority.URL + "/" + s.TenantID + "/v2.0/.well-known/openid-configuration",
			"api-version":               "1.1",
			"metadata":                  []any{map[string]any{"preferred_network": strings.TrimPrefix(s.authority.URL, "https://"), "preferred_cache": strings.TrimPrefix(s.authority.URL, "https://"), "aliases": []string{strings.TrimPrefix(s.authority.URL, "https://")}}},
		})
		return
	}
	if len(segs) == 1 && segs[0] == "devicelogin" {
		s.count("devicelogin")
		s.deviceLogin(w, r)
		return
	}
	if len(segs) < 2 {
		http.NotFound(w, r)
		return
	}
	if !strings.EqualFold(segs[0], s.TenantID) && segs[0] != "organizations" {
		s.aadError(w, http.StatusBadRequest, "invalid_tenant", []int{90002}, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", segs[0]))
		return
	}
	rest := strings.Join(segs[1:], "/")
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		s.count("discovery")
		base := s.authority.URL + "/" + s.TenantID
		writeJSON(w, map[string]any{
			"issuer":                                s.Issuer(),
			"authorization_endpoint":                s.AuthorizeEndpoint(),
			"token_endpoint":                        s.TokenEndpoint(),
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"end_session_endpoint":                  s.web.URL + "/" + s.TenantID + "/oauth2/v2.0/logout",
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"response_modes_supported":              []string{"query", "fragment", "form_post"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"code_challenge_methods_supported":      []string{"plain", "S256"},
			"tenant_region_scope":                   "EU",
			"cloud_instance_name":                   "microsoftonline.com",
		})
	case "discovery/v2.0/keys":
		s.count("keys")
		writeJSON(w, map[string]any{"keys": s.Keys()})
	case "oauth2/v2.0/authorize":
		s.count("authorize")
		s.authorize(w, r)
	case "oauth2/v2.0/token":
		s.token(w, r)
	case "oauth2/v2.0/devicecode":
		s.count("devicecode")
		s.deviceAuthorization(w, r)
	case "oauth2/v2.0/logout":
		s.count("logout")
		s.logout(w, r)
	default:
		http.NotFound(w, r)
	}
}

var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
button{display:block;width:100%;margin:.5rem 0;padding:.75rem;font-size:1rem;text-align:left}
.err{border-left:4px solid #a4262c;padding-left:1rem}</style></head>
<body><main>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
{{if .Users}}<p>Entra ID stand-in for tenant {{.Tenant}}. {{if .AskCode}}Enter the code displayed on your app or device, then pick{{else}}Pick{{end}} the account to sign in with:</p>
<form method="post">{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .AskCode}}<p><label>Code <input name="otc" autocomplete="off" required></label></p>{{end}}
{{range .Users}}<button type="submit" name="user" value="{{.ObjectID}}">{{.Name}} <small>({{.UPN}})</small></button>{{end}}
</form>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
</main></body></html>`))
})

type page struct {
	Title, Error, Message, Tenant string
	Users                         []User
	Params                        map[string]string
	AskCode                       bool // the device code flow's verification page
}

func (s *Server) showPage(w http.ResponseWriter, status int, p page) {
	p.Tenant = s.TenantID
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl().Execute(w, p)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize serves the authorization code flow's sign-in page.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.showPage(w, http.StatusBadRequest, page{Title: "Sign in", Error: "The request is not a valid form."})
		return
	}
	q := r.Form
	clientID := q.Get("client_id")
	app, ok := s.app(clientID)
	if !ok {
		s.showPage(w, http.StatusBadRequest, page{Title: "Sign in", Error: fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", clientID, s.TenantID)})
		return
	}
	redirect := q.Get("redirect_uri")
	registered, native := app.registeredRedirect(redirect)
	if !registered {
		s.showPage(w, http.StatusBadRequest, page{Title: "Sign in", Error: fmt.Sprintf("AADSTS50011: The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, clientID)})
		return
	}
	fail := func(code string, aadsts int, msg string) {
		v := url.Values{"error": {code}, "error_description": {fmt.Sprintf("AADSTS%d: %s", aadsts, msg)}}
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		s.respond(w, r, q.Get("response_mode"), redirect, v)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", 700054, "response_type '"+q.Get("response_type")+"' is not enabled for the application.")
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "" && method != "S256" && method != "plain" {
		fail("invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
		return
	}
	var user User
	found := false
	if id := q.Get("user"); r.Method == http.MethodPost && id != "" {
		user, found = s.user(id)
	} else if hint := q.Get("login_hint"); hint != "" {
		user, found = s.user(hint)
	}
	if !found {
		params := map[string]string{}
		for k := range q {
			if k != "user" {
				params[k] = q.Get(k)
			}
		}
		msg := ""
		if h := q.Get("login_hint"); h != "" {
			msg = fmt.Sprintf("AADSTS50034: The user account %s does not exist in the %s directory.", h, s.TenantID)
		}
		s.showPage(w, http.StatusOK, page{Title: "Sign in to your account", Error: msg, Users: s.Users(), Params: params})
		return
	}
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain"
	}
	code := randomString(48)
	s.mu.Lock()
	s.codes[code] = &authCode{clientID: app.ClientID, redirectURI: redirect, challenge: q.Get("code_challenge"), method: method,
		scopes: strings.Fields(q.Get("scope")), nonce: q.Get("nonce"), user: user, expires: s.now().Add(10 * time.Minute), public: native}
	s.mu.Unlock()
	v := url.Values{"code": {code}, "session_state": {"d1c2b3a4-0000-4000-8000-" + strings.Repeat("0", 12)}}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	s.respond(w, r, q.Get("response_mode"), redirect, v)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("post_logout_redirect_uri")
	if target != "" {
		s.mu.Lock()
		registered := false
		for _, a := range s.apps {
			registered = registered || slices.Contains(a.RedirectURIs, target)
		}
		s.mu.Unlock()
		if registered {
			http.Redirect(w, r, target, http.StatusFound)
			return
		}
	}
	s.showPage(w, http.StatusOK, page{Title: "You signed out of your account", Message: "It's a good idea to close all browser windows."})
}

var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// resourceOf splits scopes into their one resource and the permission
// names; ok is false when they name two resources.
func resourceOf(scopes []string) (resource string, perms []string, ok bool) {
	for _, sc := range scopes {
		if oidcScopes[sc] {
			continue
		}
		res, perm := "https://graph.microsoft.com", sc
		if i := strings.LastIndex(sc, "/"); i > 0 {
			res, perm = strings.TrimRight(sc[:i], "/"), sc[i+1:]
		}
		if perm == ".default" {
			perm = "user_impersonation"
		}
		if resource != "" && !strings.EqualFold(resource, res) {
			return "", nil, false
		}
		resource = res
		perms = append(perms, perm)
	}
	return resource, perms, true
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// token serves the token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.aadError(w, http.StatusMethodNotAllowed, "invalid_request", []int{900561}, "The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", []int{900144}, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	f := r.PostForm
	grantType := f.Get("grant_type")
	switch grantType {
	case "urn:ietf:params:oauth:grant-type:device_code":
		// MSAL sends the short name; Entra takes both.
		grantType = "device_code"
	}
	route := "token " + grantType
	if grantType == "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		route = "token on_behalf_of"
	}
	s.count(route)
	app, ok := s.app(f.Get("client_id"))
	if !ok {
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", []int{700016}, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", f.Get("client_id"), s.TenantID))
		return
	}
	public := s.publicRequest(app, grantType, f)
	switch {
	case public && (f.Get("client_secret") != "" || f.Get("client_assertion") != ""):
		s.aadError(w, http.StatusUnauthorized, "invalid_client", []int{700025}, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		return
	case !public:
		if code, msg := s.authenticateClient(app, f); code != 0 {
			s.aadError(w, http.StatusUnauthorized, "invalid_client", []int{code}, msg)
			return
		}
	}
	now := s.clock()
	var (
		user     User
		scopes   []string
		nonce    string
		idToken  bool
		obo      bool
		appToken bool
	)
	switch grantType {
	case "authorization_code":
		s.mu.Lock()
		c := s.codes[f.Get("code")]
		var reused bool
		if c != nil {
			reused = c.redeemed
			c.redeemed = true
		}
		s.mu.Unlock()
		switch {
		case c == nil || !strings.EqualFold(c.clientID, app.ClientID):
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{9002313}, "Invalid request. Request is malformed or invalid.")
			return
		case reused:
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{54005}, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
			return
		case now.After(c.expires):
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{70008}, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
			return
		case f.Get("redirect_uri") != c.redirectURI:
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{50011}, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URI used to obtain the authorization code.", f.Get("redirect_uri")))
			return
		}
		if c.challenge != "" {
			v := f.Get("code_verifier")
			good := c.method == "S256" && s256(v) == c.challenge || c.method == "plain" && v == c.challenge
			if !good {
				s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{501481}, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
				return
			}
		}
		user, scopes, nonce = c.user, c.scopes, c.nonce
		if sc := f.Get("scope"); sc != "" {
			scopes = strings.Fields(sc)
		}
		idToken = slices.Contains(scopes, "openid")
	case "refresh_token":
		s.mu.Lock()
		g := s.refresh[f.Get("refresh_token")]
		s.mu.Unlock()
		if g == nil || !strings.EqualFold(g.clientID, app.ClientID) {
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{9002313}, "Invalid request. Request is malformed or invalid.")
			return
		}
		if now.After(g.expires) {
			s.aadError(w, http.StatusBadRequest, "invalid_grant", []int{70008}, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
			return
		}
		user, scopes = g.user, g.scopes
		if sc := f.Get("scope"); sc != "" {
			scopes = strings.Fields(sc)
		}
		idToken = slices.Contains(scopes, "openid")
	case "device_code":
		var ok bool
		if user, scopes, ok = s.deviceGrant(w, app, f.Get("device_code"), now); !ok {
			return
		}
		if sc := f.Get("scope"); sc != "" {
			scopes = strings.Fields(sc)
		}
		idToken = slices.Contains(scopes, "openid")
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if f.Get("requested_token_use") != "on_behalf_of" {
			s.aadError(w, http.StatusBadRequest, "invalid_request", []int{50027}, "requested_token_use must be on_behalf_of.")
			return
		}
		claims, code, msg := s.checkAssertion(app, f.Get("assertion"), now)
		if code != nil {
			s.aadError(w, http.StatusBadRequest, "invalid_grant", code, msg)
			return
		}
		user = User{ObjectID: claims.ObjectID, UPN: claims.UPN, Name: claims.Name, Groups: claims.Groups}
		if u, ok := s.user(claims.ObjectID); ok {
			user = u
		}
		scopes, obo = strings.Fields(f.Get("scope")), true
	case "client_credentials":
		scopes, appToken = strings.Fields(f.Get("scope")), true
		if len(scopes) != 1 || !strings.HasSuffix(scopes[0], "/.default") {
			s.aadError(w, http.StatusBadRequest, "invalid_scope", []int{1002012}, "The provided value for scope "+f.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
			return
		}
	default:
		s.aadError(w, http.StatusBadRequest, "unsupported_grant_type", []int{70003}, "The app requested an unsupported grant type '"+grantType+"'.")
		return
	}
	resource, perms, ok := resourceOf(scopes)
	if !ok {
		s.aadError(w, http.StatusBadRequest, "invalid_scope", []int{28000}, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope "+strings.Join(scopes, " ")+" is not valid.")
		return
	}
	if resource == "" {
		if obo {
			s.aadError(w, http.StatusBadRequest, "invalid_scope", []int{70011}, "The provided request must include a 'scope' input parameter.")
			return
		}
		resource, perms = "00000003-0000-0000-c000-000000000000", []string{"User.Read"}
	}
	aud := resource
	if a, ok := s.appByResource(resource); ok {
		aud = a.ClientID
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599}
	if appToken {
		sp := appServicePrincipal(app.ClientID)
		resp["access_token"] = s.Issue(Token{User: User{ObjectID: sp}, Audience: aud, ClientID: app.ClientID, IssuedAt: now, Subject: sp})
		writeJSON(w, resp)
		return
	}
	// scope repeats the granted scopes as requested (MSAL counts any it
	// does not find as declined).
	var granted []string
	for _, sc := range scopes {
		if !oidcScopes[sc] {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		granted = perms
	}
	resp["scope"] = strings.Join(granted, " ")
	resp["access_token"] = s.Issue(Token{User: user, Audience: aud, ClientID: app.ClientID, Scopes: perms, IssuedAt: now, Groups: app.GroupClaims})
	info, _ := json.Marshal(map[string]string{"uid": user.ObjectID, "utid": s.TenantID})
	resp["client_info"] = base64.RawURLEncoding.EncodeToString(info)
	if idToken {
		resp["id_token"] = s.Issue(Token{User: user, Audience: app.ClientID, ID: true, Nonce: nonce, IssuedAt: now, Groups: app.GroupClaims})
	}
	if slices.Contains(scopes, "offline_access") {
		rt := randomString(64)
		s.mu.Lock()
		s.refresh[rt] = &grant{clientID: app.ClientID, scopes: scopes, user: user, expires: now.Add(24 * time.Hour), public: public}
		s.mu.Unlock()
		resp["refresh_token"] = rt
	}
	writeJSON(w, resp)
}

// publicRequest tells whether a token request is a public client's, made
// without a client secret: a code issued to a native redirect URI, a
// refresh token issued to a public client, or the device code flow of an
// app that allows public client flows. Any other request must
// authenticate the client (AADSTS7000218 without a secret).
func (s *Server) publicRequest(app *App, grantType string, f url.Values) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch grantType {
	case "authorization_code":
		c := s.codes[f.Get("code")]
		return c != nil && c.public && strings.EqualFold(c.clientID, app.ClientID)
	case "refresh_token":
		g := s.refresh[f.Get("refresh_token")]
		return g != nil && g.public && strings.EqualFold(g.clientID, app.ClientID)
	case "device_code":
		return app.PublicClient
	}
	return false
}

func appServicePrincipal(clientID string) string {
	sum := sha256.Sum256([]byte("sp|" + clientID))
	b := sum[:16]
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// checkAssertion validates an OBO user assertion presented by app.
func (s *Server) checkAssertion(app *App, assertion string, now time.Time) (*entra.Claims, []int, string) {
	v := &entra.Verifier{Issuer: s.Issuer(), Now: func() time.Time { return now }, Leeway: time.Nanosecond}
	claims, err := s.verifyOwn(v, assertion, append([]string{app.ClientID}, app.IdentifierURIs...))
	switch {
	case err == nil:
		return claims, nil, ""
	case entra.IsReason(err, entra.Audience):
		aud := ""
		if c, perr := entra.ParseUnverified(assertion); perr == nil {
			aud = strings.Join(c.Audience, ",")
		}
		return nil, []int{500131}, fmt.Sprintf("Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Uris of this application with App ID '%s'. The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.", aud, app.ClientID, app.ClientID)
	case entra.IsReason(err, entra.Expired), entra.IsReason(err, entra.NotYet):
		return nil, []int{70002, 500133}, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token."
	default:
		return nil, []int{50013}, "Assertion failed signature validation. [Reason - " + err.Error() + "]"
	}
}

// verifyOwn verifies a token against this tenant's own key.
func (s *Server) verifyOwn(v *entra.Verifier, token string, audiences []string) (*entra.Claims, error) {
	v.Audiences = audiences
	v.Keys = entra.StaticKeySet(map[string]*rsa.PublicKey{s.kid: &s.key.PublicKey})
	return v.Verify(context.Background(), token)
}

// authenticateClient checks the client's secret or assertion; it returns
// the AADSTS code and message of a failure, or 0.
func (s *Server) authenticateClient(app *App, f url.Values) (int, string) {
	if a := f.Get("client_assertion"); a != "" {
		if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return 7000219, "'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
		}
		return s.checkClientAssertion(app, a)
	}
	if sec := f.Get("client_secret"); sec != "" {
		if app.Secret == "" || sec != app.Secret {
			return 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + app.ClientID + "'."
		}
		return 0, ""
	}
	return 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
}

func (s *Server) checkClientAssertion(app *App, assertion string) (int, string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return 50027, "JWT token is invalid or malformed."
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	var h map[string]any
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &h) != nil {
		return 50027, "JWT token is invalid or malformed."
	}
	now := s.clock()
	thumb, _ := h["x5t#S256"].(string)
	thumb1, _ := h["x5t"].(string)
	if thumb == "" && thumb1 == "" {
		// A federated credential: a token of this tenant for the token exchange audience.
		v := &entra.Verifier{Issuer: s.Issuer(), Now: func() time.Time { return now }, Leeway: time.Nanosecond}
		c, err := s.verifyOwn(v, assertion, []string{"api://AzureADTokenExchange"})
		if err != nil {
			return 700211, "No matching federated identity record found for presented assertion issuer. " + err.Error()
		}
		if !slices.Contains(app.FederatedSubjects, c.Subject) {
			return 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '" + c.Issuer + "'. Assertion Subject: '" + c.Subject + "'."
		}
		return 0, ""
	}
	for _, cert := range app.Certificates {
		s256sum := sha256.Sum256(cert.Raw)
		s1sum := sha1.Sum(cert.Raw)
		match := thumb != "" && (thumb == base64.RawURLEncoding.EncodeToString(s256sum[:]) || thumb == base64.StdEncoding.EncodeToString(s256sum[:])) ||
			thumb1 != "" && (thumb1 == base64.RawURLEncoding.EncodeToString(s1sum[:]) || thumb1 == base64.StdEncoding.EncodeToString(s1sum[:]))
		if !match {
			continue
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return 700027, "Client assertion failed signature validation."
		}
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		var err error
		switch h["alg"] {
		case "RS256":
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
		case "PS256":
			err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, nil)
		default:
			err = fmt.Errorf("alg %v", h["alg"])
		}
		if err != nil {
			return 700027, "Client assertion failed signature validation."
		}
		c, perr := entra.ParseUnverified(assertion)
		if perr != nil {
			return 50027, "JWT token is invalid or malformed."
		}
		switch {
		case !slices.Contains(c.Audience, s.TokenEndpoint()) && !slices.Contains(c.Audience, s.Issuer()):
			return 700212, "No matching federated identity record found for presented assertion audience '" + strings.Join(c.Audience, ",") + "'."
		case c.Issuer != app.ClientID || c.Subject != app.ClientID:
			return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
		case !now.Before(c.Expiry):
			return 700024, "Client assertion is not within its valid time range."
		}
		return 0, ""
	}
	return 700027, "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '" + thumb + thumb1 + "']"
}
