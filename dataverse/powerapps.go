package dataverse

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

const powerAppsAPIVersion = "2016-11-01"

// powerApps returns an admin-route URL of the Power Apps API for environment
// envID: powerApps(env, "apps/x/permissions", true).
func (c *Client) powerApps(envID, rest string, envFilter bool) string {
	return c.powerAppsVersion(envID, rest, envFilter, powerAppsAPIVersion)
}

func (c *Client) powerAppsVersion(envID, rest string, envFilter bool, version string) string {
	u := c.powerAppsURL.String() + "/providers/Microsoft.PowerApps/scopes/admin/environments/" +
		url.PathEscape(envID) + "/" + rest + "?api-version=" + version
	if envFilter {
		u += "&$filter=" + url.PathEscape("environment eq '"+envID+"'")
	}
	return u
}

// Principal is who an app is shared with.
type Principal struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"` // User, Group or Tenant
	Email    string `json:"email,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
}

// AppPermission is one role assignment on a canvas app or a connection.
type AppPermission struct {
	ID        string    // RoleId, used to remove the assignment
	RoleName  string    // CanView, CanViewWithShare, CanEdit
	Principal Principal // who holds it
}

// CanvasAppPermissions lists who a canvas app is shared with.
func (c *Client) CanvasAppPermissions(ctx context.Context, envID, appName string) ([]AppPermission, error) {
	perms, err := c.permissions(ctx, c.powerApps(envID, "apps/"+url.PathEscape(appName)+"/permissions", true))
	if err != nil {
		return nil, fmt.Errorf("list permissions of canvas app %s: %w", appName, err)
	}
	return perms, nil
}

// permissions reads a Power Apps permissions list (a canvas app's or a
// connection's: the same role-assignment rows).
func (c *Client) permissions(ctx context.Context, u string) ([]AppPermission, error) {
	rows, err := list[struct {
		ID         string `json:"id"`
		Properties struct {
			RoleName  string    `json:"roleName"`
			Principal Principal `json:"principal"`
		} `json:"properties"`
	}](ctx, c, u)
	if err != nil {
		return nil, err
	}
	out := make([]AppPermission, len(rows))
	for i, r := range rows {
		out[i] = AppPermission{ID: r.ID, RoleName: r.Properties.RoleName, Principal: r.Properties.Principal}
	}
	return out, nil
}

// ShareCanvasApp gives principal role (CanView, CanEdit) on a canvas app
// without notifying it. Sharing the same role twice is harmless, so this is
// retried like a read.
func (c *Client) ShareCanvasApp(ctx context.Context, envID, appName string, principal Principal, role string) error {
	body := map[string]any{"put": []any{map[string]any{"properties": map[string]any{
		"roleName":                role,
		"capabilities":            []string{},
		"NotifyShareTargetOption": "DoNotNotify",
		"principal":               principal,
	}}}}
	if _, err := c.postJSON(ctx, c.powerApps(envID, "apps/"+url.PathEscape(appName)+"/modifyPermissions", true), true, body, nil); err != nil {
		return fmt.Errorf("share canvas app %s with %s %s as %s: %w", appName, principal.Type, principal.ID, role, err)
	}
	return nil
}

// AppPermissionOf reads a canvas app's permissions until principalID holds
// one, and returns it: a share can take a while to show in the list
// (coe-starter-kit #5611, #7519 saw shares answered as done that were not
// there). It polls with the client's poll interval, doubling up to 10 s,
// for at most the propagation wait (WithSharePropagation, default 2
// minutes); the error wraps ErrNotFound when it never shows.
func (c *Client) AppPermissionOf(ctx context.Context, envID, appName, principalID string) (*AppPermission, error) {
	wait := max(c.pollInterval, time.Millisecond)
	var waited time.Duration
	for {
		perms, err := c.CanvasAppPermissions(ctx, envID, appName)
		if err != nil {
			return nil, err
		}
		for i := range perms {
			if strings.EqualFold(perms[i].Principal.ID, principalID) {
				return &perms[i], nil
			}
		}
		if waited >= c.sharePropagation {
			return nil, fmt.Errorf("%s is not in the permissions of canvas app %s after %s: %w", principalID, appName, c.sharePropagation, ErrNotFound)
		}
		if waited > 0 {
			c.logf("canvas app %s: the share with %s does not show yet; looking again in %s", appName, principalID, wait)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
		wait = min(wait*2, 10*time.Second)
	}
}

// Connection is a connection in the Power Apps API.
type Connection struct {
	Name        string // what connectionreferences.connectionid holds
	ID          string
	ConnectorID string // /providers/Microsoft.PowerApps/apis/shared_office365
	DisplayName string
	Status      string // first status, e.g. Connected
	CreatedBy   Principal
}

// ListConnections lists the connections of an environment with their creators.
func (c *Client) ListConnections(ctx context.Context, envID string) ([]Connection, error) {
	rows, err := list[struct {
		Name       string `json:"name"`
		ID         string `json:"id"`
		Properties struct {
			APIID       string `json:"apiId"`
			DisplayName string `json:"displayName"`
			Statuses    []struct {
				Status string `json:"status"`
			} `json:"statuses"`
			CreatedBy Principal `json:"createdBy"`
		} `json:"properties"`
	}](ctx, c, c.powerApps(envID, "connections", false))
	if err != nil {
		return nil, fmt.Errorf("list connections of environment %s: %w", envID, err)
	}
	out := make([]Connection, len(rows))
	for i, r := range rows {
		out[i] = Connection{Name: r.Name, ID: r.ID, ConnectorID: r.Properties.APIID,
			DisplayName: r.Properties.DisplayName, CreatedBy: r.Properties.CreatedBy}
		if len(r.Properties.Statuses) > 0 {
			out[i].Status = r.Properties.Statuses[0].Status
		}
	}
	return out, nil
}

// ConnectionPermissions lists a connection's role assignments: its owner
// (roleName Owner) and the principals it is shared with, as the Power Apps
// admin module's Get-AdminPowerAppConnectionRoleAssignment reads them
// (api-version 2017-06-01). connectorID may be the full
// /providers/Microsoft.PowerApps/apis/shared_x id or shared_x.
func (c *Client) ConnectionPermissions(ctx context.Context, envID, connectorID, connectionName string) ([]AppPermission, error) {
	connector := connectorID[strings.LastIndexByte(connectorID, '/')+1:]
	perms, err := c.permissions(ctx, c.powerAppsVersion(envID, "apis/"+url.PathEscape(connector)+"/connections/"+url.PathEscape(connectionName)+"/permissions", false, "2017-06-01"))
	if err != nil {
		return nil, fmt.Errorf("list permissions of connection %s: %w", connectionName, err)
	}
	return perms, nil
}

// GraphUser is a Microsoft Graph user.
type GraphUser struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
}

// GraphGroup is a Microsoft Graph group.
type GraphGroup struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	Mail            string `json:"mail"`
	SecurityEnabled bool   `json:"securityEnabled"`
}

// GraphUser looks up a user by object id or user principal name. A 403
// wraps ErrDirectoryForbidden.
func (c *Client) GraphUser(ctx context.Context, idOrUPN string) (*GraphUser, error) {
	var u GraphUser
	if err := c.graphGet(ctx, "users/"+url.PathEscape(idOrUPN), &u); err != nil {
		return nil, fmt.Errorf("look up user %s in Graph: %w", idOrUPN, err)
	}
	return &u, nil
}

// GraphGroup looks up a group by object id. A 403 wraps ErrDirectoryForbidden.
func (c *Client) GraphGroup(ctx context.Context, id string) (*GraphGroup, error) {
	var g GraphGroup
	if err := c.graphGet(ctx, "groups/"+url.PathEscape(id), &g); err != nil {
		return nil, fmt.Errorf("look up group %s in Graph: %w", id, err)
	}
	return &g, nil
}

func (c *Client) graphGet(ctx context.Context, path string, out any) error {
	err := c.getJSON(ctx, c.graphURL.String()+"/v1.0/"+path, out)
	if StatusCode(err) == 403 {
		return fmt.Errorf("%w: %w", ErrDirectoryForbidden, err)
	}
	return err
}
