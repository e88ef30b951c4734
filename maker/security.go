package maker

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The app's guards, applied to every request by Server.ServeHTTP before any
// route runs:
//
//   - Host check: the Host header must name the loopback address the app
//     listens on (127.0.0.1:PORT, localhost:PORT or [::1]:PORT). A page on
//     another site that rebinds its DNS name to 127.0.0.1 sends its own name
//     in Host and is refused, so it cannot read the app's pages.
//   - CSRF: a state-changing request (anything but GET and HEAD) must carry
//     the form field "csrf" equal to HMAC(key, session cookie), and, when the
//     browser sends Origin, an Origin of the app itself. The session cookie is
//     random, HttpOnly and SameSite=Strict; the key lives only in memory.

const (
	sessionCookie = "ppalm_session"
	csrfField     = "csrf"
)

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// allowedHost reports whether host (a Host header) is the loopback address
// on the app's port.
func (s *Server) allowedHost(host string) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil || port != s.port {
		return false
	}
	switch strings.ToLower(h) {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// session returns the request's session id, setting a new cookie when it
// has none.
func (s *Server) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) >= 16 {
		return c.Value
	}
	id := base64.RawURLEncoding.EncodeToString(randomKey())
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return id
}

func (s *Server) csrfToken(session string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a state-changing request without the session's token or
// from another origin.
func (s *Server) checkCSRF(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	want := s.csrfToken(c.Value)
	return hmac.Equal([]byte(r.PostFormValue(csrfField)), []byte(want))
}

// gitToken is the token for the repository: TokenSource's current one (a
// signed-in maker's), else Options.Token. A failing TokenSource gives ""
// and the git server's refusal says why.
func (s *Server) gitToken(ctx context.Context) string {
	if s.opts.TokenSource == nil {
		return s.opts.Token
	}
	tok, err := s.opts.TokenSource(ctx)
	if err != nil {
		return ""
	}
	s.remember(tok)
	return tok
}

// remember adds a token to those never shown on a page.
func (s *Server) remember(tok string) {
	if len(tok) < 8 {
		return
	}
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	for _, t := range s.secrets {
		if t == tok {
			return
		}
	}
	s.secrets = append(s.secrets, tok)
	if len(s.secrets) > 32 {
		s.secrets = s.secrets[len(s.secrets)-32:]
	}
}

// scrub replaces every token the app holds in err's text: errors end up on
// pages and in the history, tokens never do.
func (s *Server) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := s.scrubText(err.Error())
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

func (s *Server) scrubText(text string) string {
	s.secretsMu.Lock()
	defer s.secretsMu.Unlock()
	for _, t := range s.secrets {
		text = strings.ReplaceAll(text, t, "***")
	}
	return text
}
