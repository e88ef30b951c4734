package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// The files the Configure screen saves hold a token for every value, pass
// the offline checks as they are, carry a share for each custom connector
// and the group teams, and keep the sections the screen does not edit.
func TestTokenizedEnvironmentSettings(t *testing.T) {
	sol, err := solution.ReadFile(fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	keep := &settings.CustomDeploymentSettings{WebhookUrls: []settings.WebhookURL{{SchemaName: "OrderHook", Value: "#{webhookurl.OrderHook}#"}}}
	teams := []GroupTeamSettings{{Key: "7d2e4f10-3b8c-4a51-9e2d-6c1f0a9b8e37", Name: "Order Clerks", Roles: []string{"Basic User"}, SkipRolesDeletion: true}}
	ds, cds := TokenizedEnvironmentSettings(sol, teams, keep)
	if p := settings.Validate(sol, ds, cds); settings.HasErrors(p) {
		t.Fatalf("the tokenised files do not pass the offline checks: %v", p)
	}
	if len(cds.ConnectorShareWithGroupTeamConfiguration) != 1 ||
		cds.ConnectorShareWithGroupTeamConfiguration[0].AadGroupTeamName != "#{connector.teamname.dem_inventorymanager.bedc080f-9be1-4f80-9f35-c630109a6b89}#" {
		t.Errorf("connector shares %+v", cds.ConnectorShareWithGroupTeamConfiguration)
	}
	tm := cds.AadGroupTeamConfiguration
	if len(tm) != 1 || tm[0].AadSecurityGroupID != "#{groupTeam.7d2e4f10-3b8c-4a51-9e2d-6c1f0a9b8e37.Order Clerks}#" ||
		tm[0].AadGroupTeamBusinessUnitID != "#{businessUnit.7d2e4f10-3b8c-4a51-9e2d-6c1f0a9b8e37.Order Clerks}#" || tm[0].SkipRolesDeletion != "true" {
		t.Errorf("teams %+v", tm)
	}
	if len(cds.WebhookUrls) != 1 {
		t.Errorf("the webhook URLs were dropped: %+v", cds)
	}
	b, _ := settings.Marshal(ds)
	c, _ := settings.Marshal(cds)
	for _, tok := range append(settings.Tokens(b), settings.Tokens(c)...) {
		if strings.TrimSpace(tok) == "" {
			t.Errorf("empty token in %s%s", b, c)
		}
	}
}

// Child flows come before the flows that call them, whatever their sort
// order; otherwise by sort order and name.
func TestActivationOrder(t *testing.T) {
	sol, err := solution.ReadFile(fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip"))
	if err != nil {
		t.Fatal(err)
	}
	// Sort orders that would put every parent first: the children still
	// come first.
	sorts := map[string]int{}
	for _, f := range sol.CloudFlows() {
		sorts[f.ID] = 10 - len(f.ChildFlows)
	}
	order := ActivationOrder(sol.CloudFlows(), sorts)
	if len(order) != len(sol.CloudFlows()) {
		t.Fatalf("%d flows, want %d", len(order), len(sol.CloudFlows()))
	}
	pos := map[string]int{}
	for i, f := range order {
		pos[f.ID] = i
	}
	parents := 0
	for _, f := range order {
		for _, c := range f.ChildFlows {
			if p, ok := pos[c]; ok {
				parents++
				if p > pos[f.ID] {
					t.Errorf("child %s comes after its parent %s", c, f.Name)
				}
			}
		}
	}
	if parents == 0 {
		t.Fatal("the fixture has no parent flow: the test proves nothing")
	}
}

// The files go where the deployment looks them up: an environment's own
// folder, a flattened file kept in its place, never the shared file of
// every environment; the rest of config/ is untouched.
func TestCommitEnvironmentSettings(t *testing.T) {
	ctx := context.Background()
	remote := gitRemote(t)
	author := gitops.Signature{Name: "Alex Maker", Email: "alex@contoso.com"}
	now := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	seed := t.TempDir()
	write := func(rel, text string) {
		p := filepath.Join(seed, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deploymentSettings.json", `{"EnvironmentVariables":[],"ConnectionReferences":[]}`)
	write("customDeploymentSettings-prod.json", `{}`)
	write("ConfigurationMigrationData/data.xml", "<data/>")
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: remote, Branch: "FollowSites", Base: "main", Folder: seed, Path: "FollowSites/config",
		Message: "config", Author: author, Push: true, Token: "s3cret-token", Now: now}); err != nil {
		t.Fatal(err)
	}
	sol, err := solution.Read(fixtures.DemoSolution)
	if err != nil {
		t.Fatal(err)
	}
	ds, cds := TokenizedEnvironmentSettings(sol, nil, nil)
	for _, env := range []string{"test", "prod"} {
		dir := filepath.Join(t.TempDir(), "config")
		if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: "FollowSites", Path: "FollowSites/config", Dest: dir, Token: "s3cret-token"}); err != nil {
			t.Fatal(err)
		}
		res, err := CommitEnvironmentSettings(ctx, EnvironmentSettingsCommit{Repo: remote, Branch: "FollowSites", Base: "main", Token: "s3cret-token",
			Author: author, Message: "Configure " + env, Solution: "FollowSites", Environment: env, ConfigDir: dir, Deployment: ds, Custom: cds, Now: now})
		if err != nil || !res.Committed {
			t.Fatalf("%s: %+v, %v", env, res, err)
		}
	}
	got := filepath.Join(t.TempDir(), "got")
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: remote, Ref: "FollowSites", Path: "FollowSites/config", Dest: got, Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	var files []string
	_ = filepath.Walk(got, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(got, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := "ConfigurationMigrationData/data.xml,customDeploymentSettings-prod.json,deploymentSettings.json,prod/deploymentSettings.json,test/customDeploymentSettings.json,test/deploymentSettings.json"
	if strings.Join(files, ",") != want {
		t.Fatalf("config/ holds %v\nwant %s", files, want)
	}
	shared, _ := os.ReadFile(filepath.Join(got, "deploymentSettings.json"))
	if string(shared) != `{"EnvironmentVariables":[],"ConnectionReferences":[]}` {
		t.Errorf("the shared file changed: %s", shared)
	}
	flat, _ := os.ReadFile(filepath.Join(got, "customDeploymentSettings-prod.json"))
	if !strings.Contains(string(flat), "#{activateflow.order.") {
		t.Errorf("the flattened prod file was not written: %s", flat)
	}
	for _, env := range []string{"test", "prod"} {
		loc, err := settings.Locate(got, env)
		if err != nil || !strings.Contains(loc.DeploymentSettings, env) {
			t.Errorf("%s: the deployment finds %+v, %v", env, loc, err)
		}
	}
}
