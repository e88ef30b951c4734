package gitops

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
)

func TestScrub(t *testing.T) {
	base := transport.ErrAuthenticationRequired
	err := fmt.Errorf("push to https://user:p%%40ss@dev.azure.com/org/_git/repo with p@ss and p%%40ss: %w", base)
	got := scrub(err, "p@ss")
	if strings.Contains(got.Error(), "p@ss") || strings.Contains(got.Error(), "p%40ss") {
		t.Fatalf("scrubbed text still has the token: %s", got)
	}
	if !strings.Contains(got.Error(), "https://user:***@dev.azure.com/org/_git/repo") {
		t.Fatalf("URL not redacted as expected: %s", got)
	}
	if !errors.Is(got, base) {
		t.Fatal("scrubbed error lost its cause")
	}
	plain := errors.New("nothing secret")
	if scrub(plain, "tok") != plain {
		t.Fatal("an error without secrets was rewrapped")
	}
}

func TestRemoteURLAndAuth(t *testing.T) {
	clean, user, pass := remoteURL("https://contoso@dev.azure.com/contoso/proj/_git/repo")
	if clean != "https://dev.azure.com/contoso/proj/_git/repo" || user != "contoso" || pass != "" {
		t.Fatalf("remoteURL = %q, %q, %q", clean, user, pass)
	}
	auth := func(u, user, pass, tok string) transport.AuthMethod {
		t.Helper()
		a, err := authFor(u, user, pass, tok)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, ok := auth(clean, user, "", "pat").(*http.BasicAuth)
	if !ok || a.Username != "contoso" || a.Password != "pat" {
		t.Fatalf("auth = %#v", a)
	}
	a, _ = auth("https://github.com/o/r.git", "", "", "ghs_x").(*http.BasicAuth)
	if a == nil || a.Username != "x-access-token" {
		t.Fatalf("GitHub auth = %#v", a)
	}
	if auth("https://github.com/o/r.git", "", "", "") != nil || auth("/local/path", "", "", "t") != nil {
		t.Fatal("auth without token or for a path")
	}
	// A password in the URL is used, not dropped, and wins over the
	// ambient token.
	a, _ = auth("https://dev.azure.com/o/p/_git/r", "alex", "urlpat", "ambient").(*http.BasicAuth)
	if a == nil || a.Username != "alex" || a.Password != "urlpat" {
		t.Fatalf("URL password auth = %#v", a)
	}
	for s, want := range map[string]bool{
		"https://dev.azure.com/o/p/_git/r": true, "https://o.visualstudio.com/p/_git/r": true,
		"https://github.com/o/r": false, "http://127.0.0.1:1/r.git": false,
	} {
		if isAzureRepos(s) != want {
			t.Errorf("isAzureRepos(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"https://github.com/o/r": true, "file:///tmp/r": true, "git@github.com:o/r.git": true,
		`C:\src\repo`: false, "/work/repo": false, "repo": false,
	} {
		if isURL(s) != want {
			t.Errorf("isURL(%q) = %v", s, !want)
		}
	}
}

func TestTokenFromEnv(t *testing.T) {
	env := map[string]string{"GITHUB_TOKEN": "gh", "SYSTEM_ACCESSTOKEN": "ado"}
	if got := TokenFromEnv(func(k string) string { return env[k] }); got != "ado" {
		t.Fatalf("token = %q, want the Azure DevOps one first", got)
	}
}

func TestAllowMultiACK(t *testing.T) {
	saved := transport.UnsupportedCapabilities
	t.Cleanup(func() { transport.UnsupportedCapabilities = saved; azureOnce = sync.Once{} })
	if !slices.Contains(transport.UnsupportedCapabilities, capability.MultiACK) {
		t.Fatal("go-git no longer strips multi_ack; the Azure Repos workaround may be obsolete")
	}
	allowMultiACK()
	if got := transport.UnsupportedCapabilities; len(got) != 1 || got[0] != capability.ThinPack {
		t.Fatalf("UnsupportedCapabilities = %v, want only thin-pack", got)
	}
}

// Credentials never go over plain http to a host other than this machine.
func TestAuthRefusesCleartext(t *testing.T) {
	for _, tc := range []struct{ url, user, pass, token string }{
		{"http://git.contoso.example/r.git", "", "", "tok"},
		{"http://10.0.0.5:8080/r.git", "alex", "pw", ""},
		{"http://git.contoso.example/r.git", "alex", "", ""},
	} {
		_, err := authFor(tc.url, tc.user, tc.pass, tc.token)
		if err == nil || !strings.Contains(err.Error(), "plain http") || !strings.Contains(err.Error(), "https") {
			t.Errorf("authFor(%s) = %v, want a refusal naming http and https", tc.url, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9/r.git", "http://localhost/r.git", "http://[::1]:9/r.git"} {
		if _, err := authFor(u, "", "", "tok"); err != nil {
			t.Errorf("loopback %s refused: %v", u, err)
		}
	}
	if a, err := authFor("http://git.contoso.example/r.git", "", "", ""); a != nil || err != nil {
		t.Errorf("anonymous http = %v, %v; want allowed (nothing secret is sent)", a, err)
	}
}
