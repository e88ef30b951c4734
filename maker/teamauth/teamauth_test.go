package teamauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/maker/teamauth"
)

const (
	clientID  = "8a7c1e52-3f44-4c59-9f2d-6b1e0c9d4a21"
	secret    = "team-app-secret"
	dataverse = "https://contoso-test.crm.dynamics.com"
)

var megan = entratest.User{ObjectID: "a3e2f1d0-1111-4000-8000-000000000001", UPN: "megan@contoso.com", Name: "Megan Bowen", Groups: []string{"makers-group-id"}}

// team is a deployment: the stand-in tenant, replicas behind one
// round-robin proxy, and a maker's browser.
type team struct {
	t        testing.TB
	entra    *entratest.Server
	proxy    *httptest.Server
	replicas []*teamauth.Auth
	served   []atomic.Int64
	clock    *entratest.Clock
	browser  *http.Client
	keys     [][]byte
}

// app is what the maker app would mount: a page that shows who is signed
// in with its CSRF token, a form target, and a handler that calls
// Dataverse on the maker's behalf.
func app(a *teamauth.Auth, replica int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /solutions", func(w http.ResponseWriter, r *http.Request) {
		s, _ := teamauth.FromContext(r.Context())
		fmt.Fprintf(w, "<p>replica %d: signed in as %s (%s), groups %v</p><form method=post><input name=csrf value=%q></form>", replica, s.Name, s.UPN, s.Groups, s.CSRFToken())
	})
	mux.HandleFunc("POST /solutions/commit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "committed")
	})
	mux.HandleFunc("GET /whoami-dataverse", func(w http.ResponseWriter, r *http.Request) {
		cred, err := a.Credential(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		tok, err := cred.GetToken(r.Context(), policy.TokenRequestOptions{Scopes: []string{dataverse + "/.default"}})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		c, _ := entra.ParseUnverified(tok.Token)
		// The page shows who Dataverse would see, never the token.
		_ = json.NewEncoder(w).Encode(map[string]any{"aud": c.Audience, "oid": c.ObjectID, "upn": c.UPN, "appid": c.AppID})
	})
	return a.Handler(mux)
}

func newTeam(t testing.TB, replicas int, opts ...func(*teamauth.Config)) *team {
	t.Helper()
	tm := &team{t: t, entra: entratest.New(t, entratest.Options{}), clock: entratest.NewClock(time.Now()), served: make([]atomic.Int64, replicas)}
	tm.entra.SetNow(tm.clock.Now)
	tm.entra.AddUser(megan)
	key, _ := teamauth.ParseSessionKeys(teamauth.GenerateSessionKey())
	tm.keys = key
	var handlers []http.Handler
	var next atomic.Int64
	tm.proxy = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Round robin, no affinity: each request may land on any replica.
		i := int(next.Add(1)-1) % len(handlers)
		tm.served[i].Add(1)
		handlers[i].ServeHTTP(w, r)
	}))
	t.Cleanup(tm.proxy.Close)
	tm.entra.AddApp(entratest.App{ClientID: clientID, Secret: secret, GroupClaims: true,
		RedirectURIs:   []string{tm.proxy.URL + teamauth.CallbackPath, tm.proxy.URL + teamauth.SignedOutPath},
		IdentifierURIs: []string{"api://" + clientID}})
	for i := range replicas {
		cfg := teamauth.Config{PublicURL: tm.proxy.URL, TenantID: tm.entra.TenantID, ClientID: clientID, ClientSecret: secret,
			AuthorityHost: tm.entra.AuthorityHost(), SessionKeys: tm.keys, HTTPClient: tm.entra.HTTPClient(), Now: tm.clock.Now}
		for _, o := range opts {
			o(&cfg)
		}
		a, err := teamauth.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		tm.replicas = append(tm.replicas, a)
		// Each replica is its own server, reached through a reverse proxy hop.
		backend := httptest.NewServer(app(a, i))
		t.Cleanup(backend.Close)
		u, _ := url.Parse(backend.URL)
		// The replica sees the Host the browser sent, as behind a load
		// balancer that keeps it.
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host }}
		handlers = append(handlers, rp)
	}
	jar, _ := cookiejar.New(nil)
	tm.browser = &http.Client{Jar: jar, Transport: tm.proxy.Client().Transport}
	return tm
}

type answer struct {
	status int
	body   string
	url    string
	header http.Header
}

func (tm *team) do(method, path string, form url.Values, hdr map[string]string) answer {
	tm.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = tm.proxy.URL + path
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := tm.browser.Do(req)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Request.URL.String(), resp.Header}
}

func (tm *team) signIn(returnTo string) answer {
	tm.t.Helper()
	return tm.do("GET", teamauth.SignInPath+"?"+url.Values{"return": {returnTo}, "login_hint": {megan.UPN}}.Encode(), nil, nil)
}

func (tm *team) csrf() string {
	tm.t.Helper()
	a := tm.do("GET", "/solutions", nil, nil)
	_, after, ok := strings.Cut(a.body, `name=csrf value="`)
	if !ok {
		tm.t.Fatalf("no CSRF token on the page: %d %s", a.status, a.body)
	}
	tok, _, _ := strings.Cut(after, `"`)
	return tok
}

func TestSignedOutThenSignedIn(t *testing.T) {
	tm := newTeam(t, 1)
	a := tm.do("GET", "/solutions", nil, nil)
	if a.status != 401 || !strings.Contains(a.body, "Sign in to ppalm maker") || !strings.Contains(a.body, teamauth.SignInPath+"?return=%2Fsolutions") {
		t.Fatalf("signed out: %d %s", a.status, a.body)
	}
	a = tm.signIn("/solutions")
	if a.status != 200 || !strings.Contains(a.body, "signed in as Megan Bowen (megan@contoso.com), groups [makers-group-id]") || !strings.HasSuffix(a.url, "/solutions") {
		t.Fatalf("signed in: %d %s at %s", a.status, a.body, a.url)
	}
	if n := tm.entra.Requests()["token authorization_code"]; n != 1 {
		t.Errorf("%d code redemptions", n)
	}
	// The cookie is the session: sealed, HttpOnly, Secure, Lax, __Host-.
	u, _ := url.Parse(tm.proxy.URL)
	var names []string
	for _, c := range tm.browser.Jar.Cookies(u) {
		names = append(names, c.Name)
		for _, tok := range []string{"eyJ", megan.UPN} {
			if strings.Contains(c.Value, tok) {
				t.Errorf("cookie %s holds %q in the clear", c.Name, tok)
			}
		}
	}
	if !strings.Contains(strings.Join(names, ","), "__Host-ppalm-team") {
		t.Errorf("cookies = %v", names)
	}
	// The page never carries a token.
	if strings.Contains(a.body, "eyJ") {
		t.Error("a token reached the page")
	}
	// Handlers act on the maker's behalf through azidentity.
	a = tm.do("GET", "/whoami-dataverse", nil, nil)
	var who map[string]any
	_ = json.Unmarshal([]byte(a.body), &who)
	if a.status != 200 || who["oid"] != megan.ObjectID || who["appid"] != clientID || fmt.Sprint(who["aud"]) != "["+dataverse+"]" {
		t.Errorf("on behalf of: %d %s", a.status, a.body)
	}
	tm.do("GET", "/whoami-dataverse", nil, nil)
	if n := tm.entra.Requests()["token on_behalf_of"]; n != 1 {
		t.Errorf("%d on-behalf-of requests for two calls; the credential should cache its token", n)
	}
}

func TestSetCookieAttributes(t *testing.T) {
	tm := newTeam(t, 1)
	browser := &http.Client{Transport: tm.proxy.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(tm.proxy.URL + teamauth.SignInPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-ppalm-signin=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=600"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" || q.Get("state") == "" ||
		q.Get("redirect_uri") != tm.proxy.URL+teamauth.CallbackPath || !strings.Contains(q.Get("scope"), "api://"+clientID+"/user_impersonation") {
		t.Errorf("authorize request = %s", loc)
	}
}

func TestExpiredSession(t *testing.T) {
	tm := newTeam(t, 1)
	if a := tm.signIn("/solutions"); a.status != 200 {
		t.Fatal(a.status, a.body)
	}
	tm.clock.Add(8*time.Hour + time.Minute)
	a := tm.do("GET", "/solutions", nil, nil)
	if a.status != 401 || !strings.Contains(a.body, "Your session has ended") || !strings.Contains(a.body, "Sign in again") {
		t.Fatalf("expired: %d %s", a.status, a.body)
	}
}

func TestAccessTokenRefreshedBeforeItExpires(t *testing.T) {
	tm := newTeam(t, 2)
	if a := tm.signIn("/solutions"); a.status != 200 {
		t.Fatal(a.status, a.body)
	}
	tm.clock.Add(57 * time.Minute) // the maker's token has three minutes left
	a := tm.do("GET", "/whoami-dataverse", nil, nil)
	if a.status != 200 || !strings.Contains(a.body, megan.ObjectID) {
		t.Fatalf("after refresh: %d %s", a.status, a.body)
	}
	if n := tm.entra.Requests()["token refresh_token"]; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	// The refreshed cookie serves the next request on the other replica
	// without another refresh.
	if a := tm.do("GET", "/solutions", nil, nil); a.status != 200 {
		t.Fatal(a.status)
	}
	if n := tm.entra.Requests()["token refresh_token"]; n != 1 {
		t.Errorf("%d refreshes after the new cookie, want 1", n)
	}
}

func TestCSRF(t *testing.T) {
	tm := newTeam(t, 1)
	tm.signIn("/solutions")
	token := tm.csrf()
	a := tm.do("POST", "/solutions/commit", url.Values{"comment": {"#123"}}, nil)
	if a.status != 403 || !strings.Contains(a.body, "This request was refused") || !strings.Contains(a.body, "no security token") {
		t.Errorf("no token: %d %s", a.status, a.body)
	}
	a = tm.do("POST", "/solutions/commit", url.Values{"csrf": {"forged"}}, nil)
	if a.status != 403 || !strings.Contains(a.body, "another session") {
		t.Errorf("wrong token: %d %s", a.status, a.body)
	}
	a = tm.do("POST", "/solutions/commit", url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"})
	if a.status != 403 || !strings.Contains(a.body, "another site") {
		t.Errorf("cross-site: %d %s", a.status, a.body)
	}
	if a := tm.do("POST", "/solutions/commit", url.Values{"csrf": {token}}, map[string]string{"Origin": tm.proxy.URL}); a.status != 200 || a.body != "committed" {
		t.Errorf("with the token: %d %s", a.status, a.body)
	}
	if a := tm.do("POST", "/solutions/commit", nil, map[string]string{teamauth.CSRFHeader: token}); a.status != 200 {
		t.Errorf("token in the header: %d %s", a.status, a.body)
	}
}

// swapIDToken replaces the id_token of the token endpoint's answer: a
// token substituted in transit, or an IdP that mixes up clients.
type swapIDToken struct {
	next http.RoundTripper
	with func() string
}

func (s swapIDToken) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") || resp.StatusCode != 200 {
		return resp, err
	}
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(b, &m)
	m["id_token"] = s.with()
	b, _ = json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestTokenForAnotherAudienceIsRefused(t *testing.T) {
	var tm *team
	tm = newTeam(t, 1, func(c *teamauth.Config) {
		hc := *c.HTTPClient
		hc.Transport = swapIDToken{next: c.HTTPClient.Transport, with: func() string {
			return tm.entra.Issue(entratest.Token{User: megan, Audience: "some-other-app", ID: true})
		}}
		c.HTTPClient = &hc
	})
	a := tm.signIn("/solutions")
	if a.status != 403 || !strings.Contains(a.body, "Sign-in refused") || !strings.Contains(a.body, "another application") {
		t.Fatalf("ID token for another app: %d %s", a.status, a.body)
	}
	if a := tm.do("GET", "/solutions", nil, nil); a.status != 401 {
		t.Errorf("after a refused sign-in: %d", a.status)
	}

	// An app configured to ask for another API's token cannot use it as
	// the maker's assertion: refused at sign-in, not at the first call.
	tm2 := newTeam(t, 1, func(c *teamauth.Config) { c.APIScope = "https://graph.microsoft.com/User.Read" })
	a = tm2.signIn("/solutions")
	if a.status != 403 || !strings.Contains(a.body, "the access token was issued for another application") {
		t.Fatalf("access token for Graph: %d %s", a.status, a.body)
	}
}

func TestCallbackRefusals(t *testing.T) {
	tm := newTeam(t, 1)
	// A callback this browser never started.
	a := tm.do("GET", teamauth.CallbackPath+"?code=x&state=y", nil, nil)
	if a.status != 400 || !strings.Contains(a.body, "Sign-in did not complete") {
		t.Errorf("unsolicited callback: %d %s", a.status, a.body)
	}
	// A state that does not match the one this browser started.
	browser := &http.Client{Jar: tm.browser.Jar, Transport: tm.proxy.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(tm.proxy.URL + teamauth.SignInPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a = tm.do("GET", teamauth.CallbackPath+"?code=x&state=forged", nil, nil)
	if a.status != 400 || !strings.Contains(a.body, "does not belong to the sign-in this browser started") {
		t.Errorf("forged state: %d %s", a.status, a.body)
	}
	// Entra's own refusal is shown, escaped.
	resp, _ = browser.Get(tm.proxy.URL + teamauth.SignInPath)
	resp.Body.Close()
	a = tm.do("GET", teamauth.CallbackPath+"?"+url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent <script>"}}.Encode(), nil, nil)
	if a.status != 401 || !strings.Contains(a.body, "AADSTS65004") || strings.Contains(a.body, "<script>") {
		t.Errorf("Entra error: %d %s", a.status, a.body)
	}
	// An open redirect through return is refused.
	tm.signIn("https://evil.example/")
	u, _ := url.Parse(tm.do("GET", "/solutions", nil, nil).url)
	if u.Host != strings.TrimPrefix(tm.proxy.URL, "https://") {
		t.Errorf("return led to %s", u)
	}
}

func TestReplicasShareOneSession(t *testing.T) {
	tm := newTeam(t, 2)
	if a := tm.signIn("/solutions"); a.status != 200 {
		t.Fatal(a.status, a.body)
	}
	token := tm.csrf()
	seen := map[string]bool{}
	for range 6 {
		a := tm.do("GET", "/solutions", nil, nil)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		seen[a.body[:len("<p>replica 0")]] = true
		if a := tm.do("POST", "/solutions/commit", url.Values{"csrf": {token}}, nil); a.status != 200 {
			t.Fatalf("commit: %d %s", a.status, a.body)
		}
		if a := tm.do("GET", "/whoami-dataverse", nil, nil); a.status != 200 || !strings.Contains(a.body, megan.ObjectID) {
			t.Fatalf("on behalf of: %d %s", a.status, a.body)
		}
	}
	if len(seen) != 2 || tm.served[0].Load() < 5 || tm.served[1].Load() < 5 {
		t.Errorf("replicas served %d and %d requests (%v); both must serve the one session", tm.served[0].Load(), tm.served[1].Load(), seen)
	}
	// A replica with another key cannot open the cookie.
	other := newTeam(t, 1)
	other.browser.Jar = tm.browser.Jar
	u, _ := url.Parse(tm.proxy.URL)
	u2, _ := url.Parse(other.proxy.URL)
	other.browser.Jar.SetCookies(u2, tm.browser.Jar.Cookies(u))
	if a := other.do("GET", "/solutions", nil, nil); a.status != 401 {
		t.Errorf("a replica with another key: %d", a.status)
	}
}

func TestKeyRotation(t *testing.T) {
	tm := newTeam(t, 1)
	tm.signIn("/solutions")
	// A new key goes first; the old one still opens existing cookies.
	newKey, _ := teamauth.ParseSessionKeys(teamauth.GenerateSessionKey())
	rotated, err := teamauth.New(context.Background(), teamauth.Config{PublicURL: tm.proxy.URL, TenantID: tm.entra.TenantID, ClientID: clientID, ClientSecret: secret,
		AuthorityHost: tm.entra.AuthorityHost(), SessionKeys: append(newKey, tm.keys...), HTTPClient: tm.entra.HTTPClient(), Now: tm.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(tm.proxy.URL)
	req := httptest.NewRequest("GET", tm.proxy.URL+"/solutions", nil)
	for _, c := range tm.browser.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	app(rotated, 0).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("rotated replica: %d %s", rec.Code, rec.Body)
	}
}

func TestLargeSessionIsChunked(t *testing.T) {
	tm := newTeam(t, 2)
	big := megan
	big.ObjectID = "b0000000-0000-4000-8000-000000000002"
	big.UPN = "big@contoso.com"
	for i := range 150 {
		big.Groups = append(big.Groups, fmt.Sprintf("%08d-0000-4000-8000-000000000000", i))
	}
	tm.entra.AddUser(big)
	a := tm.do("GET", teamauth.SignInPath+"?return=/solutions&login_hint=big@contoso.com", nil, nil)
	if a.status != 200 || !strings.Contains(a.body, "big@contoso.com") {
		t.Fatalf("%d %s", a.status, a.body)
	}
	u, _ := url.Parse(tm.proxy.URL)
	n := 0
	for _, c := range tm.browser.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "__Host-ppalm-team.") {
			n++
		}
		if len(c.Name)+len(c.Value) > 4000 {
			t.Errorf("cookie %s is %d bytes", c.Name, len(c.Value))
		}
	}
	if n < 2 {
		t.Errorf("%d chunks; the session should not fit one cookie", n)
	}
	for range 3 {
		if a := tm.do("GET", "/solutions", nil, nil); a.status != 200 {
			t.Fatalf("chunked session: %d", a.status)
		}
	}
}

func TestSignOut(t *testing.T) {
	tm := newTeam(t, 2)
	tm.signIn("/solutions")
	token := tm.csrf()
	if a := tm.do("GET", teamauth.SignOutPath, nil, nil); a.status != 405 {
		t.Errorf("sign-out by GET: %d", a.status)
	}
	a := tm.do("POST", teamauth.SignOutPath, url.Values{"csrf": {token}}, nil)
	if a.status != 200 || !strings.HasSuffix(a.url, teamauth.SignedOutPath) {
		t.Fatalf("sign-out: %d at %s", a.status, a.url)
	}
	if tm.entra.Requests()["logout"] != 1 {
		t.Error("the tenant's end_session_endpoint was not visited")
	}
	if a := tm.do("GET", "/solutions", nil, nil); a.status != 401 {
		t.Errorf("after sign-out: %d", a.status)
	}
}

func TestConfigRefusals(t *testing.T) {
	s := entratest.New(t, entratest.Options{})
	key, _ := teamauth.ParseSessionKeys(teamauth.GenerateSessionKey())
	_, err := teamauth.New(context.Background(), teamauth.Config{PublicURL: "http://maker.contoso.com", TenantID: s.TenantID, ClientID: clientID,
		AuthorityHost: s.AuthorityHost(), SessionKeys: key, HTTPClient: s.HTTPClient()})
	for _, want := range []string{"http is allowed only on loopback", "exactly one app credential"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config error %v lacks %q", err, want)
		}
	}
	if _, err := teamauth.ParseSessionKeys("c2hvcnQ="); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("short key: %v", err)
	}
}

// BenchmarkSignedInRequest measures what the guard adds to every request:
// joining the chunks, opening the sealed session and checking it.
func BenchmarkSignedInRequest(b *testing.B) {
	tm := newTeam(b, 1)
	tm.signIn("/solutions")
	u, _ := url.Parse(tm.proxy.URL)
	cookies := tm.browser.Jar.Cookies(u)
	h := tm.replicas[0].Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest("GET", tm.proxy.URL+"/solutions", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
