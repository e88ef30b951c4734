package dataverse

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// What the maker app's Configure Deployment Settings screen reads besides
// the Web API: the environments a maker can reach (BAP), Entra groups by
// name (Graph $search), and the values a connector offers for a data
// source environment variable (the connector's own API, through one of the
// maker's connections).

const bapAPIVersion = "2020-10-01"

// bapURL is the Business Application Platform API's base: in Microsoft's
// public cloud api.bap.microsoft.com serves what api.powerapps.com's
// callers need of environments; anywhere else (the emulator, a proxy) the
// Power Apps base serves both.
func (c *Client) bapURL() string {
	if strings.EqualFold(c.powerAppsURL.Host, "api.powerapps.com") {
		return "https://api.bap.microsoft.com"
	}
	return strings.TrimRight(c.powerAppsURL.String(), "/")
}

// MakerEnvironment is an environment the signed-in maker can reach.
type MakerEnvironment struct {
	ID          string // the environment id (BAP name)
	DisplayName string
	SKU         string // Sandbox, Production, Developer, …
	// URL is the Dataverse environment URL (linkedEnvironmentMetadata
	// instanceUrl); empty for an environment without Dataverse.
	URL string
}

// MakerEnvironments lists the environments the caller has access to: the
// maker's list (GET /providers/Microsoft.BusinessAppPlatform/environments),
// not the admin one, so it needs no admin role.
func (c *Client) MakerEnvironments(ctx context.Context) ([]MakerEnvironment, error) {
	rows, err := list[struct {
		Name       string `json:"name"`
		Properties struct {
			DisplayName    string `json:"displayName"`
			EnvironmentSku string `json:"environmentSku"`
			Linked         *struct {
				InstanceURL string `json:"instanceUrl"`
			} `json:"linkedEnvironmentMetadata"`
		} `json:"properties"`
	}](ctx, c, c.bapURL()+"/providers/Microsoft.BusinessAppPlatform/environments?api-version="+bapAPIVersion)
	if err != nil {
		return nil, fmt.Errorf("list the environments you can reach: %w", err)
	}
	out := make([]MakerEnvironment, 0, len(rows))
	for _, r := range rows {
		e := MakerEnvironment{ID: r.Name, DisplayName: r.Properties.DisplayName, SKU: r.Properties.EnvironmentSku}
		if r.Properties.Linked != nil {
			e.URL = strings.TrimRight(r.Properties.Linked.InstanceURL, "/")
		}
		out = append(out, e)
	}
	return out, nil
}

// SearchGroups finds Entra groups whose display name has a word starting
// with term (Graph's $search on displayName, which needs the
// ConsistencyLevel: eventual header), at most top of them, sorted by
// name. A 403 wraps ErrDirectoryForbidden.
func (c *Client) SearchGroups(ctx context.Context, term string, top int) ([]GraphGroup, error) {
	// The search string is quoted; a quote or backslash inside it would
	// end or escape the quoting.
	term = strings.NewReplacer(`"`, "", `\`, "").Replace(strings.TrimSpace(term))
	if term == "" {
		return nil, fmt.Errorf("search groups: the search text is empty")
	}
	if top <= 0 || top > 999 {
		top = 25
	}
	q := url.Values{
		"$search": {`"displayName:` + term + `"`}, "$count": {"true"}, "$top": {strconv.Itoa(top)},
		"$select": {"id,displayName,mail,securityEnabled"}, "$orderby": {"displayName"},
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.graphURL.String() + "/v1.0/groups?" + q.Encode(), idempotent: true,
		header: map[string]string{"ConsistencyLevel": "eventual"}})
	if StatusCode(err) == http.StatusForbidden {
		err = fmt.Errorf("%w: %w", ErrDirectoryForbidden, err)
	}
	if err != nil {
		return nil, fmt.Errorf("search groups for %q in Graph: %w", term, err)
	}
	var page struct {
		Value []GraphGroup `json:"value"`
	}
	if err := decode(resp.body, &page); err != nil {
		return nil, fmt.Errorf("search groups for %q in Graph: %w", term, err)
	}
	return page.Value, nil
}

// DataSourceItem is one value a connector offers: a SharePoint site
// (Name is its URL) or list (Name is its id).
type DataSourceItem struct {
	Name        string `json:"Name"`
	DisplayName string `json:"DisplayName"`
}

// connectorRuntime finds where calls through a connector's connections go
// in environment envID: the API resource's primaryRuntimeUrl.
func (c *Client) connectorRuntime(ctx context.Context, envID, connectorID string) (string, error) {
	api := connectorID[strings.LastIndex(connectorID, "/")+1:]
	if api == "" {
		return "", fmt.Errorf("connector id %q: expected /providers/Microsoft.PowerApps/apis/shared_…", connectorID)
	}
	var res struct {
		Properties struct {
			PrimaryRuntimeURL string   `json:"primaryRuntimeUrl"`
			RuntimeURLs       []string `json:"runtimeUrls"`
		} `json:"properties"`
	}
	u := c.powerAppsURL.String() + "/providers/Microsoft.PowerApps/apis/" + url.PathEscape(api) +
		"?api-version=" + powerAppsAPIVersion + "&$filter=" + url.PathEscape("environment eq '"+envID+"'")
	if err := c.getJSON(ctx, u, &res); err != nil {
		return "", fmt.Errorf("look up connector %s: %w", api, err)
	}
	rt := res.Properties.PrimaryRuntimeURL
	if rt == "" && len(res.Properties.RuntimeURLs) > 0 {
		rt = res.Properties.RuntimeURLs[0]
	}
	if rt == "" {
		return "", fmt.Errorf("look up connector %s: the answer names no runtime URL", api)
	}
	return strings.TrimRight(rt, "/"), nil
}

// ConnectorDataSets lists the data sets a connection reaches: for the
// SharePoint connector, the sites (GetDataSets). The call runs as the
// caller through connectionName, which the caller must own or have been
// shared.
func (c *Client) ConnectorDataSets(ctx context.Context, envID, connectorID, connectionName string) ([]DataSourceItem, error) {
	rt, err := c.connectorRuntime(ctx, envID, connectorID)
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []DataSourceItem `json:"value"`
	}
	if err := c.getJSON(ctx, rt+"/"+url.PathEscape(connectionName)+"/datasets", &page); err != nil {
		return nil, fmt.Errorf("list data sets through connection %s: %w", connectionName, err)
	}
	return page.Value, nil
}

// ConnectorTables lists the tables of a data set: for SharePoint, the
// lists of the site dataset (its URL), with their ids as Name ("Get
// lists").
func (c *Client) ConnectorTables(ctx context.Context, envID, connectorID, connectionName, dataset string) ([]DataSourceItem, error) {
	rt, err := c.connectorRuntime(ctx, envID, connectorID)
	if err != nil {
		return nil, err
	}
	var page struct {
		Value []DataSourceItem `json:"value"`
	}
	if err := c.getJSON(ctx, rt+"/"+url.PathEscape(connectionName)+"/datasets/"+url.PathEscape(dataset)+"/tables", &page); err != nil {
		return nil, fmt.Errorf("list the tables of %s through connection %s: %w", dataset, connectionName, err)
	}
	return page.Value, nil
}

// ListSystemUsers lists the people who can own a flow or an app in the
// environment (the Configure screen's owner picker): enabled users with an
// Entra object id whose access mode is a person's (0 read-write,
// 1 administrative, 2 read; application users, non-interactive, support and
// delegated admin users are left out), sorted by name. term, when not
// empty, keeps those whose name or e-mail starts with it; top (when > 0)
// caps the rows asked for.
func (c *Client) ListSystemUsers(ctx context.Context, term string, top int) ([]SystemUser, error) {
	filter := "isdisabled eq false and applicationid eq null and azureactivedirectoryobjectid ne null and (accessmode eq 0 or accessmode eq 1 or accessmode eq 2)"
	if t := strings.TrimSpace(term); t != "" {
		filter += " and (startswith(fullname," + quote(t) + ") or startswith(internalemailaddress," + quote(t) + "))"
	}
	args := []string{"$select", systemUserColumns, "$filter", filter, "$orderby", "fullname asc"}
	if top > 0 {
		args = append(args, "$top", strconv.Itoa(top))
	}
	users, err := list[SystemUser](ctx, c, c.api("systemusers", args...))
	if err != nil {
		return nil, fmt.Errorf("list the users of %s: %w", c.envURL.Host, err)
	}
	return users, nil
}

// ListRoles lists the security roles of a business unit, sorted by name:
// what a group team can be given.
func (c *Client) ListRoles(ctx context.Context, businessUnitID string) ([]Role, error) {
	roles, err := list[Role](ctx, c, c.api("roles", "$select", "roleid,name,_businessunitid_value",
		"$filter", "_businessunitid_value eq "+businessUnitID, "$orderby", "name asc"))
	if err != nil {
		return nil, fmt.Errorf("list the security roles of business unit %s: %w", businessUnitID, err)
	}
	return roles, nil
}
