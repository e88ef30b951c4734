package settings

import (
	"strings"
	"sync"
	"testing"

	"github.com/ppalm/ppalm/solution"
)

// validFabrikam returns settings for Fabrikam that pass every offline check.
func validFabrikam(t testing.TB) (*solution.Solution, *DeploymentSettings, *CustomDeploymentSettings) {
	t.Helper()
	fabrikamOnce.Do(func() {
		fabrikam = readFixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	})
	sol := *fabrikam // tests change only the variables, which are copied
	sol.EnvironmentVariables = append([]solution.EnvironmentVariable(nil), fabrikam.EnvironmentVariables...)
	ds := NewDeploymentSettings(&sol)
	ds.File = "ds.json"
	for i := range ds.ConnectionReferences {
		ds.ConnectionReferences[i].ConnectionID = "4f2b8c61d0e94a7f9b3e5c2d1a6f0e8" + string(rune('0'+i))
		ds.ConnectionReferences[i].ConnectionOwner = "maker@contoso.com"
	}
	cds := NewCustomDeploymentSettings(&sol, CustomOptions{})
	cds.File = "cds.json"
	for i := range cds.ActivateFlowConfiguration {
		cds.ActivateFlowConfiguration[i].SortOrder = "1"
		cds.ActivateFlowConfiguration[i].Activate = "true"
	}
	for i := range cds.SolutionComponentOwnershipConfiguration {
		cds.SolutionComponentOwnershipConfiguration[i].OwnerEmail = "owner@contoso.com"
	}
	cds.AadGroupCanvasConfiguration[0].AadGroupID = "7d2e4f10-3b8c-4a51-9e2d-6c1f0a9b8e37"
	cds.AadGroupCanvasConfiguration[0].RoleName = RoleCanViewWithShare
	for i := range cds.FlowShareWithGroupTeamConfiguration {
		cds.FlowShareWithGroupTeamConfiguration[i].AadGroupTeamName = "Order Clerks"
	}
	cds.AadGroupTeamConfiguration = []GroupTeam{{AadGroupTeamName: "Order Clerks", AadSecurityGroupID: "{7D2E4F10-3B8C-4A51-9E2D-6C1F0A9B8E37}",
		DataverseSecurityRoleNames: []string{"Basic User"}, SkipRolesDeletion: "true"}}
	cds.ConnectorShareWithGroupTeamConfiguration = []ConnectorShare{{SolutionComponentName: "OrdersApi", SolutionComponentUniqueName: "b4e6c2d8-0f3a-4e7b-8c19-5d2a7f6e1b04", AadGroupTeamName: "Order Clerks"}}
	cds.WebhookUrls = []WebhookURL{{SchemaName: "OrderHook", Value: "https://hooks.contoso.com/orders"}}
	cds.SDKMessages = []SDKMessageStepConfig{{Config: "unsec.2e9fc4e4-ddf0-ed11-8848-6045bd08d866", Value: "x"}}
	cds.DefaultEnvironmentVariables = [][2]string{{"contoso_outcomeformlink", "https://x"}}
	return &sol, ds, cds
}

var (
	fabrikamOnce sync.Once
	fabrikam     *solution.Solution
)

func TestValidateAcceptsCompleteSettings(t *testing.T) {
	sol, ds, cds := validFabrikam(t)
	if p := Validate(sol, ds, cds); len(p) > 0 {
		t.Fatalf("problems in valid settings:\n%v", p)
	}
	// Tokens are values to come: accepted, not type-checked.
	ds.ConnectionReferences[0].ConnectionID = "#{connectionreference.x}#"
	cds.ActivateFlowConfiguration[0].SortOrder = "#{activateflow.order.x}#"
	cds.AadGroupCanvasConfiguration[0].AadGroupID = "#{canvasshare.aadGroupId.x}#"
	if p := Validate(sol, ds, cds); len(p) > 0 {
		t.Fatalf("tokens reported: %v", p)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name      string
		change    func(sol *solution.Solution, ds *DeploymentSettings, cds *CustomDeploymentSettings)
		check     string
		file      string
		entry     string
		component string
		severity  Severity
	}{
		{"connection id empty", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences[1].ConnectionID = " "
		}, CheckMissingValue, "ds.json", "ConnectionReferences[1].ConnectionId", "contoso_sharedcommondataserviceforapps_05f4c", SeverityError},
		{"connection reference without entry", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences = ds.ConnectionReferences[1:]
		}, CheckMissingEntry, "ds.json", "ConnectionReferences", "contoso_sharedapprovals_ea5ad", SeverityError},
		{"connection reference not in solution", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences = append(ds.ConnectionReferences, ConnectionReferenceSetting{LogicalName: "contoso_gone", ConnectionID: "x"})
		}, CheckUnknownComponent, "ds.json", "ConnectionReferences[2].LogicalName", "contoso_gone", SeverityError},
		{"connection reference twice", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences = append(ds.ConnectionReferences, ds.ConnectionReferences[0])
		}, CheckDuplicate, "ds.json", "ConnectionReferences[2]", "contoso_sharedapprovals_ea5ad", SeverityError},
		{"connection id is a path", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences[0].ConnectionID = "/providers/Microsoft.PowerApps/apis/shared_approvals/connections/abc"
		}, CheckFormat, "ds.json", "ConnectionReferences[0].ConnectionId", "contoso_sharedapprovals_ea5ad", SeverityError},
		{"wrong connector", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences[0].ConnectorID = "/providers/Microsoft.PowerApps/apis/shared_office365"
		}, CheckConnectorID, "ds.json", "ConnectionReferences[0].ConnectorId", "contoso_sharedapprovals_ea5ad", SeverityError},
		{"connection owner not a person", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.ConnectionReferences[0].ConnectionOwner = "maker"
		}, CheckOwner, "ds.json", "ConnectionReferences[0].ConnectionOwner", "contoso_sharedapprovals_ea5ad", SeverityError},
		{"variable without value or default", func(sol *solution.Solution, _ *DeploymentSettings, _ *CustomDeploymentSettings) {
			sol.EnvironmentVariables[0].DefaultValue = ""
		}, CheckMissingValue, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"variable without entry or default", func(sol *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			sol.EnvironmentVariables[0].DefaultValue = ""
			ds.EnvironmentVariables = nil
		}, CheckMissingEntry, "ds.json", "EnvironmentVariables", "contoso_outcomeformlink", SeverityError},
		{"variable not in solution", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.EnvironmentVariables = append(ds.EnvironmentVariables, EnvironmentVariableSetting{SchemaName: "contoso_gone", Value: "1"})
		}, CheckUnknownComponent, "ds.json", "EnvironmentVariables[1].SchemaName", "contoso_gone", SeverityError},
		{"variable twice", func(_ *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
			ds.EnvironmentVariables = append(ds.EnvironmentVariables, ds.EnvironmentVariables[0])
		}, CheckDuplicate, "ds.json", "EnvironmentVariables[1]", "contoso_outcomeformlink", SeverityError},
		{"number does not parse", setType(solution.TypeNumber, "12,5"), CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"boolean is not true/false", setType(solution.TypeBoolean, "yes"), CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"JSON does not parse", setType(solution.TypeJSON, `{\"a\":1}`), CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"data source blank", setType(solution.TypeDataSource, "   "), CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"secret not a Key Vault reference", setType(solution.TypeSecret, "hunter2"), CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		// Azure's naming rules: a vault name has 3-24 characters; the
		// subscription is its id.
		{"secret in a vault Azure cannot name", setType(solution.TypeSecret, "/subscriptions/0f8a2d4c-5b6e-4a7f-9c1d-2e3f4a5b6c7d/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/secrets/s"),
			CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"secret under a subscription name", setType(solution.TypeSecret, "/subscriptions/Contoso/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-contoso/secrets/s"),
			CheckValueType, "ds.json", "EnvironmentVariables[0].Value", "contoso_outcomeformlink", SeverityError},
		{"activation names a missing flow", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[2].SolutionComponentUniqueName = "00000000-0000-0000-0000-000000000001"
		}, CheckUnknownComponent, "cds.json", "ActivateFlowConfiguration[2].solutionComponentUniqueName", "", SeverityError},
		{"activation names a missing flow by name", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[2].SolutionComponentUniqueName = ""
			cds.ActivateFlowConfiguration[2].SolutionComponentName = "Nope"
		}, CheckUnknownComponent, "cds.json", "ActivateFlowConfiguration[2].solutionComponentName", "Nope", SeverityError},
		{"activation id not a GUID", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[0].SolutionComponentUniqueName = "Request Approval"
		}, CheckGUID, "cds.json", "ActivateFlowConfiguration[0].solutionComponentUniqueName", "", SeverityError},
		{"activation twice", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[1].SolutionComponentUniqueName = cds.ActivateFlowConfiguration[0].SolutionComponentUniqueName + "_1"
			cds.ActivateFlowConfiguration[1].SolutionComponentName = cds.ActivateFlowConfiguration[0].SolutionComponentName
		}, CheckDuplicate, "cds.json", "ActivateFlowConfiguration[1]", "", SeverityError},
		{"flow renamed", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[0].SolutionComponentName = "Old name"
		}, CheckName, "cds.json", "ActivateFlowConfiguration[0].solutionComponentName", "", SeverityWarning},
		{"sortOrder not a number", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[2].SortOrder = "first"
		}, CheckSortOrder, "cds.json", "ActivateFlowConfiguration[2].sortOrder", "", SeverityError},
		{"activate not a boolean", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ActivateFlowConfiguration[3].Activate = "on"
		}, CheckActivate, "cds.json", "ActivateFlowConfiguration[3].activate", "", SeverityError},
		{"owner of unknown type", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SolutionComponentOwnershipConfiguration[0].SolutionComponentType = 1
		}, CheckComponentType, "cds.json", "SolutionComponentOwnershipConfiguration[0].solutionComponentType", "", SeverityError},
		{"owner flow missing", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SolutionComponentOwnershipConfiguration[0].SolutionComponentUniqueName = "00000000-0000-0000-0000-000000000001"
		}, CheckUnknownComponent, "cds.json", "SolutionComponentOwnershipConfiguration[0].solutionComponentUniqueName", "", SeverityError},
		{"owner app missing", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SolutionComponentOwnershipConfiguration[7].SolutionComponentName = "Environmental Work Delivery"
		}, CheckUnknownComponent, "cds.json", "SolutionComponentOwnershipConfiguration[7].solutionComponentName", "Environmental Work Delivery", SeverityError},
		{"owner empty", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SolutionComponentOwnershipConfiguration[1].OwnerEmail = ""
		}, CheckMissingValue, "cds.json", "SolutionComponentOwnershipConfiguration[1].ownerEmail", "", SeverityError},
		{"owner not an e-mail", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SolutionComponentOwnershipConfiguration[1].OwnerEmail = "Jane Doe"
		}, CheckOwner, "cds.json", "SolutionComponentOwnershipConfiguration[1].ownerEmail", "", SeverityError},
		{"canvas app missing", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupCanvasConfiguration[0].CanvasNameInSolution = "contoso_other_12345"
		}, CheckUnknownComponent, "cds.json", "AadGroupCanvasConfiguration[0].canvasNameInSolution", "contoso_other_12345", SeverityError},
		{"custom page shared", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupCanvasConfiguration[0].CanvasNameInSolution = "contoso_projectresourcespage_22fad"
		}, CheckComponentType, "cds.json", "AadGroupCanvasConfiguration[0].canvasNameInSolution", "contoso_projectresourcespage_22fad", SeverityError},
		{"canvas role", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupCanvasConfiguration[0].RoleName = "CanShare"
		}, CheckRoleName, "cds.json", "AadGroupCanvasConfiguration[0].roleName", "contoso_environmentalworkdelivery_39672", SeverityError},
		{"canvas group not a GUID", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupCanvasConfiguration[0].AadGroupID = "Sales Team"
		}, CheckGUID, "cds.json", "AadGroupCanvasConfiguration[0].aadGroupId", "contoso_environmentalworkdelivery_39672", SeverityError},
		{"canvas group empty", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupCanvasConfiguration[0].AadGroupID = ""
		}, CheckMissingValue, "cds.json", "AadGroupCanvasConfiguration[0].aadGroupId", "contoso_environmentalworkdelivery_39672", SeverityError},
		{"team group not a GUID", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupTeamConfiguration[0].AadSecurityGroupID = "7d2e4f10"
		}, CheckGUID, "cds.json", "AadGroupTeamConfiguration[0].aadSecurityGroupId", "Order Clerks", SeverityError},
		{"team business unit not a GUID", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupTeamConfiguration[0].AadGroupTeamBusinessUnitID = "Contoso"
		}, CheckGUID, "cds.json", "AadGroupTeamConfiguration[0].aadGroupTeamBusinessUnitId", "Order Clerks", SeverityError},
		{"team name empty", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupTeamConfiguration[0].AadGroupTeamName = ""
		}, CheckMissingValue, "cds.json", "AadGroupTeamConfiguration[0].aadGroupTeamName", "", SeverityError},
		{"team role empty", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupTeamConfiguration[0].DataverseSecurityRoleNames = []string{"Basic User", ""}
		}, CheckMissingValue, "cds.json", "AadGroupTeamConfiguration[0].dataverseSecurityRoleNames[1]", "Order Clerks", SeverityError},
		{"skipRolesDeletion", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.AadGroupTeamConfiguration[0].SkipRolesDeletion = "yes"
		}, CheckFormat, "cds.json", "AadGroupTeamConfiguration[0].skipRolesDeletion", "Order Clerks", SeverityError},
		{"flow share of missing flow", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.FlowShareWithGroupTeamConfiguration[4].SolutionComponentUniqueName = "00000000-0000-0000-0000-000000000001"
		}, CheckUnknownComponent, "cds.json", "FlowShareWithGroupTeamConfiguration[4].solutionComponentUniqueName", "", SeverityError},
		{"flow share without team", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.FlowShareWithGroupTeamConfiguration[4].AadGroupTeamName = ""
		}, CheckMissingValue, "cds.json", "FlowShareWithGroupTeamConfiguration[4].aadGroupTeamName", "", SeverityError},
		{"connector share without id", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.ConnectorShareWithGroupTeamConfiguration[0].SolutionComponentUniqueName = ""
		}, CheckMissingValue, "cds.json", "ConnectorShareWithGroupTeamConfiguration[0].solutionComponentUniqueName", "OrdersApi", SeverityError},
		{"webhook not a URL", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.WebhookUrls[0].Value = "hooks.contoso.com/orders"
		}, CheckFormat, "cds.json", "WebhookUrls[0].Value", "OrderHook", SeverityError},
		{"sdk step config", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.SDKMessages[0].Config = "secure.2e9fc4e4-ddf0-ed11-8848-6045bd08d866"
		}, CheckFormat, "cds.json", "SDKMessages[0].Config", "secure.2e9fc4e4-ddf0-ed11-8848-6045bd08d866", SeverityError},
		{"default variable unknown", func(_ *solution.Solution, _ *DeploymentSettings, cds *CustomDeploymentSettings) {
			cds.DefaultEnvironmentVariables[0][0] = "contoso_gone"
		}, CheckUnknownComponent, "cds.json", "DefaultEnvironmentVariables[0][0]", "contoso_gone", SeverityError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sol, ds, cds := validFabrikam(t)
			tt.change(sol, ds, cds)
			problems := Validate(sol, ds, cds)
			if testing.Verbose() {
				t.Log(problems)
			}
			if len(problems) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(problems), problems)
			}
			p := problems[0]
			if p.Check != tt.check || p.File != tt.file || p.Entry != tt.entry || p.Severity != tt.severity ||
				(tt.component != "" && p.Component != tt.component) {
				t.Fatalf("got %+v\nwant check=%s file=%s entry=%s component=%s severity=%s", p, tt.check, tt.file, tt.entry, tt.component, tt.severity)
			}
			if !strings.HasPrefix(p.String(), tt.file+": "+tt.entry+": ") || len(p.Message) < 20 {
				t.Fatalf("unhelpful message %q", p.String())
			}
			if strings.Contains(p.Message, "hunter2") || strings.Contains(p.Message, `{\"a\":1}`) {
				t.Fatalf("message prints a value: %q", p.Message)
			}
		})
	}
}

func setType(code int, value string) func(*solution.Solution, *DeploymentSettings, *CustomDeploymentSettings) {
	return func(sol *solution.Solution, ds *DeploymentSettings, _ *CustomDeploymentSettings) {
		sol.EnvironmentVariables[0].Type = code
		ds.EnvironmentVariables[0].Value = value
	}
}

func TestValidateAcceptsWellFormedTypedValues(t *testing.T) {
	for _, tc := range []struct {
		code  int
		value string
	}{
		{solution.TypeNumber, "-12.5"}, {solution.TypeBoolean, "false"}, {solution.TypeJSON, `{"a":[1]}`},
		{solution.TypeDataSource, "https://contoso.sharepoint.com/sites/x"},
		{solution.TypeSecret, "/subscriptions/0f8a2d4c-5b6e-4a7f-9c1d-2e3f4a5b6c7d/resourceGroups/rg-alm/providers/Microsoft.KeyVault/vaults/kv-contoso/secrets/sp-password"},
	} {
		sol, ds, _ := validFabrikam(t)
		setType(tc.code, tc.value)(sol, ds, nil)
		if p := Validate(sol, ds, nil); len(p) > 0 {
			t.Errorf("%s %q: %v", solution.TypeName(tc.code), tc.value, p)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	sol, ds, cds := validFabrikam(b)
	for b.Loop() {
		if p := Validate(sol, ds, cds); len(p) > 0 {
			b.Fatal(p)
		}
	}
}
