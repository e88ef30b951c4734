package settings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Variables is where #{name}# tokens get their values, in this order:
//
//  1. the process environment (Azure DevOps passes plain pipeline variables
//     that way; a step's env: mapping of a secret lands here too);
//  2. under TF_BUILD, SECRET_<NAME> in Azure DevOps spelling: the agent
//     never puts a secret variable in a process's environment under its own
//     name, only (for a task) as SECRET_<NAME>, which is why the
//     Accelerator's "mark token variables secret" left ppalm without them;
//  3. the JSON objects in PPALM_VARIABLES and PPALM_SECRETS (GitHub's
//     runner puts neither vars nor secrets in a step's environment, so the
//     workflow passes ${{ toJSON(vars) }} and ${{ toJSON(secrets) }}).
//
// Every value found through a secret channel (2, and PPALM_SECRETS) is
// remembered so the caller registers it with the reporter (task
// RegisterSecrets) before anything can print it. An empty value counts as
// unset.
type Variables struct {
	getenv   func(string) string
	tfBuild  bool
	maps     []map[string]string
	secret   map[string]bool // values from a secret channel
	onSecret func(string)
	Warnings []string // PPALM_VARIABLES / PPALM_SECRETS that are not JSON objects
}

// NewVariables reads the token sources from getenv (os.Getenv in product
// code). onSecret (may be nil) is called once with each secret value as
// soon as it is known, before it is handed out: the reporter's
// SetSecret, so it is masked from then on.
func NewVariables(getenv func(string) string, onSecret func(string)) *Variables {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	v := &Variables{getenv: getenv, tfBuild: getenv("TF_BUILD") != "", secret: map[string]bool{}, onSecret: onSecret}
	for _, name := range []string{"PPALM_VARIABLES", "PPALM_SECRETS"} {
		raw := getenv(name)
		if raw == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			// The error text never quotes the value: it may hold secrets.
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s is not a JSON object of variables: it is ignored", name))
			continue
		}
		vals := make(map[string]string, len(m))
		for k, x := range m {
			if s, ok := x.(string); ok {
				vals[strings.ToUpper(k)] = s
				if name == "PPALM_SECRETS" {
					v.learn(s)
				}
			}
		}
		v.maps = append(v.maps, vals)
	}
	return v
}

// Lookup is the LookupFunc of these sources.
func (v *Variables) Lookup(name string) (string, bool) {
	if s := v.getenv(name); s != "" {
		return s, true
	}
	if v.tfBuild {
		if s := v.getenv("SECRET_" + AzureDevOpsName(name)); s != "" {
			v.learn(s)
			return s, true
		}
	}
	for _, m := range v.maps {
		if s := m[strings.ToUpper(name)]; s != "" {
			return s, true
		}
	}
	return "", false
}

func (v *Variables) learn(s string) {
	if strings.TrimSpace(s) == "" || v.secret[s] {
		return
	}
	v.secret[s] = true
	if v.onSecret != nil {
		v.onSecret(s)
	}
}

// Secrets lists every value known to be secret: all of PPALM_SECRETS and
// each SECRET_<NAME> looked up so far, sorted.
func (v *Variables) Secrets() []string {
	out := make([]string, 0, len(v.secret))
	for s := range v.secret {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// AgentSecrets lists the values of every SECRET_* variable in environ (as
// os.Environ gives it) under TF_BUILD, so they are masked even before a
// token asks for them.
func AgentSecrets(environ []string) []string {
	var out []string
	for _, kv := range environ {
		k, val, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, "SECRET_") && val != "" {
			out = append(out, val)
		}
	}
	sort.Strings(out)
	return out
}
