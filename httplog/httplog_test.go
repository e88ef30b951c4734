package httplog

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The log names the request without what could be a credential: user
// information and the values of sig, token, code ... parameters.
func TestRedactKeepsTheQueryButNotItsSecrets(t *testing.T) {
	u, _ := url.Parse("https://user:pa55@blob.example/c/x.zip?sv=2020&sig=SECRETSIG&se=2026&access_token=TOK&$filter=uniquename%20eq%20'Contoso'")
	got := Redact(u)
	for _, secret := range []string{"pa55", "user", "SECRETSIG", "TOK"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows %q", got, secret)
		}
	}
	for _, keep := range []string{"sig=***", "access_token=***", "sv=2020", "se=2026", "$filter=uniquename eq 'Contoso'"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q lacks %q", got, keep)
		}
	}
}

// Every attempt through the transport is one entry with its status and
// duration; a transport error is an entry too.
func TestTransportLogsEachAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	var mu sync.Mutex
	var got []Entry
	hc := Client(srv.Client(), func(e Entry) { mu.Lock(); got = append(got, e); mu.Unlock() })
	resp, err := hc.Get(srv.URL + "/api?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := hc.Get("http://127.0.0.1:1/nothing"); err == nil {
		t.Fatal("want an error from a closed port")
	}
	if len(got) != 2 {
		t.Fatalf("entries: %+v", got)
	}
	if got[0].Method != "GET" || got[0].Status != 418 || got[0].URL != srv.URL+"/api?token=***" || got[0].Duration <= 0 {
		t.Errorf("first entry: %+v", got[0])
	}
	if !strings.Contains(got[0].String(), "418 I'm a teapot") {
		t.Errorf("line: %s", got[0])
	}
	if got[1].Status != 0 || got[1].Err == nil || !strings.Contains(got[1].String(), "connection refused") {
		t.Errorf("second entry: %+v (%s)", got[1], got[1])
	}
}

func TestRetryLineSaysWhyAndHowLong(t *testing.T) {
	req, _ := http.NewRequest("POST", "https://org.example/api/data/v9.2/ImportSolutionAsync", nil)
	var e Entry
	Retry(func(x Entry) { e = x }, req, &http.Response{StatusCode: 429}, 2, 3*time.Second, true)
	if got, want := e.String(), "HTTP POST https://org.example/api/data/v9.2/ImportSolutionAsync: retry 2 after 429 in 3s (Retry-After)"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	Retry(func(x Entry) { e = x }, req, nil, 1, 500*time.Millisecond, false)
	if got := e.String(); !strings.HasSuffix(got, "retry 1 in 500ms (back-off)") {
		t.Errorf("got %s", got)
	}
	// No log, no panic.
	Retry(nil, req, nil, 1, 0, false)
	_ = errors.New
}
