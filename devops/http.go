package devops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	log       httplog.Func
}

// WithHTTPClient sets the client whose transport carries each attempt
// (default: a pooled client with a 60 s timeout). Retries wrap it.
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
func WithRequestLog(log httplog.Func) Option { return func(o *options) { o.log = log } }

// WithOverrides applies connection settings from flags on top of the ones
// read from the environment (see Config.Override).
func WithOverrides(c Config) Option { return func(o *options) { o.overrides = c } }

func buildOptions(opts []Option) options {
	o := options{retryMax: 4, waitMin: time.Second, waitMax: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.base == nil {
		o.base = &http.Client{Timeout: 60 * time.Second}
	}
	if o.wait == nil {
		o.wait = func(d time.Duration) time.Duration { return d }
	}
	return o
}

// maxRetryAfter bounds how long a server may ask us to wait.
const maxRetryAfter = 5 * time.Minute

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
		HTTPClient:   httplog.Client(o.base, o.log),
		Logger:       nil,
		RetryWaitMin: o.waitMin,
		RetryWaitMax: o.waitMax,
		RetryMax:     o.retryMax,
		CheckRetry:   checkRetry,
		Backoff: func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
			d := o.wait(backoff(min, max, attempt, resp))
			if o.log != nil {
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
				httplog.Retry(o.log, req, resp, attempt+1, d, after)
			}
			return d
		},
		// Hand the last answer to the caller so it reports the server's
		// status and message, not "giving up after N attempts".
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return &http.Client{Transport: &authTransport{host: host, next: &retryablehttp.RoundTripper{Client: rc}}}
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

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if isRateLimited(resp) {
		return true, nil
	}
	if ctx.Value(sideEffectsKey{}) != nil {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp); ok {
		return min2(d, maxRetryAfter)
	}
	return retryablehttp.DefaultBackoff(min, max, attempt, resp)
}

func min2(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
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
