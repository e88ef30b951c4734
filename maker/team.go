package maker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/maker/teamauth"
)

// Team mode: one `ppalm maker --listen :8080 --public-url https://…` serves
// the whole team. Makers sign in with Entra (teamauth: code flow with PKCE,
// the app a confidential client); every request acts for the maker signed
// in on it:
//
//   - Dataverse, the Power Apps admin API and Graph: the environments'
//     clients are built once with an on-behalf-of credential that reads the
//     maker from the request's context (onBehalfOf, a dataverse.PerCaller,
//     so tokens are cached per maker) and exchanges the maker's token for
//     theirs (azidentity's OnBehalfOfCredential, teamauth.Auth.Credential).
//     A call made without a signed-in maker on its context gets no token.
//   - Azure DevOps and Azure Repos: the maker's on-behalf-of token for Azure
//     DevOps (Bearer; the git password).
//   - GitHub has no on-behalf-of: the team's GitHub token (a GitHub App
//     installation's, or a bot's) with the maker as commit author and in the
//     request history.
//   - Who may use a profile, see its advanced options or administer the
//     profiles: the token's oid, upn and group claims; a maker in more
//     groups than a token carries (the overage) is looked up in Graph as
//     themselves (POST /me/getMemberGroups), cached for five minutes.
//
// Nothing is kept between requests but what the sealed session cookie
// holds, so replicas behind a load balancer need only share the session
// key. GET /healthz answers without sign-in for the platform's probes.

// HealthPath answers 200 "ok" while the process serves: the liveness and
// readiness probe of a container platform. It needs no sign-in and says
// nothing else.
const HealthPath = "/healthz"

func health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// Team is what team mode adds to Options.
type Team struct {
	// Auth signs makers in and guards every route but the static files
	// and the health probe.
	Auth *teamauth.Auth
	// Groups asks Graph, as the signed-in maker, for the groups of a maker
	// whose token could not carry them (the overage); nil: such a maker is
	// in no group as far as the app knows.
	Groups func(ctx context.Context) ([]string, error)
	// Secure marks the app's own cookies Secure (the public URL is https;
	// TLS may end at the load balancer).
	Secure bool
	// connect builds the client of an environment the app does not list (a
	// deployment step's), calling as the signed-in maker.
	connect func(name, rawURL string) (Environment, error)
}

// serveTeam is ServeHTTP in team mode: the static files for everyone,
// everything else through the sign-in.
func (s *Server) serveTeam(w http.ResponseWriter, r *http.Request) {
	// The sign-out form's answer leads to the tenant's sign-out page, and
	// browsers hold a form's redirects to form-action too.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self' "+s.opts.Team.Auth.SignOutOrigin())
	if strings.HasPrefix(r.URL.Path, "/static/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.signedIn.ServeHTTP(w, r)
}

// serveSignedIn serves a request teamauth let through: signed in, and with
// the session's CSRF token when it changes anything.
func (s *Server) serveSignedIn(w http.ResponseWriter, r *http.Request) {
	sess, ok := teamauth.FromContext(r.Context())
	if !ok {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	v := &visit{csrf: sess.CSRFToken(), team: true, who: Identity{
		Signature: gitops.Signature{Name: sess.Name, Email: sess.UPN}, ObjectID: sess.ObjectID, Groups: sess.Groups}}
	if v.who.Name == "" {
		v.who.Name = sess.UPN
	}
	if sess.GroupsOverage && s.opts.Team.Groups != nil {
		v.groups = func(ctx context.Context) ([]string, error) {
			return s.groups.get(sess.ObjectID, s.opts.Now(), func() ([]string, error) { return s.opts.Team.Groups(ctx) })
		}
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitKey{}, v)))
}

// onBehalfOf is the credential of every call team mode makes as the
// signed-in maker: it finds the maker on the request's context and asks
// their on-behalf-of credential.
type onBehalfOf struct{ auth *teamauth.Auth }

func (c onBehalfOf) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	cred, err := c.auth.Credential(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return cred.GetToken(ctx, o)
}

// Caller makes onBehalfOf a dataverse.PerCaller: tokens are cached per
// maker.
func (c onBehalfOf) Caller(ctx context.Context) (string, error) {
	sess, ok := teamauth.FromContext(ctx)
	if !ok {
		return "", errors.New("no signed-in maker on this request")
	}
	return sess.ObjectID, nil
}

// TeamOptions configure team mode.
type TeamOptions struct {
	// SignIn is the app registration and the session keys.
	SignIn teamauth.Config
	// Repo is the team's repository (its profiles on DefaultBranch).
	Repo          string
	DefaultBranch string // main when empty
	// Environments are the makers' development environments (NAME -> URL);
	// a deployment step's environment is reached through its URL.
	Environments map[string]string
	// GitHubToken gives the team's GitHub token (a GitHub App
	// installation's or a bot's: GitHub has no on-behalf-of); nil: GitHub
	// profiles and a GitHub repository do not work.
	GitHubToken  func(ctx context.Context) (string, error)
	GitHubAPIURL string
	// GitToken, when set, gives the repository's token instead (a git
	// server that is neither Azure Repos nor GitHub).
	GitToken func(ctx context.Context) (string, error)
	// Getenv fills the settings files' #{tokens}# when the app deploys
	// itself (a local profile), as a pipeline's variables would.
	Getenv func(string) string
	// DataverseOptions are added to every environment's client.
	DataverseOptions []dataverse.Option
	Now              func() time.Time
}

// NewTeam builds team mode's options: the sign-in, the environments and
// the repository hosts, every call as the signed-in maker.
func NewTeam(ctx context.Context, to TeamOptions) (Options, error) {
	if to.Repo == "" {
		return Options{}, errors.New("team mode needs --repo, the team's repository URL")
	}
	if len(to.Environments) == 0 {
		return Options{}, errors.New("team mode needs the makers' environments: --environment NAME=URL")
	}
	if to.DefaultBranch == "" {
		to.DefaultBranch = "main"
	}
	if to.SignIn.Now == nil {
		to.SignIn.Now = to.Now
	}
	auth, err := teamauth.New(ctx, to.SignIn)
	if err != nil {
		return Options{}, err
	}
	lo := LocalOptions{Repo: to.Repo, DefaultBranch: to.DefaultBranch, Credential: onBehalfOf{auth}, GitHubToken: to.GitHubToken,
		GitHubAPIURL: to.GitHubAPIURL, GitToken: to.GitToken, Getenv: to.Getenv, DataverseOptions: to.DataverseOptions, Now: to.Now}
	o := Options{Repo: to.Repo, DefaultBranch: to.DefaultBranch, Now: to.Now, TokenSource: lo.gitToken(),
		Team: &Team{Auth: auth, Secure: strings.HasPrefix(to.SignIn.PublicURL, "https://")}}
	if err := lo.connect(&o, to.Environments); err != nil {
		return Options{}, err
	}
	o.Team.Groups = o.Environments[0].Client.MemberGroups
	o.Team.connect = lo.environment
	return o, nil
}

// repositoryProfile says which repository host serves a repository URL,
// as a profile naming it: Azure Repos (dev.azure.com/ORG/PROJECT/_git/REPO,
// ORG.visualstudio.com/PROJECT/_git/REPO) or GitHub (github.com/OWNER/REPO,
// or the GitHub Enterprise Server host of apiURL).
func repositoryProfile(repo, apiURL string) (Profile, bool) {
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return Profile{}, false
	}
	host := strings.ToLower(u.Hostname())
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if i := indexOf(segs, "_git"); i >= 1 && i+1 < len(segs) {
		switch {
		case host == "dev.azure.com" && i == 2:
			return Profile{Name: "repository", Host: HostAzureDevOps, Organization: "https://dev.azure.com/" + segs[0], Project: segs[1], Repository: segs[3]}, true
		case strings.HasSuffix(host, ".visualstudio.com"):
			org := "https://" + host
			if i == 2 {
				org += "/" + segs[0] // a collection: DefaultCollection
			}
			return Profile{Name: "repository", Host: HostAzureDevOps, Organization: org, Project: segs[i-1], Repository: segs[i+1]}, true
		}
		return Profile{}, false
	}
	gh := "github.com"
	if a, err := url.Parse(apiURL); err == nil && apiURL != "" {
		gh = strings.ToLower(a.Hostname())
	}
	if host == gh && len(segs) == 2 {
		return Profile{Name: "repository", Host: HostGitHub, Repository: segs[0] + "/" + strings.TrimSuffix(segs[1], ".git")}, true
	}
	return Profile{}, false
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// environmentOf is the environment of a deployment step: the one the app
// knows by name, else a client for the step's URL, calling as the app's
// environments do (team mode: as the signed-in maker). That client is
// built once per name and URL: a client built per request would lose its
// tokens, and every page would exchange the maker's token again.
func (s *Server) environmentOf(step DeploymentStep) (Environment, error) {
	if env, ok := s.findEnvironment(step.Environment); ok {
		return env, nil
	}
	if s.opts.Team == nil || s.opts.Team.connect == nil || step.URL == "" {
		return Environment{}, fmt.Errorf("environment %s of the profile is not one this app can reach", step.Environment)
	}
	key := strings.ToLower(step.Environment) + " " + step.URL
	s.stepEnvsMu.Lock()
	defer s.stepEnvsMu.Unlock()
	if env, ok := s.stepEnvs[key]; ok {
		return env, nil
	}
	env, err := s.opts.Team.connect(step.Environment, step.URL)
	if err != nil {
		return Environment{}, err
	}
	if s.stepEnvs == nil {
		s.stepEnvs = map[string]Environment{}
	}
	s.stepEnvs[key] = env
	return env, nil
}
