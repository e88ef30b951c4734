package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
)

// entraStandIn answers the OAuth 2.0 device authorization grant as Entra
// ID does for a public client (the OpenID configuration, /devicecode,
// /token with the device_code and refresh_token grants), signing in
// emulator.Maker. Its access tokens are unsigned JWTs with Maker's oid,
// upn and name; the emulator and the Azure DevOps fake take them.
type entraStandIn struct {
	*httptest.Server
	mu      sync.Mutex
	grants  []string // grant_type of each token request
	scopes  []string
	deviceN int
}

const standInTenant = emulator.TenantID

func jwt(claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	c, _ := json.Marshal(claims)
	return enc([]byte(`{"typ":"JWT","alg":"none"}`)) + "." + enc(c) + "."
}

func (e *entraStandIn) accessToken() string {
	return jwt(map[string]any{"oid": emulator.Maker.ObjectID, "upn": emulator.Maker.Email, "name": emulator.Maker.Name, "tid": standInTenant})
}

func newEntraStandIn(t *testing.T) *entraStandIn {
	e := &entraStandIn{}
	e.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		base := e.URL + "/" + standInTenant
		answer := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
			answer(200, map[string]any{"authorization_endpoint": base + "/oauth2/v2.0/authorize", "token_endpoint": base + "/oauth2/v2.0/token",
				"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode", "issuer": base + "/v2.0"})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/devicecode"):
			e.mu.Lock()
			e.deviceN++
			e.mu.Unlock()
			answer(200, map[string]any{"user_code": "PPALM-2468", "device_code": "device-code-1", "verification_uri": "https://microsoft.com/devicelogin",
				"expires_in": 900, "interval": 1,
				"message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code PPALM-2468 to authenticate."})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			e.mu.Lock()
			e.grants = append(e.grants, r.PostForm.Get("grant_type"))
			e.scopes = append(e.scopes, r.PostForm.Get("scope"))
			e.mu.Unlock()
			clientID := r.PostForm.Get("client_id")
			info, _ := json.Marshal(map[string]string{"uid": emulator.Maker.ObjectID, "utid": standInTenant})
			answer(200, map[string]any{"token_type": "Bearer", "scope": r.PostForm.Get("scope"), "expires_in": 3600, "ext_expires_in": 3600,
				"access_token": e.accessToken(), "refresh_token": "refresh-token-of-the-maker",
				"client_info": base64.RawURLEncoding.EncodeToString(info),
				"id_token": jwt(map[string]any{"aud": clientID, "iss": base + "/v2.0", "iat": time.Now().Unix(), "nbf": time.Now().Unix(),
					"exp": time.Now().Add(time.Hour).Unix(), "oid": emulator.Maker.ObjectID, "sub": "maker-sub", "tid": standInTenant,
					"preferred_username": emulator.Maker.Email, "name": emulator.Maker.Name, "ver": "2.0"})})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

// TestMakerLocalModeSignsInWithDeviceCode runs `ppalm maker --repo URL
// --sign-in device-code` against an Entra stand-in: the device code goes to
// the terminal, the app serves as the signed-in maker, and Commit queues the
// export pipeline on Azure DevOps with the maker's token.
func TestMakerLocalModeSignsInWithDeviceCode(t *testing.T) {
	entra := newEntraStandIn(t)

	emu, err := emulator.New(emulator.Options{Environments: []string{"dev", "test", "prod"},
		SeedZips: map[string][][]byte{"dev": {fixtures.DemoSolution}}, AsyncPolls: 1})
	if err != nil {
		t.Fatal(err)
	}
	emuSrv := httptest.NewServer(emu.Handler())
	t.Cleanup(emuSrv.Close)

	const gitToken = "git-token-of-the-maker"
	gs := githttp.NewServer(filepath.Join(t.TempDir(), "git"), githttp.WithBasicAuth("maker", gitToken))
	if _, err := gs.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	gitSrv := httptest.NewServer(gs.Handler())
	t.Cleanup(gitSrv.Close)
	repo := strings.Replace(gitSrv.URL, "http://", "http://maker:"+gitToken+"@", 1) + "/alm.git"

	ado := devopstest.NewAzureDevOps(t)
	ado.EntraToken = entra.accessToken()
	ado.AddPipeline(devopstest.AzurePipeline{ID: 7, Name: "export-solution-to-git", Parameters: []devopstest.AzureParameter{
		{Name: "solutionName", Required: true}, {Name: "commitMessage", Required: true}, {Name: "branch"}}})
	seed := t.TempDir()
	profiles := fmt.Sprintf("profiles:\n  - name: Contoso\n    host: azure-devops\n    organization: %s\n    project: %s\n    repository: %s\n"+
		"    exportPipeline: export-solution-to-git\n    steps:\n      - {environment: test, url: %s/test, approval: pull-request}\n",
		ado.OrganizationURL(), ado.Project, ado.Repository, emuSrv.URL)
	if err := os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitops.Commit(context.Background(), gitops.CommitOptions{Repo: repo, Branch: "main", Base: "main", Folder: seed, Path: ".ppalm",
		Message: "profiles", Author: gitops.Signature{Name: "Admin", Email: "admin@contoso.example"}, Push: true}); err != nil {
		t.Fatal(err)
	}

	outR, outW := io.Pipe()
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		f := &Factory{Stdout: outW, Stderr: &stderr, Getenv: func(string) string { return "" },
			Entra: azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"}, Transport: entra.Client()}}
		done <- run(ctx, f, []string{"maker", "--repo", repo, "--sign-in", "device-code", "--tenant-id", standInTenant,
			"--environment", "dev=" + emuSrv.URL + "/dev", "--no-browser"})
		outW.Close()
	}()
	defer func() {
		cancel()
		go io.Copy(io.Discard, outR)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("maker did not stop")
		}
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`^maker app on (http://127\.0\.0\.1:\d+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	if s := stderr.String(); !strings.Contains(s, "enter the code PPALM-2468") || !strings.Contains(s, "signed in as "+emulator.Maker.Email) {
		t.Fatalf("terminal:\n%s", s)
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: time.Minute}
	get := func(path string) string {
		resp, err := hc.Get(m[1] + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), entra.accessToken()) || strings.Contains(string(b), gitToken) || strings.Contains(string(b), "PPALM-2468") {
			t.Fatalf("a token or the device code reached the page %s", path)
		}
		return string(b)
	}
	post := func(path string, v url.Values) string {
		page := get(path)
		tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if tok == nil {
			t.Fatalf("no form on %s:\n%s", path, page)
		}
		v.Set("csrf", tok[1])
		resp, err := hc.PostForm(m[1]+strings.TrimPrefix(path, "/"), v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if page := get("/start?environment=dev"); !strings.Contains(page, emulator.Maker.Email) || !strings.Contains(page, fixtures.DemoSolutionName) {
		t.Fatalf("solutions as the maker:\n%s", page)
	}
	sol := fixtures.DemoSolutionName
	post("/solutions/"+sol+"/profile", url.Values{"profile": {"Contoso"}})
	if page := post("/solutions/"+sol+"/commit", url.Values{"comment": {"From my machine #7"}}); !strings.Contains(page, "queued") {
		t.Fatalf("commit:\n%s", page)
	}
	if bs := ado.Builds(); len(bs) != 1 || bs[0].TemplateParameters["commitMessage"] != "From my machine #7" || bs[0].RequestedFor == "" {
		t.Fatalf("runs: %+v", bs)
	}
	entra.mu.Lock()
	defer entra.mu.Unlock()
	if entra.deviceN != 1 || entra.grants[0] != "device_code" {
		t.Fatalf("sign-ins: %d device codes, grants %v", entra.deviceN, entra.grants)
	}
	if !strings.Contains(strings.Join(entra.scopes, " "), "499b84ac-1321-427f-aa17-267ca6975798/.default") {
		t.Fatalf("no Azure DevOps token was asked for: %v", entra.scopes)
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
