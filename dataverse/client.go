package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/ppalm/ppalm/httplog"
)

// Default base URLs of the non-Dataverse APIs.
const (
	DefaultPowerAppsURL = "https://api.powerapps.com"
	DefaultGraphURL     = "https://graph.microsoft.com"

	powerAppsScope = "https://service.powerapps.com/.default"
	graphScope     = "https://graph.microsoft.com/.default"
	webAPIPath     = "/api/data/v9.2/"
)

// Client calls one Dataverse environment, the Power Apps admin API and Graph.
// It is safe for concurrent use. Impersonate returns a copy that shares the
// transport, token cache, semaphores and request counter.
type Client struct {
	*shared
	callerObjectID string
}

// shared is the state every copy of a Client uses.
type shared struct {
	envURL       *url.URL // https://org.crm.dynamics.com (no trailing slash)
	apiBase      string   // envURL + /api/data/v9.2/
	powerAppsURL *url.URL
	graphURL     *url.URL

	httpClient   *http.Client
	credential   azcore.TokenCredential
	userAgent    string
	maxConc      int
	maxRetries   int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	pollInterval time.Duration
	pollMax      time.Duration
	pollTimeout  time.Duration
	sleep        func(context.Context, time.Duration) error
	now          func() time.Time
	requests     atomic.Int64
	retries      atomic.Int64
	waited       atomic.Int64 // nanoseconds spent waiting before retries
	requestLog   httplog.Func
	semMu        sync.Mutex
	sems         map[string]chan struct{}
	tokenMu      sync.Mutex
	tokens       map[string]azcore.AccessToken
	// reconcileTimeout bounds the search for the system job a request
	// whose answer was lost may have created.
	reconcileTimeout time.Duration
	sharePropagation time.Duration // how long a share may take to show
	deadlines        Deadlines
	maxRetryAfter    time.Duration
	logf             func(format string, args ...any)
	// clockMu guards serverOffset: the environment's clock (its Date
	// header) minus ours, once an answer carried one.
	clockMu      sync.Mutex
	serverOffset time.Duration
	serverSeen   bool
}

// Option configures a Client.
type Option func(*shared) error

// WithHTTPClient sets the HTTP client every request goes through. Its
// Timeout should be 0: calls are bounded by their context instead.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *shared) error { s.httpClient = hc; return nil }
}

// WithCredential sets the token source. Without one only loopback URLs work.
func WithCredential(cred azcore.TokenCredential) Option {
	return func(s *shared) error { s.credential = cred; return nil }
}

// WithPowerAppsURL overrides https://api.powerapps.com.
func WithPowerAppsURL(base string) Option {
	return func(s *shared) error {
		u, err := parseBaseURL("Power Apps URL", base)
		s.powerAppsURL = u
		return err
	}
}

// WithGraphURL overrides https://graph.microsoft.com.
func WithGraphURL(base string) Option {
	return func(s *shared) error {
		u, err := parseBaseURL("Graph URL", base)
		s.graphURL = u
		return err
	}
}

// WithPollInterval sets the first wait between polls of an asynchronous
// operation (default 5s); later polls back off to three times this.
func WithPollInterval(d time.Duration) Option {
	return func(s *shared) error { s.pollInterval = d; s.pollMax = 3 * d; return nil }
}

// WithPollTimeout bounds how long an import, export or upgrade is awaited
// (default 60 minutes, pac's --max-async-wait-time).
func WithPollTimeout(d time.Duration) Option {
	return func(s *shared) error { s.pollTimeout = d; return nil }
}

// WithSleep replaces the function used for every wait (Retry-After, back-off,
// polling). Tests pass one that records the duration and returns at once.
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(s *shared) error { s.sleep = sleep; return nil }
}

// WithClock replaces time.Now (token expiry, poll deadlines).
func WithClock(now func() time.Time) Option {
	return func(s *shared) error { s.now = now; return nil }
}

// WithMaxConcurrency bounds the requests in flight per host (default 4).
func WithMaxConcurrency(n int) Option {
	return func(s *shared) error {
		if n < 1 {
			return fmt.Errorf("max concurrency %d: must be at least 1", n)
		}
		s.maxConc = n
		return nil
	}
}

// WithMaxRetries bounds the retries of one request (default 10).
func WithMaxRetries(n int) Option {
	return func(s *shared) error { s.maxRetries = n; return nil }
}

// WithRetryWait sets the exponential back-off bounds used when the server
// sends no Retry-After (default 1s to 30s).
func WithRetryWait(min, max time.Duration) Option {
	return func(s *shared) error { s.retryWaitMin, s.retryWaitMax = min, max; return nil }
}

// WithRequestLog sends every attempt of every request (method, URL without
// secrets, status, duration) and every wait before a retry to log: the
// --verbose log.
func WithRequestLog(log httplog.Func) Option {
	return func(s *shared) error { s.requestLog = log; return nil }
}

// WithReconcileTimeout bounds how long, after a request that may have
// started a system job lost its answer, the client looks for that job
// before taking it as never started (default 2 minutes).
func WithReconcileTimeout(d time.Duration) Option {
	return func(s *shared) error { s.reconcileTimeout = d; return nil }
}

// Deadlines bound one attempt of a call (connecting, sending, waiting for
// the answer and reading it), by what the call does. A call whose attempt
// runs out is tried once more, then fails naming the host and the
// deadline; a non-idempotent one is then reconciled like any lost answer.
type Deadlines struct {
	// Quick is for WhoAmI, the organization and Graph look-ups, which a
	// healthy service answers in a second.
	Quick time.Duration
	// Default is for reads and writes of rows, lists, shares: the Dataverse
	// SDK's two minutes.
	Default time.Duration
	// Upload is for submitting an import or staging a zip (the upload of
	// the base64 body), plus UploadPerMB for each megabyte of body.
	Upload      time.Duration
	UploadPerMB time.Duration
	// Long is for what the service does while the caller waits: the
	// synchronous export, import and promotion, publishing, and downloading
	// an export.
	Long time.Duration
}

// DefaultDeadlines are the deadlines a client starts with.
var DefaultDeadlines = Deadlines{
	Quick:       30 * time.Second,
	Default:     2 * time.Minute,
	Upload:      2 * time.Minute,
	UploadPerMB: 10 * time.Second,
	Long:        20 * time.Minute,
}

// DefaultMaxRetryAfter is the longest Retry-After a client waits. Dataverse
// counts its service-protection limits over five minutes, so it never
// needs to ask for longer; a server that does is not coming back soon.
const DefaultMaxRetryAfter = 5 * time.Minute

// WithDeadlines replaces the per-attempt deadlines; zero fields keep
// their defaults.
func WithDeadlines(d Deadlines) Option {
	return func(s *shared) error {
		for _, f := range []struct{ to, from *time.Duration }{{&s.deadlines.Quick, &d.Quick}, {&s.deadlines.Default, &d.Default},
			{&s.deadlines.Upload, &d.Upload}, {&s.deadlines.UploadPerMB, &d.UploadPerMB}, {&s.deadlines.Long, &d.Long}} {
			if *f.from > 0 {
				*f.to = *f.from
			}
		}
		return nil
	}
}

// WithMaxRetryAfter sets the longest Retry-After the client waits
// (DefaultMaxRetryAfter); a longer one fails the call at once, naming the
// host and the wait.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(s *shared) error { s.maxRetryAfter = d; return nil }
}

// attemptTimeout is the deadline of one attempt of a call to u with a body
// of size bytes.
func (c *Client) attemptTimeout(u *url.URL, size int) time.Duration {
	d := c.deadlines
	if u.Host != c.envURL.Host || !strings.HasPrefix(u.Path, c.envURL.Path+webAPIPath) {
		if u.Host == c.graphURL.Host && strings.HasPrefix(u.Path, c.graphURL.Path+"/") {
			return d.Quick
		}
		return d.Default
	}
	op := strings.TrimPrefix(u.Path, c.envURL.Path+webAPIPath)
	if i := strings.IndexAny(op, "(/"); i >= 0 {
		op = op[:i]
	}
	switch op {
	case "WhoAmI", "RetrieveCurrentOrganization":
		return d.Quick
	case "ImportSolutionAsync", "StageAndUpgradeAsync", "StageSolution":
		return d.Upload + time.Duration(size>>20)*d.UploadPerMB
	case "ExportSolution", "ImportSolution", "StageAndUpgrade", "DeleteAndPromote", "PublishAllXml", "PublishXml", "DownloadSolutionExportData":
		return d.Long + time.Duration(size>>20)*d.UploadPerMB
	}
	return d.Default
}

// WithSharePropagation bounds how long a share is looked for in the
// permissions it was added to (default 2 minutes).
func WithSharePropagation(d time.Duration) Option {
	return func(s *shared) error { s.sharePropagation = d; return nil }
}

// WithLogger receives what the client does that a user should see in the
// log: waits the server asked for, polls that failed and go on, answers it
// lost and what it did about them. Lines never hold tokens or bodies.
func WithLogger(logf func(format string, args ...any)) Option {
	return func(s *shared) error {
		if logf != nil {
			s.logf = logf
		}
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(s *shared) error { s.userAgent = ua; return nil }
}

// New returns a Client for the environment at environmentURL
// (https://org.crm.dynamics.com, or a loopback http URL for the emulator).
func New(environmentURL string, opts ...Option) (*Client, error) {
	env, err := parseBaseURL("environment URL", environmentURL)
	if err != nil {
		return nil, err
	}
	pa, _ := url.Parse(DefaultPowerAppsURL)
	gr, _ := url.Parse(DefaultGraphURL)
	s := &shared{
		envURL:           env,
		apiBase:          env.String() + webAPIPath,
		powerAppsURL:     pa,
		graphURL:         gr,
		httpClient:       &http.Client{},
		userAgent:        "ppalm",
		maxConc:          4,
		maxRetries:       10,
		retryWaitMin:     time.Second,
		retryWaitMax:     30 * time.Second,
		pollInterval:     5 * time.Second,
		pollMax:          15 * time.Second,
		pollTimeout:      60 * time.Minute,
		sleep:            sleepContext,
		now:              time.Now,
		sems:             map[string]chan struct{}{},
		tokens:           map[string]azcore.AccessToken{},
		reconcileTimeout: 2 * time.Minute,
		sharePropagation: 2 * time.Minute,
		deadlines:        DefaultDeadlines,
		maxRetryAfter:    DefaultMaxRetryAfter,
		logf:             func(string, ...any) {},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("configure Dataverse client: %w", err)
		}
	}
	s.httpClient = httplog.Client(s.httpClient, s.requestLog)
	return &Client{shared: s}, nil
}

// parseBaseURL accepts https URLs and loopback http URLs, without query.
func parseBaseURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s %q: expected an absolute URL such as https://contoso.crm.dynamics.com", what, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%s %q: must use https (plain http is allowed only for 127.0.0.1 or localhost)", what, raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// observeDate records the environment's clock from a Date header.
func (c *Client) observeDate(v string) {
	t, err := http.ParseTime(v)
	if err != nil {
		return
	}
	c.clockMu.Lock()
	c.serverOffset, c.serverSeen = t.Sub(c.now()), true
	c.clockMu.Unlock()
}

// serverNow is a moment by the environment's clock no later than now:
// what the service writes into createdon of a row made after this call.
// It asks WhoAmI once when no answer has told the service's time yet.
func (c *Client) serverNow(ctx context.Context) (time.Time, error) {
	c.clockMu.Lock()
	seen := c.serverSeen
	c.clockMu.Unlock()
	if !seen {
		if _, err := c.WhoAmI(ctx); err != nil {
			return time.Time{}, err
		}
	}
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	// Date and createdon both have whole seconds; the margin covers that
	// and the request's own way there.
	return c.now().Add(c.serverOffset - 5*time.Second).UTC().Truncate(time.Second), nil
}

// EnvironmentURL is the environment's base URL without a trailing slash.
func (c *Client) EnvironmentURL() string { return c.envURL.String() }

// Requests is the number of HTTP requests sent so far, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Retries is how many of Requests were retries, and Waited how long the
// client waited before them (Retry-After or back-off).
func (c *Client) Retries() (n int64, waited time.Duration) {
	return c.retries.Load(), time.Duration(c.waited.Load())
}

// Impersonate returns a Client whose Dataverse calls carry the CallerObjectId
// header, so they run as the Entra user with that object id. The caller needs
// the prvActOnBehalfOfAnotherUser privilege.
func (c *Client) Impersonate(objectID string) *Client {
	return &Client{shared: c.shared, callerObjectID: objectID}
}

// request describes one call.
type request struct {
	method     string
	url        string // absolute
	body       []byte
	idempotent bool
	header     map[string]string
}

// response is a 2xx answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errUncertain marks a failure after which the server may or may not have
// acted on a non-idempotent request.
var errUncertain = errors.New("the server may have acted on the request")

// uncertain reports whether err leaves the outcome of a request unknown.
func uncertain(err error) bool { return errors.Is(err, errUncertain) }

// do sends r through the retry policy and returns the 2xx answer, an
// *APIError, or a transport error (wrapping errUncertain for non-idempotent
// calls).
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	resp, err := c.doOnce(ctx, r)
	if StatusCode(err) == http.StatusUnauthorized && c.credential != nil {
		// The token may have been revoked or carry stale claims (continuous
		// access evaluation): fetch a fresh one once and try again. A 401
		// means the request was not run, so this is safe for every call.
		if u, perr := url.Parse(r.url); perr == nil {
			c.forgetToken(c.scopeFor(u))
			return c.doOnce(ctx, r)
		}
	}
	return resp, err
}

func (c *Client) forgetToken(scope string) {
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	delete(c.tokens, scope)
}

func (c *Client) doOnce(ctx context.Context, r request) (*response, error) {
	u, err := url.Parse(r.url)
	if err != nil {
		return nil, fmt.Errorf("parse request URL: %w", err)
	}
	token, err := c.token(ctx, u)
	if err != nil {
		return nil, err
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, r.url, bodyOrNil(r.body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	h := req.Header
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if strings.HasPrefix(r.url, c.apiBase) {
		h.Set("OData-MaxVersion", "4.0")
		h.Set("OData-Version", "4.0")
		if c.callerObjectID != "" {
			h.Set("CallerObjectId", c.callerObjectID)
		}
	}
	if r.body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for k, v := range r.header {
		h.Set(k, v)
	}

	sem := c.semaphore(u.Host)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-sem }()

	// Each attempt gets the deadline of what the call does: the client's
	// http.Client, with that Timeout.
	timeout := c.attemptTimeout(u, len(r.body))
	hc := *c.httpClient
	hc.Timeout = timeout
	policy := &retryState{idempotent: r.idempotent, maxRetryAfter: c.maxRetryAfter, now: c.now}
	rc := &retryablehttp.Client{
		HTTPClient:   &hc,
		RetryWaitMin: c.retryWaitMin,
		RetryWaitMax: c.retryWaitMax,
		RetryMax:     c.maxRetries,
		CheckRetry:   policy.check,
		Backoff:      c.backoff(ctx, req.Request),
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(retryablehttp.Logger, *http.Request, int) {
			c.requests.Add(1)
		},
	}
	resp, err := rc.Do(req)
	if resp != nil && u.Host == c.envURL.Host {
		c.observeDate(resp.Header.Get("Date"))
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// net/http's *url.Error repeats the URL with its query; the
		// message names the redacted URL once.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if unreachable(err) {
			err = fmt.Errorf("%w (check the URL: nothing answers at %s)", err, u.Host)
		}
		if timedOut(err) {
			err = fmt.Errorf("no answer from %s within %s, %d attempt(s): %w", u.Host, timeout, policy.timeouts, err)
		}
		err = fmt.Errorf("%s %s: %w", r.method, redact(u), err)
		if !r.idempotent {
			err = fmt.Errorf("%w: %w", errUncertain, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		err = fmt.Errorf("%s %s: read answer: %w", r.method, redact(u), err)
		if !r.idempotent {
			err = fmt.Errorf("%w: %w", errUncertain, err)
		}
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(r.method, u, resp, body)
		if apiErr.RetryAfter > c.maxRetryAfter {
			return nil, fmt.Errorf("%s asked to wait %s before trying again (Retry-After), longer than the %s ppalm waits: nothing was retried; try again later: %w",
				u.Host, apiErr.RetryAfter, c.maxRetryAfter, apiErr)
		}
		if !r.idempotent && resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusNotImplemented {
			return nil, fmt.Errorf("%w: %w", errUncertain, apiErr)
		}
		return nil, apiErr
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func bodyOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// redact drops the query (it may carry filter values) from URLs in errors.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	v.User = nil
	return v.String()
}

func (c *Client) semaphore(host string) chan struct{} {
	c.semMu.Lock()
	defer c.semMu.Unlock()
	s, ok := c.sems[host]
	if !ok {
		s = make(chan struct{}, c.maxConc)
		c.sems[host] = s
	}
	return s
}

// scopeFor picks the token audience for a request URL; "" means no token.
// A loopback URL needs none, but gets one when a credential is configured
// (the emulator tells callers apart by their token).
func (c *Client) scopeFor(u *url.URL) string {
	if u.Scheme == "http" && isLoopback(u.Hostname()) && c.credential == nil {
		return ""
	}
	switch u.Host {
	case c.envURL.Host:
		return "https://" + c.envURL.Host + "/.default"
	case c.powerAppsURL.Host:
		return powerAppsScope
	case c.graphURL.Host:
		return graphScope
	}
	return "https://" + u.Host + "/.default"
}

// token returns a cached bearer token for u's host, refreshing it five
// minutes before it expires.
func (c *Client) token(ctx context.Context, u *url.URL) (string, error) {
	scope := c.scopeFor(u)
	if scope == "" {
		return "", nil
	}
	if c.credential == nil {
		return "", fmt.Errorf("get token for %s: no credential configured (use --auth or the AZURE_* variables)", u.Host)
	}
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if t, ok := c.tokens[scope]; ok && c.now().Add(5*time.Minute).Before(t.ExpiresOn) {
		return t.Token, nil
	}
	t, err := c.credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", scope, err)
	}
	c.tokens[scope] = t
	return t.Token, nil
}

// getJSON GETs url and decodes the answer into out.
func (c *Client) getJSON(ctx context.Context, rawURL string, out any) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: rawURL, idempotent: true})
	if err != nil {
		return err
	}
	return decode(resp.body, out)
}

// postJSON POSTs in (marshalled) and decodes the answer into out (if non-nil).
func (c *Client) postJSON(ctx context.Context, rawURL string, idempotent bool, in, out any) (*response, error) {
	body := []byte("{}")
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, url: rawURL, body: body, idempotent: idempotent})
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := decode(resp.body, out); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// patchJSON updates a known row; PATCH of a known target is idempotent.
func (c *Client) patchJSON(ctx context.Context, rawURL string, in any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	_, err = c.do(ctx, request{method: http.MethodPatch, url: rawURL, body: body, idempotent: true,
		header: map[string]string{"If-Match": "*"}})
	return err
}

func (c *Client) deleteURL(ctx context.Context, rawURL string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, url: rawURL, idempotent: true})
	return err
}

func decode(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// api returns the Web API URL of path with OData query options, e.g.
// api("solutions", "$select", "solutionid", "$filter", "uniquename eq 'x'").
func (c *Client) api(path string, query ...string) string {
	return c.apiBase + path + odataQuery(query...)
}

// odataQuery encodes key/value pairs, keeping "$" in keys and encoding spaces
// as %20 as Dataverse's own links do.
func odataQuery(kv ...string) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
	}
	return b.String()
}

// quote makes an OData string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// list GETs a collection and follows its next-page links: @odata.nextLink
// (Dataverse, Graph) or the ARM-style nextLink that the Power Apps and BAP
// admin APIs answer with (a $skiptoken URL). Every page's rows are returned
// together.
func list[T any](ctx context.Context, c *Client, rawURL string) ([]T, error) {
	var all []T
	start, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse request URL: %w", err)
	}
	for next := rawURL; next != ""; {
		var page struct {
			Value       []T    `json:"value"`
			ODataNext   string `json:"@odata.nextLink"`
			ARMNextLink string `json:"nextLink"`
		}
		if err := c.getJSON(ctx, next, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.ODataNext
		if next == "" {
			next = page.ARMNextLink
		}
		if next != "" {
			// The token for this host must never follow a link elsewhere.
			if u, err := url.Parse(next); err != nil || u.Host != start.Host {
				return nil, fmt.Errorf("follow next-page link %q: expected a link on %s", next, start.Host)
			}
		}
	}
	return all, nil
}

// entityID parses the GUID out of an OData-EntityId header
// (https://org/api/data/v9.2/teams(00000000-...)).
func entityID(resp *response) (string, error) {
	h := resp.header.Get("OData-EntityId")
	open, close := strings.LastIndexByte(h, '('), strings.LastIndexByte(h, ')')
	if open < 0 || close < open {
		if len(resp.body) > 0 {
			return "", fmt.Errorf("read created row id: no OData-EntityId header and body %q", truncate(string(resp.body), 200))
		}
		return "", fmt.Errorf("read created row id: OData-EntityId header %q: expected .../entityset(guid)", h)
	}
	return h[open+1 : close], nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
