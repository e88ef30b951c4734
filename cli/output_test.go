package cli

import (
	"encoding/json"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops/githttp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// jsonCommands lists the command paths that take --output json.
func jsonCommands(t *testing.T) []string {
	t.Helper()
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if _, ok := c.Annotations[jsonAnnotation]; ok {
			out = append(out, strings.TrimPrefix(c.CommandPath(), "ppalm "))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(testRoot())
	sort.Strings(out)
	return out
}

// goldenName is the testdata file of a command's document.
func goldenName(command string) string {
	return filepath.Join("testdata", "json", strings.ReplaceAll(command, " ", "-")+".json")
}

// Every command that reports has --output json and a golden document, and
// every golden document belongs to such a command.
func TestEveryReportingCommandHasAJSONGolden(t *testing.T) {
	cmds := jsonCommands(t)
	want := []string{"build", "commit", "configure", "connection list", "diff", "export", "export-to-git", "history", "import", "normalize",
		"pack", "plan", "pr create", "settings create", "settings validate", "solution delete", "solution list", "unpack",
		"upgrade-requested", "version", "version set", "whoami"}
	sort.Strings(want)
	if strings.Join(cmds, ",") != strings.Join(want, ",") {
		t.Errorf("commands with --output json:\n got %v\nwant %v", cmds, want)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	have := map[string]bool{}
	for _, c := range cmds {
		have[goldenName(c)] = true
		if _, err := os.Stat(goldenName(c)); err != nil {
			t.Errorf("%s has no golden document: %v", c, err)
		}
	}
	for _, f := range files {
		if !have[f] {
			t.Errorf("%s belongs to no command", f)
		}
	}
	// Every field is documented in `ppalm help output`.
	help, _, _ := runCLI(t, nil, "help", "output")
	for _, c := range cmds {
		if !strings.Contains(help, "ppalm "+c+" --output json\n") {
			t.Errorf("ppalm help output does not describe %s", c)
		}
	}
}

// goldenJSON checks that stdout is exactly one JSON document and compares
// it, volatile values replaced, with the command's golden file.
func goldenJSON(t *testing.T, command, stdout string, replace []string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: stdout is not JSON: %v\n%s", command, err, stdout)
	}
	if err := dec.Decode(&v); err != io.EOF {
		t.Fatalf("%s: stdout holds more than one JSON document:\n%s", command, stdout)
	}
	got := stdout
	for i := 0; i+1 < len(replace); i += 2 {
		got = strings.ReplaceAll(got, replace[i], replace[i+1])
	}
	for re, with := range volatile {
		got = re.ReplaceAllString(got, with)
	}
	path := goldenName(command)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (go test ./cli -run JSON -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s --output json differs from %s (go test ./cli -run JSON -update to accept):\n--- got\n%s\n--- want\n%s", command, path, got, want)
	}
}

// volatile are the values that change from run to run.
var volatile = map[*regexp.Regexp]string{
	regexp.MustCompile(`"durationMs": \d+`):                                                `"durationMs": 0`,
	regexp.MustCompile(`\b[0-9a-f]{40}\b`):                                                 "$$COMMIT",
	regexp.MustCompile(`commit [0-9a-f]{10} on`):                                           "commit $$COMMIT on",
	regexp.MustCompile(`import job [0-9a-f-]{36}`):                                         "import job $$GUID",
	regexp.MustCompile(`"importJobId": "[0-9a-f-]{36}"`):                                   `"importJobId": "$$GUID"`,
	regexp.MustCompile(`"(environmentId|organizationId|businessUnitId)": "[0-9a-f-]{36}"`): `"$1": "$$GUID"`,
	regexp.MustCompile(`"bytes": \d+`):                                                     `"bytes": 0`,
	regexp.MustCompile(`\(\d+ KB\)`):                                                       "(0 KB)",
}

// Each command's --output json, run against the emulator, a git server
// and a GitHub stand-in on loopback.
func TestJSONOutput(t *testing.T) {
	base := t.TempDir()
	tmp := func(p ...string) string { return filepath.Join(append([]string{base}, p...)...) }
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev", "test"}, AsyncPolls: -1,
		Seeds: map[string][]string{"dev": {followSitesZip}}})
	gs := githttp.NewServer(tmp("git"))
	if _, err := gs.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	gitSrv := httptest.NewServer(gs.Handler())
	defer gitSrv.Close()
	gh := devopstest.NewGitHub(t)
	gh.AddCommit(devopstest.GitHubCommit{SHA: "aaaa", Message: "FollowSites: add flow", Author: "Ada", Login: "ada", Date: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Paths: []string{"FollowSites/x"}})
	gh.AddPull(devopstest.GitHubPull{Number: 5, Head: "f", Base: "main", State: "closed", Merged: true, MergeCommitSHA: "abc123", Labels: []string{"solution-upgrade"}})
	replace := []string{base, "$TMP", srv.URL, "$EMULATOR", gitSrv.URL, "$GIT", gh.URL, "$GITHUB"}
	author := map[string]string{"BUILD_REQUESTEDFOR": "Alex Maker", "BUILD_REQUESTEDFOREMAIL": "alex@contoso.example"}
	pl23, pl24 := fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip"), fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")
	replace = append(replace, filepath.Dir(pl23), "$FIXTURES")

	step := func(command string, env map[string]string, args ...string) {
		t.Helper()
		out, errOut, code := runCLI(t, env, append(append(strings.Fields(command), args...), "--output", "json")...)
		if code != 0 && code != ExitCheckFailed {
			t.Fatalf("%s: exit %d\n%s%s", command, code, out, errOut)
		}
		goldenJSON(t, command, out, replace)
	}
	dev, test := srv.EnvURL("dev"), srv.EnvURL("test")

	step("whoami", nil, "--environment", dev)
	step("solution list", nil, "--environment", dev)
	step("connection list", nil, "--environment", test, "--connector", "shared_sharepointonline")
	step("export", nil, "--environment", dev, "--solution", "FollowSites", "--out", tmp("export"))
	step("export-to-git", author, "--environment", dev, "--solution", "FollowSites", "--repo", gitSrv.URL+"/alm.git",
		"--branch", "FollowSites", "--message", "First #1", "--environments", "test")
	step("unpack", nil, "--zipfile", tmp("export", "FollowSites.zip"), "--folder", tmp("src"))
	step("normalize", nil, "--folder", tmp("src"))
	step("version set", nil, "--folder", tmp("src"), "--version", "1.0.1.0")
	step("pack", nil, "--folder", tmp("src"), "--zipfile", tmp("packed", "FollowSites.zip"), "--packagetype", "Both")
	step("build", nil, "--folder", tmp("src"), "--out", tmp("drop"), "--compare-to", tmp("export", "FollowSites.zip"))
	step("commit", author, "--repo", gitSrv.URL+"/alm.git", "--branch", "FollowSites", "--folder", tmp("src"), "--path", "FollowSites/SolutionPackage/src", "--message", "Stamp")
	step("settings create", nil, "--zipfile", tmp("export", "FollowSites_managed.zip"), "--out", tmp("config", "test", "deploymentSettings.json"),
		"--custom-out", tmp("config", "test", "customDeploymentSettings.json"))
	step("settings validate", nil, "--zipfile", tmp("export", "FollowSites_managed.zip"), "--config", tmp("config"), "--environment-name", "test")
	ds := deploymentSettingsFile(t, sharePointConnection(t, srv.Client(t, "test")))
	replace = append(replace, filepath.Dir(ds), "$SETTINGS")
	step("plan", nil, "--environment", test, "--zipfile", tmp("export", "FollowSites_managed.zip"), "--settings", ds)
	step("import", nil, "--environment", test, "--zipfile", tmp("export", "FollowSites_managed.zip"), "--settings", ds)
	cds := tmp("custom.json")
	os.WriteFile(cds, []byte(`{"AadGroupTeamConfiguration":[{"aadGroupTeamName":"Sales Team","aadSecurityGroupId":"`+emulator.Groups[0].ID+`","dataverseSecurityRoleNames":["Basic User"]}]}`), 0o644)
	step("configure", nil, "--environment", test, "--solution", "FollowSites", "--settings", ds, "--custom-settings", cds, "--only", "teams,activate-flows")
	step("solution delete", nil, "--environment", test, "--solution", "FollowSites")
	step("diff", nil, pl23, pl24)
	ghEnv := map[string]string{"GITHUB_ACTIONS": "", "GITHUB_TOKEN": gh.Token}
	step("history", ghEnv, "--solution", "FollowSites", "--repository", gh.Repository(), "--github-api-url", gh.APIURL())
	step("upgrade-requested", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_API_URL": gh.APIURL(), "GITHUB_REPOSITORY": gh.Repository(), "GITHUB_TOKEN": gh.Token, "GITHUB_SHA": "abc123"})
	// The pull request's description carries the component diff of the
	// branches: PL400Demos 1.0.23.0 on main, 1.0.24.0 on the branch.
	for branch, zip := range map[string]string{"main": pl23, "PL400Demos": pl24} {
		tree := tmp("pl400", branch)
		if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", zip, "--folder", tree); code != 0 {
			t.Fatal(errOut)
		}
		if _, errOut, code := runCLI(t, author, "commit", "--repo", gitSrv.URL+"/alm.git", "--branch", branch, "--folder", tree, "--path", "PL400Demos/SolutionPackage/src", "--message", branch, "--base", "FollowSites"); code != 0 {
			t.Fatal(errOut)
		}
	}
	step("pr create", ghEnv, "--source", "PL400Demos", "--target", "main", "--title", "Deploy PL400Demos", "--repository", gh.Repository(),
		"--github-api-url", gh.APIURL(), "--solution", "PL400Demos", "--repo", gitSrv.URL+"/alm.git")
	found := false
	for _, p := range gh.Pulls() {
		found = found || p.Title == "Deploy PL400Demos" && strings.Contains(p.Body, "| ➕ added | custom connector | InventoryManager (`dem_inventorymanager`) |")
	}
	if !found {
		t.Errorf("no pull request with the component diff in its description:\n%+v", gh.Pulls())
	}
	out, _, _ := runCLI(t, nil, "version", "--output", "json")
	goldenJSON(t, "version", out, []string{`"` + buildVersion() + `"`, `"$VERSION"`, `"` + runtime.Version() + `"`, `"$GO"`,
		`"` + runtime.GOOS + `"`, `"$OS"`, `"` + runtime.GOARCH + `"`, `"$ARCH"`})
}
