package devops

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/crypto/nacl/box"
)

// GitHub environment variables and secrets (REST API 2022-11-28):
//
//	GET    /repos/{o}/{r}/environments/{env}                      an environment (404 when missing)
//	PUT    /repos/{o}/{r}/environments/{env}                      create or update an environment
//	GET    /repos/{o}/{r}/environments/{env}/variables            per_page at most 30
//	POST   /repos/{o}/{r}/environments/{env}/variables            {name, value} -> 201; 409 when it exists
//	PATCH  /repos/{o}/{r}/environments/{env}/variables/{name}     {name, value} -> 204
//	DELETE /repos/{o}/{r}/environments/{env}/variables/{name}     -> 204
//	GET    /repos/{o}/{r}/environments/{env}/secrets/public-key   {key_id, key}
//	GET    /repos/{o}/{r}/environments/{env}/secrets              per_page at most 100
//	PUT    /repos/{o}/{r}/environments/{env}/secrets/{name}       {encrypted_value, key_id} -> 201 or 204
//	DELETE /repos/{o}/{r}/environments/{env}/secrets/{name}       -> 204
//
// A secret's value is "encrypted with LibSodium using the public key
// retrieved from the Get an environment public key endpoint" (a sealed box,
// crypto_box_seal, which nacl/box.SealAnonymous implements), base64.

type ghVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type ghPublicKey struct {
	KeyID string `json:"key_id"`
	Key   string `json:"key"`
}

func (h *githubHost) envPath(environment string, parts ...string) string {
	return h.repoPath(append([]string{"environments", environment}, parts...)...)
}

func (h *githubHost) setVariables(ctx context.Context, environment string, vars []resolvedVariable) error {
	plain, secrets, found, err := h.listEnv(ctx, environment)
	if err != nil {
		return err
	}
	if !found {
		// Creating an environment needs administration rights on the
		// repository (a workflow's GITHUB_TOKEN has none); writing
		// variables and secrets of an existing one does not, so it is
		// created only when its variables cannot be listed (404). A new
		// environment holds nothing, so there is nothing more to list.
		if _, err := h.do(ctx, http.MethodPut, h.envPath(environment), nil, map[string]any{}, nil, http.StatusOK); err != nil {
			return fmt.Errorf("create environment %q (a token with administration rights on the repository can): %w", environment, err)
		}
	}
	var key *[32]byte
	var keyID string
	for _, v := range vars {
		upper := strings.ToUpper(v.stored)
		if !v.Secret {
			in := ghVariable{Name: v.stored, Value: v.Value}
			if _, exists := plain[upper]; exists {
				if _, err := h.do(ctx, http.MethodPatch, h.envPath(environment, "variables", v.stored), nil, in, nil, http.StatusNoContent); err != nil {
					return fmt.Errorf("update variable %s: %w", v.stored, err)
				}
			} else if _, err := h.do(withSideEffects(ctx), http.MethodPost, h.envPath(environment, "variables"), nil, in, nil, http.StatusCreated); err != nil {
				return fmt.Errorf("create variable %s: %w", v.stored, err)
			}
			if secrets[upper] {
				if err := h.deleteEnv(ctx, environment, "secrets", v.stored); err != nil {
					return fmt.Errorf("remove secret %s now stored as a variable: %w", v.stored, err)
				}
			}
			continue
		}
		if key == nil {
			if key, keyID, err = h.envPublicKey(ctx, environment); err != nil {
				return err
			}
		}
		sealed, err := box.SealAnonymous(nil, []byte(v.Value), key, rand.Reader)
		if err != nil {
			return fmt.Errorf("seal secret %s: %w", v.stored, err)
		}
		in := map[string]string{"encrypted_value": base64.StdEncoding.EncodeToString(sealed), "key_id": keyID}
		if _, err := h.do(ctx, http.MethodPut, h.envPath(environment, "secrets", v.stored), nil, in, nil, http.StatusCreated, http.StatusNoContent); err != nil {
			return fmt.Errorf("set secret %s: %w", v.stored, err)
		}
		if _, exists := plain[upper]; exists {
			if err := h.deleteEnv(ctx, environment, "variables", v.stored); err != nil {
				return fmt.Errorf("remove plain variable %s now stored as a secret: %w", v.stored, err)
			}
		}
	}
	return nil
}

func (h *githubHost) deleteVariables(ctx context.Context, environment string, stored []string) error {
	plain, secrets, _, err := h.listEnv(ctx, environment)
	if err != nil {
		return err
	}
	for _, n := range stored {
		upper := strings.ToUpper(n)
		if v, ok := plain[upper]; ok {
			if err := h.deleteEnv(ctx, environment, "variables", v.Name); err != nil {
				return fmt.Errorf("delete variable %s: %w", n, err)
			}
		}
		if secrets[upper] {
			if err := h.deleteEnv(ctx, environment, "secrets", upper); err != nil {
				return fmt.Errorf("delete secret %s: %w", n, err)
			}
		}
	}
	return nil
}

func (h *githubHost) deleteEnv(ctx context.Context, environment, kind, name string) error {
	status, err := h.do(ctx, http.MethodDelete, h.envPath(environment, kind, name), nil, nil, nil, http.StatusNoContent)
	if status == http.StatusNotFound {
		return nil // already gone
	}
	return err
}

// envPublicKey fetches the key secrets of environment are sealed with.
func (h *githubHost) envPublicKey(ctx context.Context, environment string) (*[32]byte, string, error) {
	var pk ghPublicKey
	if _, err := h.do(ctx, http.MethodGet, h.envPath(environment, "secrets", "public-key"), nil, nil, &pk); err != nil {
		return nil, "", fmt.Errorf("get the public key of environment %q: %w", environment, err)
	}
	raw, err := base64.StdEncoding.DecodeString(pk.Key)
	if err != nil || len(raw) != 32 || pk.KeyID == "" {
		return nil, "", fmt.Errorf("get the public key of environment %q: expected a base64 32-byte key and a key_id", environment)
	}
	var key [32]byte
	copy(key[:], raw)
	return &key, pk.KeyID, nil
}

// listEnv returns an environment's variables by upper-case name and the
// upper-case names of its secrets, and whether the environment exists (its
// variables list is 404 when it does not; it then has neither).
func (h *githubHost) listEnv(ctx context.Context, environment string) (plain map[string]ghVariable, secrets map[string]bool, found bool, err error) {
	plain = map[string]ghVariable{}
	secrets = map[string]bool{}
	found, err = h.envPages(ctx, environment, "variables", 30, func(v ghVariable) int {
		plain[strings.ToUpper(v.Name)] = v
		return len(plain)
	})
	if err != nil || !found {
		return plain, secrets, found, err
	}
	found, err = h.envPages(ctx, environment, "secrets", 100, func(v ghVariable) int {
		secrets[strings.ToUpper(v.Name)] = true
		return len(secrets)
	})
	return plain, secrets, found, err
}

// envPages reads every page of an environment's variables or secrets
// (kind; secrets come without values), per items a page (the most GitHub
// serves of that kind), handing each to add, which says how many distinct
// items it holds so far. It reports false when the list is 404 (no such
// environment).
func (h *githubHost) envPages(ctx context.Context, environment, kind string, per int, add func(ghVariable) int) (bool, error) {
	for page := 1; ; page++ {
		var resp struct {
			TotalCount int          `json:"total_count"`
			Variables  []ghVariable `json:"variables"`
			Secrets    []ghVariable `json:"secrets"`
		}
		q := url.Values{"per_page": {strconv.Itoa(per)}, "page": {strconv.Itoa(page)}}
		status, err := h.do(ctx, http.MethodGet, h.envPath(environment, kind), q, nil, &resp)
		if status == http.StatusNotFound {
			return false, nil
		}
		if err != nil {
			return true, fmt.Errorf("list %s: %w", kind, err)
		}
		items := append(resp.Variables, resp.Secrets...)
		held := 0
		for _, v := range items {
			held = add(v)
		}
		if len(items) == 0 || held >= resp.TotalCount {
			return true, nil
		}
	}
}

func (h *githubHost) variables(ctx context.Context, environment string) ([]StoredVariable, error) {
	plain, secrets, _, err := h.listEnv(ctx, environment)
	if err != nil {
		return nil, err
	}
	var out []StoredVariable
	for _, v := range plain {
		out = append(out, StoredVariable{Name: strings.ToUpper(v.Name), Value: v.Value})
	}
	for name := range secrets {
		out = append(out, StoredVariable{Name: name, Secret: true})
	}
	return out, nil
}
