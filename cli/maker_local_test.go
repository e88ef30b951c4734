package cli

import (
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
)

const (
	// azureCLIAppID is the public client azidentity signs in through when
	// --client-id is not given (its developerSignOnClientID): the Azure
	// CLI's app, registered with http://localhost for desktop sign-in and
	// open to public client flows.
	azureCLIAppID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// azureDevOpsResource is Azure DevOps' application id, the audience of
	// its Entra tokens.
	azureDevOpsResource = "499b84ac-1321-427f-aa17-267ca6975798"
)

// jwtOnPage finds anything shaped like a JWT (an access, ID or client
// token): none may reach a page or the terminal.
var jwtOnPage = regexp.MustCompile(`eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.`)

// localMaker is what `ppalm maker --repo` meets on a maker's machine: the
// team's Entra tenant (the stand-in) with the maker in it, the Dataverse
// emulator, the team's git repository holding the profiles, and the Azure
// DevOps project whose export pipeline Commit queues. Only the sign-in
// differs between the tests that use it.
type localMaker struct {
	t        *testing.T
	tenant   *entratest.Server
	emu      *httptest.Server
	ado      *devopstest.AzureDevOps
	repo     string
	gitToken string

	mu sync.Mutex
	// adoCallers are the verified claims of each Entra token Azure DevOps
	// received.
	adoCallers []*entra.Claims
}

func newLocalMaker(t *testing.T) *localMaker {
	t.Helper()
	lm := &localMaker{t: t, gitToken: "git-token-of-the-maker"}
	// Nothing of this machine's: no real browser or Azure CLI is reached,
	// whichever sign-in runs. A test puts its stand-ins on PATH.
	onPath(t, nil)
	lm.tenant = entratest.New(t, entratest.Options{TenantID: emulator.TenantID})
	lm.tenant.AddUser(entratest.User{ObjectID: emulator.Maker.ObjectID, UPN: emulator.Maker.Email, Name: emulator.Maker.Name})
	lm.tenant.AddApp(entratest.App{ClientID: azureCLIAppID, NativeRedirectURIs: []string{"http://localhost"}, PublicClient: true})

	emu, err := emulator.New(emulator.Options{Environments: []string{"dev", "test", "prod"},
		SeedZips: map[string][][]byte{"dev": {fixtures.DemoSolution}}, AsyncPolls: 1})
	if err != nil {
		t.Fatal(err)
	}
	lm.emu = httptest.NewServer(emu.Handler())
	t.Cleanup(lm.emu.Close)

	gs := githttp.NewServer(filepath.Join(t.TempDir(), "git"), githttp.WithBasicAuth("maker", lm.gitToken))
	if _, err := gs.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	gitSrv := httptest.NewServer(gs.Handler())
	t.Cleanup(gitSrv.Close)
	lm.repo = strings.Replace(gitSrv.URL, "http://", "http://maker:"+lm.gitToken+"@", 1) + "/alm.git"

	lm.ado = devopstest.NewAzureDevOps(t)
	lm.acceptEntraTokens()
	lm.ado.AddPipeline(devopstest.AzurePipeline{ID: 7, Name: "export-solution-to-git", Parameters: []devopstest.AzureParameter{
		{Name: "solutionName", Required: true}, {Name: "commitMessage", Required: true}, {Name: "branch"}}})
	seed := t.TempDir()
	profiles := fmt.Sprintf("profiles:\n  - name: Contoso\n    host: azure-devops\n    organization: %s\n    project: %s\n    repository: %s\n"+
		"    exportPipeline: export-solution-to-git\n    steps:\n      - {environment: test, url: %s/test, approval: pull-request}\n",
		lm.ado.OrganizationURL(), lm.ado.Project, lm.ado.Repository, lm.emu.URL)
	if err := os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitops.Commit(context.Background(), gitops.CommitOptions{Repo: lm.repo, Branch: "main", Base: "main", Folder: seed, Path: ".ppalm",
		Message: "profiles", Author: gitops.Signature{Name: "Admin", Email: "admin@contoso.example"}, Push: true}); err != nil {
		t.Fatal(err)
	}
	return lm
}

// acceptEntraTokens makes the Azure DevOps fake take what the service
// takes from a maker: a bearer token the tenant signed for Azure DevOps
// (its key, its issuer, aud 499b84ac-…). The fake itself knows one fixed
// token; a token that passes is handed on as that one. It is set before
// any request reaches the fake.
func (lm *localMaker) acceptEntraTokens() {
	const verified = "an-entra-token-the-tenant-signed-for-azure-devops"
	lm.ado.EntraToken = verified
	v := &entra.Verifier{Keys: &entra.KeySet{URI: lm.tenant.AuthorityHost() + lm.tenant.TenantID + "/discovery/v2.0/keys", HC: lm.tenant.HTTPClient()},
		Issuer: lm.tenant.Issuer(), Audiences: []string{azureDevOpsResource}, TenantID: lm.tenant.TenantID}
	next := lm.ado.Config.Handler
	lm.ado.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			if c, err := v.Verify(r.Context(), tok); err == nil {
				lm.mu.Lock()
				lm.adoCallers = append(lm.adoCallers, c)
				lm.mu.Unlock()
				r.Header.Set("Authorization", "Bearer "+verified)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// factory is the maker's terminal and environment: nothing set but what
// the test puts on PATH, and Entra is the stand-in.
func (lm *localMaker) factory(stderr io.Writer) *Factory {
	return &Factory{Stderr: stderr, Getenv: func(string) string { return "" },
		Entra: azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: lm.tenant.AuthorityHost()}, Transport: lm.tenant.HTTPClient()}}
}

func (lm *localMaker) args(signIn string) []string {
	return []string{"maker", "--repo", lm.repo, "--sign-in", signIn, "--tenant-id", lm.tenant.TenantID,
		"--environment", "dev=" + lm.emu.URL + "/dev", "--no-browser"}
}

// serve runs `ppalm maker --repo … --sign-in kind` until the test ends and
// returns the app's URL and the terminal. onTerminal sees each write to
// the terminal as it happens (a prompt the maker acts on).
func (lm *localMaker) serve(kind string, onTerminal func(string)) (string, *syncBuffer) {
	lm.t.Helper()
	stderr := &syncBuffer{}
	var w io.Writer = stderr
	if onTerminal != nil {
		w = watchedWriter{stderr, onTerminal}
	}
	lm.t.Cleanup(func() {
		if jwtOnPage.MatchString(stderr.String()) {
			lm.t.Error("a token reached the terminal")
		}
	})
	return serving(lm.t, lm.factory(w), lm.args(kind)...), stderr
}

// fail runs `ppalm maker --repo … --sign-in kind`, which must stop before
// serving, and returns its exit code and terminal.
func (lm *localMaker) fail(kind string) (int, string) {
	lm.t.Helper()
	var stdout, stderr syncBuffer
	f := lm.factory(&stderr)
	f.Stdout = &stdout
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, f, lm.args(kind))
	if stdout.String() != "" {
		lm.t.Fatalf("the app served: %s", stdout.String())
	}
	return code, stderr.String()
}

// useApp works in the app as the signed-in maker: the solutions of dev,
// a profile, and Commit, which queues the export pipeline on Azure DevOps
// with the maker's Entra token. No page shows a token or any of secrets,
// then or later through the get it returns.
func (lm *localMaker) useApp(base string, secrets ...string) (get func(path string) string) {
	t := lm.t
	t.Helper()
	secrets = append(secrets, lm.gitToken)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	check := func(path string, resp *http.Response) string {
		t.Helper()
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if jwtOnPage.Match(b) {
			t.Fatalf("a token reached the page %s", path)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Fatalf("%q reached the page %s", s, path)
			}
		}
		return string(b)
	}
	get = func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		return check(path, resp)
	}
	post := func(path string, v url.Values) string {
		t.Helper()
		page := get(path)
		tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if tok == nil {
			t.Fatalf("no form on %s:\n%s", path, page)
		}
		v.Set("csrf", tok[1])
		resp, err := hc.PostForm(base+strings.TrimPrefix(path, "/"), v)
		if err != nil {
			t.Fatal(err)
		}
		return check(path, resp)
	}
	if page := get("/start?environment=dev"); !strings.Contains(page, emulator.Maker.Email) || !strings.Contains(page, fixtures.DemoSolutionName) {
		t.Fatalf("solutions as the maker:\n%s", page)
	}
	sol := fixtures.DemoSolutionName
	post("/solutions/"+sol+"/profile", url.Values{"profile": {"Contoso"}})
	if page := post("/solutions/"+sol+"/commit", url.Values{"comment": {"From my machine #7"}}); !strings.Contains(page, "queued") {
		t.Fatalf("commit:\n%s", page)
	}
	if bs := lm.ado.Builds(); len(bs) != 1 || bs[0].TemplateParameters["commitMessage"] != "From my machine #7" || bs[0].RequestedFor == "" {
		t.Fatalf("runs: %+v", bs)
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if len(lm.adoCallers) == 0 {
		t.Fatal("Azure DevOps got no Entra token")
	}
	for _, c := range lm.adoCallers {
		if c.ObjectID != emulator.Maker.ObjectID || c.UPN != emulator.Maker.Email {
			t.Fatalf("Azure DevOps was called as %s (%s), not the maker", c.UPN, c.ObjectID)
		}
	}
	return get
}

// watchedWriter hands each write to watch as well.
type watchedWriter struct {
	io.Writer
	watch func(string)
}

func (w watchedWriter) String() string { return fmt.Sprint(w.Writer) }

func (w watchedWriter) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.watch(string(p))
	return n, err
}

// onPath makes a directory holding scripts (name -> shell script) the
// whole PATH until the test ends. Tests that call it run on Unix only.
func onPath(t *testing.T, scripts map[string]string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in executables are shell scripts")
	}
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
}

var devicePrompt = regexp.MustCompile(`open the page (\S+) and enter the code (\S+) to authenticate`)

// TestMakerLocalModeSignsInWithDeviceCode runs `ppalm maker --repo URL
// --sign-in device-code` against the Entra stand-in: the device code goes
// to the terminal, the maker enters it on the verification page, and the
// app serves as the signed-in maker; Commit queues the export pipeline on
// Azure DevOps with the maker's token.
func TestMakerLocalModeSignsInWithDeviceCode(t *testing.T) {
	lm := newLocalMaker(t)
	entered := make(chan string, 1)
	var person sync.WaitGroup
	base, terminal := lm.serve("device-code", func(s string) {
		m := devicePrompt.FindStringSubmatch(s)
		if m == nil {
			return
		}
		// The maker reads the terminal and signs in on another device
		// while ppalm polls.
		person.Add(1)
		go func() {
			defer person.Done()
			resp, err := http.PostForm(m[1], url.Values{"otc": {m[2]}, "user": {emulator.Maker.ObjectID}})
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "You have signed in") {
				t.Errorf("the verification page: %s", b)
			}
		}()
		entered <- m[2]
	})
	person.Wait()
	var code string
	select {
	case code = <-entered:
	default:
		t.Fatalf("no device code on the terminal:\n%s", terminal.String())
	}
	if s := terminal.String(); !strings.Contains(s, "enter the code "+code) || !strings.Contains(s, "signed in as "+emulator.Maker.Email) {
		t.Fatalf("terminal:\n%s", s)
	}
	lm.useApp(base, code)
	r := lm.tenant.Requests()
	if r["devicecode"] != 1 || r["token device_code"] == 0 || r["authorize"] != 0 {
		t.Fatalf("sign-ins: %v", r)
	}
}

// fakeBrowser is the xdg-open ppalm (through MSAL and pkg/browser) finds on
// PATH: it runs this test binary as the maker's browser
// (TestMakerFakeBrowserProcess), which notes in log each URL it is opened
// on ("open URL") and each authorization code it carries ("code CODE").
func fakeBrowser(t *testing.T, log, userObjectID string) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("#!/bin/sh\nPPALM_FAKE_BROWSER_LOG='%s' PPALM_FAKE_BROWSER_USER='%s' exec '%s' -test.run='^TestMakerFakeBrowserProcess$' -- \"$@\"\n",
		log, userObjectID, bin)
}

var (
	postForm    = regexp.MustCompile(`(?i)<form method="post"(?:[^>]*?action="([^"]*)")?[^>]*>`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// TestMakerFakeBrowserProcess is the maker's browser when the fake
// xdg-open runs it: it opens the URL and, as a person would, submits each
// page's form (picking the maker's account where a page asks) until a page
// has none. Anything else in its way fails the sign-in. In an ordinary
// test run it has nothing to do.
func TestMakerFakeBrowserProcess(t *testing.T) {
	log := os.Getenv("PPALM_FAKE_BROWSER_LOG")
	if log == "" {
		t.Skip("the browser of TestMakerLocalModeSignsInWithBrowser")
	}
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "fake browser: "+format+"\n", a...)
		os.Exit(1)
	}
	if len(flag.Args()) != 1 {
		fail("expected one URL, got %q", flag.Args())
	}
	note, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fail("%v", err)
	}
	defer note.Close()
	fmt.Fprintln(note, "open", flag.Arg(0))
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.Get(flag.Arg(0))
	for range 5 {
		if err != nil {
			fail("%v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := postForm.FindStringSubmatch(string(b))
		if form == nil {
			if resp.StatusCode != http.StatusOK {
				fail("%s answered %d: %s", resp.Request.URL, resp.StatusCode, b)
			}
			if !strings.Contains(string(b), "Authentication complete") {
				fail("the sign-in ended on %s: %s", resp.Request.URL, b)
			}
			note.Close()
			os.Exit(0)
		}
		fields := url.Values{}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(b), -1) {
			fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		if c := fields.Get("code"); c != "" {
			fmt.Fprintln(note, "code", c)
		}
		if strings.Contains(string(b), `name="user"`) {
			fields.Set("user", os.Getenv("PPALM_FAKE_BROWSER_USER"))
		}
		action, perr := resp.Request.URL.Parse(html.UnescapeString(form[1]))
		if perr != nil {
			fail("form action %q: %v", form[1], perr)
		}
		resp, err = hc.PostForm(action.String(), fields)
	}
	fail("still a form after five pages")
}

// TestMakerLocalModeSignsInWithBrowser runs `ppalm maker --repo URL
// --sign-in browser`: azidentity's interactive credential opens the
// system browser (xdg-open, here the fake one) on the tenant's authorize
// page and takes the code on its loopback redirect; the app serves as the
// signed-in maker. ppalm's own browser for the app stays shut
// (--no-browser), so the sign-in is the only page opened.
func TestMakerLocalModeSignsInWithBrowser(t *testing.T) {
	lm := newLocalMaker(t)
	log := filepath.Join(t.TempDir(), "browser.log")
	onPath(t, map[string]string{"xdg-open": fakeBrowser(t, log, emulator.Maker.ObjectID)})
	base, terminal := lm.serve("browser", nil)
	if s := terminal.String(); !strings.Contains(s, "signed in as "+emulator.Maker.Email) {
		t.Fatalf("terminal:\n%s", s)
	}
	notes, _ := os.ReadFile(log)
	var opened, codes []string
	for _, l := range strings.Split(strings.TrimSpace(string(notes)), "\n") {
		if u, ok := strings.CutPrefix(l, "open "); ok {
			opened = append(opened, u)
		} else if c, ok := strings.CutPrefix(l, "code "); ok {
			codes = append(codes, c)
		}
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], lm.tenant.AuthorizeEndpoint()+"?") || len(codes) != 1 {
		t.Fatalf("the browser was opened on %q and carried %d codes; want the authorize page once, one code", opened, len(codes))
	}
	u, _ := url.Parse(opened[0])
	q := u.Query()
	if q.Get("client_id") != azureCLIAppID || !strings.HasPrefix(q.Get("redirect_uri"), "http://localhost:") || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("authorize request: %v", q)
	}
	lm.useApp(base, codes[0], q.Get("state"), q.Get("code_challenge"))
	r := lm.tenant.Requests()
	if r["authorize"] != 2 || r["token authorization_code"] != 1 || r["devicecode"] != 0 {
		// authorize twice: the account picker, then the account picked.
		t.Fatalf("sign-ins: %v", r)
	}
}

// fakeAz answers `az account get-access-token -o json --resource R …` as
// the Azure CLI does for a signed-in maker: out[R] on stdout, else the
// CLI's error for an unknown resource. Each call's arguments go to log.
func fakeAz(log string, out map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\n", log)
	b.WriteString("resource=\nfor a in \"$@\"; do\n  [ \"$prev\" = --resource ] && resource=$a\n  prev=$a\ndone\ncase \"$resource\" in\n")
	for res, o := range out {
		fmt.Fprintf(&b, "  '%s') printf '%%s\\n' '%s' ;;\n", res, o)
	}
	b.WriteString("  *) printf '%s\\n' \"ERROR: AADSTS500011: The resource principal named $resource was not found in the tenant.\" >&2; exit 1 ;;\nesac\n")
	return b.String()
}

// azToken is what `az account get-access-token -o json` prints (Azure CLI
// 2.54 and later: expires_on beside the local expiresOn; MicrosoftDocs
// azure-docs-cli, "refresh-token" include): a token the tenant signed for
// resource, issued to the Azure CLI's app.
func (lm *localMaker) azToken(resource string) string {
	exp := time.Now().Add(time.Hour)
	tok := lm.tenant.Issue(entratest.Token{User: entratest.User{ObjectID: emulator.Maker.ObjectID, UPN: emulator.Maker.Email, Name: emulator.Maker.Name},
		Audience: resource, ClientID: azureCLIAppID, Scopes: []string{"user_impersonation"}})
	return fmt.Sprintf(`{"accessToken": "%s", "expiresOn": "%s", "expires_on": %d, "subscription": "8f2b6c1d-0000-4000-8000-00000000a2b3", "tenant": "%s", "tokenType": "Bearer"}`,
		tok, exp.Format("2006-01-02 15:04:05.000000"), exp.Unix(), lm.tenant.TenantID)
}

// TestMakerLocalModeSignsInWithAzureCLI runs `ppalm maker --repo URL
// --sign-in azure-cli` with the Azure CLI signed in: azidentity asks `az`
// for each resource's token, in the maker's tenant; the app serves as the
// maker and Commit reaches Azure DevOps with the CLI's token.
func TestMakerLocalModeSignsInWithAzureCLI(t *testing.T) {
	lm := newLocalMaker(t)
	dataverse := "https://" + strings.TrimPrefix(lm.emu.URL, "http://")
	log := filepath.Join(t.TempDir(), "az.log")
	onPath(t, map[string]string{"az": fakeAz(log, map[string]string{
		dataverse: lm.azToken(dataverse), azureDevOpsResource: lm.azToken(azureDevOpsResource)})})
	base, terminal := lm.serve("azure-cli", nil)
	if s := terminal.String(); !strings.Contains(s, "signed in as "+emulator.Maker.Email) {
		t.Fatalf("terminal:\n%s", s)
	}
	get := lm.useApp(base)
	// The request history asks Azure DevOps for the run, twice per page.
	for range 2 {
		if page := get("/solutions/" + fixtures.DemoSolutionName + "/history"); !strings.Contains(page, "From my machine #7") {
			t.Fatalf("history:\n%s", page)
		}
	}
	calls, _ := os.ReadFile(log)
	asked := map[string]int{}
	for _, c := range strings.Split(strings.TrimSpace(string(calls)), "\n") {
		m := regexp.MustCompile(`^account get-access-token -o json --resource (\S+) --tenant (\S+)$`).FindStringSubmatch(c)
		if m == nil || m[2] != lm.tenant.TenantID {
			t.Fatalf("az was run as `az %s`", c)
		}
		asked[m[1]]++
	}
	// One run of az per resource: every run starts the CLI (a Python
	// program) and azidentity keeps no token of it.
	if asked[dataverse] != 1 || asked[azureDevOpsResource] != 1 || len(asked) != 2 {
		t.Fatalf("az was asked for %v; want each resource once", asked)
	}
	if r := lm.tenant.Requests(); r["token authorization_code"]+r["token device_code"]+r["token refresh_token"] != 0 {
		t.Fatalf("ppalm went to Entra itself: %v", r)
	}
}

// TestAzureCLITokensKeptUntilTheyExpire: the Azure CLI sign-in runs az
// once per scope while the token has more than five minutes left, and
// again after.
func TestAzureCLITokensKeptUntilTheyExpire(t *testing.T) {
	log := filepath.Join(t.TempDir(), "az.log")
	exp := time.Now().Add(time.Hour)
	out := func(tok string) string {
		return fmt.Sprintf(`{"accessToken": "%s", "expiresOn": "%s", "expires_on": %d, "subscription": "s", "tenant": "%s", "tokenType": "Bearer"}`,
			tok, exp.Format("2006-01-02 15:04:05.000000"), exp.Unix(), emulator.TenantID)
	}
	onPath(t, map[string]string{"az": fakeAz(log, map[string]string{"https://contoso.crm.dynamics.com": out("dataverse-token"), azureDevOpsResource: out("devops-token")})})
	cred, err := signIn(signInAzureCLI, emulator.TenantID, "", azcore.ClientOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	clock := entratest.NewClock(time.Now())
	cred.(*azureCLI).now = clock.Now
	runs := func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n")
	}
	get := func(scope, want string) {
		t.Helper()
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil || tok.Token != want {
			t.Fatalf("%s: %q, %v", scope, tok.Token, err)
		}
	}
	get("https://contoso.crm.dynamics.com/.default", "dataverse-token")
	get("https://contoso.crm.dynamics.com/.default", "dataverse-token")
	get(azureDevOpsResource+"/.default", "devops-token")
	if n := runs(); n != 2 {
		t.Fatalf("az ran %d times for two scopes", n)
	}
	clock.Add(56 * time.Minute) // four minutes left: az again
	get("https://contoso.crm.dynamics.com/.default", "dataverse-token")
	if n := runs(); n != 3 {
		t.Fatalf("az ran %d times; want a third run near the expiry", n)
	}
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://other.crm.dynamics.com/.default"}}); err == nil {
		t.Fatal("az's refusal was not reported")
	}
}

// TestMakerLocalModeAzureCLIFailures: what a maker meets before the CLI is
// ready stops ppalm, before anything is served, with one line saying what
// to do: not azidentity's credential name, link or wrapping.
func TestMakerLocalModeAzureCLIFailures(t *testing.T) {
	for _, tt := range []struct {
		name string
		az   string // the script on PATH; "" for none
		want string
	}{
		{"not installed", "", "--sign-in azure-cli: the Azure CLI (az) is not on PATH; use --sign-in browser or device-code"},
		// What the Azure CLI says with no account (Azure/sap-automation#588).
		{"not logged in", "printf '%s\\n' \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1",
			"--sign-in azure-cli: the Azure CLI is not signed in: run `az login --tenant " + emulator.TenantID +
				"` and try again (or use --sign-in browser or device-code)"},
		// Its refresh token unused for 90 days (microsoft/ARI#10).
		{"sign-in expired", "printf '%s\\n' \"ERROR: AADSTS700082: The refresh token has expired due to inactivity.\" >&2; exit 1",
			"--sign-in azure-cli: the Azure CLI gave no token: ERROR: AADSTS700082: The refresh token has expired due to inactivity."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lm := newLocalMaker(t)
			scripts := map[string]string{}
			if tt.az != "" {
				scripts["az"] = "#!/bin/sh\n" + tt.az + "\n"
			}
			onPath(t, scripts)
			code, stderr := lm.fail("azure-cli")
			if code == 0 || stderr != "ppalm: "+tt.want+"\n" {
				t.Fatalf("exit %d:\n%s\nwant:\nppalm: %s", code, stderr, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the command's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
