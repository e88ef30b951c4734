package emulator

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

func pollDone(t *testing.T, base, env, opID string) map[string]any {
	t.Helper()
	for i := 0; i < 10; i++ {
		op := must(t, call(t, "GET", api(base, env)+"asyncoperations("+opID+")?$select=statecode,statuscode,message", nil), 200).json(t)
		if op["statecode"] == 3.0 {
			return op
		}
	}
	t.Fatalf("async operation %s never completed", opID)
	return nil
}

// Async export, staged import, a failing async import, component summaries
// and uninstall, end to end.
func TestAsyncExportStagedImportAndUninstall(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev", "test"}, AsyncPolls: 1,
		Seeds: map[string][]string{"dev": {fixtures.Path("followsites-small", "sharepoint-followsites.zip")}}})
	got := must(t, call(t, "POST", api(base, "dev")+"ExportSolutionAsync", map[string]any{"SolutionName": "FollowSites", "Managed": true}), 200).json(t)
	a := must(t, call(t, "POST", api(base, "dev")+"DownloadSolutionExportData", map[string]any{"ExportJobId": got["ExportJobId"]}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "not completed") {
		t.Errorf("download before completion: %s", msg)
	}
	if op := pollDone(t, base, "dev", got["AsyncOperationId"].(string)); op["statuscode"] != 30.0 {
		t.Fatalf("export operation %v", op)
	}
	dl := must(t, call(t, "POST", api(base, "dev")+"DownloadSolutionExportData", map[string]any{"ExportJobId": got["ExportJobId"]}), 200).json(t)
	zip, _ := base64.StdEncoding.DecodeString(dl["ExportSolutionFile"].(string))
	if sol, err := solution.Read(zip); err != nil || !sol.Managed {
		t.Fatalf("downloaded export: %v %v", err, sol)
	}

	staged := must(t, call(t, "POST", api(base, "test")+"StageSolution", map[string]any{"CustomizationFile": base64.StdEncoding.EncodeToString(zip)}), 200).json(t)
	res := staged["StageSolutionResults"].(map[string]any)
	if res["StageSolutionStatus"] != "Passed" || res["SolutionDetails"].(map[string]any)["IsManaged"] != true {
		t.Fatalf("StageSolution %v", res)
	}
	imp := must(t, call(t, "POST", api(base, "test")+"ImportSolutionAsync", map[string]any{"OverwriteUnmanagedCustomizations": true, "PublishWorkflows": true,
		"SolutionParameters": map[string]any{"StageSolutionUploadId": res["StageSolutionUploadId"]}}), 200).json(t)
	if op := pollDone(t, base, "test", imp["AsyncOperationId"].(string)); op["statuscode"] != 30.0 {
		t.Fatalf("staged import %v", op)
	}
	sol := solutionRow(t, base, "test", "FollowSites")
	if sol == nil || sol["ismanaged"] != true {
		t.Fatalf("staged import installed %v", sol)
	}

	// An unmanaged package over the managed install fails asynchronously.
	bad := must(t, call(t, "POST", api(base, "test")+"ImportSolutionAsync", importBody(fixture(t, "followsites-small", "sharepoint-followsites.zip"), nil)), 200).json(t)
	op := pollDone(t, base, "test", bad["AsyncOperationId"].(string))
	if op["statuscode"] != 31.0 || !strings.Contains(op["message"].(string), "managed") {
		t.Errorf("failed import operation %v", op)
	}
	r := must(t, call(t, "GET", api(base, "test")+"RetrieveSolutionImportResult(ImportJobId="+bad["ImportJobKey"].(string)+")", nil), 200).json(t)
	if r["SolutionOperationResult"].(map[string]any)["Status"] != "Failed" {
		t.Errorf("failed import result %v", r)
	}
	job := must(t, call(t, "GET", api(base, "test")+"importjobs("+bad["ImportJobKey"].(string)+")?$select=data", nil), 200).json(t)
	if !strings.Contains(job["data"].(string), `succeeded="failure"`) {
		t.Errorf("failed import job data %.200v", job["data"])
	}

	// Connection references through the component summaries and the
	// environment-specific component type.
	def := must(t, call(t, "GET", api(base, "test")+"solutioncomponentdefinitions?$select=solutioncomponenttype&$filter=primaryentityname eq 'connectionreference'", nil), 200).values(t)
	crType := int(def[0]["solutioncomponenttype"].(float64))
	sums := must(t, call(t, "GET", api(base, "test")+"msdyn_solutioncomponentsummaries?$filter=(msdyn_solutionid eq "+sol["solutionid"].(string)+") and (msdyn_componentlogicalname eq 'connectionreference')&$select=msdyn_objectid,msdyn_name,msdyn_componenttype", nil), 200).values(t)
	if len(sums) != 1 || int(sums[0]["msdyn_componenttype"].(float64)) != crType || sums[0]["msdyn_name"] != "alexmsft_SharePointConnectionFollowSites" {
		t.Errorf("summaries %v (connection reference type %d)", sums, crType)
	}
	must(t, call(t, "GET", api(base, "test")+"msdyn_solutioncomponentsummaries", nil), 400)

	un := must(t, call(t, "POST", api(base, "test")+"UninstallSolutionAsync", map[string]any{"SolutionUniqueName": "FollowSites"}), 200).json(t)
	pollDone(t, base, "test", un["AsyncOperationId"].(string))
	if solutionRow(t, base, "test", "FollowSites") != nil || countRows(t, base, "test", "workflows") != 0 || countRows(t, base, "test", "canvasapps") != 0 {
		t.Error("uninstalling the managed solution left its components")
	}
}
