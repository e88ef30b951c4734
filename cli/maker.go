package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/pkg/browser"
	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/maker"
)

func init() { register("maker", newMakerCmd) }

// Sign-in kinds of local mode.
const (
	signInBrowser    = "browser"
	signInDeviceCode = "device-code"
	signInAzureCLI   = "azure-cli"
)

type makerOptions struct {
	listen, repo, signIn, tenantID, clientID, defaultBranch, githubAPIURL string
	environments                                                          []string
	demo, noBrowser                                                       bool
	team                                                                  teamFlags
}

func newMakerCmd(f *Factory) *cobra.Command {
	o := &makerOptions{}
	cmd := &cobra.Command{
		Use: "maker (--demo [--team] | --repo URL [--public-url URL]) [--listen ADDR] [--no-browser]",
		Example: `  go run ./cmd/ppalm maker --demo
  ppalm maker --repo https://dev.azure.com/contoso/ALM/_git/alm --environment dev=https://contoso-dev.crm.dynamics.com
  ppalm maker --repo https://github.com/contoso/alm --sign-in device-code   # GH_TOKEN holds your GitHub token
  ppalm maker --demo --team   # team mode's sign-in on an Entra stand-in
  ppalm maker --listen :8080 --public-url https://maker.contoso.com --repo https://dev.azure.com/contoso/ALM/_git/alm \
      --tenant-id TENANT --client-id APP --environment dev=https://contoso-dev.crm.dynamics.com   # team mode`,
		Short: "Serve the maker app: commit, deploy, delete, import and request history without git or YAML",
		Long: "Serves the maker app on a loopback address and prints `maker app on http://ADDR/`.\n\n" +
			"--demo starts the Dataverse emulator (dev seeded), a git server and a GitHub stand-in, and\n" +
			"opens the app with dev already chosen.\n\n" +
			"--repo URL is local mode, on a maker's machine: you sign in (--sign-in browser, device-code\n" +
			"or azure-cli) and the app talks to your environments and to the team's repository host as\n" +
			"you: Dataverse and Azure DevOps with your Entra token, GitHub with GH_TOKEN or GITHUB_TOKEN\n" +
			"(else `gh auth token`). The environments are the profiles' deployment steps plus each\n" +
			"--environment NAME=URL. Tokens stay in the process: never in a page, a cookie or git.\n\n" +
			"--public-url URL is team mode: one app for the whole team, listening on --listen (any\n" +
			"address). Makers sign in with Entra (the app registration --client-id of --tenant-id, a\n" +
			"confidential client: AZURE_CLIENT_SECRET, --client-certificate, or --workload-identity),\n" +
			"and every call to Dataverse and Azure DevOps goes on behalf of the signed-in maker; GitHub\n" +
			"takes the team's GH_TOKEN. PPALM_SESSION_KEYS holds the session key every replica shares.\n" +
			"GET /healthz answers the platform's probes. --demo --team runs it on an Entra stand-in.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.team.publicURL != "" && !cmd.Flags().Changed("listen") {
				o.listen = ":8080" // team mode serves others: every address, the port containers expose
			}
			return runMaker(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to serve on")
	fl.BoolVar(&o.demo, "demo", false, "run on the built-in emulator, git server and GitHub stand-in")
	fl.StringVar(&o.repo, "repo", "", "local mode: the team's repository URL (its .ppalm/profiles.yaml on the default branch)")
	fl.StringVar(&o.signIn, "sign-in", signInBrowser, "local mode: how you sign in: browser|device-code|azure-cli")
	fl.StringVar(&o.tenantID, "tenant-id", "", "local mode: your Entra tenant (env AZURE_TENANT_ID; default: your home tenant)")
	fl.StringVar(&o.clientID, "client-id", "", "local mode: the public client app to sign in through (default: azidentity's)")
	fl.StringArrayVar(&o.environments, "environment", nil, "local mode: an environment you work in, NAME=URL (repeatable)")
	fl.StringVar(&o.defaultBranch, "default-branch", "main", "local mode: the branch holding the profiles and the request history")
	fl.StringVar(&o.githubAPIURL, "github-api-url", "", "local mode: GitHub Enterprise Server API root, https://HOST/api/v3")
	fl.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser")
	o.team.register(fl)
	return cmd
}

func runMaker(ctx context.Context, f *Factory, o *makerOptions) error {
	host, _, err := net.SplitHostPort(o.listen)
	team := o.team.publicURL != ""
	if err != nil || (!team && !net.ParseIP(host).IsLoopback()) {
		return fmt.Errorf("--listen %q: expected a loopback address such as 127.0.0.1:0 (the app acts with your credentials: it never listens beyond this machine; team mode, --public-url, serves others)", o.listen)
	}
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var opts maker.Options
	start := ""
	var ln net.Listener
	switch {
	case o.demo && o.repo != "":
		return errors.New("--demo and --repo: choose one")
	case o.team.team && !o.demo:
		return errors.New("--team goes with --demo (team mode on an Entra stand-in); for your tenant, pass --public-url")
	case o.demo && team:
		return errors.New("--demo --team serves on its loopback address; --public-url is for your tenant")
	case o.demo:
		d, err := maker.StartDemo(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		opts, start = d.Options, "start?environment=dev"
		if o.team.team {
			if ln, err = net.Listen("tcp", o.listen); err != nil {
				return err
			}
			defer ln.Close()
			if opts, err = d.Team(ctx, "http://"+ln.Addr().String()); err != nil {
				return err
			}
			fmt.Fprintf(f.Stderr, "team mode on an Entra stand-in: sign in as %s (a maker in Contoso Makers), %s (an admin) or %s (in no makers group)\n",
				emulator.Maker.Email, emulator.Admin.Email, emulator.FlowOwner.Email)
		}
	case team:
		if opts, err = teamOptions(ctx, f, o, getenv); err != nil {
			return err
		}
	case o.repo != "":
		envs, err := environmentFlags(o.environments)
		if err != nil {
			return err
		}
		tenant := o.tenantID
		if tenant == "" {
			tenant = getenv("AZURE_TENANT_ID")
		}
		cred, err := signIn(o.signIn, tenant, o.clientID, f.Entra, f.Stderr)
		if err != nil {
			return err
		}
		opts, err = maker.Local(ctx, maker.LocalOptions{
			Repo: o.repo, DefaultBranch: o.defaultBranch, Credential: cred, Environments: envs,
			GitHubToken: gitHubToken(getenv), GitHubAPIURL: o.githubAPIURL, Getenv: getenv,
		})
		var cliErr *azureCLIError
		if errors.As(err, &cliErr) {
			return cliErr // what to do, not where it failed
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(f.Stderr, "signed in as %s\n", opts.Maker.Email)
	default:
		return errors.New("maker: pass --demo, or --repo URL with the team's repository (local mode)")
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", o.listen); err != nil {
			return err
		}
		defer ln.Close()
	}
	app, err := maker.New(ln.Addr().String(), opts)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	if team {
		url = strings.TrimRight(o.team.publicURL, "/") + "/"
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(f.Stdout, "maker app on %s\n", url)
	if team {
		fmt.Fprintf(f.Stderr, "listening on %s; health probe %s\n", ln.Addr(), maker.HealthPath)
	}
	if !o.noBrowser && !team {
		_ = browser.OpenURL(url + start)
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// signIn builds the maker's credential. The interactive kinds sign in on
// the first token request, which maker.Local makes before serving.
func signIn(kind, tenant, client string, entra azcore.ClientOptions, prompt io.Writer) (azcore.TokenCredential, error) {
	// Off Microsoft's own cloud (a stand-in), there is no instance metadata
	// to discover.
	custom := entra.Cloud.ActiveDirectoryAuthorityHost != ""
	switch kind {
	case signInBrowser:
		return azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{TenantID: tenant, ClientID: client,
			ClientOptions: entra, DisableInstanceDiscovery: custom})
	case signInDeviceCode:
		return azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{TenantID: tenant, ClientID: client,
			ClientOptions: entra, DisableInstanceDiscovery: custom,
			UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
				// The code goes to the terminal the maker started the app
				// from, never to a page.
				_, err := fmt.Fprintln(prompt, m.Message)
				return err
			}})
	case signInAzureCLI:
		if _, err := exec.LookPath("az"); err != nil {
			return nil, errors.New("--sign-in azure-cli: the Azure CLI (az) is not on PATH; use --sign-in browser or device-code")
		}
		cred, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenant})
		if err != nil {
			return nil, err
		}
		return &azureCLI{cred: cred, tenant: tenant, tokens: map[string]azcore.AccessToken{}, now: time.Now}, nil
	}
	return nil, fmt.Errorf("--sign-in %q: expected browser, device-code or azure-cli", kind)
}

// azureCLI is the maker signed in through the Azure CLI. azidentity's
// AzureCLICredential runs `az account get-access-token` for every token and
// keeps none ("This credential doesn't cache tokens, so every call invokes
// the CLI"): each run starts the CLI, a Python program, and a page that
// asks Azure DevOps twice would start it twice. So each scope's token is
// kept until five minutes before it expires, as the Dataverse client
// keeps its own. The CLI's refusal becomes what the maker does about it.
type azureCLI struct {
	cred   azcore.TokenCredential
	tenant string
	now    func() time.Time

	// mu is held while az runs, so two pages asking for one scope at
	// once run it once.
	mu     sync.Mutex
	tokens map[string]azcore.AccessToken
}

func (c *azureCLI) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	key := strings.Join(o.Scopes, " ") + "|" + o.TenantID
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[key]; ok && o.Claims == "" && c.now().Add(5*time.Minute).Before(t.ExpiresOn) {
		return t, nil
	}
	t, err := c.cred.GetToken(ctx, o)
	if err != nil {
		return t, c.explain(err)
	}
	c.tokens[key] = t
	return t, nil
}

// azureCLIError is the Azure CLI's refusal in the maker's words: runMaker
// prints it as it is.
type azureCLIError struct{ msg string }

func (e *azureCLIError) Error() string { return e.msg }

// explain turns what azidentity reports of az into what the maker does:
// with no account, the CLI says "Please run 'az login' to setup account."
// (on stderr, exit 1); anything else is said as the CLI said it, without
// azidentity's credential name and troubleshooting link.
func (c *azureCLI) explain(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	login := "az login"
	if c.tenant != "" {
		login += " --tenant " + c.tenant
	}
	if strings.Contains(msg, "Please run 'az login'") {
		return &azureCLIError{"--sign-in azure-cli: the Azure CLI is not signed in: run `" + login +
			"` and try again (or use --sign-in browser or device-code)"}
	}
	msg = strings.TrimPrefix(msg, "AzureCLICredential: ")
	if i := strings.Index(msg, " To troubleshoot, visit https://aka.ms/azsdk"); i >= 0 {
		msg = msg[:i]
	}
	return &azureCLIError{"--sign-in azure-cli: the Azure CLI gave no token: " + strings.TrimSpace(msg)}
}

// gitHubToken is the maker's GitHub token: GH_TOKEN or GITHUB_TOKEN (as the
// GitHub CLI reads them), else what `gh auth token` prints.
func gitHubToken(getenv func(string) string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		for _, name := range []string{"GH_TOKEN", "GITHUB_TOKEN"} {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				return v, nil
			}
		}
		if _, err := exec.LookPath("gh"); err == nil {
			out, err := exec.CommandContext(ctx, "gh", "auth", "token").Output()
			if tok := strings.TrimSpace(string(out)); err == nil && tok != "" {
				return tok, nil
			}
		}
		return "", errors.New("no GitHub token: set GH_TOKEN (or GITHUB_TOKEN), or sign in with `gh auth login`")
	}
}
