// Package devopstest runs Azure DevOps and GitHub REST servers on loopback
// for tests. They answer with the JSON shapes the real services send,
// including what azure-devops-go-api asks before any call (OPTIONS _apis for
// the route table, GET _apis/ResourceAreas), check the token, keep pull
// requests as state, record every request and can be told to fail the next
// matching request (a 429 with Retry-After, a 5xx).
package devopstest

import (
	"net/http"
	"strings"
	"sync"
)

// Request is one request a fake server received.
type Request struct {
	Method string
	Path   string // decoded
	Query  string // raw
	Accept string
	Body   string
}

// Fault is an answer given instead of the real one.
type Fault struct {
	Method     string // "" matches any
	PathSuffix string // matched against the decoded path
	Status     int
	Header     http.Header
	Body       string
}

type recorder struct {
	mu       sync.Mutex
	requests []Request
	faults   []Fault
}

// Requests returns what the server received so far.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// FailNext makes the next request matching f get f's answer; faults are used
// once each, in order.
func (r *recorder) FailNext(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// record notes the request and answers a pending fault; it reports whether
// it answered.
func (r *recorder) record(w http.ResponseWriter, req *http.Request, body string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Accept: req.Header.Get("Accept"), Body: body})
	for i, f := range r.faults {
		if (f.Method == "" || f.Method == req.Method) && strings.HasSuffix(req.URL.Path, f.PathSuffix) {
			r.faults = append(r.faults[:i], r.faults[i+1:]...)
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return true
		}
	}
	return false
}
