package task

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func testTree() *cobra.Command {
	root := &cobra.Command{Use: "ppalm"}
	pack := &cobra.Command{Use: "pack", RunE: func(*cobra.Command, []string) error { return nil }}
	pack.Flags().String("folder", "", "")
	pack.Flags().String("package-type", "Both", "")
	pack.Flags().Bool("push", false, "")
	pack.Flags().Int("retries", 0, "")
	pack.Flags().StringSlice("map", nil, "")
	version := &cobra.Command{Use: "version"}
	set := &cobra.Command{Use: "set", RunE: func(*cobra.Command, []string) error { return nil }}
	set.Flags().String("version", "", "")
	version.AddCommand(set)
	root.PersistentFlags().String("tenant-id", "", "")
	root.AddCommand(pack, version)
	return root
}

func TestTaskArgsBothSpellings(t *testing.T) {
	root := testTree()
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"azure-devops", map[string]string{"INPUT_COMMAND": "pack", "INPUT_FOLDER": " src ", "INPUT_PACKAGETYPE": "Managed", "INPUT_PUSH": "True", "INPUT_RETRIES": "3", "INPUT_MAP": "a=b\r\n\nc=d", "INPUT_TENANTID": "t"}},
		{"github", map[string]string{"INPUT_COMMAND": "pack", "INPUT_FOLDER": "src", "INPUT_PACKAGE-TYPE": "Managed", "INPUT_PUSH": "true", "INPUT_RETRIES": "3", "INPUT_MAP": "a=b\nc=d", "INPUT_TENANT-ID": "t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, path, err := TaskCommand(env(tc.env), root)
			if err != nil || !reflect.DeepEqual(path, []string{"pack"}) {
				t.Fatalf("TaskCommand = %v, %v", path, err)
			}
			args, err := TaskArgs(env(tc.env), cmd)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"--tenant-id=t", "--folder=src", "--map=a=b", "--map=c=d", "--package-type=Managed", "--push=true", "--retries=3"}
			if !reflect.DeepEqual(args, want) {
				t.Errorf("args = %q, want %q", args, want)
			}
			// The arguments must parse with the same flags.
			if err := cmd.ParseFlags(args); err != nil {
				t.Errorf("args do not parse: %v", err)
			}
		})
	}
}

func TestTaskArgsBadInputs(t *testing.T) {
	root := testTree()
	cmd, _, _ := root.Find([]string{"pack"})
	_, err := TaskArgs(env(map[string]string{"INPUT_PUSH": "yes", "INPUT_RETRIES": "many", "INPUT_FOLDER": "$(SolutionFolder)"}), cmd)
	if err == nil {
		t.Fatal("bad inputs accepted")
	}
	for _, want := range []string{`input "push" (INPUT_PUSH) is "yes": expected true or false`, `input "retries" (INPUT_RETRIES) is "many": expected a whole number`, `pipeline variable SolutionFolder is not defined`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestTaskCommand(t *testing.T) {
	root := testTree()
	for _, v := range []string{"version set", "version-set", " version   set "} {
		cmd, path, err := TaskCommand(env(map[string]string{"INPUT_COMMAND": v}), root)
		if err != nil || cmd.Name() != "set" || !reflect.DeepEqual(path, []string{"version", "set"}) {
			t.Errorf("TaskCommand(%q) = %v, %v", v, path, err)
		}
	}
	_, _, err := TaskCommand(env(map[string]string{"INPUT_COMMAND": "version"}), root)
	if err == nil || !strings.Contains(err.Error(), "expected one of pack, version set") {
		t.Errorf("non-runnable command: %v", err)
	}
	if _, _, err := TaskCommand(env(nil), root); err == nil || !strings.Contains(err.Error(), "INPUT_COMMAND") {
		t.Errorf("missing command: %v", err)
	}
}

func TestResolveConnectionAzureDevOps(t *testing.T) {
	id := "3f9c1e2a-0000-4000-8000-000000000001"
	base := map[string]string{
		"TF_BUILD":                   "True",
		"INPUT_POWERPLATFORMSPN":     id,
		"ENDPOINT_URL_" + id:         "https://contoso.crm.dynamics.com/",
		"ENDPOINT_AUTH_" + id:        `{"parameters":{"tenantId":"tid","applicationId":"app","clientSecret":"p@ss;]"},"scheme":"None"}`,
		"SYSTEM_ACCESSTOKEN":         "jobtoken",
		"ENDPOINT_AUTH_SCHEME_" + id: "None",
	}
	var out bytes.Buffer
	r := NewAzureDevOps(&out, "")
	conn, ok, err := ResolveConnection(env(base), r)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	want := Connection{EnvironmentURL: "https://contoso.crm.dynamics.com/", TenantID: "tid", ClientID: "app", ClientSecret: "p@ss;]", Scheme: SchemeSecret, ServiceConnectionID: id}
	if conn != want {
		t.Errorf("conn = %+v, want %+v", conn, want)
	}
	if out.String() != "##vso[task.setsecret]p@ss%3B%5D\n" {
		t.Errorf("secret not registered: %q", out.String())
	}
	r.Info("secret p@ss;] here")
	if strings.Contains(out.String(), "p@ss;] here") {
		t.Error("secret printed after registration")
	}

	wif := map[string]string{}
	for k, v := range base {
		wif[k] = v
	}
	wif["ENDPOINT_AUTH_"+id] = `{"parameters":{"tenantid":"tid","serviceprincipalid":"spn"},"scheme":"WorkloadIdentityFederation"}`
	conn, _, err = ResolveConnection(env(wif), NewAzureDevOps(&bytes.Buffer{}, ""))
	if err != nil || conn.Scheme != SchemeAzurePipelines || conn.ClientID != "spn" || conn.SystemAccessToken != "jobtoken" || conn.ClientSecret != "" {
		t.Errorf("WIF conn = %+v, %v", conn, err)
	}

	bad := map[string]string{"INPUT_POWERPLATFORMSPN": id, "ENDPOINT_URL_" + id: "https://x", "ENDPOINT_AUTH_" + id: `{"scheme":"ManagedServiceIdentity","parameters":{}}`}
	if _, _, err := ResolveConnection(env(bad), NewAzureDevOps(&bytes.Buffer{}, "")); err == nil || !strings.Contains(err.Error(), `"ManagedServiceIdentity" is not supported`) {
		t.Errorf("MSI: %v", err)
	}
	bad["ENDPOINT_AUTH_"+id] = `{"scheme":`
	if _, _, err := ResolveConnection(env(bad), NewAzureDevOps(&bytes.Buffer{}, "")); err == nil || !strings.Contains(err.Error(), "ENDPOINT_AUTH_"+id+" is not JSON") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestResolveConnectionGitHub(t *testing.T) {
	e := map[string]string{"GITHUB_ACTIONS": "true", "INPUT_ENVIRONMENT": "https://x.crm.dynamics.com", "INPUT_TENANT-ID": "t", "INPUT_CLIENT-ID": "c"}
	if _, _, err := ResolveConnection(env(e), NewGitHub(&bytes.Buffer{}, env(e))); err == nil || !strings.Contains(err.Error(), "id-token: write") {
		t.Errorf("no secret and no OIDC: %v", err)
	}
	e["ACTIONS_ID_TOKEN_REQUEST_URL"], e["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "https://token", "tok"
	conn, ok, err := ResolveConnection(env(e), NewGitHub(&bytes.Buffer{}, env(e)))
	if err != nil || !ok || conn.Scheme != SchemeGitHubOIDC {
		t.Errorf("OIDC: %+v %v %v", conn, ok, err)
	}
	e["INPUT_CLIENT-SECRET"] = "sec"
	var out bytes.Buffer
	conn, _, _ = ResolveConnection(env(e), NewGitHub(&out, env(e)))
	if conn.Scheme != SchemeSecret || out.String() != "::add-mask::sec\n" {
		t.Errorf("secret: %+v, printed %q", conn, out.String())
	}
	args := ConnectionArgs(conn, func(f string) bool { return f != "auth" }, []string{"--environment=https://other"})
	if want := []string{"--tenant-id=t", "--client-id=c", "--client-secret=sec"}; !reflect.DeepEqual(args, want) {
		t.Errorf("ConnectionArgs = %q, want %q", args, want)
	}
}

func TestInputEnvNames(t *testing.T) {
	got := InputEnvNames("client-secret")
	want := []string{"INPUT_CLIENT-SECRET", "INPUT_CLIENT_SECRET", "INPUT_CLIENTSECRET"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InputEnvNames = %q, want %q", got, want)
	}
}
