package emulator

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/solution"
)

// connectionFor returns the name of the environment's connection for a
// connector, read from the Power Apps admin connections API.
func connectionFor(t *testing.T, base, envID, connectorID string) (string, map[string]any) {
	t.Helper()
	list := must(t, call(t, "GET", base+"/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/"+envID+"/connections?api-version=2016-11-01", nil), 200).values(t)
	for _, c := range list {
		props := c["properties"].(map[string]any)
		if strings.EqualFold(props["apiId"].(string), connectorID) {
			return c["name"].(string), props
		}
	}
	t.Fatalf("no connection for %s among %d", connectorID, len(list))
	return "", nil
}

func TestComponentParametersBindAndRefuse(t *testing.T) {
	e, base := server(t, Options{Environments: []string{"dev", "test"}})
	envID, _ := e.EnvironmentID("test")
	data := fixture(t, "followsites-small", "sharepoint-followsites.zip")
	sol, _ := solution.Read(data)
	cr, ev := sol.ConnectionReferences[0], sol.EnvironmentVariables[0]
	conn, props := connectionFor(t, base, envID, cr.ConnectorID)
	if props["createdBy"].(map[string]any)["id"] != Maker.ObjectID {
		t.Errorf("connection creator = %v, want Maker", props["createdBy"])
	}
	crParam := func(id string) map[string]any {
		return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.connectionreference", "connectionreferencelogicalname": cr.LogicalName,
			"connectorid": cr.ConnectorID, "connectionid": id}
	}
	evParam := func(v string) map[string]any {
		return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue", "schemaname": ev.SchemaName, "value": v}
	}
	refusals := []struct {
		name   string
		params []any
		want   string
	}{
		{"empty connection id", []any{crParam("")}, "empty"},
		{"unknown connection", []any{crParam("0123456789abcdef0123456789abcdef")}, "does not exist"},
		{"empty value", []any{crParam(conn), evParam("")}, "empty"},
		{"unknown variable", []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue", "schemaname": "x_Nope", "value": "1"}}, "x_Nope"},
		{"unknown type", []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account"}}, "not supported"},
	}
	for _, r := range refusals {
		a := call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ComponentParameters": r.params}))
		if a.status == 204 {
			t.Fatalf("%s: import accepted", r.name)
		}
		if _, msg := a.errorCode(t); !strings.Contains(msg, r.want) {
			t.Errorf("%s: %d %s", r.name, a.status, msg)
		}
	}
	if solutionRow(t, base, "test", sol.UniqueName) != nil || countRows(t, base, "test", "workflows") != 0 {
		t.Fatal("a refused import left rows behind")
	}
	// A connection of another connector is refused.
	other, _ := connectionFor(t, base, envID, "/providers/Microsoft.PowerApps/apis/shared_office365")
	a := call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ComponentParameters": []any{crParam(other)}}))
	if _, msg := a.errorCode(t); a.status != 400 || !strings.Contains(msg, "shared_office365") {
		t.Errorf("wrong connector: %d %s", a.status, msg)
	}

	value := "https://contoso.sharepoint.com/sites/test"
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ComponentParameters": []any{crParam(conn), evParam(value)}})), 204)
	rows := must(t, call(t, "GET", api(base, "test")+"connectionreferences?$select=connectionid&$filter=connectionreferencelogicalname eq '"+cr.LogicalName+"'", nil), 200).values(t)
	if rows[0]["connectionid"] != conn {
		t.Errorf("connection reference bound to %v, want %s", rows[0]["connectionid"], conn)
	}
	vals := must(t, call(t, "GET", api(base, "test")+"environmentvariablevalues?$select=schemaname,value&$filter=schemaname eq '"+ev.SchemaName+"'", nil), 200).values(t)
	if len(vals) != 1 || vals[0]["value"] != value {
		t.Errorf("environment variable values = %v", vals)
	}
	// The imported flows were exported on and their connection is bound: on.
	for _, f := range sol.CloudFlows() {
		wf := must(t, call(t, "GET", api(base, "test")+"workflows("+f.ID+")?$select=statecode", nil), 200).json(t)
		if wf["statecode"] != 1.0 {
			t.Errorf("flow %s statecode %v after a bound import", f.Name, wf["statecode"])
		}
	}
}

func TestFlowActivationNeedsBoundUsableConnections(t *testing.T) {
	e, base := server(t, Options{Environments: []string{"test"}})
	envID, _ := e.EnvironmentID("test")
	data := fixture(t, "followsites-small", "sharepoint-followsites.zip")
	sol, _ := solution.Read(data)
	jobID := "8b0f6d0e-1111-4000-8000-0000000000f1"
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ImportJobId": jobID})), 204)
	res := must(t, call(t, "GET", api(base, "test")+"RetrieveSolutionImportResult(ImportJobId="+jobID+")", nil), 200).json(t)
	if w := res["SolutionOperationResult"].(map[string]any)["WarningMessages"].([]any); len(w) != len(sol.CloudFlows()) {
		t.Errorf("want one warning per flow left off, got %v", w)
	}
	flow := sol.CloudFlows()[0]
	wfURL := api(base, "test") + "workflows(" + flow.ID + ")"
	if wf := must(t, call(t, "GET", wfURL+"?$select=statecode,statuscode", nil), 200).json(t); wf["statecode"] != 0.0 || wf["statuscode"] != 1.0 {
		t.Fatalf("flow with unbound references imported on: %v", wf)
	}
	on := map[string]any{"statecode": 1, "statuscode": 2}
	a := must(t, call(t, "PATCH", wfURL, on), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "XrmConnectionReferenceMissingConnection") || !strings.Contains(msg, flow.ConnectionReferences[0]) {
		t.Errorf("unbound activation: %s", msg)
	}
	// Bind the reference after import, as the SPN (the connection is shared with it).
	cr := must(t, call(t, "GET", api(base, "test")+"connectionreferences?$select=connectionreferenceid,connectorid&$filter=connectionreferencelogicalname eq '"+flow.ConnectionReferences[0]+"'", nil), 200).values(t)[0]
	conn, _ := connectionFor(t, base, envID, cr["connectorid"].(string))
	crURL := api(base, "test") + "connectionreferences(" + cr["connectionreferenceid"].(string) + ")"
	a = must(t, call(t, "PATCH", crURL, map[string]any{"connectionid": "nope"}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "nope") {
		t.Errorf("binding an unknown connection: %s", msg)
	}
	must(t, call(t, "PATCH", crURL, map[string]any{"connectionid": conn}), 204)
	must(t, call(t, "PATCH", wfURL, on), 204)

	// The service no longer turns flows on for an impersonated user, not
	// even its connections' creator: only as the caller, who must be able
	// to use them.
	off := map[string]any{"statecode": 0, "statuscode": 1}
	must(t, call(t, "PATCH", wfURL, off), 204)
	for _, who := range []User{FlowOwner, Maker} {
		a = must(t, call(t, "PATCH", wfURL, on, "CallerObjectId", who.ObjectID), 400)
		if code, msg := a.errorCode(t); code != "0x80060467" || !strings.Contains(msg, "ImpersonatedActivationNotSupported") {
			t.Errorf("activation impersonating %s: %s %s", who.Name, code, msg)
		}
	}
	// Bea, calling as herself without access to the connection, is refused.
	a = must(t, call(t, "PATCH", wfURL, on, "Authorization", "Bearer "+FlowOwner.Email), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "ConnectionAuthorizationFailed") || !strings.Contains(msg, FlowOwner.ObjectID) {
		t.Errorf("activation as a user without the connection: %s", msg)
	}
	// A connection that is not shared with the service principal stops it
	// too; once shared, it may turn the flow on.
	unshared, err := e.AddConnection("test", cr["connectorid"].(string), Maker.Email)
	if err != nil {
		t.Fatal(err)
	}
	must(t, call(t, "PATCH", crURL, map[string]any{"connectionid": unshared}, "Authorization", "Bearer "+Maker.Email), 204)
	a = must(t, call(t, "PATCH", wfURL, on), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "ConnectionAuthorizationFailed") || !strings.Contains(msg, ServicePrincipal.ObjectID) {
		t.Errorf("activation with an unshared connection: %s", msg)
	}
	must(t, call(t, "PATCH", crURL, map[string]any{"connectionid": conn}), 204)
	must(t, call(t, "PATCH", wfURL, on), 204)
	var last AuditEntry
	for _, entry := range e.Audit() {
		if entry.Action == "activate-flow" && entry.ObjectID == flow.ID {
			last = entry
		}
	}
	if last.CallerObjectID != ServicePrincipal.ObjectID || last.ImpersonatedBy != "" {
		t.Errorf("activation recorded as %+v", last)
	}
	// Impersonation in general still works where the service allows it.
	must(t, call(t, "PATCH", wfURL, off, "CallerObjectId", Maker.ObjectID), 204)
	wf := must(t, call(t, "GET", wfURL+"?$select=_modifiedby_value", nil), 200).json(t)
	if wf["_modifiedby_value"] != Maker.SystemUserID("test") {
		t.Errorf("modified by %v, want Maker", wf["_modifiedby_value"])
	}
	// Impersonation needs the Delegate privilege.
	a = must(t, call(t, "PATCH", wfURL, off, "Authorization", "Bearer "+Maker.Email, "CallerObjectId", Admin.ObjectID), 403)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "prvActOnBehalfOfAnotherUser") {
		t.Errorf("impersonation without Delegate: %s", msg)
	}
	// Owners change only to existing users.
	must(t, call(t, "PATCH", wfURL, map[string]any{"ownerid@odata.bind": "/systemusers(" + FlowOwner.SystemUserID("test") + ")"}), 204)
	must(t, call(t, "PATCH", wfURL, map[string]any{"ownerid@odata.bind": "/systemusers(00000000-0000-4000-8000-000000000000)"}), 404)
	wf = must(t, call(t, "GET", wfURL+"?$select=_ownerid_value", nil), 200).json(t)
	if wf["_ownerid_value"] != FlowOwner.SystemUserID("test") {
		t.Errorf("owner = %v", wf["_ownerid_value"])
	}
	// Unknown columns are refused like the real service refuses them.
	a = must(t, call(t, "PATCH", wfURL, map[string]any{"statecod": 1}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "statecod") {
		t.Errorf("unknown column: %s", msg)
	}
}

// A parent flow can only be turned on when its child flows are on.
func TestChildFlowMustBeOn(t *testing.T) {
	e, base := server(t, Options{Environments: []string{"test"}})
	envID, _ := e.EnvironmentID("test")
	data := fixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	sol, _ := solution.Read(data)
	var params []any
	for _, cr := range sol.ConnectionReferences {
		if cr.ConnectorID != "/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps" {
			// Not a common connector and no seed used it: the test environment has none yet.
			must(t, call(t, "POST", base+"/_emulator/environments/test/connections", map[string]any{
				"connectorId": cr.ConnectorID, "owner": Maker.Email, "sharedWith": []string{ServicePrincipal.ObjectID}}), 201)
		}
		conn, _ := connectionFor(t, base, envID, cr.ConnectorID)
		params = append(params, map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.connectionreference",
			"connectionreferencelogicalname": cr.LogicalName, "connectionid": conn})
	}
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ComponentParameters": params})), 204)
	var parent solution.Flow
	for _, f := range sol.CloudFlows() {
		if len(f.ChildFlows) > 0 {
			parent = f
		}
	}
	if parent.ID == "" {
		t.Fatal("fixture has no parent flow")
	}
	child := parent.ChildFlows[0]
	on, off := map[string]any{"statecode": 1, "statuscode": 2}, map[string]any{"statecode": 0, "statuscode": 1}
	must(t, call(t, "PATCH", api(base, "test")+"workflows("+parent.ID+")", off), 204)
	must(t, call(t, "PATCH", api(base, "test")+"workflows("+child+")", off), 204)
	a := must(t, call(t, "PATCH", api(base, "test")+"workflows("+parent.ID+")", on), 400)
	if code, msg := a.errorCode(t); code != "0x80060467" || !strings.Contains(msg, `\"code\":\"ChildFlowNeverPublished\"`) || !strings.Contains(msg, child) {
		t.Errorf("parent before child: %s %s", code, msg)
	}
	for _, c := range parent.ChildFlows {
		must(t, call(t, "PATCH", api(base, "test")+"workflows("+c+")", on), 204)
	}
	must(t, call(t, "PATCH", api(base, "test")+"workflows("+parent.ID+")", on), 204)

	// A child whose connections come from the run-only user cannot be
	// called as a child flow at all, on or not.
	wf := must(t, call(t, "GET", api(base, "test")+"workflows("+child+")?$select=clientdata", nil), 200).json(t)
	invoker := regexp.MustCompile(`"connectionReferences":\s*\{`).ReplaceAllLiteralString(wf["clientdata"].(string),
		`"connectionReferences":{"shared_invoker_only":{"runtimeSource":"invoker","connection":{"connectionReferenceLogicalName":"x"},"api":{"name":"shared_office365"}},`)
	if invoker == wf["clientdata"] {
		t.Fatal("child flow definition has no connectionReferences")
	}
	must(t, call(t, "PATCH", api(base, "test")+"workflows("+parent.ID+")", off), 204)
	must(t, call(t, "PATCH", api(base, "test")+"workflows("+child+")", map[string]any{"clientdata": invoker}), 204)
	a = must(t, call(t, "PATCH", api(base, "test")+"workflows("+parent.ID+")", on), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "ChildFlowUnsupportedForInvokerConnections") {
		t.Errorf("child with invoker connections: %s", msg)
	}
}
