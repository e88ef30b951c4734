package maker

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
)

// app starts --demo's services and the app on loopback.
func app(t testing.TB) (*Demo, string) {
	t.Helper()
	d, err := StartDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ln.Addr().String(), d.Options)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return d, "http://" + ln.Addr().String()
}

type browserless struct {
	t     testing.TB
	base  string
	c     *http.Client
	pages []string // every page received, to look for secrets
}

func newClient(t testing.TB, base string) *browserless {
	jar, _ := cookiejar.New(nil)
	return &browserless{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
}

func (b *browserless) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.pages = append(b.pages, string(body))
	return resp.StatusCode, string(body)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits the form of page path with fields, as the page's own form
// would (its CSRF token included).
func (b *browserless) post(path string, fields url.Values) (int, string) {
	b.t.Helper()
	_, page := b.get(path)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s:\n%s", path, page)
	}
	fields.Set("csrf", m[1])
	return b.send(path, fields)
}

// token returns the CSRF token of the form on page path.
func (b *browserless) token(path string) string {
	b.t.Helper()
	_, page := b.get(path)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF field on %s:\n%s", path, page)
	}
	return m[1]
}

// send posts fields (which carry their CSRF token) to path.
func (b *browserless) send(path string, fields url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, fields)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.pages = append(b.pages, string(body))
	return resp.StatusCode, string(body)
}

func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("%s: want %q in the page:\n%s", what, w, page)
		}
	}
}

// TestSeedFlowOnDemo walks the seed's flow over HTTP, as the forms post,
// and checks the effects in git, the GitHub stand-in and the emulator.
func TestSeedFlowOnDemo(t *testing.T) {
	d, base := app(t)
	b := newClient(t, base)
	sol := fixtures.DemoSolutionName

	// First visit: choose the environment, then it is remembered.
	_, page := b.get("/")
	mustContain(t, "first visit", page, "Which environment", `value="dev"`)
	_, page = b.post("/environment", url.Values{"environment": {"dev"}})
	mustContain(t, "solution list", page, sol, "Commit", "Deploy", "Choose a Profile", "Delete", "History<span class=\"visually-hidden\"> of "+sol)
	_, page = b.get("/")
	mustContain(t, "remembered", page, "Solutions in dev")

	// Commit before a profile: sent back to choose one.
	code, page := b.get("/solutions/" + sol + "/commit")
	if code != 409 || !strings.Contains(page, "Choose a profile first") {
		t.Fatalf("commit without profile: %d\n%s", code, page)
	}
	// A profile the maker may not use is refused and nothing recorded.
	code, page = b.post("/solutions/"+sol+"/profile", url.Values{"profile": {"Finance only"}})
	if code != 400 || !strings.Contains(page, "profiles open to you") {
		t.Fatalf("foreign profile: %d\n%s", code, page)
	}
	if _, page = b.get("/solutions/" + sol + "/profile"); strings.Contains(page, "Finance only") {
		t.Fatal("a profile closed to the maker is listed")
	}
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}})

	// Bad commit input: shown beside the field, nothing committed.
	code, page = b.post("/solutions/"+sol+"/commit", url.Values{"comment": {""}, "branch": {"bad..name"}, "base": {"main"}})
	if code != 400 {
		t.Fatalf("bad commit: %d", code)
	}
	mustContain(t, "bad commit", page, `id="comment-error"`, `id="branch-error"`, "not a branch name git accepts")
	if _, err := gitops.ReadFolder(context.Background(), gitops.ReadOptions{Repo: d.RepoURL, Ref: "bad..name", Path: sol, Dest: t.TempDir(), Token: d.Options.Token}); err == nil {
		t.Fatal("a refused branch exists")
	}

	code, page = b.post("/solutions/"+sol+"/commit", url.Values{"comment": {"First version #123"}, "branch": {sol}, "base": {"main"}})
	if code != 200 {
		t.Fatalf("commit: %d\n%s", code, page)
	}
	mustContain(t, "commit result", page, "succeeded", "First version #123")
	n, err := gitops.ReadFolder(context.Background(), gitops.ReadOptions{Repo: d.RepoURL, Ref: sol, Path: sol + "/SolutionPackage/src", Dest: t.TempDir(), Token: d.Options.Token})
	if err != nil || n == 0 {
		t.Fatalf("the branch holds no unpacked solution: %d files, %v", n, err)
	}

	// Deploy: an environment outside the profile is refused.
	code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"dev"}})
	if code != 400 || !strings.Contains(page, `id="environment-error"`) {
		t.Fatalf("env outside profile: %d\n%s", code, page)
	}
	if len(d.GitHub.Pulls()) != 0 {
		t.Fatal("a refused deploy opened a pull request")
	}
	// Test through a pull request labelled solution-upgrade.
	code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"test"}, "upgrade": {"on"},
		"source": {sol}, "target": {"main"}, "title": {"Deploy to test"}, "comment": {"Ready #123"}})
	if code != 200 {
		t.Fatalf("deploy test: %d\n%s", code, page)
	}
	pulls := d.GitHub.Pulls()
	if len(pulls) != 1 || pulls[0].Head != sol || pulls[0].Base != "main" || !contains(pulls[0].Labels, devops.UpgradeLabel) {
		t.Fatalf("pull requests: %+v", pulls)
	}
	if !strings.Contains(pulls[0].Body, "The solution is new on main.") || !regexp.MustCompile(`(?m)^\| ➕ added \| cloud flow \| Find sites`).MatchString(pulls[0].Body) {
		t.Fatalf("the description lists no components:\n%s", pulls[0].Body)
	}
	// Prod through the environment approval.
	code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"prod"}, "source": {sol}, "target": {"main"}})
	if code != 200 {
		t.Fatalf("deploy prod: %d\n%s", code, page)
	}
	for _, env := range []string{"test", "prod"} {
		got, err := findEnv(d, env).Client.GetSolution(context.Background(), sol)
		if err != nil || !got.IsManaged {
			t.Fatalf("%s: solution %+v, %v", env, got, err)
		}
	}

	// Delete needs the name typed; then it is gone from dev.
	code, _ = b.post("/solutions/"+sol+"/delete", url.Values{"confirm": {"yes"}})
	if code != 400 {
		t.Fatalf("unconfirmed delete: %d", code)
	}
	if _, err := findEnv(d, "dev").Client.GetSolution(context.Background(), sol); err != nil {
		t.Fatal("unconfirmed delete deleted")
	}
	_, page = b.get("/solutions/" + sol + "/delete")
	mustContain(t, "delete confirmation", page, "This deletes solution <strong>"+sol+"</strong> from environment <strong>dev</strong>")
	if code, page = b.post("/solutions/"+sol+"/delete", url.Values{"confirm": {sol}}); code != 200 {
		t.Fatalf("delete: %d\n%s", code, page)
	}
	if _, err := findEnv(d, "dev").Client.GetSolution(context.Background(), sol); err == nil {
		t.Fatal("still in dev after delete")
	}
	// Import from the branch brings it back, unmanaged.
	code, page = b.post("/import", url.Values{"profile": {DemoProfile}, "branch": {"no such"}, "folder": {sol}})
	if code != 400 || !strings.Contains(page, `id="branch-error"`) {
		t.Fatalf("bad import: %d", code)
	}
	if code, page = b.post("/import", url.Values{"profile": {DemoProfile}, "branch": {sol}, "folder": {sol}}); code != 200 {
		t.Fatalf("import: %d\n%s", code, page)
	}
	got, err := findEnv(d, "dev").Client.GetSolution(context.Background(), sol)
	if err != nil || got.IsManaged {
		t.Fatalf("dev after import: %+v, %v", got, err)
	}

	// History lists all of it, newest first.
	_, page = b.get("/solutions/" + sol + "/history")
	mustContain(t, "history", page, "import", "delete", "deploy", "commit", "pull request #1", emailOf(d))
	if i, j := strings.Index(page, ">import<"), strings.Index(page, ">commit<"); i < 0 || j < 0 || i > j {
		t.Fatalf("history not newest first:\n%s", page)
	}
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Fatal("the history refreshes although nothing runs")
	}
	if strings.Contains(page, d.Options.Token) || strings.Contains(page, d.GitHub.Token) {
		t.Fatal("a token reached the page")
	}
}

// TestRefusesForeignRequests: a cross-site post and a foreign Host header.
func TestRefusesForeignRequests(t *testing.T) {
	d, base := app(t)
	b := newClient(t, base)
	b.get("/start?environment=dev")

	// No CSRF token (what another site's form would send).
	resp, err := b.c.PostForm(base+"/environment", url.Values{"environment": {"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("post without token: %d", resp.StatusCode)
	}
	// With the right token but from another origin.
	_, page := b.get("/environment")
	tok := csrfRe.FindStringSubmatch(page)[1]
	req, _ := http.NewRequest("POST", base+"/solutions/"+fixtures.DemoSolutionName+"/delete", strings.NewReader(url.Values{"csrf": {tok}, "confirm": {fixtures.DemoSolutionName}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err = b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("cross-origin post: %d", resp.StatusCode)
	}
	if _, err := findEnv(d, "dev").Client.GetSolution(context.Background(), fixtures.DemoSolutionName); err != nil {
		t.Fatal("a refused delete deleted")
	}
	// DNS rebinding: the right address, another name.
	req, _ = http.NewRequest("GET", base+"/", nil)
	req.Host = "evil.example:" + strings.Split(base, ":")[2]
	resp, err = b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(body), fixtures.DemoSolutionName) {
		t.Fatalf("foreign Host: %d %s", resp.StatusCode, body)
	}
}

func findEnv(d *Demo, name string) Environment {
	for _, e := range d.Options.Environments {
		if e.Name == name {
			return e
		}
	}
	return Environment{}
}

func emailOf(d *Demo) string { return d.Options.Maker.Email }

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestPipelineHostQueuesRuns: with a GitHub profile and no in-app runner,
// Commit dispatches the export workflow with its inputs and Deploy to prod
// dispatches the deployment workflow; a workflow the repository lacks is a
// failed request, not a success.
func TestPipelineHostQueuesRuns(t *testing.T) {
	d, err := StartDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	d.GitHub.AddWorkflow(devopstest.GitHubWorkflow{File: "export-solution-to-git.yml", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
		"solution-name": {Required: true}, "commit-message": {Required: true}, "branch": {}}})
	d.Options.RunsPipelines = false
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	s, err := New(ln.Addr().String(), d.Options)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	b := newClient(t, "http://"+ln.Addr().String())
	sol := fixtures.DemoSolutionName
	b.get("/start?environment=dev")
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}})

	code, page := b.post("/solutions/"+sol+"/commit", url.Values{"comment": {"Fix #123"}, "branch": {sol}, "base": {"main"}})
	if code != 200 {
		t.Fatalf("commit: %d\n%s", code, page)
	}
	ds := d.GitHub.Dispatches()
	if len(ds) != 1 || ds[0].Workflow != "export-solution-to-git.yml" || ds[0].Ref != "main" ||
		ds[0].Inputs["solution-name"] != sol || ds[0].Inputs["commit-message"] != "Fix #123" || ds[0].Inputs["branch"] != sol {
		t.Fatalf("dispatches: %+v", ds)
	}
	mustContain(t, "queued commit", page, "queued", "/contoso/alm-repo/actions/runs/")

	code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"prod"}, "source": {sol}, "target": {"main"}})
	if code != 502 || !strings.Contains(page, "deploy-prod.yml does not exist") {
		t.Fatalf("deploy with a missing workflow: %d\n%s", code, page)
	}
	d.GitHub.AddWorkflow(devopstest.GitHubWorkflow{File: "deploy-prod.yml", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
		"solution-name": {Required: true}, "environment": {}, "upgrade": {}}})
	code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"prod"}, "upgrade": {"on"}, "source": {sol}, "target": {"main"}})
	if code != 200 {
		t.Fatalf("deploy prod: %d\n%s", code, page)
	}
	ds = d.GitHub.Dispatches()
	if len(ds) != 2 || ds[1].Workflow != "deploy-prod.yml" || ds[1].Inputs["environment"] != "prod" || ds[1].Inputs["upgrade"] != "true" {
		t.Fatalf("dispatches: %+v", ds)
	}
	if _, err := findEnv(d, "prod").Client.GetSolution(context.Background(), sol); err == nil {
		t.Fatal("the app deployed itself although a pipeline host runs the deployment")
	}
	_, page = b.get("/solutions/" + sol + "/history")
	mustContain(t, "history", page, "queued", "failed", "deploy-prod.yml", `http-equiv="refresh"`)
}
