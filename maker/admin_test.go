package maker

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
)

// asMaker serves another copy of the demo's app for another maker (local
// mode: each maker runs their own, on one repository).
func asMaker(t *testing.T, d *Demo, u emulator.User) *browserless {
	t.Helper()
	o := d.Options
	o.Maker, o.MakerObjectID = gitops.Signature{Name: u.Name, Email: u.Email}, u.ObjectID
	o.Groups = func(context.Context) ([]string, error) { return emulator.MemberGroupsOf(u.ObjectID), nil }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ln.Addr().String(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	b := newClient(t, "http://"+ln.Addr().String())
	b.get("/start?environment=dev")
	return b
}

// profilesOnMain reads .ppalm/profiles.yaml from the default branch.
func profilesOnMain(t *testing.T, d *Demo, ref string) string {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "p")
	if _, err := gitops.ReadFolder(context.Background(), gitops.ReadOptions{Repo: d.RepoURL, Ref: ref, Path: ".ppalm", Dest: dest, Token: d.Options.Token}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dest, "profiles.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var versionRe = regexp.MustCompile(`name="version" value="([^"]+)"`)

// profileFields is the new-profile form as an admin fills it: a local
// profile deploying to test through an environment approval.
func profileFields(token, version, name string) url.Values {
	return url.Values{"csrf": {token}, "version": {version}, "original": {""}, "name": {name}, "host": {"local"},
		"targetBranch": {"main"}, "step-environment": {"test", ""}, "step-url": {"", ""}, "step-approval": {"environment", "pull-request"},
		"step-pipeline": {"", ""}, "save": {"commit"}, "action": {"save"}}
}

// TestAdminProfiles: only the file's admins reach the screens (a forged
// save by a maker is refused and changes nothing); an admin finds a group
// in the directory, creates a profile open to it, and bad values are shown
// beside their fields with nothing committed; a stale form is refused; a
// pull request proposes a change without touching main; the solutions'
// state beside the file is kept.
func TestAdminProfiles(t *testing.T) {
	d, base := app(t)
	admin := newClient(t, base) // the demo's maker, Alex, is an admin
	admin.get("/start?environment=dev")
	sol := fixtures.DemoSolutionName
	admin.post("/solutions/"+sol+"/profile", url.Values{"profile": {DemoProfile}}) // state beside the profiles
	bea := asMaker(t, d, emulator.FlowOwner)                                       // in Contoso Sales, no admin

	// A maker who is no admin: no link, a refusal, and a forged save refused.
	if _, page := bea.get("/"); strings.Contains(page, `href="/admin"`) {
		t.Fatal("a maker who is no admin is offered the profiles")
	}
	code, page := bea.get("/admin")
	if code != 403 || !strings.Contains(page, "Only the administrators") {
		t.Fatalf("non-admin: %d\n%s", code, page)
	}
	before := branches(t, d.RepoURL, d.Options.Token)["main"]
	tok := bea.token("/environment")
	code, page = bea.send("/admin/profiles", profileFields(tok, "none", "Forged"))
	if code != 403 || !strings.Contains(page, "Only the administrators") || branches(t, d.RepoURL, d.Options.Token)["main"] != before {
		t.Fatalf("a forged save by a maker: %d, main moved %v", code, branches(t, d.RepoURL, d.Options.Token)["main"] != before)
	}

	// The admin: search the directory's groups from the form.
	_, page = admin.get("/")
	if !strings.Contains(page, `href="/admin"`) {
		t.Fatal("the admin is not offered the profiles")
	}
	_, page = admin.get("/admin/profiles/new")
	tok, version := csrfRe.FindStringSubmatch(page)[1], versionRe.FindStringSubmatch(page)[1]
	f := profileFields(tok, version, "Sales ALM")
	f.Set("action", "search-makers")
	f.Set("makers-q", "sal")
	code, page = admin.send("/admin/profiles", f)
	if code != 200 || !strings.Contains(page, "Contoso Sales") || strings.Contains(page, "Contoso Makers") {
		t.Fatalf("group search: %d\n%s", code, page)
	}
	found := regexp.MustCompile(`name="makers" value="(group:[^"]+)"`).FindStringSubmatch(page)
	if found == nil {
		t.Fatalf("no group to pick:\n%s", page)
	}

	// Bad values: beside their fields, nothing committed.
	bad := profileFields(tok, version, "")
	bad.Set("step-url", "ftp://nowhere")
	bad.Set("makers-people", "nobody@contoso.example")
	bad["step-environment"] = []string{"test"}
	bad["step-url"] = []string{"ftp://nowhere"}
	code, page = admin.send("/admin/profiles", bad)
	if code != 400 {
		t.Fatalf("bad profile: %d\n%s", code, page)
	}
	mustContain(t, "bad profile", page, `id="name-error"`, `id="step-0-error"`, "Enter the environment&#39;s URL", `id="makers-error"`, "no user nobody@contoso.example in the directory")
	bad = profileFields(tok, version, DemoProfile)
	if code, page = admin.send("/admin/profiles", bad); code != 400 || !strings.Contains(page, "exists already") {
		t.Fatalf("a name taken: %d\n%s", code, page)
	}
	if branches(t, d.RepoURL, d.Options.Token)["main"] != before {
		t.Fatal("a refused save committed")
	}

	// Saved by a commit: open to the group, advanced for one person.
	f = profileFields(tok, version, "Sales ALM")
	f["step-url"] = []string{d.EmuURL + "/test", ""}
	f["makers"] = []string{found[1]}
	f.Set("advanced-people", emulator.FlowOwner.Email)
	code, page = admin.send("/admin/profiles", f)
	if code != 200 || !strings.Contains(page, "Committed") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	file := profilesOnMain(t, d, "main")
	ps, err := ParseProfiles([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ps.Profile("Sales ALM")
	if !ok || len(p.Makers) != 1 || p.Makers[0].Group != emulator.Groups[0].ID || p.Makers[0].Name != "Contoso Sales" ||
		len(p.Advanced) != 1 || p.Advanced[0].Name != emulator.FlowOwner.Name || len(p.Steps) != 1 || p.Steps[0].URL != d.EmuURL+"/test" {
		t.Fatalf("the file holds:\n%s", file)
	}
	if _, ok := ps.Profile(DemoProfile); !ok || len(ps.Admins) != 2 {
		t.Fatalf("the other profiles or the admins were lost:\n%s", file)
	}
	msg, author, _ := headCommit(t, d.RepoURL, d.Options.Token, "main")
	if !strings.Contains(msg, "Profile Sales ALM created by") || author != d.Options.Maker.Email {
		t.Fatalf("the commit: %q by %s", msg, author)
	}
	if _, page = admin.get("/solutions/" + sol + "/history"); !strings.Contains(page, DemoProfile) {
		t.Fatal("the solution's state beside the profiles was lost")
	}

	// The form of a file someone changed since: refused, nothing saved.
	stale := profileFields(tok, version, "Late")
	stale["step-url"] = []string{d.EmuURL + "/test", ""}
	if code, page = admin.send("/admin/profiles", stale); code != 400 || !strings.Contains(page, "someone else saved it") {
		t.Fatalf("a stale form: %d\n%s", code, page)
	}

	// Bea, in Contoso Sales, now has the profile; the advanced options too.
	if _, page = bea.get("/solutions/" + sol + "/profile"); !strings.Contains(page, "Sales ALM") || strings.Contains(page, DemoProfile) {
		t.Fatalf("Bea's profiles:\n%s", page)
	}

	// Edited through a pull request: main stays, the branch and the pull
	// request carry the change.
	_, page = admin.get("/admin/profiles/" + url.PathEscape("Sales ALM"))
	tok, version = csrfRe.FindStringSubmatch(page)[1], versionRe.FindStringSubmatch(page)[1]
	f = profileFields(tok, version, "Sales ALM")
	f.Set("original", "Sales ALM")
	f["step-url"] = []string{d.EmuURL + "/test", ""}
	f["step-environment"] = []string{"test", "prod"}
	f["step-url"] = []string{d.EmuURL + "/test", d.EmuURL + "/prod"}
	f["step-approval"] = []string{"environment", "environment"}
	f["step-pipeline"] = []string{"", ""}
	f["makers"] = []string{found[1]}
	f.Set("save", "pull-request")
	mainBefore := branches(t, d.RepoURL, d.Options.Token)["main"]
	code, page = admin.send("/admin/profiles", f)
	if code != 200 || !strings.Contains(page, "Pull request #") {
		t.Fatalf("pull request: %d\n%s", code, page)
	}
	if branches(t, d.RepoURL, d.Options.Token)["main"] != mainBefore {
		t.Fatal("a proposed change moved main")
	}
	pulls := d.GitHub.Pulls()
	last := pulls[len(pulls)-1]
	if !strings.HasPrefix(last.Head, "ppalm/profiles/sales-alm-") || last.Base != "main" || !strings.Contains(last.Body, "changes profile Sales ALM") ||
		!strings.Contains(last.Body, "environment: prod") {
		t.Fatalf("the pull request: %+v", last)
	}
	if proposed := profilesOnMain(t, d, last.Head); !strings.Contains(proposed, "/prod") || len(ps.Profiles) != len(mustParse(t, proposed).Profiles) {
		t.Fatalf("the branch holds:\n%s", proposed)
	}
}

func mustParse(t *testing.T, file string) *Profiles {
	t.Helper()
	ps, err := ParseProfiles([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestTeamAdminOpensAProfileToOneGroup: in team mode, Casey (an admin
// through the Contoso Approvers group claim) creates a profile open to
// Contoso Makers; Bea, outside that group, does not see it, and her forged
// request to use it is refused and records nothing; Alex, in the group,
// uses it.
func TestTeamAdminOpensAProfileToOneGroup(t *testing.T) {
	tr := newTeamRig(t, 2)
	d := tr.demo
	sol := fixtures.DemoSolutionName
	casey := tr.browser()
	if code, page := casey.signIn(emulator.Admin, "/start?environment=dev"); code != 200 || !strings.Contains(page, `href="/admin"`) {
		t.Fatalf("the admin signs in: %d\n%s", code, page)
	}
	_, page := casey.get("/admin/profiles/new")
	tok, version := csrfRe.FindStringSubmatch(page)[1], versionRe.FindStringSubmatch(page)[1]
	f := profileFields(tok, version, "Makers only")
	f["step-url"] = []string{d.EmuURL + "/test", ""}
	f["makers"] = []string{encodeChoice(Principal{Group: emulator.Groups[1].ID, Name: "forged name"})}
	if code, page := casey.do("POST", "/admin/profiles", f, nil); code != 200 || !strings.Contains(page, "Committed") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	p, ok := mustParse(t, profilesOnMain(t, d, "main")).Profile("Makers only")
	if !ok || len(p.Makers) != 1 || p.Makers[0].Name != "Contoso Makers" {
		t.Fatalf("saved: %+v (the name comes from the directory, not the form)", p)
	}
	if _, author, _ := headCommit(t, d.RepoURL, d.Options.Token, "main"); author != emulator.Admin.Email {
		t.Fatalf("committed by %s", author)
	}

	// Bea is in Contoso Sales only.
	bea := tr.browser()
	bea.signIn(emulator.FlowOwner, "/start?environment=dev")
	if code, page := bea.get("/admin"); code != 403 {
		t.Fatalf("Bea on the admin screen: %d\n%s", code, page)
	}
	if _, page = bea.get("/solutions/" + sol + "/profile"); strings.Contains(page, "Makers only") {
		t.Fatalf("Bea is offered the profile:\n%s", page)
	}
	before := branches(t, d.RepoURL, d.Options.Token)["main"]
	code, page := bea.post("/solutions/"+sol+"/profile", url.Values{"profile": {"Makers only"}})
	if code != 400 || !strings.Contains(page, "Choose one of the profiles open to you") {
		t.Fatalf("Bea's forged choice: %d\n%s", code, page)
	}
	code, _ = bea.post("/import", url.Values{"profile": {"Makers only"}, "branch": {"main"}, "folder": {sol}})
	if code != 400 || branches(t, d.RepoURL, d.Options.Token)["main"] != before {
		t.Fatalf("Bea's forged import: %d; main moved: %v", code, branches(t, d.RepoURL, d.Options.Token)["main"] != before)
	}

	// Alex is in Contoso Makers.
	alex := tr.browser()
	alex.signIn(emulator.Maker, "/start?environment=dev")
	if code, page := alex.post("/solutions/"+sol+"/profile", url.Values{"profile": {"Makers only"}}); code != 200 || !strings.Contains(page, "Makers only") {
		t.Fatalf("Alex chooses the profile: %d\n%s", code, page)
	}
	// The choice stands for the solution, but Bea still may not use it.
	if code, _ := bea.get("/solutions/" + sol + "/commit"); code != 409 {
		t.Fatalf("Bea's commit with a profile closed to her: %d", code)
	}
	casey.noTokens()
	bea.noTokens()
}
