package maker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// configuration is what a test sets on the Configure screen for one
// environment of the seeded solution.
type configuration struct {
	connectionOwner string // whose SharePoint connection; "" the maker's
	site            string // the SharePoint site data source
	keyVault        string // the API key's Key Vault reference (a secret)
	paging          string // the JSON variable
	groupSearch     string // the words the Entra group is found by
	group, role     string // the app's share
	owner           string // owner of the flows and the app
	off             string // a flow left off
	team            string // a group team of group, with teamRoles
	teamRoles       []string
	shareFlow       string // the flow shared with the team
}

const (
	followSitesApp  = "alexmsft_followsites_7d504"
	followSitesConn = "alexmsft_SharePointConnectionFollowSites"
)

var followSitesFlows = []string{"3e587800-9a7c-ee11-8178-002248c6b93d", "3ae68a7e-c078-ee11-8179-002248c6b93d", "8e45d378-817a-ee11-8178-002248c6b93d"}

func vaultRef(env string) string {
	return "/subscriptions/5e0f7c1a-1111-4222-8333-444455556666/resourceGroups/rg-followsites-" + env +
		"/providers/Microsoft.KeyVault/vaults/kv-followsites-" + env + "/secrets/api-key-" + env
}

// addVariable adds an environment variable to the seeded solution in dev,
// as the maker portal does: created with MSCRM.SolutionUniqueName, as the
// maker.
func addVariable(t *testing.T, emuURL, schema, display string, typ int) {
	t.Helper()
	addDefinition(t, emuURL, map[string]any{"schemaname": schema, "displayname": display, "type": typ, "secretstore": 0})
}

func addDefinition(t *testing.T, emuURL string, def map[string]any) {
	t.Helper()
	body, _ := json.Marshal(def)
	req, err := http.NewRequest("POST", emuURL+"/dev/api/data/v9.2/environmentvariabledefinitions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+emulator.Maker.ObjectID)
	req.Header.Set("MSCRM.SolutionUniqueName", fixtures.DemoSolutionName)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 204 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("add variable %v: %d %s", def["schemaname"], resp.StatusCode, b)
	}
}

// connectionOf is the name of the SharePoint connection owner created in env
// ("" the maker).
func connectionOf(t *testing.T, d *Demo, env, owner string) string {
	t.Helper()
	if owner == "" {
		owner = emulator.Maker.Email
	}
	c := findEnv(d, env).Client
	id, err := c.EnvironmentID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conns, err := c.ListConnections(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, cn := range conns {
		if strings.HasSuffix(cn.ConnectorID, "/shared_sharepointonline") && strings.EqualFold(cn.CreatedBy.Email, owner) {
			return cn.Name
		}
	}
	t.Fatalf("%s has no SharePoint connection of %s", env, owner)
	return ""
}

// checkStored checks that the values are where the GitHub deployment job
// on env reads them: the environment's variables, and the Key Vault
// reference as a sealed secret only.
func checkStored(t *testing.T, d *Demo, env string, c configuration) {
	t.Helper()
	want := map[string]string{
		"ENVIRONMENTVARIABLE_ALEXMSFT_FOLLOWSITESSPOSITE":              c.site,
		"ENVIRONMENTVARIABLE_ALEXMSFT_PAGINGSETTINGS":                  c.paging,
		"CONNECTIONREFERENCE_ALEXMSFT_SHAREPOINTCONNECTIONFOLLOWSITES": connectionOf(t, d, env, c.connectionOwner),
		"CANVASSHARE_AADGROUPID_ALEXMSFT_FOLLOWSITES_7D504":            c.group,
		"CANVASSHARE_ROLENAME_ALEXMSFT_FOLLOWSITES_7D504":              c.role,
		"CANVASOWNER_OWNEREMAIL_ALEXMSFT_FOLLOWSITES_7D504":            c.owner,
	}
	for name, v := range want {
		if got, ok := d.GitHub.EnvironmentVariable(env, name); !ok || got != v {
			t.Errorf("%s: vars.%s = %q, %v; want %q", env, name, got, ok, v)
		}
	}
	if got, ok := d.GitHub.EnvironmentSecret(env, "ENVIRONMENTVARIABLE_ALEXMSFT_APIKEY"); !ok || got != c.keyVault {
		t.Errorf("%s: the API key secret opens to %q, %v", env, got, ok)
	}
	if _, ok := d.GitHub.EnvironmentVariable(env, "ENVIRONMENTVARIABLE_ALEXMSFT_APIKEY"); ok {
		t.Errorf("%s: the API key is also a plain variable", env)
	}
	for _, r := range d.GitHub.Requests() {
		if strings.Contains(r.Body, c.keyVault) {
			t.Errorf("%s %s carried the secret in plain text", r.Method, r.Path)
		}
	}
}

// checkNoSecretInGit reads every file of every commit of every branch of
// the demo's repository: no secret anywhere; and the settings files of the
// solution hold tokens.
func checkNoSecretInGit(t *testing.T, d *Demo, envs []string, secrets ...string) {
	t.Helper()
	repo, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: strings.Replace(d.RepoURL, "maker@", "", 1), Auth: basicAuth(d.Options.Token),
		NoCheckout: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Fetch(&git.FetchOptions{Auth: basicAuth(d.Options.Token), RefSpecs: []gitconfig.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}}); err != nil && err != git.NoErrAlreadyUpToDate {
		t.Fatal(err)
	}
	commits, err := repo.CommitObjects()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = commits.ForEach(func(c *object.Commit) error {
		n++
		tree, err := c.Tree()
		if err != nil {
			return err
		}
		return tree.Files().ForEach(func(f *object.File) error {
			data, err := f.Contents()
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if strings.Contains(data, s) {
					t.Errorf("commit %s: %s holds a secret", c.Hash.String()[:8], f.Name)
				}
			}
			return nil
		})
	})
	if err != nil || n < 3 {
		t.Fatalf("read %d commits: %v", n, err)
	}
	sol := fixtures.DemoSolutionName
	for _, env := range envs {
		dir, err := readRepoFolder(context.Background(), d.RepoURL, d.Options.Token, sol, sol+"/config")
		if err != nil {
			t.Fatal(err)
		}
		loc, err := settings.Locate(dir, env)
		if err != nil {
			t.Fatal(err)
		}
		ds, _, err := settings.LoadDeploymentSettings(loc.DeploymentSettings)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range ds.EnvironmentVariables {
			if !settings.IsToken(v.Value) {
				t.Errorf("%s: %s holds %q, not a token", env, v.SchemaName, v.Value)
			}
		}
		for _, c := range ds.ConnectionReferences {
			if !settings.IsToken(c.ConnectionID) || !settings.IsToken(c.ConnectionOwner) {
				t.Errorf("%s: connection reference %+v is not tokenised", env, c)
			}
		}
		cds, _, err := settings.LoadCustomDeploymentSettings(loc.CustomDeploymentSettings)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cds.AadGroupCanvasConfiguration {
			if !settings.IsToken(s.AadGroupID) || !settings.IsToken(s.RoleName) {
				t.Errorf("%s: app share %+v is not tokenised", env, s)
			}
		}
		for _, o := range cds.SolutionComponentOwnershipConfiguration {
			if !settings.IsToken(o.OwnerEmail) {
				t.Errorf("%s: owner %+v is not tokenised", env, o)
			}
		}
		for _, tm := range cds.AadGroupTeamConfiguration {
			if !settings.IsToken(tm.AadSecurityGroupID) {
				t.Errorf("%s: team %+v is not tokenised", env, tm)
			}
		}
	}
}

// checkWired checks the emulator's env after a deployment: the connection
// bound, the variables' values (the Key Vault reference among them), the
// app shared and owned, the flows owned and on or off, the team with its
// roles and the flow shared with it.
func checkWired(t *testing.T, d *Demo, env string, c configuration) {
	t.Helper()
	ctx := context.Background()
	dv := findEnv(d, env).Client
	refs, err := dv.ListConnectionReferences(ctx, followSitesConn)
	if err != nil || len(refs) != 1 || refs[0].ConnectionID != connectionOf(t, d, env, c.connectionOwner) {
		t.Errorf("%s: connection reference %+v, %v", env, refs, err)
	}
	want := map[string]string{"alexmsft_FollowSitesSPOSite": c.site, "alexmsft_ApiKey": c.keyVault, "alexmsft_PagingSettings": c.paging}
	defs, err := dv.ListEnvironmentVariableDefinitions(ctx, "alexmsft_FollowSitesSPOSite", "alexmsft_ApiKey", "alexmsft_PagingSettings")
	if err != nil || len(defs) != 3 {
		t.Fatalf("%s: definitions %+v, %v", env, defs, err)
	}
	for _, def := range defs {
		vals, err := dv.ListEnvironmentVariableValues(ctx, def.ID)
		if err != nil || len(vals) != 1 || vals[0].Value != want[def.SchemaName] {
			t.Errorf("%s: %s values %+v, %v; want %q", env, def.SchemaName, vals, err, want[def.SchemaName])
		}
	}
	envID, _ := dv.EnvironmentID(ctx)
	app, err := dv.CanvasAppByName(ctx, followSitesApp)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := dv.CanvasAppPermissions(ctx, envID, app.AppName())
	if err != nil {
		t.Fatal(err)
	}
	owner := userByEmail(t, c.owner)
	shared, owned := false, false
	for _, p := range perms {
		shared = shared || (strings.EqualFold(p.Principal.ID, c.group) && p.RoleName == c.role)
		owned = owned || (p.RoleName == "Owner" && strings.EqualFold(p.Principal.ID, owner.ObjectID))
	}
	if !shared || !owned {
		t.Errorf("%s: app permissions %+v; want group %s as %s and owner %s", env, perms, c.group, c.role, c.owner)
	}
	for _, id := range followSitesFlows {
		wf, err := dv.GetWorkflow(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(wf.OwnerID, owner.SystemUserID(env)) || wf.On() == (id == c.off) {
			t.Errorf("%s: flow %s owned by %s, on %v; want %s, on %v", env, wf.Name, wf.OwnerID, wf.On(), c.owner, id != c.off)
		}
	}
	if c.team == "" {
		return
	}
	team, err := dv.TeamByGroupID(ctx, c.group)
	if err != nil || team.Name != c.team {
		t.Fatalf("%s: team of group %s: %+v, %v", env, c.group, team, err)
	}
	roles, err := dv.TeamRoles(ctx, team.ID)
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if err != nil || !sameSet(names, c.teamRoles) {
		t.Errorf("%s: team roles %v, %v; want %v", env, names, err, c.teamRoles)
	}
	found := false
	for _, a := range d.Emulator.SharedAccess(env, c.shareFlow) {
		found = found || (a.PrincipalType == "team" && strings.EqualFold(a.PrincipalID, team.ID))
	}
	if !found {
		t.Errorf("%s: flow %s is not shared with team %s: %+v", env, c.shareFlow, team.ID, d.Emulator.SharedAccess(env, c.shareFlow))
	}
}

func userByEmail(t *testing.T, email string) emulator.User {
	t.Helper()
	for _, u := range emulator.Users {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	t.Fatalf("no documented user %s", email)
	return emulator.User{}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[strings.ToLower(x)]++
	}
	for _, x := range b {
		m[strings.ToLower(x)]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// configForm is the Configure form of env filled with c, as the page posts
// it when the maker presses Save.
func configForm(env, connection string, c configuration) url.Values {
	v := url.Values{"environment": {env}, "action": {"save"}, "teams": {"new"}}
	v.Set("conn:"+followSitesConn, connection)
	v.Set("env:alexmsft_FollowSitesSPOSite", c.site)
	v.Set("env:alexmsft_ApiKey", c.keyVault)
	v.Set("env:alexmsft_PagingSettings", c.paging)
	v.Set("share:"+followSitesApp, c.group)
	v.Set("role:"+followSitesApp, c.role)
	v.Set("owner:app:"+followSitesApp, c.owner)
	for i, f := range followSitesFlows {
		v.Set("owner:flow:"+f, c.owner)
		v.Set("order:"+f, strconv.Itoa(i+1))
		if f != c.off {
			v.Set("on:"+f, "on")
		}
	}
	if c.team != "" {
		v.Set("team:new:name", c.team)
		v.Set("team:new:group", c.group)
		v["team:new:roles"] = c.teamRoles
		v.Set("team:new:keeproles", "on")
		v.Set("flowteam:"+c.shareFlow, c.team)
	}
	return v
}

// configured starts the demo with the seeded solution committed (after the
// maker added the variables defs define, then a Key Vault secret and a JSON
// variable to it in dev) under the demo's profile, with comment, and a
// browserless maker on its Configure screen.
func configured(t *testing.T, comment string, defs ...map[string]any) (*Demo, *browserless) {
	t.Helper()
	d, base := app(t)
	for _, def := range defs {
		addDefinition(t, d.EmuURL, def)
	}
	addVariable(t, d.EmuURL, "alexmsft_ApiKey", "Follow Sites API key", solution.TypeSecret)
	addVariable(t, d.EmuURL, "alexmsft_PagingSettings", "Paging settings", solution.TypeJSON)
	b := newClient(t, base)
	sol := fixtures.DemoSolutionName
	b.get("/start?environment=dev")
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}})
	if code, page := b.post("/solutions/"+sol+"/commit", url.Values{"comment": {comment}, "branch": {sol}, "base": {"main"}}); code != 200 {
		t.Fatalf("commit: %d\n%s", code, page)
	}
	return d, b
}

var testValues = configuration{site: emulator.SharePointSites[1].URL, keyVault: vaultRef("test"), paging: `{"pageSize": 25}`,
	group: emulator.Groups[1].ID, role: "CanEdit", owner: emulator.Admin.Email,
	team: "Follow Sites makers", teamRoles: []string{"Basic User"}, shareFlow: followSitesFlows[0]}

// TestConfigureBadValuesBesideTheField posts bad values to the Configure
// screen, one at a time beside an otherwise good form: a JSON value that
// does not parse, a Key Vault reference that is not one, a user or an Entra
// group that does not exist, a connection of the wrong connector or of
// none, a role the service does not grant, a team the page does not have.
// Each is refused with its message beside its field (and in the summary at
// the top, linked), and nothing is saved: no variable is written, no commit
// is made.
func TestConfigureBadValuesBesideTheField(t *testing.T) {
	d, b := configured(t, "API key #12")
	sol := fixtures.DemoSolutionName
	path := "/solutions/" + sol + "/configure"
	// A first, good save: the secret is then stored, so the bad forms below
	// may leave it empty as the page does.
	if code, page := b.post(path, configForm("test", connectionOf(t, d, "test", ""), testValues)); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("good save: %d\n%s", code, page)
	}
	office := ""
	conns, _ := findEnv(d, "test").Client.ListConnections(context.Background(), must(findEnv(d, "test").Client.EnvironmentID(context.Background())))
	for _, c := range conns {
		if strings.HasSuffix(c.ConnectorID, "/shared_office365") {
			office = c.Name
		}
	}
	flow := followSitesFlows[1]
	cases := []struct {
		name, field, value, want string
	}{
		{"JSON that does not parse", "env:alexmsft_PagingSettings", `{"pageSize": 25,}`, "This is not valid JSON (the error is at character 17)"},
		{"not a Key Vault reference", "env:alexmsft_ApiKey", "https://kv-followsites.vault.azure.net/secrets/api-key", "Enter an Azure Key Vault secret reference"},
		{"a user that does not exist", "owner:flow:" + flow, "nobody@contoso.example", `User &#34;nobody@contoso.example&#34; is not a user of`},
		{"a group that does not exist", "share:" + followSitesApp, "6a0b1c2d-0000-4000-8000-0000000000ff", "Entra group 6a0b1c2d-0000-4000-8000-0000000000ff does not exist"},
		{"a connection of the wrong connector", "conn:" + followSitesConn, office, "is for shared_office365 but " + followSitesConn + " needs shared_sharepointonline"},
		{"a connection that does not exist", "conn:" + followSitesConn, "0123456789abcdef0123456789abcdef", "does not exist in"},
		{"a role the service does not grant", "role:" + followSitesApp, "CanViewWithShare", "The service grants Can view for Can view and share"},
		{"a team the page does not have", "flowteam:" + flow, "Nobody's team", "is not one of the group teams of this page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := configForm("test", connectionOf(t, d, "test", ""), testValues)
			form.Del("env:alexmsft_ApiKey") // kept: the page never sends it back
			form.Set(c.field, c.value)
			form.Set("csrf", b.token(path))
			refs := branches(t, d.RepoURL, d.Options.Token)
			writes := hostWrites(d)
			code, page := b.send(path, form)
			if code != 400 {
				t.Fatalf("%d, want 400:\n%s", code, page)
			}
			besideTheField(t, page, c.field, c.want)
			if !strings.Contains(page, `<a href="#`+strings.ReplaceAll(c.field, ":", "%3a")+`">`) || !strings.Contains(page, "Nothing was saved.") {
				t.Errorf("the summary does not link the field:\n%s", page)
			}
			if got := branches(t, d.RepoURL, d.Options.Token); got[sol] != refs[sol] {
				t.Error("a refused save committed")
			}
			if got := hostWrites(d); got != writes {
				t.Errorf("a refused save wrote %d variables", got-writes)
			}
		})
	}

	// The repository host refuses to store the secret: the page says so,
	// the files are not committed.
	d.GitHub.FailNext(devopstest.Fault{Method: "PUT", PathSuffix: "/secrets/ENVIRONMENTVARIABLE_ALEXMSFT_APIKEY", Status: 403,
		Body: `{"message":"Resource not accessible by integration"}`})
	refs := branches(t, d.RepoURL, d.Options.Token)
	_, current := b.get(path)
	form := withTeamKey(t, configForm("test", connectionOf(t, d, "test", ""), testValues), current)
	form.Set("env:alexmsft_ApiKey", vaultRef("test")+"-2")
	code, page := b.post(path, form)
	if code != 502 || !strings.Contains(page, "The values could not all be stored") || !strings.Contains(page, "Resource not accessible by integration") {
		t.Fatalf("a refusing host: %d\n%s", code, page)
	}
	if got := branches(t, d.RepoURL, d.Options.Token); got[sol] != refs[sol] {
		t.Error("the files were committed although the values were not stored")
	}
	for _, p := range b.pages {
		if strings.Contains(p, vaultRef("test")) {
			t.Fatal("a page holds the secret")
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// hostWrites counts the requests that changed the GitHub stand-in.
func hostWrites(d *Demo) int {
	n := 0
	for _, r := range d.GitHub.Requests() {
		if r.Method != "GET" {
			n++
		}
	}
	return n
}

// TestConfigureLocalProfile configures a solution of a local profile: the
// values go to the maker's local store (outside the repository, secrets
// flagged), the files on the branch hold tokens, the deployment the app
// runs reads the store, and a setting the maker clears leaves the store.
func TestConfigureLocalProfile(t *testing.T) {
	d, base := app(t)
	ctx := context.Background()
	sol := fixtures.DemoSolutionName
	profiles := "profiles:\n  - name: On this machine\n    host: local\n    steps:\n      - environment: test\n        url: " + d.EmuURL + "/test\n        approval: environment\n"
	seed := t.TempDir()
	if err := os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: d.RepoURL, Branch: "main", Base: "main", Folder: seed, Path: ".ppalm",
		Message: "a local profile", Author: d.Options.Maker, Push: true, Token: d.Options.Token}); err != nil {
		t.Fatal(err)
	}
	addVariable(t, d.EmuURL, "alexmsft_ApiKey", "Follow Sites API key", solution.TypeSecret)
	addVariable(t, d.EmuURL, "alexmsft_PagingSettings", "Paging settings", solution.TypeJSON)
	b := newClient(t, base)
	b.get("/start?environment=dev")
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {"On this machine"}})
	if code, page := b.post("/solutions/"+sol+"/commit", url.Values{"comment": {"API key #12"}}); code != 200 {
		t.Fatalf("commit: %d\n%s", code, page)
	}
	path := "/solutions/" + sol + "/configure"
	_, page := b.get(path)
	mustContain(t, "before", page, "your variable store on this machine", "missing", "value of Follow Sites API key")

	if code, page := b.post(path, configForm("test", connectionOf(t, d, "test", ""), testValues)); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	st, err := d.Options.LocalVariables()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]devops.StoredVariable{}
	vars, err := st.Variables(displayRepo(d.RepoURL), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		stored[v.Name] = v
	}
	if v := stored["environmentvariable.alexmsft_ApiKey"]; !v.Secret || v.Value != "" {
		t.Errorf("the API key in the store: %+v; want a secret", v)
	}
	if v := stored["canvasshare.aadGroupId."+followSitesApp]; v.Value != testValues.group {
		t.Errorf("the app's group in the store: %+v", v)
	}
	if info, err := os.Stat(st.Path()); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the store %s: %v, %v", st.Path(), info, err)
	}
	checkNoSecretInGit(t, d, []string{"test"}, testValues.keyVault)

	if code, page := b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"test"}}); code != 200 || !strings.Contains(page, "deployed branch") {
		t.Fatalf("deploy: %d\n%s", code, page)
	}
	checkWired(t, d, "test", testValues)

	// The maker stops sharing the app: its variables leave the store, and
	// the page says nothing is missing.
	_, page = b.get(path)
	form := withTeamKey(t, configForm("test", connectionOf(t, d, "test", ""), testValues), page)
	form.Del("env:alexmsft_ApiKey")
	form.Set("share:"+followSitesApp, "")
	form.Set("role:"+followSitesApp, "")
	code, page := b.post(path, form)
	if code != 200 || !strings.Contains(page, "2 cleared") || !strings.Contains(page, "0</strong> missing") {
		t.Fatalf("clear the share: %d\n%s", code, page)
	}
	vars, _ = st.Variables(displayRepo(d.RepoURL), "test")
	for _, v := range vars {
		if strings.HasPrefix(v.Name, "canvasshare.") {
			t.Errorf("%s is still stored", v.Name)
		}
		if v.Name == "environmentvariable.alexmsft_ApiKey" && !v.Secret {
			t.Error("the kept secret lost its kind")
		}
	}
	if l, _, err := st.Lookup(displayRepo(d.RepoURL), "test"); err != nil {
		t.Fatal(err)
	} else if v, ok := l("environmentvariable.alexmsft_ApiKey"); !ok || v != testValues.keyVault {
		t.Errorf("the kept secret is %q, %v", v, ok)
	}
}

var teamKeyRe = regexp.MustCompile(`name="teams" value="([0-9a-f-]{36})"`)

// withTeamKey moves the form's new team to the key the page gave it when
// it was saved, as the page posts a team it shows.
func withTeamKey(t *testing.T, form url.Values, page string) url.Values {
	t.Helper()
	m := teamKeyRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page shows no saved team:\n%s", page)
	}
	out := url.Values{}
	for k, v := range form {
		if k == "teams" {
			out[k] = []string{m[1], "new"}
			continue
		}
		out[strings.Replace(k, "team:new:", "team:"+m[1]+":", 1)] = v
	}
	return out
}

// TestConfigureAzureDevOps configures test for a solution of an Azure
// DevOps profile in local mode, signed in as the maker: the values land in
// the project's variable group ppalm-test, the Key Vault reference as a
// secret, where the deployment stage that links the group reads them.
func TestConfigureAzureDevOps(t *testing.T) {
	r := newRig(t)
	sol := fixtures.DemoSolutionName
	addVariable(t, r.emuURL, "alexmsft_ApiKey", "Follow Sites API key", solution.TypeSecret)
	addVariable(t, r.emuURL, "alexmsft_PagingSettings", "Paging settings", solution.TypeJSON)
	b := newClient(t, r.base)
	b.get("/start?environment=dev")
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {adoProfile}})
	path := "/solutions/" + sol + "/configure"
	_, page := b.get(path)
	mustContain(t, "before the export ran", page, "holds no committed "+sol+" yet")
	r.exportAsThePipeline(t, sol, sol, "API key #12")

	var test Environment
	for _, e := range r.opts.Environments {
		if e.Name == "test" {
			test = e
		}
	}
	envID, err := test.Client.EnvironmentID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conns, err := test.Client.ListConnections(context.Background(), envID)
	if err != nil {
		t.Fatal(err)
	}
	conn := ""
	for _, c := range conns {
		if strings.HasSuffix(c.ConnectorID, "/shared_sharepointonline") {
			conn = c.Name
		}
	}
	_, page = b.get(path)
	mustContain(t, "before", page, "Azure DevOps variable group ppalm-test", "missing")
	if code, page := b.post(path, configForm("test", conn, testValues)); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	g, ok := r.ado.VariableGroup(devops.VariableGroupName("test"))
	if !ok {
		t.Fatalf("no variable group; groups %v", r.ado.VariableGroups())
	}
	if v := g.Variables["environmentvariable.alexmsft_ApiKey"]; !v.IsSecret || v.Value != testValues.keyVault {
		t.Errorf("the API key in the group: %+v; want the secret", v)
	}
	for name, want := range map[string]string{"connectionreference." + followSitesConn: conn, "canvasshare.roleName." + followSitesApp: "CanEdit",
		"environmentvariable.alexmsft_PagingSettings": testValues.paging, "connectionreference.user." + followSitesConn: emulator.Maker.Email} {
		if v := g.Variables[name]; v.IsSecret || v.Value != want {
			t.Errorf("%s in the group: %+v; want %q", name, v, want)
		}
	}
	for _, p := range b.pages {
		for _, secret := range []string{testValues.keyVault, r.cred.token, r.ado.Token, r.gitToken} {
			if strings.Contains(p, secret) {
				t.Fatal("a page holds a secret or a token")
			}
		}
	}
}

// commitSolution imports an unmanaged fixture into the demo's dev (as a
// maker would from a file), gives it the demo's profile and commits it.
func commitSolution(t *testing.T, d *Demo, b *browserless, zip, name string) {
	t.Helper()
	data, err := os.ReadFile(zip)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := findEnv(d, "dev").Client.ImportSolution(context.Background(), dataverse.ImportRequest{Zip: data}); err != nil {
		t.Fatalf("import %s into dev: %v", name, err)
	}
	b.post("/solutions/"+name+"/profile", url.Values{"profile": {DemoProfile}})
	if code, page := b.post("/solutions/"+name+"/commit", url.Values{"comment": {"First #1"}, "branch": {name}, "base": {"main"}}); code != 200 {
		t.Fatalf("commit %s: %d\n%s", name, code, page)
	}
}

var flowRowRe = regexp.MustCompile(`<tr data-flow="([0-9a-f-]{36})">`)

// TestConfigureChildFlowsAndCustomConnectors shows a solution's flows in
// the order the deployment turns them on, every child flow before the flow
// that calls it whatever order it was given, and shares a custom connector
// with a group team of the page: the connector's token is in the file, the
// team's name its variable, and the deployment grants the team access.
func TestConfigureChildFlowsAndCustomConnectors(t *testing.T) {
	d, base := app(t)
	b := newClient(t, base)
	b.get("/start?environment=dev")
	fab := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	commitSolution(t, d, b, fab, "FabrikamEnvironmental")
	sol, err := solution.ReadFile(fab)
	if err != nil {
		t.Fatal(err)
	}
	path := "/solutions/FabrikamEnvironmental/configure"
	order := func(page string) map[string]int {
		pos := map[string]int{}
		for i, m := range flowRowRe.FindAllStringSubmatch(page, -1) {
			pos[m[1]] = i
		}
		if len(pos) != len(sol.CloudFlows()) {
			t.Fatalf("%d flow rows, want %d", len(pos), len(sol.CloudFlows()))
		}
		return pos
	}
	childrenFirst := func(what string, pos map[string]int) {
		parents := 0
		for _, f := range sol.CloudFlows() {
			for _, c := range f.ChildFlows {
				parents++
				if pos[c] > pos[f.ID] {
					t.Errorf("%s: child %s shown after its parent %s", what, c, f.Name)
				}
			}
		}
		if parents == 0 {
			t.Fatal("no parent flow: the test proves nothing")
		}
	}
	_, page := b.get(path)
	childrenFirst("proposed order", order(page))
	mustContain(t, "calls", page, "calls Cancel expired milestones; Change project status; Cancel expired outcomes")
	// The maker puts the parent first: it is still shown (and turned on)
	// after its children.
	form := url.Values{"environment": {"test"}, "action": {"refresh"}}
	for i, f := range sol.CloudFlows() {
		n := i + 2
		if len(f.ChildFlows) > 0 {
			n = 1
		}
		form.Set("order:"+f.ID, strconv.Itoa(n))
		form.Set("on:"+f.ID, "on")
	}
	_, page = b.post(path, form)
	pos := order(page)
	childrenFirst("the maker's order", pos)

	// A custom connector shared with a group team.
	commitSolution(t, d, b, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"), "PL400Demos")
	path = "/solutions/PL400Demos/configure"
	_, page = b.get(path)
	mustContain(t, "connectors", page, "Share custom connectors with a team", "Connector InventoryManager")
	conn := ""
	test := findEnv(d, "test").Client
	conns, _ := test.ListConnections(context.Background(), must(test.EnvironmentID(context.Background())))
	for _, c := range conns {
		if strings.HasSuffix(c.ConnectorID, "/shared_commondataserviceforapps") {
			conn = c.Name
		}
	}
	connector := "bedc080f-9be1-4f80-9f35-c630109a6b89"
	save := url.Values{"environment": {"test"}, "action": {"save"}, "teams": {"new"},
		"conn:dem_sharedcommondataserviceforapps_1b77c": {conn}, "on:cc724662-8525-ee11-9cbd-00224823910f": {"on"},
		"team:new:name": {"Inventory"}, "team:new:group": {emulator.Groups[2].ID}, "team:new:roles": {"Basic User"},
		"connectorteam:" + connector: {"Inventory"}}
	if code, page := b.post(path, save); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	if v, ok := d.GitHub.EnvironmentVariable("test", "CONNECTOR_TEAMNAME_DEM_INVENTORYMANAGER_BEDC080F_9BE1_4F80_9F35_C630109A6B89"); !ok || v != "Inventory" {
		t.Errorf("the connector's team variable: %q, %v", v, ok)
	}
	dir, err := readRepoFolder(context.Background(), d.RepoURL, d.Options.Token, "PL400Demos", "PL400Demos/config/test")
	if err != nil {
		t.Fatal(err)
	}
	cds, _, err := settings.LoadCustomDeploymentSettings(filepath.Join(dir, settings.CustomDeploymentSettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if cs := cds.ConnectorShareWithGroupTeamConfiguration; len(cs) != 1 || cs[0].SolutionComponentUniqueName != connector ||
		cs[0].AadGroupTeamName != "#{connector.teamname.dem_inventorymanager."+connector+"}#" {
		t.Errorf("connector shares in the file: %+v", cs)
	}
	if code, page := b.post("/solutions/PL400Demos/deploy", url.Values{"environment": {"test"}, "source": {"PL400Demos"}, "target": {"main"}}); code != 200 {
		t.Fatalf("deploy test: %d\n%s", code, page)
	}
	team, err := test.TeamByGroupID(context.Background(), emulator.Groups[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	shared := false
	for _, a := range d.Emulator.SharedAccess("test", connector) {
		shared = shared || (a.PrincipalType == "team" && strings.EqualFold(a.PrincipalID, team.ID))
	}
	if !shared {
		t.Errorf("the connector is not shared with team Inventory: %+v", d.Emulator.SharedAccess("test", connector))
	}
}

// TestConfigureVariableKinds offers each kind of environment variable its
// control (a number, yes or no, text, JSON, a Key Vault secret, a
// SharePoint site and a list of a site, picked through a connection), the
// SharePoint connections of the target and no other connector's, and a
// look-up round trip (a new connection, a site's lists) that keeps what the
// maker entered; a number that is not one is refused beside its field, and
// every kind saves.
func TestConfigureVariableKinds(t *testing.T) {
	d, b := configured(t, "More settings #13",
		map[string]any{"schemaname": "alexmsft_PageCount", "displayname": "Page count", "type": solution.TypeNumber},
		map[string]any{"schemaname": "alexmsft_Notify", "displayname": "Notify owners", "type": solution.TypeBoolean},
		map[string]any{"schemaname": "alexmsft_Greeting", "displayname": "Greeting", "type": solution.TypeString},
		map[string]any{"schemaname": "alexmsft_SitesList", "displayname": "Followed sites list", "type": solution.TypeDataSource,
			"apiid": "/providers/microsoft.powerapps/apis/shared_sharepointonline", "parameterkey": "table"})
	sol := fixtures.DemoSolutionName
	path := "/solutions/" + sol + "/configure"
	// An advanced maker may look at another branch (the demo's maker is
	// one); it holds no solution yet.
	_, page := b.get(path + "?environment=test&branch=alex/experiment")
	mustContain(t, "another branch", page, "Branch alex/experiment holds no committed "+sol+" yet")
	_, page = b.get(path)
	mustContain(t, "controls", page,
		`<input id="env:alexmsft_PageCount" name="env:alexmsft_PageCount" inputmode="decimal"`,
		`<select id="env:alexmsft_Notify" name="env:alexmsft_Notify"`, `<option value="">Choose</option><option value="true">Yes</option><option value="false">No</option>`,
		`<p class="error" id="env:alexmsft_Notify-error">Choose a value: the variable has no default`,
		`<input id="env:alexmsft_Greeting" name="env:alexmsft_Greeting" value=""`,
		`<textarea id="env:alexmsft_PagingSettings"`,
		`<input id="env:alexmsft_ApiKey" name="env:alexmsft_ApiKey" type="password"`,
		`<option value="https://contoso.sharepoint.com/sites/Sales" selected>Sales`,
		`<select id="site:alexmsft_SitesList" name="site:alexmsft_SitesList">`,
		`<option value="3f2b8c1e-4a5d-4e6f-8a9b-0c1d2e3f4a51">Opportunities`)
	offered := func(page string) int {
		m := regexp.MustCompile(`(?s)<select id="conn:` + followSitesConn + `"[^>]*>(.*?)</select>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no connection picker:\n%s", page)
		}
		return len(regexp.MustCompile(`<option value="[0-9a-f]{32}"`).FindAllString(m[1], -1))
	}
	// test has one connection per connector: one is SharePoint's.
	if n := offered(page); n != 1 {
		t.Errorf("%d connections offered, want test's one SharePoint connection", n)
	}
	test := findEnv(d, "test").Client
	envID := must(test.EnvironmentID(context.Background()))
	before := len(must(test.ListConnections(context.Background(), envID)))

	// Meanwhile the maker creates a connection in the portal, then
	// refreshes; and picks another site to list its lists.
	name, err := d.Emulator.AddConnection("test", "/providers/Microsoft.PowerApps/apis/shared_sharepointonline", emulator.Admin.Email, emulator.ServicePrincipal.Email)
	if err != nil || len(must(test.ListConnections(context.Background(), envID))) != before+1 {
		t.Fatal(err)
	}
	form := url.Values{"environment": {"test"}, "action": {"refresh"}, "conn:" + followSitesConn: {connectionOf(t, d, "test", "")},
		"env:alexmsft_PageCount": {"many"}, "env:alexmsft_PagingSettings": {`{"pageSize": 7}`}, "site:alexmsft_SitesList": {emulator.SharePointSites[1].URL},
		"env:alexmsft_Greeting": {"Hello <team>"}}
	code, page := b.post(path, form)
	if code != 200 {
		t.Fatalf("refresh: %d\n%s", code, page)
	}
	if n := offered(page); n != 2 {
		t.Errorf("after the refresh %d connections offered, want 2", n)
	}
	mustContain(t, "after the refresh", page, `<option value="`+name+`">casey.admin@contoso.example&#39;s connection (Connected)</option>`,
		`value="many"`, `{&#34;pageSize&#34;: 7}`, `value="Hello &lt;team&gt;"`, `<option value="7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c61">Issues`)

	// Saving with a number that is not one: refused beside the field.
	save := configForm("test", connectionOf(t, d, "test", ""), testValues)
	for k, v := range map[string]string{"env:alexmsft_PageCount": "many", "env:alexmsft_Notify": "true", "env:alexmsft_Greeting": "Hello <team>",
		"env:alexmsft_SitesList": emulator.SharePointSites[1].Lists[0].ID, "site:alexmsft_SitesList": emulator.SharePointSites[1].URL} {
		save.Set(k, v)
	}
	save.Set("csrf", b.token(path))
	code, page = b.send(path, save)
	if code != 400 {
		t.Fatalf("a number that is not one: %d\n%s", code, page)
	}
	besideTheField(t, page, "env:alexmsft_PageCount", "Enter a number")
	save.Set("env:alexmsft_PageCount", "12.5")
	if code, page := b.send(path, save); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	for name, want := range map[string]string{"ENVIRONMENTVARIABLE_ALEXMSFT_PAGECOUNT": "12.5", "ENVIRONMENTVARIABLE_ALEXMSFT_NOTIFY": "true",
		"ENVIRONMENTVARIABLE_ALEXMSFT_GREETING": "Hello <team>", "ENVIRONMENTVARIABLE_ALEXMSFT_SITESLIST": emulator.SharePointSites[1].Lists[0].ID} {
		if v, ok := d.GitHub.EnvironmentVariable("test", name); !ok || v != want {
			t.Errorf("vars.%s = %q, %v; want %q", name, v, ok, want)
		}
	}
}

// TestTeamConfigure configures test in team mode, two replicas behind a
// proxy without affinity: the page, looked up and checked on one replica,
// saves on another for the signed-in maker (the commit's author), the
// values land in the GitHub environment, and no token reaches a page.
func TestTeamConfigure(t *testing.T) {
	tr := newTeamRig(t, 2)
	d := tr.demo
	sol := fixtures.DemoSolutionName
	addVariable(t, d.EmuURL, "alexmsft_ApiKey", "Follow Sites API key", solution.TypeSecret)
	addVariable(t, d.EmuURL, "alexmsft_PagingSettings", "Paging settings", solution.TypeJSON)
	b := tr.browser()
	if code, page := b.signIn(emulator.Maker, "/start?environment=dev"); code != 200 {
		t.Fatalf("sign in: %d\n%s", code, page)
	}
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}})
	if code, page := b.post("/solutions/"+sol+"/commit", url.Values{"comment": {"API key #12"}, "branch": {sol}, "base": {"main"}}); code != 200 {
		t.Fatalf("commit: %d\n%s", code, page)
	}
	path := "/solutions/" + sol + "/configure"
	if code, page := b.post(path, configForm("test", connectionOf(t, d, "test", ""), testValues)); code != 200 || !strings.Contains(page, "Saved for test") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	if v, ok := d.GitHub.EnvironmentSecret("test", "ENVIRONMENTVARIABLE_ALEXMSFT_APIKEY"); !ok || v != testValues.keyVault {
		t.Errorf("the secret: %q, %v", v, ok)
	}
	if _, author, _ := headCommit(t, d.RepoURL, d.Options.Token, sol); author != emulator.Maker.Email {
		t.Errorf("the settings were committed by %s, not the signed-in maker", author)
	}
	if tr.served[0].Load() == 0 || tr.served[1].Load() == 0 {
		t.Fatalf("one replica served everything: %d, %d", tr.served[0].Load(), tr.served[1].Load())
	}
	for _, p := range b.pages {
		if strings.Contains(p, testValues.keyVault) {
			t.Fatal("a page holds the secret")
		}
	}
	b.noTokens()
}

// A Configure page asks the target once for what both its pickers and its
// checks read: the environment id and the connection list are shared with
// the checks against the target, not read again by them.
func TestConfigurePageReadsTheTargetOnce(t *testing.T) {
	d, b := configured(t, "reads")
	path := "/solutions/" + fixtures.DemoSolutionName + "/configure"
	before := d.Emulator.Stats().Requests
	if code, page := b.get(path); code != 200 {
		t.Fatalf("configure: %d\n%s", code, page)
	}
	after := d.Emulator.Stats().Requests
	for route, codes := range after {
		n := 0
		for _, c := range codes {
			n += c
		}
		for _, c := range before[route] {
			n -= c
		}
		if n > 1 && (strings.HasSuffix(route, "/connections") || strings.Contains(route, "RetrieveCurrentOrganization") || strings.Contains(route, "organizations")) {
			t.Errorf("one Configure page asked %d times: %s", n, route)
		}
	}
}
