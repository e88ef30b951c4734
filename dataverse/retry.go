package dataverse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/ppalm/ppalm/httplog"
)

// retryPolicy is the CheckRetry of one call: 429 and 503 always retry (the
// server refused the request without running it); other 5xx answers and
// network errors retry only idempotent calls.
func retryPolicy(idempotent bool) func(context.Context, *http.Response, error) (bool, error) {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
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
			return idempotent, nil
		}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
			return true, nil
		case code == http.StatusRequestTimeout:
			return idempotent, nil
		case code >= 500 && code != http.StatusNotImplemented:
			return idempotent, nil
		}
		return false, nil
	}
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
// sleep (so tests do not sleep) and tells retryablehttp to wait no longer.
// Retry-After (seconds or HTTP date) wins over the exponential back-off.
// Each wait is counted (Retries) and logged (WithRequestLog).
func (c *Client) backoff(ctx context.Context, req *http.Request) func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		wait, ok := retryAfter(resp, c.now())
		if !ok {
			wait = time.Duration(float64(min) * math.Pow(2, float64(attempt)))
			if wait > max || wait <= 0 {
				wait = max
			}
		}
		c.retries.Add(1)
		c.waited.Add(int64(wait))
		httplog.Retry(c.requestLog, req, resp, attempt+1, wait, ok)
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
