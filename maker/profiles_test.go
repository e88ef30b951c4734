package maker

import (
	"strings"
	"testing"
)

func TestParseProfilesNamesTheBadField(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"profiles:\n  - name: A\n    host: gitlab\n", `profiles[0] (A).host: expected azure-devops, github or local, got "gitlab"`},
		{"profiles:\n  - name: A\n    host: github\n    repository: alm\n", `(A).repository: expected owner/name`},
		{"profiles:\n  - name: A\n    host: local\n    steps:\n      - environment: test\n        url: https://x\n        approval: manual\n", `(A).steps[0].approval: expected pull-request or environment, got "manual"`},
		{"profiles:\n  - name: A\n    host: local\n    colour: red\n", "field colour not found"},
		{"profiles:\n  - name: A\n    host: local\n  - name: a\n    host: local\n", `profiles[1].name: "a" is used twice`},
	} {
		_, err := ParseProfiles([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), ProfilesPath) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
	ps, err := ParseProfiles([]byte("profiles:\n  - name: A\n    host: local\n    makers: [Alex@Contoso.com]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.OpenTo("alex@contoso.com")) != 1 || len(ps.OpenTo("bea@contoso.com")) != 0 {
		t.Fatal("makers list not applied case-insensitively")
	}
}
