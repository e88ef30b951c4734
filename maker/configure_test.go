package maker

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
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
func addVariable(t *testing.T, d *Demo, schema, display string, typ int) {
	t.Helper()
	body := `{"schemaname":"` + schema + `","displayname":"` + display + `","type":` + itoa(typ) + `,"secretstore":0}`
	req, err := http.NewRequest("POST", d.EmuURL+"/dev/api/data/v9.2/environmentvariabledefinitions", strings.NewReader(body))
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
		t.Fatalf("add variable %s: %d %s", schema, resp.StatusCode, b)
	}
}

func itoa(n int) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
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
func checkNoSecretInGit(t *testing.T, d *Demo, secrets ...string) {
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
	for _, env := range []string{"test", "prod"} {
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
