package dataverse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/ppalm/ppalm/httplog"
)

// retryState is the CheckRetry of one call: 429 and 503 always retry (the
// server refused the request without running it), unless the server asks
// for a wait longer than maxRetryAfter; other 5xx answers and network
// errors retry only idempotent calls; an attempt that ran out of time is
// tried once more at most.
type retryState struct {
	idempotent    bool
	maxRetryAfter time.Duration
	now           func() time.Time
	timeouts      int // attempts that ran out of time
}

func (p *retryState) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// A certificate the client does not trust will not become trusted.
		var certErr *tls.CertificateVerificationError
		var authErr x509.UnknownAuthorityError
		if errors.As(err, &certErr) || errors.As(err, &authErr) {
			return false, nil
		}
		// Neither will a host that does not exist or a port nobody
		// listens on: retrying them only hides a wrong URL for minutes.
		if unreachable(err) {
			return false, nil
		}
		// A server that took the connection and said nothing within the
		// deadline gets one more chance, not ten: each costs a deadline.
		if timedOut(err) {
			p.timeouts++
			return p.idempotent && p.timeouts < 2, nil
		}
		return p.idempotent, nil
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		if wait, ok := retryAfter(resp, p.now()); ok && wait > p.maxRetryAfter {
			return false, nil // the caller fails at once, naming the wait
		}
		return true, nil
	case code == http.StatusRequestTimeout:
		return p.idempotent, nil
	case code >= 500 && code != http.StatusNotImplemented:
		return p.idempotent, nil
	}
	return false, nil
}

// timedOut reports whether err is an attempt running out of its deadline.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unreachable reports whether err says the URL's host does not exist or
// refuses connections, which a retry does not change.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// backoff returns the Backoff of one call. It waits through the injected
// sleep (so tests do not sleep), says in the log what it waits for, and
// tells retryablehttp to wait no longer. Retry-After (seconds or HTTP
// date) wins over the exponential back-off. Each wait is counted (Retries)
// and logged (WithLogger; every attempt with WithRequestLog).
func (c *Client) backoff(ctx context.Context, req *http.Request) func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		wait, ok := retryAfter(resp, c.now())
		why := "Retry-After"
		if !ok {
			wait = time.Duration(float64(min) * math.Pow(2, float64(attempt)))
			if wait > max || wait <= 0 {
				wait = max
			}
			why = "back-off"
		}
		c.retries.Add(1)
		c.waited.Add(int64(wait))
		// Each wait is said once: in the request log when there is one
		// (--verbose), which names the attempt too, else in the run's log.
		if c.requestLog != nil {
			httplog.Retry(c.requestLog, req, resp, attempt+1, wait, ok)
		} else {
			answer := "no answer"
			if resp != nil {
				answer = fmt.Sprintf("HTTP %d", resp.StatusCode)
			}
			c.logf("%s %s: %s; waiting %s (%s) before retry %d", req.Method, redact(req.URL), answer, wait, why, attempt+1)
		}
		// A cancelled context is noticed by retryablehttp right after.
		_ = c.sleep(ctx, wait)
		return 0
	}
}

// retryAfter parses the Retry-After header of a 429 or 503 answer.
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
