package emulator

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

func allFixtureZips(t *testing.T) []string {
	zips, err := filepath.Glob(fixtures.Path("*", "*.zip"))
	if err != nil || len(zips) == 0 {
		t.Fatalf("no fixture zips: %v", err)
	}
	return zips
}

// Every real fixture imports and creates the rows its contents name.
func TestImportCreatesComponentsOfEveryFixture(t *testing.T) {
	for _, zipPath := range allFixtureZips(t) {
		t.Run(filepath.Base(zipPath), func(t *testing.T) {
			data := fixture(t, strings.TrimPrefix(zipPath, fixtures.Path()+string(filepath.Separator)))
			want, err := solution.Read(data)
			if err != nil {
				t.Fatal(err)
			}
			_, base := server(t, Options{Environments: []string{"test"}})
			jobID := "8b0f6d0e-1111-4000-8000-000000000001"
			must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(data, map[string]any{"ImportJobId": jobID})), 204)

			sol := solutionRow(t, base, "test", want.UniqueName)
			if sol == nil || sol["version"] != want.Version || sol["ismanaged"] != want.Managed {
				t.Fatalf("solutions row = %v, want %s %s managed=%v", sol, want.UniqueName, want.Version, want.Managed)
			}
			solID := sol["solutionid"].(string)
			for _, f := range want.Flows {
				wf := must(t, call(t, "GET", api(base, "test")+"workflows("+f.ID+")?$select=name,category,clientdata,statecode", nil), 200).json(t)
				if wf["name"] != f.Name || int(wf["category"].(float64)) != f.Category {
					t.Errorf("workflow %s = %v, want %q category %d", f.ID, wf, f.Name, f.Category)
				}
				if f.IsCloudFlow() && !strings.Contains(wf["clientdata"].(string), `"connectionReferences"`) {
					t.Errorf("cloud flow %s clientdata is not the flow JSON: %.80s", f.ID, wf["clientdata"])
				}
			}
			for _, cr := range want.ConnectionReferences {
				rows := must(t, call(t, "GET", api(base, "test")+"connectionreferences?$select=connectorid,connectionid&$filter=connectionreferencelogicalname eq '"+cr.LogicalName+"'", nil), 200).values(t)
				if len(rows) != 1 || rows[0]["connectorid"] != cr.ConnectorID || rows[0]["connectionid"] != nil {
					t.Errorf("connection reference %s = %v, want connector %s unbound", cr.LogicalName, rows, cr.ConnectorID)
				}
			}
			for _, v := range want.EnvironmentVariables {
				rows := must(t, call(t, "GET", api(base, "test")+"environmentvariabledefinitions?$select=environmentvariabledefinitionid,type&$filter=schemaname eq '"+v.SchemaName+"'", nil), 200).values(t)
				if len(rows) != 1 || int(rows[0]["type"].(float64)) != v.Type {
					t.Fatalf("environment variable %s = %v", v.SchemaName, rows)
				}
				vals := countRows(t, base, "test", "environmentvariablevalues?$filter=_environmentvariabledefinitionid_value eq "+rows[0]["environmentvariabledefinitionid"].(string))
				if (vals == 1) != v.HasCurrentValue {
					t.Errorf("environment variable %s has %d values, export carried a value: %v", v.SchemaName, vals, v.HasCurrentValue)
				}
			}
			for _, app := range want.CanvasApps {
				if n := countRows(t, base, "test", "canvasapps?$filter=name eq '"+app.Name+"'"); n != 1 {
					t.Errorf("canvas app %s: %d rows", app.Name, n)
				}
			}
			for _, ent := range want.Entities {
				if n := countRows(t, base, "test", "entities?$filter=logicalname eq '"+strings.ToLower(ent)+"'"); n != 1 {
					t.Errorf("entity %s: %d rows", ent, n)
				}
			}
			comps := countRows(t, base, "test", "solutioncomponents?$filter=_solutionid_value eq "+solID)
			min := len(want.Flows) + len(want.ConnectionReferences) + len(want.EnvironmentVariables) + len(want.CanvasApps) + len(want.Entities)
			if comps < min {
				t.Errorf("%d solutioncomponents, want at least %d", comps, min)
			}
			flows := countRows(t, base, "test", fmt.Sprintf("solutioncomponents?$filter=_solutionid_value eq %s and componenttype eq 29", solID))
			if flows != len(want.Flows) {
				t.Errorf("%d workflow components, want %d", flows, len(want.Flows))
			}
			job := must(t, call(t, "GET", api(base, "test")+"importjobs("+jobID+")?$select=progress,solutionname,data", nil), 200).json(t)
			if job["progress"] != 100.0 || job["solutionname"] != want.UniqueName || !strings.Contains(job["data"].(string), `succeeded="success"`) {
				t.Errorf("import job = %.300v", job)
			}
			res := must(t, call(t, "GET", api(base, "test")+"RetrieveSolutionImportResult(ImportJobId="+jobID+")", nil), 200).json(t)
			if res["SolutionOperationResult"].(map[string]any)["Status"] != "Passed" {
				t.Errorf("RetrieveSolutionImportResult = %v", res)
			}
		})
	}
}

// An unmanaged solution exported from dev imports elsewhere, managed and
// unmanaged; a managed solution cannot be exported.
func TestExportRoundTrips(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev", "test", "dev2"},
		Seeds: map[string][]string{"dev": {fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")}}})
	orig, err := solution.ReadFile(fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"))
	if err != nil {
		t.Fatal(err)
	}
	sol := solutionRow(t, base, "dev", "FabrikamEnvironmental")
	must(t, call(t, "PATCH", api(base, "dev")+"solutions("+sol["solutionid"].(string)+")", map[string]any{"version": "1.1.12.0"}), 204)

	for _, managed := range []bool{true, false} {
		zip := exportZip(t, base, "dev", "FabrikamEnvironmental", managed)
		got, err := solution.Read(zip)
		if err != nil {
			t.Fatalf("export is not a solution zip: %v", err)
		}
		if got.Managed != managed || got.Version != "1.1.12.0" || len(got.Flows) != len(orig.Flows) || len(got.Files) != len(orig.Files) {
			t.Fatalf("export managed=%v: got managed=%v version %s, %d flows, %d files", managed, got.Managed, got.Version, len(got.Flows), len(got.Files))
		}
		for name, data := range orig.Files {
			if name != "solution.xml" && string(got.Files[name]) != string(data) {
				t.Errorf("export changed %s", name)
			}
		}
		env := "test"
		if !managed {
			env = "dev2"
		}
		must(t, call(t, "POST", api(base, env)+"ImportSolution", importBody(zip, nil)), 204)
		row := solutionRow(t, base, env, "FabrikamEnvironmental")
		if row["ismanaged"] != managed || row["version"] != "1.1.12.0" {
			t.Errorf("re-imported row = %v", row)
		}
		if n := countRows(t, base, env, "workflows?$select=workflowid"); n != len(orig.Flows) {
			t.Errorf("%s has %d workflows, want %d", env, n, len(orig.Flows))
		}
	}
	a := call(t, "POST", api(base, "test")+"ExportSolution", map[string]any{"SolutionName": "FabrikamEnvironmental", "Managed": false})
	if code, msg := a.errorCode(t); a.status != 400 || !strings.Contains(msg, "managed") {
		t.Errorf("export of a managed solution: %d %s %s", a.status, code, msg)
	}
	a = call(t, "POST", api(base, "dev")+"ExportSolution", map[string]any{"SolutionName": "Nope", "Managed": true})
	if a.status != 404 {
		t.Errorf("export of an unknown solution: %d %s", a.status, a.body)
	}
}

// Managed/unmanaged layering and version checks refuse imports, and a
// refused import changes nothing.
func TestImportRefusals(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev", "test"},
		Seeds: map[string][]string{"dev": {fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")}}})
	managed := fixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	unmanaged := fixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(managed, nil)), 204)
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(managed, nil)), 204) // same version: update

	before := countRows(t, base, "test", "solutioncomponents")
	a := must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(unmanaged, nil)), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "managed") {
		t.Errorf("unmanaged over managed: %s", msg)
	}
	// A lower managed version, exported from dev after an online-version change.
	dev := solutionRow(t, base, "dev", "FabrikamEnvironmental")
	must(t, call(t, "PATCH", api(base, "dev")+"solutions("+dev["solutionid"].(string)+")", map[string]any{"version": "1.1.10.0"}), 204)
	lower := exportZip(t, base, "dev", "FabrikamEnvironmental", true)
	a = must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(lower, nil)), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "lower") {
		t.Errorf("lower version: %s", msg)
	}
	if row := solutionRow(t, base, "test", "FabrikamEnvironmental"); row["version"] != "1.1.11.71" {
		t.Errorf("refused imports changed the solution: %v", row)
	}
	if after := countRows(t, base, "test", "solutioncomponents"); after != before {
		t.Errorf("refused imports changed solutioncomponents: %d -> %d", before, after)
	}
	// Managed over unmanaged is refused too.
	a = must(t, call(t, "POST", api(base, "dev")+"ImportSolution", importBody(managed, nil)), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "unmanaged") {
		t.Errorf("managed over unmanaged: %s", msg)
	}
	// Not a solution.
	a = must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody([]byte("not a zip"), nil)), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "zip") {
		t.Errorf("garbage import: %s", msg)
	}
	// StageAndUpgrade requires both Boolean parameters; ImportSolution's
	// default to false, as Microsoft's own samples leave them out.
	a = must(t, call(t, "POST", api(base, "test")+"StageAndUpgradeAsync", map[string]any{"CustomizationFile": "UEsDBA=="}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "OverwriteUnmanagedCustomizations") {
		t.Errorf("missing parameter: %s", msg)
	}
	a = must(t, call(t, "POST", api(base, "test")+"ImportSolutionAsync", map[string]any{"CustomizationFile": "UEsDBA==", "PublishWorkflows": "yes"}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "PublishWorkflows") {
		t.Errorf("PublishWorkflows not a Boolean: %s", msg)
	}
	// ImportJobId on ImportSolutionAsync is declared, so accepted, but the
	// service picks the job's id: the chosen one never names a job.
	chosen := "8b0f6d0e-1111-4000-8000-000000000001"
	body := importBody(managed, map[string]any{"ImportJobId": chosen})
	delete(body, "PublishWorkflows")
	got := must(t, call(t, "POST", api(base, "test")+"ImportSolutionAsync", body), 200).json(t)
	if got["ImportJobKey"] == chosen {
		t.Errorf("ImportJobKey = the client's ImportJobId %s", chosen)
	}
	pollDone(t, base, "test", got["AsyncOperationId"].(string))
	must(t, call(t, "GET", api(base, "test")+"importjobs("+chosen+")", nil), 404)
	must(t, call(t, "GET", api(base, "test")+"importjobs("+got["ImportJobKey"].(string)+")", nil), 200)
}

// A maker adds environment variables to an unmanaged solution after it was
// imported (the maker portal creates the definition with
// MSCRM.SolutionUniqueName): the next export carries their definitions, so
// the solution read back and imported elsewhere has them, with their types.
func TestExportCarriesVariablesAddedToTheSolution(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev", "test"}, SeedZips: map[string][][]byte{"dev": {fixtures.DemoSolution}}})
	add := func(body map[string]any) answer {
		return call(t, "POST", api(base, "dev")+"environmentvariabledefinitions", body, "MSCRM.SolutionUniqueName", fixtures.DemoSolutionName)
	}
	must(t, add(map[string]any{"schemaname": "alexmsft_ApiKey", "displayname": "API key", "type": solution.TypeSecret, "secretstore": 0}), 204)
	must(t, add(map[string]any{"schemaname": "alexmsft_Settings", "displayname": "Settings & <limits>", "type": solution.TypeJSON,
		"defaultvalue": `{"pageSize": 20}`, "description": "Paging \"defaults\""}), 204)
	if a := add(map[string]any{"schemaname": "alexmsft_Bad", "displayname": "Bad", "type": 7}); a.status != 400 {
		t.Fatalf("a definition of type 7: %d %s", a.status, a.body)
	}
	zip := exportZip(t, base, "dev", fixtures.DemoSolutionName, false)
	got, err := solution.Read(zip)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]solution.EnvironmentVariable{}
	for _, v := range got.EnvironmentVariables {
		types[v.SchemaName] = v
	}
	if len(types) != 3 || types["alexmsft_ApiKey"].Type != solution.TypeSecret || types["alexmsft_Settings"].Type != solution.TypeJSON ||
		types["alexmsft_Settings"].DefaultValue != `{"pageSize": 20}` || types["alexmsft_Settings"].DisplayName != "Settings & <limits>" ||
		types["alexmsft_FollowSitesSPOSite"].Type != solution.TypeDataSource {
		t.Fatalf("exported variables: %+v", got.EnvironmentVariables)
	}
	if _, ok := types["alexmsft_Bad"]; ok {
		t.Fatal("the refused definition was exported")
	}
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(exportZip(t, base, "dev", fixtures.DemoSolutionName, true), nil)), 204)
	rows := must(t, call(t, "GET", api(base, "test")+"environmentvariabledefinitions?$select=schemaname,type&$filter=schemaname eq 'alexmsft_ApiKey'", nil), 200).values(t)
	if len(rows) != 1 || rows[0]["type"] != float64(solution.TypeSecret) {
		t.Fatalf("test after import: %v", rows)
	}
}
