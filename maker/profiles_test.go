package maker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
	if len(ps.OpenTo("alex@contoso.com")) != 1 || len(ps.OpenTo("bea@contoso.com")) != 0 {
		t.Fatal("makers list not applied case-insensitively")
	}
}

// TestREADMEShowsTheScreenshots: every screenshot the browser tests write
// is in the README, and the README shows no picture they do not write.
func TestREADMEShowsTheScreenshots(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("browser_test.go")
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	for _, m := range regexp.MustCompile(`shot\("([^"]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		written["docs/maker/"+m[1]+".png"] = true
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
