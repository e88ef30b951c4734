package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/settings"
)

// Token values come from the environment first, then from the JSON maps a
// GitHub job passes as PPALM_VARIABLES and PPALM_SECRETS.
func TestLookupEnvReadsGitHubVariableMaps(t *testing.T) {
	env := map[string]string{
		"CONNECTIONREFERENCE_X":  "from-env",
		"PPALM_VARIABLES":        `{"ENVIRONMENTVARIABLE_SITE": "https://contoso.sharepoint.com", "EMPTY": "", "CONNECTIONREFERENCE_X": "from-vars"}`,
		"PPALM_SECRETS":          `{"github_token": "ghs_x", "CONNECTIONREFERENCE_SECRET_Y": "s3cret"}`,
		"ENVIRONMENTVARIABLE_NO": "",
	}
	var out bytes.Buffer
	f := &Factory{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }}
	lookup := lookupEnv(f)
	for name, want := range map[string]string{
		"connectionreference.x":        "from-env", // the process environment wins
		"environmentvariable.site":     "https://contoso.sharepoint.com",
		"connectionreference.secret-y": "s3cret",
	} {
		if v, ok := settings.Lookup(lookup, name); !ok || v != want {
			t.Errorf("%s = %q, %v; want %q", name, v, ok, want)
		}
	}
	for _, name := range []string{"empty", "environmentvariable.no", "nothing"} {
		if v, ok := settings.Lookup(lookup, name); ok {
			t.Errorf("%s = %q: an empty or absent value must count as missing", name, v)
		}
	}

	env["PPALM_VARIABLES"] = "not json"
	lookupEnv(f)
	if !strings.Contains(out.String(), "PPALM_VARIABLES is not a JSON object") {
		t.Errorf("no warning for a malformed PPALM_VARIABLES: %q", out.String())
	}
}
