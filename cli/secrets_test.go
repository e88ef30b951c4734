package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/task"
)

// A password written in --repo is a secret from the start of commit and
// export-to-git, also outside task mode: the reporter masks it in whatever
// is printed later (an error quoting the URL, a server's message).
func TestRepoURLPasswordRegisteredBeforeAnythingRuns(t *testing.T) {
	const password = "pw-in-url-9f3a"
	repo := "https://alex:" + password + "@127.0.0.1:1/contoso/alm.git"
	env := map[string]string{"BUILD_REQUESTEDFOR": "Maker", "BUILD_REQUESTEDFOREMAIL": "maker@contoso.com"}
	for name, args := range map[string][]string{
		"commit": {"commit", "--repo", repo, "--branch", "b", "--folder", t.TempDir(), "--path", "x", "--message", "m"},
		"export-to-git": {"export-to-git", "--repo", repo, "--branch", "b", "--message", "m", "--solution", "Contoso",
			"--environment", "http://127.0.0.1:1/dev"},
	} {
		var out, errOut bytes.Buffer
		r := task.NewTerminal(&out, false)
		f := &Factory{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }, Reporter: r}
		if code := run(context.Background(), f, args); code == 0 {
			t.Fatalf("%s to a closed port succeeded", name)
		}
		if got := task.Mask(r, "token "+password); got != "token ***" {
			t.Errorf("%s: the URL's password was not registered as a secret: %q", name, got)
		}
		if bytes.Contains(out.Bytes(), []byte(password)) || bytes.Contains(errOut.Bytes(), []byte(password)) {
			t.Errorf("%s printed the password:\n%s%s", name, out.String(), errOut.String())
		}
	}
}

// A token value that comes from a secret channel (PPALM_SECRETS, or
// SECRET_<NAME> under TF_BUILD) is masked wherever the run prints it: here
// a connection id the target lacks, which settings validate names.
func TestSecretTokenValuesMaskedInOutput(t *testing.T) {
	base := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	dir := t.TempDir()
	settingsFile := filepath.Join(dir, "deploymentSettings.json")
	os.WriteFile(settingsFile, []byte(`{"EnvironmentVariables": [{"SchemaName": "alexmsft_FollowSitesSPOSite", "Value": "https://contoso.sharepoint.com/sites/x"}],
  "ConnectionReferences": [{"LogicalName": "alexmsft_SharePointConnectionFollowSites", "ConnectionId": "#{connectionreference.alexmsft_SharePointConnectionFollowSites}#", "ConnectorId": "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}]}`), 0o644)
	const secret = "conn-s3cret-77"
	name := settings.AzureDevOpsName("connectionreference.alexmsft_SharePointConnectionFollowSites")
	for channel, env := range map[string]map[string]string{
		"PPALM_SECRETS":  {"PPALM_SECRETS": `{"` + name + `": "` + secret + `"}`},
		"SECRET_<NAME>":  {"TF_BUILD": "True", "SECRET_" + name: secret},
		"plain variable": {name: secret},
	} {
		out, errOut, code := runCLI(t, env, "settings", "validate", "--zipfile", base, "--settings", settingsFile, "--fill-tokens",
			"--environment", srv.EnvURL("test"), "--powerapps-url", srv.PowerAppsURL(), "--graph-url", srv.GraphURL())
		all := out + errOut
		if code == 0 {
			t.Fatalf("%s: settings validate with a connection the target lacks passed:\n%s", channel, all)
		}
		leaked := strings.Contains(all, secret)
		if channel == "plain variable" {
			// The control: a plain variable is printed, so the value does
			// reach the output and the masking above is what hides it.
			if !leaked {
				t.Fatalf("the connection id never reaches the output, so this test shows nothing:\n%s", all)
			}
			continue
		}
		if leaked || !strings.Contains(all, "***") {
			t.Errorf("%s: the secret value is printed:\n%s", channel, all)
		}
	}
}
