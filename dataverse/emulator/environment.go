package emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// Component type codes (solutioncomponents.componenttype).
const (
	typeEntity                = 1
	typeWorkflow              = 29
	typeCanvasApp             = 300
	typeEnvironmentVariable   = 380
	typeEnvironmentValue      = 381
	typeConnectionReference   = 10132 // environment-specific in the real service; resolve via solutioncomponentdefinitions
	connectionReferenceEntity = "connectionreference"
)

// environment is one Dataverse organisation with its Power Apps side.
type environment struct {
	name   string
	id     string // environment id (Power Apps / BAP)
	orgID  string
	rootBU string
	tables map[string]*table

	solutionFiles map[string]*solution.Solution // by solutionid: what an export writes
	solutionZips  map[string][]byte             // by solutionid: the imported zip, copied entry by entry on export
	connections   []*connection
	appPerms      map[string][]*appPermission // by canvasappid
	teamRoles     map[string][]string         // teamid -> roleids
	ops           map[string]*asyncOp
	opOrder       []string                  // asyncoperation ids in submission order
	exports       map[string][]byte         // exportjobid -> zip
	staged        map[string][]byte         // StageSolutionUploadId -> zip
	outcomes      map[string]*importOutcome // importjobid -> RetrieveSolutionImportResult
}

// connection is a Power Apps connection in one environment.
type connection struct {
	name        string
	connectorID string
	displayName string
	createdBy   User
	createdOn   time.Time
	sharedWith  map[string]string // object id -> role
}

type appPermission struct {
	id            string // principal id
	roleName      string
	principalType string
	email         string
	// visibleAt is when a share made with a share-delay fault shows in
	// the permissions; before, prevRole shows ("" hides the entry).
	visibleAt time.Time
	prevRole  string
}

var tableDefs = [][3]string{
	{"solutions", "solution", "solutionid"},
	{"solutioncomponents", "solutioncomponent", "solutioncomponentid"},
	{"solutioncomponentdefinitions", "solutioncomponentdefinition", "solutioncomponentdefinitionid"},
	{"publishers", "publisher", "publisherid"},
	{"asyncoperations", "asyncoperation", "asyncoperationid"},
	{"importjobs", "importjob", "importjobid"},
	{"workflows", "workflow", "workflowid"},
	{"connectionreferences", "connectionreference", "connectionreferenceid"},
	{"environmentvariabledefinitions", "environmentvariabledefinition", "environmentvariabledefinitionid"},
	{"environmentvariablevalues", "environmentvariablevalue", "environmentvariablevalueid"},
	{"systemusers", "systemuser", "systemuserid"},
	{"canvasapps", "canvasapp", "canvasappid"},
	{"teams", "team", "teamid"},
	{"businessunits", "businessunit", "businessunitid"},
	{"roles", "role", "roleid"},
	{"entities", "entity", "entityid"},
	{"serviceendpoints", "serviceendpoint", "serviceendpointid"},
	{"sdkmessageprocessingsteps", "sdkmessageprocessingstep", "sdkmessageprocessingstepid"},
	{"sdkmessageprocessingstepsecureconfigs", "sdkmessageprocessingstepsecureconfig", "sdkmessageprocessingstepsecureconfigid"},
	{"connectors", "connector", "connectorid"},
	{"principalobjectaccessset", "principalobjectaccess", "principalobjectaccessid"},
}

func newEnvironment(name string, now time.Time) *environment {
	key := strings.ToLower(name)
	env := &environment{
		name: name, id: nameUUID("environment:" + key), orgID: nameUUID("organization:" + key),
		tables: map[string]*table{}, solutionFiles: map[string]*solution.Solution{}, solutionZips: map[string][]byte{},
		appPerms: map[string][]*appPermission{}, teamRoles: map[string][]string{},
		ops: map[string]*asyncOp{}, exports: map[string][]byte{}, staged: map[string][]byte{}, outcomes: map[string]*importOutcome{},
	}
	for _, d := range tableDefs {
		env.tables[d[0]] = newTable(d[0], d[1], d[2])
	}
	ts := now.UTC().Format(time.RFC3339)
	env.rootBU = nameUUID("businessunit:" + key)
	env.t("businessunits").put(record{"businessunitid": env.rootBU, "name": "contoso-" + key,
		"_parentbusinessunitid_value": nil, "createdon": ts})
	for _, role := range StandardRoles {
		env.t("roles").put(record{"roleid": nameUUID("role:" + key + ":" + role), "name": role,
			"_businessunitid_value": env.rootBU, "ismanaged": true})
	}
	for _, u := range Users {
		accessMode := 0
		if u.ApplicationID != "" {
			accessMode = 4 // non-interactive
		}
		env.t("systemusers").put(record{
			"systemuserid": u.SystemUserID(name), "fullname": u.Name, "domainname": u.Email,
			"internalemailaddress": u.Email, "azureactivedirectoryobjectid": u.ObjectID,
			"applicationid": nilIfEmpty(u.ApplicationID), "isdisabled": false, "accessmode": accessMode,
			"_businessunitid_value": env.rootBU, "createdon": ts,
		})
	}
	defs := []struct {
		entity string
		typ    int
		name   string
	}{
		{"entity", typeEntity, "Entity"}, {"workflow", typeWorkflow, "Workflow"},
		{"canvasapp", typeCanvasApp, "Canvas App"},
		{"environmentvariabledefinition", typeEnvironmentVariable, "Environment Variable Definition"},
		{"environmentvariablevalue", typeEnvironmentValue, "Environment Variable Value"},
		{connectionReferenceEntity, typeConnectionReference, "Connection Reference"},
	}
	for _, d := range defs {
		env.t("solutioncomponentdefinitions").put(record{
			"solutioncomponentdefinitionid": nameUUID("componentdefinition:" + d.entity),
			"primaryentityname":             d.entity, "solutioncomponenttype": d.typ, "name": d.name,
		})
	}
	return env
}

func (env *environment) t(set string) *table { return env.tables[set] }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ensureConnection returns the environment's connection for a connector,
// creating one owned by owner and shared with ServicePrincipal.
func (env *environment) ensureConnection(connectorID string, owner User, now time.Time) *connection {
	for _, c := range env.connections {
		if strings.EqualFold(c.connectorID, connectorID) {
			return c
		}
	}
	h := sha1.Sum([]byte(env.id + "|" + strings.ToLower(connectorID)))
	c := &connection{
		name: hex.EncodeToString(h[:16]), connectorID: connectorID, displayName: owner.Email,
		createdBy: owner, createdOn: now.UTC(), sharedWith: map[string]string{ServicePrincipal.ObjectID: "CanEdit"},
	}
	env.connections = append(env.connections, c)
	return c
}

func (env *environment) connection(name string) (*connection, bool) {
	for _, c := range env.connections {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return nil, false
}

// canUse says whether a user may bind or run a flow with the connection:
// its creator and the users it is shared with may.
func (c *connection) canUse(u User) bool {
	if strings.EqualFold(c.createdBy.ObjectID, u.ObjectID) {
		return true
	}
	_, ok := c.sharedWith[u.ObjectID]
	return ok
}

// connectorName returns shared_x from /providers/Microsoft.PowerApps/apis/shared_x.
func connectorName(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}

func (env *environment) userByObjectID(oid string) (record, bool) {
	return env.t("systemusers").find("azureactivedirectoryobjectid", normID(oid))
}

func (env *environment) solutionByName(name string) (record, bool) {
	return env.t("solutions").find("uniquename", name)
}

// components returns the solution's component rows.
func (env *environment) components(solutionID string) []record {
	return env.t("solutioncomponents").filter(func(r record) bool {
		return valuesEqual(r["_solutionid_value"], solutionID)
	})
}

// inOtherSolution says whether an object is a component of a solution other
// than the excluded ones.
func (env *environment) inOtherSolution(objectID string, exclude ...string) bool {
	for _, r := range env.t("solutioncomponents").all() {
		if !valuesEqual(r["objectid"], objectID) {
			continue
		}
		skip := false
		for _, x := range exclude {
			if valuesEqual(r["_solutionid_value"], x) {
				skip = true
			}
		}
		if !skip {
			return true
		}
	}
	return false
}

// deleteComponent removes a component's row from its table (and what
// depends on it).
func (env *environment) deleteComponent(componentType int, objectID string) {
	env.dropAccess(objectID)
	switch componentType {
	case typeEntity:
		env.t("entities").remove(objectID)
	case typeWorkflow:
		env.t("workflows").remove(objectID)
	case typeCanvasApp:
		env.t("canvasapps").remove(objectID)
		delete(env.appPerms, normID(objectID))
	case typeEnvironmentVariable:
		env.t("environmentvariabledefinitions").remove(objectID)
		for _, v := range env.t("environmentvariablevalues").filter(func(r record) bool {
			return valuesEqual(r["_environmentvariabledefinitionid_value"], objectID)
		}) {
			env.t("environmentvariablevalues").remove(str(v["environmentvariablevalueid"]))
		}
	case typeEnvironmentValue:
		env.t("environmentvariablevalues").remove(objectID)
	case typeConnectionReference:
		env.t("connectionreferences").remove(objectID)
	default:
		env.deleteRegistration(componentType, objectID)
	}
}
