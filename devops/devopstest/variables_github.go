package devopstest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// GitHub deployment environments with their variables and secrets, as the
// REST API (2022-11-28) serves them under /repos/{owner}/{repo}/environments:
//
//   - PUT {env} creates or updates an environment (names are compared
//     without case, at most 255 characters).
//   - {env}/variables: list (per_page at most 30), POST {name, value}
//     (201; 409 when the name exists), {name}: GET, PATCH (204), DELETE (204).
//   - {env}/secrets/public-key: {key_id, key}, a Curve25519 key secrets are
//     sealed with (libsodium crypto_box_seal); {env}/secrets: list (per_page
//     at most 100, names and dates only: a secret's value is never served);
//     PUT {name} {encrypted_value, key_id} (201 created, 204 updated),
//     DELETE (204).
//   - Names "can only contain alphanumeric characters ([a-z], [A-Z], [0-9])
//     or underscores (_)", "must not start with the GITHUB_ prefix", "must
//     not start with a number", are case-insensitive and stored upper case;
//     values are at most 48 KB. Anything else is 422.
//   - A variable or secret of an environment that does not exist is 404.
//
// The fake refuses a secret whose key_id is not the environment's current
// key or whose encrypted_value does not open with that key (422): GitHub
// documents only that the value must be sealed with the key it names, and
// a test should fail loudly when a client seals with a stale or wrong key.

type ghEnvironment struct {
	name      string
	created   time.Time
	variables map[string]ghStored // upper-case name
	secrets   map[string]ghStored
	keyID     string
	pub, priv *[32]byte
}

type ghStored struct {
	value            string
	created, updated time.Time
}

func (s *GitHub) newEnvironment(name string) *ghEnvironment {
	e := &ghEnvironment{name: name, created: time.Now().UTC(), variables: map[string]ghStored{}, secrets: map[string]ghStored{}}
	s.rotateKey(e)
	return e
}

func (s *GitHub) rotateKey(e *ghEnvironment) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	s.keySerial++
	e.pub, e.priv, e.keyID = pub, priv, strconv.Itoa(568250167242549743+s.keySerial)
}

func (s *GitHub) env(name string) *ghEnvironment {
	if s.environments == nil {
		return nil
	}
	return s.environments[strings.ToLower(name)]
}

// AddEnvironment creates a deployment environment, as a repository admin
// would in the settings page.
func (s *GitHub) AddEnvironment(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env(name) == nil {
		if s.environments == nil {
			s.environments = map[string]*ghEnvironment{}
		}
		s.environments[strings.ToLower(name)] = s.newEnvironment(name)
	}
}

// Environments lists the deployment environments, sorted.
func (s *GitHub) Environments() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.environments {
		out = append(out, e.name)
	}
	sort.Strings(out)
	return out
}

// EnvironmentVariable returns a variable of an environment.
func (s *GitHub) EnvironmentVariable(environment, name string) (string, bool) {
	return s.environmentValue(environment, name, false)
}

// EnvironmentSecret returns the opened value of a secret of an environment:
// what a workflow job on that environment would read as secrets.NAME.
func (s *GitHub) EnvironmentSecret(environment, name string) (string, bool) {
	return s.environmentValue(environment, name, true)
}

func (s *GitHub) environmentValue(environment, name string, secret bool) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.env(environment)
	if e == nil {
		return "", false
	}
	m := e.variables
	if secret {
		m = e.secrets
	}
	v, ok := m[strings.ToUpper(name)]
	return v.value, ok
}

// RotateEnvironmentKey gives an environment a new public key; secrets
// sealed with the old key_id are then refused.
func (s *GitHub) RotateEnvironmentKey(environment string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.env(environment); e != nil {
		s.rotateKey(e)
	}
}

func ghValidationError(w http.ResponseWriter, resource, field, msg string) {
	ghJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest/actions", "status": "422",
		"errors": []map[string]string{{"resource": resource, "field": field, "code": "invalid", "message": msg}},
	})
}

// checkGitHubName applies GitHub's naming rules for secrets and variables.
func checkGitHubName(name string) string {
	if name == "" {
		return "name is missing"
	}
	for i, r := range name {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			return fmt.Sprintf("name %q may only contain alphanumeric characters or underscores", name)
		}
		if i == 0 && r >= '0' && r <= '9' {
			return fmt.Sprintf("name %q must not start with a number", name)
		}
	}
	if strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
		return fmt.Sprintf("name %q must not start with GITHUB_", name)
	}
	return ""
}

func ghTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// storedJSON is a variable or secret as GitHub serves it; a secret's value
// (withValue false) is never served.
func storedJSON(name string, v ghStored, withValue bool) map[string]any {
	out := map[string]any{"name": name, "created_at": ghTime(v.created), "updated_at": ghTime(v.updated)}
	if withValue {
		out["value"] = v.value
	}
	return out
}

// serveEnvironment answers the environment routes (rest is the path after
// /repos/{owner}/{repo}/); it is called with s.mu held and reports whether
// it answered.
func (s *GitHub) serveEnvironment(w http.ResponseWriter, r *http.Request, rest []string, body []byte) bool {
	if len(rest) < 2 || rest[0] != "environments" {
		return false
	}
	e := s.env(rest[1])
	page := func(total int) (from, to int) {
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		max := 30
		if len(rest) == 3 && rest[2] == "secrets" {
			max = 100
		}
		if per <= 0 {
			per = 30
			if max == 30 {
				per = 10
			}
		}
		if per > max {
			per = max
		}
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if p <= 0 {
			p = 1
		}
		from = min((p-1)*per, total)
		return from, min(from+per, total)
	}
	switch {
	case len(rest) == 2 && r.Method == http.MethodPut:
		if len(rest[1]) > 255 {
			ghValidationError(w, "Environment", "name", "name is too long (maximum is 255 characters)")
			return true
		}
		if e == nil {
			if s.environments == nil {
				s.environments = map[string]*ghEnvironment{}
			}
			e = s.newEnvironment(rest[1])
			s.environments[strings.ToLower(rest[1])] = e
		}
		ghJSON(w, http.StatusOK, s.environmentJSON(e))
	case len(rest) == 2 && r.Method == http.MethodGet:
		if e == nil {
			ghError(w, 404, "Not Found")
			return true
		}
		ghJSON(w, http.StatusOK, s.environmentJSON(e))
	case e == nil:
		ghError(w, 404, "Not Found")
	case len(rest) == 3 && rest[2] == "variables" && r.Method == http.MethodGet:
		names := sortedKeys(e.variables)
		from, to := page(len(names))
		list := []map[string]any{}
		for _, n := range names[from:to] {
			list = append(list, storedJSON(n, e.variables[n], true))
		}
		ghJSON(w, http.StatusOK, map[string]any{"total_count": len(names), "variables": list})
	case len(rest) == 3 && rest[2] == "variables" && r.Method == http.MethodPost:
		var in struct{ Name, Value string }
		if err := json.Unmarshal(body, &in); err != nil {
			ghValidationError(w, "ActionsVariable", "", "body is not JSON: "+err.Error())
			return true
		}
		if !s.checkVariable(w, in.Name, in.Value) {
			return true
		}
		if _, exists := e.variables[strings.ToUpper(in.Name)]; exists {
			ghError(w, http.StatusConflict, "Already exists - Variable already exists")
			return true
		}
		now := time.Now().UTC()
		e.variables[strings.ToUpper(in.Name)] = ghStored{value: in.Value, created: now, updated: now}
		ghJSON(w, http.StatusCreated, map[string]any{})
	case len(rest) == 4 && rest[2] == "variables":
		name := strings.ToUpper(rest[3])
		v, exists := e.variables[name]
		switch r.Method {
		case http.MethodGet:
			if !exists {
				ghError(w, 404, "Not Found")
				return true
			}
			ghJSON(w, http.StatusOK, storedJSON(name, v, true))
		case http.MethodPatch:
			if !exists {
				ghError(w, 404, "Not Found")
				return true
			}
			var in struct {
				Name  *string
				Value *string
			}
			if err := json.Unmarshal(body, &in); err != nil {
				ghValidationError(w, "ActionsVariable", "", "body is not JSON: "+err.Error())
				return true
			}
			newName := name
			if in.Name != nil {
				if !s.checkVariable(w, *in.Name, "") {
					return true
				}
				newName = strings.ToUpper(*in.Name)
			}
			if in.Value != nil {
				if !s.checkVariable(w, newName, *in.Value) {
					return true
				}
				v.value = *in.Value
			}
			v.updated = time.Now().UTC()
			delete(e.variables, name)
			e.variables[newName] = v
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			if !exists {
				ghError(w, 404, "Not Found")
				return true
			}
			delete(e.variables, name)
			w.WriteHeader(http.StatusNoContent)
		default:
			ghError(w, 404, "Not Found")
		}
	case len(rest) == 4 && rest[2] == "secrets" && rest[3] == "public-key" && r.Method == http.MethodGet:
		ghJSON(w, http.StatusOK, map[string]string{"key_id": e.keyID, "key": base64.StdEncoding.EncodeToString(e.pub[:])})
	case len(rest) == 3 && rest[2] == "secrets" && r.Method == http.MethodGet:
		names := sortedKeys(e.secrets)
		from, to := page(len(names))
		list := []map[string]any{}
		for _, n := range names[from:to] {
			list = append(list, storedJSON(n, e.secrets[n], false))
		}
		ghJSON(w, http.StatusOK, map[string]any{"total_count": len(names), "secrets": list})
	case len(rest) == 4 && rest[2] == "secrets":
		name := strings.ToUpper(rest[3])
		v, exists := e.secrets[name]
		switch r.Method {
		case http.MethodGet:
			if !exists {
				ghError(w, 404, "Not Found")
				return true
			}
			ghJSON(w, http.StatusOK, storedJSON(name, v, false))
		case http.MethodPut:
			if msg := checkGitHubName(rest[3]); msg != "" {
				ghValidationError(w, "Secret", "name", msg)
				return true
			}
			var in struct {
				EncryptedValue string `json:"encrypted_value"`
				KeyID          string `json:"key_id"`
			}
			if err := json.Unmarshal(body, &in); err != nil || in.EncryptedValue == "" || in.KeyID == "" {
				ghValidationError(w, "Secret", "encrypted_value", "encrypted_value and key_id are required")
				return true
			}
			if in.KeyID != e.keyID {
				ghValidationError(w, "Secret", "key_id", fmt.Sprintf("key_id %s is not the environment's current public key", in.KeyID))
				return true
			}
			sealed, err := base64.StdEncoding.DecodeString(in.EncryptedValue)
			if err != nil {
				ghValidationError(w, "Secret", "encrypted_value", "encrypted_value is not base64")
				return true
			}
			opened, ok := box.OpenAnonymous(nil, sealed, e.pub, e.priv)
			if !ok {
				ghValidationError(w, "Secret", "encrypted_value", "encrypted_value is not sealed with the environment's public key")
				return true
			}
			if len(opened) > 48*1024 {
				ghValidationError(w, "Secret", "encrypted_value", "secret value is larger than 48 KB")
				return true
			}
			now := time.Now().UTC()
			if !exists {
				v.created = now
			}
			v.value, v.updated = string(opened), now
			e.secrets[name] = v
			if exists {
				w.WriteHeader(http.StatusNoContent)
			} else {
				ghJSON(w, http.StatusCreated, map[string]any{})
			}
		case http.MethodDelete:
			if !exists {
				ghError(w, 404, "Not Found")
				return true
			}
			delete(e.secrets, name)
			w.WriteHeader(http.StatusNoContent)
		default:
			ghError(w, 404, "Not Found")
		}
	default:
		ghError(w, 404, "Not Found")
	}
	return true
}

func (s *GitHub) checkVariable(w http.ResponseWriter, name, value string) bool {
	if msg := checkGitHubName(name); msg != "" {
		ghValidationError(w, "ActionsVariable", "name", msg)
		return false
	}
	if len(value) > 48*1024 {
		ghValidationError(w, "ActionsVariable", "value", "value is larger than 48 KB")
		return false
	}
	return true
}

func (s *GitHub) environmentJSON(e *ghEnvironment) map[string]any {
	return map[string]any{"id": 161088068, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4", "name": e.name,
		"url":        s.APIURL() + "/repos/" + s.Repository() + "/environments/" + e.name,
		"html_url":   s.URL + "/" + s.Repository() + "/deployments/activity_log?environments_filter=" + e.name,
		"created_at": ghTime(e.created), "updated_at": ghTime(e.created), "protection_rules": []any{}, "deployment_branch_policy": nil}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
