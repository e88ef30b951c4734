package steps

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
)

// UpgradeMode chooses between updating and upgrading a solution that is
// already installed.
type UpgradeMode string

// Upgrade modes (the --upgrade flag).
const (
	// UpgradeAuto upgrades when the solution is installed and an upgrade was
	// requested (TriggerSolutionUpgrade or the solution-upgrade label).
	UpgradeAuto UpgradeMode = "auto"
	// UpgradeAlways upgrades whenever the solution is installed.
	UpgradeAlways UpgradeMode = "always"
	// UpgradeNever always updates.
	UpgradeNever UpgradeMode = "never"
)

// ParseUpgradeMode reads the --upgrade flag.
func ParseUpgradeMode(s string) (UpgradeMode, error) {
	switch m := UpgradeMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", UpgradeAuto:
		return UpgradeAuto, nil
	case UpgradeAlways, UpgradeNever:
		return m, nil
	}
	return "", fmt.Errorf("--upgrade %q: expected auto, always or never", s)
}

// Import kinds.
const (
	ImportNew     = "install"
	ImportUpdate  = "update"
	ImportUpgrade = "upgrade"
)

// ImportOutcome is what the import step did.
type ImportOutcome struct {
	Solution string
	Version  string
	// Kind is ImportNew, ImportUpdate or ImportUpgrade.
	Kind string
	// Why says how the kind was chosen.
	Why string
	// InstalledVersion is the version found in the target before ("" when
	// the solution was not installed).
	InstalledVersion string
	// FinishedHolding is set when a leftover NAME_Upgrade was promoted first.
	FinishedHolding string
	ImportJobID     string
	Warnings        []string
}

// ImportDecision is the update-or-upgrade decision for one zip and target,
// shared by the import step and the plan command.
type ImportDecision struct {
	Kind string
	Why  string
	// Installed is the target's solution row, nil when not installed.
	Installed *dataverse.Solution
	// Holding is a leftover NAME_Upgrade, nil when none.
	Holding *dataverse.Solution
}

// DecideImport looks at the target and decides how sol is imported. It
// returns an error, changing nothing, when the service would refuse the
// import (managed over unmanaged and the reverse, a lower version), with
// what to do instead.
func DecideImport(ctx context.Context, c *Context, sol *solution.Solution) (*ImportDecision, error) {
	dv := c.Dataverse
	installed, err := lookupSolution(ctx, dv, sol.UniqueName)
	if err != nil {
		return nil, err
	}
	holding, err := lookupSolution(ctx, dv, sol.UniqueName+"_Upgrade")
	if err != nil {
		return nil, err
	}
	d := &ImportDecision{Installed: installed, Holding: holding}
	env := dv.EnvironmentURL()
	if installed == nil {
		d.Kind, d.Why = ImportNew, fmt.Sprintf("%s is not installed in %s", sol.UniqueName, env)
		return d, nil
	}
	switch {
	case sol.Managed && !installed.IsManaged:
		return nil, fmt.Errorf("solution %q %s is managed but %s has it unmanaged (%s): Dataverse refuses a managed import over an unmanaged solution; "+
			"delete the unmanaged solution first (ppalm solution delete --environment %s --solution %s --with-components) or import the unmanaged zip",
			sol.UniqueName, sol.Version, env, installed.Version, env, sol.UniqueName)
	case !sol.Managed && installed.IsManaged:
		return nil, fmt.Errorf("solution %q %s is unmanaged but %s has it managed (%s): Dataverse refuses an unmanaged import over a managed solution; "+
			"import the managed zip (pack with --packagetype Managed) or uninstall the managed solution first",
			sol.UniqueName, sol.Version, env, installed.Version)
	}
	if sol.Managed && holding == nil && solution.CompareVersions(sol.Version, installed.Version) < 0 {
		return nil, fmt.Errorf("solution %q %s is older than version %s installed in %s: Dataverse refuses a lower managed version; "+
			"build a version higher than %s (or uninstall the solution to go back)",
			sol.UniqueName, sol.Version, installed.Version, env, installed.Version)
	}
	if !sol.Managed {
		d.Kind, d.Why = ImportUpdate, "unmanaged solutions are always updated"
		return d, nil
	}
	switch c.Upgrade {
	case UpgradeAlways:
		d.Kind, d.Why = ImportUpgrade, "--upgrade always"
	case UpgradeNever:
		d.Kind, d.Why = ImportUpdate, "--upgrade never"
	default:
		if c.UpgradeRequested == nil {
			d.Kind, d.Why = ImportUpdate, "no upgrade requested"
			break
		}
		want, why, err := c.UpgradeRequested(ctx)
		if err != nil {
			return nil, fmt.Errorf("decide update or upgrade of %q: %w", sol.UniqueName, err)
		}
		d.Kind, d.Why = ImportUpdate, why
		if want {
			d.Kind = ImportUpgrade
		}
	}
	return d, nil
}

// lookupSolution returns the installed solution or nil.
func lookupSolution(ctx context.Context, dv *dataverse.Client, name string) (*dataverse.Solution, error) {
	s, err := dv.GetSolution(ctx, name)
	if errors.Is(err, dataverse.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// loadSolution reads c.ZipFile into c.Solution once.
func loadSolution(c *Context) (*solution.Solution, error) {
	if c.Solution != nil {
		return c.Solution, nil
	}
	if c.ZipFile == "" {
		return nil, errors.New("no solution zip given (--zipfile)")
	}
	sol, err := solution.ReadModel(c.ZipFile)
	if err != nil {
		return nil, err
	}
	c.Solution = sol
	return sol, nil
}

// Import imports the solution zip into the target: a new install, an update
// or an upgrade (StageAndUpgradeAsync, which removes the components the new
// version dropped), with the ComponentParameters the settings preflight built.
// It first lets any import, upgrade or uninstall still running there finish,
// and a submission whose answer is lost is reconciled on the system job it
// created (dataverse.Client.ImportSolution), so an import is never queued
// twice.
type Import struct{}

func (Import) Name() string { return "import" }

func (Import) Skip(c *Context) (bool, string) {
	if c.ZipFile == "" && c.Solution == nil {
		return true, "no solution zip"
	}
	return false, ""
}

func (Import) Run(ctx context.Context, c *Context) error {
	sol, err := loadSolution(c)
	if err != nil {
		return err
	}
	zip, err := os.ReadFile(c.ZipFile)
	if err != nil {
		return fmt.Errorf("read solution zip: %w", err)
	}
	// An import, upgrade or uninstall still running (a previous run that
	// stopped waiting, a parallel pipeline) is let finish first: a second
	// import queued beside it would race it, and the decision below must
	// see what it left.
	if err := c.Dataverse.WaitSolutionOperations(ctx, func(op dataverse.AsyncOperation) {
		c.Reporter.Info(fmt.Sprintf("waiting for the %s still running in %s (system job %s, submitted %s) before importing",
			dataverse.OperationName(op.OperationType), c.Dataverse.EnvironmentURL(), op.ID, op.CreatedOn))
	}); err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	d, err := DecideImport(ctx, c, sol)
	if err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	out := &ImportOutcome{Solution: sol.UniqueName, Version: sol.Version, Kind: d.Kind, Why: d.Why}
	if d.Installed != nil {
		out.InstalledVersion = d.Installed.Version
	}
	c.Imported = out
	dv := c.Dataverse

	if d.Holding != nil {
		// A previous run staged an upgrade and stopped before applying it;
		// applying it now is what that run meant to do, and a new holding
		// import would be refused while it exists.
		c.Reporter.Info(fmt.Sprintf("finishing the upgrade a previous run left behind: %s %s", d.Holding.UniqueName, d.Holding.Version))
		if err := dv.DeleteAndPromote(ctx, sol.UniqueName, nil); err != nil {
			return fmt.Errorf("finish leftover upgrade %s: %w", d.Holding.UniqueName, err)
		}
		out.FinishedHolding = d.Holding.Version
		c.Note("finished leftover upgrade %s to %s", d.Holding.UniqueName, d.Holding.Version)
		if solution.CompareVersions(sol.Version, d.Holding.Version) <= 0 {
			// The upgrade already happened; an update re-applies the
			// settings without staging the same version again.
			d.Kind, d.Why = ImportUpdate, "the leftover upgrade was to this version already"
			out.Kind, out.Why = d.Kind, d.Why
		}
	}

	req := dataverse.ImportRequest{
		Zip:                              zip,
		SolutionName:                     sol.UniqueName,
		OverwriteUnmanagedCustomizations: c.OverwriteUnmanaged,
		PublishWorkflows:                 c.PublishWorkflows,
		ComponentParameters:              c.ComponentParameters,
		Progress: func(p dataverse.ImportProgress) {
			c.Reporter.Progress(int(p.Percent), fmt.Sprintf("importing %s %s", sol.UniqueName, sol.Version))
		},
	}
	// What runs now, while the import takes its minutes; the report says
	// what was done.
	task.Status(c.Reporter, fmt.Sprintf("%s %s %s into %s (%s)", d.Kind, sol.UniqueName, sol.Version, dv.EnvironmentURL(), d.Why))
	var res *dataverse.ImportResult
	if d.Kind == ImportUpgrade {
		res, err = dv.StageAndUpgrade(ctx, req)
	} else {
		res, err = dv.ImportSolution(ctx, req)
	}
	if err != nil {
		return importFailure(ctx, dv, sol, err)
	}
	out.ImportJobID = res.ImportJobID
	if res.Result != nil {
		out.Warnings = res.Result.Warnings()
		for _, w := range out.Warnings {
			c.Reporter.Warning(fmt.Sprintf("import of %s: %s", sol.UniqueName, w), "")
		}
	}
	if !sol.Managed || c.Publish {
		if err := dv.PublishAllXml(ctx); err != nil {
			return fmt.Errorf("publish customizations after importing %q: %w", sol.UniqueName, err)
		}
		c.Note("published all customizations")
	}
	c.Note("%s %s %s (%s), import job %s", d.Kind, sol.UniqueName, sol.Version, d.Why, res.ImportJobID)
	return nil
}

// importFailure adds the failing components from the import job's log to a
// failed import, so the report says which component failed and why.
func importFailure(ctx context.Context, dv *dataverse.Client, sol *solution.Solution, err error) error {
	var ie *dataverse.ImportError
	if !errors.As(err, &ie) || ie.ImportJobID == "" {
		return err
	}
	data, derr := dv.ImportJobData(ctx, ie.ImportJobID)
	if derr != nil {
		return err
	}
	failed := FailedComponents(data)
	if len(failed) == 0 {
		return err
	}
	return fmt.Errorf("%w\nfailed components:\n  %s", err, strings.Join(failed, "\n  "))
}

// FailedComponents reads an import job's data (the importexportxml log) and
// returns one line per component whose result is failure:
// "<element> <name or id>: <errortext>".
func FailedComponents(data string) []string {
	dec := xml.NewDecoder(strings.NewReader(data))
	var out []string
	var stack []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var name, result, text string
			for _, a := range t.Attr {
				switch strings.ToLower(a.Name.Local) {
				case "name", "localizedname", "id":
					if name == "" {
						name = a.Value
					}
				case "result":
					result = a.Value
				case "errortext":
					text = a.Value
				}
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			if strings.EqualFold(result, "failure") {
				what := t.Name.Local
				if name != "" {
					what += " " + name
				}
				if strings.EqualFold(t.Name.Local, "result") && parent != "" {
					what = parent
				}
				if text == "" {
					text = "failed"
				}
				out = append(out, what+": "+text)
			}
			label := t.Name.Local
			if name != "" {
				label += " " + name
			}
			stack = append(stack, label)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}
