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

// Operation types (asyncoperation.operationtype) of the solution actions,
// as the System Job table reference lists them.
const (
	opExportSolution   = 202
	opImportSolution   = 203
	opDeleteAndPromote = 207
	opUninstall        = 208
	opStageAndUpgrade  = 211
)

// asyncOp is a system job (an asyncoperations row). Submitting one writes
// the row, queued (0/0); the job starts at its first poll or after
// Options.JobTime, and only then does its work (an import creates its
// importjobs row then); it runs (2/20) for Options.AsyncPolls polls or
// Options.JobTime more and completes (3/30, or 3/31 with message).
type asyncOp struct {
	id          string
	action      string
	opType      int
	submitted   time.Time
	started     bool
	startedAt   time.Time
	seen        int
	failed      bool
	message     string
	importJobID string // reserved at submission, a row only once the job ran
	exportJobID string
	// work runs when the job starts; an error fails the job.
	work func(now time.Time) error
}

// submit queues a system job (op's action, operation type, work and job
// ids set): the asyncoperations row is written now, owned by the caller.
func (e *Emulator) submit(env *environment, op *asyncOp, who *caller) *asyncOp {
	now := e.now().UTC()
	op.id, op.submitted = newUUID(), now
	action, opType := op.action, op.opType
	env.ops[op.id] = op
	env.opOrder = append(env.opOrder, op.id)
	env.t("asyncoperations").put(record{
		"asyncoperationid": op.id, "name": action, "operationtype": opType, "statecode": 0, "statuscode": 0,
		"message": nil, "friendlymessage": nil, "createdon": now.Format(time.RFC3339), "startedon": nil, "completedon": nil,
		"correlationid": newUUID(), "_ownerid_value": who.effective.SystemUserID(env.name),
		"_createdby_value": who.effective.SystemUserID(env.name),
	})
	if e.polls == 0 {
		e.startJob(env, op, now)
	}
	return op
}

// jobTime is how long a job may stay queued, and then running, without
// being polled.
func (e *Emulator) jobTime() time.Duration {
	if e.opts.JobTime > 0 {
		return e.opts.JobTime
	}
	return 2 * time.Second
}

// startJob starts a queued job: a jobfail fault fails it before it starts
// (no work, no import job), else its work runs.
func (e *Emulator) startJob(env *environment, op *asyncOp, now time.Time) {
	op.started, op.startedAt = true, now
	row, _ := env.t("asyncoperations").get(op.id)
	row["statecode"], row["statuscode"], row["startedon"] = 2, 20, now.Format(time.RFC3339)
	if e.jobFault(op.action) {
		op.failed = true
		op.message = fmt.Sprintf("The system job %s failed before it started (emulator fault jobfail): nothing was done; submit it again.", op.action)
		e.complete(env, op, now)
		return
	}
	if op.work != nil {
		if err := op.work(now); err != nil {
			op.failed, op.message = true, err.Error()
		}
	}
	// The job's running time counts from when its work is done: a slow
	// import does not eat the polls it is meant to answer running.
	op.startedAt = e.now()
	if e.polls == 0 {
		e.complete(env, op, now)
	}
}

// startDue starts the queued jobs whose time has come and completes the
// running ones nobody polled, in submission order.
func (e *Emulator) startDue(env *environment, now time.Time) {
	for _, id := range env.opOrder {
		op := env.ops[id]
		row, ok := env.t("asyncoperations").get(id)
		if !ok || mustInt(row["statecode"]) == 3 {
			continue
		}
		switch {
		case !op.started && now.Sub(op.submitted) >= e.jobTime():
			e.startJob(env, op, now)
		case op.started && now.Sub(op.startedAt) >= e.jobTime():
			e.complete(env, op, now)
		}
	}
}

// touchAsync counts a poll of an asyncoperations or importjobs row; the
// first poll of a queued job starts it.
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
	if op == nil {
		return
	}
	if !op.started {
		e.startJob(env, op, now)
	}
	e.advance(env, op, now)
}

func (e *Emulator) advance(env *environment, op *asyncOp, now time.Time) {
	op.seen++
	row, ok := env.t("asyncoperations").get(op.id)
	if !ok || mustInt(row["statecode"]) == 3 {
		return
	}
	if op.seen <= e.polls && e.polls > 0 {
		if job, ok := env.t("importjobs").get(op.importJobID); ok {
			job["progress"] = float64(100*op.seen) / float64(e.polls+1)
		}
		return
	}
	e.complete(env, op, now)
}

// complete ends a job: 3/30, or 3/31 with its message.
func (e *Emulator) complete(env *environment, op *asyncOp, now time.Time) {
	row, ok := env.t("asyncoperations").get(op.id)
	if !ok || mustInt(row["statecode"]) == 3 {
		return
	}
	ts := now.Format(time.RFC3339)
	row["statecode"], row["statuscode"], row["completedon"] = 3, 30, ts
	if row["startedon"] == nil {
		row["startedon"] = ts
	}
	if op.failed {
		row["statuscode"], row["message"], row["friendlymessage"] = 31, op.message, op.message
	}
	if job, ok := env.t("importjobs").get(op.importJobID); ok {
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

// importParams are the import actions' parameters in the Web API
// reference; ImportJobId is among them for all four.
var importParams = []string{"ImportJobId", "CustomizationFile", "OverwriteUnmanagedCustomizations", "PublishWorkflows", "HoldingSolution",
	"ConvertToManaged", "SkipProductUpdateDependencies", "ComponentParameters", "SolutionParameters", "SkipQueueRibbonJob",
	"AsyncRibbonProcessing", "LayerDesiredOrder", "IsTemplateMode", "TemplateSuffix"}

var exportParams = []string{"SolutionName", "Managed", "TargetVersion", "ExportAutoNumberingSettings", "ExportCalendarSettings",
	"ExportCustomizationSettings", "ExportEmailTrackingSettings", "ExportGeneralSettings", "ExportMarketingSettings",
	"ExportOutlookSynchronizationSettings", "ExportRelationshipRoles", "ExportIsvConfig", "ExportSales",
	"ExportExternalApplications", "ExportComponentsParams"}

func (c *webCall) action(name string) bool {
	var err error
	switch name {
	case "ImportSolution", "StageAndUpgrade":
		err = c.importAction(name, false, importParams)
	case "ImportSolutionAsync", "StageAndUpgradeAsync":
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
	upgrade := strings.HasPrefix(name, "StageAndUpgrade")
	for _, req := range []string{"OverwriteUnmanagedCustomizations", "PublishWorkflows"} {
		v, present := body[req]
		if _, isBool := v.(bool); (present && !isBool) || (!present && upgrade) {
			// StageAndUpgrade's reference marks both Required; ImportSolution's
			// own samples leave them out (they default to false).
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
	o := importOptions{upgrade: upgrade, activate: true}
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
	// The import job id: the caller's ImportJobId on the synchronous
	// actions; the asynchronous ones accept the parameter ($metadata
	// declares it) but the service picks the job's id itself, which is why
	// Microsoft's ServiceClient strips it and clients read ImportJobKey.
	jobID := newUUID()
	if !async {
		if id := str(body["ImportJobId"]); id != "" {
			jobID = normID(id)
		}
	}
	e, env, who, userID := c.e, c.env, c.who, c.userID()
	run := func(now time.Time) error {
		sol, readErr := e.readSolution(zipData)
		var outcome *importOutcome
		var importErr error
		if readErr != nil {
			importErr = errf(http.StatusBadRequest, "0x80048060", "The import file is invalid: %v", readErr)
			outcome = &importOutcome{failed: true, errors: []string{importErr.Error()}, started: now, finished: now}
		} else {
			outcome, importErr = e.importSolution(env, sol, zipData, o, who)
			if importErr == nil {
				e.record(env, "import-solution", sol.UniqueName, sol.Version+" ("+name+")", who)
			}
		}
		ts := now.Format(time.RFC3339)
		job := record{"importjobid": jobID, "solutionname": outcome.solutionName, "progress": 100.0,
			"startedon": ts, "completedon": ts, "createdon": ts,
			"data": importJobData(outcome), "operationcontext": name, "_createdby_value": userID}
		if async {
			job["progress"], job["completedon"] = 0.0, nil
		}
		env.t("importjobs").put(job)
		env.outcomes[jobID] = outcome
		return importErr
	}
	if !async {
		if err := run(c.now); err != nil {
			return err
		}
		if name == "StageAndUpgrade" {
			writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.StageAndUpgradeResponse"})
			return nil
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	opType := opImportSolution
	if upgrade {
		opType = opStageAndUpgrade
	}
	op := e.submit(env, &asyncOp{action: name, opType: opType, importJobID: jobID, work: run}, who)
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
	if name == "ExportSolution" {
		data, err := c.e.exportSolution(c.env, sol, managed)
		if err != nil {
			return err
		}
		c.e.record(c.env, "export-solution", sol, fmt.Sprintf("managed=%v", managed), c.who)
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.ExportSolutionResponse",
			"ExportSolutionFile": base64.StdEncoding.EncodeToString(data)})
		return nil
	}
	if _, ok := c.env.solutionByName(sol); !ok {
		return errf(http.StatusNotFound, "0x8004F005", "The solution %s does not exist in this organization.", sol)
	}
	e, env, who := c.e, c.env, c.who
	exportJobID := newUUID()
	op := e.submit(env, &asyncOp{action: name, opType: opExportSolution, exportJobID: exportJobID, work: func(time.Time) error {
		data, err := e.exportSolution(env, sol, managed)
		if err != nil {
			return err
		}
		env.exports[exportJobID] = data
		e.record(env, "export-solution", sol, fmt.Sprintf("managed=%v", managed), who)
		return nil
	}}, who)
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.ExportSolutionAsyncResponse",
		"AsyncOperationId": op.id, "ExportJobId": exportJobID})
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
	e, env, who := c.e, c.env, c.who
	promote := func(now time.Time) (string, error) {
		id, err := e.promote(env, unique, now)
		if err == nil {
			e.record(env, "delete-and-promote", unique, "", who)
		}
		return id, err
	}
	if name == "DeleteAndPromote" {
		id, err := promote(c.now)
		if err != nil {
			return err
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.DeleteAndPromoteResponse", "SolutionId": id})
		return nil
	}
	op := e.submit(env, &asyncOp{action: name, opType: opDeleteAndPromote, work: func(now time.Time) error {
		_, err := promote(now)
		return err
	}}, who)
	writeJSON(c.w, http.StatusOK, map[string]any{"@odata.context": c.base + "/$metadata#Microsoft.Dynamics.CRM.DeleteAndPromoteAsyncResponse", "AsyncOperationId": op.id})
	return nil
}

func (c *webCall) uninstallAction() error {
	body, err := c.actionBody("UninstallSolutionAsync", "SolutionUniqueName")
	if err != nil {
		return err
	}
	name := str(body["SolutionUniqueName"])
	if _, ok := c.env.solutionByName(name); !ok {
		return errf(http.StatusNotFound, "0x8004F005", "The solution %s does not exist in this organization.", name)
	}
	e, env, who := c.e, c.env, c.who
	op := e.submit(env, &asyncOp{action: "UninstallSolutionAsync", opType: opUninstall, work: func(time.Time) error {
		row, ok := env.solutionByName(name)
		if !ok {
			return errf(http.StatusNotFound, "0x8004F005", "The solution %s does not exist in this organization.", name)
		}
		if _, pending := env.solutionByName(name + "_Upgrade"); pending {
			return errf(http.StatusBadRequest, "0x8004F00D", "Solution %s has an upgrade pending: apply or delete %s_Upgrade first.", name, name)
		}
		e.uninstall(env, row)
		e.record(env, "uninstall-solution", name, "", who)
		return nil
	}}, who)
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
