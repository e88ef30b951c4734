package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// serveGraph serves the small Microsoft Graph directory: the documented
// people (not the service principal) and groups.
func (e *Emulator) serveGraph(w http.ResponseWriter, r *http.Request, p string) {
	if e.opts.GraphForbidden {
		writeError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "The emulated directory is read-only")
		return
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	const ctx = "https://graph.microsoft.com/v1.0/$metadata#"
	var rows []record
	switch segs[0] {
	case "users":
		for _, u := range Users {
			if u.ApplicationID == "" {
				rows = append(rows, record{"id": u.ObjectID, "displayName": u.Name, "userPrincipalName": u.Email, "mail": u.Email, "accountEnabled": true})
			}
		}
	case "groups":
		for _, g := range Groups {
			rows = append(rows, record{"id": g.ID, "displayName": g.DisplayName, "mail": g.Mail, "mailEnabled": true,
				"securityEnabled": true, "groupTypes": []string{}})
		}
	default:
		writeError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[0]))
		return
	}
	if len(segs) == 2 {
		for _, row := range rows {
			if strings.EqualFold(str(row["id"]), segs[1]) || strings.EqualFold(str(row["userPrincipalName"]), segs[1]) {
				row["@odata.context"] = ctx + segs[0] + "/$entity"
				writeJSON(w, http.StatusOK, row)
				return
			}
		}
		writeError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", segs[1]))
		return
	}
	if len(segs) > 2 {
		writeError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", segs[2]))
		return
	}
	if f := r.URL.Query().Get("$filter"); f != "" {
		expr, err := parseFilter(f)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
			return
		}
		var kept []record
		for _, row := range rows {
			if expr(row) {
				kept = append(kept, row)
			}
		}
		rows = kept
	}
	if rows == nil {
		rows = []record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": ctx + segs[0], "value": rows})
}
