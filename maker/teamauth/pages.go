package teamauth

import (
	"html/template"
	"net/http"
	"sync"
)

type pageKind int

const (
	pageSignedOut pageKind = iota + 1
	pageExpired
	pageCSRF
	pageSignInFailed
	pageTokenRefused
)

type pageText struct {
	title, lead, action string
}

var pageTexts = map[pageKind]pageText{
	pageSignedOut:    {"Sign in to ppalm maker", "This app serves your team's makers. Sign in with your work account to continue.", "Sign in"},
	pageExpired:      {"Your session has ended", "Sign-ins last a working day, and this one is over (or Microsoft Entra ID no longer honours it). Sign in again to continue; nothing was changed.", "Sign in again"},
	pageCSRF:         {"This request was refused", "Nothing was changed. The request did not come from a page this app served you in this session. Go back, reload the page and try again.", ""},
	pageSignInFailed: {"Sign-in did not complete", "You are not signed in.", "Try again"},
	pageTokenRefused: {"Sign-in refused", "Microsoft Entra ID's answer did not pass ppalm's checks, so you are not signed in. If it happens again, ask the administrator of the app registration.", "Try again"},
}

var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · ppalm maker</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
.why{border-left:4px solid #a4262c;padding-left:1rem}a.button{display:inline-block;padding:.6rem 1.2rem;background:#0f6cbd;color:#fff;text-decoration:none;border-radius:4px}</style>
</head><body><main>
<h1>{{.Title}}</h1>
<p>{{.Lead}}</p>
{{if .Why}}<p class="why" role="alert">Why: {{.Why}}.</p>{{end}}
{{if .Action}}<p><a class="button" href="{{.Link}}">{{.Action}}</a></p>{{end}}
</main></body></html>`))
})

func (a *Auth) page(w http.ResponseWriter, status int, kind pageKind, returnTo string) {
	a.pageWith(w, status, kind, returnTo, "")
}

// pageWith writes one of the sign-in pages; why is escaped by the template.
func (a *Auth) pageWith(w http.ResponseWriter, status int, kind pageKind, returnTo, why string) {
	writePage(w, status, kind, a.SignInURL(returnTo), why)
}

func writePage(w http.ResponseWriter, status int, kind pageKind, link, why string) {
	t := pageTexts[kind]
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pageTmpl().Execute(w, map[string]string{"Title": t.title, "Lead": t.lead, "Why": why, "Action": t.action, "Link": link})
}

// Refuse answers 403 with the page a request without the right CSRF token
// gets (why says what was wrong; nothing was changed).
func Refuse(w http.ResponseWriter, why string) {
	writePage(w, http.StatusForbidden, pageCSRF, "", why)
}
