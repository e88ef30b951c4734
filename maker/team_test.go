package maker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/maker/teamauth"
)

// tokenTap records every token the Entra stand-in hands out (sign-in,
// refresh, on-behalf-of), so a test can look for them where they must
// never be: pages, cookies, git.
type tokenTap struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens []string
}

func (t *tokenTap) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if v, ok := m[k].(string); ok && v != "" {
			t.tokens = append(t.tokens, v)
		}
	}
	return resp, nil
}

func (t *tokenTap) seen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.tokens...)
}

// teamRig is team mode as it runs for a team: the demo's services (the
// emulator, a git server, the GitHub stand-in), an Entra stand-in, and
// replicas of the real ppalm maker server (NewTeam, New), each its own
// HTTP server, behind one TLS proxy that deals requests round robin, with
// no affinity. The browser is a cookie jar.
type teamRig struct {
	t        *testing.T
	demo     *Demo
	proxy    *httptest.Server
	base     string
	served   []atomic.Int64
	clock    *entratest.Clock
	tap      *tokenTap
	replicas []*Server
}

func newTeamRig(t *testing.T, replicas int, change ...func(*teamauth.Config)) *teamRig {
	t.Helper()
	d, err := StartDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	tr := &teamRig{t: t, demo: d, served: make([]atomic.Int64, replicas), clock: entratest.NewClock(time.Now())}
	var handlers []http.Handler
	var next atomic.Int64
	tr.proxy = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(next.Add(1)-1) % len(handlers)
		tr.served[i].Add(1)
		handlers[i].ServeHTTP(w, r)
	}))
	t.Cleanup(tr.proxy.Close)
	tr.base = tr.proxy.URL
	cfg, err := d.teamSignIn(tr.base)
	if err != nil {
		t.Fatal(err)
	}
	d.Entra.SetNow(tr.clock.Now)
	cfg.Now = tr.clock.Now
	tr.tap = &tokenTap{next: cfg.HTTPClient.Transport}
	hc := *cfg.HTTPClient
	hc.Transport = tr.tap
	cfg.HTTPClient = &hc
	for _, c := range change {
		c(&cfg)
	}
	for range replicas {
		opts, err := d.teamOptions(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		app, err := New(ln.Addr().String(), opts)
		if err != nil {
			t.Fatal(err)
		}
		tr.replicas = append(tr.replicas, app)
		srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		u, _ := url.Parse("http://" + ln.Addr().String())
		// The replica sees the Host the browser sent, as behind a load
		// balancer that keeps it.
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host }}
		handlers = append(handlers, rp)
	}
	return tr
}

// maker is one browser: its cookie jar, and every page it got.
type teamBrowser struct {
	tr    *teamRig
	c     *http.Client
	pages []string
}

func (tr *teamRig) browser() *teamBrowser {
	jar, _ := cookiejar.New(nil)
	return &teamBrowser{tr: tr, c: &http.Client{Jar: jar, Transport: tr.proxy.Client().Transport, Timeout: 2 * time.Minute}}
}

func (b *teamBrowser) do(method, path string, form url.Values, hdr map[string]string) (int, string) {
	b.tr.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.tr.base + path
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.tr.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	b.pages = append(b.pages, string(out))
	return resp.StatusCode, string(out)
}

func (b *teamBrowser) get(path string) (int, string) { return b.do("GET", path, nil, nil) }

// post sends a page's form with its CSRF token, as the page would.
func (b *teamBrowser) post(path string, fields url.Values) (int, string) {
	b.tr.t.Helper()
	_, page := b.get(path)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.tr.t.Fatalf("no CSRF field on %s:\n%s", path, page)
	}
	fields.Set("csrf", m[1])
	return b.do("POST", path, fields, nil)
}

// signIn signs in as user (the stand-in's page takes a login hint) and
// lands on returnTo.
func (b *teamBrowser) signIn(user emulator.User, returnTo string) (int, string) {
	b.tr.t.Helper()
	return b.signInAs(user.Email, returnTo)
}

func (b *teamBrowser) signInAs(upn, returnTo string) (int, string) {
	b.tr.t.Helper()
	return b.get(teamauth.SignInPath + "?" + url.Values{"return": {returnTo}, "login_hint": {upn}}.Encode())
}

// noTokens fails when a token the stand-in issued is in a page the browser
// got or in one of its cookies.
func (b *teamBrowser) noTokens() {
	b.tr.t.Helper()
	toks := b.tr.tap.seen()
	if len(toks) == 0 {
		b.tr.t.Fatal("the stand-in issued no tokens: nothing to look for")
	}
	u, _ := url.Parse(b.tr.base)
	var cookies strings.Builder
	for _, c := range b.c.Jar.Cookies(u) {
		cookies.WriteString(c.Value)
	}
	for _, tok := range toks {
		for _, p := range b.pages {
			if strings.Contains(p, tok) {
				b.tr.t.Fatal("a token reached a page")
			}
		}
		if strings.Contains(cookies.String(), tok) {
			b.tr.t.Fatal("a token is readable in a cookie")
		}
	}
	for _, p := range b.pages {
		if strings.Contains(p, "eyJhbGciOiJSUzI1NiIs") {
			b.tr.t.Fatal("a JWT reached a page")
		}
	}
}

// TestTeamSignedOutAndSignedIn: signed out, every page but the health
// probe and the static files is the sign-in page; signed in, the app
// serves the maker by name, calls Dataverse as them (the emulator's audit
// names them; a maker without a role there sees Dataverse's refusal), and
// no token reaches the browser; signing out ends it.
func TestTeamSignedOutAndSignedIn(t *testing.T) {
	tr := newTeamRig(t, 1)
	b := tr.browser()
	for _, path := range []string{"/", "/admin", "/solutions/" + fixtures.DemoSolutionName + "/commit"} {
		code, page := b.get(path)
		if code != 401 || !strings.Contains(page, "Sign in to ppalm maker") || !strings.Contains(page, teamauth.SignInPath+"?return=") ||
			strings.Contains(page, fixtures.DemoSolutionName+"</") {
			t.Fatalf("signed out %s: %d\n%s", path, code, page)
		}
	}
	if code, page := b.get(HealthPath); code != 200 || page != "ok\n" {
		t.Fatalf("health: %d %q", code, page)
	}
	if code, _ := b.get("/static/app.css"); code != 200 {
		t.Fatalf("static: %d", code)
	}
	// A forged post while signed out changes nothing.
	if code, page := b.do("POST", "/solutions/"+fixtures.DemoSolutionName+"/delete", url.Values{"confirm": {fixtures.DemoSolutionName}}, nil); code != 401 || !strings.Contains(page, "Sign in") {
		t.Fatalf("signed-out post: %d", code)
	}

	code, page := b.signIn(emulator.Maker, "/start?environment=dev")
	if code != 200 || !strings.Contains(page, "Solutions in dev") || !strings.Contains(page, fixtures.DemoSolutionName) ||
		!strings.Contains(page, emulator.Maker.Email) || !strings.Contains(page, `action="/auth/signout"`) {
		t.Fatalf("signed in: %d\n%s", code, page)
	}
	u, _ := url.Parse(tr.base)
	names := map[string]bool{}
	for _, c := range b.c.Jar.Cookies(u) {
		names[c.Name] = true
	}
	if !names["__Host-ppalm-team"] || !names[envCookie] {
		t.Fatalf("cookies: %v", names)
	}
	// Deleting acts in Dataverse as the signed-in maker.
	if code, page = b.post("/solutions/"+fixtures.DemoSolutionName+"/delete", url.Values{"confirm": {fixtures.DemoSolutionName}}); code != 200 {
		t.Fatalf("delete: %d\n%s", code, page)
	}
	var who string
	for _, a := range tr.demo.Emulator.Audit() {
		if a.Environment == "dev" && strings.Contains(strings.ToLower(a.Action), "delete") {
			who = a.CallerObjectID
		}
	}
	if who != emulator.Maker.ObjectID {
		t.Fatalf("the delete ran as %q, not as the signed-in maker", who)
	}
	b.noTokens()

	// A maker without a role in dev: Dataverse refuses them, not the app.
	nico := tr.browser()
	code, page = nico.signIn(emulator.NoAccess, "/start?environment=dev")
	if code != 502 || !strings.Contains(page, "403") || !strings.Contains(page, "prvRead") {
		t.Fatalf("a maker Dataverse refuses: %d\n%s", code, page)
	}

	// Sign-out ends the session here and at the tenant.
	_, home := b.get("/")
	tok := csrfRe.FindStringSubmatch(home)
	if tok == nil {
		t.Fatal("no CSRF token for the sign-out form")
	}
	code, _ = b.do("POST", teamauth.SignOutPath, url.Values{"csrf": {tok[1]}}, nil)
	if code != 200 || tr.demo.Entra.Requests()["logout"] != 1 {
		t.Fatalf("sign-out: %d, tenant logouts %d", code, tr.demo.Entra.Requests()["logout"])
	}
	if code, _ := b.get("/"); code != 401 {
		t.Fatalf("after sign-out: %d", code)
	}
}

// TestTeamExpiredSession: a working day later the session is over: a
// clear page, nothing done.
func TestTeamExpiredSession(t *testing.T) {
	tr := newTeamRig(t, 1)
	b := tr.browser()
	if code, _ := b.signIn(emulator.Maker, "/start?environment=dev"); code != 200 {
		t.Fatal(code)
	}
	_, page := b.get("/solutions/" + fixtures.DemoSolutionName + "/delete")
	tok := csrfRe.FindStringSubmatch(page)[1]
	tr.clock.Add(8*time.Hour + time.Minute)
	code, page := b.get("/")
	if code != 401 || !strings.Contains(page, "Your session has ended") || !strings.Contains(page, "Sign in again") {
		t.Fatalf("expired: %d\n%s", code, page)
	}
	code, _ = b.do("POST", "/solutions/"+fixtures.DemoSolutionName+"/delete", url.Values{"csrf": {tok}, "confirm": {fixtures.DemoSolutionName}}, nil)
	if code != 401 {
		t.Fatalf("a post with an expired session: %d", code)
	}
	if _, err := findEnv(tr.demo, "dev").Client.GetSolution(context.Background(), fixtures.DemoSolutionName); err != nil {
		t.Fatal("an expired session deleted the solution")
	}
}

// TestTeamCSRF: a post without the session's token, with another
// session's, or from another site is refused with a clear page and
// changes nothing; the page's own form works.
func TestTeamCSRF(t *testing.T) {
	tr := newTeamRig(t, 1)
	b := tr.browser()
	b.signIn(emulator.Maker, "/start?environment=dev")
	other := tr.browser()
	other.signIn(emulator.Maker, "/start?environment=dev")
	_, page := other.get("/solutions/" + fixtures.DemoSolutionName + "/delete")
	othersToken := csrfRe.FindStringSubmatch(page)[1]
	_, page = b.get("/solutions/" + fixtures.DemoSolutionName + "/delete")
	token := csrfRe.FindStringSubmatch(page)[1]
	path := "/solutions/" + fixtures.DemoSolutionName + "/delete"
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		want string
	}{
		{"no token", url.Values{"confirm": {fixtures.DemoSolutionName}}, nil, "no security token"},
		{"another session's", url.Values{"csrf": {othersToken}, "confirm": {fixtures.DemoSolutionName}}, nil, "another session"},
		{"another site", url.Values{"csrf": {token}, "confirm": {fixtures.DemoSolutionName}}, map[string]string{"Origin": "https://evil.example"}, "another site"},
	} {
		code, page := b.do("POST", path, tc.form, tc.hdr)
		if code != 403 || !strings.Contains(page, "This request was refused") || !strings.Contains(page, "Nothing was changed") || !strings.Contains(page, tc.want) {
			t.Fatalf("%s: %d\n%s", tc.name, code, page)
		}
		if _, err := findEnv(tr.demo, "dev").Client.GetSolution(context.Background(), fixtures.DemoSolutionName); err != nil {
			t.Fatalf("%s: the refused request deleted the solution", tc.name)
		}
	}
	if code, page := b.do("POST", path, url.Values{"csrf": {token}, "confirm": {fixtures.DemoSolutionName}}, map[string]string{"Origin": tr.base}); code != 200 {
		t.Fatalf("the page's own form: %d\n%s", code, page)
	}
}

// TestTeamTokenForAnotherAudience: an app that gets a token for another
// API as the maker's assertion refuses the sign-in with a clear page;
// nothing is served.
func TestTeamTokenForAnotherAudience(t *testing.T) {
	tr := newTeamRig(t, 1, func(c *teamauth.Config) { c.APIScope = "https://graph.microsoft.com/User.Read" })
	b := tr.browser()
	code, page := b.signIn(emulator.Maker, "/start?environment=dev")
	if code != 403 || !strings.Contains(page, "Sign-in refused") || !strings.Contains(page, "issued for another application") {
		t.Fatalf("another audience: %d\n%s", code, page)
	}
	if code, _ := b.get("/"); code != 401 {
		t.Fatalf("after the refused sign-in: %d", code)
	}
}

// TestTeamReplicasServeOneMaker: two replicas, requests dealt round robin
// with no affinity: the maker signs in on one, and every step of the seed
// flow (environment, profile, commit, deploy, history) lands on either,
// with the one session.
func TestTeamReplicasServeOneMaker(t *testing.T) {
	tr := newTeamRig(t, 2)
	b := tr.browser()
	sol := fixtures.DemoSolutionName
	if code, page := b.signIn(emulator.Maker, "/"); code != 200 || !strings.Contains(page, "Which environment") {
		t.Fatalf("sign in: %d\n%s", code, page)
	}
	steps := []struct {
		path string
		form url.Values
		want string
	}{
		{"/environment", url.Values{"environment": {"dev"}}, "Solutions in dev"},
		{"/solutions/" + sol + "/profile", url.Values{"profile": {DemoProfile}}, DemoProfile},
		{"/solutions/" + sol + "/commit", url.Values{"comment": {"From the team app #7"}, "branch": {sol}, "base": {"main"}}, "succeeded"},
		{"/solutions/" + sol + "/deploy", url.Values{"environment": {"test"}, "source": {sol}, "target": {"main"}}, "pull request #1"},
	}
	for _, st := range steps {
		code, page := b.post(st.path, st.form)
		if code != 200 || !strings.Contains(page, st.want) {
			t.Fatalf("%s: %d\n%s", st.path, code, page)
		}
	}
	_, page := b.get("/solutions/" + sol + "/history")
	mustContain(t, "history", page, "From the team app #7", emulator.Maker.Email, "pull request #1")
	msg, author, _ := headCommit(t, tr.demo.RepoURL, tr.demo.Options.Token, sol)
	if !strings.Contains(msg, "From the team app #7") || author != emulator.Maker.Email {
		t.Fatalf("the commit: %q by %s", msg, author)
	}
	if got, err := findEnv(tr.demo, "test").Client.GetSolution(context.Background(), sol); err != nil || !got.IsManaged {
		t.Fatalf("test after the deployment: %+v, %v", got, err)
	}
	if a, c := tr.served[0].Load(), tr.served[1].Load(); a < 6 || c < 6 {
		t.Fatalf("replicas served %d and %d requests: both must serve the one maker", a, c)
	}
	// Each replica exchanges the maker's token for Dataverse's once and
	// keeps it: no exchange per request.
	reqs := tr.demo.Entra.Requests()
	t.Logf("replicas served %d and %d requests; Entra saw %v", tr.served[0].Load(), tr.served[1].Load(), reqs)
	if n := reqs["token on_behalf_of"]; n < 1 || n > 2 {
		t.Errorf("%d on-behalf-of exchanges for one maker on two replicas, want 1 or 2", n)
	}
	b.noTokens()
}

// TestTeamGroupsOverage: a maker in more groups than a token carries gets
// the overage claim; the app asks Graph, as the maker, which groups they
// are in, and opens the group's profile to them.
func TestTeamGroupsOverage(t *testing.T) {
	tr := newTeamRig(t, 1)
	many := entratest.User{ObjectID: emulator.Maker.ObjectID, UPN: "alex.many@contoso.example", Name: emulator.Maker.Name}
	for i := range entratest.MaxGroupClaims {
		many.Groups = append(many.Groups, fmt.Sprintf("%08d-0000-4000-8000-00000000abcd", i))
	}
	many.Groups = append(many.Groups, emulator.Groups[1].ID) // Contoso Makers, and 200 more
	tr.demo.Entra.AddUser(many)                              // Alex, by another sign-in name
	b := tr.browser()
	code, page := b.signInAs(many.UPN, "/start?environment=dev")
	if code != 200 {
		t.Fatalf("sign in: %d\n%s", code, page)
	}
	_, page = b.get("/solutions/" + fixtures.DemoSolutionName + "/profile")
	if !strings.Contains(page, DemoProfile) {
		t.Fatalf("the profile open to Contoso Makers is not offered:\n%s", page)
	}
}

// A deployment step's environment the app does not list is connected once
// per name and URL, not on every page: its client keeps the makers'
// tokens.
func TestTeamStepEnvironmentConnectedOnce(t *testing.T) {
	var built []string
	s := &Server{opts: Options{Team: &Team{connect: func(name, rawURL string) (Environment, error) {
		built = append(built, name+" "+rawURL)
		return Environment{Name: name, URL: rawURL}, nil
	}}}}
	test := DeploymentStep{Environment: "test", URL: "https://contoso-test.crm.dynamics.com"}
	for range 3 {
		if env, err := s.environmentOf(test); err != nil || env.URL != test.URL {
			t.Fatalf("environmentOf = %+v, %v", env, err)
		}
	}
	moved := test
	moved.URL = "https://contoso-uat.crm.dynamics.com"
	if env, err := s.environmentOf(moved); err != nil || env.URL != moved.URL {
		t.Fatalf("after the profile's URL changed: %+v, %v", env, err)
	}
	want := []string{"test https://contoso-test.crm.dynamics.com", "test https://contoso-uat.crm.dynamics.com"}
	if strings.Join(built, ",") != strings.Join(want, ",") {
		t.Errorf("connected %q, want %q", built, want)
	}
}
