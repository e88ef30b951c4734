package dataverse

import (
	"context"
	"fmt"
	"strings"
)

// Workflow is a row of workflows; cloud flows have Category 5.
type Workflow struct {
	ID         string `json:"workflowid"`
	Name       string `json:"name"`
	Category   int    `json:"category"`
	StateCode  int    `json:"statecode"`
	StatusCode int    `json:"statuscode"`
	OwnerID    string `json:"_ownerid_value"`
	ClientData string `json:"clientdata"`
}

// CategoryCloudFlow is workflows.category of a cloud flow ("Modern Flow").
const CategoryCloudFlow = 5

// On reports whether the workflow is activated.
func (w *Workflow) On() bool { return w.StateCode == 1 }

const workflowColumns = "workflowid,name,category,statecode,statuscode,_ownerid_value,clientdata"

// GetWorkflow reads one workflow.
func (c *Client) GetWorkflow(ctx context.Context, id string) (*Workflow, error) {
	var w Workflow
	if err := c.getJSON(ctx, c.api("workflows("+id+")", "$select", workflowColumns), &w); err != nil {
		return nil, fmt.Errorf("read workflow %s: %w", id, err)
	}
	return &w, nil
}

// ListSolutionFlows returns the cloud flows (category 5) of a solution.
func (c *Client) ListSolutionFlows(ctx context.Context, solutionID string) ([]Workflow, error) {
	comps, err := c.SolutionComponents(ctx, solutionID, ComponentWorkflow)
	if err != nil {
		return nil, err
	}
	var flows []Workflow
	for _, comp := range comps {
		w, err := c.GetWorkflow(ctx, comp.ObjectID)
		if err != nil {
			return nil, fmt.Errorf("list flows of solution %s: %w", solutionID, err)
		}
		if w.Category == CategoryCloudFlow {
			flows = append(flows, *w)
		}
	}
	return flows, nil
}

// SetWorkflowState turns a workflow on (statecode 1, statuscode 2) or off
// (0, 1). Call it on an Impersonate client to activate as another user.
func (c *Client) SetWorkflowState(ctx context.Context, id string, on bool) error {
	body := map[string]int{"statecode": 0, "statuscode": 1}
	verb := "turn off"
	if on {
		body = map[string]int{"statecode": 1, "statuscode": 2}
		verb = "turn on"
	}
	if err := c.patchJSON(ctx, c.api("workflows("+id+")"), body); err != nil {
		return fmt.Errorf("%s flow %s: %w", verb, id, err)
	}
	return nil
}

// SetWorkflowOwner assigns a workflow to a systemuser.
func (c *Client) SetWorkflowOwner(ctx context.Context, id, systemUserID string) error {
	body := map[string]string{"ownerid@odata.bind": "/systemusers(" + systemUserID + ")"}
	if err := c.patchJSON(ctx, c.api("workflows("+id+")"), body); err != nil {
		return fmt.Errorf("set owner of flow %s to systemuser %s: %w", id, systemUserID, err)
	}
	return nil
}

// SystemUser is a row of systemusers.
type SystemUser struct {
	ID         string `json:"systemuserid"`
	ObjectID   string `json:"azureactivedirectoryobjectid"`
	DomainName string `json:"domainname"`
	Email      string `json:"internalemailaddress"`
	FullName   string `json:"fullname"`
	IsDisabled bool   `json:"isdisabled"`
	// ApplicationID is set for an application user (a service principal).
	ApplicationID string `json:"applicationid"`
}

const systemUserColumns = "systemuserid,azureactivedirectoryobjectid,domainname,internalemailaddress,fullname,isdisabled,applicationid"

// Me returns the calling identity's systemuser (WhoAmI, then its row):
// for an application user, the service principal's Entra object id and
// application id.
func (c *Client) Me(ctx context.Context) (*SystemUser, error) {
	w, err := c.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	var u SystemUser
	if err := c.getJSON(ctx, c.api("systemusers("+w.UserID+")", "$select", systemUserColumns), &u); err != nil {
		return nil, fmt.Errorf("read the calling systemuser %s: %w", w.UserID, err)
	}
	return &u, nil
}

func (c *Client) findSystemUser(ctx context.Context, what, filter string) (*SystemUser, error) {
	users, err := list[SystemUser](ctx, c, c.api("systemusers", "$select", systemUserColumns, "$filter", filter))
	if err != nil {
		return nil, fmt.Errorf("find systemuser %s: %w", what, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("find systemuser %s in %s: %w", what, c.envURL.Host, ErrNotFound)
	}
	return &users[0], nil
}

// SystemUserByObjectID finds the systemuser of an Entra object id.
func (c *Client) SystemUserByObjectID(ctx context.Context, objectID string) (*SystemUser, error) {
	return c.findSystemUser(ctx, "with object id "+objectID, "azureactivedirectoryobjectid eq "+objectID)
}

// SystemUserByEmail finds a systemuser by e-mail or sign-in name.
func (c *Client) SystemUserByEmail(ctx context.Context, email string) (*SystemUser, error) {
	q := quote(email)
	return c.findSystemUser(ctx, fmt.Sprintf("%q", email), "internalemailaddress eq "+q+" or domainname eq "+q)
}

// SystemUserByID finds a systemuser by its systemuserid (WhoAmI's UserId).
func (c *Client) SystemUserByID(ctx context.Context, id string) (*SystemUser, error) {
	return c.findSystemUser(ctx, "with id "+id, "systemuserid eq "+id)
}

// BusinessUnitByID returns the business unit with id.
func (c *Client) BusinessUnitByID(ctx context.Context, id string) (*BusinessUnit, error) {
	bus, err := list[BusinessUnit](ctx, c, c.api("businessunits",
		"$select", "businessunitid,name", "$filter", "businessunitid eq "+id))
	if err != nil {
		return nil, fmt.Errorf("find business unit %s: %w", id, err)
	}
	if len(bus) == 0 {
		return nil, fmt.Errorf("find business unit %s in %s: %w", id, c.envURL.Host, ErrNotFound)
	}
	return &bus[0], nil
}

// BusinessUnit is a row of businessunits.
type BusinessUnit struct {
	ID   string `json:"businessunitid"`
	Name string `json:"name"`
}

// RootBusinessUnit returns the business unit without a parent.
func (c *Client) RootBusinessUnit(ctx context.Context) (*BusinessUnit, error) {
	bus, err := list[BusinessUnit](ctx, c, c.api("businessunits",
		"$select", "businessunitid,name", "$filter", "_parentbusinessunitid_value eq null"))
	if err != nil {
		return nil, fmt.Errorf("find root business unit: %w", err)
	}
	if len(bus) == 0 {
		return nil, fmt.Errorf("find root business unit in %s: %w", c.envURL.Host, ErrNotFound)
	}
	return &bus[0], nil
}

// Team is a row of teams.
type Team struct {
	ID             string `json:"teamid"`
	Name           string `json:"name"`
	TeamType       int    `json:"teamtype"`
	BusinessUnitID string `json:"_businessunitid_value"`
}

// TeamTypeEntraGroup is teams.teamtype of a Microsoft Entra security group team.
const TeamTypeEntraGroup = 2

// TeamByGroupID finds the group team (members and guests) of an Entra group.
func (c *Client) TeamByGroupID(ctx context.Context, groupID string) (*Team, error) {
	teams, err := list[Team](ctx, c, c.api("teams",
		"$select", "teamid,name,teamtype,_businessunitid_value",
		"$filter", "azureactivedirectoryobjectid eq "+groupID+" and membershiptype eq 0"))
	if err != nil {
		return nil, fmt.Errorf("find team of group %s: %w", groupID, err)
	}
	if len(teams) == 0 {
		return nil, fmt.Errorf("find team of group %s in %s: %w", groupID, c.envURL.Host, ErrNotFound)
	}
	return &teams[0], nil
}

// CreateGroupTeam creates a team for an Entra security group in a business
// unit and returns its id. After an ambiguous failure it looks the team up
// instead of creating a second one.
func (c *Client) CreateGroupTeam(ctx context.Context, name, groupID, businessUnitID string) (string, error) {
	body := map[string]any{
		"name":                         name,
		"teamtype":                     TeamTypeEntraGroup,
		"membershiptype":               0,
		"azureactivedirectoryobjectid": groupID,
		"businessunitid@odata.bind":    "/businessunits(" + businessUnitID + ")",
	}
	resp, err := c.postJSON(ctx, c.api("teams"), false, body, nil)
	if uncertain(err) {
		if t, findErr := c.TeamByGroupID(ctx, groupID); findErr == nil {
			return t.ID, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("create team %q for group %s: %w", name, groupID, err)
	}
	id, err := entityID(resp)
	if err != nil {
		return "", fmt.Errorf("create team %q for group %s: %w", name, groupID, err)
	}
	return id, nil
}

// Role is a row of roles.
type Role struct {
	ID             string `json:"roleid"`
	Name           string `json:"name"`
	BusinessUnitID string `json:"_businessunitid_value,omitempty"`
}

// RoleByName finds the copy of a security role in a business unit.
func (c *Client) RoleByName(ctx context.Context, name, businessUnitID string) (*Role, error) {
	roles, err := list[Role](ctx, c, c.api("roles",
		"$select", "roleid,name,_businessunitid_value",
		"$filter", "name eq "+quote(name)+" and _businessunitid_value eq "+businessUnitID))
	if err != nil {
		return nil, fmt.Errorf("find role %q: %w", name, err)
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("find role %q in business unit %s: %w", name, businessUnitID, ErrNotFound)
	}
	return &roles[0], nil
}

// TeamRoles lists the roles of a team.
func (c *Client) TeamRoles(ctx context.Context, teamID string) ([]Role, error) {
	roles, err := list[Role](ctx, c, c.api("teams("+teamID+")/teamroles_association", "$select", "roleid,name"))
	if err != nil {
		return nil, fmt.Errorf("list roles of team %s: %w", teamID, err)
	}
	return roles, nil
}

// AssociateTeamRole gives a team a role.
func (c *Client) AssociateTeamRole(ctx context.Context, teamID, roleID string) error {
	_, err := c.postJSON(ctx, c.api("teams("+teamID+")/teamroles_association/$ref"), true,
		map[string]string{"@odata.id": c.api("roles(" + roleID + ")")}, nil)
	if err != nil {
		return fmt.Errorf("give team %s role %s: %w", teamID, roleID, err)
	}
	return nil
}

// DisassociateTeamRole takes a role from a team.
func (c *Client) DisassociateTeamRole(ctx context.Context, teamID, roleID string) error {
	if err := c.deleteURL(ctx, c.api("teams("+teamID+")/teamroles_association("+roleID+")/$ref")); err != nil {
		return fmt.Errorf("take role %s from team %s: %w", roleID, teamID, err)
	}
	return nil
}

// ConnectionReference is a row of connectionreferences.
type ConnectionReference struct {
	ID           string `json:"connectionreferenceid"`
	LogicalName  string `json:"connectionreferencelogicalname"`
	DisplayName  string `json:"connectionreferencedisplayname"`
	ConnectorID  string `json:"connectorid"`
	ConnectionID string `json:"connectionid"`
}

// ListConnectionReferences lists connection references, only those with the
// given logical names when any are given.
func (c *Client) ListConnectionReferences(ctx context.Context, logicalNames ...string) ([]ConnectionReference, error) {
	q := []string{"$select", "connectionreferenceid,connectionreferencelogicalname,connectionreferencedisplayname,connectorid,connectionid"}
	if f := anyOf("connectionreferencelogicalname", logicalNames); f != "" {
		q = append(q, "$filter", f)
	}
	refs, err := list[ConnectionReference](ctx, c, c.api("connectionreferences", q...))
	if err != nil {
		return nil, fmt.Errorf("list connection references: %w", err)
	}
	return refs, nil
}

// SetConnectionReferenceConnection binds a connection reference to a
// connection (the connection's name in the Power Apps API).
func (c *Client) SetConnectionReferenceConnection(ctx context.Context, id, connectionID string) error {
	if err := c.patchJSON(ctx, c.api("connectionreferences("+id+")"), map[string]string{"connectionid": connectionID}); err != nil {
		return fmt.Errorf("set connection of connection reference %s: %w", id, err)
	}
	return nil
}

// anyOf builds "col eq 'a' or col eq 'b'"; "" for no values.
func anyOf(column string, values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = column + " eq " + quote(v)
	}
	return strings.Join(parts, " or ")
}

// EnvironmentVariableDefinition is a row of environmentvariabledefinitions.
type EnvironmentVariableDefinition struct {
	ID           string `json:"environmentvariabledefinitionid"`
	SchemaName   string `json:"schemaname"`
	Type         int    `json:"type"`
	DefaultValue string `json:"defaultvalue"`
}

// EnvironmentVariableValue is a row of environmentvariablevalues.
type EnvironmentVariableValue struct {
	ID           string `json:"environmentvariablevalueid"`
	SchemaName   string `json:"schemaname"`
	Value        string `json:"value"`
	DefinitionID string `json:"_environmentvariabledefinitionid_value"`
}

// ListEnvironmentVariableDefinitions lists definitions, only those with the
// given schema names when any are given.
func (c *Client) ListEnvironmentVariableDefinitions(ctx context.Context, schemaNames ...string) ([]EnvironmentVariableDefinition, error) {
	q := []string{"$select", "environmentvariabledefinitionid,schemaname,type,defaultvalue"}
	if f := anyOf("schemaname", schemaNames); f != "" {
		q = append(q, "$filter", f)
	}
	defs, err := list[EnvironmentVariableDefinition](ctx, c, c.api("environmentvariabledefinitions", q...))
	if err != nil {
		return nil, fmt.Errorf("list environment variable definitions: %w", err)
	}
	return defs, nil
}

// ListEnvironmentVariableValues lists the values of one definition.
func (c *Client) ListEnvironmentVariableValues(ctx context.Context, definitionID string) ([]EnvironmentVariableValue, error) {
	vals, err := list[EnvironmentVariableValue](ctx, c, c.api("environmentvariablevalues",
		"$select", "environmentvariablevalueid,schemaname,value,_environmentvariabledefinitionid_value",
		"$filter", "_environmentvariabledefinitionid_value eq "+definitionID))
	if err != nil {
		return nil, fmt.Errorf("list values of environment variable %s: %w", definitionID, err)
	}
	return vals, nil
}

// CreateEnvironmentVariableValue creates the value of a definition and
// returns its id. After an ambiguous failure it adopts a value that appeared.
func (c *Client) CreateEnvironmentVariableValue(ctx context.Context, definitionID, schemaName, value string) (string, error) {
	body := map[string]string{
		"schemaname": schemaName,
		"value":      value,
		// The navigation property's name, not the lookup column's: the
		// service refuses the lower-case form (0x80048d19).
		"EnvironmentVariableDefinitionId@odata.bind": "/environmentvariabledefinitions(" + definitionID + ")",
	}
	resp, err := c.postJSON(ctx, c.api("environmentvariablevalues"), false, body, nil)
	if uncertain(err) {
		if vals, findErr := c.ListEnvironmentVariableValues(ctx, definitionID); findErr == nil && len(vals) > 0 {
			if vals[0].Value != value {
				if err := c.UpdateEnvironmentVariableValue(ctx, vals[0].ID, value); err != nil {
					return "", err
				}
			}
			return vals[0].ID, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("create value of environment variable %q: %w", schemaName, err)
	}
	id, err := entityID(resp)
	if err != nil {
		return "", fmt.Errorf("create value of environment variable %q: %w", schemaName, err)
	}
	return id, nil
}

// UpdateEnvironmentVariableValue changes an existing value row.
func (c *Client) UpdateEnvironmentVariableValue(ctx context.Context, valueID, value string) error {
	if err := c.patchJSON(ctx, c.api("environmentvariablevalues("+valueID+")"), map[string]string{"value": value}); err != nil {
		return fmt.Errorf("update environment variable value %s: %w", valueID, err)
	}
	return nil
}

// CanvasApp is a row of canvasapps.
type CanvasApp struct {
	ID          string `json:"canvasappid"`
	Name        string `json:"name"`
	DisplayName string `json:"displayname"`
	UniqueID    string `json:"uniquecanvasappid"`
}

// AppName is the id the Power Apps API knows the app by: uniquecanvasappid
// when set, else canvasappid (as the ALM accelerator does).
func (a *CanvasApp) AppName() string {
	if a.UniqueID != "" {
		return a.UniqueID
	}
	return a.ID
}

const canvasAppColumns = "canvasappid,name,displayname,uniquecanvasappid"

// CanvasAppByName finds a canvas app by its schema name.
func (c *Client) CanvasAppByName(ctx context.Context, name string) (*CanvasApp, error) {
	apps, err := list[CanvasApp](ctx, c, c.api("canvasapps", "$select", canvasAppColumns, "$filter", "name eq "+quote(name)))
	if err != nil {
		return nil, fmt.Errorf("find canvas app %q: %w", name, err)
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("find canvas app %q in %s: %w", name, c.envURL.Host, ErrNotFound)
	}
	return &apps[0], nil
}

// ListSolutionCanvasApps returns the canvas apps of a solution.
func (c *Client) ListSolutionCanvasApps(ctx context.Context, solutionID string) ([]CanvasApp, error) {
	comps, err := c.SolutionComponents(ctx, solutionID, ComponentCanvasApp)
	if err != nil {
		return nil, err
	}
	apps := make([]CanvasApp, 0, len(comps))
	for _, comp := range comps {
		var a CanvasApp
		if err := c.getJSON(ctx, c.api("canvasapps("+comp.ObjectID+")", "$select", canvasAppColumns), &a); err != nil {
			return nil, fmt.Errorf("list canvas apps of solution %s: %w", solutionID, err)
		}
		apps = append(apps, a)
	}
	return apps, nil
}

// ListSolutionEnvironmentVariables returns the environment variable
// definitions of a solution.
func (c *Client) ListSolutionEnvironmentVariables(ctx context.Context, solutionID string) ([]EnvironmentVariableDefinition, error) {
	comps, err := c.SolutionComponents(ctx, solutionID, ComponentEnvironmentVariableDefinition)
	if err != nil {
		return nil, err
	}
	defs := make([]EnvironmentVariableDefinition, 0, len(comps))
	for _, comp := range comps {
		var d EnvironmentVariableDefinition
		if err := c.getJSON(ctx, c.api("environmentvariabledefinitions("+comp.ObjectID+")",
			"$select", "environmentvariabledefinitionid,schemaname,type,defaultvalue"), &d); err != nil {
			return nil, fmt.Errorf("list environment variables of solution %s: %w", solutionID, err)
		}
		defs = append(defs, d)
	}
	return defs, nil
}

// ConnectionReferenceComponentType resolves the environment-specific
// solution component type of connection references.
func (c *Client) ConnectionReferenceComponentType(ctx context.Context) (int, error) {
	defs, err := list[struct {
		Type int `json:"solutioncomponenttype"`
	}](ctx, c, c.api("solutioncomponentdefinitions",
		"$select", "solutioncomponenttype", "$filter", "primaryentityname eq 'connectionreference'"))
	if err != nil {
		return 0, fmt.Errorf("resolve component type of connection references: %w", err)
	}
	if len(defs) == 0 {
		return 0, fmt.Errorf("resolve component type of connection references in %s: %w", c.envURL.Host, ErrNotFound)
	}
	return defs[0].Type, nil
}

// ListSolutionConnectionReferences returns the connection references of a
// solution.
func (c *Client) ListSolutionConnectionReferences(ctx context.Context, solutionID string) ([]ConnectionReference, error) {
	t, err := c.ConnectionReferenceComponentType(ctx)
	if err != nil {
		return nil, err
	}
	comps, err := c.SolutionComponents(ctx, solutionID, t)
	if err != nil {
		return nil, err
	}
	refs := make([]ConnectionReference, 0, len(comps))
	for _, comp := range comps {
		var r ConnectionReference
		if err := c.getJSON(ctx, c.api("connectionreferences("+comp.ObjectID+")",
			"$select", "connectionreferenceid,connectionreferencelogicalname,connectionreferencedisplayname,connectorid,connectionid"), &r); err != nil {
			return nil, fmt.Errorf("list connection references of solution %s: %w", solutionID, err)
		}
		refs = append(refs, r)
	}
	return refs, nil
}
