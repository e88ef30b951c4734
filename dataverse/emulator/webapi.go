package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// caller is who a Web API call runs as.
type caller struct {
	authenticated User // from the bearer token
	effective     User // the impersonated user, else authenticated
}

// webCall is one Web API request being served.
type webCall struct {
	e    *Emulator
	env  *environment
	w    http.ResponseWriter
	r    *http.Request
	who  *caller
	base string // http://host/NAME/api/data/v9.2
	now  time.Time
}

func (c *webCall) userID() string { return c.who.effective.SystemUserID(c.env.name) }

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (e *Emulator) serveWebAPI(w http.ResponseWriter, r *http.Request, user User) {
	segs := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(segs) < 4 || segs[1] != "api" || segs[2] != "data" ||
		(segs[3] != "v9.2" && segs[3] != "v9.1" && segs[3] != "v9.0") {
		writeError(w, http.StatusNotFound, "0x80060888", fmt.Sprintf("No route matches %s: expected /ENV/api/data/v9.2/..., /powerapps/..., /graph/v1.0/... or /_emulator/stats", r.URL.Path))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok := e.envs[strings.ToLower(segs[0])]
	if !ok {
		writeError(w, http.StatusNotFound, "0x80060888", fmt.Sprintf("Environment %q does not exist: this emulator serves %s", segs[0], strings.Join(e.names, ", ")))
		return
	}
	e.startDue(env, e.now().UTC())
	rest := ""
	if len(segs) == 5 {
		rest = segs[4]
	}
	who := &caller{authenticated: user, effective: user}
	if !user.privileged() {
		writeError(w, http.StatusForbidden, "0x80042f09", fmt.Sprintf("Principal user (Id=%s, type=8, roleCount=0, privilegeCount=0, accessMode=0), is missing prvRead privilege: the user holds no security role in this organization.", user.SystemUserID(env.name)))
		return
	}
	imp := strings.TrimSpace(r.Header.Get("CallerObjectId"))
	legacy := strings.TrimSpace(r.Header.Get("MSCRMCallerID"))
	if imp != "" || legacy != "" {
		if !user.Delegate {
			writeError(w, http.StatusForbidden, "0x80040220", fmt.Sprintf("Principal user (Id=%s, type=8) is missing prvActOnBehalfOfAnotherUser privilege: impersonation with CallerObjectId/MSCRMCallerID needs the Delegate role.", user.SystemUserID(env.name)))
			return
		}
		var row record
		var found bool
		if imp != "" {
			row, found = env.userByObjectID(imp)
		} else {
			row, found = env.t("systemusers").get(legacy)
		}
		if !found {
			writeError(w, http.StatusForbidden, "0x80040217", fmt.Sprintf("The impersonated user (CallerObjectId %q / MSCRMCallerID %q) is not a systemuser of this organization.", imp, legacy))
			return
		}
		u, _ := userByObjectID(str(row["azureactivedirectoryobjectid"]))
		if u.ObjectID == "" {
			u = User{Name: str(row["fullname"]), Email: str(row["internalemailaddress"]), ObjectID: str(row["azureactivedirectoryobjectid"]), Roles: []string{"Basic User"}}
		}
		who.effective = u
		if !u.privileged() {
			writeError(w, http.StatusForbidden, "0x80042f09", fmt.Sprintf("Principal user (Id=%s, type=8, roleCount=0, privilegeCount=0, accessMode=0), is missing prvRead privilege: the impersonated user holds no security role in this organization.", u.SystemUserID(env.name)))
			return
		}
	}
	c := &webCall{e: e, env: env, w: w, r: r, who: who, now: e.now().UTC(),
		base: requestBase(r) + "/" + segs[0] + "/api/data/" + segs[3]}
	c.route(rest)
}

// segment is one path segment: name(args).
type segment struct {
	name    string
	args    string
	hasArgs bool
}

func parseSegment(s string) segment {
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return segment{name: s}
	}
	return segment{name: s[:open], args: s[open+1 : len(s)-1], hasArgs: true}
}

func (c *webCall) route(rest string) {
	parts := strings.Split(rest, "/")
	first := parseSegment(parts[0])
	if t, ok := c.env.tables[first.name]; ok {
		c.routeTable(t, first, parts[1:])
		return
	}
	if first.name == "msdyn_solutioncomponentsummaries" && c.r.Method == http.MethodGet && !first.hasArgs {
		c.listSummaries()
		return
	}
	if len(parts) == 1 {
		if c.routeOperation(first) {
			return
		}
	}
	writeError(c.w, http.StatusNotFound, "0x80060888", fmt.Sprintf("Resource not found for the segment '%s'.", first.name))
}

func (c *webCall) routeTable(t *table, first segment, nav []string) {
	m := c.r.Method
	if !first.hasArgs {
		if len(nav) > 0 {
			writeError(c.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("Resource not found for the segment '%s'.", nav[0]))
			return
		}
		switch m {
		case http.MethodGet:
			c.list(t, t.all())
		case http.MethodPost:
			c.create(t)
		default:
			writeError(c.w, http.StatusMethodNotAllowed, "0x80060888", fmt.Sprintf("%s is not allowed on the %s collection: expected GET or POST", m, t.set))
		}
		return
	}
	row, err := c.resolveKey(t, first.args)
	if a, ok := err.(*apiError); ok && a.status == http.StatusNotFound && m == http.MethodPatch && len(nav) == 0 &&
		c.r.Header.Get("If-Match") == "" && isGUID(strings.Trim(first.args, "'")) {
		// PATCH without If-Match is an upsert: a row that does not exist is
		// created with the id the URL names.
		if changes, ok := c.bodyChanges(t); ok {
			changes[t.key] = normID(strings.Trim(first.args, "'"))
			c.insert(t, changes)
		}
		return
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	if m == http.MethodPatch && len(nav) == 0 && strings.TrimSpace(c.r.Header.Get("If-None-Match")) == "*" {
		// If-None-Match: * makes the upsert create-only.
		writeError(c.w, http.StatusPreconditionFailed, "0x80040237", fmt.Sprintf("A record with matching key values already exists: %s %s.", t.logical, str(row[t.key])))
		return
	}
	if len(nav) > 0 {
		c.navigation(t, row, nav)
		return
	}
	switch m {
	case http.MethodGet:
		c.getRow(t, row)
	case http.MethodPatch:
		c.update(t, row)
	case http.MethodDelete:
		c.delete(t, row)
	default:
		writeError(c.w, http.StatusMethodNotAllowed, "0x80060888", fmt.Sprintf("%s is not allowed on a %s row: expected GET, PATCH or DELETE", m, t.logical))
	}
}

func notFound(t *table, id string) *apiError {
	return errf(http.StatusNotFound, "0x80040217", "%s With Id = %s Does Not Exist", t.logical, id)
}

// resolveKey finds the row named by (guid) or (key=value,key2=value).
func (c *webCall) resolveKey(t *table, args string) (record, error) {
	args = strings.TrimSpace(args)
	if !strings.Contains(args, "=") {
		id := strings.Trim(args, "'")
		if !isGUID(id) {
			return nil, errf(http.StatusBadRequest, "0x80060888", "Bad Request - Error in query syntax: %s(%s) is not a key: expected a GUID or alternate key pairs", t.set, args)
		}
		r, ok := t.get(id)
		if !ok {
			return nil, notFound(t, id)
		}
		return r, nil
	}
	want := map[string]any{}
	for _, pair := range strings.Split(args, ",") {
		k, v, _ := strings.Cut(pair, "=")
		lit, err := literal(tokenFor(strings.TrimSpace(v)))
		if err != nil {
			return nil, errf(http.StatusBadRequest, "0x80060888", "alternate key %s: %v", k, err)
		}
		want[strings.TrimSpace(k)] = lit
	}
	rows := t.filter(func(r record) bool {
		for k, v := range want {
			if !valuesEqual(r[k], v) {
				return false
			}
		}
		return true
	})
	if len(rows) == 0 {
		return nil, errf(http.StatusNotFound, "0x80040217", "%s with key (%s) Does Not Exist", t.logical, args)
	}
	return rows[0], nil
}

func tokenFor(v string) token {
	switch {
	case strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2:
		return token{"string", strings.ReplaceAll(v[1:len(v)-1], "''", "'")}
	case isGUID(v):
		return token{"guid", v}
	case v != "" && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
		return token{"number", v}
	}
	return token{"ident", v}
}

func (c *webCall) query() (*query, error) {
	q, err := parseQuery(c.r.URL.Query().Get)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "0x80060888", "%v", err)
	}
	return q, nil
}

func (c *webCall) checkColumns(t *table, q *query) error {
	for _, col := range q.selectCols {
		if !knownColumn(t, col) {
			return errf(http.StatusBadRequest, "0x80060888", "Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", col, t.logical)
		}
	}
	return nil
}

// pageSize reads Prefer: odata.maxpagesize=N (default and maximum 5000).
func (c *webCall) pageSize() int {
	for _, p := range c.r.Header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(k, "odata.maxpagesize") {
				if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n > 0 && n < 5000 {
					return n
				}
			}
		}
	}
	return 5000
}

func (c *webCall) prefers(what string) bool {
	for _, p := range c.r.Header.Values("Prefer") {
		if strings.Contains(strings.ToLower(p), what) {
			return true
		}
	}
	return false
}

// list answers a collection query with paging.
func (c *webCall) list(t *table, rows []record) {
	q, err := c.query()
	if err == nil {
		err = c.checkColumns(t, q)
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	c.listRows(t.set, t.key, q, q.apply(rows))
}

func (c *webCall) listRows(set, key string, q *query, rows []record) {
	size := c.pageSize()
	skip := 0
	if s := c.r.URL.Query().Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(c.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("$skiptoken %q is not a paging cookie this service issued", s))
			return
		}
		skip = n
	}
	total := len(rows)
	if skip > len(rows) {
		skip = len(rows)
	}
	page := rows[skip:]
	if len(page) > size {
		page = page[:size]
	}
	ctx := c.base + "/$metadata#" + set
	if len(q.selectCols) > 0 {
		ctx += "(" + strings.Join(q.selectCols, ",") + ")"
	}
	out := map[string]any{"@odata.context": ctx}
	if q.count {
		out["@odata.count"] = total
	}
	value := make([]record, 0, len(page))
	for _, r := range page {
		value = append(value, c.present(q.project(r, key)))
	}
	out["value"] = value
	if skip+len(page) < len(rows) {
		vals := c.r.URL.Query()
		vals.Set("$skiptoken", strconv.Itoa(skip+len(page)))
		out["@odata.nextLink"] = c.base + "/" + resourcePath(c.r.URL.Path) + "?" + vals.Encode()
	}
	if size < 5000 {
		c.w.Header().Set("Preference-Applied", fmt.Sprintf("odata.maxpagesize=%d", size))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// present adds the OData annotations of a row.
func (c *webCall) present(r record) record {
	if v, ok := r["versionnumber"]; ok {
		r["@odata.etag"] = fmt.Sprintf(`W/"%v"`, v)
		delete(r, "versionnumber")
	}
	return r
}

func (c *webCall) getRow(t *table, row record) {
	q, err := c.query()
	if err == nil {
		err = c.checkColumns(t, q)
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	c.e.touchAsync(c.env, t.set, str(row[t.key]), c.now)
	row, _ = t.get(str(row[t.key]))
	out := c.present(q.project(row, t.key))
	ctx := c.base + "/$metadata#" + t.set
	if len(q.selectCols) > 0 {
		ctx += "(" + strings.Join(q.selectCols, ",") + ")"
	}
	out["@odata.context"] = ctx + "/$entity"
	writeJSON(c.w, http.StatusOK, out)
}

// readBody decodes a JSON object body. A base64 CustomizationFile is kept
// as raw bytes until decoded, which keeps a multi-megabyte import cheap.
func (c *webCall) readBody() (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(c.r.Body, 1<<30))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "0x80040203", "read request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, nil
	}
	raw, err := splitObject(b)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "0x80040203", "The request body is not a JSON object: %v", err)
	}
	body := make(map[string]any, len(raw))
	for k, v := range raw {
		if k == "CustomizationFile" && len(v) > 1 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
			body[k] = rawString(v[1 : len(v)-1])
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, errf(http.StatusBadRequest, "0x80040203", "The request body member %s is not valid JSON: %v", k, err)
		}
		body[k] = normalizeNumbers(x)
	}
	return body, nil
}

// rawString is a large JSON string member without escapes, kept as bytes.
type rawString []byte

// bodyBytes returns a base64 body member decoded.
func bodyBase64(v any) ([]byte, error) {
	switch t := v.(type) {
	case rawString:
		out := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
		n, err := base64.StdEncoding.Decode(out, t)
		return out[:n], err
	case string:
		return base64.StdEncoding.DecodeString(t)
	}
	return nil, nil
}

func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = normalizeNumbers(x)
		}
	}
	return v
}

// bindTarget parses "/set(id)" or an absolute URL ending in it.
func (c *webCall) bindTarget(v any) (*table, record, error) {
	s, ok := v.(string)
	if !ok {
		return nil, nil, errf(http.StatusBadRequest, "0x80060888", "@odata.bind value %v is not a string: expected /entityset(id)", v)
	}
	if i := strings.Index(s, "/api/data/"); i >= 0 {
		s = s[i+len("/api/data/"):]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		}
	}
	seg := parseSegment(strings.TrimPrefix(s, "/"))
	t, ok := c.env.tables[seg.name]
	if !ok || !seg.hasArgs {
		return nil, nil, errf(http.StatusBadRequest, "0x80060888", "@odata.bind value %q does not name a row: expected /entityset(id)", s)
	}
	row, err := c.resolveKey(t, seg.args)
	if err != nil {
		return nil, nil, err
	}
	return t, row, nil
}

// applyBody turns a request body into column changes: lookups bound with
// nav@odata.bind become _nav_value.
func (c *webCall) applyBody(t *table, body map[string]any) (record, error) {
	changes := record{}
	for k, v := range body {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if nav, ok := strings.CutSuffix(k, "@odata.bind"); ok {
			targets, declared := navigationProperties[t.set][nav]
			if !declared {
				return nil, errf(http.StatusBadRequest, "0x80048d19", "An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.", nav)
			}
			bt, row, err := c.bindTarget(v)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(targets, bt.set) {
				return nil, errf(http.StatusBadRequest, "0x80048d19", "navigation property '%s' of %s binds to %s, not %s", nav, t.set, strings.Join(targets, " or "), bt.set)
			}
			changes["_"+strings.ToLower(nav)+"_value"] = str(row[bt.key])
			changes["_"+strings.ToLower(nav)+"_value@set"] = bt.set
			continue
		}
		if strings.Contains(k, "@") {
			continue
		}
		if !knownColumn(t, k) {
			return nil, errf(http.StatusBadRequest, "0x80060888", "Invalid property '%s' was found in entity 'Microsoft.Dynamics.CRM.%s'.", k, t.logical)
		}
		changes[k] = v
	}
	return changes, nil
}

// bodyChanges reads the request body as column changes of a t row; on a
// bad body it answers the error and returns false.
func (c *webCall) bodyChanges(t *table) (map[string]any, bool) {
	body, err := c.readBody()
	if err == nil {
		var changes map[string]any
		if changes, err = c.applyBody(t, body); err == nil {
			return changes, true
		}
	}
	writeAPIError(c.w, err)
	return nil, false
}

func (c *webCall) create(t *table) {
	changes, ok := c.bodyChanges(t)
	if !ok {
		return
	}
	c.insert(t, changes)
}

// insert creates a row from column changes (a POST, or a PATCH upsert of
// a row that does not exist) and answers it.
func (c *webCall) insert(t *table, changes record) {
	var row record
	var err error
	switch t.set {
	case "teams":
		row, err = c.createTeam(changes)
	case "environmentvariablevalues":
		row, err = c.createEnvironmentValue(changes)
	case "environmentvariabledefinitions":
		if err = checkDefinition(changes); err == nil {
			row, err = c.createGeneric(t, changes)
		}
	case "solutions", "solutioncomponents", "asyncoperations", "importjobs", "systemusers", "businessunits", "roles", "entities", "solutioncomponentdefinitions", "publishers", "principalobjectaccessset":
		err = errf(http.StatusMethodNotAllowed, "0x80040203", "Creating %s rows through the emulator's Web API is not supported: import a solution instead (share with GrantAccess)", t.logical)
	default:
		row, err = c.createGeneric(t, changes)
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	if sol := c.r.Header.Get("MSCRM.SolutionUniqueName"); sol != "" {
		c.addToSolution(sol, t, str(row[t.key]))
	}
	c.respondCreated(t, row)
}

func (c *webCall) respondCreated(t *table, row record) {
	id := str(row[t.key])
	c.w.Header().Set("OData-EntityId", c.base+"/"+t.set+"("+id+")")
	if c.prefers("return=representation") {
		out := c.present(row.clone())
		out["@odata.context"] = c.base + "/$metadata#" + t.set + "/$entity"
		writeJSON(c.w, http.StatusCreated, out)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// stamp fills the audit columns of a new row.
func (c *webCall) stamp(r record) {
	ts := c.now.Format(time.RFC3339)
	r["createdon"], r["modifiedon"] = ts, ts
	r["_createdby_value"], r["_modifiedby_value"] = c.userID(), c.userID()
	if _, ok := r["_ownerid_value"]; !ok {
		r["_ownerid_value"] = c.userID()
	}
	r["versionnumber"] = 1
}

// checkDefinition refuses an environment variable definition without a
// schema name or with a type outside the option set the Web API reference
// lists for environmentvariabledefinition.type (String 100000000, Number,
// Boolean, JSON, Data source, Secret 100000005).
func checkDefinition(changes record) error {
	if strings.TrimSpace(str(changes["schemaname"])) == "" {
		return errf(http.StatusBadRequest, "0x80040203", "schemaname is required for an environment variable definition")
	}
	if t := mustNum(changes["type"]); t < solution.TypeString || t > solution.TypeSecret || t != float64(int(t)) {
		return errf(http.StatusBadRequest, "0x80040203", "type %v is not a valid option of environmentvariabledefinition.type: expected 100000000 (String) to 100000005 (Secret)", changes["type"])
	}
	return nil
}

func (c *webCall) createGeneric(t *table, changes record) (record, error) {
	row := record{}
	for k, v := range changes {
		if !strings.HasSuffix(k, "@set") {
			row[k] = v
		}
	}
	id := str(row[t.key])
	if id == "" {
		id = newUUID()
	} else if _, exists := t.get(id); exists {
		return nil, errf(http.StatusPreconditionFailed, "0x80040237", "A record with id %s already exists in %s.", id, t.set)
	}
	row[t.key] = id
	if t.set == "connectionreferences" {
		if err := c.checkBinding(row); err != nil {
			return nil, err
		}
	}
	c.stamp(row)
	if _, ok := row["statecode"]; !ok {
		row["statecode"], row["statuscode"] = 0, 1
	}
	t.put(row)
	return row, nil
}

func (c *webCall) update(t *table, row record) {
	changes, ok := c.bodyChanges(t)
	if !ok {
		return
	}
	if _, ok := changes[t.key]; ok && !valuesEqual(changes[t.key], row[t.key]) {
		writeError(c.w, http.StatusBadRequest, "0x80060888", fmt.Sprintf("The key column %s cannot be changed", t.key))
		return
	}
	var err error
	switch t.set {
	case "workflows":
		err = c.updateWorkflow(row, changes)
	case "connectionreferences":
		err = c.updateConnectionReference(row, changes)
	case "solutions":
		err = c.updateSolution(row, changes)
	case "serviceendpoints", "sdkmessageprocessingsteps":
		err = c.updateRegistration(t, row, changes)
	default:
		err = c.updateGeneric(t, row, changes)
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	row, _ = t.get(str(row[t.key]))
	if c.prefers("return=representation") {
		out := c.present(row.clone())
		out["@odata.context"] = c.base + "/$metadata#" + t.set + "/$entity"
		writeJSON(c.w, http.StatusOK, out)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

func (c *webCall) updateGeneric(t *table, row record, changes record) error {
	switch t.set {
	case "asyncoperations", "importjobs", "solutioncomponents", "solutioncomponentdefinitions", "entities", "principalobjectaccessset":
		return errf(http.StatusMethodNotAllowed, "0x80040203", "Updating %s rows through the emulator's Web API is not supported", t.logical)
	}
	for k, v := range changes {
		if strings.HasSuffix(k, "@set") {
			continue
		}
		row[k] = v
	}
	c.touch(row)
	return nil
}

func (c *webCall) touch(row record) {
	row["modifiedon"] = c.now.Format(time.RFC3339)
	row["_modifiedby_value"] = c.userID()
	if n, ok := row["versionnumber"].(int); ok {
		row["versionnumber"] = n + 1
	}
}

func (c *webCall) delete(t *table, row record) {
	id := str(row[t.key])
	var err error
	switch t.set {
	case "solutions":
		err = c.deleteSolution(row)
	case "teams":
		t.remove(id)
		delete(c.env.teamRoles, id)
	case "asyncoperations", "importjobs", "solutioncomponents", "systemusers", "businessunits", "roles", "solutioncomponentdefinitions", "publishers", "entities", "principalobjectaccessset":
		err = errf(http.StatusMethodNotAllowed, "0x80040203", "Deleting %s rows through the emulator's Web API is not supported", t.logical)
	default:
		t.remove(id)
		for _, sc := range c.env.t("solutioncomponents").filter(func(r record) bool { return valuesEqual(r["objectid"], id) }) {
			c.env.t("solutioncomponents").remove(str(sc["solutioncomponentid"]))
		}
	}
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// addToSolution adds a created component to an unmanaged solution
// (MSCRM.SolutionUniqueName).
func (c *webCall) addToSolution(name string, t *table, id string) {
	sol, ok := c.env.solutionByName(name)
	if !ok || sol["ismanaged"] == true {
		return
	}
	typ := map[string]int{"workflows": typeWorkflow, "canvasapps": typeCanvasApp, "connectionreferences": typeConnectionReference,
		"environmentvariabledefinitions": typeEnvironmentVariable, "environmentvariablevalues": typeEnvironmentValue}[t.set]
	if typ == 0 {
		return
	}
	c.env.addComponent(str(sol["solutionid"]), typ, id, c.now)
}

func (env *environment) addComponent(solutionID string, componentType int, objectID string, now time.Time) {
	for _, r := range env.components(solutionID) {
		if valuesEqual(r["objectid"], objectID) && r["componenttype"] == componentType {
			return
		}
	}
	env.t("solutioncomponents").put(record{
		"solutioncomponentid": newUUID(), "_solutionid_value": solutionID, "objectid": normID(objectID),
		"componenttype": componentType, "rootcomponentbehavior": 0, "ismetadata": componentType == typeEntity,
		"createdon": now.Format(time.RFC3339),
	})
}

// listSummaries serves msdyn_solutioncomponentsummaries, the virtual table
// whose filter must name msdyn_solutionid.
func (c *webCall) listSummaries() {
	f := c.r.URL.Query().Get("$filter")
	if !strings.Contains(strings.ToLower(f), "msdyn_solutionid") {
		writeError(c.w, http.StatusBadRequest, "0x80040203", "msdyn_solutioncomponentsummaries needs a $filter on msdyn_solutionid")
		return
	}
	q, err := c.query()
	if err != nil {
		writeAPIError(c.w, err)
		return
	}
	logical := map[int]string{typeEntity: "entity", typeWorkflow: "workflow", typeCanvasApp: "canvasapp",
		typeEnvironmentVariable: "environmentvariabledefinition", typeEnvironmentValue: "environmentvariablevalue",
		typeConnectionReference: connectionReferenceEntity}
	var rows []record
	for _, sc := range c.env.t("solutioncomponents").all() {
		typ, _ := sc["componenttype"].(int)
		name, display := "", ""
		if tbl := componentTable(typ); tbl != "" {
			if obj, ok := c.env.t(tbl).get(str(sc["objectid"])); ok {
				name, display = componentNames(tbl, obj)
			}
		}
		rows = append(rows, record{
			"msdyn_solutioncomponentsummaryid": str(sc["solutioncomponentid"]),
			"msdyn_solutionid":                 sc["_solutionid_value"], "msdyn_objectid": sc["objectid"],
			"msdyn_componenttype": typ, "msdyn_componentlogicalname": logical[typ],
			"msdyn_componenttypename": logical[typ], "msdyn_name": name, "msdyn_displayname": display,
		})
	}
	c.listRows("msdyn_solutioncomponentsummaries", "msdyn_solutioncomponentsummaryid", q, q.apply(rows))
}

func componentTable(typ int) string {
	switch typ {
	case typeEntity:
		return "entities"
	case typeWorkflow:
		return "workflows"
	case typeCanvasApp:
		return "canvasapps"
	case typeEnvironmentVariable:
		return "environmentvariabledefinitions"
	case typeEnvironmentValue:
		return "environmentvariablevalues"
	case typeConnectionReference:
		return "connectionreferences"
	}
	return ""
}

func componentNames(tbl string, r record) (string, string) {
	switch tbl {
	case "entities":
		return str(r["logicalname"]), str(r["name"])
	case "workflows":
		return str(r["name"]), str(r["name"])
	case "canvasapps":
		return str(r["name"]), str(r["displayname"])
	case "environmentvariabledefinitions":
		return str(r["schemaname"]), str(r["displayname"])
	case "environmentvariablevalues":
		return str(r["schemaname"]), str(r["schemaname"])
	case "connectionreferences":
		return str(r["connectionreferencelogicalname"]), str(r["connectionreferencedisplayname"])
	}
	return "", ""
}

// functionArgs parses F(A=1,B='x') including @alias parameters.
func (c *webCall) functionArgs(args string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(args, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "@") {
			v = c.r.URL.Query().Get(v)
		}
		if t := tokenFor(v); t.kind == "string" {
			v = t.text
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// resourcePath returns what follows /api/data/v9.x/ in a path.
func resourcePath(p string) string {
	after := p[strings.Index(p, "/api/data/")+len("/api/data/"):]
	return after[strings.IndexByte(after, '/')+1:]
}

// splitObject splits a JSON object into its members without re-scanning
// long string values (json.Unmarshal validates every byte of a 40 MB base64
// string twice).
func splitObject(b []byte) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("expected a JSON object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for {
		end, err := stringEnd(b, i)
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(b[i:end], &key); err != nil {
			return nil, err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, fmt.Errorf("expected ':' after member %q", key)
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '"' {
			if end, err = stringEnd(b, i); err != nil {
				return nil, err
			}
		} else {
			dec := json.NewDecoder(bytes.NewReader(b[i:]))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("member %q: %w", key, err)
			}
			end = i + int(dec.InputOffset())
		}
		out[key] = json.RawMessage(b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' && len(bytes.TrimSpace(b[i+1:])) == 0 {
			return out, nil
		}
		return nil, fmt.Errorf("expected ',' or '}' after member %q", key)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, fmt.Errorf("expected a string at offset %d", i)
	}
	j := i + 1
	for {
		if j >= len(b) {
			return 0, fmt.Errorf("unterminated string at offset %d", i)
		}
		k := bytes.IndexAny(b[j:], "\"\\")
		if k < 0 {
			return 0, fmt.Errorf("unterminated string at offset %d", i)
		}
		j += k
		if b[j] == '"' {
			return j + 1, nil
		}
		j += 2 // skip the escaped character
	}
}

// navigationProperties are the single-valued navigation properties a
// request may bind with nav@odata.bind, per entity set, by their names in
// the service's $metadata: case-sensitive, and not always the lookup
// column's logical name (environmentvariablevalue's is
// EnvironmentVariableDefinitionId). The service refuses any other name with
// 0x80048d19; the value lists the entity sets each may point at.
var navigationProperties = map[string]map[string][]string{
	"environmentvariablevalues": {"EnvironmentVariableDefinitionId": {"environmentvariabledefinitions"}},
	"teams":                     {"businessunitid": {"businessunits"}},
	"systemusers":               {"businessunitid": {"businessunits"}},
	"workflows":                 {"ownerid": {"systemusers", "teams"}},
	"canvasapps":                {"ownerid": {"systemusers", "teams"}},
	"sdkmessageprocessingsteps": {"sdkmessageprocessingstepsecureconfigid": {"sdkmessageprocessingstepsecureconfigs"}},
}
