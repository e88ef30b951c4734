package dataverse

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Record sharing (GrantAccess), custom connectors, service endpoints and
// plug-in step configuration: what the post-import configuration steps
// share-flows, share-connectors, webhook-urls and plugin-step-config call.

// AccessReadAccess is the AccessRights flag that lets a principal read a
// record; GrantAccess takes flag names joined by ", ".
const AccessReadAccess = "ReadAccess"

// EntityRef names one row for an action parameter: its entity logical name
// and id.
type EntityRef struct {
	Entity string // logical name: workflow, connector, team, systemuser
	ID     string
}

// marshal renders the reference the way the Web API expects a typed entity
// parameter: {"<entity>id":"…","@odata.type":"Microsoft.Dynamics.CRM.<entity>"}.
func (r EntityRef) marshal() map[string]string {
	return map[string]string{r.Entity + "id": r.ID, "@odata.type": "Microsoft.Dynamics.CRM." + r.Entity}
}

// GrantAccess shares a record with a principal (a team or a systemuser)
// with the given access rights (AccessReadAccess, or several flag names
// joined by ", "). Granting what a principal already has changes nothing,
// so the call is safe to repeat.
func (c *Client) GrantAccess(ctx context.Context, target, principal EntityRef, accessMask string) error {
	body := map[string]any{
		"Target": target.marshal(),
		"PrincipalAccess": map[string]any{
			"Principal":  principal.marshal(),
			"AccessMask": accessMask,
		},
	}
	if _, err := c.postJSON(ctx, c.api("GrantAccess"), true, body, nil); err != nil {
		return fmt.Errorf("grant %s on %s %s to %s %s: %w", accessMask, target.Entity, target.ID, principal.Entity, principal.ID, err)
	}
	return nil
}

// Connector is a row of connectors (a custom connector).
type Connector struct {
	ID            string `json:"connectorid"`
	Name          string `json:"name"`
	DisplayName   string `json:"displayname"`
	ConnectorType int    `json:"connectortype"`
}

// GetConnector reads one custom connector.
func (c *Client) GetConnector(ctx context.Context, id string) (*Connector, error) {
	var conn Connector
	if err := c.getJSON(ctx, c.api("connectors("+id+")", "$select", "connectorid,name,displayname,connectortype"), &conn); err != nil {
		return nil, fmt.Errorf("read connector %s: %w", id, err)
	}
	return &conn, nil
}

// ServiceEndpoint is a row of serviceendpoints (a webhook, Service Bus or
// Event Hub endpoint plug-in steps post to).
type ServiceEndpoint struct {
	ID       string `json:"serviceendpointid"`
	Name     string `json:"name"`
	URL      string `json:"url"`
	Contract int    `json:"contract"`
}

// ServiceEndpointContractWebhook is serviceendpoints.contract of a webhook.
const ServiceEndpointContractWebhook = 8

// ServiceEndpointByName finds a service endpoint by its name.
func (c *Client) ServiceEndpointByName(ctx context.Context, name string) (*ServiceEndpoint, error) {
	eps, err := list[ServiceEndpoint](ctx, c, c.api("serviceendpoints",
		"$select", "serviceendpointid,name,url,contract", "$filter", "name eq "+quote(name)))
	if err != nil {
		return nil, fmt.Errorf("find service endpoint %q: %w", name, err)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("find service endpoint %q in %s: %w", name, c.envURL.Host, ErrNotFound)
	}
	return &eps[0], nil
}

// SetServiceEndpointURL changes the URL a service endpoint posts to.
func (c *Client) SetServiceEndpointURL(ctx context.Context, id, endpointURL string) error {
	if err := c.patchJSON(ctx, c.api("serviceendpoints("+id+")"), map[string]string{"url": endpointURL}); err != nil {
		return fmt.Errorf("set url of service endpoint %s: %w", id, err)
	}
	return nil
}

// PluginStep is a row of sdkmessageprocessingsteps. Configuration is the
// unsecure configuration; the secure one lives in a linked
// sdkmessageprocessingstepsecureconfigs row.
type PluginStep struct {
	ID             string `json:"sdkmessageprocessingstepid"`
	Name           string `json:"name"`
	Configuration  string `json:"configuration"`
	SecureConfigID string `json:"_sdkmessageprocessingstepsecureconfigid_value"`
}

// GetPluginStep reads one plug-in step.
func (c *Client) GetPluginStep(ctx context.Context, id string) (*PluginStep, error) {
	var s PluginStep
	if err := c.getJSON(ctx, c.api("sdkmessageprocessingsteps("+id+")",
		"$select", "sdkmessageprocessingstepid,name,configuration,_sdkmessageprocessingstepsecureconfigid_value"), &s); err != nil {
		return nil, fmt.Errorf("read plug-in step %s: %w", id, err)
	}
	return &s, nil
}

// SetPluginStepConfiguration sets a plug-in step's unsecure configuration.
func (c *Client) SetPluginStepConfiguration(ctx context.Context, id, configuration string) error {
	if err := c.patchJSON(ctx, c.api("sdkmessageprocessingsteps("+id+")"), map[string]string{"configuration": configuration}); err != nil {
		return fmt.Errorf("set configuration of plug-in step %s: %w", id, err)
	}
	return nil
}

// SetPluginStepSecureConfiguration sets a plug-in step's secure
// configuration: it updates the linked secure configuration row, or creates
// one and links it. The value never appears in an error.
func (c *Client) SetPluginStepSecureConfiguration(ctx context.Context, step *PluginStep, secure string) error {
	body := map[string]string{"secureconfig": secure}
	if step.SecureConfigID != "" {
		if err := c.patchJSON(ctx, c.api("sdkmessageprocessingstepsecureconfigs("+step.SecureConfigID+")"), body); err != nil {
			return fmt.Errorf("update secure configuration %s of plug-in step %s: %w", step.SecureConfigID, step.ID, err)
		}
		return nil
	}
	// The id is chosen here so an ambiguous failure can be checked instead
	// of creating a second row.
	id := uuid.NewString()
	body["sdkmessageprocessingstepsecureconfigid"] = id
	_, err := c.postJSON(ctx, c.api("sdkmessageprocessingstepsecureconfigs"), false, body, nil)
	if uncertain(err) {
		var probe struct {
			ID string `json:"sdkmessageprocessingstepsecureconfigid"`
		}
		if getErr := c.getJSON(ctx, c.api("sdkmessageprocessingstepsecureconfigs("+id+")",
			"$select", "sdkmessageprocessingstepsecureconfigid"), &probe); getErr == nil {
			err = nil
		} else if !errors.Is(getErr, ErrNotFound) {
			err = fmt.Errorf("%w (then checking for the row: %w)", err, getErr)
		}
	}
	if err != nil {
		return fmt.Errorf("create secure configuration of plug-in step %s: %w", step.ID, err)
	}
	link := map[string]string{"sdkmessageprocessingstepsecureconfigid@odata.bind": "/sdkmessageprocessingstepsecureconfigs(" + id + ")"}
	if err := c.patchJSON(ctx, c.api("sdkmessageprocessingsteps("+step.ID+")"), link); err != nil {
		return fmt.Errorf("link secure configuration %s to plug-in step %s: %w", id, step.ID, err)
	}
	step.SecureConfigID = id
	return nil
}
