package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/fixtures"
)

// sleeps records the waits a client asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newTestClient(t *testing.T, base string, opts ...Option) (*Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	c, err := New(base, append([]Option{WithSleep(sl.sleep), WithPollInterval(time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func dvError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// dropConnection closes the TCP connection without an answer.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

func TestRetryAfterHonouredOn429(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "7")
			dvError(w, 429, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
			return
		}
		writeJSON(w, 200, map[string]string{"UserId": "u1", "BusinessUnitId": "b1", "OrganizationId": "o1"})
	}))
	defer srv.Close()
	c, sl := newTestClient(t, srv.URL+"/dev")
	who, err := c.WhoAmI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if who.UserID != "u1" {
		t.Errorf("UserID = %q", who.UserID)
	}
	if got := sl.all(); len(got) != 2 || got[0] != 7*time.Second || got[1] != 7*time.Second {
		t.Errorf("waits = %v, want [7s 7s] from Retry-After", got)
	}
	if c.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3", c.Requests())
	}
}

func TestRetryAfterHTTPDateAndExhaustion(t *testing.T) {
	now := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		dvError(w, 429, "0x80072321", "Combined execution time of incoming requests exceeded limit")
	}))
	defer srv.Close()
	c, sl := newTestClient(t, srv.URL, WithClock(func() time.Time { return now }), WithMaxRetries(2))
	_, err := c.WhoAmI(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != 429 || apiErr.Code != "0x80072321" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if got := sl.all(); len(got) != 2 || got[0] != 90*time.Second {
		t.Errorf("waits = %v, want two of 90s", got)
	}
	if c.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3 (1 + 2 retries)", c.Requests())
	}
}

func TestUnauthorizedAndForbiddenAreAPIErrorsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{{401, "0x80072560"}, {403, "0x80040220"}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				dvError(w, tc.status, tc.code, "Principal user is missing prvReadSolution privilege")
			}))
			defer srv.Close()
			c, _ := newTestClient(t, srv.URL)
			_, err := c.ListSolutions(context.Background())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.Code != tc.code {
				t.Fatalf("err = %v, want APIError %d %s", err, tc.status, tc.code)
			}
			if !strings.Contains(err.Error(), "prvReadSolution") || !strings.Contains(err.Error(), "list solutions") {
				t.Errorf("error %q lacks action or message", err)
			}
			if calls.Load() != 1 {
				t.Errorf("server saw %d calls, want 1", calls.Load())
			}
		})
	}
}

func TestIdempotentReadRetriesNetworkErrorsAnd5xx(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			dropConnection(t, w)
		case 2:
			dvError(w, 502, "", "Bad Gateway")
		default:
			writeJSON(w, 200, map[string]any{"value": []map[string]any{{"solutionid": "s1", "uniquename": "Contoso", "version": "1.0.0.1"}}})
		}
	}))
	defer srv.Close()
	c, sl := newTestClient(t, srv.URL)
	s, err := c.GetSolution(context.Background(), "Contoso")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "s1" || calls.Load() != 3 {
		t.Errorf("solution %+v after %d calls", s, calls.Load())
	}
	if got := sl.all(); len(got) != 2 || got[0] != time.Second || got[1] != 2*time.Second {
		t.Errorf("waits = %v, want exponential [1s 2s]", got)
	}
}

func largeZip(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNonIdempotent502IsNotResent(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			posts.Add(1)
			dvError(w, 502, "", "Bad Gateway")
			return
		}
		writeJSON(w, 200, map[string]any{"value": []any{}})
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	_, err := c.CreateGroupTeam(context.Background(), "Sales", "g1", "bu1")
	if StatusCode(err) != 502 {
		t.Fatalf("err = %v, want 502", err)
	}
	if posts.Load() != 1 {
		t.Errorf("create was sent %d times, want 1", posts.Load())
	}
}

func TestEnvironmentURLMustBeHTTPS(t *testing.T) {
	for _, u := range []string{"http://contoso.crm.dynamics.com", "ftp://x", "contoso", ""} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
	for _, u := range []string{"https://contoso.crm.dynamics.com/", "http://127.0.0.1:8080/dev", "http://localhost/x"} {
		if _, err := New(u); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
	if _, err := New("https://x.crm.dynamics.com", WithGraphURL("http://graph.example")); err == nil {
		t.Error("plain http Graph URL accepted")
	}
}

// countingCredential hands out numbered tokens that expire after an hour.
type countingCredential struct {
	mu     sync.Mutex
	now    func() time.Time
	scopes []string
}

func (c *countingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, strings.Join(o.Scopes, " "))
	return azcore.AccessToken{Token: fmt.Sprintf("tok%d", len(c.scopes)), ExpiresOn: c.now().Add(time.Hour)}, nil
}

func TestTokenPerHostCachedAndRefreshed(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/graph/") {
			writeJSON(w, 200, map[string]string{"id": "g1"})
			return
		}
		writeJSON(w, 200, map[string]string{"UserId": "u1"})
	}))
	defer srv.Close()
	now := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cred := &countingCredential{now: clock}
	c, _ := newTestClient(t, srv.URL, WithHTTPClient(srv.Client()), WithCredential(cred), WithClock(clock),
		WithGraphURL("https://graph.microsoft.com"))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.WhoAmI(ctx); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(56 * time.Minute) // within 5 minutes of expiry
	if _, err := c.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	want := []string{"https://" + host + "/.default", "https://" + host + "/.default"}
	if fmt.Sprint(cred.scopes) != fmt.Sprint(want) {
		t.Errorf("token requests = %v, want %v", cred.scopes, want)
	}
	if auths[0] != "Bearer tok1" || auths[2] != "Bearer tok1" || auths[3] != "Bearer tok2" {
		t.Errorf("Authorization headers = %v", auths)
	}
	if c.scopeFor(c.graphURL) != graphScope || c.scopeFor(c.powerAppsURL) != powerAppsScope {
		t.Errorf("scopes: graph %q, power apps %q", c.scopeFor(c.graphURL), c.scopeFor(c.powerAppsURL))
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer tok1" {
			dvError(w, 401, "0x80072560", "The token is invalid or has expired.")
			return
		}
		writeJSON(w, 200, map[string]string{"UserId": "u1"})
	}))
	defer srv.Close()
	cred := &countingCredential{now: time.Now}
	c, _ := newTestClient(t, srv.URL, WithHTTPClient(srv.Client()), WithCredential(cred))
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(cred.scopes) != 2 || calls.Load() != 2 {
		t.Errorf("token requests %d, calls %d; want 2 and 2", len(cred.scopes), calls.Load())
	}
}

func TestNoCredentialForRemoteHostIsAClearError(t *testing.T) {
	c, err := New("https://contoso.crm.dynamics.com")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no credential") {
		t.Errorf("err = %v, want no credential", err)
	}
}

func TestConcurrencyBoundedPerHost(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
		writeJSON(w, 200, map[string]string{"UserId": "u"})
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, WithMaxConcurrency(2))
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.WhoAmI(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak.Load() != 2 {
		t.Errorf("peak in flight = %d, want 2", peak.Load())
	}
}

func TestPagingFollowsNextLinkOnSameHostOnly(t *testing.T) {
	var srvURL string
	var foreign atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "":
			writeJSON(w, 200, map[string]any{"value": []map[string]string{{"uniquename": "A"}}, "@odata.nextLink": srvURL + "/api/data/v9.2/solutions?page=2"})
		case "2":
			page := map[string]any{"value": []map[string]string{{"uniquename": "B"}}}
			if foreign.Load() {
				page["@odata.nextLink"] = "https://evil.example/api/data/v9.2/solutions?page=3"
			}
			writeJSON(w, 200, page)
		}
	}))
	defer srv.Close()
	srvURL = srv.URL
	c, _ := newTestClient(t, srv.URL)
	sols, err := c.ListSolutions(context.Background())
	if err != nil || len(sols) != 2 || sols[1].UniqueName != "B" {
		t.Fatalf("solutions %v, err %v; want A and B", sols, err)
	}
	foreign.Store(true)
	_, err = c.ListSolutions(context.Background())
	if err == nil || !strings.Contains(err.Error(), "evil.example") {
		t.Fatalf("err = %v, want refusal of the foreign nextLink", err)
	}
}

func TestGraphForbiddenIsDistinguishable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graph/v1.0/groups/g1" {
			t.Errorf("path = %s", r.URL.Path)
		}
		writeJSON(w, 403, map[string]any{"error": map[string]string{"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}})
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL+"/dev", WithGraphURL(srv.URL+"/graph"))
	_, err := c.GraphGroup(context.Background(), "g1")
	if !errors.Is(err, ErrDirectoryForbidden) {
		t.Fatalf("err = %v, want ErrDirectoryForbidden", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "Authorization_RequestDenied" {
		t.Errorf("APIError = %+v", apiErr)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	_, err := NewCredential(CredentialOptions{Auth: AuthSecret, TenantID: "t", ClientSecret: "s3cr3t-value"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-value") || !strings.Contains(err.Error(), "client id") {
		t.Errorf("err = %v", err)
	}
	_, err = NewCredential(CredentialOptions{Auth: "kerberos"})
	if err == nil || !strings.Contains(err.Error(), "azure-cli") {
		t.Errorf("err = %v, want the list of kinds", err)
	}
}

func TestResolveAuth(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		o    CredentialOptions
		want string
	}{
		{CredentialOptions{ClientSecret: "x"}, AuthSecret},
		{CredentialOptions{CertificatePath: "c.pem"}, AuthCertificate},
		{CredentialOptions{ServiceConnectionID: "sc", Getenv: env(map[string]string{"SYSTEM_OIDCREQUESTURI": "https://dev.azure.com/x"})}, AuthAzurePipelines},
		{CredentialOptions{ClientID: "c", Getenv: env(map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://gh/x"})}, AuthGitHubOIDC},
		{CredentialOptions{Getenv: env(map[string]string{"IDENTITY_ENDPOINT": "http://169.254.169.254"})}, AuthManagedIdentity},
		{CredentialOptions{}, AuthAzureCLI},
		{CredentialOptions{Auth: AuthCertificate, ClientSecret: "x"}, AuthCertificate},
	}
	for i, tc := range cases {
		if got := tc.o.ResolveAuth(); got != tc.want {
			t.Errorf("case %d: %s, want %s", i, got, tc.want)
		}
	}
}

func TestGitHubAssertionAddsAudience(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("audience") != "api://AzureADTokenExchange" || r.Header.Get("Authorization") != "Bearer req-token" {
			w.WriteHeader(400)
			return
		}
		io.WriteString(w, `{"value":"gh-id-token"}`)
	}))
	defer srv.Close()
	o := CredentialOptions{Getenv: func(k string) string {
		return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?x=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-token"}[k]
	}}
	got, err := o.gitHubAssertion(context.Background())
	if err != nil || got != "gh-id-token" {
		t.Errorf("assertion = %q, %v", got, err)
	}
}

func TestReadManifestOfEveryFixture(t *testing.T) {
	for _, z := range []struct{ dir, file, name string }{
		{"dynamic-forms", "DynamicFormsSample_1_0_0_1.zip", "DynamicFormsSample"},
		{"fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip", "FabrikamEnvironmental"},
	} {
		b, err := os.ReadFile(fixtures.Path(z.dir, z.file))
		if err != nil {
			t.Fatal(err)
		}
		m, err := ReadManifest(b)
		if err != nil || m.UniqueName != z.name {
			t.Errorf("%s: %+v %v", z.file, m, err)
		}
	}
	if _, err := ReadManifest([]byte("not a zip")); err == nil || !strings.Contains(err.Error(), "solution zip") {
		t.Errorf("err = %v", err)
	}
}

func TestImportBodyIsValidJSON(t *testing.T) {
	zip := largeZip(t)
	body, err := importBody(ImportRequest{Zip: zip, PublishWorkflows: true, HoldingSolution: true,
		ComponentParameters: []ComponentParameter{EnvironmentVariableParameter("cr_Url", "https://x")}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		CustomizationFile   []byte
		PublishWorkflows    bool
		HoldingSolution     bool
		ComponentParameters []map[string]string
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.CustomizationFile, zip) || !got.PublishWorkflows || !got.HoldingSolution ||
		got.ComponentParameters[0]["@odata.type"] != "Microsoft.Dynamics.CRM.environmentvariablevalue" {
		t.Errorf("body round trip lost fields")
	}
	if _, err := importBody(ImportRequest{}); err == nil {
		t.Error("empty zip accepted")
	}
}

func BenchmarkImportBody(b *testing.B) {
	zip := largeZip(b)
	b.SetBytes(int64(len(zip)))
	for i := 0; i < b.N; i++ {
		if _, err := importBody(ImportRequest{Zip: zip}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPollingStopsAtTimeoutEvenWithFakeSleep(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		writeJSON(w, 200, map[string]any{"asyncoperationid": "a1", "statecode": 2, "statuscode": 20})
	}))
	defer srv.Close()
	c, sl := newTestClient(t, srv.URL, WithPollInterval(time.Second), WithPollTimeout(time.Minute))
	_, err := c.WaitAsyncOperation(context.Background(), "a1", nil)
	if err == nil || !strings.Contains(err.Error(), "not complete after 1m0s") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	var total time.Duration
	for _, d := range sl.all() {
		total += d
		if d > 3*time.Second {
			t.Errorf("poll wait %v exceeds 3x the interval", d)
		}
	}
	if total < time.Minute || total > time.Minute+3*time.Second {
		t.Errorf("waited %v in %d polls, want about 1m", total, polls.Load())
	}
}

func TestAsyncOperationFailureNamesTheMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"asyncoperationid": "a1", "statecode": 3, "statuscode": 31, "friendlymessage": "Export failed: missing privilege prvExportCustomization"})
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL)
	op, err := c.WaitAsyncOperation(context.Background(), "a1", nil)
	if err == nil || op == nil || op.Succeeded() || !strings.Contains(err.Error(), "prvExportCustomization") {
		t.Errorf("op %+v err %v", op, err)
	}
}

func TestNewCredentialKinds(t *testing.T) {
	if _, err := NewCredential(CredentialOptions{Auth: AuthSecret, TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "c", ClientSecret: "s"}); err != nil {
		t.Errorf("secret: %v", err)
	}
	if _, err := NewCredential(CredentialOptions{Auth: AuthManagedIdentity, ClientID: "c"}); err != nil {
		t.Errorf("managed identity: %v", err)
	}
	if _, err := NewCredential(CredentialOptions{Auth: AuthAzureCLI}); err != nil {
		t.Errorf("azure cli: %v", err)
	}
	bad := t.TempDir() + "/cert.pem"
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewCredential(CredentialOptions{Auth: AuthCertificate, TenantID: "t", ClientID: "c", CertificatePath: bad})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "PEM or PFX") {
		t.Errorf("bad certificate: %v", err)
	}
	_, err = NewCredential(CredentialOptions{Auth: AuthAzurePipelines, TenantID: "t", ClientID: "c", ServiceConnectionID: "sc"})
	if err == nil || !strings.Contains(err.Error(), "SYSTEM_ACCESSTOKEN") {
		t.Errorf("pipelines without access token: %v", err)
	}
	_, err = NewCredential(CredentialOptions{Auth: AuthGitHubOIDC, TenantID: "t", ClientID: "c"})
	if err == nil || !strings.Contains(err.Error(), "id-token: write") {
		t.Errorf("github without request URL: %v", err)
	}
}
