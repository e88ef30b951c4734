package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// serveControl serves /_emulator/*: never subject to faults or auth.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) == 2 && segs[1] == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Stats())
	case len(segs) == 2 && segs[1] == "audit" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.Audit())
	case len(segs) == 2 && segs[1] == "environments" && r.Method == http.MethodGet:
		e.mu.Lock()
		var list []any
		for _, n := range e.names {
			env := e.envs[strings.ToLower(n)]
			url := requestBase(r) + "/" + env.name + "/"
			list = append(list, map[string]any{"name": env.name, "environmentId": env.id, "url": url, "webApiUrl": url + "api/data/v9.2/"})
		}
		e.mu.Unlock()
		writeJSON(w, http.StatusOK, list)
	case len(segs) == 4 && segs[1] == "environments" && segs[3] == "connections" && r.Method == http.MethodPost:
		var body struct {
			ConnectorID string   `json:"connectorId"`
			Owner       string   `json:"owner"`
			SharedWith  []string `json:"sharedWith"`
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := json.Unmarshal(b, &body); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "body: expected {\"connectorId\",\"owner\",\"sharedWith\":[]}: "+err.Error())
			return
		}
		name, err := e.AddConnection(segs[2], body.ConnectorID, body.Owner, body.SharedWith...)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"name": name})
	default:
		writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no emulator control route %s %s: expected GET /_emulator/stats, /_emulator/audit, /_emulator/environments or POST /_emulator/environments/ENV/connections", r.Method, r.URL.Path))
	}
}

// AddConnection creates a new connection in an environment, owned by the
// documented user owner (object id or e-mail) and shared with the listed
// users, and returns its name (what connectionreference.connectionid holds).
func (e *Emulator) AddConnection(environment, connectorID, owner string, sharedWith ...string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(environment)]
	if !ok {
		return "", fmt.Errorf("add connection: environment %q does not exist", environment)
	}
	if !strings.HasPrefix(connectorID, "/providers/Microsoft.PowerApps/apis/") {
		return "", fmt.Errorf("add connection: connectorId %q: expected /providers/Microsoft.PowerApps/apis/shared_x", connectorID)
	}
	u, ok := userByIDOrUPN(owner)
	if !ok {
		return "", fmt.Errorf("add connection: owner %q is not a documented user", owner)
	}
	c := &connection{name: strings.ReplaceAll(newUUID(), "-", ""), connectorID: connectorID, displayName: u.Email,
		createdBy: u, createdOn: e.now().UTC(), sharedWith: map[string]string{}}
	for _, s := range sharedWith {
		su, ok := userByIDOrUPN(s)
		if !ok {
			return "", fmt.Errorf("add connection: sharedWith %q is not a documented user", s)
		}
		c.sharedWith[su.ObjectID] = "CanEdit"
	}
	env.connections = append(env.connections, c)
	return c.name, nil
}

// ShareConnection shares an existing connection with a documented user
// (object id or e-mail), as its owner does in Power Apps (Connections,
// Share): the user may then bind it and turn flows on with it.
func (e *Emulator) ShareConnection(environment, connectionName, user, role string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(environment)]
	if !ok {
		return fmt.Errorf("share connection: environment %q does not exist", environment)
	}
	c, ok := env.connection(connectionName)
	if !ok {
		return fmt.Errorf("share connection: %s does not exist in %s", connectionName, environment)
	}
	u, ok := userByIDOrUPN(user)
	if !ok {
		return fmt.Errorf("share connection: %q is not a documented user", user)
	}
	if role == "" {
		role = "CanEdit"
	}
	c.sharedWith[u.ObjectID] = role
	return nil
}

// SystemJob is an asyncoperations row as the service keeps it.
type SystemJob struct {
	ID            string
	Action        string // the action that submitted it, e.g. ImportSolutionAsync
	OperationType int    // 203 import, 211 stage and upgrade, ...
	StateCode     int
	StatusCode    int
	Message       string
}

// SystemJobs returns an environment's system jobs in submission order.
func (e *Emulator) SystemJobs(environment string) []SystemJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(environment)]
	if !ok {
		return nil
	}
	var out []SystemJob
	for _, id := range env.opOrder {
		op := env.ops[id]
		row, _ := env.t("asyncoperations").get(id)
		out = append(out, SystemJob{ID: id, Action: op.action, OperationType: op.opType,
			StateCode: mustInt(row["statecode"]), StatusCode: mustInt(row["statuscode"]), Message: str(row["message"])})
	}
	return out
}
