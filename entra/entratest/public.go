package entratest

import (
	"crypto/rand"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// This file holds what public clients (a maker's own machine: MSAL's
// interactive browser and device code sign-ins) meet and confidential ones
// do not: loopback redirect URIs on any port, the form_post response mode
// and the device authorization grant. The package comment cites the
// sources.

// redirectMatches reports whether a redirect URI of an authorization
// request matches a registered one: exactly, or, for loopback URIs, on
// everything but the port ("the port component … is ignored for the
// purposes of matching a redirect URI", Redirect URI best practices and
// limitations, Localhost exceptions).
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	r, err1 := url.Parse(registered)
	q, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || !loopback(r) || !loopback(q) {
		return false
	}
	path := func(u *url.URL) string {
		if u.Path == "" {
			return "/"
		}
		return u.Path
	}
	return r.Scheme == q.Scheme && strings.EqualFold(r.Hostname(), q.Hostname()) && path(r) == path(q) &&
		r.RawQuery == q.RawQuery && q.Fragment == "" && q.User == nil
}

func loopback(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return strings.EqualFold(h, "localhost") || ip != nil && ip.IsLoopback()
}

// registeredRedirect finds requested among the app's redirect URIs; native
// says it matched the Mobile and desktop platform's.
func (a *App) registeredRedirect(requested string) (ok, native bool) {
	for _, r := range a.NativeRedirectURIs {
		if redirectMatches(r, requested) {
			return true, true
		}
	}
	for _, r := range a.RedirectURIs {
		if redirectMatches(r, requested) {
			return true, false
		}
	}
	return false, false
}

var formPostTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("form_post").Parse(`<html><head><title>Working...</title></head><body>
<form method="POST" name="hiddenform" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}" />{{end}}
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript>
</form><script>document.forms[0].submit();</script></body></html>`))
})

// respond sends the authorization response to redirect: as a query
// (302), or, with response_mode=form_post, as a page whose form the
// browser posts to redirect (MSAL's interactive sign-in asks for it and
// its loopback server takes only a POST).
func (s *Server) respond(w http.ResponseWriter, r *http.Request, mode, redirect string, v url.Values) {
	if mode == "form_post" {
		fields := map[string]string{}
		for k := range v {
			fields[k] = v.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = formPostTmpl().Execute(w, struct {
			Action template.URL
			Fields map[string]string
		}{template.URL(redirect), fields})
		return
	}
	u, _ := url.Parse(redirect)
	q := u.Query()
	for k := range v {
		q.Set(k, v.Get(k))
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// deviceCode is one device authorization request.
type deviceCode struct {
	clientID, userCode string
	scopes             []string
	expires            time.Time
	user               *User // who entered the code; nil while pending
	redeemed           bool
}

// DeviceLoginURL is the verification_uri of the device code flow, the
// stand-in's microsoft.com/devicelogin.
func (s *Server) DeviceLoginURL() string { return s.web.URL + "/devicelogin" }

// userCode is eight characters a person types without confusing them.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// deviceAuthorization serves POST /{tenant}/oauth2/v2.0/devicecode.
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.aadError(w, http.StatusMethodNotAllowed, "invalid_request", []int{900561}, "The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.aadError(w, http.StatusBadRequest, "invalid_request", []int{900144}, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	f := r.PostForm
	app, ok := s.app(f.Get("client_id"))
	if !ok {
		s.aadError(w, http.StatusBadRequest, "unauthorized_client", []int{700016}, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", f.Get("client_id"), s.TenantID))
		return
	}
	scopes := strings.Fields(f.Get("scope"))
	if len(scopes) == 0 {
		s.aadError(w, http.StatusBadRequest, "invalid_request", []int{900144}, "The request body must contain the following parameter: 'scope'.")
		return
	}
	if _, _, ok := resourceOf(scopes); !ok {
		s.aadError(w, http.StatusBadRequest, "invalid_scope", []int{28000}, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope "+strings.Join(scopes, " ")+" is not valid.")
		return
	}
	dc := &deviceCode{clientID: app.ClientID, userCode: userCode(), scopes: scopes, expires: s.clock().Add(15 * time.Minute)}
	device := randomString(48)
	s.mu.Lock()
	s.devices[device] = dc
	s.mu.Unlock()
	writeJSON(w, map[string]any{
		"user_code": dc.userCode, "device_code": device, "verification_uri": s.DeviceLoginURL(),
		"expires_in": 900, "interval": 5,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", s.DeviceLoginURL(), dc.userCode),
	})
}

// deviceLogin serves the verification page: the person enters the code
// and picks the account to sign in with.
func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.showPage(w, http.StatusBadRequest, page{Title: "Enter code", Error: "The request is not a valid form."})
		return
	}
	code := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("otc")))
	if r.Method != http.MethodPost || code == "" {
		s.showPage(w, http.StatusOK, page{Title: "Enter code", AskCode: true, Users: s.Users(), Params: map[string]string{}})
		return
	}
	u, found := s.user(r.PostForm.Get("user"))
	now := s.clock()
	s.mu.Lock()
	var dc *deviceCode
	for _, d := range s.devices {
		if d.userCode == code && d.user == nil && !d.redeemed {
			dc = d
		}
	}
	msg := ""
	switch {
	case dc == nil:
		msg = "That code didn't work. Check the code and try again."
	case now.After(dc.expires):
		msg = "The code you entered has expired. Get a new code from the device you're trying to sign in to and try again."
	case !found:
		msg = "Pick the account to sign in with."
	default:
		dc.user = &u
	}
	s.mu.Unlock()
	if msg != "" {
		s.showPage(w, http.StatusOK, page{Title: "Enter code", Error: msg, AskCode: true, Users: s.Users(), Params: map[string]string{}})
		return
	}
	s.showPage(w, http.StatusOK, page{Title: "You're signed in", Message: "You have signed in to the " + dc.clientID +
		" application on your device. You may now close this window."})
}

// deviceGrant redeems a device code at the token endpoint (once); ok is
// false when it answered with an error instead.
func (s *Server) deviceGrant(w http.ResponseWriter, app *App, device string, now time.Time) (user User, scopes []string, ok bool) {
	s.mu.Lock()
	dc := s.devices[device]
	state := "unknown"
	switch {
	case dc == nil || dc.redeemed || !strings.EqualFold(dc.clientID, app.ClientID):
	case now.After(dc.expires):
		state = "expired"
	case dc.user == nil:
		state = "pending"
	default:
		dc.redeemed = true
		user, scopes, state = *dc.user, dc.scopes, "signed in"
	}
	s.mu.Unlock()
	switch state {
	case "unknown":
		s.aadError(w, http.StatusBadRequest, "bad_verification_code", []int{70000}, "The provided value for the 'device_code' is not valid.")
	case "expired":
		s.aadError(w, http.StatusBadRequest, "expired_token", []int{70019}, "Verification code expired.")
	case "pending":
		s.aadError(w, http.StatusBadRequest, "authorization_pending", []int{70016}, "The provided request has not yet been authorized by the user. The user must input their code.")
	default:
		return user, scopes, true
	}
	return User{}, nil, false
}
