package emulator

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

// Holding solution + DeleteAndPromote: components the new version dropped
// are removed. The new version is the 1.0.23.0 content (without the custom
// connector 1.0.24.0 added) given a higher version online, as a team
// reverting a change would ship it.
func TestHoldingAndDeleteAndPromoteDropsRemovedComponents(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"dev", "dev2", "test"}, Seeds: map[string][]string{
		"dev":  {fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")},
		"dev2": {fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip")},
	}})
	v24 := exportZip(t, base, "dev", "PL400Demos", true)
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(v24, nil)), 204)
	sol := solutionRow(t, base, "test", "PL400Demos")
	if n := countRows(t, base, "test", "solutioncomponents?$filter=componenttype eq 372"); n != 1 {
		t.Fatalf("1.0.24.0 should install its custom connector component: %d", n)
	}
	dev2 := solutionRow(t, base, "dev2", "PL400Demos")
	must(t, call(t, "PATCH", api(base, "dev2")+"solutions("+dev2["solutionid"].(string)+")", map[string]any{"version": "1.0.25.0"}), 204)
	v25 := exportZip(t, base, "dev2", "PL400Demos", true)

	// Promote without a holding solution is refused.
	a := must(t, call(t, "POST", api(base, "test")+"DeleteAndPromote", map[string]any{"UniqueName": "PL400Demos"}), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "doesn't have an upgrade") {
		t.Errorf("promote without holding: %s", msg)
	}
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(v25, map[string]any{"HoldingSolution": true})), 204)
	if solutionRow(t, base, "test", "PL400Demos_Upgrade") == nil {
		t.Fatal("no holding solution PL400Demos_Upgrade")
	}
	a = must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(v25, map[string]any{"HoldingSolution": true})), 400)
	if code, _ := a.errorCode(t); code != "0x80048539" {
		t.Errorf("second holding import: code %s", code)
	}
	a = must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(v25, nil)), 400)
	if _, msg := a.errorCode(t); !strings.Contains(msg, "upgrade pending") {
		t.Errorf("plain import with a pending upgrade: %s", msg)
	}
	if n := countRows(t, base, "test", "solutioncomponents?$filter=componenttype eq 372"); n != 1 {
		t.Fatalf("the holding import must not drop anything yet: %d", n)
	}
	got := must(t, call(t, "POST", api(base, "test")+"DeleteAndPromote", map[string]any{"UniqueName": "PL400Demos"}), 200).json(t)
	if got["SolutionId"] == "" || got["SolutionId"] == sol["solutionid"] {
		t.Errorf("DeleteAndPromote SolutionId = %v", got["SolutionId"])
	}
	row := solutionRow(t, base, "test", "PL400Demos")
	if row == nil || row["version"] != "1.0.25.0" || solutionRow(t, base, "test", "PL400Demos_Upgrade") != nil {
		t.Fatalf("after promote: %v", row)
	}
	if n := countRows(t, base, "test", "solutioncomponents?$filter=componenttype eq 372"); n != 0 {
		t.Errorf("the custom connector dropped by the new version is still a component: %d", n)
	}
	if n := countRows(t, base, "test", "workflows?$select=workflowid"); n != 2 {
		t.Errorf("kept workflows: %d, want 2", n)
	}
}

// dropWorkflow removes one process from a solution zip (its customizations
// entry and its file) and sets the version, as the next release that
// deleted it would ship.
func dropWorkflow(t *testing.T, data []byte, id, version string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	wfRe := regexp.MustCompile(`(?is)<Workflow WorkflowId="\{` + id + `\}".*?</Workflow>`)
	verRe := regexp.MustCompile(`<Version>[^<]*</Version>`)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if strings.Contains(strings.ToLower(f.Name), strings.ToLower(id)) {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch f.Name {
		case "customizations.xml":
			if !wfRe.Match(b) {
				t.Fatalf("workflow %s not in customizations.xml", id)
			}
			b = wfRe.ReplaceAll(b, nil)
		case "solution.xml":
			b = verRe.ReplaceAll(b, []byte("<Version>"+version+"</Version>"))
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

// StageAndUpgradeAsync applies the upgrade in one operation after the
// configured polls, and removes the flow the new version dropped.
func TestStageAndUpgradeAsyncRemovesDroppedFlow(t *testing.T) {
	_, base := server(t, Options{Environments: []string{"test"}, AsyncPolls: 3})
	v1 := fixture(t, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	must(t, call(t, "POST", api(base, "test")+"ImportSolution", importBody(v1, nil)), 204)
	sol, err := solution.Read(v1)
	if err != nil {
		t.Fatal(err)
	}
	children := map[string]bool{}
	for _, f := range sol.Flows {
		for _, c := range f.ChildFlows {
			children[c] = true
		}
	}
	var drop solution.Flow
	for _, f := range sol.CloudFlows() {
		if !children[f.ID] {
			drop = f
			break
		}
	}
	v2 := dropWorkflow(t, v1, drop.ID, "1.1.12.0")
	got := must(t, call(t, "POST", api(base, "test")+"StageAndUpgradeAsync", importBody(v2, nil)), 200).json(t)
	opID, jobID := got["AsyncOperationId"].(string), got["ImportJobKey"].(string)
	var states []string
	for i := 0; i < 5; i++ {
		op := must(t, call(t, "GET", api(base, "test")+"asyncoperations("+opID+")?$select=statecode,statuscode,completedon", nil), 200).json(t)
		states = append(states, fmt.Sprintf("%v/%v", op["statecode"], op["statuscode"]))
	}
	if want := "2/20 2/20 2/20 3/30 3/30"; strings.Join(states, " ") != want {
		t.Errorf("async states %v, want %s", states, want)
	}
	job := must(t, call(t, "GET", api(base, "test")+"importjobs("+jobID+")?$select=progress,completedon", nil), 200).json(t)
	if job["progress"] != 100.0 {
		t.Errorf("import job after completion: %v", job)
	}
	if row := solutionRow(t, base, "test", "FabrikamEnvironmental"); row["version"] != "1.1.12.0" || solutionRow(t, base, "test", "FabrikamEnvironmental_Upgrade") != nil {
		t.Errorf("after stage and upgrade: %v", row)
	}
	if a := call(t, "GET", api(base, "test")+"workflows("+drop.ID+")", nil); a.status != 404 {
		t.Errorf("dropped flow %s still exists: %d", drop.Name, a.status)
	}
	if n := countRows(t, base, "test", "workflows?$select=workflowid"); n != len(sol.Flows)-1 {
		t.Errorf("%d workflows left, want %d", n, len(sol.Flows)-1)
	}
}
