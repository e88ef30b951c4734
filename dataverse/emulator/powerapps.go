package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// servePowerApps serves the Power Apps and BAP admin routes under
// /powerapps/providers/...
func (e *Emulator) servePowerApps(w http.ResponseWriter, r *http.Request, user User, p string) {
	if r.URL.Query().Get("api-version") == "" {
		writeError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if !user.privileged() || (e.opts.NotManagementApp && user.ObjectID == ServicePrincipal.ObjectID) {
		writeError(w, http.StatusForbidden, "BusinessAppPlatformRequestFailed",
			fmt.Sprintf("The service principal or user with object id '%s' does not have permission to access the path '%s' in tenant '%s'.", user.ObjectID, p, TenantID))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	segs := strings.Split(strings.Trim(p, "/"), "/")
	// providers/Microsoft.X/scopes/admin/environments[/{envId}[/...]]
	if len(segs) < 5 || segs[0] != "providers" || segs[2] != "scopes" || segs[3] != "admin" || segs[4] != "environments" {
		writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("No Power Apps route matches %s", p))
		return
	}
	provider := strings.ToLower(segs[1])
	if len(segs) == 5 && r.Method == http.MethodGet && provider == "microsoft.businessappplatform" {
		var list []any
		for _, n := range e.names {
			list = append(list, e.bapEnvironment(r, e.envs[strings.ToLower(n)]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": list})
		return
	}
	if len(segs) < 6 {
		writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("No Power Apps route matches %s", p))
		return
	}
	var env *environment
	for _, n := range e.names {
		cand := e.envs[strings.ToLower(n)]
		if strings.EqualFold(cand.id, segs[5]) || strings.EqualFold(cand.name, segs[5]) {
			env = cand
		}
	}
	if env == nil {
		writeError(w, http.StatusNotFound, "EnvironmentNotFound", fmt.Sprintf("The environment '%s' could not be found in the tenant '%s'.", segs[5], TenantID))
		return
	}
	rest := segs[6:]
	who := &caller{authenticated: user, effective: user}
	switch {
	case provider == "microsoft.businessappplatform" && len(rest) == 0 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, e.bapEnvironment(r, env))
	case provider != "microsoft.powerapps":
		writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("No Power Apps route matches %s", p))
	case len(rest) == 1 && rest[0] == "connections" && r.Method == http.MethodGet:
		var list []any
		for _, c := range env.connections {
			list = append(list, connectionJSON(env, c))
		}
		e.writeARMPage(w, r, list)
	case len(rest) == 5 && rest[0] == "apis" && rest[2] == "connections" && rest[4] == "permissions" && r.Method == http.MethodGet:
		c, ok := env.connection(rest[3])
		if !ok || !strings.EqualFold(connectorName(c.connectorID), rest[1]) {
			writeError(w, http.StatusNotFound, "ConnectionNotFound", fmt.Sprintf("Could not find connection '%s' for API '%s'.", rest[3], rest[1]))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": connectionPermissionsJSON(c)})
	case len(rest) == 1 && rest[0] == "apps" && r.Method == http.MethodGet:
		var list []any
		for _, a := range env.t("canvasapps").all() {
			list = append(list, appJSON(env, a))
		}
		e.writeARMPage(w, r, list)
	case len(rest) >= 2 && rest[0] == "apps":
		app, ok := findApp(env, rest[1])
		if !ok {
			writeError(w, http.StatusNotFound, "AppNotFound", fmt.Sprintf("Could not find app '%s'.", rest[1]))
			return
		}
		switch {
		case len(rest) == 2 && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, appJSON(env, app))
		case len(rest) == 3 && rest[2] == "permissions" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"value": permissionsJSON(env, app, rest[1], e.now())})
		case len(rest) == 3 && rest[2] == "modifyPermissions" && r.Method == http.MethodPost:
			e.modifyPermissions(w, r, env, app, rest[1], who)
		case len(rest) == 3 && rest[2] == "modifyAppOwner" && r.Method == http.MethodPost:
			e.modifyAppOwner(w, r, env, app, who)
		default:
			writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("No Power Apps route matches %s %s", r.Method, p))
		}
	default:
		writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("No Power Apps route matches %s %s", r.Method, p))
	}
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func (e *Emulator) bapEnvironment(r *http.Request, env *environment) map[string]any {
	url := requestBase(r) + "/" + env.name + "/"
	return map[string]any{
		"id":   "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/" + env.id,
		"name": env.id, "type": "Microsoft.BusinessAppPlatform/scopes/environments", "location": "unitedstates",
		"properties": map[string]any{"displayName": "Contoso " + env.name, "environmentSku": "Sandbox", "tenantId": TenantID,
			"linkedEnvironmentMetadata": map[string]any{"instanceUrl": url, "instanceApiUrl": url, "resourceId": env.orgID,
				"uniqueName": "contoso" + strings.ToLower(env.name), "friendlyName": "Contoso " + env.name}},
	}
}

func connectionJSON(env *environment, c *connection) map[string]any {
	return map[string]any{
		"name": c.name, "id": c.connectorID + "/connections/" + c.name, "type": "Microsoft.PowerApps/apis/connections",
		"properties": map[string]any{
			"apiId": c.connectorID, "displayName": c.displayName, "statuses": []any{map[string]any{"status": "Connected"}},
			"createdTime": c.createdOn.Format(time.RFC3339),
			"createdBy":   map[string]any{"id": c.createdBy.ObjectID, "displayName": c.createdBy.Name, "email": c.createdBy.Email, "type": "User", "tenantId": TenantID, "userPrincipalName": c.createdBy.Email},
			"environment": map[string]any{"id": "/providers/Microsoft.PowerApps/environments/" + env.id, "name": env.id},
		},
	}
}

// connectionPermissionsJSON lists a connection's role assignments as
// Get-AdminPowerAppConnectionRoleAssignment reads them: its creator as
// Owner, then whom it is shared with.
func connectionPermissionsJSON(c *connection) []any {
	base := c.connectorID + "/connections/" + c.name + "/permissions/"
	entry := func(u User, role string) map[string]any {
		typ := "User"
		if u.ApplicationID != "" {
			typ = "ServicePrincipal"
		}
		return map[string]any{"id": base + u.ObjectID, "name": u.ObjectID, "type": "Microsoft.PowerApps/apis/connections/permissions",
			"properties": map[string]any{"roleName": role,
				"principal": map[string]any{"id": u.ObjectID, "type": typ, "email": u.Email, "tenantId": TenantID}}}
	}
	out := []any{entry(c.createdBy, "Owner")}
	ids := make([]string, 0, len(c.sharedWith))
	for id := range c.sharedWith {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		u, ok := userByObjectID(id)
		if !ok {
			u = User{ObjectID: id}
		}
		out = append(out, entry(u, c.sharedWith[id]))
	}
	return out
}

// findApp finds a canvas app by canvasappid, uniquecanvasappid or name.
func findApp(env *environment, name string) (record, bool) {
	for _, a := range env.t("canvasapps").all() {
		if valuesEqual(a["canvasappid"], name) || valuesEqual(a["uniquecanvasappid"], name) || strings.EqualFold(str(a["name"]), name) {
			return a, true
		}
	}
	return nil, false
}

func appJSON(env *environment, a record) map[string]any {
	owner := appOwner(env, a)
	return map[string]any{
		"name": str(a["uniquecanvasappid"]), "id": "/providers/Microsoft.PowerApps/apps/" + str(a["uniquecanvasappid"]),
		"type": "Microsoft.PowerApps/apps",
		"properties": map[string]any{"displayName": a["displayname"], "appVersion": a["appversion"],
			"owner":       map[string]any{"id": owner.id, "type": "User", "email": owner.email},
			"environment": map[string]any{"id": "/providers/Microsoft.PowerApps/environments/" + env.id, "name": env.id},
			"canvasAppId": a["canvasappid"], "uniqueName": a["name"]},
	}
}

func appOwner(env *environment, a record) *appPermission {
	for _, p := range env.appPerms[str(a["canvasappid"])] {
		if p.roleName == "Owner" {
			return p
		}
	}
	return &appPermission{}
}

func permissionsJSON(env *environment, a record, appName string, now time.Time) []any {
	out := []any{}
	for _, p := range env.appPerms[str(a["canvasappid"])] {
		role := p.roleName
		if now.Before(p.visibleAt) {
			if role = p.prevRole; role == "" {
				continue // not propagated yet
			}
		}
		principal := map[string]any{"id": p.id, "type": p.principalType}
		if p.email != "" {
			principal["email"] = p.email
		}
		if p.principalType == "Tenant" {
			principal["tenantId"] = TenantID
		}
		out = append(out, map[string]any{
			"id":   "/providers/Microsoft.PowerApps/apps/" + appName + "/permissions/" + p.id,
			"name": p.id, "type": "Microsoft.PowerApps/apps/permissions",
			"properties": map[string]any{"roleName": role, "principal": principal,
				"scope": "/providers/Microsoft.PowerApps/apps/" + appName},
		})
	}
	return out
}

type permissionChange struct {
	Put []struct {
		Properties struct {
			RoleName  string `json:"roleName"`
			Principal struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Email    string `json:"email"`
				TenantID string `json:"tenantId"`
			} `json:"principal"`
			NotifyShareTargetOption string `json:"NotifyShareTargetOption"`
		} `json:"properties"`
	} `json:"put"`
	Delete []struct {
		ID string `json:"id"`
	} `json:"delete"`
}

// modifyPermissions shares or unshares a canvas app. Unknown principals are
// refused; a tenant share may only be CanView.
func (e *Emulator) modifyPermissions(w http.ResponseWriter, r *http.Request, env *environment, app record, appName string, who *caller) {
	var body permissionChange
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON: "+err.Error())
		return
	}
	appID := str(app["canvasappid"])
	perms := env.appPerms[appID]
	type change struct {
		p    *appPermission
		echo map[string]any
	}
	var puts []change
	for i, put := range body.Put {
		pr := put.Properties
		switch pr.RoleName {
		case "CanView", "CanViewWithShare", "CanEdit":
		default:
			writeError(w, http.StatusBadRequest, "InvalidRoleName", fmt.Sprintf("put[%d].properties.roleName %q is not valid: expected CanView, CanViewWithShare or CanEdit", i, pr.RoleName))
			return
		}
		// The service accepts CanViewWithShare and grants CanView
		// (coe-starter-kit #4345; the Accelerator maps it to CanView).
		granted := pr.RoleName
		if granted == "CanViewWithShare" {
			granted = "CanView"
		}
		p := &appPermission{roleName: granted, principalType: pr.Principal.Type}
		switch pr.Principal.Type {
		case "Group":
			g, ok := groupByID(pr.Principal.ID)
			if !ok {
				writeError(w, http.StatusBadRequest, "PrincipalNotFound", fmt.Sprintf("put[%d]: the group with object id '%s' was not found in tenant '%s'.", i, pr.Principal.ID, TenantID))
				return
			}
			p.id, p.email = g.ID, g.Mail
		case "User":
			u, ok := userByIDOrUPN(pr.Principal.ID)
			if !ok || u.ApplicationID != "" {
				writeError(w, http.StatusBadRequest, "PrincipalNotFound", fmt.Sprintf("put[%d]: the user with object id '%s' was not found in tenant '%s'.", i, pr.Principal.ID, TenantID))
				return
			}
			p.id, p.email = u.ObjectID, u.Email
		case "Tenant":
			if pr.RoleName != "CanView" {
				writeError(w, http.StatusBadRequest, "InvalidRoleName", fmt.Sprintf("put[%d]: a tenant-wide share can only be CanView", i))
				return
			}
			p.id = TenantID
		default:
			writeError(w, http.StatusBadRequest, "InvalidPrincipalType", fmt.Sprintf("put[%d].properties.principal.type %q is not valid: expected User, Group or Tenant", i, pr.Principal.Type))
			return
		}
		puts = append(puts, change{p, map[string]any{"properties": map[string]any{"roleName": p.roleName,
			"principal": map[string]any{"id": p.id, "type": p.principalType, "email": p.email}}}})
	}
	for _, d := range body.Delete {
		id := normID(d.ID[strings.LastIndex(d.ID, "/")+1:])
		for i, p := range perms {
			if p.id == id && p.roleName != "Owner" {
				perms = append(perms[:i:i], perms[i+1:]...)
				e.record(env, "unshare-app", appID, id, who)
				break
			}
		}
	}
	var echo []any
	visibleAt := e.now().Add(e.faults.shareDelay)
	if e.faults.shareDelay > 0 {
		e.stats.Faults["share-delay"]++
	}
	for i, c := range puts {
		replaced := false
		for _, p := range perms {
			if p.id == c.p.id && p.roleName != "Owner" {
				p.prevRole, p.roleName, p.visibleAt, replaced = p.roleName, c.p.roleName, visibleAt, true
			}
		}
		if !replaced {
			c.p.visibleAt = visibleAt
			perms = append(perms, c.p)
		}
		detail := c.p.principalType + " " + c.p.id + " " + c.p.roleName
		if asked := body.Put[i].Properties.RoleName; asked != c.p.roleName {
			detail += " (asked " + asked + ")"
		}
		e.record(env, "share-app", appID, detail, who)
		echo = append(echo, c.echo)
	}
	env.appPerms[appID] = perms
	writeJSON(w, http.StatusOK, map[string]any{"put": nonNilList(echo)})
}

func (e *Emulator) modifyAppOwner(w http.ResponseWriter, r *http.Request, env *environment, app record, who *caller) {
	var body struct {
		NewAppOwner        string `json:"newAppOwner"`
		RoleForOldAppOwner string `json:"roleForOldAppOwner"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON: "+err.Error())
		return
	}
	u, ok := userByIDOrUPN(body.NewAppOwner)
	if !ok || u.ApplicationID != "" {
		writeError(w, http.StatusBadRequest, "PrincipalNotFound", fmt.Sprintf("newAppOwner: the user with object id '%s' was not found in tenant '%s'.", body.NewAppOwner, TenantID))
		return
	}
	appID := str(app["canvasappid"])
	perms := env.appPerms[appID]
	var kept []*appPermission
	for _, p := range perms {
		if p.id == u.ObjectID {
			continue
		}
		if p.roleName == "Owner" {
			if body.RoleForOldAppOwner == "" {
				continue
			}
			p.roleName = body.RoleForOldAppOwner
		}
		kept = append(kept, p)
	}
	env.appPerms[appID] = append([]*appPermission{{id: u.ObjectID, roleName: "Owner", principalType: "User", email: u.Email}}, kept...)
	if row, ok := env.t("canvasapps").get(appID); ok {
		row["_ownerid_value"] = u.SystemUserID(env.name)
	}
	e.record(env, "assign-app-owner", appID, u.ObjectID, who)
	writeJSON(w, http.StatusOK, appJSON(env, app))
}

// defaultPowerAppsPageSize is how many items one page of a Power Apps list
// holds. The service's size is not documented; what is documented by
// Microsoft's own clients is that lists page (see doc.go), so a client
// that reads only the first page loses the rest.
const defaultPowerAppsPageSize = 250

// writeARMPage answers one page of a Power Apps admin list the ARM way:
// {"value": [...], "nextLink": "...&$skiptoken=..."} while items remain.
func (e *Emulator) writeARMPage(w http.ResponseWriter, r *http.Request, list []any) {
	size := e.opts.PowerAppsPageSize
	if size <= 0 {
		size = defaultPowerAppsPageSize
	}
	q := r.URL.Query()
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(list) {
			writeError(w, http.StatusBadRequest, "InvalidSkipToken", fmt.Sprintf("The $skiptoken %q is not valid for this list.", tok))
			return
		}
		start = n
	}
	end := min(start+size, len(list))
	out := map[string]any{"value": nonNilList(list[start:end])}
	if end < len(list) {
		q.Set("$skiptoken", strconv.Itoa(end))
		out["nextLink"] = requestBase(r) + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, out)
}
