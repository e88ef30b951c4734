package dataverse

import (
	"context"
	"fmt"
	"net/url"
)

// Calls the deploy steps need beyond the core client (written by the deploy
// engineer; the lead may fold them into components.go / powerapps.go).

// TeamByName finds a team by its name (the Accelerator's fallback when no
// team carries the group's object id yet).
func (c *Client) TeamByName(ctx context.Context, name string) (*Team, error) {
	teams, err := list[Team](ctx, c, c.api("teams",
		"$select", "teamid,name,teamtype,_businessunitid_value",
		"$filter", "name eq "+quote(name)))
	if err != nil {
		return nil, fmt.Errorf("find team %q: %w", name, err)
	}
	if len(teams) == 0 {
		return nil, fmt.Errorf("find team %q in %s: %w", name, c.envURL.Host, ErrNotFound)
	}
	return &teams[0], nil
}

// UpdateGroupTeam makes an existing team the group team of groupID with the
// given name (and business unit, when not empty).
func (c *Client) UpdateGroupTeam(ctx context.Context, teamID, name, groupID, businessUnitID string) error {
	body := map[string]any{
		"name":                         name,
		"teamtype":                     TeamTypeEntraGroup,
		"membershiptype":               0,
		"azureactivedirectoryobjectid": groupID,
	}
	if businessUnitID != "" {
		body["businessunitid@odata.bind"] = "/businessunits(" + businessUnitID + ")"
	}
	if err := c.patchJSON(ctx, c.api("teams("+teamID+")"), body); err != nil {
		return fmt.Errorf("update team %q (%s): %w", name, teamID, err)
	}
	return nil
}

// SetCanvasAppOwner makes the Entra user ownerObjectID the owner of a canvas
// app (Power Apps admin modifyAppOwner); the previous owner keeps CanView.
func (c *Client) SetCanvasAppOwner(ctx context.Context, envID, appName, ownerObjectID string) error {
	body := map[string]string{"newAppOwner": ownerObjectID, "roleForOldAppOwner": "CanView"}
	if _, err := c.postJSON(ctx, c.powerApps(envID, "apps/"+url.PathEscape(appName)+"/modifyAppOwner", false), true, body, nil); err != nil {
		return fmt.Errorf("set owner of canvas app %s to %s: %w", appName, ownerObjectID, err)
	}
	return nil
}
