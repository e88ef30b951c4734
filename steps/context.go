package steps

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
)

// Context is what a step sees: the run's configuration, the injected
// services, and what earlier steps produced. It is built once per run by the
// CLI (or a test) and passed by pointer; only steps write the "produced"
// fields.
type Context struct {
	// Services.
	Reporter task.Reporter
	Getenv   func(string) string
	Now      func() time.Time

	// Source configures export-to-git (export, checkout, unpack, normalize,
	// deployment-settings, commit).
	Source *Source
	// Build configures the build steps (version, pack).
	Build *Build

	// Deployment (import, plan and the configure steps).

	// Dataverse is the client of the target environment.
	Dataverse *dataverse.Client
	// ZipFile is the solution to import; Solution is its model (read by the
	// settings preflight or the import step when nil).
	ZipFile  string
	Solution *solution.Solution
	// SolutionName names the installed solution the configure steps act on
	// when there is no zip.
	SolutionName string
	// Deployment and Custom are the settings files (tokens not yet filled;
	// the settings preflight fills them in place).
	Deployment *settings.DeploymentSettings
	Custom     *settings.CustomDeploymentSettings
	// Upgrade chooses update or upgrade; UpgradeRequested answers "auto"
	// (TriggerSolutionUpgrade or the solution-upgrade pull request label).
	Upgrade          UpgradeMode
	UpgradeRequested func(ctx context.Context) (bool, string, error)
	// OverwriteUnmanaged overwrites unmanaged customizations on import.
	OverwriteUnmanaged bool
	// Publish runs PublishAllXml after the import (always for unmanaged).
	Publish bool
	// PublishWorkflows asks the import to activate processes itself; off by
	// default because activate-flows does it with a report.
	PublishWorkflows bool

	// ActivateAs says who turns flows on: ActivateAsServicePrincipal (""
	// too) or ActivateAsConnectionOwner.
	ActivateAs string

	// Concurrency bounds the independent calls a step makes at once
	// (lookups, shares, role changes, flow switches that no order rule
	// keeps apart); 4 when 0, 1 for a serial run.
	Concurrency int

	// Produced by the deployment steps.

	// ComponentParameters are built by the settings preflight from the
	// filled deployment settings.
	ComponentParameters []dataverse.ComponentParameter
	// Imported describes the import that ran.
	Imported *ImportOutcome
	// Flows is the activate-flows report, one line per flow.
	Flows []FlowResult

	// lookups caches what several deployment steps look up in the target.
	lookups *lookups
	// noteMu guards notes and warned when steps work concurrently.
	noteMu sync.Mutex
	warned map[string]bool

	// Outcomes of the steps run so far, in order.
	Outcomes []Outcome
	notes    []string
	// unordered are the notes of concurrent work (noteSafe), sorted when
	// the step ends.
	unordered []string
}

// Note adds a line to the current step's entry in the final report.
func (c *Context) Note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}
