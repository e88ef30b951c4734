package emulator

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// User is a documented identity that exists in the emulator's Entra
// directory (/graph/v1.0/users) and as a systemuser in every environment.
type User struct {
	Name     string // display name (systemuser fullname)
	Email    string // user principal name, also internalemailaddress/domainname
	ObjectID string // Entra object id (azureactivedirectoryobjectid)
	// ApplicationID is the app (client) id of an application user; empty for people.
	ApplicationID string
	// Roles are the security roles the user holds in every environment.
	Roles []string
	// Delegate says whether the user holds prvActOnBehalfOfAnotherUser, which
	// CallerObjectId/MSCRMCallerID impersonation requires.
	Delegate bool
}

// SystemUserID returns the user's systemuserid in the named environment.
// It is derived from the environment name and the object id, so it is the
// same on every run.
func (u User) SystemUserID(environment string) string {
	return nameUUID("systemuser:" + strings.ToLower(environment) + ":" + u.ObjectID)
}

// TenantID is the emulated Entra tenant.
const TenantID = "5e0f7c1a-0000-4000-8000-00000000a11e"

// The documented users. Send one of their object ids, e-mail addresses or
// application ids as the bearer token to call as them.
var (
	// ServicePrincipal is the "ppalm-spn" application user every call runs
	// as by default: System Administrator with the Delegate privilege.
	ServicePrincipal = User{
		Name: "ppalm-spn", Email: "ppalm-spn@contoso.example",
		ObjectID: "0c1d2e3f-0000-4000-8000-000000000001", ApplicationID: "a9b8c7d6-0000-4000-8000-000000000001",
		Roles: []string{"System Administrator"}, Delegate: true,
	}
	// Maker creates the environments' connections and shares each with
	// ServicePrincipal, which may then turn on flows that use them (the
	// service does not turn flows on for an impersonated Maker).
	Maker = User{
		Name: "Alex Maker", Email: "alex.maker@contoso.example",
		ObjectID: "0c1d2e3f-0000-4000-8000-000000000002",
		Roles:    []string{"System Customizer", "Environment Maker"},
	}
	// FlowOwner is a licensed user with no connections: a target for flow
	// ownership; impersonating it to turn on a flow fails with
	// ConnectionAuthorizationFailed.
	FlowOwner = User{
		Name: "Bea Owner", Email: "bea.owner@contoso.example",
		ObjectID: "0c1d2e3f-0000-4000-8000-000000000003",
		Roles:    []string{"Basic User"},
	}
	// Admin is a human System Administrator (with Delegate).
	Admin = User{
		Name: "Casey Admin", Email: "casey.admin@contoso.example",
		ObjectID: "0c1d2e3f-0000-4000-8000-000000000004",
		Roles:    []string{"System Administrator"}, Delegate: true,
	}
	// NoAccess exists in the directory and in every environment but holds no
	// security role: every Dataverse and Power Apps call made as (or
	// impersonating) this user is answered 403.
	NoAccess = User{
		Name: "Nico Noaccess", Email: "nico.noaccess@contoso.example",
		ObjectID: "0c1d2e3f-0000-4000-8000-000000000005",
	}
)

// Users lists every documented user.
var Users = []User{ServicePrincipal, Maker, FlowOwner, Admin, NoAccess}

// Group is a documented Entra security group (/graph/v1.0/groups).
type Group struct {
	ID          string
	DisplayName string
	Mail        string
}

// Groups lists the documented security groups.
var Groups = []Group{
	{ID: "6a0b1c2d-0000-4000-8000-0000000000a1", DisplayName: "Contoso Sales", Mail: "sales@contoso.example"},
	{ID: "6a0b1c2d-0000-4000-8000-0000000000a2", DisplayName: "Contoso Makers", Mail: "makers@contoso.example"},
	{ID: "6a0b1c2d-0000-4000-8000-0000000000a3", DisplayName: "Contoso Approvers", Mail: "approvers@contoso.example"},
}

// InvalidToken is the bearer token value answered with 401.
const InvalidToken = "invalid"

// userByToken maps a bearer token to a documented user: a token equal to a
// user's object id, e-mail or application id calls as that user; anything
// else (or no token) calls as ServicePrincipal.
func userByToken(token string) User {
	token = strings.TrimSpace(token)
	if oid, ok := tokenObjectID(token); ok {
		token = oid
	}
	for _, u := range Users {
		if token != "" && (strings.EqualFold(token, u.ObjectID) || strings.EqualFold(token, u.Email) ||
			(u.ApplicationID != "" && strings.EqualFold(token, u.ApplicationID))) {
			return u
		}
	}
	return ServicePrincipal
}

func userByObjectID(oid string) (User, bool) {
	for _, u := range Users {
		if strings.EqualFold(u.ObjectID, normID(oid)) {
			return u, true
		}
	}
	return User{}, false
}

func userByIDOrUPN(id string) (User, bool) {
	for _, u := range Users {
		if strings.EqualFold(u.ObjectID, normID(id)) || strings.EqualFold(u.Email, id) {
			return u, true
		}
	}
	return User{}, false
}

func groupByID(id string) (Group, bool) {
	for _, g := range Groups {
		if strings.EqualFold(g.ID, normID(id)) {
			return g, true
		}
	}
	return Group{}, false
}

func (u User) privileged() bool { return len(u.Roles) > 0 }

// StandardRoles are the security roles every environment starts with.
var StandardRoles = []string{"Basic User", "System Customizer", "System Administrator", "Environment Maker"}

// CommonConnectors get a connection in every environment even when no seeded
// solution uses them.
var CommonConnectors = []string{
	"/providers/Microsoft.PowerApps/apis/shared_sharepointonline",
	"/providers/Microsoft.PowerApps/apis/shared_office365",
	"/providers/Microsoft.PowerApps/apis/shared_office365users",
	"/providers/Microsoft.PowerApps/apis/shared_commondataserviceforapps",
	"/providers/Microsoft.PowerApps/apis/shared_teams",
}

// tokenObjectID reads the oid claim (the caller's Entra object id) of a
// JWT-shaped access token, as the service identifies the caller: a signed-in
// maker's token from azidentity calls as that user. The signature is not
// checked: the emulator trusts its callers.
func tokenObjectID(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.OID == "" {
		return "", false
	}
	return claims.OID, true
}
