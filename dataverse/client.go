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

	httpClient    *http.Client
	credential    azcore.TokenCredential
	userAgent     string
	maxConc       int
	maxRetries    int
	retryWaitMin  time.Duration
	retryWaitMax  time.Duration
	pollInterval  time.Duration
	pollMax       time.Duration
	pollTimeout   time.Duration
	sleep         func(context.Context, time.Duration) error
	now           func() time.Time
	requests      atomic.Int64
	semMu         sync.Mutex
	sems          map[string]chan struct{}
	tokenMu       sync.Mutex
	tokens        map[string]azcore.AccessToken
	newImportPoll int // how often reconciliation looks for an import job before re-sending
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
		envURL:        env,
		apiBase:       env.String() + webAPIPath,
		powerAppsURL:  pa,
		graphURL:      gr,
		httpClient:    &http.Client{},
		userAgent:     "ppalm",
		maxConc:       4,
		maxRetries:    10,
		retryWaitMin:  time.Second,
		retryWaitMax:  30 * time.Second,
		pollInterval:  5 * time.Second,
		pollMax:       15 * time.Second,
		pollTimeout:   60 * time.Minute,
		sleep:         sleepContext,
		now:           time.Now,
		sems:          map[string]chan struct{}{},
		tokens:        map[string]azcore.AccessToken{},
		newImportPoll: 3,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("configure Dataverse client: %w", err)
		}
	}
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

// EnvironmentURL is the environment's base URL without a trailing slash.
func (c *Client) EnvironmentURL() string { return c.envURL.String() }

// Requests is the number of HTTP requests sent so far, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

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
			c.forgetToken(ctx, c.scopeFor(u))
			return c.doOnce(ctx, r)
		}
	}
	return resp, err
}

func (c *Client) forgetToken(ctx context.Context, scope string) {
	key, err := c.tokenKey(ctx, scope)
	if err != nil {
		return
	}
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	delete(c.tokens, key)
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

	rc := &retryablehttp.Client{
		HTTPClient:   c.httpClient,
		RetryWaitMin: c.retryWaitMin,
		RetryWaitMax: c.retryWaitMax,
		RetryMax:     c.maxRetries,
		CheckRetry:   retryPolicy(r.idempotent),
		Backoff:      c.backoff(ctx),
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(retryablehttp.Logger, *http.Request, int) {
			c.requests.Add(1)
		},
	}
	resp, err := rc.Do(req)
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
	key, err := c.tokenKey(ctx, scope)
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", scope, err)
	}
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	if t, ok := c.tokens[key]; ok && c.now().Add(5*time.Minute).Before(t.ExpiresOn) {
		return t.Token, nil
	}
	t, err := c.credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", scope, err)
	}
	c.pruneTokens()
	c.tokens[key] = t
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
