package dataverse_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/entra/entratest"
)

// makerRig serves the emulator with the maker routes.
func makerRig(t *testing.T, o emulator.Options) (*emulator.Emulator, string, func(env, token string) *dataverse.Client) {
	t.Helper()
	if o.Environments == nil {
		o.Environments = []string{"dev", "test"}
	}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	client := func(env, token string) *dataverse.Client {
		opts := []dataverse.Option{dataverse.WithPowerAppsURL(srv.URL + "/powerapps"), dataverse.WithGraphURL(srv.URL + "/graph"), dataverse.WithSleep(emulatortest.NoSleep)}
		if token != "" {
			opts = append(opts, dataverse.WithCredential(staticToken(token)))
		}
		c, err := dataverse.New(srv.URL+"/"+env, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return emu, srv.URL, client
}

func TestMakerEnvironments(t *testing.T) {
	_, base, client := makerRig(t, emulator.Options{})
	ctx := context.Background()
	envs, err := client("dev", emulator.Maker.ObjectID).MakerEnvironments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[0].URL != base+"/dev" || envs[1].URL != base+"/test" || envs[0].ID == "" || envs[0].DisplayName == "" {
		t.Errorf("maker sees %+v", envs)
	}
	dv := client("dev", emulator.Maker.ObjectID)
	id, err := dv.EnvironmentID(ctx)
	if err != nil || id != envs[0].ID {
		t.Errorf("dev's id is %s (%v), the list says %s", id, err, envs[0].ID)
	}
	none, err := client("dev", emulator.NoAccess.ObjectID).MakerEnvironments(ctx)
	if err != nil || len(none) != 0 {
		t.Errorf("a user without a role sees %v, %v", none, err)
	}
	// On behalf of a signed-in maker the token is a JWT naming them.
	entraID := entratest.New(t, entratest.Options{TenantID: emulator.TenantID})
	for _, tc := range []struct {
		user emulator.User
		want int
	}{{emulator.NoAccess, 0}, {emulator.Maker, 2}} {
		jwt := entraID.Issue(entratest.Token{User: entratest.User{ObjectID: tc.user.ObjectID, UPN: tc.user.Email}, Audience: base})
		if got, err := client("dev", jwt).MakerEnvironments(ctx); err != nil || len(got) != tc.want {
			t.Errorf("%s's JWT sees %d environments (%v), want %d", tc.user.Name, len(got), err, tc.want)
		}
	}
}

func TestSearchGroups(t *testing.T) {
	_, base, client := makerRig(t, emulator.Options{})
	ctx := context.Background()
	dv := client("dev", "")
	names := func(gs []dataverse.GraphGroup) string {
		var out []string
		for _, g := range gs {
			out = append(out, g.DisplayName)
		}
		return strings.Join(out, ",")
	}
	for term, want := range map[string]string{
		"sales":   "Contoso Sales",
		"CONTOSO": "Contoso Approvers,Contoso Makers,Contoso Sales",
		"ales":    "", // a word must start with the term
		"mak":     "Contoso Makers",
	} {
		got, err := dv.SearchGroups(ctx, term, 10)
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != want {
			t.Errorf("search %q = %s, want %s", term, names(got), want)
		}
	}
	if got, _ := dv.SearchGroups(ctx, "contoso", 2); len(got) != 2 {
		t.Errorf("top 2 gave %d", len(got))
	}
	if _, err := dv.SearchGroups(ctx, `"`, 2); err == nil {
		t.Error("an empty search was sent")
	}
	// Graph refuses $search without the header, as the service does.
	resp, err := http.Get(base + "/graph/v1.0/groups?" + url.Values{"$search": {`"displayName:sales"`}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "ConsistencyLevel: eventual") {
		t.Errorf("no header: %d %s", resp.StatusCode, b)
	}
	// startswith needs no header.
	resp, err = http.Get(base + "/graph/v1.0/groups?" + url.Values{"$filter": {"startswith(displayName,'Contoso M')"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Contoso Makers") || strings.Contains(string(b), "Contoso Sales") {
		t.Errorf("startswith: %d %s", resp.StatusCode, b)
	}
	_, _, forbidden := makerRig(t, emulator.Options{GraphForbidden: true})
	if _, err := forbidden("dev", "").SearchGroups(ctx, "sales", 5); !errors.Is(err, dataverse.ErrDirectoryForbidden) {
		t.Errorf("without directory permission: %v", err)
	}
}

func TestSharePointDataSourcePickers(t *testing.T) {
	_, base, client := makerRig(t, emulator.Options{})
	ctx := context.Background()
	maker := client("test", emulator.Maker.ObjectID)
	envID, err := maker.EnvironmentID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := maker.ListConnections(ctx, envID)
	if err != nil {
		t.Fatal(err)
	}
	const sp = "/providers/Microsoft.PowerApps/apis/shared_sharepointonline"
	var conn string
	for _, c := range conns {
		if strings.EqualFold(c.ConnectorID, sp) {
			conn = c.Name
		}
	}
	if conn == "" {
		t.Fatalf("test has no SharePoint connection: %+v", conns)
	}
	sites, err := maker.ConnectorDataSets(ctx, envID, sp, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 2 || sites[0].Name != "https://contoso.sharepoint.com/sites/Sales" || sites[0].DisplayName != "Sales" {
		t.Errorf("sites = %+v", sites)
	}
	lists, err := maker.ConnectorTables(ctx, envID, sp, conn, sites[1].Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 2 || lists[0].DisplayName != "Issues" || lists[0].Name != "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c61" {
		t.Errorf("lists = %+v", lists)
	}
	// A maker the connection is not shared with may not call through it.
	if _, err := client("test", emulator.FlowOwner.ObjectID).ConnectorDataSets(ctx, envID, sp, conn); dataverse.StatusCode(err) != 403 || !strings.Contains(err.Error(), "ConnectionAuthorizationFailed") {
		t.Errorf("not shared: %v", err)
	}
	if _, err := maker.ConnectorTables(ctx, envID, sp, conn, "https://contoso.sharepoint.com/sites/Nope"); dataverse.StatusCode(err) != 404 {
		t.Errorf("unknown site: %v", err)
	}
	if _, err := maker.ConnectorDataSets(ctx, envID, sp, "no-such-connection"); dataverse.StatusCode(err) != 404 {
		t.Errorf("unknown connection: %v", err)
	}
	// A site encoded twice, as flow definitions carry it.
	twice := url.PathEscape(url.PathEscape(sites[0].Name))
	req, _ := http.NewRequest("GET", base+"/apim/sharepointonline/"+conn+"/datasets/"+twice+"/tables", nil)
	req.Header.Set("Authorization", "Bearer "+emulator.Maker.ObjectID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Opportunities") {
		t.Errorf("double-encoded site: %d %s", resp.StatusCode, b)
	}
}

// The owner picker lists the environment's people, not its application
// users, sorted by name and narrowed by a term; the team roles picker
// lists a business unit's roles.
func TestListSystemUsersAndRoles(t *testing.T) {
	_, _, client := makerRig(t, emulator.Options{})
	ctx := context.Background()
	dv := client("test", "")
	users, err := dv.ListSystemUsers(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.FullName)
	}
	if strings.Join(names, ",") != "Alex Maker,Bea Owner,Casey Admin,Nico Noaccess" {
		t.Errorf("users %v: want the people, sorted, without the application user", names)
	}
	bea, err := dv.ListSystemUsers(ctx, "bea.", 5)
	if err != nil || len(bea) != 1 || bea[0].Email != emulator.FlowOwner.Email || bea[0].ID != emulator.FlowOwner.SystemUserID("test") {
		t.Errorf("users starting with bea.: %+v, %v", bea, err)
	}
	if two, err := dv.ListSystemUsers(ctx, "", 2); err != nil || len(two) != 2 {
		t.Errorf("top 2: %+v, %v", two, err)
	}
	bu, err := dv.RootBusinessUnit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := dv.ListRoles(ctx, bu.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rn []string
	for _, r := range roles {
		rn = append(rn, r.Name)
	}
	if strings.Join(rn, ",") != "Basic User,Environment Maker,System Administrator,System Customizer" {
		t.Errorf("roles %v", rn)
	}
}
