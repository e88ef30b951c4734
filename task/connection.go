package task

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Authentication schemes, spelled as the CLI's --auth values.
const (
	// SchemeSecret is a client id and secret (Azure DevOps "Power Platform"
	// connection with a service principal, or GitHub inputs).
	SchemeSecret = "secret"
	// SchemeAzurePipelines is workload identity federation through an Azure
	// DevOps service connection (azidentity AzurePipelinesCredential).
	SchemeAzurePipelines = "azure-pipelines"
	// SchemeGitHubOIDC is workload identity federation with the job's GitHub
	// OIDC token (permissions: id-token: write).
	SchemeGitHubOIDC = "github-oidc"
)

// Connection is what the Dataverse client needs to sign in.
type Connection struct {
	EnvironmentURL string
	TenantID       string
	ClientID       string
	// ClientSecret is empty for the federated schemes.
	ClientSecret string
	// Scheme is SchemeSecret, SchemeAzurePipelines or SchemeGitHubOIDC.
	Scheme string
	// ServiceConnectionID is the Azure DevOps endpoint id (for
	// AzurePipelinesCredential); empty on GitHub.
	ServiceConnectionID string
	// SystemAccessToken is the job token AzurePipelinesCredential exchanges
	// for the OIDC token; set only for SchemeAzurePipelines.
	SystemAccessToken string
}

// ServiceConnectionInput is the task.json input holding the Azure DevOps
// "Power Platform" service connection (type connectedService:powerplatform-spn).
const ServiceConnectionInput = "powerPlatformSPN"

// ResolveConnection reads the connection a task step was given: on Azure
// DevOps the service connection named by INPUT_POWERPLATFORMSPN (its
// ENDPOINT_URL_<id> and ENDPOINT_AUTH_<id>); on GitHub the inputs
// environment-url, tenant-id, client-id and client-secret, with OIDC when no
// secret is given. ok is false when the step names no connection. Every
// secret found is registered with r before it is returned.
func ResolveConnection(getenv func(string) string, r Reporter) (conn Connection, ok bool, err error) {
	if id, _, found := LookupInput(getenv, ServiceConnectionInput); found {
		conn, err = azureDevOpsConnection(getenv, id)
		if err != nil {
			return Connection{}, false, err
		}
		r.SetSecret(conn.ClientSecret)
		r.SetSecret(conn.SystemAccessToken)
		return conn, true, nil
	}
	if HostOf(getenv) == HostGitHub {
		conn, ok, err = gitHubConnection(getenv)
		if ok {
			r.SetSecret(conn.ClientSecret)
		}
		return conn, ok, err
	}
	return Connection{}, false, nil
}

// endpointAuth is the JSON in ENDPOINT_AUTH_<id>.
type endpointAuth struct {
	Scheme     string            `json:"scheme"`
	Parameters map[string]string `json:"parameters"`
}

func (a endpointAuth) param(names ...string) string {
	for _, n := range names {
		for k, v := range a.Parameters {
			if strings.EqualFold(k, n) && v != "" {
				return v
			}
		}
	}
	return ""
}

func azureDevOpsConnection(getenv func(string) string, id string) (Connection, error) {
	id = strings.TrimSpace(id)
	where := fmt.Sprintf("service connection %s (input %s)", id, ServiceConnectionInput)
	if strings.Contains(id, ",") {
		return Connection{}, fmt.Errorf("%s: expected one service connection, got a list", where)
	}
	conn := Connection{ServiceConnectionID: id, EnvironmentURL: getenv("ENDPOINT_URL_" + id)}
	if conn.EnvironmentURL == "" {
		return Connection{}, fmt.Errorf("%s: ENDPOINT_URL_%s is not set: expected the environment URL of the connection", where, id)
	}
	var auth endpointAuth
	if raw := getenv("ENDPOINT_AUTH_" + id); raw != "" {
		if err := json.Unmarshal([]byte(raw), &auth); err != nil {
			return Connection{}, fmt.Errorf("%s: ENDPOINT_AUTH_%s is not JSON {\"scheme\":...,\"parameters\":{...}}: %w", where, id, err)
		}
	} else {
		// Older agents and script steps only have the split variables.
		auth.Scheme = getenv("ENDPOINT_AUTH_SCHEME_" + id)
		auth.Parameters = map[string]string{}
		for _, k := range []string{"tenantId", "applicationId", "clientSecret", "serviceprincipalid"} {
			if v := getenv("ENDPOINT_AUTH_PARAMETER_" + id + "_" + strings.ToUpper(k)); v != "" {
				auth.Parameters[k] = v
			}
		}
	}
	conn.TenantID = auth.param("tenantId", "tenantid")
	switch {
	case strings.EqualFold(auth.Scheme, "WorkloadIdentityFederation"):
		conn.Scheme = SchemeAzurePipelines
		conn.ClientID = auth.param("serviceprincipalid", "applicationId")
		conn.SystemAccessToken = getenv("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN")
		if conn.SystemAccessToken == "" {
			conn.SystemAccessToken = getenv("SYSTEM_ACCESSTOKEN")
		}
		if conn.SystemAccessToken == "" {
			return Connection{}, fmt.Errorf("%s: workload identity federation needs the job access token: ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN or SYSTEM_ACCESSTOKEN is not set", where)
		}
	// The Power Platform Build Tools connection type declares its service
	// principal fields under the scheme "None"; AzureRM uses ServicePrincipal.
	case strings.EqualFold(auth.Scheme, "ServicePrincipal"), strings.EqualFold(auth.Scheme, "None"), auth.Scheme == "":
		conn.Scheme = SchemeSecret
		conn.ClientID = auth.param("applicationId", "serviceprincipalid", "clientId")
		conn.ClientSecret = auth.param("clientSecret", "serviceprincipalkey")
		if conn.ClientSecret == "" {
			return Connection{}, fmt.Errorf("%s: ENDPOINT_AUTH_%s has no parameter clientSecret: expected a service principal secret", where, id)
		}
	default:
		return Connection{}, fmt.Errorf("%s: authentication scheme %q is not supported: expected ServicePrincipal or WorkloadIdentityFederation", where, auth.Scheme)
	}
	if conn.TenantID == "" {
		return Connection{}, fmt.Errorf("%s: ENDPOINT_AUTH_%s has no parameter tenantId", where, id)
	}
	if conn.ClientID == "" {
		return Connection{}, fmt.Errorf("%s: ENDPOINT_AUTH_%s has no parameter applicationId (or serviceprincipalid)", where, id)
	}
	return conn, nil
}

func gitHubConnection(getenv func(string) string) (Connection, bool, error) {
	in := func(name string) string { v, _, _ := LookupInput(getenv, name); return v }
	conn := Connection{
		EnvironmentURL: in("environment"),
		TenantID:       in("tenant-id"),
		ClientID:       in("client-id"),
		ClientSecret:   in("client-secret"),
	}
	if conn.TenantID == "" && conn.ClientID == "" && conn.ClientSecret == "" {
		return Connection{}, false, nil
	}
	if conn.TenantID == "" || conn.ClientID == "" {
		return Connection{}, false, fmt.Errorf("GitHub connection: inputs tenant-id and client-id are both required (tenant-id %q, client-id %q)", conn.TenantID, conn.ClientID)
	}
	if conn.ClientSecret != "" {
		conn.Scheme = SchemeSecret
		return conn, true, nil
	}
	if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
		return Connection{}, false, fmt.Errorf("GitHub connection: no client-secret input and no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set): give the job `permissions: id-token: write` or pass client-secret")
	}
	conn.Scheme = SchemeGitHubOIDC
	return conn, true, nil
}

// ConnectionArgs returns the connection flags (--environment, --tenant-id,
// --client-id, --client-secret, --auth, --service-connection-id) for conn, leaving out flags cmd
// lacks and flags already present in args. The arguments never leave the
// process: task mode hands them to cobra directly.
func ConnectionArgs(conn Connection, has func(flag string) bool, args []string) []string {
	given := map[string]bool{}
	for _, a := range args {
		if name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "="); strings.HasPrefix(a, "--") {
			given[name] = true
		}
	}
	var out []string
	add := func(flag, value string) {
		if value != "" && has(flag) && !given[flag] {
			out = append(out, "--"+flag+"="+value)
		}
	}
	add("environment", conn.EnvironmentURL)
	add("tenant-id", conn.TenantID)
	add("client-id", conn.ClientID)
	add("client-secret", conn.ClientSecret)
	add("auth", conn.Scheme)
	add("service-connection-id", conn.ServiceConnectionID)
	return out
}
