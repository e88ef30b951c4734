package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/pflag"

	"github.com/ppalm/ppalm/entra"
	"github.com/ppalm/ppalm/maker"
	"github.com/ppalm/ppalm/maker/teamauth"
)

// teamFlags are team mode's: `ppalm maker --public-url URL` serves the
// whole team. Secrets come from the environment only (a container
// platform's secret settings), never from flags a process list shows.
type teamFlags struct {
	publicURL, certificate, managedIdentityID, apiScope string
	workloadIdentity, team                              bool
}

func (t *teamFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&t.publicURL, "public-url", "", "team mode: where makers reach the app, https://HOST (register HOST/auth/callback and HOST/auth/signedout as its redirect URIs)")
	fl.BoolVar(&t.team, "team", false, "with --demo: team mode, makers signing in on an Entra stand-in")
	fl.StringVar(&t.certificate, "client-certificate", "", "team mode: the app registration's certificate, PEM or PFX with its key (env AZURE_CLIENT_CERTIFICATE_PATH; password in AZURE_CLIENT_CERTIFICATE_PASSWORD)")
	fl.BoolVar(&t.workloadIdentity, "workload-identity", false, "team mode: the app registration trusts this workload's identity (a federated credential): AZURE_FEDERATED_TOKEN_FILE, else the managed identity")
	fl.StringVar(&t.managedIdentityID, "managed-identity-client-id", "", "team mode with --workload-identity: a user-assigned managed identity's client id (default: the system-assigned one)")
	fl.StringVar(&t.apiScope, "api-scope", "", "team mode: the app's own API scope the maker's token is issued for (default api://CLIENT_ID/user_impersonation)")
}

// teamOptions builds team mode from the flags and the environment.
func teamOptions(ctx context.Context, f *Factory, o *makerOptions, getenv func(string) string) (maker.Options, error) {
	if o.repo == "" {
		return maker.Options{}, errors.New("team mode: pass --repo, the team's repository URL")
	}
	envs, err := environmentFlags(o.environments)
	if err != nil {
		return maker.Options{}, err
	}
	cfg := teamauth.Config{PublicURL: o.team.publicURL, TenantID: cmp.Or(o.tenantID, getenv("AZURE_TENANT_ID")),
		ClientID: cmp.Or(o.clientID, getenv("AZURE_CLIENT_ID")), ClientSecret: getenv("AZURE_CLIENT_SECRET"),
		AuthorityHost: cmp.Or(f.Entra.Cloud.ActiveDirectoryAuthorityHost, getenv("AZURE_AUTHORITY_HOST")), APIScope: o.team.apiScope}
	if hc, ok := f.Entra.Transport.(*http.Client); ok {
		cfg.HTTPClient = hc
	}
	var problems []string
	if cfg.SessionKeys, err = teamauth.ParseSessionKeys(getenv("PPALM_SESSION_KEYS")); err != nil {
		problems = append(problems, "PPALM_SESSION_KEYS: "+err.Error())
	}
	if path := cmp.Or(o.team.certificate, getenv("AZURE_CLIENT_CERTIFICATE_PATH")); path != "" {
		data, err := os.ReadFile(path)
		if err == nil {
			var pw []byte
			if p := getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"); p != "" {
				pw = []byte(p)
			}
			cfg.Certificates, cfg.CertificateKey, err = azidentity.ParseCertificates(data, pw)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("--client-certificate %s: %v", path, err))
		}
	}
	if o.team.workloadIdentity {
		if file := getenv("AZURE_FEDERATED_TOKEN_FILE"); file != "" {
			// AKS workload identity: the projected token, read fresh each
			// time (the platform rotates it).
			cfg.ClientAssertion = func(context.Context) (string, error) {
				b, err := os.ReadFile(file)
				return strings.TrimSpace(string(b)), err
			}
		} else {
			mo := &azidentity.ManagedIdentityCredentialOptions{}
			if o.team.managedIdentityID != "" {
				mo.ID = azidentity.ClientID(o.team.managedIdentityID)
			}
			mi, err := azidentity.NewManagedIdentityCredential(mo)
			if err != nil {
				problems = append(problems, "--workload-identity: "+err.Error())
			}
			cfg.ClientAssertion = entra.ManagedIdentityAssertion(mi)
		}
	}
	if len(problems) > 0 {
		return maker.Options{}, fmt.Errorf("team mode: %s", strings.Join(problems, "; "))
	}
	opts, err := maker.NewTeam(ctx, maker.TeamOptions{SignIn: cfg, Repo: o.repo, DefaultBranch: o.defaultBranch, Environments: envs,
		GitHubToken: teamGitHubToken(getenv), GitHubAPIURL: o.githubAPIURL, Getenv: getenv})
	if err != nil {
		return maker.Options{}, err
	}
	fmt.Fprintf(f.Stderr, "team mode for tenant %s, app %s: makers sign in at %s\n", cfg.TenantID, cfg.ClientID, strings.TrimRight(cfg.PublicURL, "/"))
	return opts, nil
}

// teamGitHubToken is the team's GitHub token (GitHub has no on-behalf-of):
// GH_TOKEN or GITHUB_TOKEN, nil when neither is set.
func teamGitHubToken(getenv func(string) string) func(context.Context) (string, error) {
	for _, name := range []string{"GH_TOKEN", "GITHUB_TOKEN"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return func(context.Context) (string, error) { return v, nil }
		}
	}
	return nil
}

// environmentFlags reads --environment NAME=URL flags.
func environmentFlags(flags []string) (map[string]string, error) {
	envs := map[string]string{}
	for _, e := range flags {
		name, u, ok := strings.Cut(e, "=")
		if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(u) == "" {
			return nil, fmt.Errorf("--environment %q: expected NAME=URL, e.g. dev=https://contoso-dev.crm.dynamics.com", e)
		}
		envs[strings.TrimSpace(name)] = strings.TrimSpace(u)
	}
	return envs, nil
}
