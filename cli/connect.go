package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

// connectionFlags are the flags every command that talks to an environment
// shares. Empty flags fall back to environment variables when the command
// runs (not as flag defaults, so help never shows a secret).
type connectionFlags struct {
	environment         string
	auth                string
	tenantID            string
	clientID            string
	clientSecret        string
	certificatePath     string
	serviceConnectionID string
	powerAppsURL        string
	graphURL            string
	maxConcurrency      int
}

// addConnectionFlags registers the connection flags on cmd.
func addConnectionFlags(cmd *cobra.Command) *connectionFlags {
	c := &connectionFlags{}
	fl := cmd.Flags()
	fl.StringVar(&c.environment, "environment", "", "environment URL, e.g. https://contoso.crm.dynamics.com (env PPALM_ENVIRONMENT_URL)")
	fl.StringVar(&c.auth, "auth", "", "how to sign in: "+strings.Join(dataverse.AuthKinds, "|")+" (env PPALM_AUTH; default auto)")
	fl.StringVar(&c.tenantID, "tenant-id", "", "Entra tenant id (env AZURE_TENANT_ID)")
	fl.StringVar(&c.clientID, "client-id", "", "application (client) id (env AZURE_CLIENT_ID)")
	fl.StringVar(&c.clientSecret, "client-secret", "", "client secret (env AZURE_CLIENT_SECRET; prefer the variable)")
	fl.StringVar(&c.certificatePath, "certificate-path", "", "PEM or PFX client certificate (env AZURE_CLIENT_CERTIFICATE_PATH, password in AZURE_CLIENT_CERTIFICATE_PASSWORD)")
	fl.StringVar(&c.serviceConnectionID, "service-connection-id", "", "Azure DevOps service connection id for azure-pipelines auth (env AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)")
	fl.StringVar(&c.powerAppsURL, "powerapps-url", "", "Power Apps API base URL (env PPALM_POWERAPPS_URL; default "+dataverse.DefaultPowerAppsURL+")")
	fl.StringVar(&c.graphURL, "graph-url", "", "Microsoft Graph base URL (env PPALM_GRAPH_URL; default "+dataverse.DefaultGraphURL+")")
	fl.IntVar(&c.maxConcurrency, "max-concurrency", 4, "requests in flight per host")
	return c
}

// withConnection makes cmd a command that works on the environment the
// connection flags name: it adds the flags and runs run with the client.
func withConnection(f *Factory, cmd *cobra.Command, run func(context.Context, *dataverse.Client) error) *cobra.Command {
	conn := addConnectionFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := conn.client(cmd.Context(), f)
		if err != nil {
			return err
		}
		return run(cmd.Context(), c)
	}
	return cmd
}

// client builds the Dataverse client the flags (or the environment) describe.
func (c *connectionFlags) client(ctx context.Context, f *Factory) (*dataverse.Client, error) {
	_ = ctx // credentials fetch tokens lazily, on the first request
	getenv := f.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	or := func(flag string, vars ...string) string {
		if flag != "" {
			return flag
		}
		for _, v := range vars {
			if s := getenv(v); s != "" {
				return s
			}
		}
		return ""
	}
	env := or(c.environment, "PPALM_ENVIRONMENT_URL")
	if env == "" {
		return nil, fmt.Errorf("no environment: pass --environment or set PPALM_ENVIRONMENT_URL")
	}
	opts := []dataverse.Option{dataverse.WithMaxConcurrency(c.maxConcurrency), dataverse.WithUserAgent("ppalm"),
		dataverse.WithLogger(clientLog(f))}
	powerApps, graph := or(c.powerAppsURL, "PPALM_POWERAPPS_URL"), or(c.graphURL, "PPALM_GRAPH_URL")
	// A loopback environment is the emulator, which serves the Power Apps
	// and Graph APIs on the same address; the public defaults would need a
	// credential and could never answer for it.
	if host := loopbackOrigin(env); host != "" {
		if powerApps == "" {
			powerApps = host + "/powerapps"
		}
		if graph == "" {
			graph = host + "/graph"
		}
	}
	if powerApps != "" {
		opts = append(opts, dataverse.WithPowerAppsURL(powerApps))
	}
	if graph != "" {
		opts = append(opts, dataverse.WithGraphURL(graph))
	}
	// The emulator (a loopback URL) needs no identity, and answers async
	// operations in milliseconds, so it is polled often; anything else needs
	// an identity and is polled at the client's default pace.
	if isLoopbackURL(env) {
		opts = append(opts, dataverse.WithPollInterval(100*time.Millisecond))
	} else {
		// A malformed or plain-http URL is the first thing to fix, before
		// which credential to use (New only parses; it sends nothing).
		if _, err := dataverse.New(env); err != nil {
			return nil, err
		}
		cred, err := dataverse.NewCredential(dataverse.CredentialOptions{
			Auth:                or(c.auth, "PPALM_AUTH"),
			TenantID:            or(c.tenantID, "AZURE_TENANT_ID"),
			ClientID:            or(c.clientID, "AZURE_CLIENT_ID"),
			ClientSecret:        or(c.clientSecret, "AZURE_CLIENT_SECRET"),
			CertificatePath:     or(c.certificatePath, "AZURE_CLIENT_CERTIFICATE_PATH"),
			CertificatePassword: getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
			ServiceConnectionID: or(c.serviceConnectionID, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "PPALM_SERVICE_CONNECTION_ID"),
			SystemAccessToken:   getenv("SYSTEM_ACCESSTOKEN"),
			Getenv:              getenv,
		})
		if err != nil {
			return nil, err
		}
		opts = append(opts, dataverse.WithCredential(cred))
	}
	if log := f.httpLog(); log != nil {
		opts = append(opts, dataverse.WithRequestLog(log))
	}
	opts = append(opts, f.DataverseOptions...)
	dv, err := dataverse.New(env, opts...)
	if err == nil {
		f.track(dv)
	}
	return dv, err
}

// clientLog puts what the client waits for and recovers from (Retry-After
// waits, polls that failed and go on, lost answers) in the run's log: the
// host's on a pipeline, stderr on a terminal, masked either way.
func clientLog(f *Factory) func(string, ...any) {
	return func(format string, args ...any) {
		f.reporter().Info(fmt.Sprintf(format, args...))
	}
}

// loopbackOrigin is "http://HOST:PORT" of a loopback URL, else "".
func loopbackOrigin(raw string) string {
	if !isLoopbackURL(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func isLoopbackURL(raw string) bool {
	for _, p := range []string{"http://127.0.0.1", "http://localhost", "http://[::1]"} {
		if strings.HasPrefix(raw, p) {
			rest := raw[len(p):]
			if rest == "" || rest[0] == ':' || rest[0] == '/' {
				return true
			}
		}
	}
	return false
}
