package dataverse

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIError is a non-2xx answer from Dataverse, the Power Apps API or Graph.
type APIError struct {
	Method     string
	URL        string // without query
	StatusCode int
	// Code is the service's error code: a Dataverse hex number such as
	// 0x80072322, or a name such as BusinessAppPlatformRequestFailed.
	Code       string
	Message    string
	RetryAfter time.Duration // 0 when the server sent none
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404 answer.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// ErrNotFound is wrapped by lookups that find no row and matches 404 answers.
var ErrNotFound = errors.New("not found")

// ErrDirectoryForbidden is wrapped by Graph calls answered 403: the identity
// cannot read the directory (no User.Read.All / Group.Read.All consent).
var ErrDirectoryForbidden = errors.New("cannot read the directory")

// StatusCode returns the HTTP status of an *APIError in err's chain, or 0.
func StatusCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

func newAPIError(method string, u *url.URL, resp *http.Response, body []byte) *APIError {
	e := &APIError{Method: method, URL: redact(u), StatusCode: resp.StatusCode}
	e.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	// Dataverse, Power Apps and Graph all answer {"error":{"code","message"}}.
	var env struct {
		Error *struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		if env.Error.Code != nil {
			e.Code = fmt.Sprint(env.Error.Code)
		}
		e.Message = env.Error.Message
	} else if env.Message != "" {
		e.Message = env.Message
	} else if s := strings.TrimSpace(string(body)); s != "" && !strings.HasPrefix(s, "{") {
		e.Message = truncate(s, 300)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
