package steps

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
)

// pl400demos-medium carries a cloud flow, a custom connector, a Service Bus
// endpoint and two plug-in steps in its customizations.xml.
const (
	pl400Flow      = "cc724662-8525-ee11-9cbd-00224823910f" // "New Pet"
	pl400Connector = "bedc080f-9be1-4f80-9f35-c630109a6b89" // dem_inventorymanager
	pl400Endpoint  = "trickqueue pl400demosajs202307"
	pl400Step      = "8f5eab6a-2b26-ee11-9966-00224823910f" // the endpoint's step
	pl400Plugin    = "64ea8779-2726-ee11-9966-00224823910f" // DemoPlugin.ValidatePetTrick
	missingID      = "0badf00d-0000-4000-8000-000000000000"
)

// newPL400Env installs PL400Demos in "test" as the emulator seeds a
// solution: every row comes from the real zip.
func newPL400Env(t *testing.T) *deployEnv {
	t.Helper()
	return newDeployEnv(t, emulator.Options{Environments: []string{"test"},
		Seeds: map[string][]string{"test": {fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")}}})
}

func pl400Context(e *deployEnv, t *testing.T, cds *settings.CustomDeploymentSettings) *Context {
	cds.File = "customDeploymentSettings.json"
	return &Context{Reporter: &quietReporter{}, Getenv: func(string) string { return "" },
		Dataverse: e.Client(t, "test"), SolutionName: "PL400Demos", Custom: cds}
}

var salesTeam = settings.GroupTeam{AadGroupTeamName: "Contoso Sales", AadSecurityGroupID: emulator.Groups[0].ID,
	DataverseSecurityRoleNames: []string{"Basic User"}, SkipRolesDeletion: "true"}

func TestShareFlowsAndConnectorsWithTeams(t *testing.T) {
	ctx := context.Background()
	e := newPL400Env(t)
	c := pl400Context(e, t, &settings.CustomDeploymentSettings{
		AadGroupTeamConfiguration: []settings.GroupTeam{salesTeam},
		FlowShareWithGroupTeamConfiguration: []settings.FlowShare{
			{SolutionComponentName: "New Pet", SolutionComponentUniqueName: pl400Flow, AadGroupTeamName: "Contoso Sales"},
			// An entry without a team is what settings create writes for
			// a flow nobody shares: nothing to do.
			{SolutionComponentName: "Trick Level", SolutionComponentUniqueName: "cd18cef3-a124-ee11-9cbd-00224823910f"},
		},
		ConnectorShareWithGroupTeamConfiguration: []settings.ConnectorShare{
			{SolutionComponentName: "InventoryManager", SolutionComponentUniqueName: pl400Connector, AadGroupTeamName: "Contoso Sales"},
		},
	})
	if got := UnhandledSections(c.Custom); len(got) != 0 {
		t.Fatalf("UnhandledSections = %q, want none", got)
	}
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, ConfigurePipeline()); err != nil {
		t.Fatal(err)
	}
	team, err := c.Dataverse.TeamByName(ctx, "Contoso Sales")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{pl400Flow, pl400Connector} {
		got := e.Emulator.SharedAccess("test", id)
		if len(got) != 1 || got[0].PrincipalID != team.ID || got[0].PrincipalType != "team" || got[0].AccessMask != "ReadAccess" {
			t.Errorf("access on %s = %+v, want ReadAccess for team %s", id, got, team.ID)
		}
	}
	if got := e.Emulator.SharedAccess("test", "cd18cef3-a124-ee11-9cbd-00224823910f"); len(got) != 0 {
		t.Errorf("the entry without a team shared the flow: %+v", got)
	}
	// Again: GrantAccess of what the team has changes nothing.
	c.Outcomes = nil
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{ShareFlows{}, ShareConnectors{}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Emulator.SharedAccess("test", pl400Flow); len(got) != 1 || got[0].AccessMask != "ReadAccess" {
		t.Errorf("after a second run: %+v", got)
	}
	if !strings.Contains(strings.Join(c.Outcomes[0].Notes, "\n"), `flow "New Pet" shared with team "Contoso Sales" (read)`) {
		t.Errorf("share-flows notes: %q", c.Outcomes[0].Notes)
	}
}

func TestShareFailuresChangeNothing(t *testing.T) {
	ctx := context.Background()
	e := newPL400Env(t)
	cases := []struct {
		name string
		step Step
		cds  *settings.CustomDeploymentSettings
		want []string
	}{
		{"unknown team", ShareFlows{}, &settings.CustomDeploymentSettings{FlowShareWithGroupTeamConfiguration: []settings.FlowShare{
			{SolutionComponentName: "New Pet", SolutionComponentUniqueName: pl400Flow, AadGroupTeamName: "Nobody"}}},
			[]string{`FlowShareWithGroupTeamConfiguration[0] (flow "New Pet") in customDeploymentSettings.json`, `team "Nobody" does not exist`, "fix aadGroupTeamName"}},
		{"unknown flow", ShareFlows{}, &settings.CustomDeploymentSettings{
			AadGroupTeamConfiguration: []settings.GroupTeam{salesTeam},
			FlowShareWithGroupTeamConfiguration: []settings.FlowShare{
				{SolutionComponentName: "New Pet", SolutionComponentUniqueName: pl400Flow, AadGroupTeamName: "Contoso Sales"},
				{SolutionComponentName: "Gone", SolutionComponentUniqueName: missingID, AadGroupTeamName: "Contoso Sales"}}},
			[]string{`FlowShareWithGroupTeamConfiguration[1] (flow "Gone")`, `flow "Gone" (` + missingID + `) is not in`, "fix solutionComponentUniqueName"}},
		{"unknown connector", ShareConnectors{}, &settings.CustomDeploymentSettings{
			AadGroupTeamConfiguration: []settings.GroupTeam{salesTeam},
			ConnectorShareWithGroupTeamConfiguration: []settings.ConnectorShare{
				{SolutionComponentName: "Gone", SolutionComponentUniqueName: missingID, AadGroupTeamName: "Contoso Sales"}}},
			[]string{`ConnectorShareWithGroupTeamConfiguration[0] (custom connector "Gone")`, `custom connector "Gone" (` + missingID + `) is not in`}},
		{"flow id not a GUID", ShareFlows{}, &settings.CustomDeploymentSettings{FlowShareWithGroupTeamConfiguration: []settings.FlowShare{
			{SolutionComponentName: "New Pet", SolutionComponentUniqueName: "New Pet", AadGroupTeamName: "Contoso Sales"}}},
			[]string{`solutionComponentUniqueName "New Pet": expected the flow's id`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pl400Context(e, t, tc.cds)
			pipeline := []Step{tc.step}
			if len(tc.cds.AadGroupTeamConfiguration) > 0 {
				pipeline = []Step{Teams{}, tc.step}
			}
			err := (Runner{Reporter: c.Reporter}).Run(ctx, c, pipeline)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			// Lookups come first: the valid entry next to a bad one is not shared either.
			for _, id := range []string{pl400Flow, pl400Connector} {
				if got := e.Emulator.SharedAccess("test", id); len(got) != 0 {
					t.Errorf("%s shared despite the failure: %+v", id, got)
				}
			}
		})
	}
}

func TestWebhookURLs(t *testing.T) {
	ctx := context.Background()
	e := newPL400Env(t)
	dv := e.Client(t, "test")
	before, err := dv.ServiceEndpointByName(ctx, pl400Endpoint)
	if err != nil {
		t.Fatalf("the endpoint of the zip's ServiceEndpoints section: %v", err)
	}
	const hook = "https://hooks.test.contoso.example/api/orders?code=s3cr3t-key"
	c := pl400Context(e, t, &settings.CustomDeploymentSettings{WebhookUrls: []settings.WebhookURL{
		{SchemaName: pl400Endpoint, Value: hook}, {SchemaName: "unused", Value: ""}}})
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, ConfigurePipeline()); err != nil {
		t.Fatal(err)
	}
	after, err := dv.ServiceEndpointByName(ctx, pl400Endpoint)
	if err != nil || after.ID != before.ID || after.URL != hook {
		t.Fatalf("endpoint after webhook-urls: %+v, %v (before %+v)", after, err, before)
	}
	report := Report(c.Outcomes)
	if strings.Contains(report, "s3cr3t") || !strings.Contains(report, "https://hooks.test.contoso.example/…") {
		t.Errorf("report must name the host and never the key:\n%s", report)
	}

	for _, tc := range []struct {
		name string
		hook settings.WebhookURL
		want string
	}{
		{"unknown endpoint", settings.WebhookURL{SchemaName: "OrderHook", Value: "https://x.example/"},
			`WebhookUrls[0] (service endpoint "OrderHook") in customDeploymentSettings.json: service endpoint "OrderHook" does not exist in`},
		{"not a URL", settings.WebhookURL{SchemaName: pl400Endpoint, Value: "hooks.example/x"}, "Value is not an absolute http(s) URL"},
	} {
		c := pl400Context(e, t, &settings.CustomDeploymentSettings{WebhookUrls: []settings.WebhookURL{tc.hook}})
		err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{WebhookURLs{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if ep, _ := dv.ServiceEndpointByName(ctx, pl400Endpoint); ep.URL != hook {
		t.Errorf("a failed run changed the endpoint: %q", ep.URL)
	}
}

// secretSpy records what the host is asked to mask.
type secretSpy struct {
	quietReporter
	secrets []string
}

func (s *secretSpy) SetSecret(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, v)
}

func TestPluginStepConfig(t *testing.T) {
	ctx := context.Background()
	e := newPL400Env(t)
	dv := e.Client(t, "test")
	const secure = "ApiKey=very-secret-value"
	cds := &settings.CustomDeploymentSettings{SDKMessages: []settings.SDKMessageStepConfig{
		{Config: "unsec." + pl400Plugin, Value: `{"maxTricks":5}`},
		{Config: "sec." + pl400Plugin, Value: secure},
		{Config: "unsec." + pl400Step, Value: ""}, // nothing to do
	}}
	c := pl400Context(e, t, cds)
	spy := &secretSpy{}
	c.Reporter = spy
	if err := (Runner{Reporter: spy}).Run(ctx, c, ConfigurePipeline()); err != nil {
		t.Fatal(err)
	}
	step, err := dv.GetPluginStep(ctx, pl400Plugin)
	if err != nil || step.Configuration != `{"maxTricks":5}` || step.SecureConfigID == "" {
		t.Fatalf("step after plugin-step-config: %+v, %v", step, err)
	}
	if got := secureConfig(t, e, step.SecureConfigID); got != secure {
		t.Errorf("secureconfig = %q, want the configured value", got)
	}
	if other, _ := dv.GetPluginStep(ctx, pl400Step); other.Configuration != "" || other.SecureConfigID != "" {
		t.Errorf("the untouched step changed: %+v", other)
	}
	if len(spy.secrets) != 1 || spy.secrets[0] != secure {
		t.Errorf("masked %q, want the secure value", spy.secrets)
	}
	for _, l := range append(spy.lines, Report(c.Outcomes)) {
		if strings.Contains(l, "very-secret") {
			t.Errorf("secure value printed: %s", l)
		}
	}
	for _, a := range e.Emulator.Audit() {
		if strings.Contains(a.Detail, "very-secret") {
			t.Errorf("secure value in the audit: %+v", a)
		}
	}

	// A second run updates the linked row instead of creating another.
	cds.SDKMessages[1].Value = "ApiKey=rotated"
	c = pl400Context(e, t, cds)
	if err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{PluginStepConfig{}}); err != nil {
		t.Fatal(err)
	}
	again, _ := dv.GetPluginStep(ctx, pl400Plugin)
	if again.SecureConfigID != step.SecureConfigID || secureConfig(t, e, step.SecureConfigID) != "ApiKey=rotated" {
		t.Errorf("second run: step %+v, secureconfig %q", again, secureConfig(t, e, again.SecureConfigID))
	}

	for _, tc := range []struct {
		config, want string
	}{
		{"unsec." + missingID, `SDKMessages[0] (Config "unsec.` + missingID + `") in customDeploymentSettings.json: plug-in step ` + missingID + ` does not exist in`},
		{"secure." + pl400Plugin, "expected unsec.<plug-in step id> or sec.<plug-in step id>"},
		{"sec.not-a-guid", `"not-a-guid" is not a plug-in step id`},
	} {
		c := pl400Context(e, t, &settings.CustomDeploymentSettings{SDKMessages: []settings.SDKMessageStepConfig{{Config: tc.config, Value: "x"}}})
		err := (Runner{Reporter: c.Reporter}).Run(ctx, c, []Step{PluginStepConfig{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.config, err, tc.want)
		}
	}
}

// secureConfig reads a secure configuration row over the Web API.
func secureConfig(t *testing.T, e *deployEnv, id string) string {
	t.Helper()
	resp, err := http.Get(e.URL + "/test/api/data/v9.2/sdkmessageprocessingstepsecureconfigs(" + id + ")?$select=secureconfig")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var row struct {
		SecureConfig string `json:"secureconfig"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&row); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("secure configuration %s: HTTP %d: %v", id, resp.StatusCode, err)
	}
	return row.SecureConfig
}
