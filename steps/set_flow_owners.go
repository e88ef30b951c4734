package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/settings"
)

// SetFlowOwners gives flows (type 29) and canvas apps (type 300) the owners
// of SolutionComponentOwnershipConfiguration. A flow that is on is turned
// off first (the service will not reassign a running flow); activate-flows,
// which runs after, turns it on again. Every user and component is looked up
// before anything changes.
type SetFlowOwners struct{}

func (SetFlowOwners) Name() string { return "set-flow-owners" }

func (SetFlowOwners) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(configuredOwners(c.Custom)) == 0 {
		return true, "no SolutionComponentOwnershipConfiguration with an owner"
	}
	return false, ""
}

func configuredOwners(cds *settings.CustomDeploymentSettings) []int {
	var out []int
	for i, o := range cds.SolutionComponentOwnershipConfiguration {
		if strings.TrimSpace(o.OwnerEmail) != "" {
			out = append(out, i)
		}
	}
	return out
}

type ownerPlan struct {
	cfg   settings.ComponentOwnership
	where string
	user  *dataverse.SystemUser
	flow  *dataverse.Workflow
	app   *dataverse.CanvasApp
}

func (SetFlowOwners) Run(ctx context.Context, c *Context) error {
	file := settingsFile(c.Custom)
	dv := c.Dataverse
	idx := configuredOwners(c.Custom)
	plans := make([]ownerPlan, len(idx))
	errs := parallel(len(idx), c.concurrency(), func(k int) error {
		i := idx[k]
		o := c.Custom.SolutionComponentOwnershipConfiguration[i]
		p := ownerPlan{cfg: o, where: fmt.Sprintf("SolutionComponentOwnershipConfiguration[%d] (%s) in %s", i, o.SolutionComponentName, file)}
		u, err := resolveUser(ctx, c, o.OwnerEmail)
		if err != nil {
			return fmt.Errorf("%s: ownerEmail: %w", p.where, err)
		}
		p.user = u
		switch o.SolutionComponentType {
		case settings.ComponentTypeWorkflow:
			id, _ := guid.Leading(o.SolutionComponentUniqueName)
			if id == "" {
				return fmt.Errorf("%s: solutionComponentUniqueName %q: expected the flow's workflow id", p.where, o.SolutionComponentUniqueName)
			}
			w, err := getFlow(ctx, c, id)
			if err != nil {
				return fmt.Errorf("%s: %w", p.where, err)
			}
			p.flow = w
		case settings.ComponentTypeCanvasApp:
			if u.ObjectID == "" {
				return fmt.Errorf("%s: user %q has no Entra object id, so cannot own a canvas app", p.where, o.OwnerEmail)
			}
			app, err := canvasAppByName(ctx, c, o.SolutionComponentName, "solutionComponentName (the app's unique name)")
			if err != nil {
				return fmt.Errorf("%s: %w", p.where, err)
			}
			p.app = app
		default:
			return fmt.Errorf("%s: solutionComponentType %d is not supported: use 29 (flow) or 300 (canvas app)", p.where, o.SolutionComponentType)
		}
		plans[k] = p
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	var envID string
	for _, p := range plans {
		if p.app != nil {
			id, err := environmentID(ctx, c)
			if err != nil {
				return err
			}
			envID = id
			break
		}
	}
	errs = parallel(len(plans), c.concurrency(), func(k int) error {
		p := plans[k]
		if p.flow != nil {
			if strings.EqualFold(p.flow.OwnerID, p.user.ID) {
				c.noteSafe("flow %q already owned by %s", p.flow.Name, p.cfg.OwnerEmail)
				return nil
			}
			if p.flow.On() {
				if err := dv.SetWorkflowState(ctx, p.flow.ID, false); err != nil {
					return fmt.Errorf("%s: %w", p.where, err)
				}
			}
			if err := dv.SetWorkflowOwner(ctx, p.flow.ID, p.user.ID); err != nil {
				return fmt.Errorf("%s: %w", p.where, err)
			}
			c.noteSafe("flow %q now owned by %s", p.flow.Name, p.cfg.OwnerEmail)
			return nil
		}
		if err := dv.SetCanvasAppOwner(ctx, envID, p.app.AppName(), p.user.ObjectID); err != nil {
			return fmt.Errorf("%s: %w", p.where, shareHint(err))
		}
		c.noteSafe("canvas app %q now owned by %s", p.app.DisplayName, p.cfg.OwnerEmail)
		return nil
	})
	return joinErrors(errs)
}
