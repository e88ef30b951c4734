package dataverse

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Solution is a row of the solutions table.
type Solution struct {
	ID           string `json:"solutionid"`
	UniqueName   string `json:"uniquename"`
	FriendlyName string `json:"friendlyname"`
	Version      string `json:"version"`
	IsManaged    bool   `json:"ismanaged"`
}

const solutionColumns = "solutionid,uniquename,friendlyname,version,ismanaged"

// WhoAmIResult identifies the calling user in the environment.
type WhoAmIResult struct {
	UserID         string `json:"UserId"`
	BusinessUnitID string `json:"BusinessUnitId"`
	OrganizationID string `json:"OrganizationId"`
}

// WhoAmI returns the calling identity's systemuser, business unit and
// organization.
func (c *Client) WhoAmI(ctx context.Context) (*WhoAmIResult, error) {
	var w WhoAmIResult
	if err := c.getJSON(ctx, c.api("WhoAmI"), &w); err != nil {
		return nil, fmt.Errorf("who am I in %s: %w", c.envURL.Host, err)
	}
	return &w, nil
}

// Organization is the Detail of RetrieveCurrentOrganization.
type Organization struct {
	OrganizationID string `json:"OrganizationId"`
	EnvironmentID  string `json:"EnvironmentId"`
	UniqueName     string `json:"UniqueName"`
	FriendlyName   string `json:"FriendlyName"`
	URLName        string `json:"UrlName"`
}

// Organization returns the current organization, whose EnvironmentID is what
// the Power Apps admin routes need.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var out struct {
		Detail Organization `json:"Detail"`
	}
	u := c.api("RetrieveCurrentOrganization(AccessType=Microsoft.Dynamics.CRM.EndpointAccessType'Default')")
	if err := c.getJSON(ctx, u, &out); err != nil {
		return nil, fmt.Errorf("retrieve current organization of %s: %w", c.envURL.Host, err)
	}
	return &out.Detail, nil
}

// EnvironmentID returns the Power Platform environment id of this environment.
func (c *Client) EnvironmentID(ctx context.Context) (string, error) {
	org, err := c.Organization(ctx)
	if err != nil {
		return "", err
	}
	if org.EnvironmentID == "" {
		return "", fmt.Errorf("retrieve current organization of %s: answer has no Detail.EnvironmentId", c.envURL.Host)
	}
	return org.EnvironmentID, nil
}

// ListSolutions returns the unmanaged, visible solutions (what a maker
// exports), including Default.
func (c *Client) ListSolutions(ctx context.Context) ([]Solution, error) {
	sols, err := list[Solution](ctx, c, c.api("solutions",
		"$select", solutionColumns,
		"$filter", "ismanaged eq false and isvisible eq true",
		"$orderby", "friendlyname asc"))
	if err != nil {
		return nil, fmt.Errorf("list solutions in %s: %w", c.envURL.Host, err)
	}
	return sols, nil
}

// ListVisibleSolutions lists every visible solution, managed and
// unmanaged, ordered by display name: what is installed, as pac solution
// list shows it.
func (c *Client) ListVisibleSolutions(ctx context.Context) ([]Solution, error) {
	sols, err := list[Solution](ctx, c, c.api("solutions",
		"$select", solutionColumns,
		"$filter", "isvisible eq true",
		"$orderby", "friendlyname asc"))
	if err != nil {
		return nil, fmt.Errorf("list solutions in %s: %w", c.envURL.Host, err)
	}
	return sols, nil
}

// GetSolution returns the solution with uniqueName; the error wraps
// ErrNotFound when it is not installed.
func (c *Client) GetSolution(ctx context.Context, uniqueName string) (*Solution, error) {
	sols, err := list[Solution](ctx, c, c.api("solutions",
		"$select", solutionColumns,
		"$filter", "uniquename eq "+quote(uniqueName)))
	if err != nil {
		return nil, fmt.Errorf("get solution %q: %w", uniqueName, err)
	}
	if len(sols) == 0 {
		return nil, fmt.Errorf("get solution %q in %s: %w", uniqueName, c.envURL.Host, ErrNotFound)
	}
	return &sols[0], nil
}

// Solution component types that are fixed numbers (connection references
// are not; see ConnectionReferenceComponentType).
const (
	ComponentWorkflow                      = 29
	ComponentCanvasApp                     = 300
	ComponentEnvironmentVariableDefinition = 380
	ComponentEnvironmentVariableValue      = 381
)

// SolutionComponent is a row of solutioncomponents.
type SolutionComponent struct {
	ObjectID      string `json:"objectid"`
	ComponentType int    `json:"componenttype"`
}

// SolutionComponents lists the components of the solution with solutionID,
// only of the given types when any are given.
func (c *Client) SolutionComponents(ctx context.Context, solutionID string, types ...int) ([]SolutionComponent, error) {
	filter := "_solutionid_value eq " + solutionID
	if len(types) > 0 {
		parts := make([]string, len(types))
		for i, t := range types {
			parts[i] = fmt.Sprintf("componenttype eq %d", t)
		}
		filter += " and (" + strings.Join(parts, " or ") + ")"
	}
	comps, err := list[SolutionComponent](ctx, c, c.api("solutioncomponents",
		"$select", "objectid,componenttype", "$filter", filter))
	if err != nil {
		return nil, fmt.Errorf("list components of solution %s: %w", solutionID, err)
	}
	return comps, nil
}

// ExportSolution exports uniqueName synchronously and returns the zip.
// Use ExportSolutionAsync for anything that may take over two minutes.
func (c *Client) ExportSolution(ctx context.Context, uniqueName string, managed bool) ([]byte, error) {
	var out struct {
		// encoding/json decodes base64 straight into []byte.
		File []byte `json:"ExportSolutionFile"`
	}
	// Export changes nothing, so a repeat after an ambiguous failure is safe.
	if _, err := c.postJSON(ctx, c.api("ExportSolution"), true, exportBody(uniqueName, managed), &out); err != nil {
		return nil, fmt.Errorf("export solution %q: %w", uniqueName, err)
	}
	zip, err := decodeFile(out.File)
	if err != nil {
		return nil, fmt.Errorf("export solution %q: ExportSolutionFile: %w", uniqueName, err)
	}
	return zip, nil
}

func exportBody(uniqueName string, managed bool) map[string]any {
	return map[string]any{"SolutionName": uniqueName, "Managed": managed}
}

func decodeFile(zip []byte) ([]byte, error) {
	if len(zip) == 0 {
		return nil, fmt.Errorf("empty; expected a base64 zip")
	}
	return zip, nil
}

// ExportJob is the answer of ExportSolutionAsync.
type ExportJob struct {
	AsyncOperationID string `json:"AsyncOperationId"`
	ExportJobID      string `json:"ExportJobId"`
}

// ExportSolutionAsync starts an asynchronous export.
func (c *Client) ExportSolutionAsync(ctx context.Context, uniqueName string, managed bool) (*ExportJob, error) {
	var job ExportJob
	// A repeated export only costs the server a second job, and nothing reads
	// the first, so this is retried like a read.
	if _, err := c.postJSON(ctx, c.api("ExportSolutionAsync"), true, exportBody(uniqueName, managed), &job); err != nil {
		return nil, fmt.Errorf("start export of solution %q: %w", uniqueName, err)
	}
	if job.AsyncOperationID == "" || job.ExportJobID == "" {
		return nil, fmt.Errorf("start export of solution %q: answer lacks AsyncOperationId or ExportJobId", uniqueName)
	}
	return &job, nil
}

// DownloadSolutionExportData fetches the zip of a finished asynchronous export.
func (c *Client) DownloadSolutionExportData(ctx context.Context, exportJobID string) ([]byte, error) {
	var out struct {
		// encoding/json decodes base64 straight into []byte.
		File []byte `json:"ExportSolutionFile"`
	}
	if _, err := c.postJSON(ctx, c.api("DownloadSolutionExportData"), true, map[string]string{"ExportJobId": exportJobID}, &out); err != nil {
		return nil, fmt.Errorf("download export %s: %w", exportJobID, err)
	}
	zip, err := decodeFile(out.File)
	if err != nil {
		return nil, fmt.Errorf("download export %s: ExportSolutionFile: %w", exportJobID, err)
	}
	return zip, nil
}

// ExportOptions selects how Export runs.
type ExportOptions struct {
	Managed bool
	// Async uses ExportSolutionAsync + DownloadSolutionExportData.
	Async bool
	// Progress, if set, is called after each poll of an asynchronous export.
	Progress func(AsyncOperation)
}

// Export exports uniqueName, synchronously or asynchronously, and returns
// the zip.
func (c *Client) Export(ctx context.Context, uniqueName string, opts ExportOptions) ([]byte, error) {
	if !opts.Async {
		return c.ExportSolution(ctx, uniqueName, opts.Managed)
	}
	job, err := c.ExportSolutionAsync(ctx, uniqueName, opts.Managed)
	if err != nil {
		return nil, err
	}
	if _, err := c.WaitAsyncOperation(ctx, job.AsyncOperationID, opts.Progress); err != nil {
		return nil, fmt.Errorf("export solution %q: %w", uniqueName, err)
	}
	return c.DownloadSolutionExportData(ctx, job.ExportJobID)
}

// PublishAllXml publishes all customizations (needed after an unmanaged
// import).
func (c *Client) PublishAllXml(ctx context.Context) error {
	if _, err := c.do(ctx, request{method: http.MethodPost, url: c.api("PublishAllXml"), body: []byte("{}"), idempotent: true}); err != nil {
		return fmt.Errorf("publish all customizations in %s: %w", c.envURL.Host, err)
	}
	return nil
}

// RemoveSolution removes an installed solution the way Microsoft's tools
// do: a managed one with UninstallSolutionAsync, polled to the end
// (progress, if set, is called after each poll), since its components go
// with it and a synchronous DELETE of a large one outlasts the gateway
// while the service carries on; an unmanaged one (only the container
// goes, its components stay) with DELETE.
func (c *Client) RemoveSolution(ctx context.Context, s *Solution, progress func(AsyncOperation)) error {
	if s.IsManaged {
		return c.UninstallSolution(ctx, s.UniqueName, progress)
	}
	return c.DeleteSolution(ctx, s.ID)
}

// DeleteSolution deletes the solution row with solutionID synchronously;
// use RemoveSolution, which uninstalls a managed solution asynchronously.
func (c *Client) DeleteSolution(ctx context.Context, solutionID string) error {
	if err := c.deleteURL(ctx, c.api("solutions("+solutionID+")")); err != nil {
		return fmt.Errorf("delete solution %s: %w", solutionID, err)
	}
	return nil
}

// SetSolutionVersion sets the version of an unmanaged solution.
func (c *Client) SetSolutionVersion(ctx context.Context, solutionID, version string) error {
	if err := c.patchJSON(ctx, c.api("solutions("+solutionID+")"), map[string]string{"version": version}); err != nil {
		return fmt.Errorf("set version of solution %s to %s: %w", solutionID, version, err)
	}
	return nil
}
