package cli

// One test per item of issue 15: what a newcomer tripped on, command by
// command.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
)

// runWith runs ppalm with f (its streams replaced by buffers) and returns
// what it wrote and its exit code.
func runWith(t *testing.T, f *Factory, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	f.Stdout, f.Stderr, f.Reporter = &out, &errb, nil
	if f.Getenv == nil {
		f.Getenv = func(string) string { return "" }
	}
	code = run(context.Background(), f, args)
	return out.String(), errb.String(), code
}

var managedPluginZip = fixtures.Path("is-system-admin-plugin", "IsSystemAdminFunction_1_0_0_0_managed.zip")

// solution list showed unmanaged solutions only: after a deployment to test
// it printed an empty table. It shows every visible solution now, with
// whether it is managed; --managed and --unmanaged filter.
func TestSolutionListShowsManagedSolutions(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev", "test"}, AsyncPolls: -1,
		Seeds: map[string][]string{"dev": {followSitesZip}}})
	if _, errOut, code := runCLI(t, nil, "import", "--environment", srv.EnvURL("test"), "--zipfile", managedPluginZip); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	out, errOut, code := runCLI(t, nil, "solution", "list", "--environment", srv.EnvURL("test"))
	if code != 0 || !strings.Contains(out, "MANAGED") || !lineWith(out, "IsSystemAdminFunction", "1.0.0.0", "true") {
		t.Fatalf("test: exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = runCLI(t, nil, "solution", "list", "--environment", srv.EnvURL("test"), "--unmanaged")
	if strings.Contains(out, "IsSystemAdminFunction") {
		t.Errorf("--unmanaged lists a managed solution:\n%s", out)
	}
	out, _, _ = runCLI(t, nil, "solution", "list", "--environment", srv.EnvURL("dev"), "--managed")
	if strings.Contains(out, "FollowSites") {
		t.Errorf("--managed lists the unmanaged FollowSites:\n%s", out)
	}
	out, _, _ = runCLI(t, nil, "solution", "list", "--environment", srv.EnvURL("dev"))
	if !lineWith(out, "FollowSites", "false") {
		t.Errorf("dev:\n%s", out)
	}
}

// lineWith says whether one line of text holds every word.
func lineWith(text string, words ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// deploymentSettingsFile writes FollowSites' deploymentSettings.json with
// connection id conn and a site URL.
func deploymentSettingsFile(t *testing.T, conn string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "deploymentSettings.json")
	data := `{"EnvironmentVariables":[{"SchemaName":"alexmsft_FollowSitesSPOSite","Value":"https://contoso.sharepoint.com/sites/a"}],
"ConnectionReferences":[{"LogicalName":"alexmsft_SharePointConnectionFollowSites","ConnectionId":"` + conn + `","ConnectorId":"/providers/Microsoft.PowerApps/apis/shared_sharepointonline"}]}`
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sharePointConnection is the id of the target's SharePoint connection.
func sharePointConnection(t *testing.T, dv *dataverse.Client) string {
	t.Helper()
	ctx := context.Background()
	env, err := dv.EnvironmentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := dv.ListConnections(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if strings.HasSuffix(c.ConnectorID, "/shared_sharepointonline") {
			return c.Name
		}
	}
	t.Fatal("no SharePoint connection in the emulator")
	return ""
}

// plan said nothing of a connection that does not exist in the target,
// which import then refused. It checks the target as the import's preflight
// does, says when nothing changes, and sums up on its last line; exit 2
// means the import would fail.
func TestPlanChecksTheTargetAsImportDoes(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}, AsyncPolls: -1})
	env := srv.EnvURL("test")
	missing := deploymentSettingsFile(t, "0badc0ffee0000000000000000000000")
	out, errOut, code := runCLI(t, nil, "plan", "--environment", env, "--zipfile", followSitesZip, "--settings", missing)
	gap := "connection 0badc0ffee0000000000000000000000 does not exist in " + env
	if code != ExitCheckFailed || !strings.Contains(out, gap) || !strings.Contains(out, "1 settings gap(s): the import would fail") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runCLI(t, nil, "import", "--environment", env, "--zipfile", followSitesZip, "--settings", missing)
	if code == 0 || !strings.Contains(errOut, gap) {
		t.Fatalf("import: exit %d\n%s", code, errOut)
	}

	good := deploymentSettingsFile(t, sharePointConnection(t, srv.Client(t, "test")))
	out, errOut, code = runCLI(t, nil, "plan", "--environment", env, "--zipfile", followSitesZip, "--settings", good)
	if code != 0 || !strings.HasSuffix(out, "0 settings gap(s): the import would go ahead\n") || !strings.Contains(out, "Plan: install FollowSites, 6 to add") {
		t.Fatalf("plan, good settings: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, nil, "import", "--environment", env, "--zipfile", followSitesZip, "--settings", good); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	// Nothing to change: it says so, not nothing.
	out, errOut, code = runCLI(t, nil, "plan", "--environment", env, "--zipfile", followSitesZip, "--settings", good)
	if code != 0 || !strings.Contains(out, "no component changes") || !strings.Contains(out, "0 to add, 0 to change, 0 to remove, 0 settings gap(s)") {
		t.Fatalf("plan after import: exit %d\n%s%s", code, out, errOut)
	}
}

// Throttled, an import was slow and nothing said why. --verbose (and
// PPALM_LOG=debug) log each HTTP call with its status, duration, retries
// and waits; without it one line counts the retries.
func TestVerboseLogsEachCallAndItsRetries(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}, Faults: "429=0.4,seed=11"})
	noSleep := []dataverse.Option{dataverse.WithSleep(emulatortest.NoSleep)}
	whoami := srv.EnvURL("test") + "/api/data/v9.2/WhoAmI"

	out, errOut, code := runWith(t, &Factory{DataverseOptions: noSleep}, "whoami", "--environment", srv.EnvURL("test"), "--verbose")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"HTTP GET " + whoami + ": 200 OK (", ": 429 Too Many Requests (", "retry 1 after 429 in ", "(Retry-After)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--verbose log lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out, "HTTP ") {
		t.Errorf("the HTTP log is on stdout:\n%s", out)
	}
	_, debugOut, _ := runWith(t, &Factory{DataverseOptions: noSleep, Getenv: envOf(map[string]string{"PPALM_LOG": "debug"})}, "whoami", "--environment", srv.EnvURL("test"))
	if !strings.Contains(debugOut, "HTTP GET ") {
		t.Errorf("PPALM_LOG=debug:\n%s", debugOut)
	}
	_, quiet, code := runWith(t, &Factory{DataverseOptions: noSleep}, "whoami", "--environment", srv.EnvURL("test"))
	if code != 0 || strings.Contains(quiet, "HTTP GET") || !strings.Contains(quiet, "requests to Power Platform were retries") || !strings.Contains(quiet, "--verbose shows each call") {
		t.Errorf("without --verbose:\n%s", quiet)
	}
	_, warnOnly, _ := runWith(t, &Factory{DataverseOptions: noSleep, Getenv: envOf(map[string]string{"PPALM_LOG": "warn"})}, "whoami", "--environment", srv.EnvURL("test"))
	if strings.Contains(warnOnly, "note:") {
		t.Errorf("PPALM_LOG=warn still says notes:\n%s", warnOnly)
	}
	_, bad, code := runWith(t, &Factory{Getenv: envOf(map[string]string{"PPALM_LOG": "loud"})}, "whoami", "--environment", srv.EnvURL("test"))
	if code != ExitFailure || !strings.Contains(bad, `PPALM_LOG="loud": expected one of debug, info, warn, error`) {
		t.Errorf("bad PPALM_LOG: exit %d\n%s", code, bad)
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// build --version V was ignored without a word when the tree carried a
// version; it warns now, naming how to build V.
func TestBuildWarnsWhenVersionIsNotStamped(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "src")
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", followSitesZip, "--folder", tree); code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code := runCLI(t, nil, "build", "--folder", tree, "--out", filepath.Join(dir, "drop"), "--version", "2.0.0.0", "--packagetype", "Managed")
	if code != 0 || !strings.Contains(errOut, "warning: --version 2.0.0.0 not stamped: the tree carries version 1.0.0.0") ||
		!strings.Contains(errOut, "ppalm version set --folder "+tree+" --version 2.0.0.0") || !strings.Contains(out, "FollowSites_1_0_0_0_managed.zip") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// From the build number, keeping the tree's version is the rule (the
	// Accelerator's): a note, no warning.
	_, errOut, _ = runCLI(t, map[string]string{"BUILD_BUILDNUMBER": "2.0.0.1"}, "build", "--folder", tree, "--out", filepath.Join(dir, "drop2"))
	if strings.Contains(errOut, "warning") {
		t.Errorf("warned for the build number:\n%s", errOut)
	}
}

// newWorkingCopy makes a git working copy with one commit on main.
func newWorkingCopy(t *testing.T) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: "refs/heads/main"}})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("alm\n"), 0o644)
	wt.Add("README.md")
	if _, err := wt.Commit("start", &git.CommitOptions{Author: &object.Signature{Name: "x", Email: "x@x", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	return dir, repo
}

// export-to-git wanted --author-name/--author-email though git's user.name
// and user.email were set, and on a wrong --repo it published and exported
// first, then failed. It takes git's identity, and checks the repository
// before it calls Dataverse.
func TestExportToGitTakesGitsIdentityAndChecksTheRepoFirst(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, AsyncPolls: -1, Seeds: map[string][]string{"dev": {followSitesZip}}})
	notRepo := t.TempDir()
	before := srv.Emulator.Stats().Total
	_, errOut, code := runCLI(t, map[string]string{"BUILD_REQUESTEDFOR": "x", "BUILD_REQUESTEDFOREMAIL": "x@x"}, "export-to-git", "--environment", srv.EnvURL("dev"),
		"--solution", "FollowSites", "--repo", notRepo, "--branch", "FollowSites", "--message", "m")
	if code == 0 || !strings.Contains(errOut, "--repo "+notRepo+": not a git repository") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if n := srv.Emulator.Stats().Total - before; n != 0 {
		t.Errorf("%d requests reached Dataverse before the repository was found wrong", n)
	}

	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Alex Maker\n\temail = alex@contoso.example\n"), 0o644)
	dir, repo := newWorkingCopy(t)
	out, errOut, code := runCLI(t, nil, "export-to-git", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--repo", dir,
		"--branch", "FollowSites", "--message", "First #1", "--push=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	head, err := repo.Reference("refs/heads/FollowSites", true)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := repo.CommitObject(head.Hash())
	if c.Author.Name != "Alex Maker" || c.Author.Email != "alex@contoso.example" {
		t.Errorf("author %s <%s>", c.Author.Name, c.Author.Email)
	}
	if !strings.HasPrefix(strings.TrimSpace(out), "✓ check-repo") {
		t.Errorf("the repository check is not the first step:\n%s", out)
	}
}

// history could not find the repository host on a terminal; it reads the
// working copy's origin remote, as gh does.
func TestHistoryFindsTheHostFromOrigin(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddCommit(devopstest.GitHubCommit{SHA: "aaaa", Message: "Contoso: add flow", Author: "Ada", Login: "ada", Date: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Paths: []string{"Contoso/x"}})
	dir, repo := newWorkingCopy(t)
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{s.URL + "/" + s.Repository() + ".git"}}); err != nil {
		t.Fatal(err)
	}
	f := &Factory{Dir: filepath.Join(dir), Getenv: envOf(map[string]string{"GH_TOKEN": s.Token})}
	out, errOut, code := runWith(t, f, "history", "--solution", "Contoso")
	if code != 0 || !strings.Contains(out, "Contoso: add flow") || !strings.Contains(errOut, "repository host from origin") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// Outside a working copy it says what to pass.
	_, errOut, code = runWith(t, &Factory{Dir: t.TempDir()}, "history", "--solution", "Contoso")
	if code == 0 || !strings.Contains(errOut, "--repository owner/name") {
		t.Errorf("no origin: exit %d\n%s", code, errOut)
	}
}

// A misspelt subcommand said "unknown flag" (with flags) or printed help
// and exited 0 (without). It is an error naming the word and the closest
// subcommands now.
func TestMisspeltSubcommand(t *testing.T) {
	for _, args := range [][]string{
		{"solution", "lst", "--environment", "http://127.0.0.1:1/x"},
		{"solution", "lst"},
		{"solution", "--environment", "http://127.0.0.1:1/x", "lst"},
	} {
		out, errOut, code := runCLI(t, nil, args...)
		if code != ExitFailure || out != "" || !strings.Contains(errOut, `unknown command "lst" for "ppalm solution"; did you mean 'list'?`) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", args, code, out, errOut)
		}
	}
	if _, errOut, code := runCLI(t, nil, "settngs", "create"); code != ExitFailure || !strings.Contains(errOut, `unknown command "settngs" for "ppalm"; did you mean 'settings'?`) {
		t.Errorf("top level: exit %d %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "version", "st"); code != ExitFailure || !strings.Contains(errOut, `unknown command "st" for "ppalm version"`) {
		t.Errorf("version st: exit %d %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "solution", "list", "--enviroment", "x"); code != ExitFailure || !strings.Contains(errOut, "did you mean --environment?") {
		t.Errorf("misspelt flag: exit %d %q", code, errOut)
	}
	// The group alone still shows its help.
	if out, _, code := runCLI(t, nil, "solution"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("ppalm solution: exit %d\n%s", code, out)
	}
}

// settings create --out onto a filled-in file wiped every ConnectionId. It
// keeps the file's values and adds only what is new; --overwrite starts
// afresh.
func TestSettingsCreateKeepsFilledInValues(t *testing.T) {
	ds := filepath.Join(t.TempDir(), "deploymentSettings.json")
	if _, errOut, code := runCLI(t, nil, "settings", "create", "--zipfile", followSitesZip, "--out", ds); code != 0 {
		t.Fatal(errOut)
	}
	raw, _ := os.ReadFile(ds)
	filled := strings.Replace(string(raw), `"ConnectionId": ""`, `"ConnectionId": "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87"`, 1)
	if filled == string(raw) {
		t.Fatalf("no empty ConnectionId in\n%s", raw)
	}
	os.WriteFile(ds, []byte(filled), 0o644)
	out, errOut, code := runCLI(t, nil, "settings", "create", "--zipfile", followSitesZip, "--out", ds)
	got, _ := os.ReadFile(ds)
	if code != 0 || string(got) != filled || !strings.Contains(out, "Kept "+ds+" with its values, added 0 entries") {
		t.Fatalf("exit %d\n%s%s\nfile:\n%s", code, out, errOut, got)
	}
	out, _, _ = runCLI(t, nil, "settings", "create", "--zipfile", followSitesZip, "--out", ds, "--overwrite")
	got, _ = os.ReadFile(ds)
	if string(got) != string(raw) || !strings.Contains(out, "Wrote "+ds) {
		t.Errorf("--overwrite:\n%s\n%s", out, got)
	}
}

// A zip that exists was overwritten silently: export refuses it unless
// --overwrite (as pac), pack and build say they replaced it.
func TestExistingZipsAreNotReplacedSilently(t *testing.T) {
	srv := emulatorServer(t)
	dir := t.TempDir()
	zip := filepath.Join(dir, "FollowSites.zip")
	os.WriteFile(zip, []byte("mine"), 0o644)
	_, errOut, code := runCLI(t, nil, "export", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--out", dir, "--unmanaged")
	if got, _ := os.ReadFile(zip); code == 0 || string(got) != "mine" || !strings.Contains(errOut, zip+" exists: pass --overwrite to replace it (nothing was exported)") {
		t.Fatalf("exit %d, %s", code, errOut)
	}
	out, errOut, code := runCLI(t, nil, "export", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--out", dir, "--unmanaged", "--overwrite")
	if code != 0 || !strings.Contains(out, "(replaced the file that was there)") {
		t.Fatalf("--overwrite: exit %d %s%s", code, out, errOut)
	}
	// pac's names: --name, --path.
	single := filepath.Join(dir, "single", "Mine.zip")
	if _, errOut, code := runCLI(t, nil, "export", "--environment", srv.EnvURL("dev"), "--name", "FollowSites", "--path", single, "--managed"); code != 0 {
		t.Fatalf("--name --path: %s", errOut)
	}
	if m, err := dataverse.ReadManifest(mustRead(t, single)); err != nil || !m.Managed {
		t.Errorf("--path --managed wrote %+v, %v", m, err)
	}
	tree := filepath.Join(dir, "src")
	runCLI(t, nil, "unpack", "--zipfile", followSitesZip, "--folder", tree)
	packed := filepath.Join(dir, "packed.zip")
	runCLI(t, nil, "pack", "--folder", tree, "--zipfile", packed)
	if out, _, _ := runCLI(t, nil, "pack", "--folder", tree, "--zipfile", packed); !strings.Contains(out, "replaced "+packed+", which existed") {
		t.Errorf("pack again:\n%s", out)
	}
	runCLI(t, nil, "build", "--folder", tree, "--out", filepath.Join(dir, "drop"))
	if out, _, _ := runCLI(t, nil, "build", "--folder", tree, "--out", filepath.Join(dir, "drop")); !strings.Contains(out, "(replaced the zip of the same version that was there)") {
		t.Errorf("build again:\n%s", out)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pac's flag names are accepted, in pac's spelling (--zipFile,
// --packageType, --processCanvasApps, --settings-file, --path), and each
// command's help lists them.
func TestPacFlagNames(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, nil, "unpack", "--zipFile", followSitesZip, "--folder", filepath.Join(dir, "src"), "--packageType", "Unmanaged", "--processCanvasApps")
	if code != 0 || !lineWith(out, "Canvas apps", "1") {
		t.Fatalf("unpack with pac's names: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "src", "CanvasApps", "src")); err != nil {
		t.Errorf("--processCanvasApps was not taken: %v", err)
	}
	ds := deploymentSettingsFile(t, "x")
	_, errOut, code = runCLI(t, nil, "plan", "--environment", "http://127.0.0.1:1/test", "--path", followSitesZip, "--settings-file", ds)
	if strings.Contains(errOut, "unknown flag") || strings.Contains(errOut, "--zipfile is required") {
		t.Errorf("plan --path --settings-file: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "settings", "create", "--solution-zip", followSitesZip, "--settings-file", filepath.Join(dir, "ds.json")); code != 0 {
		t.Errorf("settings create --solution-zip --settings-file: %s", errOut)
	}
	// A run installs the aliases of the command it runs only: each way of
	// asking for a command's help must still list them, and a global alias
	// before the command must still be taken.
	for _, args := range [][]string{{"import", "--help"}, {"help", "import"}, {"--Debug", "import", "--help"}} {
		help, errOut, code := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(help, "pac's flag names work too: --force-overwrite (--overwrite-unmanaged), --path (--zipfile)") {
			t.Errorf("%v: exit %d\n%s%s", args, code, help, errOut)
		}
	}
	for _, args := range [][]string{{"settings", "create", "--help"}, {"help", "settings", "create"}} {
		help, errOut, code := runCLI(t, nil, args...)
		if code != 0 || !strings.Contains(help, "pac's flag names work too: --settings-file (--out), --solution-folder (--folder), --solution-zip (--zipfile)") {
			t.Errorf("%v: exit %d\n%s%s", args, code, help, errOut)
		}
	}
}

// --settings meant the deployment settings in import and the custom ones
// in configure. It means deploymentSettings.json (or a config folder)
// everywhere; configure takes the custom file as --custom-settings, and
// the old spelling still works, with a warning.
func TestConfigureSettingsMeansWhatImportsDoes(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, Seeds: map[string][]string{"dev": {followSitesZip}}})
	dir := t.TempDir()
	ds := deploymentSettingsFile(t, sharePointConnection(t, srv.Client(t, "dev")))
	cds := filepath.Join(dir, "customDeploymentSettings.json")
	os.WriteFile(cds, []byte(`{"AadGroupTeamConfiguration":[{"aadGroupTeamName":"Sales Team","aadSecurityGroupId":"`+emulator.Groups[0].ID+`","dataverseSecurityRoleNames":["Basic User"]}]}`), 0o644)
	out, errOut, code := runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--settings", ds, "--custom-settings", cds)
	if code != 0 || !strings.Contains(out, `team "Sales Team": created`) || strings.Contains(errOut, "warning") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// A config folder, as for import.
	config := filepath.Join(dir, "config")
	os.MkdirAll(filepath.Join(config, "test"), 0o755)
	os.WriteFile(filepath.Join(config, "test", settings.DeploymentSettingsFile), mustRead(t, ds), 0o644)
	os.WriteFile(filepath.Join(config, "test", settings.CustomDeploymentSettingsFile), mustRead(t, cds), 0o644)
	out, errOut, code = runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--settings", config, "--environment-name", "test")
	if code != 0 || !strings.Contains(out, `team "Sales Team": found`) {
		t.Fatalf("config folder: exit %d\n%s%s", code, out, errOut)
	}
	// The old spelling: the custom file as --settings, with
	// --deployment-settings.
	out, errOut, code = runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--settings", cds, "--deployment-settings", ds)
	if code != 0 || !strings.Contains(out, `team "Sales Team"`) || !strings.Contains(errOut, "--settings names a customDeploymentSettings.json: read as --custom-settings") ||
		!strings.Contains(errOut, "warning: --deployment-settings is deprecated") {
		t.Fatalf("old spelling: exit %d\n%s%s", code, out, errOut)
	}
	// Written by Windows PowerShell's Set-Content -Encoding UTF8: a byte
	// order mark first.
	bom := filepath.Join(dir, "bom", "customDeploymentSettings.json")
	os.MkdirAll(filepath.Dir(bom), 0o755)
	os.WriteFile(bom, append([]byte("\xEF\xBB\xBF"), mustRead(t, cds)...), 0o644)
	out, errOut, code = runCLI(t, nil, "configure", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--settings", bom, "--deployment-settings", ds)
	if code != 0 || !strings.Contains(out, `team "Sales Team"`) || !strings.Contains(errOut, "read as --custom-settings") {
		t.Fatalf("old spelling, with a byte order mark: exit %d\n%s%s", code, out, errOut)
	}
}

// `ppalm version` was the solution-version group; it prints ppalm's version
// now, and `version set` still stamps a tree.
func TestVersionIsPpalmsVersion(t *testing.T) {
	out, errOut, code := runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "ppalm ") || !strings.Contains(out, "go1.") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	tree := filepath.Join(t.TempDir(), "src")
	runCLI(t, nil, "unpack", "--zipfile", followSitesZip, "--folder", tree)
	if out, errOut, code := runCLI(t, nil, "version", "set", "--folder", tree, "--version", "3.0.0.1"); code != 0 || !strings.Contains(out, "Set version 3.0.0.1") {
		t.Errorf("version set: exit %d\n%s%s", code, out, errOut)
	}
}

// The exit codes are documented: `ppalm help exit-codes`, and the README
// says the same.
func TestExitCodesAreDocumented(t *testing.T) {
	out, _, code := runCLI(t, nil, "help", "exit-codes")
	if code != 0 || strings.TrimSpace(out) != strings.TrimSpace(exitCodesHelp) {
		t.Fatalf("help exit-codes: exit %d\n%s", code, out)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```\n"+exitCodesHelp+"\n```") {
		t.Errorf("README.md does not carry `ppalm help exit-codes` as it is")
	}
	for _, c := range []string{"plan", "settings validate", "diff"} {
		help, _, _ := runCLI(t, nil, append(strings.Fields(c), "--help")...)
		if !strings.Contains(help, "Exit codes: 0") {
			t.Errorf("%s --help says nothing of its exit codes", c)
		}
	}
	// The codes themselves.
	if _, _, code := runCLI(t, nil, "diff", "--exit-code", fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip"), fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")); code != ExitCheckFailed {
		t.Errorf("diff --exit-code on different versions: exit %d", code)
	}
}

// solution delete --with-components left its managed export in the temp
// folder, and deleting a solution that is not installed failed with no way
// to say that is fine.
func TestSolutionDeleteCleansUpAndIgnoresMissing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"dev"}, AsyncPolls: -1, Seeds: map[string][]string{"dev": {followSitesZip}}})
	out, errOut, code := runCLI(t, nil, "solution", "delete", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--with-components")
	if code != 0 || !strings.Contains(out, "deleted solution FollowSites 1.0.0.0 and its components") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ppalm-delete-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	_, errOut, code = runCLI(t, nil, "solution", "delete", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites")
	if code != ExitFailure || !strings.Contains(errOut, "is not installed") || !strings.Contains(errOut, "--ignore-missing") {
		t.Errorf("missing: exit %d\n%s", code, errOut)
	}
	out, _, code = runCLI(t, nil, "solution", "delete", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--ignore-missing", "--output", "json")
	var doc solutionDeleteDoc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Deleted || doc.Solution != "FollowSites" {
		t.Errorf("--ignore-missing: exit %d\n%s", code, out)
	}
}

// Completion completed flag names only; it completes the values of flags
// with a fixed set too.
func TestCompletionOfFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"unpack", "--packagetype", ""}, []string{"Unmanaged", "Managed", "Both"}},
		{[]string{"import", "--upgrade", ""}, []string{"auto", "always", "never"}},
		{[]string{"configure", "--only", ""}, []string{"teams", "bypass-app-consent", "activate-flows"}},
		{[]string{"import", "--activate-as", ""}, []string{"service-principal", "connection-owner"}},
		{[]string{"whoami", "--output", ""}, []string{"table", "json"}},
		{[]string{"diff", "--output", ""}, []string{"markdown"}},
		{[]string{"import", "--zipfile", ""}, []string{"zip", ":8"}}, // file extension filter
	} {
		out, errOut, code := runCLI(t, nil, append([]string{"__complete"}, tc.args...)...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("complete %v: exit %d, no %q in\n%s%s", tc.args, code, w, out, errOut)
			}
		}
	}
}

// Colour on a terminal, none when NO_COLOR is set or the stream is not a
// terminal.
func TestColourOnATerminalOnly(t *testing.T) {
	tree := filepath.Join(t.TempDir(), "src")
	runCLI(t, nil, "unpack", "--zipfile", followSitesZip, "--folder", tree)
	args := []string{"build", "--folder", tree, "--out", filepath.Join(t.TempDir(), "drop"), "--version", "9.0.0.0"}
	out, errOut, _ := runWith(t, &Factory{StdoutTTY: true, StderrTTY: true}, args...)
	if !strings.Contains(out, "\x1b[32m✓\x1b[0m") || !strings.Contains(errOut, "\x1b[33mwarning: \x1b[0m") {
		t.Errorf("no colour on a terminal:\n%q\n%q", out, errOut)
	}
	out, errOut, _ = runWith(t, &Factory{StdoutTTY: true, StderrTTY: true, Getenv: envOf(map[string]string{"NO_COLOR": "1"})}, args...)
	if strings.Contains(out+errOut, "\x1b[3") {
		t.Errorf("colour despite NO_COLOR:\n%q\n%q", out, errOut)
	}
	out, errOut, _ = runWith(t, &Factory{}, args...)
	if strings.Contains(out+errOut, "\x1b[") {
		t.Errorf("colour into a pipe:\n%q\n%q", out, errOut)
	}
}

// whoami printed GUIDs only; it names the user and the business unit.
func TestWhoamiNamesThings(t *testing.T) {
	srv := emulatorServer(t)
	out, errOut, code := runCLI(t, nil, "whoami", "--environment", srv.EnvURL("dev"))
	if code != 0 || !lineWith(out, "user:", emulator.ServicePrincipal.Name, emulator.ServicePrincipal.SystemUserID("dev")) || !lineWith(out, "business unit:", "(") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// --push defaulted to false for commit and true for export-to-git; both
// push unless --push=false now.
func TestCommitPushesUnlessTold(t *testing.T) {
	dir, repo := newWorkingCopy(t)
	folder := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "a.txt"), []byte("a"), 0o644)
	out, errOut, code := runCLI(t, map[string]string{"BUILD_REQUESTEDFOR": "x", "BUILD_REQUESTEDFOREMAIL": "x@x"}, "commit", "--repo", dir, "--branch", "main",
		"--folder", folder, "--path", "Sol/src", "--message", "m", "--push=false")
	if code != 0 || !strings.Contains(out, "Not pushed (--push=false).") || !strings.Contains(errOut, "pushed=false") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, err := repo.Reference("refs/heads/main", true); err != nil {
		t.Fatal(err)
	}
	help, _, _ := runCLI(t, nil, "commit", "--help")
	help2, _, _ := runCLI(t, nil, "export-to-git", "--help")
	for _, h := range []string{help, help2} {
		if !strings.Contains(h, "--push  ") || !strings.Contains(h, "(default true)") {
			t.Errorf("--push default is not true:\n%s", h)
		}
	}
}

// A pipeline that fails still writes its JSON document: which step failed
// and why, on stdout; the log on stderr.
func TestFailedPipelineWritesItsJSONDocument(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.zip")
	out, errOut, code := runCLI(t, nil, "import", "--environment", "http://127.0.0.1:1/test", "--zipfile", missing, "--output", "json")
	var doc deployDoc
	if code != ExitFailure || json.Unmarshal([]byte(out), &doc) != nil || doc.Succeeded || doc.FailedStep != "settings-check" ||
		!strings.Contains(doc.Error, "no such file") || len(doc.Steps) != 1 || doc.Steps[0].Status != "failed" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
