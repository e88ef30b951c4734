package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Auth kinds accepted by NewCredential.
const (
	AuthAuto            = "auto"
	AuthSecret          = "secret"
	AuthCertificate     = "certificate"
	AuthAzurePipelines  = "azure-pipelines"
	AuthGitHubOIDC      = "github-oidc"
	AuthManagedIdentity = "managed-identity"
	AuthAzureCLI        = "azure-cli"
)

// AuthKinds lists the accepted values of CredentialOptions.Auth.
var AuthKinds = []string{AuthAuto, AuthSecret, AuthCertificate, AuthAzurePipelines, AuthGitHubOIDC, AuthManagedIdentity, AuthAzureCLI}

// CredentialOptions selects and configures the identity ppalm signs in as.
type CredentialOptions struct {
	Auth                string // one of AuthKinds; "" means auto
	TenantID            string
	ClientID            string
	ClientSecret        string
	CertificatePath     string // PEM or PFX with the private key
	CertificatePassword string
	// ServiceConnectionID and SystemAccessToken are for azure-pipelines
	// (workload identity federation through an Azure DevOps service connection).
	ServiceConnectionID string
	SystemAccessToken   string
	// Getenv reads SYSTEM_OIDCREQUESTURI, ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN
	// and the managed identity endpoint variables for auto selection.
	Getenv func(string) string
	// HTTPClient fetches the GitHub OIDC token; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// ResolveAuth picks the auth kind "auto" stands for: a secret, then a
// certificate, then the CI host's federation, then a managed identity, and
// the Azure CLI on a developer machine.
func (o CredentialOptions) ResolveAuth() string {
	if o.Auth != "" && o.Auth != AuthAuto {
		return o.Auth
	}
	env := o.getenv
	switch {
	case o.ClientSecret != "":
		return AuthSecret
	case o.CertificatePath != "":
		return AuthCertificate
	case env("SYSTEM_OIDCREQUESTURI") != "" && o.ServiceConnectionID != "":
		return AuthAzurePipelines
	case env("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && o.ClientID != "":
		return AuthGitHubOIDC
	case env("IDENTITY_ENDPOINT") != "" || env("MSI_ENDPOINT") != "":
		return AuthManagedIdentity
	}
	return AuthAzureCLI
}

func (o CredentialOptions) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// NewCredential builds the azidentity credential o describes. Errors name
// the missing setting, never a secret's value.
func NewCredential(o CredentialOptions) (azcore.TokenCredential, error) {
	kind := o.ResolveAuth()
	need := func(what, value, flag string) error {
		if value == "" {
			return fmt.Errorf("auth %s: %s is required (%s)", kind, what, flag)
		}
		return nil
	}
	var cred azcore.TokenCredential
	var err error
	switch kind {
	case AuthSecret:
		if err := firstErr(need("tenant id", o.TenantID, "--tenant-id or AZURE_TENANT_ID"),
			need("client id", o.ClientID, "--client-id or AZURE_CLIENT_ID"),
			need("client secret", o.ClientSecret, "--client-secret or AZURE_CLIENT_SECRET")); err != nil {
			return nil, err
		}
		cred, err = azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret, nil)
	case AuthCertificate:
		if err := firstErr(need("tenant id", o.TenantID, "--tenant-id or AZURE_TENANT_ID"),
			need("client id", o.ClientID, "--client-id or AZURE_CLIENT_ID"),
			need("certificate path", o.CertificatePath, "--certificate-path or AZURE_CLIENT_CERTIFICATE_PATH")); err != nil {
			return nil, err
		}
		data, readErr := os.ReadFile(o.CertificatePath)
		if readErr != nil {
			return nil, fmt.Errorf("auth certificate: read %s: %w", o.CertificatePath, readErr)
		}
		certs, key, parseErr := azidentity.ParseCertificates(data, []byte(o.CertificatePassword))
		if parseErr != nil {
			return nil, fmt.Errorf("auth certificate: %s: expected a PEM or PFX file with the certificate and its private key: %w", o.CertificatePath, parseErr)
		}
		cred, err = azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key, nil)
	case AuthAzurePipelines:
		if err := firstErr(need("tenant id", o.TenantID, "--tenant-id or AZURE_TENANT_ID"),
			need("client id", o.ClientID, "--client-id or AZURE_CLIENT_ID"),
			need("service connection id", o.ServiceConnectionID, "--service-connection-id or AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
			need("System.AccessToken", o.SystemAccessToken, "map SYSTEM_ACCESSTOKEN: $(System.AccessToken) into the step's env")); err != nil {
			return nil, err
		}
		cred, err = azidentity.NewAzurePipelinesCredential(o.TenantID, o.ClientID, o.ServiceConnectionID, o.SystemAccessToken, nil)
	case AuthGitHubOIDC:
		if err := firstErr(need("tenant id", o.TenantID, "--tenant-id or AZURE_TENANT_ID"),
			need("client id", o.ClientID, "--client-id or AZURE_CLIENT_ID"),
			need("ACTIONS_ID_TOKEN_REQUEST_URL", o.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), "the job needs permissions: id-token: write")); err != nil {
			return nil, err
		}
		cred, err = azidentity.NewClientAssertionCredential(o.TenantID, o.ClientID, o.gitHubAssertion, nil)
	case AuthManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if o.ClientID != "" {
			opts.ID = azidentity.ClientID(o.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	case AuthAzureCLI:
		// auto ends here when nothing else is configured; without the CLI
		// the token request would fail later with no hint of the others.
		if o.Auth == "" || o.Auth == AuthAuto {
			if _, lookErr := exec.LookPath("az"); lookErr != nil {
				return nil, fmt.Errorf("auth auto: no credential configured: pass --tenant-id, --client-id and --client-secret " +
					"(or set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), or --certificate-path, or choose --auth; " +
					"the Azure CLI fallback is not installed (az is not on PATH)")
			}
		}
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
	default:
		return nil, fmt.Errorf("auth %q: expected one of %s", o.Auth, strings.Join(AuthKinds, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("auth %s: %w", kind, err)
	}
	return cred, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// gitHubAssertion fetches a fresh GitHub Actions ID token for Entra (GitHub
// ID tokens are short-lived, so every token request gets a new one).
func (o CredentialOptions) gitHubAssertion(ctx context.Context) (string, error) {
	raw := o.getenv("ACTIONS_ID_TOKEN_REQUEST_URL")
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: expected a URL: %w", err)
	}
	q := u.Query()
	if q.Get("audience") == "" {
		q.Set("audience", "api://AzureADTokenExchange")
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("request GitHub OIDC token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+o.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("request GitHub OIDC token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("request GitHub OIDC token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request GitHub OIDC token: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Value == "" {
		return "", fmt.Errorf("request GitHub OIDC token: expected {\"value\":\"<token>\"}")
	}
	return out.Value, nil
}
