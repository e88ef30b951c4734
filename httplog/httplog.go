// Package httplog is the --verbose log of ppalm's HTTP calls: one Entry per
// attempt (method, URL without secrets, status, duration) and one per wait
// before a retry (how long, and whether the server asked for it with
// Retry-After). The Dataverse and devops clients take a Func and call it
// through Transport and Retry; what is done with an entry (a debug line on
// the host) is the caller's choice.
package httplog

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Entry is one attempt of a request, or one wait before the next attempt.
type Entry struct {
	Method string
	// URL is the request URL with its user information removed and the
	// values of query parameters that may carry a credential (sig, token,
	// code, key, secret, password, ...) replaced by ***.
	URL string
	// Status is the answer's HTTP status; 0 when none came (Err says why).
	Status   int
	Duration time.Duration
	Err      error
	// Retry is set on a wait entry: the attempt about to be retried (1 for
	// the first retry), the wait and whether Retry-After chose it.
	Retry      int
	Wait       time.Duration
	RetryAfter bool
}

// Func receives entries; it must be safe for concurrent use.
type Func func(Entry)

// String renders e as one log line.
func (e Entry) String() string {
	if e.Retry > 0 {
		why := "back-off"
		if e.RetryAfter {
			why = "Retry-After"
		}
		status := ""
		if e.Status != 0 {
			status = fmt.Sprintf(" after %d", e.Status)
		}
		return fmt.Sprintf("HTTP %s %s: retry %d%s in %s (%s)", e.Method, e.URL, e.Retry, status, round(e.Wait), why)
	}
	if e.Err != nil {
		return fmt.Sprintf("HTTP %s %s: %v (%s)", e.Method, e.URL, e.Err, round(e.Duration))
	}
	return fmt.Sprintf("HTTP %s %s: %d %s (%s)", e.Method, e.URL, e.Status, http.StatusText(e.Status), round(e.Duration))
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// secretParams are query parameter names whose values are credentials:
// SAS signatures, OAuth codes and tokens, API keys.
var secretParams = []string{"sig", "signature", "token", "code", "key", "secret", "password", "pwd", "credential", "auth"}

// Redact returns u as Entry.URL shows it.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := strings.Split(c.RawQuery, "&")
		for i, kv := range q {
			k, _, ok := strings.Cut(kv, "=")
			if ok && secretName(k) {
				q[i] = k + "=***"
			}
		}
		c.RawQuery = strings.Join(q, "&")
	}
	s := c.String()
	// A query value may be percent-encoded into unreadability; the log is
	// for people, so show the OData query as written.
	if dec, err := url.PathUnescape(s); err == nil {
		return dec
	}
	return s
}

func secretName(k string) bool {
	if dec, err := url.QueryUnescape(k); err == nil {
		k = dec
	}
	k = strings.ToLower(k)
	for _, s := range secretParams {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Transport logs each round trip through next (http.DefaultTransport when
// nil) to log. Wrapped in a retrying client, it sees every attempt.
type Transport struct {
	Next http.RoundTripper
	Log  Func
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	now := t.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	resp, err := next.RoundTrip(req)
	e := Entry{Method: req.Method, URL: Redact(req.URL), Duration: now().Sub(start), Err: err}
	if resp != nil {
		e.Status = resp.StatusCode
	}
	if t.Log != nil {
		t.Log(e)
	}
	return resp, err
}

// Client returns a copy of hc whose transport logs through log; hc itself
// when log is nil.
func Client(hc *http.Client, log Func) *http.Client {
	if log == nil {
		return hc
	}
	if hc == nil {
		hc = &http.Client{}
	}
	c := *hc
	c.Transport = &Transport{Next: hc.Transport, Log: log}
	return &c
}

// Retry logs the wait before retry attempt (1 for the first retry) of req
// after resp (nil after a transport error).
func Retry(log Func, req *http.Request, resp *http.Response, attempt int, wait time.Duration, retryAfter bool) {
	if log == nil || req == nil {
		return
	}
	e := Entry{Method: req.Method, URL: Redact(req.URL), Retry: attempt, Wait: wait, RetryAfter: retryAfter}
	if resp != nil {
		e.Status = resp.StatusCode
	}
	log(e)
}
