package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ppalm/ppalm/solution"
)

// flowError wraps a Flow service error the way Dataverse reports it.
func flowError(httpStatus string, code, message string) *apiError {
	inner, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return errf(http.StatusBadRequest, "0x80060467", "Flow client error returned with status code %q and details %q.", httpStatus, string(inner))
}

// checkActivation says why a cloud flow cannot be turned on by user: each
// connection reference it uses must be bound to an existing connection the
// user created or has shared, and each child flow it calls must be on.
func checkActivation(env *environment, wf record, user User) error {
	if mustNum(wf["category"]) != solution.CategoryModernFlow {
		return nil
	}
	refs, children, err := solution.ParseFlowDefinition([]byte(str(wf["clientdata"])))
	if err != nil {
		return flowError("BadRequest", "InvalidFlowDefinition", fmt.Sprintf("The flow definition (clientdata) of %s is not valid: %v", str(wf["workflowid"]), err))
	}
	for _, ln := range refs {
		row, ok := env.t("connectionreferences").find("connectionreferencelogicalname", ln)
		if !ok {
			return flowError("BadRequest", "XrmConnectionReferenceNotFound", fmt.Sprintf("Connection reference with logical name '%s' was not found in this environment.", ln))
		}
		connID := str(row["connectionid"])
		if connID == "" {
			return flowError("BadRequest", "XrmConnectionReferenceMissingConnection", fmt.Sprintf("Connection Id missing for connection reference logical name '%s'.", ln))
		}
		conn, ok := env.connection(connID)
		if !ok {
			return flowError("BadRequest", "ConnectionNotFound", fmt.Sprintf("The connection '%s' of connection reference '%s' does not exist in this environment.", connID, ln))
		}
		if !conn.canUse(user) {
			return flowError("Forbidden", "ConnectionAuthorizationFailed", fmt.Sprintf(
				"The caller object id is '%s'. Connection '%s' to '%s' cannot be used to activate this flow, either because this is not a valid connection or because it is not a connection you have access permission for. Either replace the connection with a valid connection you can access or have the connection owner activate the flow, so the connection is shared with you in the context of this flow.",
				user.ObjectID, conn.name, connectorName(conn.connectorID)))
		}
	}
	for _, child := range children {
		cw, ok := env.t("workflows").get(child)
		if !ok || mustNum(cw["statecode"]) != 1 {
			name := child
			if ok {
				name = str(cw["name"])
			}
			return flowError("BadRequest", "ChildFlowNeverPublished", fmt.Sprintf("The workflow with id '%s', name '%s' cannot be used as a child workflow because child workflows must be published before they can be called. Turn on the child flow first.", child, name))
		}
		if invokerConnections([]byte(str(cw["clientdata"]))) {
			return flowError("BadRequest", "ChildFlowUnsupportedForInvokerConnections", fmt.Sprintf("The workflow with id '%s', name '%s' cannot be used as a child workflow because child workflows only support embedded connections.", child, str(cw["name"])))
		}
	}
	return nil
}

// invokerConnections reports whether a flow definition takes any connection
// from its run-only user ("runtimeSource": "invoker") rather than embedding
// it; such a flow cannot be called as a child flow.
func invokerConnections(clientdata []byte) bool {
	var def struct {
		Properties struct {
			ConnectionReferences map[string]struct {
				RuntimeSource string `json:"runtimeSource"`
			} `json:"connectionReferences"`
		} `json:"properties"`
	}
	if json.Unmarshal(clientdata, &def) != nil {
		return false
	}
	for _, cr := range def.Properties.ConnectionReferences {
		if strings.EqualFold(cr.RuntimeSource, "invoker") {
			return true
		}
	}
	return false
}

// updateWorkflow applies a PATCH to a workflow: owner changes go to
// existing users or teams only; turning a cloud flow on runs the activation
// checks as the effective caller.
func (c *webCall) updateWorkflow(row record, changes record) error {
	id := str(row["workflowid"])
	if owner, ok := changes["_ownerid_value"]; ok {
		set := str(changes["_ownerid_value@set"])
		if set != "systemusers" && set != "teams" {
			return errf(http.StatusBadRequest, "0x80040203", "ownerid must be bound to /systemusers(id) or /teams(id), not %s", set)
		}
		if set == "systemusers" {
			if u, _ := c.env.t("systemusers").get(str(owner)); u["isdisabled"] == true {
				return errf(http.StatusBadRequest, "0x80040203", "systemuser %s is disabled and cannot own records", str(owner))
			}
		}
	}
	state, hasState := changes["statecode"]
	status, hasStatus := changes["statuscode"]
	if hasState {
		s, _ := num(state)
		switch s {
		case 0:
			if hasStatus && mustNum(status) != 1 {
				return errf(http.StatusBadRequest, "0x80040203", "statuscode %v is not valid for statecode 0 (Draft): expected 1", status)
			}
			changes["statuscode"] = 1
		case 1:
			if hasStatus && mustNum(status) != 2 {
				return errf(http.StatusBadRequest, "0x80040203", "statuscode %v is not valid for statecode 1 (Activated): expected 2", status)
			}
			changes["statuscode"] = 2
			if c.who.effective.ObjectID != c.who.authenticated.ObjectID && mustNum(row["category"]) == solution.CategoryModernFlow {
				// The service no longer turns cloud flows on as an
				// impersonated user: activate as the caller, with the
				// connections shared with it.
				return flowError("BadRequest", "ImpersonatedActivationNotSupported", fmt.Sprintf(
					"The flow %s cannot be turned on on behalf of another user (CallerObjectId %s): activation with impersonation is not supported. Turn it on as the calling identity (object id %s) and share the flow's connections with it.",
					str(row["workflowid"]), c.who.effective.ObjectID, c.who.authenticated.ObjectID))
			}
			if err := checkActivation(c.env, row, c.who.effective); err != nil {
				return err
			}
		default:
			return errf(http.StatusBadRequest, "0x80040203", "statecode %v is not valid for a workflow: expected 0 (Draft) or 1 (Activated)", state)
		}
	} else if hasStatus {
		return errf(http.StatusBadRequest, "0x80040203", "statuscode without statecode: send both, e.g. {\"statecode\":1,\"statuscode\":2}")
	}
	if cd, ok := changes["clientdata"]; ok {
		if _, _, err := solution.ParseFlowDefinition([]byte(str(cd))); err != nil && mustNum(row["category"]) == solution.CategoryModernFlow {
			return errf(http.StatusBadRequest, "0x80040203", "clientdata is not a valid flow definition: %v", err)
		}
	}
	before := row.clone()
	for k, v := range changes {
		if !strings.HasSuffix(k, "@set") {
			row[k] = v
		}
	}
	c.touch(row)
	if owner, ok := changes["_ownerid_value"]; ok && !valuesEqual(before["_ownerid_value"], owner) {
		c.e.record(c.env, "assign-owner", id, str(owner), c.who)
	}
	if hasState {
		action := "deactivate-flow"
		if mustNum(state) == 1 {
			action = "activate-flow"
		}
		c.e.record(c.env, action, id, str(row["name"]), c.who)
	}
	return nil
}

// checkBinding validates a connection reference's connectionid: the
// connection must exist, be of the reference's connector, and be usable by
// the caller.
func (c *webCall) checkBinding(row record) error {
	connID := str(row["connectionid"])
	if connID == "" {
		return nil
	}
	conn, ok := c.env.connection(connID)
	if !ok {
		return errf(http.StatusBadRequest, "0x80040203", "Connection %q does not exist in environment %s.", connID, c.env.id)
	}
	if want := str(row["connectorid"]); want != "" && !strings.EqualFold(connectorName(want), connectorName(conn.connectorID)) {
		return errf(http.StatusBadRequest, "0x80040203", "Connection %q is a %s connection but connection reference %q needs %s.", connID, connectorName(conn.connectorID), str(row["connectionreferencelogicalname"]), connectorName(want))
	}
	if !conn.canUse(c.who.effective) {
		return errf(http.StatusForbidden, "0x80040220", "The caller (object id %s) neither owns connection %q nor has it shared, so it cannot bind connection reference %q.", c.who.effective.ObjectID, connID, str(row["connectionreferencelogicalname"]))
	}
	row["connectionid"] = conn.name
	return nil
}

func (c *webCall) updateConnectionReference(row record, changes record) error {
	next := row.clone()
	for k, v := range changes {
		next[k] = v
	}
	if err := c.checkBinding(next); err != nil {
		return err
	}
	for k, v := range changes {
		if !strings.HasSuffix(k, "@set") {
			row[k] = v
		}
	}
	row["connectionid"] = next["connectionid"]
	c.touch(row)
	if _, ok := changes["connectionid"]; ok {
		c.e.record(c.env, "bind-connection-reference", str(row["connectionreferencelogicalname"]), str(row["connectionid"]), c.who)
	}
	return nil
}

func (c *webCall) updateSolution(row record, changes record) error {
	for k := range changes {
		switch k {
		case "version", "friendlyname", "description":
		default:
			return errf(http.StatusBadRequest, "0x80040203", "Column %s of a solution cannot be updated: expected version, friendlyname or description", k)
		}
	}
	if v, ok := changes["version"]; ok {
		if row["ismanaged"] == true {
			return errf(http.StatusBadRequest, "0x80048054", "The version of managed solution %s cannot be changed.", str(row["uniquename"]))
		}
		if err := solution.CheckVersion(str(v)); err != nil {
			return errf(http.StatusBadRequest, "0x80040203", "version: %v", err)
		}
	}
	for k, v := range changes {
		row[k] = v
	}
	c.touch(row)
	return nil
}

func (c *webCall) deleteSolution(row record) error {
	if _, pending := c.env.solutionByName(str(row["uniquename"]) + "_Upgrade"); pending {
		return errf(http.StatusBadRequest, "0x8004F00D", "Solution %s has an upgrade pending: apply or delete %s_Upgrade first.", str(row["uniquename"]), str(row["uniquename"]))
	}
	c.e.uninstall(c.env, row)
	c.e.record(c.env, "delete-solution", str(row["uniquename"]), "", c.who)
	return nil
}

func (c *webCall) createEnvironmentValue(changes record) (record, error) {
	defID := str(changes["_environmentvariabledefinitionid_value"])
	if defID == "" {
		return nil, errf(http.StatusBadRequest, "0x80040203", "EnvironmentVariableDefinitionId@odata.bind is required: expected /environmentvariabledefinitions(id)")
	}
	def, _ := c.env.t("environmentvariabledefinitions").get(defID)
	if _, dup := c.env.t("environmentvariablevalues").find("_environmentvariabledefinitionid_value", defID); dup {
		return nil, errf(http.StatusBadRequest, "0x80040237", "A record with matching key values already exists: environment variable %s already has a current value; PATCH it instead.", str(def["schemaname"]))
	}
	if _, ok := changes["schemaname"]; !ok {
		changes["schemaname"] = def["schemaname"]
	}
	if err := checkVariableValue(int(mustNum(def["type"])), str(changes["value"])); err != nil {
		return nil, errf(http.StatusBadRequest, "0x80040203", "environment variable %s: %v", str(def["schemaname"]), err)
	}
	return c.createGeneric(c.env.t("environmentvariablevalues"), changes)
}

// createTeam creates a team; an Entra group team must name an existing
// group and be unique per group and membership type.
func (c *webCall) createTeam(changes record) (record, error) {
	oid := normID(str(changes["azureactivedirectoryobjectid"]))
	teamType := int(mustNum(changes["teamtype"]))
	if oid != "" {
		g, ok := groupByID(oid)
		if !ok {
			return nil, errf(http.StatusBadRequest, "0x80040203", "The Microsoft Entra group %s does not exist in tenant %s.", oid, TenantID)
		}
		membership := changes["membershiptype"]
		if membership == nil {
			membership = 0
			changes["membershiptype"] = 0
		}
		if _, ok := changes["teamtype"]; !ok {
			changes["teamtype"], teamType = 2, 2
		}
		dup := c.env.t("teams").filter(func(r record) bool {
			return valuesEqual(r["azureactivedirectoryobjectid"], oid) && valuesEqual(r["membershiptype"], membership)
		})
		if len(dup) > 0 {
			return nil, errf(http.StatusBadRequest, "0x80040237", "A record with matching key values already exists: a team for Entra object id %s with membershiptype %v exists (%s).", oid, membership, str(dup[0]["teamid"]))
		}
		if str(changes["name"]) == "" {
			changes["name"] = g.DisplayName
		}
		changes["azureactivedirectoryobjectid"] = oid
	}
	if teamType == 2 || teamType == 3 {
		if oid == "" {
			return nil, errf(http.StatusBadRequest, "0x80040203", "A team of teamtype %d needs azureactivedirectoryobjectid (the Entra group object id)", teamType)
		}
	}
	if str(changes["name"]) == "" {
		return nil, errf(http.StatusBadRequest, "0x80040203", "name is required for a team")
	}
	if str(changes["_businessunitid_value"]) == "" {
		changes["_businessunitid_value"] = c.env.rootBU
	}
	row, err := c.createGeneric(c.env.t("teams"), changes)
	if err == nil {
		c.e.record(c.env, "create-team", str(row["teamid"]), str(row["name"]), c.who)
	}
	return row, err
}

// navigation serves teams(id)/teamroles_association and its $ref forms.
func (c *webCall) navigation(t *table, row record, nav []string) {
	seg := parseSegment(nav[0])
	if t.set != "teams" || seg.name != "teamroles_association" {
		writeError(c.w, http.StatusNotFound, "0x80060888", fmt.Sprintf("Resource not found for the segment '%s'.", nav[0]))
		return
	}
	teamID := str(row["teamid"])
	roles := c.env.t("roles")
	isRef := len(nav) > 1 && nav[1] == "$ref"
	switch {
	case c.r.Method == http.MethodGet && !seg.hasArgs && len(nav) == 1:
		var rows []record
		for _, id := range c.env.teamRoles[teamID] {
			if r, ok := roles.get(id); ok {
				rows = append(rows, r)
			}
		}
		q, err := c.query()
		if err != nil {
			writeAPIError(c.w, err)
			return
		}
		c.listRows("roles", "roleid", q, q.apply(rows))
	case c.r.Method == http.MethodPost && !seg.hasArgs && isRef:
		body, err := c.readBody()
		if err != nil {
			writeAPIError(c.w, err)
			return
		}
		rt, role, err := c.bindTarget(body["@odata.id"])
		if err == nil && rt.set != "roles" {
			err = errf(http.StatusBadRequest, "0x80040203", "@odata.id must name /roles(id)")
		}
		if err != nil {
			writeAPIError(c.w, err)
			return
		}
		if !valuesEqual(role["_businessunitid_value"], row["_businessunitid_value"]) {
			writeError(c.w, http.StatusBadRequest, "0x80040203", fmt.Sprintf("Role %s belongs to another business unit than team %s: pick the role copy in the team's business unit.", str(role["roleid"]), teamID))
			return
		}
		roleID := str(role["roleid"])
		for _, id := range c.env.teamRoles[teamID] {
			if id == roleID {
				c.w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		c.env.teamRoles[teamID] = append(c.env.teamRoles[teamID], roleID)
		c.e.record(c.env, "associate-team-role", teamID, str(role["name"]), c.who)
		c.w.WriteHeader(http.StatusNoContent)
	case c.r.Method == http.MethodDelete && seg.hasArgs && isRef:
		roleID := normID(seg.args)
		list := c.env.teamRoles[teamID]
		for i, id := range list {
			if id == roleID {
				c.env.teamRoles[teamID] = append(list[:i:i], list[i+1:]...)
				c.e.record(c.env, "disassociate-team-role", teamID, roleID, c.who)
				c.w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeError(c.w, http.StatusNotFound, "0x80040217", fmt.Sprintf("role %s is not associated with team %s", roleID, teamID))
	default:
		writeError(c.w, http.StatusMethodNotAllowed, "0x80060888", fmt.Sprintf("%s is not supported on teams(id)/%s", c.r.Method, strings.Join(nav, "/")))
	}
}
