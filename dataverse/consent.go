package dataverse

import (
	"context"
	"fmt"
	"net/url"
)

// SetAppConsentBypass sets whether a canvas app's users skip the dialog
// that asks them to consent to the app's connections: the Power Apps admin
// action setPowerAppConnectionDirectConsentBypass with {"bypassconsent":
// bool}, the call behind Set-AdminPowerAppApisToBypassConsent (PowerApps
// admin PowerShell) and the CLI for Microsoft 365's `pa app consent set`.
func (c *Client) SetAppConsentBypass(ctx context.Context, envID, appName string, bypass bool) error {
	body := map[string]bool{"bypassconsent": bypass}
	if _, err := c.postJSON(ctx, c.powerApps(envID, "apps/"+url.PathEscape(appName)+"/setPowerAppConnectionDirectConsentBypass", false), true, body, nil); err != nil {
		return fmt.Errorf("set consent bypass of canvas app %s: %w", appName, err)
	}
	return nil
}
