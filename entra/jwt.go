package entra

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Reason names the check a token failed.
type Reason string

// Reasons a token is refused.
const (
	Malformed Reason = "malformed"
	Signature Reason = "signature"
	Issuer    Reason = "issuer"
	Audience  Reason = "audience"
	Expired   Reason = "expired"
	NotYet    Reason = "not yet valid"
	Nonce     Reason = "nonce"
	Tenant    Reason = "tenant"
)

// Error is a token that failed a check.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return "token refused (" + string(e.Reason) + "): " + e.Detail }

// IsReason reports whether err is an *Error for reason r.
func IsReason(err error, r Reason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}

func refuse(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Claims are the claims of an Entra ID or access token that ppalm reads.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	NotBefore time.Time
	IssuedAt  time.Time
	Nonce     string
	TenantID  string // tid
	ObjectID  string // oid: the user's id in the tenant
	// UPN is upn, else preferred_username (v2 tokens may carry only the latter).
	UPN    string
	Name   string
	AppID  string   // azp (v2) or appid (v1): the client the token was issued to
	Scopes []string // scp, split on spaces
	Roles  []string
	Groups []string // object ids, when the app asks for group claims
	// GroupsOverage is true when the user is in more groups than fit in
	// the token (Entra then sends _claim_names.groups instead, or
	// hasgroups): the app must ask Graph.
	GroupsOverage bool
	Version       string // ver
	Raw           map[string]any
}

// header is the JOSE header of a token.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// parse splits a compact JWS and decodes its header and claims without
// checking anything.
func parse(token string) (header, map[string]any, []byte, []byte, error) {
	var h header
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return h, nil, nil, nil, refuse(Malformed, "expected three dot-separated parts, got %d", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil {
		return h, nil, nil, nil, refuse(Malformed, "the header is not base64url JSON")
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return h, nil, nil, nil, refuse(Malformed, "the claims are not base64url")
	}
	claims := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(cb)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return h, nil, nil, nil, refuse(Malformed, "the claims are not a JSON object")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return h, nil, nil, nil, refuse(Malformed, "the signature is not base64url")
	}
	return h, claims, []byte(parts[0] + "." + parts[1]), sig, nil
}

// ParseUnverified decodes a token's claims without checking its signature
// or any claim: for a token the caller just received from the token
// endpoint over TLS, or for display. Never use it to decide access.
func ParseUnverified(token string) (*Claims, error) {
	_, raw, _, _, err := parse(token)
	if err != nil {
		return nil, err
	}
	return claimsFrom(raw), nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func numTime(v any) time.Time {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return time.Unix(i, 0)
		}
		if f, err := n.Float64(); err == nil {
			return time.Unix(int64(f), 0)
		}
	case float64:
		return time.Unix(int64(n), 0)
	}
	return time.Time{}
}

func strings_(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func claimsFrom(raw map[string]any) *Claims {
	c := &Claims{
		Issuer: str(raw["iss"]), Subject: str(raw["sub"]), Audience: strings_(raw["aud"]),
		Expiry: numTime(raw["exp"]), NotBefore: numTime(raw["nbf"]), IssuedAt: numTime(raw["iat"]),
		Nonce: str(raw["nonce"]), TenantID: str(raw["tid"]), ObjectID: str(raw["oid"]),
		UPN: str(raw["upn"]), Name: str(raw["name"]), AppID: str(raw["azp"]),
		Roles: strings_(raw["roles"]), Groups: strings_(raw["groups"]), Version: str(raw["ver"]), Raw: raw,
	}
	if c.UPN == "" {
		c.UPN = str(raw["preferred_username"])
	}
	if c.AppID == "" {
		c.AppID = str(raw["appid"])
	}
	if s := str(raw["scp"]); s != "" {
		c.Scopes = strings.Fields(s)
	}
	if names, ok := raw["_claim_names"].(map[string]any); ok && names["groups"] != nil {
		c.GroupsOverage = true
	}
	if b, ok := raw["hasgroups"].(bool); ok && b {
		c.GroupsOverage = true
	}
	return c
}

// JSONWebKey is an RSA public key of a key set.
type JSONWebKey struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// PublicKey decodes the RSA key.
func (k JSONWebKey) PublicKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("key %s: kty %q, expected RSA", k.Kid, k.Kty)
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("key %s: n is not base64url", k.Kid)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("key %s: e is not a base64url exponent", k.Kid)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("key %s: %d-bit modulus; expected at least 2048", k.Kid, pub.N.BitLen())
	}
	return pub, nil
}

// RSAKey is the JSONWebKey of pub with id kid.
func RSAKey(kid string, pub *rsa.PublicKey) JSONWebKey {
	return JSONWebKey{Kty: "RSA", Use: "sig", Kid: kid,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
}

// verifyRS256 checks signed (header.claims) against sig with pub.
func verifyRS256(pub *rsa.PublicKey, signed, sig []byte) error {
	sum := sha256.Sum256(signed)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

// SignRS256 builds a compact JWS of claims signed with key under kid: the
// stand-in's tokens, and client assertions signed with a certificate's key
// (extra header fields such as x5t#S256 go in hdr).
func SignRS256(key *rsa.PrivateKey, kid string, hdr map[string]any, claims map[string]any) (string, error) {
	h := map[string]any{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	for k, v := range hdr {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
