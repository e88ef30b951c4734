package dataverse

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// AsyncOperation is a row of asyncoperations (a system job).
type AsyncOperation struct {
	ID              string `json:"asyncoperationid"`
	Name            string `json:"name"`
	OperationType   int    `json:"operationtype"`
	StateCode       int    `json:"statecode"`
	StatusCode      int    `json:"statuscode"`
	Message         string `json:"message"`
	FriendlyMessage string `json:"friendlymessage"`
	CreatedOn       string `json:"createdon"`
	CompletedOn     string `json:"completedon"`
	OwnerID         string `json:"_ownerid_value"`
}

// Async operation states and statuses (asyncoperation.statecode/statuscode).
const (
	AsyncStateCompleted   = 3
	AsyncStatusSucceeded  = 30
	AsyncStatusFailed     = 31
	AsyncStatusCanceled   = 32
	asyncNotFoundTolerate = 3 // transient 404s tolerated right after creation
)

// Operation types of the solution system jobs (asyncoperation.operationtype,
// the System Job table reference): the row is written when the action is
// submitted, before the job does anything.
const (
	OperationExportSolution    = 202
	OperationImportSolution    = 203
	OperationDeleteAndPromote  = 207
	OperationUninstallSolution = 208
	OperationStageAndUpgrade   = 211
)

// solutionOperations are the operation types that change solutions; the
// platform runs one at a time, so a new one waits for these.
var solutionOperations = []int{OperationImportSolution, OperationStageAndUpgrade, OperationDeleteAndPromote, OperationUninstallSolution}

const asyncOperationColumns = "asyncoperationid,name,operationtype,statecode,statuscode,message,friendlymessage,createdon,completedon,_ownerid_value"

// Done reports whether the operation reached a terminal state.
func (a *AsyncOperation) Done() bool { return a.StateCode == AsyncStateCompleted }

// Succeeded reports whether the operation finished successfully.
func (a *AsyncOperation) Succeeded() bool {
	return a.Done() && a.StatusCode == AsyncStatusSucceeded
}

func (a *AsyncOperation) failure() string {
	msg := a.FriendlyMessage
	if msg == "" {
		msg = a.Message
	}
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("status %d: %s", a.StatusCode, msg)
}

// GetAsyncOperation reads one async operation.
func (c *Client) GetAsyncOperation(ctx context.Context, id string) (*AsyncOperation, error) {
	var op AsyncOperation
	if err := c.getJSON(ctx, c.api("asyncoperations("+id+")", "$select", asyncOperationColumns), &op); err != nil {
		return nil, fmt.Errorf("read async operation %s: %w", id, err)
	}
	return &op, nil
}

// odataTime is an Edm.DateTimeOffset literal.
func odataTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func typeFilter(types []int) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("operationtype eq %d", t)
	}
	return "(" + strings.Join(parts, " or ") + ")"
}

// SolutionOperations lists the system jobs of the given operation types
// created at or after since (by the service's clock), oldest first.
func (c *Client) SolutionOperations(ctx context.Context, since time.Time, types ...int) ([]AsyncOperation, error) {
	ops, err := list[AsyncOperation](ctx, c, c.api("asyncoperations", "$select", asyncOperationColumns,
		"$filter", typeFilter(types)+" and createdon ge "+odataTime(since), "$orderby", "createdon asc"))
	if err != nil {
		return nil, fmt.Errorf("list system jobs since %s: %w", odataTime(since), err)
	}
	return ops, nil
}

// PendingSolutionOperations lists the imports, upgrades, promotions and
// uninstalls the environment has not finished.
func (c *Client) PendingSolutionOperations(ctx context.Context) ([]AsyncOperation, error) {
	ops, err := list[AsyncOperation](ctx, c, c.api("asyncoperations", "$select", asyncOperationColumns,
		"$filter", typeFilter(solutionOperations)+" and statecode ne 3", "$orderby", "createdon asc"))
	if err != nil {
		return nil, fmt.Errorf("list unfinished solution system jobs in %s: %w", c.envURL.Host, err)
	}
	return ops, nil
}

// WaitSolutionOperations waits until no import, upgrade, promotion or
// uninstall runs in the environment, so a new one never races one that a
// previous (or parallel) run left going; waiting tells whom it waits for.
// Their outcome is not an error here: the caller decides afresh after.
func (c *Client) WaitSolutionOperations(ctx context.Context, waiting func(AsyncOperation)) error {
	pending, err := c.PendingSolutionOperations(ctx)
	if err != nil {
		return err
	}
	for _, op := range pending {
		if waiting != nil {
			waiting(op)
		}
		if _, err := c.WaitAsyncOperation(ctx, op.ID, nil); err != nil {
			var we *WaitError
			if ctx.Err() != nil || errors.As(err, &we) {
				return fmt.Errorf("wait for system job %s (%s, submitted %s) in %s to finish: %w; if it is stuck, cancel it (the environment's System Jobs) and run again",
					op.ID, OperationName(op.OperationType), op.CreatedOn, c.envURL.Host, err)
			}
		}
	}
	return nil
}

// OperationName says what a solution operation type is, in words.
func OperationName(t int) string {
	switch t {
	case OperationExportSolution:
		return "export"
	case OperationImportSolution:
		return "import"
	case OperationDeleteAndPromote:
		return "upgrade promotion"
	case OperationUninstallSolution:
		return "uninstall"
	case OperationStageAndUpgrade:
		return "stage and upgrade"
	}
	return fmt.Sprintf("operation type %d", t)
}

// WaitError is an operation ppalm stopped waiting for: it may still run.
type WaitError struct {
	ID      string
	Waited  time.Duration
	LastErr error // the last poll's failure, nil if the last poll answered
}

func (e *WaitError) Error() string {
	msg := fmt.Sprintf("async operation %s: not complete after %s", e.ID, e.Waited)
	if e.LastErr != nil {
		msg += "; the last poll failed: " + e.LastErr.Error()
	}
	return msg
}

func (e *WaitError) Unwrap() error { return e.LastErr }

// transient reports whether a failed read may succeed if asked again
// later: throttling, a server error, a timeout or a dropped connection.
// A refusal (400, 401, 403, 404) is not.
func transient(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusRequestTimeout || ae.StatusCode >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// WaitAsyncOperation polls the operation until it completes, calling progress
// after every poll. It fails if the operation did not succeed, or with a
// *WaitError when the poll timeout passes. A poll that fails for a reason
// that passes (throttling, a server error, a dropped connection) does not
// end the wait: the operation runs on whatever the client sees, so the
// wait outlasts anything short of the poll timeout.
func (c *Client) WaitAsyncOperation(ctx context.Context, id string, progress func(AsyncOperation)) (*AsyncOperation, error) {
	deadline := c.now().Add(c.pollTimeout)
	wait := c.pollInterval
	var waited time.Duration
	notFound := 0
	var lastErr error
	for {
		op, err := c.GetAsyncOperation(ctx, id)
		switch {
		case err == nil:
			lastErr = nil
			if progress != nil {
				progress(*op)
			}
			if op.Done() {
				if !op.Succeeded() {
					return op, fmt.Errorf("async operation %s failed: %s", id, op.failure())
				}
				return op, nil
			}
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrNotFound) && notFound < asyncNotFoundTolerate:
			notFound++
		case transient(err):
			lastErr = err
			c.logf("polling async operation %s failed (%v); still waiting", id, err)
		default:
			return nil, err
		}
		// The summed waits bound the loop even when sleep and clock are fakes.
		if c.now().After(deadline) || waited >= c.pollTimeout {
			return nil, &WaitError{ID: id, Waited: c.pollTimeout, LastErr: lastErr}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
		wait = min(wait*3/2, c.pollMax)
	}
}

// submittedOperation finds the system job a non-idempotent request created
// although its answer was lost: the caller's own job of opType created
// since then. The row is written when the request is accepted, before the
// job starts, so it is looked for a few times over reconcileTimeout (a busy
// service may be slow to answer the list) and then taken as absent (nil).
// Jobs of other identities are never adopted; two of the caller's own are
// an error naming them rather than a guess.
func (c *Client) submittedOperation(ctx context.Context, opType int, since time.Time) (*AsyncOperation, error) {
	wait := max(c.pollInterval, time.Millisecond)
	var waited time.Duration
	var lastErr error
	me := ""
	for {
		ops, err := c.SolutionOperations(ctx, since, opType)
		if err == nil && len(ops) > 0 && me == "" {
			var who *WhoAmIResult
			if who, err = c.WhoAmI(ctx); err == nil {
				me = who.UserID
			}
		}
		var mine []AsyncOperation
		for _, op := range ops {
			if err == nil && strings.EqualFold(op.OwnerID, me) {
				mine = append(mine, op)
			}
		}
		switch {
		case err == nil && len(mine) == 1:
			return &mine[0], nil
		case err == nil && len(mine) > 1:
			ids := make([]string, len(mine))
			for i, op := range mine {
				ids[i] = op.ID + " (created " + op.CreatedOn + ")"
			}
			return nil, fmt.Errorf("%d %s system jobs of the deploying identity were submitted in %s since the request (%s): ppalm cannot tell which is its own",
				len(mine), OperationName(opType), c.envURL.Host, strings.Join(ids, ", "))
		case err == nil:
			lastErr = nil
		case ctx.Err() != nil || !transient(err):
			return nil, err
		default:
			lastErr = err
		}
		if waited >= c.reconcileTimeout {
			if lastErr != nil {
				return nil, fmt.Errorf("could not list the system jobs for %s: %w", c.reconcileTimeout, lastErr)
			}
			return nil, nil
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
		wait = min(wait*2, 30*time.Second)
	}
}

// ImportJob is a row of importjobs (without the large data column).
type ImportJob struct {
	ID           string  `json:"importjobid"`
	SolutionName string  `json:"solutionname"`
	Progress     float64 `json:"progress"`
	StartedOn    string  `json:"startedon"`
	CompletedOn  string  `json:"completedon"`
}

const importJobColumns = "importjobid,progress,startedon,completedon,solutionname"

// GetImportJob reads an import job's progress.
func (c *Client) GetImportJob(ctx context.Context, id string) (*ImportJob, error) {
	var j ImportJob
	if err := c.getJSON(ctx, c.api("importjobs("+id+")", "$select", importJobColumns), &j); err != nil {
		return nil, fmt.Errorf("read import job %s: %w", id, err)
	}
	return &j, nil
}

// ListImportJobs lists the import jobs of a solution.
func (c *Client) ListImportJobs(ctx context.Context, solutionName string) ([]ImportJob, error) {
	jobs, err := list[ImportJob](ctx, c, c.api("importjobs",
		"$select", importJobColumns, "$filter", "solutionname eq "+quote(solutionName)))
	if err != nil {
		return nil, fmt.Errorf("list import jobs of solution %q: %w", solutionName, err)
	}
	return jobs, nil
}

// ImportJobData returns the import job's XML log (importexportxml); it can
// be megabytes, so read it once, for a failure message or an artifact.
func (c *Client) ImportJobData(ctx context.Context, id string) (string, error) {
	var j struct {
		Data string `json:"data"`
	}
	if err := c.getJSON(ctx, c.api("importjobs("+id+")", "$select", "data"), &j); err != nil {
		return "", fmt.Errorf("read log of import job %s: %w", id, err)
	}
	return j.Data, nil
}

// SolutionOperationResult is the answer of RetrieveSolutionImportResult.
type SolutionOperationResult struct {
	Status          string            `json:"Status"`
	ErrorMessages   []json.RawMessage `json:"ErrorMessages"`
	WarningMessages []json.RawMessage `json:"WarningMessages"`
}

// Errors returns the error messages as text.
func (r *SolutionOperationResult) Errors() []string { return rawTexts(r.ErrorMessages) }

// Warnings returns the warning messages as text.
func (r *SolutionOperationResult) Warnings() []string { return rawTexts(r.WarningMessages) }

func rawTexts(raw []json.RawMessage) []string {
	out := make([]string, 0, len(raw))
	for _, m := range raw {
		var s string
		if json.Unmarshal(m, &s) == nil {
			out = append(out, s)
			continue
		}
		out = append(out, string(m))
	}
	return out
}

// RetrieveSolutionImportResult returns the structured result of an import job.
func (c *Client) RetrieveSolutionImportResult(ctx context.Context, importJobID string) (*SolutionOperationResult, error) {
	var out struct {
		Result SolutionOperationResult `json:"SolutionOperationResult"`
	}
	if err := c.getJSON(ctx, c.api("RetrieveSolutionImportResult(ImportJobId="+importJobID+")"), &out); err != nil {
		return nil, fmt.Errorf("retrieve result of import job %s: %w", importJobID, err)
	}
	return &out.Result, nil
}

// ComponentParameter is a connection reference or environment variable value
// applied during import (ImportSolution's ComponentParameters).
type ComponentParameter map[string]any

// ConnectionReferenceParameter binds a connection reference at import.
func ConnectionReferenceParameter(logicalName, connectorID, connectionID string) ComponentParameter {
	return ComponentParameter{
		"@odata.type":                    "Microsoft.Dynamics.CRM.connectionreference",
		"connectionreferencelogicalname": logicalName,
		"connectionreferencedisplayname": "",
		"description":                    "",
		"connectorid":                    connectorID,
		"connectionid":                   connectionID,
	}
}

// EnvironmentVariableParameter sets an environment variable value at import.
func EnvironmentVariableParameter(schemaName, value string) ComponentParameter {
	return ComponentParameter{
		"@odata.type": "Microsoft.Dynamics.CRM.environmentvariablevalue",
		"schemaname":  schemaName,
		"value":       value,
	}
}

// ImportRequest is one solution import.
type ImportRequest struct {
	// Zip is the solution file.
	Zip []byte
	// SolutionName is the unique name inside Zip; read from solution.xml
	// when empty. Used to find the import job after an ambiguous failure.
	SolutionName                     string
	OverwriteUnmanagedCustomizations bool
	PublishWorkflows                 bool
	// HoldingSolution imports as {name}_Upgrade (finish with DeleteAndPromote).
	HoldingSolution               bool
	SkipProductUpdateDependencies bool
	// ConvertToManaged asks a managed import to take over matching
	// unmanaged components (documented as obsolete: the service does it
	// anyway; the Accelerator's delete pipeline still sends it).
	ConvertToManaged    bool
	ComponentParameters []ComponentParameter
	// Progress, if set, is called after each poll.
	Progress func(ImportProgress)
}

// ImportProgress is reported while an import runs.
type ImportProgress struct {
	ImportJobID string
	Percent     float64 // importjobs.progress, 0-100
	StateCode   int     // of the async operation, when known
}

// ImportResult describes a finished, successful import.
type ImportResult struct {
	AsyncOperationID string // empty when the job was adopted after an ambiguous failure
	ImportJobID      string
	Result           *SolutionOperationResult
}

// ImportError is a failed import with the server's messages.
type ImportError struct {
	Solution    string
	ImportJobID string
	Status      string   // async operation failure, e.g. "status 31: ..."
	Messages    []string // RetrieveSolutionImportResult error messages
}

func (e *ImportError) Error() string {
	msg := e.Status
	for _, m := range e.Messages {
		if !strings.Contains(msg, m) {
			msg += "; " + m
		}
	}
	return fmt.Sprintf("import of solution %q failed (import job %s): %s", e.Solution, e.ImportJobID, msg)
}

// ImportSolution imports req.Zip with ImportSolutionAsync and waits for the
// import to finish.
func (c *Client) ImportSolution(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	return c.runImport(ctx, "ImportSolutionAsync", req)
}

// StageAndUpgrade imports a new version of a managed solution already in the
// environment and applies the upgrade in one step (StageAndUpgradeAsync), so
// components removed in the new version are removed.
func (c *Client) StageAndUpgrade(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	if req.HoldingSolution {
		return nil, fmt.Errorf("stage and upgrade: HoldingSolution cannot be combined with StageAndUpgrade")
	}
	return c.runImport(ctx, "StageAndUpgradeAsync", req)
}

type asyncImportAnswer struct {
	AsyncOperationID string `json:"AsyncOperationId"`
	ImportJobKey     string `json:"ImportJobKey"`
}

func (c *Client) runImport(ctx context.Context, action string, req ImportRequest) (*ImportResult, error) {
	name := req.SolutionName
	if name == "" {
		m, err := ReadManifest(req.Zip)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", action, err)
		}
		name = m.UniqueName
	}
	body, err := importBody(req)
	if err != nil {
		return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
	}
	opType := OperationImportSolution
	if action == "StageAndUpgradeAsync" {
		opType = OperationStageAndUpgrade
	}
	// The service's clock before the request: the system job it creates
	// is the one of opType created since (the id cannot be chosen up front).
	since, err := c.serverNow(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
	}
	ans, err := c.submitSystemJob(ctx, action, opType, body, since)
	if err != nil {
		return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
	}
	if ans.AsyncOperationID == "" {
		// waitImport follows the system job; the import job alone is not enough.
		return nil, fmt.Errorf("%s of solution %q: answer lacks AsyncOperationId", action, name)
	}
	return c.waitImport(ctx, name, since, ans, req.Progress)
}

// importBody builds the JSON body. The base64 zip needs no JSON escaping, so
// it is written straight into the buffer instead of through json.Marshal,
// which would copy and scan megabytes twice.
func importBody(req ImportRequest) ([]byte, error) {
	if len(req.Zip) == 0 {
		return nil, fmt.Errorf("no solution file to import")
	}
	fields := map[string]any{
		"OverwriteUnmanagedCustomizations": req.OverwriteUnmanagedCustomizations,
		"PublishWorkflows":                 req.PublishWorkflows,
		"SkipProductUpdateDependencies":    req.SkipProductUpdateDependencies,
	}
	if req.HoldingSolution {
		fields["HoldingSolution"] = true
	}
	if req.ConvertToManaged {
		fields["ConvertToManaged"] = true
	}
	if len(req.ComponentParameters) > 0 {
		fields["ComponentParameters"] = req.ComponentParameters
	}
	head, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	const key = `,"CustomizationFile":"`
	n := base64.StdEncoding.EncodedLen(len(req.Zip))
	body := make([]byte, 0, len(head)+len(key)+n+2)
	body = append(body, head[:len(head)-1]...) // without the closing brace
	body = append(body, key...)
	body = base64.StdEncoding.AppendEncode(body, req.Zip)
	body = append(body, '"', '}')
	return body, nil
}

// waitImport polls until the import finishes and turns a failure into an
// *ImportError with the server's messages. An adopted system job (its
// answer was lost) has no ImportJobKey: its import job, if the job got as
// far as creating one, is the solution's created since.
func (c *Client) waitImport(ctx context.Context, name string, since time.Time, ans asyncImportAnswer, progress func(ImportProgress)) (*ImportResult, error) {
	res := &ImportResult{AsyncOperationID: ans.AsyncOperationID, ImportJobID: ans.ImportJobKey}
	report := func(state int) {
		if progress == nil || res.ImportJobID == "" {
			return
		}
		if j, err := c.GetImportJob(ctx, res.ImportJobID); err == nil {
			progress(ImportProgress{ImportJobID: res.ImportJobID, Percent: j.Progress, StateCode: state})
		}
	}
	var failure string
	op, err := c.WaitAsyncOperation(ctx, ans.AsyncOperationID, func(op AsyncOperation) { report(op.StateCode) })
	var we *WaitError
	if err != nil && (ctx.Err() != nil || errors.As(err, &we)) {
		return nil, stoppedWaiting(c, name, res, err)
	}
	if err != nil && (op == nil || op.Succeeded()) {
		return nil, fmt.Errorf("import solution %q: %w", name, err)
	}
	if op != nil && !op.Succeeded() {
		failure = op.failure()
	}
	if res.ImportJobID == "" {
		if j, err := c.latestImportJob(ctx, name, since); err == nil && j != nil {
			res.ImportJobID = j.ID
		}
	}
	if res.ImportJobID == "" {
		if failure != "" {
			return nil, &ImportError{Solution: name, Status: failure + " (the system job ended before it created an import job)"}
		}
		return res, nil
	}
	result, err := c.RetrieveSolutionImportResult(ctx, res.ImportJobID)
	if err != nil && failure == "" && transient(err) {
		// The system job succeeded: the import is done whatever the
		// result's read says; only its warnings are lost.
		c.logf("import of %s succeeded (system job %s) but its result could not be read (%v): its warnings are not shown", name, res.AsyncOperationID, err)
		return res, nil
	}
	if err != nil {
		if failure != "" {
			if errors.Is(err, ErrNotFound) {
				failure += " (the system job ended before it created import job " + res.ImportJobID + ")"
			}
			return nil, &ImportError{Solution: name, ImportJobID: res.ImportJobID, Status: failure}
		}
		return nil, fmt.Errorf("import solution %q: %w", name, err)
	}
	res.Result = result
	if failure == "" && !strings.EqualFold(result.Status, "Failed") {
		return res, nil
	}
	if failure == "" {
		failure = "result " + result.Status
	}
	return nil, &ImportError{Solution: name, ImportJobID: res.ImportJobID, Status: failure, Messages: result.Errors()}
}

// latestImportJob returns the newest import job of a solution created
// since, or nil.
func (c *Client) latestImportJob(ctx context.Context, name string, since time.Time) (*ImportJob, error) {
	jobs, err := list[ImportJob](ctx, c, c.api("importjobs", "$select", importJobColumns,
		"$filter", "solutionname eq "+quote(name)+" and createdon ge "+odataTime(since), "$orderby", "createdon desc"))
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	return &jobs[0], nil
}

// stoppedWaiting is the error of an import ppalm stopped waiting for
// (interrupted, or out of time): the server goes on with it, and a second
// import started now would be refused or race it.
func stoppedWaiting(c *Client, name string, res *ImportResult, err error) error {
	var ids []string
	if res.AsyncOperationID != "" {
		ids = append(ids, "async operation "+res.AsyncOperationID)
	}
	if res.ImportJobID != "" {
		ids = append(ids, "import job "+res.ImportJobID)
	}
	return fmt.Errorf("import solution %q: stopped waiting (%w), but the import goes on in %s (%s): let it finish, or watch it in the maker portal's solution history, before importing again; a new run waits for it",
		name, err, c.envURL.String(), strings.Join(ids, ", "))
}

// DeleteAndPromote applies the upgrade staged as {uniqueName}_Upgrade
// (DeleteAndPromoteAsync) and waits for it.
func (c *Client) DeleteAndPromote(ctx context.Context, uniqueName string, progress func(AsyncOperation)) error {
	body, _ := json.Marshal(map[string]string{"UniqueName": uniqueName})
	if err := c.runSystemJob(ctx, "DeleteAndPromoteAsync", OperationDeleteAndPromote, body, progress); err != nil {
		return fmt.Errorf("promote solution %q: %w", uniqueName, err)
	}
	return nil
}

// UninstallSolution uninstalls a solution with UninstallSolutionAsync and
// waits for it: a managed solution's components go with it, which can take
// longer than any synchronous request may last.
func (c *Client) UninstallSolution(ctx context.Context, uniqueName string, progress func(AsyncOperation)) error {
	body, _ := json.Marshal(map[string]string{"SolutionUniqueName": uniqueName})
	if err := c.runSystemJob(ctx, "UninstallSolutionAsync", OperationUninstallSolution, body, progress); err != nil {
		return fmt.Errorf("uninstall solution %q: %w", uniqueName, err)
	}
	return nil
}

// runSystemJob submits an action answered {"AsyncOperationId"} and waits
// for the job (submitSystemJob says what happens when the answer is lost).
func (c *Client) runSystemJob(ctx context.Context, action string, opType int, body []byte, progress func(AsyncOperation)) error {
	since, err := c.serverNow(ctx)
	if err != nil {
		return err
	}
	ans, err := c.submitSystemJob(ctx, action, opType, body, since)
	if err != nil {
		return err
	}
	if ans.AsyncOperationID == "" {
		return fmt.Errorf("%s: answer lacks AsyncOperationId", action)
	}
	if _, err := c.WaitAsyncOperation(ctx, ans.AsyncOperationID, progress); err != nil {
		var we *WaitError
		if ctx.Err() != nil || errors.As(err, &we) {
			return fmt.Errorf("stopped waiting (%w), but %s goes on in %s (async operation %s): let it finish before trying again",
				err, action, c.envURL, ans.AsyncOperationID)
		}
		return err
	}
	return nil
}

// submitSystemJob POSTs an action that queues a system job of opType and
// returns its answer. After an ambiguous failure (the service may have run
// the request) it adopts the caller's job of opType created since, and
// sends again only when there is none, once: a solution operation queued
// twice would run twice.
func (c *Client) submitSystemJob(ctx context.Context, action string, opType int, body []byte, since time.Time) (asyncImportAnswer, error) {
	var ans asyncImportAnswer
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, request{method: "POST", url: c.api(action), body: body})
		if err == nil {
			return ans, decode(resp.body, &ans)
		}
		if !uncertain(err) {
			return ans, fmt.Errorf("not accepted, nothing runs: %w", err)
		}
		op, findErr := c.submittedOperation(ctx, opType, since)
		if findErr != nil {
			return ans, fmt.Errorf("%w; then looking for the system job it may have started: %w (check the system jobs and solution history of %s before trying again)", err, findErr, c.envURL)
		}
		if op != nil {
			c.logf("%s: the answer was lost, but the service queued it as system job %s: waiting for that one", action, op.ID)
			return asyncImportAnswer{AsyncOperationID: op.ID}, nil
		}
		if attempt >= 1 {
			return ans, fmt.Errorf("sent twice, both answers lost, and %s shows no system job from either after %s, so nothing runs: %w", c.envURL.Host, c.reconcileTimeout, err)
		}
		c.logf("%s: the answer was lost and %s shows no system job from it after %s: sending it again", action, c.envURL.Host, c.reconcileTimeout)
	}
}

// Manifest is what solution.xml says about a solution zip.
type Manifest struct {
	UniqueName string
	Version    string
	Managed    bool
}

// ReadManifest reads UniqueName, Version and Managed from the solution.xml
// of a solution zip.
func ReadManifest(zipData []byte) (*Manifest, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		return nil, fmt.Errorf("read solution zip: %w", err)
	}
	for _, f := range zr.File {
		if !strings.EqualFold(f.Name, "solution.xml") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("read solution zip: solution.xml: %w", err)
		}
		defer rc.Close()
		var doc struct {
			Manifest struct {
				UniqueName string `xml:"UniqueName"`
				Version    string `xml:"Version"`
				Managed    string `xml:"Managed"`
			} `xml:"SolutionManifest"`
		}
		if err := xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(&doc); err != nil {
			return nil, fmt.Errorf("read solution zip: solution.xml: %w", err)
		}
		m := doc.Manifest
		if m.UniqueName == "" {
			return nil, fmt.Errorf("read solution zip: solution.xml: ImportExportXml/SolutionManifest/UniqueName is empty; expected the solution's unique name")
		}
		return &Manifest{UniqueName: m.UniqueName, Version: m.Version, Managed: m.Managed == "1"}, nil
	}
	return nil, fmt.Errorf("read solution zip: no solution.xml at the root; expected a Dataverse solution export")
}
