package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

func TestPagingFollowsNextLink(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev"}})
	url := api(base, "dev") + "systemusers?$select=fullname,azureactivedirectoryobjectid&$orderby=fullname asc"
	var names []string
	pages := 0
	for url != "" {
		a := must(t, call(t, "GET", url, nil, "Prefer", "odata.maxpagesize=2"), 200)
		m := a.json(t)
		if !strings.HasSuffix(m["@odata.context"].(string), "#systemusers(fullname,azureactivedirectoryobjectid)") {
			t.Errorf("@odata.context = %v", m["@odata.context"])
		}
		for _, v := range a.values(t) {
			names = append(names, v["fullname"].(string))
			if v["systemuserid"] == nil {
				t.Errorf("the primary key is missing from a $select answer: %v", v)
			}
		}
		url, _ = m["@odata.nextLink"].(string)
		pages++
		if url != "" && a.header.Get("Preference-Applied") != "odata.maxpagesize=2" {
			t.Errorf("Preference-Applied = %q", a.header.Get("Preference-Applied"))
		}
	}
	if pages != 3 || len(names) != len(Users) || names[0] != "Alex Maker" || names[len(names)-1] != "ppalm-spn" {
		t.Errorf("%d pages: %v", pages, names)
	}
	a := must(t, call(t, "GET", api(base, "dev")+"systemusers?$select=nosuchcolumn", nil), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "nosuchcolumn") {
		t.Errorf("unknown $select column: %s", msg)
	}
	a = must(t, call(t, "GET", api(base, "dev")+"systemusers?$filter=fullname eq", nil), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "$filter") {
		t.Errorf("malformed $filter: %s", msg)
	}
	must(t, call(t, "GET", api(base, "dev")+"nosuchset", nil), 404)
	rows := must(t, call(t, "GET", api(base, "dev")+"systemusers?$filter=(azureactivedirectoryobjectid eq '"+strings.ToUpper(Maker.ObjectID)+"' or internalemailaddress eq 'BEA.OWNER@contoso.example') and isdisabled eq false", nil), 200).values(t)
	if len(rows) != 2 {
		t.Errorf("filter with or/and/quoted upper-case GUID matched %d rows", len(rows))
	}
	one := must(t, call(t, "GET", api(base, "dev")+"systemusers(azureactivedirectoryobjectid="+Admin.ObjectID+")?$select=fullname", nil), 200).json(t)
	if one["fullname"] != Admin.Name || !strings.HasSuffix(one["@odata.context"].(string), "/$entity") {
		t.Errorf("alternate key lookup = %v", one)
	}
	a = must(t, call(t, "GET", api(base, "dev")+"workflows(00000000-0000-4000-8000-000000000000)", nil), 404)
	if code, msg := a.errorCode(t); code != "0x80040217" || !strings.Contains(msg, "Does Not Exist") {
		t.Errorf("missing row: %s %s", code, msg)
	}
}

// The same seed and the same calls meet the same faults; stats count them;
// /_emulator is never faulted.
func TestFaultsAreDeterministicAndCounted(t *testing.T) {
	run := func() ([]int, Stats) {
		e, base := server(t, Options{Environments: []string{"dev"}, Faults: "429=0.2,503=0.1,seed=7"})
		var got []int
		for i := 0; i < 60; i++ {
			a := call(t, "GET", api(base, "dev")+"WhoAmI", nil)
			got = append(got, a.status)
			if a.status == 429 && a.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
		for i := 0; i < 20; i++ {
			must(t, call(t, "GET", base+"/_emulator/stats", nil), 200)
		}
		return got, e.Stats()
	}
	first, stats := run()
	second, _ := run()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("same seed, different faults:\n%v\n%v", first, second)
	}
	counts := map[int]int{}
	for _, s := range first {
		counts[s]++
	}
	if counts[429] == 0 || counts[503] == 0 || counts[200] == 0 {
		t.Fatalf("fault mix %v from 60 calls at 429=0.2,503=0.1", counts)
	}
	route := stats.Requests["GET /{env}/api/data/v9.2/WhoAmI"]
	if route[429] != counts[429] || route[503] != counts[503] || route[200] != counts[200] {
		t.Errorf("stats %v, calls %v", route, counts)
	}
	if stats.Faults["429"] != counts[429] || stats.Faults["503"] != counts[503] {
		t.Errorf("fault counts %v, calls %v", stats.Faults, counts)
	}
	// The last control call may be counted just after Stats() was read.
	if n := stats.Requests["GET /_emulator/stats"][200]; n < 19 || stats.Faults["reset-before"] != 0 {
		t.Errorf("control route counts %v (never faulted)", stats.Requests["GET /_emulator/stats"])
	}
	if _, err := New(Options{Faults: "429=2"}); err == nil || !strings.Contains(err.Error(), "probability") {
		t.Errorf("bad fault spec accepted: %v", err)
	}
	if _, err := New(Options{Faults: "boom=0.1"}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("unknown fault accepted: %v", err)
	}
}

// A reset drops the connection; on an import POST it sometimes happens
// after the import was done, so the client must check state.
func TestResetAfterAcceptedImport(t *testing.T) {
	data := fixture(t, "followsites-small", "sharepoint-followsites.zip")
	before, after := 0, 0
	// The importjobs rows say which resets came after the work: read them
	// from a fault-free view of the same emulator.
	e, base2 := server(t, Options{Environments: []string{"test"}, Faults: "reset=1,seed=3"})
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("8b0f6d0e-1111-4000-8000-%012d", i)
		body := importBody(data, map[string]any{"ImportJobId": id})
		req, _ := http.NewRequest("POST", api(base2, "test")+"ImportSolution", strings.NewReader(mustJSON(t, body)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("reset=1 answered %d", resp.StatusCode)
		}
		e.mu.Lock()
		_, done := e.envs["test"].t("importjobs").get(id)
		e.mu.Unlock()
		if done {
			after++
		} else {
			before++
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("resets before the work: %d, after: %d; want both", before, after)
	}
	st := e.Stats()
	if st.Faults["reset-before"] != before || st.Faults["reset-after"] != after || st.Requests["POST /{env}/api/data/v9.2/ImportSolution"][0] != 12 {
		t.Errorf("stats %+v", st)
	}
}

func TestAuthAnswers(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev"}})
	a := must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer invalid"), 401)
	if a.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer "+NoAccess.Email), 403)
	must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "CallerObjectId", NoAccess.ObjectID), 403)
	must(t, call(t, "GET", base+"/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/dev/connections?api-version=2016-11-01", nil, "Authorization", "Bearer "+NoAccess.ObjectID), 403)
	who := must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer anything"), 200).json(t)
	if who["UserId"] != ServicePrincipal.SystemUserID("dev") {
		t.Errorf("WhoAmI = %v", who)
	}
	who = must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer "+Admin.Email), 200).json(t)
	if who["UserId"] != Admin.SystemUserID("dev") {
		t.Errorf("WhoAmI as Admin = %v", who)
	}
	// A signed-in user's access token: the oid claim names the caller.
	jwt := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"oid":"`+Maker.ObjectID+`","upn":"someone@else.example"}`)) + ".c2ln"
	who = must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer "+jwt), 200).json(t)
	if who["UserId"] != Maker.SystemUserID("dev") {
		t.Errorf("WhoAmI with Maker's JWT = %v", who)
	}
	_, base2 := server(t, Options{Environments: []string{"dev"}, NotManagementApp: true})
	a = must(t, call(t, "GET", base2+"/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/dev/connections?api-version=2016-11-01", nil), 403)
	if code, _ := a.errorCode(t); code != "BusinessAppPlatformRequestFailed" {
		t.Errorf("not a management app: %s", code)
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestRequestBudgetPerUser(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)}
	e, base := server(t, Options{Environments: []string{"dev"}, RequestBudget: 3, BudgetWindow: time.Minute, Now: clock.Now})
	for i := 0; i < 3; i++ {
		must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil), 200)
	}
	clock.Add(20 * time.Second)
	a := must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil), 429)
	if code, _ := a.errorCode(t); code != "0x80072322" || a.header.Get("Retry-After") != "40" {
		t.Errorf("budget 429: %s Retry-After %q", code, a.header.Get("Retry-After"))
	}
	must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil, "Authorization", "Bearer "+Admin.Email), 200) // another user's budget
	clock.Add(40 * time.Second)
	must(t, call(t, "GET", api(base, "dev")+"WhoAmI", nil), 200)
	if e.Stats().Faults["budget"] != 1 {
		t.Errorf("budget faults %v", e.Stats().Faults)
	}
}

func TestTeamsAndRoles(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"test"}})
	g := Groups[0]
	bu := must(t, call(t, "GET", api(base, "test")+"businessunits?$select=businessunitid,name&$filter=_parentbusinessunitid_value eq null", nil), 200).values(t)
	if len(bu) != 1 {
		t.Fatalf("root business units: %v", bu)
	}
	buID := bu[0]["businessunitid"].(string)
	body := map[string]any{"name": "Contoso Sales", "teamtype": 2, "membershiptype": 0, "azureactivedirectoryobjectid": g.ID,
		"businessunitid@odata.bind": "/businessunits(" + buID + ")"}
	a := must(t, call(t, "POST", api(base, "test")+"teams", body), 204)
	entity := a.header.Get("OData-EntityId")
	teamID := entity[strings.LastIndex(entity, "(")+1 : len(entity)-1]
	a = must(t, call(t, "POST", api(base, "test")+"teams", body), 400)
	if code, _ := a.errorCode(t); code != "0x80040237" {
		t.Errorf("duplicate team: %s", code)
	}
	body["azureactivedirectoryobjectid"] = "6a0b1c2d-0000-4000-8000-0000000000ff"
	must(t, call(t, "POST", api(base, "test")+"teams", body), 400)
	teams := must(t, call(t, "GET", api(base, "test")+"teams?$select=teamid,name&$filter=azureactivedirectoryobjectid eq "+g.ID+" and membershiptype eq 0", nil), 200).values(t)
	if len(teams) != 1 || teams[0]["teamid"] != teamID {
		t.Fatalf("team lookup %v", teams)
	}
	role := must(t, call(t, "GET", api(base, "test")+"roles?$select=roleid,name&$filter=name eq 'Basic User' and _businessunitid_value eq "+buID, nil), 200).values(t)[0]
	roleID := role["roleid"].(string)
	ref := map[string]any{"@odata.id": api(base, "test") + "roles(" + roleID + ")"}
	must(t, call(t, "POST", api(base, "test")+"teams("+teamID+")/teamroles_association/$ref", ref), 204)
	got := must(t, call(t, "GET", api(base, "test")+"teams("+teamID+")/teamroles_association?$select=roleid,name", nil), 200).values(t)
	if len(got) != 1 || got[0]["name"] != "Basic User" {
		t.Errorf("team roles %v", got)
	}
	must(t, call(t, "DELETE", api(base, "test")+"teams("+teamID+")/teamroles_association("+roleID+")/$ref", nil), 204)
	if n := len(must(t, call(t, "GET", api(base, "test")+"teams("+teamID+")/teamroles_association", nil), 200).values(t)); n != 0 {
		t.Errorf("%d roles after disassociate", n)
	}
}

func TestCanvasAppSharingAndGraph(t *testing.T) {
	e, base := server(t, Options{Environments: []string{"dev"}, Seeds: map[string][]string{"dev": {fixtures.Path("followsites-small", "sharepoint-followsites.zip")}}})
	envID, _ := e.EnvironmentID("dev")
	apps := must(t, call(t, "GET", api(base, "dev")+"canvasapps?$select=canvasappid,name,uniquecanvasappid&$filter=name eq 'alexmsft_followsites_7d504'", nil), 200).values(t)
	if len(apps) != 1 {
		t.Fatalf("canvas apps %v", apps)
	}
	g := must(t, call(t, "GET", base+"/graph/v1.0/groups?$filter=displayName eq 'Contoso Makers'", nil), 200).values(t)
	if len(g) != 1 || g[0]["id"] != Groups[1].ID {
		t.Fatalf("graph group lookup %v", g)
	}
	u := must(t, call(t, "GET", base+"/graph/v1.0/users/"+FlowOwner.Email, nil), 200).json(t)
	if u["id"] != FlowOwner.ObjectID {
		t.Errorf("graph user %v", u)
	}
	must(t, call(t, "GET", base+"/graph/v1.0/groups/6a0b1c2d-0000-4000-8000-0000000000ff", nil), 404)
	appURL := base + "/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/" + envID + "/apps/" + apps[0]["uniquecanvasappid"].(string)
	q := "?api-version=2016-11-01&$filter=environment%20eq%20'" + envID + "'"
	share := func(id, role string) answer {
		return call(t, "POST", appURL+"/modifyPermissions"+q, map[string]any{"put": []any{map[string]any{"properties": map[string]any{
			"roleName": role, "capabilities": []any{}, "NotifyShareTargetOption": "Notify",
			"principal": map[string]any{"id": id, "type": "Group", "tenantId": "null"}}}}})
	}
	must(t, share(g[0]["id"].(string), "CanView"), 200)
	must(t, share(g[0]["id"].(string), "CanEdit"), 200)
	a := must(t, share("6a0b1c2d-0000-4000-8000-0000000000ff", "CanView"), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "6a0b1c2d-0000-4000-8000-0000000000ff") {
		t.Errorf("unknown group: %s", msg)
	}
	perms := must(t, call(t, "GET", appURL+"/permissions"+q, nil), 200).values(t)
	found := false
	for _, p := range perms {
		props := p["properties"].(map[string]any)
		if props["principal"].(map[string]any)["id"] == g[0]["id"] {
			found = props["roleName"] == "CanEdit"
		}
	}
	if !found || len(perms) != 2 {
		t.Errorf("permissions %v", perms)
	}
	must(t, call(t, "GET", base+"/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/"+envID+"/apps/nope"+q, nil), 404)
	must(t, call(t, "GET", appURL, nil), 400) // api-version is required
	org := must(t, call(t, "GET", api(base, "dev")+"RetrieveCurrentOrganization(AccessType=Microsoft.Dynamics.CRM.EndpointAccessType'Default')", nil), 200).json(t)
	if org["Detail"].(map[string]any)["EnvironmentId"] != envID {
		t.Errorf("RetrieveCurrentOrganization %v", org)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Binds name the navigation property as $metadata declares it, case and
// all: environmentvariablevalue's is EnvironmentVariableDefinitionId, and
// the lookup column's lower-case name is refused with 0x80048d19, as the
// service does.
func TestNavigationPropertyNames(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"test"}})
	data := fixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ImportJobId": "8b0f6d0e-1111-4000-8000-000000000009"})), 204)
	defs := must(t, call(t, "GET", api(base, "test")+"environmentvariabledefinitions?$select=environmentvariabledefinitionid,type", nil), 200).values(t)
	var defID string
	for _, d := range defs {
		if int(d["type"].(float64)) == 100000000 {
			defID = d["environmentvariabledefinitionid"].(string)
		}
	}
	if defID == "" {
		t.Fatal("fixture has no text environment variable")
	}
	for _, nav := range []string{"environmentvariabledefinitionid", "environmentVariableDefinitionId", "EnvironmentVariableDefinitionID"} {
		a := must(t, call(t, "POST", api(base, "test")+"environmentvariablevalues", map[string]any{"value": "x", nav + "@odata.bind": "/environmentvariabledefinitions(" + defID + ")"}), 400)
		if code, msg := a.errorCode(t); code != "0x80048d19" || !strings.Contains(msg, "undeclared property '"+nav+"'") {
			t.Errorf("%s: %s %s", nav, code, msg)
		}
	}
	// The right name, pointing at the wrong entity set, is refused too.
	if a := call(t, "POST", api(base, "test")+"environmentvariablevalues", map[string]any{"value": "x", "EnvironmentVariableDefinitionId@odata.bind": "/businessunits(" + defID + ")"}); a.status != 400 && a.status != 404 {
		t.Errorf("bind to the wrong set: status %d", a.status)
	}
	must(t, call(t, "POST", api(base, "test")+"environmentvariablevalues", map[string]any{"value": "x", "EnvironmentVariableDefinitionId@odata.bind": "/environmentvariabledefinitions(" + defID + ")"}), 204)
	if n := countRows(t, base, "test", "environmentvariablevalues?$filter=_environmentvariabledefinitionid_value eq "+defID); n != 1 {
		t.Errorf("values of the definition: %d", n)
	}
}

// PATCH of a row that does not exist creates it unless If-Match says
// update only; If-None-Match: * refuses to update a row that exists.
func TestPatchWithoutIfMatchIsAnUpsert(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev"}})
	id := "5a1e0000-0000-4000-8000-00000000c0de"
	url := api(base, "dev") + "serviceendpoints(" + id + ")"
	row := map[string]any{"name": "Orders hook", "contract": 8, "url": "https://hooks.contoso.example/orders"}
	must(t, call(t, "PATCH", url, row, "If-Match", "*"), 404)
	created := must(t, call(t, "PATCH", url, row), 204)
	if !strings.HasSuffix(created.header.Get("OData-EntityId"), "serviceendpoints("+id+")") {
		t.Errorf("upsert created %q", created.header.Get("OData-EntityId"))
	}
	if got := must(t, call(t, "GET", url+"?$select=name", nil), 200).json(t); got["name"] != "Orders hook" {
		t.Errorf("upserted row %v", got)
	}
	must(t, call(t, "PATCH", url, map[string]any{"name": "Orders"}, "If-None-Match", "*"), 412)
	must(t, call(t, "PATCH", url, map[string]any{"name": "Orders"}, "If-Match", "*"), 204)
	if got := must(t, call(t, "GET", url+"?$select=name", nil), 200).json(t); got["name"] != "Orders" {
		t.Errorf("updated row %v", got)
	}
}

// The service accepts CanViewWithShare and grants CanView; with a
// share-delay fault a new share shows in the permissions only after it.
func TestCanvasAppShareGrantsAndPropagation(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)}
	e, base := server(t, Options{Environments: []string{"dev"}, Faults: "share-delay=2s", Now: clock.Now,
		Seeds: map[string][]string{"dev": {fixtures.Path("followsites-small", "sharepoint-followsites.zip")}}})
	envID, _ := e.EnvironmentID("dev")
	apps := must(t, call(t, "GET", api(base, "dev")+"canvasapps?$select=uniquecanvasappid", nil), 200).values(t)
	appURL := base + "/powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/" + envID + "/apps/" + apps[0]["uniquecanvasappid"].(string)
	q := "?api-version=2016-11-01&$filter=environment%20eq%20'" + envID + "'"
	group := Groups[0].ID
	must(t, call(t, "POST", appURL+"/modifyPermissions"+q, map[string]any{"put": []any{map[string]any{"properties": map[string]any{
		"roleName": "CanViewWithShare", "principal": map[string]any{"id": group, "type": "Group"}}}}}), 200)
	role := func() string {
		for _, p := range must(t, call(t, "GET", appURL+"/permissions"+q, nil), 200).values(t) {
			props := p["properties"].(map[string]any)
			if props["principal"].(map[string]any)["id"] == group {
				return props["roleName"].(string)
			}
		}
		return ""
	}
	if r := role(); r != "" {
		t.Errorf("share shows as %q at once, want it to take 2s", r)
	}
	clock.Add(2 * time.Second)
	if r := role(); r != "CanView" {
		t.Errorf("role after the delay = %q, want the CanView the service grants for CanViewWithShare", r)
	}
	if e.Stats().Faults["share-delay"] != 1 {
		t.Errorf("faults %v", e.Stats().Faults)
	}
	var detail string
	for _, a := range e.Audit() {
		if a.Action == "share-app" {
			detail = a.Detail
		}
	}
	if !strings.Contains(detail, "CanView (asked CanViewWithShare)") {
		t.Errorf("audit detail %q", detail)
	}
}
