package emulator

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// userFromJWT reads who a bearer token names when it is a JWT, as Entra
// ID (and the entratest stand-in of `ppalm maker --demo` in team mode)
// issues them: its oid claim, matched against the documented users. A
// Dataverse, Power Apps or Graph call made on behalf of a signed-in maker
// then acts as that maker, as on the service. Like every token the
// emulator receives, the signature is not checked: the emulator trusts its
// callers (a token equal to an object id acts as that user too). For
// dispatch: userByToken should try it before falling back to
// ServicePrincipal.
func userFromJWT(token string) (User, bool) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return User{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return User{}, false
	}
	var claims struct {
		OID   string `json:"oid"`
		AppID string `json:"appid"`
		IDTyp string `json:"idtyp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.OID == "" {
		return User{}, false
	}
	return userByObjectID(claims.OID)
}
