package emulator

import (
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

const (
	pl400Flow     = "cc724662-8525-ee11-9cbd-00224823910f"
	pl400Endpoint = "b414f7f8-2a26-ee11-9966-00224823910f"
	pl400Step     = "8f5eab6a-2b26-ee11-9966-00224823910f"
	pl400Conn     = "bedc080f-9be1-4f80-9f35-c630109a6b89"
)

func grant(target, principal map[string]any, mask any) map[string]any {
	return map[string]any{"Target": target, "PrincipalAccess": map[string]any{"Principal": principal, "AccessMask": mask}}
}

// TestRegistrationsAndGrantAccess imports PL400Demos managed: its service
// endpoint, plug-in steps and custom connector become rows; GrantAccess
// keeps principal access; uninstalling takes rows and shares away.
func TestRegistrationsAndGrantAccess(t *testing.T) {
	e, base := server(t, Options{Environments: []string{"dev", "test"}, AsyncPolls: -1,
		Seeds: map[string][]string{"dev": {fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")}}})
	managed := exportZip(t, base, "dev", "PL400Demos", true)
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(managed, nil)), 204)

	ep := must(t, call(t, "GET", api(base, "test")+"serviceendpoints?$select=name,contract,url,namespaceaddress&$filter=name eq 'trickqueue pl400demosajs202307'", nil), 200).values(t)
	if len(ep) != 1 || ep[0]["serviceendpointid"] != pl400Endpoint || ep[0]["contract"] != float64(6) ||
		ep[0]["namespaceaddress"] != "sb://pl400demosajs202307.servicebus.windows.net/" {
		t.Fatalf("service endpoint from customizations.xml: %v", ep)
	}
	step := must(t, call(t, "GET", api(base, "test")+"sdkmessageprocessingsteps("+pl400Step+")?$select=name,stage,mode,_eventhandler_value", nil), 200).json(t)
	if step["_eventhandler_value"] != pl400Endpoint || step["stage"] != float64(40) || step["mode"] != float64(1) {
		t.Errorf("plug-in step: %v", step)
	}
	if n := countRows(t, base, "test", "sdkmessageprocessingsteps?$select=name"); n != 2 {
		t.Errorf("%d plug-in steps, want 2", n)
	}
	conn := must(t, call(t, "GET", api(base, "test")+"connectors("+pl400Conn+")?$select=name,displayname", nil), 200).json(t)
	if conn["name"] != "dem_inventorymanager" || conn["displayname"] != "InventoryManager" {
		t.Errorf("connector: %v", conn)
	}

	// PATCH url: an absolute URL only.
	code, msg := must(t, call(t, "PATCH", api(base, "test")+"serviceendpoints("+pl400Endpoint+")", map[string]any{"url": "not a url"}), 400).errorCode(t)
	if code != "0x80040203" || !strings.Contains(msg, "not an absolute http(s) URL") {
		t.Errorf("bad url: %s %s", code, msg)
	}

	team := must(t, call(t, "POST", api(base, "test")+"teams", map[string]any{"name": "Contoso Sales", "teamtype": 2,
		"membershiptype": 0, "azureactivedirectoryobjectid": Groups[0].ID}), 204).header.Get("OData-EntityId")
	teamID := team[strings.LastIndex(team, "(")+1 : len(team)-1]
	flow := map[string]any{"workflowid": pl400Flow, "@odata.type": "Microsoft.Dynamics.CRM.workflow"}
	principal := map[string]any{"teamid": teamID, "@odata.type": "Microsoft.Dynamics.CRM.team"}
	must(t, call(t, "POST", api(base, "test")+"GrantAccess", grant(flow, principal, "ReadAccess")), 204)
	must(t, call(t, "POST", api(base, "test")+"GrantAccess", grant(flow, principal, "ReadAccess, WriteAccess")), 204)
	got := e.SharedAccess("test", pl400Flow)
	if len(got) != 1 || got[0].PrincipalID != teamID || got[0].AccessMask != "ReadAccess, WriteAccess" || got[0].ObjectType != "workflow" {
		t.Errorf("shares: %+v", got)
	}
	if n := countRows(t, base, "test", "principalobjectaccessset?$filter=objectid eq "+pl400Flow); n != 1 {
		t.Errorf("%d principalobjectaccess rows, want 1", n)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"unknown mask", grant(flow, principal, "ReadOnly"), 400, `"ReadOnly" is not an AccessRights member`},
		{"unknown team", grant(flow, map[string]any{"teamid": "0badf00d-0000-4000-8000-000000000000", "@odata.type": "Microsoft.Dynamics.CRM.team"}, "ReadAccess"), 404, "team With Id = 0badf00d-0000-4000-8000-000000000000 Does Not Exist"},
		{"unknown flow", grant(map[string]any{"workflowid": "0badf00d-0000-4000-8000-000000000000", "@odata.type": "Microsoft.Dynamics.CRM.workflow"}, principal, "ReadAccess"), 404, "workflow With Id"},
		{"organization-owned", grant(map[string]any{"serviceendpointid": pl400Endpoint, "@odata.type": "Microsoft.Dynamics.CRM.serviceendpoint"}, principal, "ReadAccess"), 400, "organization-owned"},
		{"principal a role", grant(flow, map[string]any{"roleid": nameUUID("role:test:" + StandardRoles[0]), "@odata.type": "Microsoft.Dynamics.CRM.role"}, "ReadAccess"), 400, "must be a team or a systemuser"},
	} {
		_, msg := must(t, call(t, "POST", api(base, "test")+"GrantAccess", tc.body), tc.status).errorCode(t)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, msg, tc.want)
		}
	}
	must(t, call(t, "POST", api(base, "test")+"principalobjectaccessset", map[string]any{"objectid": pl400Flow}), 405)

	// Uninstalling the managed solution removes its registrations and the
	// shares of what it removed.
	sol := solutionRow(t, base, "test", "PL400Demos")
	must(t, call(t, "DELETE", api(base, "test")+"solutions("+sol["solutionid"].(string)+")", nil), 204)
	for _, q := range []string{"serviceendpoints?$select=name", "sdkmessageprocessingsteps?$select=name", "connectors?$select=name", "principalobjectaccessset?$select=objectid"} {
		if n := countRows(t, base, "test", q); n != 0 {
			t.Errorf("%s: %d rows left after uninstall", q, n)
		}
	}
}
