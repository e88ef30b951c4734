package maker

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/localvars"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

//go:embed web
var webFS embed.FS

// Environment is a Dataverse environment the maker can reach.
type Environment struct {
	Name   string
	URL    string
	Client *dataverse.Client
}

// Options configure a Server.
type Options struct {
	// Environments the maker can reach, by name; deployment steps name
	// them too.
	Environments []Environment
	// Repo is the git repository (URL or working copy) the profiles, the
	// solutions' source and their state live in. Token authenticates to it;
	// TokenSource, when set, is asked instead before each git operation (a
	// signed-in maker's token expires within the hour).
	Repo, Token   string
	TokenSource   func(ctx context.Context) (string, error)
	DefaultBranch string // "main" when empty
	// Maker is who the app acts as: commit author, the name in history, the
	// identity profiles' makers lists name. MakerObjectID is their Entra
	// object id, and Groups lists the Entra groups they are in (asked once
	// a profile names a group; nil: none). Team mode ignores all three: each
	// request acts for the maker signed in on it.
	Maker         gitops.Signature
	MakerObjectID string
	Groups        func(ctx context.Context) ([]string, error)
	Now           func() time.Time
	// RepoHost opens the repository host client a profile names (pull
	// requests, labels, pipeline runs); nil: only local profiles work.
	RepoHost func(ctx context.Context, p Profile) (*devops.Client, error)
	// RunsPipelines makes the app run a deployment itself where a pipeline
	// host would (the local host, and --demo, where no pipeline runner
	// exists): after a pull request for the test step, and for an
	// environment approval.
	RunsPipelines bool
	// Variables gives the values of the settings files' #{tokens}# for
	// environment env when the app deploys or imports itself: the pipeline
	// variables a pipeline would have.
	Variables func(ctx context.Context, env string, sol *solution.Solution) (settings.LookupFunc, error)
	// RepositoryHost opens the host of Repo itself, where an admin's change
	// to the profiles file becomes a pull request; nil: admins commit.
	RepositoryHost func(ctx context.Context) (*devops.Client, error)
	// Team, when set, serves the whole team (team.go): makers sign in with
	// Entra, every request acts for the maker signed in on it, and the
	// loopback guards give way to the signed-in session's.
	Team *Team
	// LocalVariables opens the store (outside any repository) of the
	// values local profiles' deployments read; nil: local profiles have
	// none.
	LocalVariables func() (*localvars.Store, error)
}

// Server is the maker app: an http.Handler. See doc.go for its layout.
type Server struct {
	opts    Options
	key     []byte
	port    string
	mux     *http.ServeMux
	pages   map[string]*template.Template
	stateMu sync.Mutex
	buildMu sync.Mutex
	builds  int
	// secrets are the tokens the app was handed: never shown on a page.
	secretsMu sync.Mutex
	secrets   []string
	// refresh is how often (seconds) a page showing a run that has not
	// finished looks again.
	refresh int
	// groups caches what Graph says about makers' groups.
	groups groupCache
	// signedIn is team mode's handler: sign-in routes, then the app.
	signedIn http.Handler
	// configMu serialises Configure's commits of a config folder.
	configMu sync.Mutex
	// stepEnvs are the clients team mode built for deployment steps'
	// environments, by name and URL: built once, so their token caches
	// (per maker) and look-ups outlive a request.
	stepEnvsMu sync.Mutex
	stepEnvs   map[string]Environment
}

// New builds the app for a listener on addr (host:port, for the Host check).
func New(addr string, opts Options) (*Server, error) {
	if opts.DefaultBranch == "" {
		opts.DefaultBranch = "main"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	s := &Server{opts: opts, key: randomKey(), port: port, mux: http.NewServeMux(), pages: map[string]*template.Template{}, refresh: 10}
	s.remember(opts.Token)
	if opts.Team != nil {
		s.signedIn = opts.Team.Auth.Handler(http.HandlerFunc(s.serveSignedIn))
	}
	if err := s.parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// routes is the app's one route table; a new screen adds its lines here.
func (s *Server) routes() {
	static, _ := fs.Sub(webFS, "web/static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("GET /start", s.start)
	s.mux.HandleFunc("GET /environment", s.chooseEnvironment)
	s.mux.HandleFunc("POST /environment", s.setEnvironment)
	s.mux.HandleFunc("GET /solutions/{name}/profile", s.profileForm)
	s.mux.HandleFunc("POST /solutions/{name}/profile", s.setProfile)
	s.mux.HandleFunc("GET /solutions/{name}/commit", s.commitForm)
	s.mux.HandleFunc("POST /solutions/{name}/commit", s.commit)
	s.mux.HandleFunc("GET /solutions/{name}/deploy", s.deployForm)
	s.mux.HandleFunc("POST /solutions/{name}/deploy", s.deploy)
	s.mux.HandleFunc("GET /solutions/{name}/delete", s.deleteForm)
	s.mux.HandleFunc("POST /solutions/{name}/delete", s.delete)
	s.mux.HandleFunc("GET /solutions/{name}/history", s.history)
	s.mux.HandleFunc("GET /solutions/{name}/configure", s.configureForm)
	s.mux.HandleFunc("POST /solutions/{name}/configure", s.configure)
	s.mux.HandleFunc("GET /import", s.importForm)
	s.mux.HandleFunc("POST /import", s.importSolution)
	s.adminRoutes()
}

// ServeHTTP applies the guards (security.go; team mode's sign-in, team.go)
// and then the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		health(w, r)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	if s.signedIn != nil {
		s.serveTeam(w, r)
		return
	}
	if !s.allowedHost(r.Host) {
		http.Error(w, "refused: this app answers only on its loopback address", http.StatusMisdirectedRequest)
		return
	}
	v := &visit{csrf: s.csrfToken(s.session(w, r)), who: Identity{Signature: s.opts.Maker, ObjectID: s.opts.MakerObjectID}}
	if s.opts.Groups != nil {
		v.groups = func(ctx context.Context) ([]string, error) {
			return s.groups.get("local", s.opts.Now(), func() ([]string, error) { return s.opts.Groups(ctx) })
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if why := checkCSRF(r, v.csrf); why != "" {
			refuse(w, why)
			return
		}
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitKey{}, v)))
}

// page is what every template gets: the layout's fields plus the screen's.
type page struct {
	Title       string
	CSRF        string
	Maker       string
	Environment string
	Data        any
	Errors      map[string]string // field name -> message, shown beside the field
	Message     string
	Failed      bool
	Link        string
	LinkText    string // what Link opens; "Open" when empty
	// Refresh reloads the page after that many seconds (the history while
	// a run is queued); 0: never.
	Refresh int
	// Page is the screen's name, on <main data-page>, for tests and styles.
	Page string
	// Admin shows the Profiles link; SignOut the sign-out button (team
	// mode).
	Admin, SignOut bool
}

func (s *Server) parsePages() error {
	layout, err := template.New("layout.html").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"hostName": hostName,
		"approval": func(a string) string {
			if a == ApprovalPullRequest {
				return "through a pull request"
			}
			return "after the environment's approval"
		},
		"hostState": hostState,
		// dict passes named values to a sub-template.
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}).Funcs(configureFuncs).ParseFS(webFS, "web/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(webFS, "web/pages/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		t, err := template.Must(layout.Clone()).ParseFS(webFS, n)
		if err != nil {
			return err
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(n, "web/pages/"), ".html")] = t
	}
	return nil
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Page = name
	p.Message = s.scrubText(p.Message)
	v := visitOf(r.Context())
	p.CSRF, p.SignOut = v.csrf, v.team
	who := s.who(r.Context())
	p.Maker = who.Email
	if !p.Admin {
		p.Admin = s.mayAdminister(r.Context(), who, status)
	}
	if env, ok := s.environment(r); ok {
		p.Environment = env.Name
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "layout.html", p); err != nil {
		fmt.Fprintf(w, "<p>page error: %s</p>", template.HTMLEscapeString(err.Error()))
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.render(w, r, status, "result", page{Title: "Something went wrong", Message: err.Error(), Failed: true})
}

// The environment the maker works in is a preference, kept in a cookie.
const envCookie = "ppalm_env"

// rememberEnvironment sets the preference. It is no credential, so Lax:
// it comes along when team mode's sign-in redirects back from Entra.
func (s *Server) rememberEnvironment(w http.ResponseWriter, r *http.Request, env Environment) {
	http.SetCookie(w, &http.Cookie{Name: envCookie, Value: env.Name, Path: "/", HttpOnly: true, Secure: r.TLS != nil || s.opts.Team != nil && s.opts.Team.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
}

func (s *Server) environment(r *http.Request) (Environment, bool) {
	c, err := r.Cookie(envCookie)
	if err != nil {
		return Environment{}, false
	}
	return s.findEnvironment(c.Value)
}

func (s *Server) findEnvironment(name string) (Environment, bool) {
	for _, e := range s.opts.Environments {
		if strings.EqualFold(e.Name, name) {
			return e, true
		}
	}
	return Environment{}, false
}

// start is the link ppalm maker opens: it presets the environment
// preference (--demo: dev) and shows the solution list.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	if env, ok := s.findEnvironment(r.URL.Query().Get("environment")); ok {
		s.rememberEnvironment(w, r, env)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) chooseEnvironment(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, 200, "environment", page{Title: "Choose your environment", Data: s.opts.Environments})
}

func (s *Server) setEnvironment(w http.ResponseWriter, r *http.Request) {
	env, ok := s.findEnvironment(r.PostFormValue("environment"))
	if !ok {
		s.render(w, r, 400, "environment", page{Title: "Choose your environment", Data: s.opts.Environments,
			Errors: map[string]string{"environment": "Choose one of the environments listed."}})
		return
	}
	s.rememberEnvironment(w, r, env)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// solutionRow is one line of the solution list.
type solutionRow struct {
	dataverse.Solution
	Profile string
	// Last is the newest request, with its run's state now.
	Last *historyRow
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	env, ok := s.environment(r)
	if !ok {
		http.Redirect(w, r, "/environment", http.StatusSeeOther)
		return
	}
	var sols []dataverse.Solution
	var sn *snapshot
	var solErr, snErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sols, solErr = env.Client.ListSolutions(r.Context())
	}()
	sn, snErr = s.read(r.Context())
	wg.Wait()
	if solErr != nil {
		s.fail(w, r, 502, fmt.Errorf("list the solutions of %s: %w", env.Name, solErr))
		return
	}
	if snErr != nil {
		s.fail(w, r, 502, snErr)
		return
	}
	var rows []solutionRow
	for _, sol := range sols {
		if sol.IsManaged || sol.UniqueName == "Default" || sol.UniqueName == "Active" {
			continue
		}
		st := sn.state(sol.UniqueName)
		row := solutionRow{Solution: sol, Profile: st.Profile}
		if last := st.Last(); last != nil {
			row.Last = &historyRow{Request: *last, Now: last.State, Class: stateClass(last.State)}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].FriendlyName < rows[j].FriendlyName })
	// A last request still queued on a pipeline host: ask the host how it
	// is doing now.
	var live sync.WaitGroup
	for i := range rows {
		last := rows[i].Last
		if last == nil || last.State != "queued" || sn.profiles == nil {
			continue
		}
		if p, ok := sn.profiles.Profile(rows[i].Profile); ok {
			live.Add(1)
			go func() {
				defer live.Done()
				*last = s.liveRows(r.Context(), p, []Request{last.Request})[0]
			}()
		}
	}
	live.Wait()
	p := page{Title: "Solutions in " + env.Name, Data: rows}
	for _, row := range rows {
		if row.Last != nil && row.Last.Pending {
			p.Refresh = s.refresh
		}
	}
	s.render(w, r, 200, "solutions", p)
}

// hostName is how the app names a profile's repository host.
func hostName(h string) string {
	switch h {
	case HostAzureDevOps:
		return "Azure DevOps"
	case HostGitHub:
		return "GitHub"
	}
	return "this machine"
}

// hostState puts a host's run status in the app's words (Azure DevOps
// build status and result, GitHub run status and conclusion).
func hostState(s string) string {
	switch s {
	case "notStarted", "queued", "requested", "pending":
		return "queued"
	case "inProgress", "in_progress":
		return "running"
	case "success":
		return "succeeded"
	case "failure", "timed_out", "startup_failure":
		return "failed"
	case "cancelled":
		return "canceled"
	case "partiallySucceeded":
		return "partly succeeded"
	}
	return s
}
