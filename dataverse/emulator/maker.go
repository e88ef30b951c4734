package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// The routes the maker app's Configure Deployment Settings screen needs,
// served by serveMaker. Each cites what it follows (doc.go's route list
// points here):
//
//   - GET /powerapps/providers/Microsoft.BusinessAppPlatform/environments
//     (api-version required): the environments the caller can reach, the
//     non-admin list the maker portal and `pac env list` read (the BAP
//     environment resource: id /providers/Microsoft.BusinessAppPlatform/
//     environments/{id}, properties.displayName, environmentSku,
//     linkedEnvironmentMetadata.instanceUrl). A caller with a security role
//     in an environment sees it; NoAccess sees none (an empty list, not
//     403: the list is filtered, not forbidden).
//   - GET /graph/v1.0/groups (and /users) with $search="displayName:term":
//     Microsoft Graph's advanced query. Without the ConsistencyLevel:
//     eventual header the answer is 400 Request_UnsupportedQuery "Request
//     with $search query parameter only works through MSGraph with a special
//     request header: 'ConsistencyLevel: eventual'"
//     (microsoftgraph/microsoft-graph-docs-contrib#3495). The term matches
//     the start of any word of the property, ignoring case (Graph's $search
//     on directory objects is tokenized: "displayName:wa" finds "Walter");
//     clauses join with AND or OR; $count=true adds @odata.count; $top
//     limits. The search string must be in double quotes, as Graph's
//     examples write it. $filter=startswith(displayName,'…') needs no
//     header and is served by the existing directory route.
//   - GET /powerapps/providers/Microsoft.PowerApps/apis/{api}?$filter=
//     environment eq '{id}': the connector's API resource, whose
//     properties.primaryRuntimeUrl (and runtimeUrls) is where calls through
//     its connections go (https://{region}.azure-apim.net/apim/{api} on the
//     service; /apim/{api} here).
//   - GET /apim/sharepointonline/{connection}/datasets: the SharePoint
//     connector's GetDataSets ({"value": [{"Name": site URL, "DisplayName"}]})
//     and /datasets/{site}/tables: "Get lists" (GetTables: {"value":
//     [{"Name": list id, "DisplayName"}]}), the pickers of a SharePoint
//     data source environment variable. Shapes from the connector's
//     definition as Microsoft's Connectors SDK generates it
//     (Azure/Connectors-NodeJS-SDK, SharepointonlineExtensions.ts). The site
//     in the path is URL-encoded once or twice (flow definitions carry it
//     double-encoded). Only the connection's creator and those it is shared
//     with may call through it (403 ConnectionAuthorizationFailed); an
//     unknown connection is 404; a site the tenant does not have is 404.
//     The sites and lists are SharePointSites.

// SharePointSite is a site of the emulated tenant's SharePoint.
type SharePointSite struct {
	URL   string
	Title string
	Lists []SharePointList
}

// SharePointList is a list or library of a site.
type SharePointList struct {
	ID    string // the list's GUID: what a data source variable stores
	Title string
}

// SharePointSites are the sites a SharePoint connection lists.
var SharePointSites = []SharePointSite{
	{URL: "https://contoso.sharepoint.com/sites/Sales", Title: "Sales", Lists: []SharePointList{
		{ID: "3f2b8c1e-4a5d-4e6f-8a9b-0c1d2e3f4a51", Title: "Opportunities"},
		{ID: "3f2b8c1e-4a5d-4e6f-8a9b-0c1d2e3f4a52", Title: "Sales Documents"},
	}},
	{URL: "https://contoso.sharepoint.com/sites/Operations", Title: "Operations", Lists: []SharePointList{
		{ID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c61", Title: "Issues"},
		{ID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c62", Title: "Assets"},
	}},
}

// serveMaker answers the maker routes and reports whether it did.
func (e *Emulator) serveMaker(w http.ResponseWriter, r *http.Request, caller User) bool {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.EqualFold(p, "/powerapps/providers/Microsoft.BusinessAppPlatform/environments"):
		e.makerEnvironments(w, r, caller)
	case r.Method == http.MethodGet && (p == "/graph/v1.0/groups" || p == "/graph/v1.0/users") && r.URL.Query().Has("$search"):
		e.graphSearch(w, r, strings.TrimPrefix(p, "/graph/v1.0/"))
	case r.Method == http.MethodGet && strings.HasPrefix(strings.ToLower(p), "/powerapps/providers/microsoft.powerapps/apis/") && strings.Count(p, "/") == 5:
		e.connectorAPI(w, r, p[strings.LastIndex(p, "/")+1:])
	case strings.HasPrefix(p, "/apim/"):
		e.connectorRuntime(w, r, caller)
	default:
		return false
	}
	return true
}

func (e *Emulator) makerEnvironments(w http.ResponseWriter, r *http.Request, caller User) {
	if r.URL.Query().Get("api-version") == "" {
		writeError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	list := []any{}
	if caller.privileged() {
		for _, n := range e.names {
			env := e.envs[strings.ToLower(n)]
			m := e.bapEnvironment(r, env)
			m["id"] = "/providers/Microsoft.BusinessAppPlatform/environments/" + env.id
			m["type"] = "Microsoft.BusinessAppPlatform/environments"
			list = append(list, m)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": list})
}

var searchClause = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^"([A-Za-z]+):([^"]*)"$`) })

// words splits s into the tokens Graph's $search matches term prefixes of.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func (e *Emulator) graphSearch(w http.ResponseWriter, r *http.Request, set string) {
	if e.opts.GraphForbidden {
		writeError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		return
	}
	q := r.URL.Query()
	// Clauses: "prop:term" joined by AND / OR (evaluated left to right).
	type clause struct{ prop, term, join string }
	var clauses []clause
	join := ""
	for _, part := range splitSearch(q.Get("$search")) {
		switch strings.ToUpper(part) {
		case "AND", "OR":
			join = strings.ToUpper(part)
			continue
		}
		m := searchClause().FindStringSubmatch(part)
		if m == nil {
			writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("Invalid $search clause %s: expected \"property:value\" in double quotes.", part))
			return
		}
		clauses = append(clauses, clause{prop: m[1], term: strings.ToLower(m[2]), join: join})
		join = ""
	}
	var rows []record
	switch set {
	case "groups":
		for _, g := range Groups {
			rows = append(rows, record{"id": g.ID, "displayName": g.DisplayName, "mail": g.Mail, "mailEnabled": true, "securityEnabled": true,
				"mailNickname": strings.SplitN(g.Mail, "@", 2)[0], "description": nil, "groupTypes": []string{}})
		}
	case "users":
		for _, u := range Users {
			if u.ApplicationID == "" {
				rows = append(rows, record{"id": u.ObjectID, "displayName": u.Name, "userPrincipalName": u.Email, "mail": u.Email, "accountEnabled": true})
			}
		}
	}
	matches := func(row record, c clause) bool {
		for k, v := range row {
			if !strings.EqualFold(k, c.prop) {
				continue
			}
			for _, word := range words(str(v)) {
				if strings.HasPrefix(word, c.term) {
					return true
				}
			}
			return c.term == "" // an empty term matches everything
		}
		return false
	}
	var kept []record
	for _, row := range rows {
		ok := len(clauses) > 0
		for i, c := range clauses {
			m := matches(row, c)
			switch {
			case i == 0:
				ok = m
			case c.join == "OR":
				ok = ok || m
			default:
				ok = ok && m
			}
		}
		if ok {
			kept = append(kept, row)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		return strings.ToLower(str(kept[i]["displayName"])) < strings.ToLower(str(kept[j]["displayName"]))
	})
	count := len(kept)
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top >= 0 && top < len(kept) {
		kept = kept[:top]
	}
	if kept == nil {
		kept = []record{}
	}
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + set, "value": kept}
	if strings.EqualFold(q.Get("$count"), "true") {
		out["@odata.count"] = count
	}
	writeJSON(w, http.StatusOK, out)
}

// splitSearch splits a $search value into quoted clauses and AND/OR.
func splitSearch(s string) []string {
	var out []string
	s = strings.TrimSpace(s)
	for s != "" {
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return append(out, s)
			}
			out = append(out, s[:end+2])
			s = strings.TrimSpace(s[end+2:])
			continue
		}
		word, rest, _ := strings.Cut(s, " ")
		out = append(out, word)
		s = strings.TrimSpace(rest)
	}
	return out
}

// apiShortName is the runtime name of a connector: shared_sharepointonline
// runs at /apim/sharepointonline.
func apiShortName(api string) string {
	return strings.TrimPrefix(strings.ToLower(api), "shared_")
}

func (e *Emulator) connectorAPI(w http.ResponseWriter, r *http.Request, api string) {
	if r.URL.Query().Get("api-version") == "" {
		writeError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	known := false
	for _, c := range CommonConnectors {
		known = known || strings.EqualFold(c[strings.LastIndex(c, "/")+1:], api)
	}
	e.mu.Lock()
	for _, env := range e.envs {
		for _, c := range env.connections {
			known = known || strings.EqualFold(c.connectorID[strings.LastIndex(c.connectorID, "/")+1:], api)
		}
	}
	e.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, "ApiNotFound", fmt.Sprintf("The API '%s' could not be found.", api))
		return
	}
	runtime := requestBase(r) + "/apim/" + apiShortName(api)
	writeJSON(w, http.StatusOK, map[string]any{
		"name": strings.ToLower(api), "id": "/providers/Microsoft.PowerApps/apis/" + strings.ToLower(api), "type": "Microsoft.PowerApps/apis",
		"properties": map[string]any{"displayName": strings.TrimPrefix(api, "shared_"), "tier": "Standard", "isCustomApi": false,
			"runtimeUrls": []string{runtime}, "primaryRuntimeUrl": runtime, "capabilities": []string{"tabular", "blob"}},
	})
}

func (e *Emulator) connectorRuntime(w http.ResponseWriter, r *http.Request, caller User) {
	// /apim/{api}/{connection}/datasets[/{site}/tables], the site escaped.
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/apim/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		segs[i] = unescapeFully(s)
	}
	if len(segs) < 3 || segs[2] != "datasets" || r.Method != http.MethodGet {
		writeError(w, http.StatusNotFound, "RouteNotFound", "No connector route matches "+r.Method+" "+r.URL.Path)
		return
	}
	api, name := segs[0], segs[1]
	e.mu.Lock()
	var conn *connection
	for _, env := range e.envs {
		if c, ok := env.connection(name); ok {
			conn = c
		}
	}
	e.mu.Unlock()
	if conn == nil || apiShortName(conn.connectorID[strings.LastIndex(conn.connectorID, "/")+1:]) != strings.ToLower(api) {
		writeError(w, http.StatusNotFound, "ConnectionNotFound", fmt.Sprintf("Could not find connection '%s' for API '%s'.", name, api))
		return
	}
	if !conn.canUse(caller) {
		writeError(w, http.StatusForbidden, "ConnectionAuthorizationFailed",
			fmt.Sprintf("The caller with object id '%s' does not have permission for connection '%s' under Api '%s'.", caller.ObjectID, name, api))
		return
	}
	if strings.ToLower(api) != "sharepointonline" {
		writeError(w, http.StatusNotFound, "RouteNotFound", fmt.Sprintf("The emulator models data sets of sharepointonline only, not %s.", api))
		return
	}
	switch {
	case len(segs) == 3:
		list := []any{}
		for _, s := range SharePointSites {
			list = append(list, map[string]any{"Name": s.URL, "DisplayName": s.Title})
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": list})
	case len(segs) == 5 && segs[4] == "tables":
		for _, s := range SharePointSites {
			if strings.EqualFold(strings.TrimRight(s.URL, "/"), strings.TrimRight(segs[3], "/")) {
				list := []any{}
				for _, l := range s.Lists {
					list = append(list, map[string]any{"Name": l.ID, "DisplayName": l.Title})
				}
				writeJSON(w, http.StatusOK, map[string]any{"value": list})
				return
			}
		}
		writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("The site '%s' could not be found or you do not have access to it.", segs[3]))
	default:
		writeError(w, http.StatusNotFound, "RouteNotFound", "No connector route matches "+r.Method+" "+r.URL.Path)
	}
}

// unescapeFully undoes one or two rounds of URL escaping.
func unescapeFully(s string) string {
	for range 2 {
		u, err := url.PathUnescape(s)
		if err != nil || u == s {
			break
		}
		s = u
	}
	return s
}
