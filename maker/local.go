package maker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/localvars"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// AzureDevOpsScope is the Entra scope of Azure DevOps (REST and Azure
// Repos): a signed-in maker's token for it works where a PAT would.
const AzureDevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// LocalOptions configure local mode: `ppalm maker --repo URL` on a maker's
// own machine, signed in as the maker. Every call goes out as the maker:
// Dataverse and Azure DevOps with the maker's Entra token (Credential),
// GitHub with the maker's GitHub token. The tokens stay in this process:
// no page, cookie or history entry holds one.
type LocalOptions struct {
	// Repo is the team's repository (its profiles on DefaultBranch).
	Repo          string
	DefaultBranch string // main when empty
	// Credential is the signed-in maker (azidentity: interactive browser,
	// device code or the Azure CLI).
	Credential azcore.TokenCredential
	// Environments the maker names (NAME -> URL), beside those the
	// profiles' deployment steps name.
	Environments map[string]string
	// GitHubToken gives the maker's GitHub token (for github profiles and a
	// repository on GitHub); nil when the maker has none.
	GitHubToken  func(ctx context.Context) (string, error)
	GitHubAPIURL string // GitHub Enterprise Server's https://host/api/v3
	// GitToken, when set, gives the repository's token instead (a git
	// server that is neither Azure Repos nor GitHub).
	GitToken func(ctx context.Context) (string, error)
	// Getenv fills the settings files' #{tokens}# when the app deploys or
	// imports itself, as a pipeline's variables would (os.Getenv).
	Getenv func(string) string
	// DataverseOptions are added to every environment's client.
	DataverseOptions []dataverse.Option
	Now              func() time.Time
}

// Local builds the app's options for local mode: who signed in (from the
// token's claims), the repository's token, the environments and the
// repository hosts, all as the maker.
func Local(ctx context.Context, lo LocalOptions) (Options, error) {
	if lo.Repo == "" {
		return Options{}, errors.New("local mode needs --repo, the team's repository URL")
	}
	if lo.Credential == nil {
		return Options{}, errors.New("local mode needs a signed-in maker")
	}
	if lo.DefaultBranch == "" {
		lo.DefaultBranch = "main"
	}
	o := Options{Repo: lo.Repo, DefaultBranch: lo.DefaultBranch, Now: lo.Now, TokenSource: lo.gitToken()}

	// The profiles name the deployment environments; read them once to
	// know every environment the maker deploys to.
	tok, err := o.TokenSource(ctx)
	if err != nil {
		return Options{}, err
	}
	envs := map[string]string{}
	for name, u := range lo.Environments {
		envs[strings.ToLower(name)] = u
	}
	if dir, err := readRepoFolder(ctx, lo.Repo, tok, lo.DefaultBranch, path.Dir(ProfilesPath)); err == nil {
		data, rerr := os.ReadFile(filepath.Join(dir, path.Base(ProfilesPath)))
		os.RemoveAll(filepath.Dir(dir))
		if rerr == nil {
			ps, perr := ParseProfiles(data)
			if perr != nil {
				return Options{}, perr
			}
			for _, p := range ps.Profiles {
				for _, st := range p.Steps {
					if _, ok := envs[strings.ToLower(st.Environment)]; !ok {
						envs[strings.ToLower(st.Environment)] = st.URL
					}
				}
			}
		}
	} else if !strings.Contains(err.Error(), "not found at") {
		return Options{}, fmt.Errorf("read the team's profiles from %s: %w", displayRepo(lo.Repo), scrubToken(err, tok))
	}
	if len(envs) == 0 {
		return Options{}, errors.New("no environment to work in: name yours with --environment NAME=URL (the profiles' deployment steps add theirs)")
	}
	if err := lo.connect(&o, envs); err != nil {
		return Options{}, err
	}

	// Who signed in: the claims of a token for the first environment.
	who, err := whoSignedIn(ctx, lo.Credential, dataverseScope(o.Environments[0].URL))
	if err != nil {
		return Options{}, err
	}
	o.Maker, o.MakerObjectID = who.Signature, who.ObjectID
	// The maker's groups, for profiles open to a group: Graph, as the maker.
	directory := o.Environments[0].Client
	o.Groups = directory.MemberGroups
	// Local profiles keep their values in the maker's own store, opened
	// (and its place checked) when a page first needs it.
	o.LocalVariables = openLocalVariables(func() (string, error) { return localvars.DefaultPath(lo.getenv()) })
	return o, nil
}

// connect fills what local and team mode share: a client per environment
// (envs: NAME -> URL, in name order), the repository hosts, and the
// #{token}# values of the app's own deployments.
func (lo LocalOptions) connect(o *Options, envs map[string]string) error {
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		env, err := lo.environment(strings.ToLower(n), envs[n])
		if err != nil {
			return err
		}
		o.Environments = append(o.Environments, env)
	}
	o.RepoHost = lo.repoHost()
	if rp, ok := repositoryProfile(lo.Repo, lo.GitHubAPIURL); ok {
		o.RepositoryHost = func(ctx context.Context) (*devops.Client, error) { return o.RepoHost(ctx, rp) }
	}
	getenv := lo.getenv()
	o.Variables = func(context.Context, string, *solution.Solution) (settings.LookupFunc, error) {
		return settings.NewVariables(getenv, nil).Lookup, nil
	}
	return nil
}

// getenv is Getenv, else the process's environment.
func (lo LocalOptions) getenv() func(string) string {
	if lo.Getenv != nil {
		return lo.Getenv
	}
	return os.Getenv
}

// environment is the client of one environment, calling as lo.Credential.
func (lo LocalOptions) environment(name, rawURL string) (Environment, error) {
	opts := []dataverse.Option{dataverse.WithCredential(lo.Credential), dataverse.WithUserAgent("ppalm-maker")}
	if u, err := url.Parse(rawURL); err == nil && u.Scheme == "http" {
		// A loopback environment is the emulator, which serves the
		// Power Apps and Graph APIs on its own address (dataverse.New
		// refuses plain http anywhere else).
		origin := "http://" + u.Host
		opts = append(opts, dataverse.WithPowerAppsURL(origin+"/powerapps"), dataverse.WithGraphURL(origin+"/graph"),
			dataverse.WithPollInterval(100*time.Millisecond))
	}
	opts = append(opts, lo.DataverseOptions...)
	c, err := dataverse.New(rawURL, opts...)
	if err != nil {
		return Environment{}, fmt.Errorf("environment %s: %w", name, err)
	}
	return Environment{Name: name, URL: c.EnvironmentURL(), Client: c}, nil
}

// repoHost opens a profile's repository host as lo.Credential (Azure
// DevOps) or with lo.GitHubToken (GitHub).
func (lo LocalOptions) repoHost() func(ctx context.Context, p Profile) (*devops.Client, error) {
	return func(ctx context.Context, p Profile) (*devops.Client, error) {
		switch p.Host {
		case HostAzureDevOps:
			t, err := lo.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{AzureDevOpsScope}})
			if err != nil {
				return nil, fmt.Errorf("sign in to Azure DevOps: %w", err)
			}
			return devops.New(ctx, devops.Config{Host: devops.HostAzureDevOps, OrganizationURL: p.Organization, Project: p.Project,
				Repository: p.Repository, Token: t.Token, Bearer: true})
		case HostGitHub:
			if lo.GitHubToken == nil {
				return nil, errors.New("profile " + p.Name + " is on GitHub: set GH_TOKEN (or GITHUB_TOKEN) to your GitHub token")
			}
			t, err := lo.GitHubToken(ctx)
			if err != nil {
				return nil, err
			}
			return devops.New(ctx, devops.Config{Host: devops.HostGitHub, Repository: p.Repository, Token: t, GitHubAPIURL: lo.GitHubAPIURL})
		}
		return nil, fmt.Errorf("profile %s names no repository host", p.Name)
	}
}

// gitToken picks the repository's token: GitToken, the maker's Entra token
// for Azure Repos, else the maker's GitHub token.
func (lo LocalOptions) gitToken() func(ctx context.Context) (string, error) {
	if lo.GitToken != nil {
		return lo.GitToken
	}
	u, _ := url.Parse(lo.Repo)
	host := ""
	if u != nil {
		host = strings.ToLower(u.Hostname())
	}
	if host == "dev.azure.com" || strings.HasSuffix(host, ".visualstudio.com") {
		// Azure Repos takes an Entra access token as the basic-auth
		// password, as Git Credential Manager sends it.
		return func(ctx context.Context) (string, error) {
			t, err := lo.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{AzureDevOpsScope}})
			if err != nil {
				return "", fmt.Errorf("sign in to Azure Repos: %w", err)
			}
			return t.Token, nil
		}
	}
	ghHost := "github.com"
	if a, err := url.Parse(lo.GitHubAPIURL); err == nil && lo.GitHubAPIURL != "" {
		ghHost = strings.ToLower(a.Hostname())
	}
	if lo.GitHubToken != nil && host == ghHost {
		return lo.GitHubToken
	}
	// Any other server gets no token of the maker's (a password written in
	// the URL is still used): a token goes only where it belongs.
	return func(context.Context) (string, error) { return "", nil }
}

func dataverseScope(envURL string) string {
	u, err := url.Parse(envURL)
	if err != nil {
		return envURL + "/.default"
	}
	return "https://" + u.Host + "/.default"
}

// SignedIn tells who a credential signs in as, from the claims of a token
// for scope: upn (or preferred_username, unique_name, email) and name.
// The token itself is dropped.
func SignedIn(ctx context.Context, cred azcore.TokenCredential, scope string) (gitops.Signature, error) {
	who, err := whoSignedIn(ctx, cred, scope)
	return who.Signature, err
}

// whoSignedIn is SignedIn with the maker's object id (oid).
func whoSignedIn(ctx context.Context, cred azcore.TokenCredential, scope string) (Identity, error) {
	t, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		return Identity{}, fmt.Errorf("sign in: %w", err)
	}
	parts := strings.Split(t.Token, ".")
	if len(parts) != 3 {
		return Identity{}, errors.New("sign in: the access token is not a JWT, so it does not say who signed in")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Identity{}, fmt.Errorf("sign in: read the access token's claims: %w", err)
	}
	var c struct {
		OID               string `json:"oid"`
		UPN               string `json:"upn"`
		PreferredUsername string `json:"preferred_username"`
		UniqueName        string `json:"unique_name"`
		Email             string `json:"email"`
		Name              string `json:"name"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Identity{}, fmt.Errorf("sign in: read the access token's claims: %w", err)
	}
	who := Identity{Signature: gitops.Signature{Name: c.Name}, ObjectID: c.OID}
	for _, v := range []string{c.UPN, c.PreferredUsername, c.Email, c.UniqueName} {
		if strings.Contains(v, "@") {
			who.Email = v
			break
		}
	}
	if who.Email == "" {
		return Identity{}, errors.New("sign in: the token names no user (upn, preferred_username, email): sign in as a person, not an application")
	}
	if who.Name == "" {
		who.Name = who.Email
	}
	return who, nil
}

func displayRepo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

func scrubToken(err error, tok string) error {
	if tok == "" || !strings.Contains(err.Error(), tok) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), tok, "***"))
}
