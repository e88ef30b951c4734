package settings

import (
	"strings"
	"testing"
)

// The Accelerator's token step made an undefined or empty variable "" and
// its configure scripts skipped the entry; a file its maker app wrote with
// empty values (and later without flow-order variables) must deploy.
func TestLenientTokensSkipNotConfiguredEntries(t *testing.T) {
	raw := []byte(`{
  "ActivateFlowConfiguration": [
    {"solutionComponentName": "A", "solutionComponentUniqueName": "#{flow.id.a}#", "sortOrder": "#{activateflow.order.A}#", "activate": "true", "activateAsUser": "#{activateflow.activateas.A}#"}
  ],
  "SolutionComponentOwnershipConfiguration": [
    {"solutionComponentType": 29, "solutionComponentName": "A", "solutionComponentUniqueName": "1", "ownerEmail": "#{owner.ownerEmail.A}#"},
    {"solutionComponentType": 29, "solutionComponentName": "B", "solutionComponentUniqueName": "2", "ownerEmail": "#{owner.ownerEmail.B}#"}
  ],
  "AadGroupCanvasConfiguration": [
    {"aadGroupId": "#{canvasshare.aadGroupId.app}#", "canvasNameInSolution": "app", "roleName": "CanView"}
  ],
  "AadGroupTeamConfiguration": [
    {"aadGroupTeamName": "", "aadSecurityGroupId": "x", "dataverseSecurityRoleNames": ["Basic User"]}
  ],
  "FlowShareWithGroupTeamConfiguration": [
    {"solutionComponentName": "A", "solutionComponentUniqueName": "1", "aadGroupTeamName": "#{flow.sharing.A}#"}
  ]
}`)
	vars := map[string]string{"flow.id.a": "1", "owner.ownerEmail.B": "bea@contoso.example", "owner.ownerEmail.A": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok && v != "" }

	if _, err := FillTokens("c.json", raw, lookup); err == nil {
		t.Fatal("strict filling accepted undefined tokens")
	}
	filled, unset := FillTokensLenient(raw, lookup)
	if len(unset) != 5 {
		t.Errorf("unset = %v, want the 5 tokens without a value", unset)
	}
	cds, _, err := ParseCustomDeploymentSettings("c.json", filled)
	if err != nil {
		t.Fatalf("the leniently filled file does not parse: %v", err)
	}
	lines := SkipNotConfigured(cds)
	if len(lines) != 4 {
		t.Fatalf("report lines = %d, want one per skipped entry (owner A, canvas share, team, flow share):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.Contains(l, "Configuration[") || !strings.Contains(l, "not configured") {
			t.Errorf("report line %q does not name the entry and say not configured", l)
		}
	}
	// An empty sortOrder or activateAsUser does not skip the flow: it is
	// activated after the ordered ones.
	if len(cds.ActivateFlowConfiguration) != 1 || cds.ActivateFlowConfiguration[0].SortOrder != "" {
		t.Errorf("flow activation = %+v; want the flow kept with an empty sortOrder", cds.ActivateFlowConfiguration)
	}
	if len(cds.SolutionComponentOwnershipConfiguration) != 1 || cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail != "bea@contoso.example" {
		t.Errorf("owners = %+v; want only B's", cds.SolutionComponentOwnershipConfiguration)
	}
	if len(cds.AadGroupCanvasConfiguration)+len(cds.AadGroupTeamConfiguration)+len(cds.FlowShareWithGroupTeamConfiguration) != 0 {
		t.Errorf("not-configured entries kept: %+v", cds)
	}
}

// Secret variables reach a task only as SECRET_<NAME> under TF_BUILD, and
// PPALM_SECRETS carries GitHub's; both are handed to onSecret (the
// reporter's mask) before they are returned.
func TestVariablesReadAgentSecretsAndRegisterThem(t *testing.T) {
	env := map[string]string{
		"TF_BUILD":                          "True",
		"SECRET_CONNECTIONREFERENCE_CR_SQL": "conn-secret-1",
		"PPALM_SECRETS":                     `{"ENVIRONMENTVARIABLE_APIKEY": "k3y"}`,
		"PLAIN":                             "p",
	}
	var masked []string
	v := NewVariables(func(k string) string { return env[k] }, func(s string) { masked = append(masked, s) })
	if len(masked) != 1 || masked[0] != "k3y" {
		t.Errorf("PPALM_SECRETS not registered up front: %v", masked)
	}
	if got, ok := Lookup(v.Lookup, "connectionreference.cr_sql"); !ok || got != "conn-secret-1" {
		t.Errorf("SECRET_ variable = %q, %v", got, ok)
	}
	if got, ok := Lookup(v.Lookup, "environmentvariable.apikey"); !ok || got != "k3y" {
		t.Errorf("PPALM_SECRETS value = %q, %v", got, ok)
	}
	if got, _ := Lookup(v.Lookup, "plain"); got != "p" {
		t.Errorf("plain = %q", got)
	}
	if strings.Join(v.Secrets(), ",") != "conn-secret-1,k3y" || len(masked) != 2 {
		t.Errorf("secrets = %v, registered %v", v.Secrets(), masked)
	}
	// Outside Azure DevOps a SECRET_ variable is just a variable's name.
	delete(env, "TF_BUILD")
	v = NewVariables(func(k string) string { return env[k] }, nil)
	if _, ok := Lookup(v.Lookup, "connectionreference.cr_sql"); ok {
		t.Error("SECRET_<NAME> read outside TF_BUILD")
	}
}
