package maker

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/maker/teamauth"
)

// teamDemo serves `ppalm maker --demo --team`: the demo in team mode on
// its Entra stand-in, at a loopback address.
func teamDemo(t *testing.T) (*Demo, string) {
	t.Helper()
	d, err := StartDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	opts, err := d.Team(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ln.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return d, base
}

// TestBrowserAdminOpensAProfileToOneGroup walks profile administration in
// headless Chromium on `--demo --team`: Casey signs in on the Entra
// stand-in's page, opens Profiles, creates a profile, finds Contoso Makers
// in the directory and opens the profile to it, saves by a commit, and
// signs out; Bea (not in the group) is not offered the profile, Alex (in
// it) is. The file on main says so.
func TestBrowserAdminOpensAProfileToOneGroup(t *testing.T) {
	w := walker{t: t, ctx: browserContext(t)}
	d, base := teamDemo(t)
	w.base = base
	sol := fixtures.DemoSolutionName

	// Signed out: the sign-in page, then the stand-in's account picker.
	w.run("signed out", chromedp.Navigate(base+"/start?environment=dev"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	w.body("Sign in to ppalm maker")
	w.run("sign in", chromedp.Click(chromedp.CSS("a.button")), chromedp.WaitVisible(chromedp.CSS(`button[value="`+emulator.Admin.ObjectID+`"]`)),
		shot("12-team-sign-in"), chromedp.Click(chromedp.CSS(`button[value="`+emulator.Admin.ObjectID+`"]`)), on("solutions"))
	w.body("Solutions in dev", sol)

	w.run("profiles", chromedp.Click(chromedp.CSS(`nav a[href="/admin"]`)), on("admin"), shot("10-admin-profiles"))
	w.body(DemoProfile, "Contoso Makers (group)", "Contoso Approvers (group)")
	w.run("new profile", chromedp.Click(chromedp.CSS(`a[href="/admin/profiles/new"]`)), on("admin-profile"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Makers only"),
		chromedp.Click(chromedp.CSS(`input[name=host][value=local]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="step-environment"]`), "test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="step-url"]`), d.EmuURL+"/test"),
		chromedp.SendKeys(chromedp.CSS("#makers-q"), "mak"),
		chromedp.Click(chromedp.CSS(`button[value="search-makers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`label.found input[name=makers]`)))
	w.body("Contoso Makers")
	w.run("pick the group", chromedp.Click(chromedp.CSS(`label.found input[name=makers]`)),
		// Saved only once the box shows checked: on a loaded machine the
		// click can land before the page is ready for it.
		chromedp.WaitVisible(chromedp.CSS(`label.found input[name=makers]:checked`)),
		chromedp.Click(chromedp.CSS(`input[name=save][value=commit]`)), shot("11-admin-profile"),
		chromedp.Click(chromedp.CSS(`button[value=save]`)), on("result"))
	w.body("Committed", "Makers only")
	p, ok := mustParse(t, profilesOnMain(t, d, "main")).Profile("Makers only")
	if !ok || len(p.Makers) != 1 || p.Makers[0].Group != emulator.Groups[1].ID {
		t.Fatalf("the file on main: %+v", p)
	}

	signedOut := chromedp.WaitVisible(chromedp.CSS(`a.button[href^="/auth/signin"]`)) // the signed-out page, once the redirects end
	w.run("sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), signedOut)
	w.body("Sign in to ppalm maker")

	signIn := func(u emulator.User, path string) {
		t.Helper()
		w.run("sign in as "+u.Name, chromedp.Navigate(base+teamauth.SignInPath+"?"+url.Values{"return": {path}, "login_hint": {u.Email}}.Encode()),
			chromedp.WaitVisible(chromedp.CSS("main h1")))
	}
	signIn(emulator.FlowOwner, "/solutions/"+sol+"/profile")
	w.run("Bea's profiles", on("profile"))
	who, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS("header .who")))
	if text := w.text(); strings.Contains(text, "Makers only") || err != nil || who != emulator.FlowOwner.Email {
		t.Fatalf("Bea (%q), outside Contoso Makers, sees:\n%s", who, text)
	}
	w.run("Bea signs out", chromedp.Click(chromedp.CSS(`form.signout button`)), signedOut)
	signIn(emulator.Maker, "/solutions/"+sol+"/profile")
	w.run("Alex's profiles", on("profile"))
	w.body("Makers only", DemoProfile)
}
