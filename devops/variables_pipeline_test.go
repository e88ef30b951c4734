package devops_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/settings"
)

// The tokens a deployment settings file of the seeded solution carries,
// with the values a maker saves for prod.
var prodValues = []devops.PipelineVariable{
	{Name: "environmentvariable.cat_ApiUrl", Value: "https://contoso.com/api"},
	{Name: "connectionreference.cat_sharedsharepointonline_1a2b", Value: "shared-sharepointonl-9f8e"},
	{Name: "activateflow.order.Sync (daily).8f3c0d2e", Value: "2"},
	{Name: "environmentvariable.cat_ClientSecret", Value: `p@ss"w\ord`, Secret: true},
}

const settingsFile = `{"EnvironmentVariables":[{"SchemaName":"cat_ApiUrl","Value":"#{environmentvariable.cat_ApiUrl}#"},` +
	`{"SchemaName":"cat_ClientSecret","Value":"#{environmentvariable.cat_ClientSecret}#"}],` +
	`"ConnectionReferences":[{"LogicalName":"cat_sharedsharepointonline_1a2b","ConnectionId":"#{connectionreference.cat_sharedsharepointonline_1a2b}#"}],` +
	`"Order":"#{activateflow.order.Sync (daily).8f3c0d2e}#"}`

const wantFilled = `{"EnvironmentVariables":[{"SchemaName":"cat_ApiUrl","Value":"https://contoso.com/api"},` +
	`{"SchemaName":"cat_ClientSecret","Value":"p@ss\"w\\ord"}],` +
	`"ConnectionReferences":[{"LogicalName":"cat_sharedsharepointonline_1a2b","ConnectionId":"shared-sharepointonl-9f8e"}],` +
	`"Order":"2"}`

func fill(t *testing.T, env map[string]string) (string, []string) {
	t.Helper()
	vars := settings.NewVariables(func(k string) string { return env[k] }, nil)
	out, err := settings.FillTokens("deploymentSettings.json", []byte(settingsFile), func(name string) (string, bool) { return settings.Lookup(vars.Lookup, name) })
	if err != nil {
		t.Fatal(err)
	}
	return string(out), vars.Secrets()
}

// What the GitHub workflow's deployment job on an environment sees: the
// reusable workflow passes ${{ toJSON(vars) }} and ${{ toJSON(secrets) }}.
func TestGitHubValuesReachTheDeployment(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s, devops.WithRetries(0))
	if err := c.SetEnvironmentVariables(context.Background(), "prod", prodValues); err != nil {
		t.Fatal(err)
	}
	stored, err := c.EnvironmentVariables(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	vars, secrets := map[string]string{}, map[string]string{}
	for _, v := range stored {
		if v.Secret {
			secrets[v.Name], _ = s.EnvironmentSecret("prod", v.Name)
		} else {
			vars[v.Name] = v.Value
		}
	}
	vj, _ := json.Marshal(vars)
	sj, _ := json.Marshal(secrets)
	got, masked := fill(t, map[string]string{"GITHUB_ACTIONS": "true", "PPALM_VARIABLES": string(vj), "PPALM_SECRETS": string(sj)})
	if got != wantFilled {
		t.Errorf("filled settings:\n%s\nwant\n%s", got, wantFilled)
	}
	if strings.Join(masked, ",") != `p@ss"w\ord` {
		t.Errorf("masked %v; the secret must be masked", masked)
	}
}

// What the ppalm task in the Azure DevOps deployment stage that links the
// group sees: plain variables in the environment upper-cased with "." as
// "_", secrets only as SECRET_<NAME>.
func TestAzureDevOpsValuesReachTheDeployment(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	c := newAzureClient(t, s, devops.WithRetries(0))
	if err := c.SetEnvironmentVariables(context.Background(), "prod", prodValues); err != nil {
		t.Fatal(err)
	}
	g, ok := s.VariableGroup(devops.VariableGroupName("prod"))
	if !ok {
		t.Fatal("no group")
	}
	env := map[string]string{"TF_BUILD": "True"}
	for name, v := range g.Variables {
		agentName := strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
		if v.IsSecret {
			env["SECRET_"+agentName] = v.Value
		} else {
			env[agentName] = v.Value
		}
	}
	got, masked := fill(t, env)
	if got != wantFilled {
		t.Errorf("filled settings:\n%s\nwant\n%s", got, wantFilled)
	}
	if strings.Join(masked, ",") != `p@ss"w\ord` {
		t.Errorf("masked %v; the secret must be masked", masked)
	}
}
