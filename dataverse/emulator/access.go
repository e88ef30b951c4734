package emulator

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// Record sharing (GrantAccess and the principalobjectaccess rows it
// keeps) and the registrations a solution carries in customizations.xml
// beside its processes: service endpoints, plug-in steps (with their
// secure configurations) and custom connectors.

// Component types of the registrations.
const (
	typePluginStep      = 92
	typeServiceEndpoint = 95
	typeConnector       = 371
	typeConnectorV2     = 372 // what newer exports write for a custom connector
)

// accessRights are the AccessRights flags GrantAccess takes by name.
var accessRights = map[string]int{
	"ReadAccess": 1, "WriteAccess": 2, "AppendAccess": 4, "AppendToAccess": 16, "CreateAccess": 32,
	"DeleteAccess": 65536, "ShareAccess": 262144, "AssignAccess": 524288,
}

// SharedAccess is one principal's access to a record granted with
// GrantAccess (a principalobjectaccess row).
type SharedAccess struct {
	ObjectID      string // the shared record
	ObjectType    string // its entity logical name: workflow, connector
	PrincipalID   string
	PrincipalType string // team or systemuser
	// AccessMask is the granted rights as flag names joined by ", " in
	// ascending bit order, e.g. "ReadAccess".
	AccessMask string
}

// SharedAccess returns the access granted on a record in an environment,
// in the order it was first granted.
func (e *Emulator) SharedAccess(environment, objectID string) []SharedAccess {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(environment)]
	if !ok {
		return nil
	}
	var out []SharedAccess
	for _, r := range env.t("principalobjectaccessset").filter(func(r record) bool { return valuesEqual(r["objectid"], objectID) }) {
		out = append(out, SharedAccess{ObjectID: str(r["objectid"]), ObjectType: str(r["objecttypecode"]),
			PrincipalID: str(r["principalid"]), PrincipalType: str(r["principaltypecode"]),
			AccessMask: maskNames(mustInt(r["accessrightsmask"]))})
	}
	return out
}

func maskNames(mask int) string {
	type flag struct {
		name string
		bit  int
	}
	var flags []flag
	for n, b := range accessRights {
		if mask&b != 0 {
			flags = append(flags, flag{n, b})
		}
	}
	sort.Slice(flags, func(i, j int) bool { return flags[i].bit < flags[j].bit })
	names := make([]string, len(flags))
	for i, f := range flags {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// parseAccessMask reads an AccessRights value: flag names joined by
// commas, as OData writes a flags enum, or its number.
func parseAccessMask(v any) (int, error) {
	s := strings.TrimSpace(str(v))
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n, nil
	}
	mask := 0
	for _, part := range strings.Split(s, ",") {
		b, ok := accessRights[strings.TrimSpace(part)]
		if !ok {
			return 0, fmt.Errorf("AccessMask %q: %q is not an AccessRights member: expected names such as ReadAccess, WriteAccess, AppendAccess, AppendToAccess, ShareAccess, AssignAccess, DeleteAccess", s, strings.TrimSpace(part))
		}
		mask |= b
	}
	return mask, nil
}

// entityParameter resolves an action parameter naming a row:
// {"<entity>id":"…","@odata.type":"Microsoft.Dynamics.CRM.<entity>"}.
func (c *webCall) entityParameter(what string, v any) (*table, record, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %s is missing or not an object: expected {\"<entity>id\":\"…\",\"@odata.type\":\"Microsoft.Dynamics.CRM.<entity>\"}", what)
	}
	typ := strings.TrimPrefix(str(m["@odata.type"]), "#")
	logical, ok := strings.CutPrefix(typ, "Microsoft.Dynamics.CRM.")
	if !ok {
		return nil, nil, errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %s @odata.type %q: expected Microsoft.Dynamics.CRM.<entity>", what, typ)
	}
	var t *table
	for _, tbl := range c.env.tables {
		if tbl.logical == logical {
			t = tbl
		}
	}
	if t == nil {
		return nil, nil, errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %s: entity %q does not exist", what, logical)
	}
	id := str(m[t.key])
	if !isGUID(id) {
		return nil, nil, errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %s: %s %q is not a GUID", what, t.key, id)
	}
	row, ok := t.get(id)
	if !ok {
		return nil, nil, notFound(t, id)
	}
	return t, row, nil
}

// grantAccess serves POST GrantAccess: the principal's rights on the
// record are added to what it has (granting twice changes nothing).
func (c *webCall) grantAccess() error {
	body, err := c.actionBody("GrantAccess", "Target", "PrincipalAccess")
	if err != nil {
		return err
	}
	tt, target, err := c.entityParameter("Target", body["Target"])
	if err != nil {
		return err
	}
	if !columnSets()[tt.set]["_ownerid_value"] {
		return errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %s records are organization-owned and cannot be shared", tt.logical)
	}
	pa, ok := body["PrincipalAccess"].(map[string]any)
	if !ok {
		return errf(http.StatusBadRequest, "0x80040203", "GrantAccess: PrincipalAccess is missing: expected {\"Principal\":{…},\"AccessMask\":\"ReadAccess\"}")
	}
	pt, principal, err := c.entityParameter("PrincipalAccess.Principal", pa["Principal"])
	if err != nil {
		return err
	}
	if pt.set != "teams" && pt.set != "systemusers" {
		return errf(http.StatusBadRequest, "0x80040203", "GrantAccess: PrincipalAccess.Principal must be a team or a systemuser, not a %s", pt.logical)
	}
	mask, err := parseAccessMask(pa["AccessMask"])
	if err != nil {
		return errf(http.StatusBadRequest, "0x80040203", "GrantAccess: %v", err)
	}
	objectID, principalID := str(target[tt.key]), str(principal[pt.key])
	poa := c.env.t("principalobjectaccessset")
	rows := poa.filter(func(r record) bool {
		return valuesEqual(r["objectid"], objectID) && valuesEqual(r["principalid"], principalID)
	})
	if len(rows) > 0 {
		rows[0]["accessrightsmask"] = mustInt(rows[0]["accessrightsmask"]) | mask
		rows[0]["changedon"] = c.now.Format(time.RFC3339)
	} else {
		poa.put(record{"principalobjectaccessid": newUUID(), "objectid": objectID, "objecttypecode": tt.logical,
			"principalid": principalID, "principaltypecode": pt.logical, "accessrightsmask": mask,
			"inheritedaccessrightsmask": 0, "changedon": c.now.Format(time.RFC3339)})
	}
	c.e.record(c.env, "grant-access", objectID, fmt.Sprintf("%s %s: %s", pt.logical, principalID, maskNames(mask)), c.who)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// dropAccess removes the shares of a deleted record.
func (env *environment) dropAccess(objectID string) {
	poa := env.t("principalobjectaccessset")
	for _, r := range poa.filter(func(r record) bool { return valuesEqual(r["objectid"], objectID) }) {
		poa.remove(str(r["principalobjectaccessid"]))
	}
}

// deleteRegistration removes a registration component's row (a plug-in
// step takes its secure configuration with it).
func (env *environment) deleteRegistration(componentType int, objectID string) {
	switch componentType {
	case typePluginStep:
		if step, ok := env.t("sdkmessageprocessingsteps").get(objectID); ok {
			if sc := str(step["_sdkmessageprocessingstepsecureconfigid_value"]); sc != "" {
				env.t("sdkmessageprocessingstepsecureconfigs").remove(sc)
			}
		}
		env.t("sdkmessageprocessingsteps").remove(objectID)
	case typeServiceEndpoint:
		env.t("serviceendpoints").remove(objectID)
	case typeConnector, typeConnectorV2:
		env.t("connectors").remove(objectID)
	}
}

// registrations is the part of customizations.xml the import reads here.
type registrations struct {
	Steps []struct {
		ID            string `xml:"SdkMessageProcessingStepId,attr"`
		Name          string `xml:"Name,attr"`
		Description   string `xml:"Description"`
		Configuration string `xml:"CustomConfiguration"`
		Stage         int    `xml:"Stage"`
		Mode          int    `xml:"Mode"`
		Rank          int    `xml:"Rank"`
		Filtering     string `xml:"FilteringAttributes"`
		EventHandler  string `xml:"EventHandler"`
		PluginTypeID  string `xml:"PluginTypeId"`
		MessageID     string `xml:"SdkMessageId"`
		StateCode     *int   `xml:"StateCode"`
	} `xml:"SdkMessageProcessingSteps>SdkMessageProcessingStep"`
	Endpoints []struct {
		ID                string `xml:"ServiceEndpointId,attr"`
		Name              string `xml:"Name,attr"`
		Description       string `xml:"Description"`
		Contract          int    `xml:"Contract"`
		ConnectionMode    int    `xml:"ConnectionMode"`
		URL               string `xml:"Url"`
		Path              string `xml:"Path"`
		NamespaceAddress  string `xml:"NamespaceAddress"`
		SolutionNamespace string `xml:"SolutionNamespace"`
		AuthType          int    `xml:"AuthType"`
		MessageFormat     int    `xml:"MessageFormat"`
	} `xml:"ServiceEndpoints>ServiceEndpoint"`
	Connectors []struct {
		ID            string `xml:"connectorid"`
		Name          string `xml:"name"`
		DisplayName   string `xml:"displayname"`
		Description   string `xml:"description"`
		ConnectorType int    `xml:"connectortype"`
	} `xml:"Connectors>Connector"`
}

// importRegistrations creates or updates the service endpoints, plug-in
// steps and custom connectors of customizations.xml and adds them to the
// solution. A step keeps the secure configuration already linked to it
// (exports never carry one).
func importRegistrations(env *environment, sol *solution.Solution, solID, userID string, now time.Time) {
	data := sol.Files["customizations.xml"]
	if data == nil {
		for k, b := range sol.Files {
			if strings.EqualFold(k, "customizations.xml") {
				data = b
			}
		}
	}
	var regs registrations
	if xml.Unmarshal(data, &regs) != nil {
		return // the solution reader accepted the file; nothing here to add
	}
	ts := now.Format(time.RFC3339)
	upsert := func(set string, id string, owned bool, fields record) {
		t := env.t(set)
		row, exists := t.get(id)
		if !exists {
			row = record{t.key: id, "createdon": ts, "_createdby_value": userID, "versionnumber": 0}
			if owned {
				row["_ownerid_value"] = userID
			}
		}
		for k, v := range fields {
			row[k] = v
		}
		row["ismanaged"], row["modifiedon"], row["_modifiedby_value"] = sol.Managed, ts, userID
		row["versionnumber"] = mustInt(row["versionnumber"]) + 1
		t.put(row)
	}
	for _, ep := range regs.Endpoints {
		id := normID(ep.ID)
		upsert("serviceendpoints", id, false, record{"name": ep.Name, "description": nilIfEmpty(ep.Description),
			"contract": ep.Contract, "connectionmode": ep.ConnectionMode, "url": nilIfEmpty(ep.URL), "path": nilIfEmpty(ep.Path),
			"namespaceaddress": nilIfEmpty(ep.NamespaceAddress), "solutionnamespace": nilIfEmpty(ep.SolutionNamespace),
			"authtype": ep.AuthType, "messageformat": ep.MessageFormat})
		env.addComponent(solID, typeServiceEndpoint, id, now)
	}
	for _, s := range regs.Steps {
		id := normID(s.ID)
		state := 0
		if s.StateCode != nil {
			state = *s.StateCode
		}
		fields := record{"name": s.Name, "description": nilIfEmpty(s.Description), "stage": s.Stage, "mode": s.Mode,
			"rank": s.Rank, "filteringattributes": nilIfEmpty(s.Filtering), "statecode": state, "statuscode": state + 1,
			"_eventhandler_value": nilIfEmpty(normID(s.EventHandler)), "_plugintypeid_value": nilIfEmpty(normID(s.PluginTypeID)),
			"_sdkmessageid_value": nilIfEmpty(normID(s.MessageID))}
		// An import writes the unsecure configuration the package carries,
		// which is why plugin-step-config runs after every import.
		fields["configuration"] = nilIfEmpty(s.Configuration)
		if _, ok := env.t("sdkmessageprocessingsteps").get(id); !ok {
			fields["_sdkmessageprocessingstepsecureconfigid_value"] = nil
		}
		upsert("sdkmessageprocessingsteps", id, true, fields)
		env.addComponent(solID, typePluginStep, id, now)
	}
	for _, cn := range regs.Connectors {
		id := normID(cn.ID)
		if !isGUID(id) {
			continue
		}
		upsert("connectors", id, true, record{"name": cn.Name, "displayname": cn.DisplayName,
			"description": nilIfEmpty(cn.Description), "connectortype": cn.ConnectorType})
		env.addComponent(solID, typeConnectorV2, id, now)
	}
}

// updateRegistration applies a PATCH to a service endpoint or a plug-in
// step: a url must be absolute http(s), a secure configuration link must
// name a secure configuration row. The audit never holds configuration
// values.
func (c *webCall) updateRegistration(t *table, row record, changes record) error {
	switch t.set {
	case "serviceendpoints":
		if v, ok := changes["url"]; ok && v != nil {
			u, err := url.Parse(str(v))
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return errf(http.StatusBadRequest, "0x80040203", "serviceendpoint %s: url %q is not an absolute http(s) URL", str(row["name"]), str(v))
			}
		}
	case "sdkmessageprocessingsteps":
		if set, ok := changes["_sdkmessageprocessingstepsecureconfigid_value@set"]; ok && set != "sdkmessageprocessingstepsecureconfigs" {
			return errf(http.StatusBadRequest, "0x80040203", "sdkmessageprocessingstepsecureconfigid must be bound to /sdkmessageprocessingstepsecureconfigs(id), not %s", str(set))
		}
	}
	if err := c.updateGeneric(t, row, changes); err != nil {
		return err
	}
	var cols []string
	for k := range changes {
		if !strings.HasSuffix(k, "@set") {
			cols = append(cols, k)
		}
	}
	sort.Strings(cols)
	c.e.record(c.env, "update-"+t.logical, str(row[t.key]), strings.Join(cols, ","), c.who)
	return nil
}
