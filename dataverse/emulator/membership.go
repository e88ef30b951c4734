package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Group membership, for an app that must learn a signed-in user's groups
// from Graph (team mode's groups overage):
//
//   - POST /graph/v1.0/me/getMemberGroups and
//     /graph/v1.0/users/{id or upn}/getMemberGroups with
//     {"securityEnabledOnly": bool}: the ids of the groups the user is in
//     ({"@odata.context": "…#Collection(Edm.String)", "value": [...]}),
//     Microsoft Graph v1.0 "user: getMemberGroups". /me needs a user's
//     token: an application's is answered 400 BadRequest "/me request is
//     only valid with delegated authentication flow.", as Graph answers app-
//     only tokens. A body without securityEnabledOnly is 400 (the parameter
//     is required; the message is the emulator's own). An unknown user is 404 Request_ResourceNotFound.
//     Options.GraphForbidden answers 403 Authorization_RequestDenied. The
//     emulated groups are all security groups with direct members only.

// GroupMembers are the documented users of each documented group, by
// group id: Alex Maker in Contoso Makers, Casey Admin in Contoso
// Approvers, Bea Owner in Contoso Sales.
var GroupMembers = map[string][]string{
	Groups[0].ID: {FlowOwner.ObjectID},
	Groups[1].ID: {Maker.ObjectID},
	Groups[2].ID: {Admin.ObjectID},
}

// MemberGroupsOf lists the ids of the documented groups the user with
// object id oid is in.
func MemberGroupsOf(oid string) []string {
	out := []string{}
	for _, g := range Groups {
		for _, m := range GroupMembers[g.ID] {
			if strings.EqualFold(m, oid) {
				out = append(out, g.ID)
			}
		}
	}
	return out
}

// serveMembership answers the membership routes and reports whether it did.
func (e *Emulator) serveMembership(w http.ResponseWriter, r *http.Request, caller User) bool {
	p := r.URL.Path
	if r.Method != http.MethodPost || !strings.HasPrefix(p, "/graph/v1.0/") || !strings.HasSuffix(p, "/getMemberGroups") {
		return false
	}
	if e.opts.GraphForbidden {
		writeError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return true
	}
	who := strings.TrimSuffix(strings.TrimPrefix(p, "/graph/v1.0/"), "/getMemberGroups")
	var user User
	switch {
	case who == "me" && caller.ApplicationID != "":
		writeError(w, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		return true
	case who == "me":
		user = caller
	case strings.HasPrefix(who, "users/") && strings.Count(who, "/") == 1:
		u, ok := userByIDOrUPN(strings.TrimPrefix(who, "users/"))
		if !ok {
			writeError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+strings.TrimPrefix(who, "users/")+"' does not exist or one of its queried reference-property objects are not present.")
			return true
		}
		user = u
	default:
		writeError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+who+"'.")
		return true
	}
	var body struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
		writeError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid request body: securityEnabledOnly is required.")
		return true
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)", "value": MemberGroupsOf(user.ObjectID)})
	return true
}
