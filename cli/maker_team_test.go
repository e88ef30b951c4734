package cli

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
	"github.com/ppalm/ppalm/maker/teamauth"
)

// serving runs ppalm with args until the test ends and returns the URL of
// its "maker app on URL" line.
func serving(t *testing.T, f *Factory, args ...string) string {
	t.Helper()
	outR, outW := io.Pipe()
	f.Stdout = outW
	terminal := f.Stderr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		code := run(ctx, f, args)
		outW.Close() // a run that ends before serving ends the wait for its URL
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, outR)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("maker did not stop")
		}
	})
	type read struct {
		line string
		err  error
	}
	first := make(chan read, 1)
	go func() {
		line, err := bufio.NewReader(outR).ReadString('\n')
		first <- read{line, err}
	}()
	var line string
	select {
	case r := <-first:
		if r.err != nil {
			t.Fatalf("no URL line: %v; terminal:\n%v", r.err, terminal)
		}
		line = r.line
	case <-time.After(2 * time.Minute):
		// A sign-in that waits for someone (a device code nobody enters).
		t.Fatalf("no URL line after two minutes; terminal:\n%v", terminal)
	}
	m := regexp.MustCompile(`^maker app on (http://127\.0\.0\.1:\d+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	return m[1]
}

func getPage(t *testing.T, hc *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMakerTeamMode runs `ppalm maker --listen … --public-url …` against an
// Entra tenant (the stand-in) with the app registration's secret and the
// session key from the environment: signed out it asks to sign in, the
// health probe answers, and a signed-in maker sees their environment's
// solutions, read from Dataverse on their behalf.
func TestMakerTeamMode(t *testing.T) {
	tenant := entratest.New(t, entratest.Options{})
	tenant.AddUser(entratest.User{ObjectID: emulator.Maker.ObjectID, UPN: emulator.Maker.Email, Name: emulator.Maker.Name})
	emu, err := emulator.New(emulator.Options{Environments: []string{"dev"}, SeedZips: map[string][][]byte{"dev": {fixtures.DemoSolution}}})
	if err != nil {
		t.Fatal(err)
	}
	emuSrv := httptest.NewServer(emu.Handler())
	t.Cleanup(emuSrv.Close)
	const gitToken = "team-git-token"
	gs := githttp.NewServer(filepath.Join(t.TempDir(), "git"), githttp.WithBasicAuth("maker", gitToken))
	if _, err := gs.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	gitSrv := httptest.NewServer(gs.Handler())
	t.Cleanup(gitSrv.Close)
	repo := strings.Replace(gitSrv.URL, "http://", "http://maker:"+gitToken+"@", 1) + "/alm.git"
	seed := t.TempDir()
	os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte("profiles: []\n"), 0o644)
	if _, err := gitops.Commit(context.Background(), gitops.CommitOptions{Repo: repo, Branch: "main", Base: "main", Folder: seed, Path: ".ppalm",
		Message: "profiles", Author: gitops.Signature{Name: "Admin", Email: "admin@contoso.example"}, Push: true}); err != nil {
		t.Fatal(err)
	}

	// The public URL names the port the app will listen on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	public := "http://" + addr
	const clientID, secret = "3c5a7e10-0000-4000-8000-0000000000c1", "app-secret-for-the-team"
	tenant.AddApp(entratest.App{ClientID: clientID, Secret: secret, RedirectURIs: []string{public + teamauth.CallbackPath, public + teamauth.SignedOutPath},
		IdentifierURIs: []string{"api://" + clientID}})
	key := teamauth.GenerateSessionKey()
	env := map[string]string{"AZURE_CLIENT_SECRET": secret, "PPALM_SESSION_KEYS": key}
	var stderr syncBuffer
	f := &Factory{Stderr: &stderr, Getenv: func(k string) string { return env[k] },
		Entra: azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: tenant.AuthorityHost()}, Transport: tenant.HTTPClient()}}
	base := serving(t, f, "maker", "--listen", addr, "--public-url", public, "--repo", repo, "--tenant-id", tenant.TenantID, "--client-id", clientID,
		"--environment", "dev="+emuSrv.URL+"/dev")

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	if code, page := getPage(t, hc, base); code != 401 || !strings.Contains(page, "Sign in to ppalm maker") {
		t.Fatalf("signed out: %d\n%s", code, page)
	}
	if code, page := getPage(t, hc, base+"healthz"); code != 200 || page != "ok\n" {
		t.Fatalf("health: %d %q", code, page)
	}
	code, page := getPage(t, hc, base+"auth/signin?"+url.Values{"return": {"/start?environment=dev"}, "login_hint": {emulator.Maker.Email}}.Encode())
	if code != 200 || !strings.Contains(page, "Solutions in dev") || !strings.Contains(page, fixtures.DemoSolutionName) || !strings.Contains(page, emulator.Maker.Email) {
		t.Fatalf("signed in: %d\n%s", code, page)
	}
	if n := tenant.Requests()["token on_behalf_of"]; n == 0 {
		t.Error("Dataverse was not called on the maker's behalf")
	}
	for _, s := range []string{secret, key, gitToken} {
		if strings.Contains(stderr.String(), s) || strings.Contains(page, s) {
			t.Fatal("a secret was printed or shown")
		}
	}
}

// TestMakerDemoTeam: `ppalm maker --demo --team` signs makers in on its
// Entra stand-in; the admin reaches the profiles.
func TestMakerDemoTeam(t *testing.T) {
	var stderr syncBuffer
	base := serving(t, &Factory{Stderr: &stderr, Getenv: func(string) string { return "" }}, "maker", "--demo", "--team", "--no-browser")
	if !strings.Contains(stderr.String(), "sign in as "+emulator.Maker.Email) {
		t.Fatalf("stderr: %s", stderr.String())
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	if code, _ := getPage(t, hc, base+"admin"); code != 401 {
		t.Fatalf("signed out: %d", code)
	}
	code, page := getPage(t, hc, base+"auth/signin?"+url.Values{"return": {"/admin"}, "login_hint": {emulator.Admin.Email}}.Encode())
	if code != 200 || !strings.Contains(page, "New profile") || !strings.Contains(page, emulator.Admin.Email) {
		t.Fatalf("the admin signed in: %d\n%s", code, page)
	}
}

// TestMakerTeamModeFlags: team mode's flags and secrets are checked before
// anything is served, and no secret is quoted.
func TestMakerTeamModeFlags(t *testing.T) {
	team := []string{"maker", "--public-url", "https://maker.contoso.com", "--repo", "https://dev.azure.com/c/p/_git/r",
		"--environment", "dev=https://contoso-dev.crm.dynamics.com", "--tenant-id", "t", "--client-id", "c"}
	key := teamauth.GenerateSessionKey()
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"maker", "--team", "--repo", "https://dev.azure.com/c/p/_git/r"}, nil, "--team goes with --demo"},
		{[]string{"maker", "--demo", "--team", "--public-url", "https://maker.contoso.com"}, nil, "--demo --team serves on its loopback address"},
		{[]string{"maker", "--demo", "--listen", "0.0.0.0:0"}, nil, "loopback"},
		{[]string{"maker", "--public-url", "https://maker.contoso.com", "--environment", "dev=https://x"}, nil, "team mode: pass --repo"},
		{team, map[string]string{"AZURE_CLIENT_SECRET": "s3cret-value"}, "PPALM_SESSION_KEYS: no session key"},
		{team, map[string]string{"PPALM_SESSION_KEYS": "c2hvcnQ="}, "PPALM_SESSION_KEYS: session key 1: expected base64 of 32 random bytes"},
		{append(team, "--client-certificate", "/nonexistent/app.pem"), map[string]string{"PPALM_SESSION_KEYS": key}, "--client-certificate /nonexistent/app.pem"},
		{team, map[string]string{"PPALM_SESSION_KEYS": key}, "expected exactly one app credential"},
		{append(team, "--public-url", "http://maker.contoso.com"), map[string]string{"PPALM_SESSION_KEYS": key, "AZURE_CLIENT_SECRET": "s3cret-value"}, "http is allowed only on loopback"},
	} {
		_, stderr, code := runCLI(t, tt.env, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
		}
		if strings.Contains(stderr, "s3cret-value") || strings.Contains(stderr, key) {
			t.Errorf("%v: a secret was printed: %s", tt.args, stderr)
		}
	}
}
