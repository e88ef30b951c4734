package emulator

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash/maphash"
	"net/http"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// asyncOp tracks an asyncoperations row: it stays queued/running for a
// number of polls, then completes with the outcome decided at submission.
type asyncOp struct {
	id          string
	seen        int
	failed      bool
	message     string
	importJobID string
	exportJobID string
}

// newAsync creates an asyncoperations row. The work is done at submission
// (so a client whose connection dropped finds it done); the row reveals
// the outcome after the configured number of polls.
func (e *Emulator) newAsync(env *environment, name string, who *caller, failure error) *asyncOp {
	now := e.now().UTC().Format(time.RFC3339)
	op := &asyncOp{id: newUUID()}
	if failure != nil {
		op.failed, op.message = true, failure.Error()
	}
	env.ops[op.id] = op
	env.t("asyncoperations").put(record{
		"asyncoperationid": op.id, "name": name, "operationtype": nil, "statecode": 0, "statuscode": 0,
		"message": nil, "friendlymessage": nil, "createdon": now, "startedon": nil, "completedon": nil,
		"correlationid": newUUID(), "_ownerid_value": who.effective.SystemUserID(env.name),
		"_createdby_value": who.effective.SystemUserID(env.name),
	})
	if e.polls == 0 {
		e.advance(env, op, e.now().UTC())
	}
	return op
}

// touchAsync counts a poll of an asyncoperations or importjobs row.
func (e *Emulator) touchAsync(env *environment, set, id string, now time.Time) {
	var op *asyncOp
	switch set {
	case "asyncoperations":
		op = env.ops[normID(id)]
	case "importjobs":
		for _, o := range env.ops {
			if o.importJobID == normID(id) {
				op = o
			}
		}
	}
	if op != nil {
		e.advance(env, op, now)
	}
}

func (e *Emulator) advance(env *environment, op *asyncOp, now time.Time) {
	op.seen++
	row, ok := env.t("asyncoperations").get(op.id)
	if !ok || mustInt(row["statecode"]) == 3 {
		return
	}
	ts := now.Format(time.RFC3339)
	job, hasJob := env.t("importjobs").get(op.importJobID)
	if op.seen <= e.polls && e.polls > 0 {
		row["statecode"], row["statuscode"], row["startedon"] = 2, 20, ts
		if hasJob {
			job["progress"] = float64(100*op.seen) / float64(e.polls+1)
		}
		return
	}
	row["statecode"], row["statuscode"], row["completedon"] = 3, 30, ts
	if row["startedon"] == nil {
		row["startedon"] = ts
	}
	if op.failed {
		row["statuscode"], row["message"], row["friendlymessage"] = 31, op.message, op.message
	}
	if hasJob {
		job["progress"], job["completedon"] = 100.0, ts
	}
}

// routeOperation serves unbound functions and actions.
func (c *webCall) routeOperation(seg segment) bool {
	get, post := c.r.Method == http.MethodGet, c.r.Method == http.MethodPost
	switch {
	case get && seg.name == "WhoAmI":
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"BusinessUnitId": c.env.rootBU, "UserId": c.userID(), "OrganizationId": c.env.orgID})
	case get && seg.name == "RetrieveCurrentOrganization":
		c.currentOrganization()
	case get && seg.name == "RetrieveSolutionImportResult":
		c.importResult(c.functionArgs(seg.args)["ImportJobId"])
	case post && seg.name == "PublishAllXml", post && seg.name == "PublishXml":
		c.w.WriteHeader(http.StatusNoContent)
	case post && !seg.hasArgs:
		return c.action(seg.name)
	default:
		return false
	}
	return true
}

func (c *webCall) currentOrganization() {
	url := requestBase(c.r) + "/" + c.env.name + "/"
	writeJSON(c.w, http.StatusOK, map[string]any{
		"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.RetrieveCurrentOrganizationResponse",
		"Detail": map[string]any{
			"OrganizationId": c.env.orgID, "FriendlyName": "Contoso " + c.env.name, "OrganizationVersion": "9.2.25013.00000",
			"EnvironmentId": c.env.id, "DatacenterId": nameUUID("datacenter"), "Geo": "NA", "TenantId": TenantID,
			"UrlName": strings.ToLower(c.env.name), "UniqueName": "contoso" + strings.ToLower(c.env.name), "State": "Enabled",
			"Endpoints": map[string]any{"Count": 3, "IsReadOnly": false,
				"Keys":   []string{"WebApplication", "OrganizationService", "OrganizationDataService"},
				"Values": []string{url, url + "XRMServices/2011/Organization.svc", url + "XRMServices/2011/OrganizationData.svc"}},
		},
	})
}

// actionBody decodes an action's parameters, refusing parameters the
// action does not have (as the OData service does).
func (c *webCall) actionBody(action string, allowed ...string) (map[string]any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	for k := range body {
		if strings.HasPrefix(k, "@") {
			continue
		}
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
			}
		}
		if !ok {
			return nil, errf(http.StatusBadRequest, "0x80060888", "The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", k, action)
		}
	}
	return body, nil
}

var importParams = []string{"CustomizationFile", "OverwriteUnmanagedCustomizations", "PublishWorkflows", "HoldingSolution",
	"ConvertToManaged", "SkipProductUpdateDependencies", "ComponentParameters", "SolutionParameters", "SkipQueueRibbonJob",
	"AsyncRibbonProcessing", "LayerDesiredOrder", "IsTemplateMode", "TemplateSuffix"}

var exportParams = []string{"SolutionName", "Managed", "TargetVersion", "ExportAutoNumberingSettings", "ExportCalendarSettings",
	"ExportCustomizationSettings", "ExportEmailTrackingSettings", "ExportGeneralSettings", "ExportMarketingSettings",
	"ExportOutlookSynchronizationSettings", "ExportRelationshipRoles", "ExportIsvConfig", "ExportSales",
	"ExportExternalApplications", "ExportComponentsParams"}

func (c *webCall) action(name string) bool {
	var err error
	switch name {
	case "ImportSolution":
		err = c.importAction(name, false, append([]string{"ImportJobId"}, importParams...))
	case "ImportSolutionAsync":
		err = c.importAction(name, true, importParams)
	case "StageAndUpgrade":
		err = c.importAction(name, false, importParams)
	case "StageAndUpgradeAsync":
		err = c.importAction(name, true, importParams)
	case "StageSolution":
		err = c.stageSolution()
	case "ExportSolution", "ExportSolutionAsync":
		err = c.exportAction(name)
	case "DownloadSolutionExportData":
		err = c.downloadExport()
	case "DeleteAndPromote", "DeleteAndPromoteAsync":
		err = c.deleteAndPromote(name)
	case "GrantAccess":
		err = c.grantAccess()
	case "UninstallSolutionAsync":
		err = c.uninstallAction()
	default:
		return false
	}
	if err != nil {
		writeAPIError(c.w, err)
	}
	return true
}

func (c *webCall) importAction(name string, async bool, allowed []string) error {
	body, err := c.actionBody(name, allowed...)
	if err != nil {
		return err
	}
	for _, req := range []string{"OverwriteUnmanagedCustomizations", "PublishWorkflows"} {
		if _, ok := body[req].(bool); !ok {
			return errf(http.StatusBadRequest, "0x80040203", "%s: required parameter %s is missing or not a Boolean", name, req)
		}
	}
	var zipData []byte
	if sp, ok := body["SolutionParameters"].(map[string]any); ok && str(sp["StageSolutionUploadId"]) != "" {
		id := normID(str(sp["StageSolutionUploadId"]))
		if zipData, ok = c.env.staged[id]; !ok {
			return errf(http.StatusBadRequest, "0x80040203", "%s: SolutionParameters.StageSolutionUploadId %s is not a staged upload of this environment", name, id)
		}
	} else {
		if body["CustomizationFile"] == nil || body["CustomizationFile"] == "" {
			return errf(http.StatusBadRequest, "0x80040203", "%s: CustomizationFile is missing: expected the base64 solution zip (or SolutionParameters.StageSolutionUploadId)", name)
		}
		if zipData, err = bodyBase64(body["CustomizationFile"]); err != nil {
			return errf(http.StatusBadRequest, "0x80040203", "%s: CustomizationFile is not base64: %v", name, err)
		}
	}
	o := importOptions{upgrade: strings.HasPrefix(name, "StageAndUpgrade"), activate: true}
	o.holding, _ = body["HoldingSolution"].(bool)
	if o.holding && o.upgrade {
		return errf(http.StatusBadRequest, "0x80040203", "%s: HoldingSolution cannot be combined with StageAndUpgrade", name)
	}
	if list, ok := body["ComponentParameters"].([]any); ok {
		for i, p := range list {
			m, ok := p.(map[string]any)
			if !ok {
				return errf(http.StatusBadRequest, "0x80040203", "%s: ComponentParameters[%d] is not an object", name, i)
			}
			o.params = append(o.params, m)
		}
	}
	jobID := newUUID()
	if !async {
		if id := str(body["ImportJobId"]); id != "" {
			jobID = normID(id)
		}
	}
	start := c.now
	sol, readErr := c.e.readSolution(zipData)
	var outcome *importOutcome
	var importErr error
	if readErr != nil {
		importErr = errf(http.StatusBadRequest, "0x80048060", "The import file is invalid: %v", readErr)
		outcome = &importOutcome{failed: true, errors: []string{importErr.Error()}, started: start, finished: start}
	} else {
		outcome, importErr = c.e.importSolution(c.env, sol, zipData, o, c.who)
		if importErr == nil {
			c.e.record(c.env, "import-solution", sol.UniqueName, sol.Version, c.who)
		}
	}
	job := record{"importjobid": jobID, "solutionname": outcome.solutionName, "progress": 100.0,
		"startedon": start.Format(time.RFC3339), "completedon": start.Format(time.RFC3339), "createdon": start.Format(time.RFC3339),
		"data": importJobData(outcome), "operationcontext": name, "_createdby_value": c.userID()}
	c.env.t("importjobs").put(job)
	c.env.outcomes[jobID] = outcome
	if !async {
		if importErr != nil {
			return importErr
		}
		if name == "StageAndUpgrade" {
			writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.StageAndUpgradeResponse"})
			return nil
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	job["progress"], job["completedon"] = 0.0, nil
	op := c.e.newAsync(c.env, name, c.who, importErr)
	op.importJobID = jobID
	if row, _ := c.env.t("asyncoperations").get(op.id); mustInt(row["statecode"]) == 3 {
		job["progress"], job["completedon"] = 100.0, row["completedon"]
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM." + name + "Response",
		"AsyncOperationId": op.id, "ImportJobKey": jobID})
	return nil
}

func (c *webCall) importResult(jobID string) {
	out, ok := c.env.outcomes[normID(jobID)]
	if !ok {
		writeError(c.w, http.StatusNotFound, "0x80040217", fmt.Sprintf("importjob With Id = %s Does Not Exist", jobID))
		return
	}
	status := "Passed"
	if out.failed {
		status = "Failed"
	}
	res := map[string]any{"Status": status, "ErrorMessages": nonNil(out.errors), "WarningMessages": nonNil(out.warnings), "ActionLink": nil}
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.RetrieveSolutionImportResultResponse",
		"SolutionOperationResult": res})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&quot;")
}

// importJobData renders the importjob data XML like the service's: a root
// importexportxml with succeeded/status and one result per component.
func importJobData(o *importOutcome) string {
	succeeded, status := "success", "Succeeded"
	if o.failed {
		succeeded, status = "failure", "Failed"
	}
	ticks := func(t time.Time) int64 { return t.UnixNano()/100 + 621355968000000000 }
	res := func(result, text string) string {
		code := "0"
		if result == "failure" {
			code = "0x80048060"
		}
		return fmt.Sprintf(`<result result="%s" errorcode="%s" errortext="%s" datetime="%s" datetimeticks="%d" />`,
			result, code, xmlAttr(text), o.finished.Format("15:04:05.00"), ticks(o.finished))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<importexportxml start="%d" stop="%d" progress="100" processed="true" succeeded="%s" status="%s" solutionname="%s" version="%s" managed="%v">`,
		ticks(o.started), ticks(o.finished), succeeded, status, xmlAttr(o.solutionName), xmlAttr(o.version), o.managed)
	manifestResult, manifestText := "success", ""
	if o.failed {
		manifestResult, manifestText = "failure", strings.Join(o.errors, "; ")
	}
	fmt.Fprintf(&b, `<solutionManifests><solutionManifest languagecode="1033" id="%s" version="%s" SolutionPackageVersion="9.2">%s</solutionManifest></solutionManifests>`,
		xmlAttr(o.solutionName), xmlAttr(o.version), res(manifestResult, manifestText))
	sections := []struct{ section, kind string }{{"entities", "entity"}, {"workflows", "workflow"}, {"canvasapps", "canvasapp"},
		{"connectionreferences", "connectionreference"}, {"environmentvariabledefinitions", "environmentvariabledefinition"}}
	for _, s := range sections {
		fmt.Fprintf(&b, "<%s>", s.section)
		for _, c := range o.components {
			if c.section == s.section {
				fmt.Fprintf(&b, `<%s id="%s" name="%s" processed="true">%s</%s>`, c.kind, xmlAttr(c.id), xmlAttr(c.name), res(c.result, c.text), c.kind)
			}
		}
		fmt.Fprintf(&b, "</%s>", s.section)
	}
	b.WriteString("</importexportxml>")
	return b.String()
}

func (c *webCall) stageSolution() error {
	body, err := c.actionBody("StageSolution", "CustomizationFile")
	if err != nil {
		return err
	}
	data, err := bodyBase64(body["CustomizationFile"])
	if err != nil || len(data) == 0 {
		return errf(http.StatusBadRequest, "0x80040203", "StageSolution: CustomizationFile is missing or not base64")
	}
	id := newUUID()
	results := map[string]any{"StageSolutionUploadId": id, "MissingDependencies": []any{}, "SolutionComponentsDetails": []any{}}
	sol, err := c.e.readSolution(data)
	if err != nil {
		results["StageSolutionStatus"] = "Failed"
		results["SolutionValidationResults"] = []any{map[string]any{"SolutionValidationResultType": "Error", "ErrorCode": 0, "Message": err.Error(), "AdditionalInfo": ""}}
	} else {
		c.env.staged[id] = data
		results["StageSolutionStatus"] = "Passed"
		results["SolutionValidationResults"] = []any{}
		results["SolutionDetails"] = map[string]any{"SolutionUniqueName": sol.UniqueName, "SolutionFriendlyName": sol.FriendlyName,
			"SolutionVersion": sol.Version, "IsManaged": sol.Managed}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.StageSolutionResponse",
		"StageSolutionResults": results})
	return nil
}

func (c *webCall) exportAction(name string) error {
	body, err := c.actionBody(name, exportParams...)
	if err != nil {
		return err
	}
	sol := str(body["SolutionName"])
	if sol == "" {
		return errf(http.StatusBadRequest, "0x80040203", "%s: required parameter SolutionName is missing", name)
	}
	managed, _ := body["Managed"].(bool)
	if _, ok := body["Managed"].(bool); !ok {
		return errf(http.StatusBadRequest, "0x80040203", "%s: required parameter Managed is missing or not a Boolean", name)
	}
	data, err := c.e.exportSolution(c.env, sol, managed)
	if name == "ExportSolution" {
		if err != nil {
			return err
		}
		c.e.record(c.env, "export-solution", sol, fmt.Sprintf("managed=%v", managed), c.who)
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.ExportSolutionResponse",
			"ExportSolutionFile": base64.StdEncoding.EncodeToString(data)})
		return nil
	}
	if a, ok := err.(*apiError); ok && a.status == http.StatusNotFound {
		return err
	}
	op := c.e.newAsync(c.env, name, c.who, err)
	op.exportJobID = newUUID()
	if err == nil {
		c.env.exports[op.exportJobID] = data
		c.e.record(c.env, "export-solution", sol, fmt.Sprintf("managed=%v", managed), c.who)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.ExportSolutionAsyncResponse",
		"AsyncOperationId": op.id, "ExportJobId": op.exportJobID})
	return nil
}

func (c *webCall) downloadExport() error {
	body, err := c.actionBody("DownloadSolutionExportData", "ExportJobId")
	if err != nil {
		return err
	}
	id := normID(str(body["ExportJobId"]))
	for _, op := range c.env.ops {
		if op.exportJobID != id {
			continue
		}
		row, _ := c.env.t("asyncoperations").get(op.id)
		if mustInt(row["statecode"]) != 3 {
			return errf(http.StatusBadRequest, "0x80040203", "Export job %s has not completed yet: poll asyncoperations(%s) until statecode 3", id, op.id)
		}
		data, ok := c.env.exports[id]
		if !ok {
			return errf(http.StatusBadRequest, "0x80040203", "Export job %s failed: %s", id, op.message)
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.DownloadSolutionExportDataResponse",
			"ExportSolutionFile": base64.StdEncoding.EncodeToString(data)})
		return nil
	}
	return errf(http.StatusNotFound, "0x80040217", "Export job %s Does Not Exist", id)
}

func (c *webCall) deleteAndPromote(name string) error {
	body, err := c.actionBody(name, "UniqueName")
	if err != nil {
		return err
	}
	unique := str(body["UniqueName"])
	id, err := c.e.promote(c.env, unique, c.now)
	if err == nil {
		c.e.record(c.env, "delete-and-promote", unique, "", c.who)
	}
	if name == "DeleteAndPromote" {
		if err != nil {
			return err
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.DeleteAndPromoteResponse", "SolutionId": id})
		return nil
	}
	op := c.e.newAsync(c.env, name, c.who, err)
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.DeleteAndPromoteAsyncResponse", "AsyncOperationId": op.id})
	return nil
}

func (c *webCall) uninstallAction() error {
	body, err := c.actionBody("UninstallSolutionAsync", "SolutionUniqueName")
	if err != nil {
		return err
	}
	name := str(body["SolutionUniqueName"])
	row, ok := c.env.solutionByName(name)
	if !ok {
		return errf(http.StatusNotFound, "0x8004F005", "The solution %s does not exist in this organization.", name)
	}
	c.e.uninstall(c.env, row)
	c.e.record(c.env, "uninstall-solution", name, "", c.who)
	op := c.e.newAsync(c.env, "UninstallSolutionAsync", c.who, nil)
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.UninstallSolutionAsyncResponse", "AsyncOperationId": op.id})
	return nil
}

// readSolution parses a solution zip, reusing the model of a zip seen
// before (models are never modified after reading): pipelines and tests
// import the same package into several environments.
func (e *Emulator) readSolution(data []byte) (*solution.Solution, error) {
	sum := maphash.Bytes(e.hashSeed, data)
	if sol, ok := e.parsed[sum]; ok {
		return sol, nil
	}
	sol, err := solution.Read(data)
	if err != nil {
		return nil, err
	}
	if len(e.parsed) >= 32 {
		clear(e.parsed)
	}
	e.parsed[sum] = sol
	return sol, nil
}
