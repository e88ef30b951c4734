package maker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/gitops"
)

func TestParseProfilesNamesTheBadField(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"profiles:\n  - name: A\n    host: gitlab\n", `profiles[0] (A).host: expected azure-devops, github or local, got "gitlab"`},
		{"profiles:\n  - name: A\n    host: local\n    branch: \"{maker} {solution}\"\n", `(A).branch: "{maker} {solution}": expected a branch name`},
		{"profiles:\n  - name: A\n    host: local\n    targetBranch: main..x\n", `(A).targetBranch: "main..x" is not a branch name`},
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
	if len(ps.OpenTo(person("alex@contoso.com"))) != 1 || len(ps.OpenTo(person("bea@contoso.com"))) != 0 {
		t.Fatal("makers list not applied case-insensitively")
	}
}

func person(email string, groups ...string) Identity {
	return Identity{Signature: gitops.Signature{Name: email, Email: email}, Groups: groups}
}

// TestProfilesNamePeopleAndGroups: makers, advanced and admins name people
// (sign-in name or object id) or Entra groups; a bad entry names its field.
func TestProfilesNamePeopleAndGroups(t *testing.T) {
	const makers = "6a0b1c2d-0000-4000-8000-0000000000a2"
	ps, err := ParseProfiles([]byte(`admins:
  - group: 6a0b1c2d-0000-4000-8000-0000000000a3
    name: Contoso Approvers
profiles:
  - name: Team
    host: local
    makers:
      - group: ` + makers + `
        name: Contoso Makers
      - bea@contoso.com
    advanced:
      - user: 0c1d2e3f-0000-4000-8000-000000000002
`))
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Profiles[0]
	alex := person("alex@contoso.com", strings.ToUpper(makers))
	alex.ObjectID = "0c1d2e3f-0000-4000-8000-000000000002"
	switch {
	case !p.OpenTo(alex) || !p.OpenTo(person("Bea@contoso.com")) || p.OpenTo(person("nico@contoso.com")):
		t.Error("makers: a group's member, a person by name, and nobody else")
	case !p.AdvancedFor(alex) || p.AdvancedFor(person("bea@contoso.com")):
		t.Error("advanced: the person by object id only")
	case ps.AdminFor(alex) || !ps.AdminFor(person("casey@contoso.com", "6a0b1c2d-0000-4000-8000-0000000000a3")):
		t.Error("admins: the approvers group only")
	}
	// The file round-trips: groups keep their names, people stay strings.
	out, err := yaml.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "- bea@contoso.com\n") || !strings.Contains(string(out), "name: Contoso Makers") {
		t.Errorf("written as:\n%s", out)
	}
	if again, err := ParseProfiles(out); err != nil || !again.Profiles[0].OpenTo(alex) {
		t.Errorf("read back: %v", err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"admins: [alex]\nprofiles: []\n", `admins[0]: user "alex": expected a sign-in name`},
		{"profiles:\n  - name: A\n    host: local\n    makers:\n      - group: Contoso Makers\n", `(A).makers[0]: group "Contoso Makers": expected the group's object id`},
		{"profiles:\n  - name: A\n    host: local\n    advanced:\n      - groups: x\n", "field groups not found in a makers/advanced/admins entry"},
		{"profiles:\n  - name: A\n    host: local\n    makers:\n      - {user: a@b.c, group: 6a0b1c2d-0000-4000-8000-0000000000a3}\n", "(A).makers[0]: expected user or group, not both"},
	} {
		if _, err := ParseProfiles([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestREADMEShowsTheScreenshots: every screenshot the browser tests write
// is in the README, and the README shows no picture they do not write.
func TestREADMEShowsTheScreenshots(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := filepath.Glob("*browser*_test.go")
	if err != nil || len(tests) == 0 {
		t.Fatal("no browser tests", err)
	}
	written := map[string]bool{}
	for _, name := range tests {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`shot\("([^"]+)"\)`).FindAllStringSubmatch(string(src), -1) {
			written["docs/maker/"+m[1]+".png"] = true
		}
	}
	shown := map[string]bool{}
	for _, m := range regexp.MustCompile(`\((docs/maker/[^)]+\.png)\)`).FindAllStringSubmatch(string(readme), -1) {
		shown[m[1]] = true
	}
	for p := range written {
		if !shown[p] {
			t.Errorf("the browser test writes %s but the README does not show it", p)
		}
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(p))); err != nil {
			t.Errorf("%s: %v (PPALM_SCREENSHOTS=1 go test ./maker -run Browser writes it)", p, err)
		}
	}
	for p := range shown {
		if !written[p] {
			t.Errorf("the README shows %s, which no browser test writes", p)
		}
	}
	if !strings.Contains(string(readme), "go run ./cmd/ppalm maker --demo") {
		t.Error("the README's quick start lacks go run ./cmd/ppalm maker --demo")
	}
}

func TestCommitBranchFromTheProfile(t *testing.T) {
	if got := (Profile{}).CommitBranch("Contoso", "alex.maker@contoso.com"); got != "Contoso" {
		t.Errorf("default: %q", got)
	}
	if got := (Profile{Branch: "makers/{maker}/{solution}"}).CommitBranch("Contoso", "alex.maker@contoso.com"); got != "makers/alex.maker/Contoso" {
		t.Errorf("pattern: %q", got)
	}
}
