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
	"strings"
	"time"
)

// AsyncOperation is a row of asyncoperations.
type AsyncOperation struct {
	ID              string `json:"asyncoperationid"`
	StateCode       int    `json:"statecode"`
	StatusCode      int    `json:"statuscode"`
	Message         string `json:"message"`
	FriendlyMessage string `json:"friendlymessage"`
	CompletedOn     string `json:"completedon"`
}

// Async operation states and statuses (asyncoperation.statecode/statuscode).
const (
	AsyncStateCompleted   = 3
	AsyncStatusSucceeded  = 30
	AsyncStatusFailed     = 31
	AsyncStatusCanceled   = 32
	asyncNotFoundTolerate = 3 // transient 404s tolerated right after creation
)

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
	if err := c.getJSON(ctx, c.api("asyncoperations("+id+")",
		"$select", "asyncoperationid,statecode,statuscode,message,friendlymessage,completedon"), &op); err != nil {
		return nil, fmt.Errorf("read async operation %s: %w", id, err)
	}
	return &op, nil
}

// WaitAsyncOperation polls the operation until it completes, calling progress
// after every poll. It fails if the operation did not succeed or the poll
// timeout passes.
func (c *Client) WaitAsyncOperation(ctx context.Context, id string, progress func(AsyncOperation)) (*AsyncOperation, error) {
	deadline := c.now().Add(c.pollTimeout)
	wait := c.pollInterval
	var waited time.Duration
	notFound := 0
	for {
		op, err := c.GetAsyncOperation(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound) && notFound < asyncNotFoundTolerate:
			notFound++
		case err != nil:
			return nil, err
		default:
			if progress != nil {
				progress(*op)
			}
			if op.Done() {
				if !op.Succeeded() {
					return op, fmt.Errorf("async operation %s failed: %s", id, op.failure())
				}
				return op, nil
			}
		}
		// The summed waits bound the loop even when sleep and clock are fakes.
		if c.now().After(deadline) || waited >= c.pollTimeout {
			return nil, fmt.Errorf("async operation %s: not complete after %s", id, c.pollTimeout)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
		wait = min(wait*3/2, c.pollMax)
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
	before, err := c.ListImportJobs(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
	}
	known := map[string]bool{}
	for _, j := range before {
		known[strings.ToLower(j.ID)] = true
	}

	var ans asyncImportAnswer
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, request{method: "POST", url: c.api(action), body: body})
		if err == nil {
			if err := decode(resp.body, &ans); err != nil {
				return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
			}
			break
		}
		if !uncertain(err) || attempt >= 2 {
			return nil, fmt.Errorf("%s of solution %q: %w", action, name, err)
		}
		// The server may have started the import: look for a new job before
		// sending the solution again.
		job, findErr := c.findNewImportJob(ctx, name, known)
		if findErr != nil {
			return nil, fmt.Errorf("%s of solution %q: %w (then checking for the import job: %w)", action, name, err, findErr)
		}
		if job != "" {
			ans = asyncImportAnswer{ImportJobKey: job}
			break
		}
	}
	if ans.ImportJobKey == "" && ans.AsyncOperationID == "" {
		return nil, fmt.Errorf("%s of solution %q: answer lacks AsyncOperationId and ImportJobKey", action, name)
	}
	return c.waitImport(ctx, name, ans, req.Progress)
}

// findNewImportJob looks a few times for an import job of name not in known.
func (c *Client) findNewImportJob(ctx context.Context, name string, known map[string]bool) (string, error) {
	for i := 0; i < c.newImportPoll; i++ {
		jobs, err := c.ListImportJobs(ctx, name)
		if err != nil {
			return "", err
		}
		for _, j := range jobs {
			if !known[strings.ToLower(j.ID)] {
				return j.ID, nil
			}
		}
		if i+1 < c.newImportPoll {
			if err := c.sleep(ctx, c.pollInterval); err != nil {
				return "", err
			}
		}
	}
	return "", nil
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
// *ImportError with the server's messages.
func (c *Client) waitImport(ctx context.Context, name string, ans asyncImportAnswer, progress func(ImportProgress)) (*ImportResult, error) {
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
	if ans.AsyncOperationID != "" {
		op, err := c.WaitAsyncOperation(ctx, ans.AsyncOperationID, func(op AsyncOperation) { report(op.StateCode) })
		if err != nil && ctx.Err() != nil {
			return nil, stoppedWaiting(c, name, res, err)
		}
		if err != nil && (op == nil || op.Succeeded()) {
			return nil, fmt.Errorf("import solution %q: %w", name, err)
		}
		if op != nil && !op.Succeeded() {
			failure = op.failure()
		}
	} else if err := c.waitImportJob(ctx, res.ImportJobID, progress); err != nil {
		if ctx.Err() != nil {
			return nil, stoppedWaiting(c, name, res, err)
		}
		return nil, fmt.Errorf("import solution %q: %w", name, err)
	}
	if res.ImportJobID == "" {
		if failure != "" {
			return nil, &ImportError{Solution: name, Status: failure}
		}
		return res, nil
	}
	result, err := c.RetrieveSolutionImportResult(ctx, res.ImportJobID)
	if err != nil {
		if failure != "" {
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
	return fmt.Errorf("import solution %q: stopped waiting (%w), but the import goes on in %s (%s): let it finish, or watch it in the maker portal's solution history, before importing again",
		name, err, c.envURL.String(), strings.Join(ids, ", "))
}

// waitImportJob polls an import job until it has completedon; used when the
// async operation id is unknown (the job was adopted after a lost answer).
func (c *Client) waitImportJob(ctx context.Context, id string, progress func(ImportProgress)) error {
	deadline := c.now().Add(c.pollTimeout)
	wait := c.pollInterval
	var waited time.Duration
	for {
		j, err := c.GetImportJob(ctx, id)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(ImportProgress{ImportJobID: id, Percent: j.Progress})
		}
		if j.CompletedOn != "" {
			return nil
		}
		// The summed waits bound the loop even when sleep and clock are fakes.
		if c.now().After(deadline) || waited >= c.pollTimeout {
			return fmt.Errorf("import job %s: not complete after %s", id, c.pollTimeout)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		waited += wait
		wait = min(wait*3/2, c.pollMax)
	}
}

// DeleteAndPromote applies the upgrade staged as {uniqueName}_Upgrade
// (DeleteAndPromoteAsync) and waits for it.
func (c *Client) DeleteAndPromote(ctx context.Context, uniqueName string, progress func(AsyncOperation)) error {
	body, _ := json.Marshal(map[string]string{"UniqueName": uniqueName})
	var ans struct {
		AsyncOperationID string `json:"AsyncOperationId"`
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, request{method: "POST", url: c.api("DeleteAndPromoteAsync"), body: body})
		if err == nil {
			if err := decode(resp.body, &ans); err != nil {
				return fmt.Errorf("promote solution %q: %w", uniqueName, err)
			}
			break
		}
		if !uncertain(err) || attempt >= 2 {
			return fmt.Errorf("promote solution %q: %w", uniqueName, err)
		}
		// If the holding solution is gone, the first request did its work.
		promoted, checkErr := c.holdingGone(ctx, uniqueName)
		if checkErr != nil {
			return fmt.Errorf("promote solution %q: %w (then checking the holding solution: %w)", uniqueName, err, checkErr)
		}
		if promoted {
			return nil
		}
	}
	if ans.AsyncOperationID == "" {
		return nil
	}
	if _, err := c.WaitAsyncOperation(ctx, ans.AsyncOperationID, progress); err != nil {
		return fmt.Errorf("promote solution %q: %w", uniqueName, err)
	}
	return nil
}

// holdingGone polls a few times for the holding solution to disappear.
func (c *Client) holdingGone(ctx context.Context, uniqueName string) (bool, error) {
	for i := 0; i < c.newImportPoll; i++ {
		_, err := c.GetSolution(ctx, uniqueName+"_Upgrade")
		if errors.Is(err, ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if err := c.sleep(ctx, c.pollInterval); err != nil {
			return false, err
		}
	}
	return false, nil
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
