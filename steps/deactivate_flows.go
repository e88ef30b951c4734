package steps

import (
	"context"
	"fmt"
)

// DeactivateFlows turns the installed solution's flows off before a managed
// import, as the Accelerator did when ActivateFlowsOnTheSolutionImport was
// false (disable-flows.yml, Deactivate-FlowsFromSolution): the import then
// finds them off, and activate-flows turns on those the settings want on,
// in order. It does nothing for a solution that is not installed yet or an
// unmanaged zip (the Accelerator's IsUnmanaged).
type DeactivateFlows struct{}

func (DeactivateFlows) Name() string { return "deactivate-flows" }

func (DeactivateFlows) Skip(c *Context) (bool, string) {
	switch {
	case !c.DeactivateFlowsFirst:
		return true, "flows are left as they are before the import"
	case c.SkipImport:
		return true, c.accelerated("SkipSolutionImport", "the import is skipped")
	}
	return false, ""
}

func (DeactivateFlows) Run(ctx context.Context, c *Context) error {
	sol, err := loadSolution(c)
	if err != nil {
		return err
	}
	if !sol.Managed {
		c.Note("unmanaged import: flows are left as they are")
		return nil
	}
	installed, err := lookupSolution(ctx, c.Dataverse, sol.UniqueName)
	if err != nil {
		return err
	}
	if installed == nil {
		c.Note("%s is not installed yet: no flow to turn off", sol.UniqueName)
		return nil
	}
	flows, err := c.Dataverse.ListSolutionFlows(ctx, installed.ID)
	if err != nil {
		return fmt.Errorf("list the flows of %s: %w", sol.UniqueName, err)
	}
	n := 0
	for _, f := range flows {
		if !f.On() {
			continue
		}
		if err := c.Dataverse.SetWorkflowState(ctx, f.ID, false); err != nil {
			return fmt.Errorf("turn flow %q (%s) off before the import: %w", f.Name, f.ID, err)
		}
		n++
	}
	c.Note("%d flow(s) of %s turned off before the import (%s)", n, sol.UniqueName, c.accelerated("ActivateFlowsOnTheSolutionImport", "asked"))
	return nil
}
