package entratest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/entra/entratest"
)

// desktopAppID is a public client: the Azure CLI's app id, which
// azidentity's interactive and device code credentials use by default.
const desktopAppID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

func publicStandIn(t *testing.T) *entratest.Server {
	s := standIn(t)
	s.AddApp(entratest.App{ClientID: desktopAppID, NativeRedirectURIs: []string{"http://localhost"}, PublicClient: true})
	return s
}

// publicToken posts a token request as a public client would: no secret
// unless form carries one. It returns the JSON answer and the status.
func publicToken(t *testing.T, s *entratest.Server, form url.Values) (map[string]any, int) {
	t.Helper()
	resp, err := s.HTTPClient().PostForm(s.TokenEndpoint(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// authorizeFormPost asks for a code with response_mode=form_post, as MSAL's
// interactive sign-in does, and returns the page's form target and fields.
func authorizeFormPost(t *testing.T, s *entratest.Server, clientID, redirect, challenge string) (int, string, url.Values) {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "response_mode": {"form_post"},
		"scope": {"https://contoso-test.crm.dynamics.com/.default openid offline_access profile"}, "state": {"st-9"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "login_hint": {megan.UPN}, "prompt": {"select_account"}}
	resp, err := http.Get(s.AuthorizeEndpoint() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	action := regexp.MustCompile(`<form method="POST" name="hiddenform" action="([^"]+)"`).FindStringSubmatch(string(b))
	if action == nil {
		return resp.StatusCode, string(b), nil
	}
	fields := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(b), -1) {
		fields.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return resp.StatusCode, html.UnescapeString(action[1]), fields
}

func TestPublicClientLoopbackRedirectOnAnyPort(t *testing.T) {
	s := publicStandIn(t)
	const verifier = "public-client-verifier-0123456789-0123456789-abc"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])

	// MSAL listens on http://localhost:{a free port}; the app registered
	// http://localhost.
	status, action, fields := authorizeFormPost(t, s, desktopAppID, "http://localhost:54321", challenge)
	if status != 200 || action != "http://localhost:54321" || fields.Get("code") == "" || fields.Get("state") != "st-9" {
		t.Fatalf("form_post answer: %d %q %v", status, action, fields)
	}
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {desktopAppID}, "code": {fields.Get("code")},
		"redirect_uri": {"http://localhost:54321"}, "code_verifier": {verifier}, "client_info": {"1"},
		"scope": {"https://contoso-test.crm.dynamics.com/.default openid offline_access profile"}}
	out, code := publicToken(t, s, redeem)
	if code != 200 || out["access_token"] == nil || out["refresh_token"] == nil || out["id_token"] == nil {
		t.Fatalf("public code redemption: %d %v", code, out)
	}
	// Its refresh token serves another resource, still without a secret.
	out, code = publicToken(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {desktopAppID},
		"refresh_token": {out["refresh_token"].(string)}, "scope": {"499b84ac-1321-427f-aa17-267ca6975798/.default openid offline_access"}})
	if code != 200 {
		t.Fatalf("public refresh: %d %v", code, out)
	}
	v := &entra.Verifier{Keys: &entra.KeySet{URI: s.AuthorityHost() + s.TenantID + "/discovery/v2.0/keys", HC: s.HTTPClient()},
		Issuer: s.Issuer(), Audiences: []string{"499b84ac-1321-427f-aa17-267ca6975798"}}
	if c, err := v.Verify(context.Background(), out["access_token"].(string)); err != nil || c.UPN != megan.UPN || c.AppID != desktopAppID {
		t.Fatalf("Azure DevOps token: %+v %v", c, err)
	}

	// A public client presenting a secret is refused.
	_, _, fields = authorizeFormPost(t, s, desktopAppID, "http://localhost:40000", challenge)
	redeem.Set("code", fields.Get("code"))
	redeem.Set("redirect_uri", "http://localhost:40000")
	redeem.Set("client_secret", "anything")
	if out, code := publicToken(t, s, redeem); code != 401 || !strings.Contains(out["error_description"].(string), "AADSTS700025") {
		t.Errorf("public client with a secret: %d %v", code, out)
	}

	// Only the port is free: another path or host is not the registered URI.
	for _, other := range []string{"http://localhost:54321/callback", "http://127.0.0.1:54321", "http://localhost.evil.example:54321"} {
		if status, page, _ := authorizeFormPost(t, s, desktopAppID, other, challenge); status != 400 || !strings.Contains(page, "AADSTS50011") {
			t.Errorf("%s: %d %s", other, status, page)
		}
	}

	// A code issued to a Web redirect URI needs the app's secret.
	s.AddApp(entratest.App{ClientID: otherAppID, Secret: "other", RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"}})
	_, _, fields = authorizeFormPost(t, s, otherAppID, "http://127.0.0.1:9999/auth/callback", challenge)
	out, code = publicToken(t, s, url.Values{"grant_type": {"authorization_code"}, "client_id": {otherAppID}, "code": {fields.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9999/auth/callback"}, "code_verifier": {verifier}})
	if code != 401 || !strings.Contains(out["error_description"].(string), "AADSTS7000218") {
		t.Errorf("confidential client without its secret: %d %v", code, out)
	}
}

// enterCode plays the person at the verification page: it types the code
// and picks the account.
func enterCode(t *testing.T, page, code, user string) string {
	t.Helper()
	resp, err := http.PostForm(page, url.Values{"otc": {code}, "user": {user}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestDeviceCodeFlow(t *testing.T) {
	s := publicStandIn(t)
	resp, err := s.HTTPClient().PostForm(strings.Replace(s.TokenEndpoint(), "/token", "/devicecode", 1),
		url.Values{"client_id": {desktopAppID}, "scope": {dataverse + "/.default openid offline_access profile"}})
	if err != nil {
		t.Fatal(err)
	}
	var dc struct {
		UserCode        string `json:"user_code"`
		DeviceCode      string `json:"device_code"`
		VerificationURI string `json:"verification_uri"`
		Message         string `json:"message"`
		Interval        int    `json:"interval"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	if dc.VerificationURI != s.DeviceLoginURL() || dc.Message != "To sign in, use a web browser to open the page "+s.DeviceLoginURL()+" and enter the code "+dc.UserCode+" to authenticate." {
		t.Fatalf("device authorization: %+v", dc)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {desktopAppID}, "device_code": {dc.DeviceCode}}
	if out, code := publicToken(t, s, poll); code != 400 || out["error"] != "authorization_pending" {
		t.Fatalf("before the code is entered: %d %v", code, out)
	}
	if page := enterCode(t, dc.VerificationURI, "WRONGCOD", megan.ObjectID); !strings.Contains(page, "That code didn&#39;t work") {
		t.Errorf("a wrong code: %s", page)
	}
	if page := enterCode(t, dc.VerificationURI, strings.ToLower(dc.UserCode), megan.ObjectID); !strings.Contains(page, "You have signed in") {
		t.Fatalf("the right code: %s", page)
	}
	out, code := publicToken(t, s, poll)
	if code != 200 || out["access_token"] == nil || out["id_token"] == nil || out["refresh_token"] == nil {
		t.Fatalf("after the code: %d %v", code, out)
	}
	if out, code := publicToken(t, s, poll); code != 400 || out["error"] != "bad_verification_code" {
		t.Errorf("a device code redeemed twice: %d %v", code, out)
	}

	// An app that does not allow public client flows needs its secret.
	resp, _ = s.HTTPClient().PostForm(strings.Replace(s.TokenEndpoint(), "/token", "/devicecode", 1),
		url.Values{"client_id": {makerAppID}, "scope": {dataverse + "/.default"}})
	_ = json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	enterCode(t, dc.VerificationURI, dc.UserCode, megan.ObjectID)
	poll.Set("client_id", makerAppID)
	poll.Set("device_code", dc.DeviceCode)
	if out, code := publicToken(t, s, poll); code != 401 || !strings.Contains(out["error_description"].(string), "AADSTS7000218") {
		t.Errorf("device code for a confidential client: %d %v", code, out)
	}
}

// TestAzidentityDeviceCode: azidentity's DeviceCodeCredential signs in on
// the stand-in once the person enters the code it prompts with.
func TestAzidentityDeviceCode(t *testing.T) {
	s := publicStandIn(t)
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{TenantID: s.TenantID,
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost()}, Transport: s.HTTPClient()},
		DisableInstanceDiscovery: true,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			if page := enterCode(t, m.VerificationURL, m.UserCode, megan.UPN); !strings.Contains(page, "You have signed in") {
				t.Errorf("verification page: %s", page)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{dataverse + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := entra.ParseUnverified(tok.Token)
	if c.UPN != megan.UPN || c.AppID != desktopAppID || len(c.Audience) != 1 || c.Audience[0] != dataverse {
		t.Errorf("claims: %+v", c)
	}
	// The next resource comes from the refresh token: one device code in all.
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"499b84ac-1321-427f-aa17-267ca6975798/.default"}}); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests(); r["devicecode"] != 1 || r["token device_code"] != 1 || r["token refresh_token"] != 1 {
		t.Errorf("requests: %v", r)
	}
}
