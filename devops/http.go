package devops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/ppalm/ppalm/httplog"
)

// Option changes how a Client is built.
type Option func(*options)

type options struct {
	base      *http.Client
	retryMax  int
	waitMin   time.Duration
	waitMax   time.Duration
	wait      func(time.Duration) time.Duration
	overrides Config
	deadlines Deadlines
	// log gets a line for each wait before a retry (the run's log);
	// reqLog every attempt and wait (--verbose).
	log    func(string)
	reqLog httplog.Func
}

// Deadlines bound one REST call to the repository host.
type Deadlines struct {
	// Call bounds a whole call: every attempt, every wait between them and
	// reading the answer (default DefaultCallDeadline).
	Call time.Duration
	// Attempt bounds one attempt, from sending to the answer's headers
	// (default DefaultAttemptDeadline), so a server that accepts and never
	// answers is tried again (reads) or given up (writes) in that time.
	Attempt time.Duration
	// MaxServerWait is the longest Retry-After ppalm obeys (default
	// DefaultMaxServerWait); a server asking for more fails the call at
	// once, naming the host and the wait.
	MaxServerWait time.Duration
}

// The deadlines of a call to Azure DevOps or GitHub REST: small JSON
// answers, so a minute is generous; a secondary rate limit asks for about
// a minute.
const (
	DefaultCallDeadline    = 2 * time.Minute
	DefaultAttemptDeadline = 30 * time.Second
	DefaultMaxServerWait   = 60 * time.Second
)

// WithDeadlines changes the deadlines of every call (zero fields keep
// their defaults).
func WithDeadlines(d Deadlines) Option { return func(o *options) { o.deadlines = d } }

// WithLog receives a line for every wait before a retry (what failed,
// how long, how many tries are left), for the run's log.
func WithLog(f func(line string)) Option { return func(o *options) { o.log = f } }

// WithHTTPClient sets the client whose transport carries each attempt
// (default: a pooled client). Retries wrap it; a client without a Timeout
// gets the attempt deadline.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.base = c } }

// WithRetries sets how many times a request is retried (default 4).
func WithRetries(n int) Option { return func(o *options) { o.retryMax = n } }

// WithRetryWait lets the caller see, and change, every wait between two
// attempts: it receives the delay the policy chose (the server's
// Retry-After, or exponential backoff) and returns the delay to use. Tests
// record the delay and return 0 so they never sleep.
func WithRetryWait(f func(time.Duration) time.Duration) Option {
	return func(o *options) { o.wait = f }
}

// WithRequestLog sends every attempt of every request and every wait
// before a retry to log: the --verbose log.
func WithRequestLog(log httplog.Func) Option { return func(o *options) { o.reqLog = log } }

// WithOverrides applies connection settings from flags on top of the ones
// read from the environment (see Config.Override).
func WithOverrides(c Config) Option { return func(o *options) { o.overrides = c } }

func buildOptions(opts []Option) options {
	o := options{retryMax: 4, waitMin: time.Second, waitMax: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.deadlines.Call <= 0 {
		o.deadlines.Call = DefaultCallDeadline
	}
	if o.deadlines.Attempt <= 0 {
		o.deadlines.Attempt = DefaultAttemptDeadline
	}
	if o.deadlines.MaxServerWait <= 0 {
		o.deadlines.MaxServerWait = DefaultMaxServerWait
	}
	if o.base == nil {
		o.base = &http.Client{}
	}
	if o.base.Timeout == 0 {
		c := *o.base
		c.Timeout = o.deadlines.Attempt
		o.base = &c
	}
	if o.wait == nil {
		o.wait = func(d time.Duration) time.Duration { return d }
	}
	return o
}

type sideEffectsKey struct{}

// withSideEffects marks requests made with ctx as not safe to repeat once the
// server may have acted on them: they are retried only on 429 and
// rate-limit answers, never after a 5xx or a broken connection.
func withSideEffects(ctx context.Context) context.Context {
	return context.WithValue(ctx, sideEffectsKey{}, true)
}

// newHTTPClient builds the client every request of this package goes through:
// auth errors become *APIError, and each attempt is retried per policy.
func newHTTPClient(host Host, o options) *http.Client {
	rc := &retryablehttp.Client{
		HTTPClient:   httplog.Client(o.base, o.reqLog),
		Logger:       nil,
		RetryWaitMin: o.waitMin,
		RetryWaitMax: o.waitMax,
		RetryMax:     o.retryMax,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return checkRetry(ctx, host, o.deadlines.MaxServerWait, resp, err)
		},
		Backoff: func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
			d := o.wait(backoff(min, max, attempt, resp))
			if o.reqLog != nil {
				_, after := retryAfter(resp)
				var req *http.Request
				if resp != nil {
					req = resp.Request
				}
				if req == nil {
					// A transport error: the attempt's own entry named the
					// request.
					req = &http.Request{Method: "request", URL: &url.URL{}}
				}
				httplog.Retry(o.reqLog, req, resp, attempt+1, d, after)
			}
			return d
		},
		// Hand the last answer to the caller so it reports the server's
		// status and message, not "giving up after N attempts"; an error
		// of ours (a wait refused) goes alone.
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if err != nil && resp != nil {
				resp.Body.Close()
				return nil, err
			}
			return resp, err
		},
	}
	// Each wait is said once: in the request log when there is one
	// (--verbose), which names the attempt too, else in the run's log.
	if o.log != nil && o.reqLog == nil {
		rc.Logger = waitLogger{host: host, log: o.log}
	}
	next := &authTransport{host: host, next: &retryablehttp.RoundTripper{Client: rc}}
	return &http.Client{Transport: &deadlineTransport{host: host, d: o.deadlines, next: next}}
}

// deadlineTransport gives each call its deadline, from sending the request
// to closing the answer's body, and names the host when a deadline passes.
type deadlineTransport struct {
	host Host
	d    Deadlines
	next http.RoundTripper
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.d.Call)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		expired := errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		if req.Context().Err() != nil {
			return nil, err // the caller's own cancellation or deadline
		}
		var ne net.Error
		switch {
		case expired:
			return nil, &DeadlineError{Host: t.host, Server: req.URL.Host, Deadline: t.d.Call, Err: err}
		case errors.As(err, &ne) && ne.Timeout():
			// One attempt timed out and was not retried: a write the
			// server may have acted on.
			return nil, &DeadlineError{Host: t.host, Server: req.URL.Host, Deadline: t.d.Attempt, Attempt: true, Err: err}
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends the call's deadline when the answer has been read.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// DeadlineError is a call the repository host did not answer in time.
type DeadlineError struct {
	Host     Host
	Server   string // host[:port]
	Deadline time.Duration
	// Attempt: one attempt of a call that is not repeated (it may have
	// changed something) timed out; otherwise the whole call did.
	Attempt bool
	Err     error
}

func (e *DeadlineError) Error() string {
	what := "retries included"
	if e.Attempt {
		what = "not retried, since the server may have acted on it: check before running again"
	}
	return fmt.Sprintf("%s at %s gave no answer within %s (%s); check the URL, proxy and firewall, or the service's status page", hostName(e.Host), e.Server, e.Deadline, what)
}

func (e *DeadlineError) Unwrap() error { return e.Err }

// WaitError is a server asking ppalm to wait longer than it will.
type WaitError struct {
	Host       Host
	Server     string // host[:port]
	StatusCode int
	Wait, Max  time.Duration
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("%s at %s answered HTTP %d asking to wait %s before trying again (Retry-After), more than the %s ppalm waits: the token is rate limited; run again later", hostName(e.Host), e.Server, e.StatusCode, e.Wait, e.Max)
}

func hostName(h Host) string {
	if h == HostGitHub {
		return "GitHub"
	}
	return "Azure DevOps"
}

// waitLogger passes go-retryablehttp's line for each wait before a retry
// (method, URL without credentials, status, wait, retries left) to the
// run's log, and nothing else.
type waitLogger struct {
	host Host
	log  func(string)
}

func (l waitLogger) Error(string, ...any) {}
func (l waitLogger) Info(string, ...any)  {}
func (l waitLogger) Warn(string, ...any)  {}
func (l waitLogger) Debug(msg string, kv ...any) {
	if msg != "retrying request" {
		return
	}
	f := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			f[k] = kv[i+1]
		}
	}
	l.log(fmt.Sprintf("%s: %v: waiting %v before trying again (%v tries left)", hostName(l.host), f["request"], f["timeout"], f["remaining"]))
}

func isRateLimited(resp *http.Response) bool {
	if resp == nil {
		return false
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	_, ok := retryAfter(resp)
	return ok && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusServiceUnavailable)
}

func checkRetry(ctx context.Context, host Host, maxWait time.Duration, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if isRateLimited(resp) {
		// A wait past the cap, or past the call's deadline, fails now
		// rather than hang the pipeline.
		if d, ok := retryAfter(resp); ok {
			limit := maxWait
			if dl, ok := ctx.Deadline(); ok {
				limit = min(limit, time.Until(dl))
			}
			if d > limit {
				return false, &WaitError{Host: host, Server: resp.Request.URL.Host, StatusCode: resp.StatusCode, Wait: d, Max: limit.Round(time.Second)}
			}
		}
		return true, nil
	}
	if ctx.Value(sideEffectsKey{}) != nil {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp); ok {
		return d // checkRetry refused a wait past the cap
	}
	return retryablehttp.DefaultBackoff(min, max, attempt, resp)
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// APIError is an answer from the repository host that ppalm cannot use.
type APIError struct {
	Host       Host
	Method     string
	URL        string
	StatusCode int
	// Message is the server's explanation, when it gave one.
	Message string
}

func (e *APIError) Error() string {
	name := "Azure DevOps"
	tokenHint := "SYSTEM_ACCESSTOKEN (map it into the step's env) or --token, and that the build service has access to the repository"
	if e.Host == HostGitHub {
		name = "GitHub"
		tokenHint = "GITHUB_TOKEN or --token, and the workflow's permissions (pull-requests, contents, actions)"
	}
	msg := fmt.Sprintf("%s %s %s: HTTP %d", name, e.Method, e.URL, e.StatusCode)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		msg += "; the token was rejected: check " + tokenHint
	case http.StatusForbidden:
		msg += "; the token lacks permission: check " + tokenHint
	}
	return msg
}

// authTransport turns authentication failures into *APIError before the
// Azure DevOps SDK sees them: the SDK would otherwise try to decode an HTML
// sign-in page as JSON and lose the status code.
type authTransport struct {
	host Host
	next http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	status := resp.StatusCode
	// With X-TFS-FedAuthRedirect: Suppress Azure DevOps answers 401, but a
	// bad token can still get a 203 with the HTML sign-in page.
	if status == http.StatusNonAuthoritativeInfo && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		status = http.StatusUnauthorized
	}
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, &APIError{
		Host:       t.host,
		Method:     req.Method,
		URL:        redact(req.URL),
		StatusCode: status,
		Message:    serverMessage(resp.Header, body),
	}
}

// serverMessage finds the explanation in an error answer: Azure DevOps'
// X-TFS-ServiceError header or a JSON {"message": ...} body.
func serverMessage(h http.Header, body []byte) string {
	if m := h.Get("X-TFS-ServiceError"); m != "" {
		if u, err := url.QueryUnescape(m); err == nil {
			return u
		}
		return m
	}
	var j struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &j) == nil && j.Message != "" {
		return j.Message
	}
	return ""
}

// redact drops the query and any user information from u.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}
