package steps

import (
	"context"
	"fmt"
)

// BypassAppConsent makes every canvas app of the installed solution skip
// the connection consent dialog, as the Accelerator's BypassAppConsent=true
// did (consent-canvas-app.yml, ByPass-Canvas-App-Consents calling
// Set-AdminPowerAppApisToBypassConsent for each solution component of type
// canvas app). It runs through the Power Apps admin API
// (setPowerAppConnectionDirectConsentBypass), which needs the deploying
// identity to be a Power Platform management app.
type BypassAppConsent struct{}

func (BypassAppConsent) Name() string { return "bypass-app-consent" }

func (BypassAppConsent) Skip(c *Context) (bool, string) {
	if !c.BypassAppConsent {
		return true, "consent bypass not asked for (BypassAppConsent)"
	}
	return false, ""
}

func (BypassAppConsent) Run(ctx context.Context, c *Context) error {
	name := c.SolutionName
	if name == "" {
		sol, err := loadSolution(c)
		if err != nil {
			return err
		}
		name = sol.UniqueName
	}
	installed, err := lookupSolution(ctx, c.Dataverse, name)
	if err != nil {
		return err
	}
	if installed == nil {
		return fmt.Errorf("solution %q is not installed in %s: import it first", name, c.Dataverse.EnvironmentURL())
	}
	apps, err := c.Dataverse.ListSolutionCanvasApps(ctx, installed.ID)
	if err != nil {
		return fmt.Errorf("list the canvas apps of %s: %w", name, err)
	}
	if len(apps) == 0 {
		c.Note("%s has no canvas app", name)
		return nil
	}
	envID, err := environmentID(ctx, c)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if err := c.Dataverse.SetAppConsentBypass(ctx, envID, a.AppName(), true); err != nil {
			return fmt.Errorf("canvas app %q: %w", a.Name, shareHint(err))
		}
		c.Note("canvas app %q bypasses the consent dialog", a.DisplayName)
	}
	return nil
}
