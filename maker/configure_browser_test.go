package maker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/solution"
)

// sel is a CSS selector for the form control named name (the screen's
// names hold colons, which an #id selector would need escaped).
func sel(name string) string { return `[name="` + name + `"]` }

// TestBrowserConfigureDeploymentSettings configures test and prod for the
// seeded solution in headless Chromium on --demo, with different values and
// a secret among them, after the maker added a Key Vault secret and a JSON
// variable to the solution in dev: a JSON value that does not parse is
// shown beside its field and nothing is saved; then the files in git hold
// tokens and no secret, the values are the GitHub environments' variables
// and secrets the deployment job reads, no page ever held a secret, and
// deployments to test and prod wire the emulator as configured:
// connections bound, variable values, the app's share and owners, flows on
// and off, the group team with its roles and the flow shared with it.
func TestBrowserConfigureDeploymentSettings(t *testing.T) {
	w := walker{t: t, ctx: browserContext(t)}
	d, base := app(t)
	w.base = base
	sol := fixtures.DemoSolutionName
	var pages []string
	keep := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		pages = append(pages, html)
		return err
	})

	// In the maker portal, the maker adds an API key kept in Azure Key
	// Vault and JSON paging settings to the solution in dev.
	addVariable(t, d.EmuURL, "alexmsft_ApiKey", "Follow Sites API key", solution.TypeSecret)
	addVariable(t, d.EmuURL, "alexmsft_PagingSettings", "Paging settings", solution.TypeJSON)
	w.run("start", chromedp.Navigate(base+"/start?environment=dev"), on("solutions"))
	w.run("profile", chromedp.Navigate(base+"/solutions/"+sol+"/profile"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="`+DemoProfile+`"]`)), submit, on("solutions"))
	w.run("commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded,
		chromedp.SendKeys(chromedp.CSS("#comment"), "API key and paging #12"), submit, on("result"))
	w.body("succeeded")

	// From the solution list, the link under the solution's name.
	w.run("open configure", chromedp.Navigate(base+"/"), loaded, chromedp.Click(chromedp.CSS(`a[href="/solutions/`+sol+`/configure"]`)), on("configure"), keep)
	w.body("Configure "+sol+" for test", "missing", "value of Follow Sites API key", "value of Paging settings", "Connection references")

	test := configuration{
		site: emulator.SharePointSites[1].URL, keyVault: vaultRef("test"), paging: `{"pageSize": 25, "sort": "title"}`,
		groupSearch: "makers", group: emulator.Groups[1].ID, role: "CanEdit", owner: emulator.Admin.Email,
		team: "Follow Sites makers", teamRoles: []string{"Basic User", "Environment Maker"}, shareFlow: "3e587800-9a7c-ee11-8178-002248c6b93d",
	}
	prod := configuration{
		connectionOwner: emulator.Admin.Email, site: emulator.SharePointSites[0].URL, keyVault: vaultRef("prod"), paging: `{"pageSize": 100}`,
		groupSearch: "sales", group: emulator.Groups[0].ID, role: "CanView", owner: emulator.FlowOwner.Email,
		off: "3ae68a7e-c078-ee11-8179-002248c6b93d",
	}

	// A JSON value that does not parse: shown beside the field, nothing
	// saved anywhere.
	before := branches(t, d.RepoURL, d.Options.Token)
	ghBefore := len(d.GitHub.Requests())
	w.fill(test)
	w.run("bad JSON", set("env:alexmsft_PagingSettings", `{"pageSize": 25,}`),
		chromedp.Click(chromedp.CSS(`button[value=save]`)))
	// The field had an error before (no value yet): wait for the answer.
	w.within(30*time.Second, "Nothing was saved.")
	w.run("refused", chromedp.WaitVisible(chromedp.CSS(`[id="env:alexmsft_PagingSettings-error"]`)), keep, shot("14-configure-bad-value"))
	w.body("is not valid JSON")
	if inv, _ := chromedp.Run(w.ctx, chromedp.AttributeValue(chromedp.CSS(sel("env:alexmsft_PagingSettings")), "aria-invalid")); inv.Value != "true" {
		t.Error("the JSON field is not marked invalid")
	}
	if after := branches(t, d.RepoURL, d.Options.Token); after[sol] != before[sol] {
		t.Fatal("a refused save committed")
	}
	for _, r := range d.GitHub.Requests()[ghBefore:] {
		if r.Method != "GET" {
			t.Fatalf("a refused save sent %s %s", r.Method, r.Path)
		}
	}

	// Fixed, test saves; the secret was typed again (it is never sent back).
	w.fill(test)
	w.run("save test", chromedp.Click(chromedp.CSS(`button[value=save]`)), chromedp.WaitVisible(chromedp.CSS(`p.result.succeeded`)), keep, shot("13-configure"))
	w.body("Saved for test", "1 of them secret", "committed to branch "+sol, "0 missing", "set (secret)", "checks against test pass")

	w.run("prod tab", chromedp.Click(chromedp.CSS(`nav.tabs a[href*="environment=prod"]`)))
	w.within(30*time.Second, "Configure "+sol+" for prod")
	w.run("prod", keep)
	w.fill(prod)
	w.run("save prod", chromedp.Click(chromedp.CSS(`button[value=save]`)), chromedp.WaitVisible(chromedp.CSS(`p.result.succeeded`)), keep)
	w.body("Saved for prod", "1 of them secret")

	checkStored(t, d, "test", test)
	checkStored(t, d, "prod", prod)
	checkNoSecretInGit(t, d, []string{"test", "prod"}, test.keyVault, prod.keyVault)
	for i, p := range pages {
		for _, secret := range []string{test.keyVault, prod.keyVault} {
			if strings.Contains(p, secret) {
				t.Fatalf("page %d holds a secret", i)
			}
		}
	}

	// Deployments read them: test through the pull request, prod after the
	// environment's approval.
	w.run("deploy test", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="test"]`)), submit, on("result"))
	w.body("succeeded", "deployed to test")
	w.run("deploy prod", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="prod"]`)), submit, on("result"))
	w.body("succeeded", "deployed branch "+sol+" to prod")
	checkWired(t, d, "test", test)
	checkWired(t, d, "prod", prod)
}

// fill sets a configuration on the open Configure page: it searches the
// groups first (a round trip that keeps what the page holds), then sets
// every field.
func (w walker) fill(c configuration) {
	w.t.Helper()
	w.run("search groups", chromedp.SetValue(chromedp.CSS("#groupsearch"), c.groupSearch), chromedp.Click(chromedp.CSS(`button[value=groups]`)))
	w.within(30*time.Second, "group(s) found for")
	app := "alexmsft_followsites_7d504"
	actions := []chromedp.Action[chromedp.Void]{
		set("env:alexmsft_FollowSitesSPOSite", c.site),
		chromedp.Clear(chromedp.CSS(sel("env:alexmsft_ApiKey"))),
		chromedp.SendKeys(chromedp.CSS(sel("env:alexmsft_ApiKey")), c.keyVault),
		set("env:alexmsft_PagingSettings", c.paging),
		set("share:"+app, c.group),
		set("role:"+app, c.role),
		set("owner:app:"+app, c.owner),
	}
	if c.connectionOwner != "" {
		actions = append(actions, js(`(() => { const s = document.querySelector('[name="conn:alexmsft_SharePointConnectionFollowSites"]');
			for (const o of s.options) { if (o.textContent.includes('`+c.connectionOwner+`')) { s.value = o.value; return true } } throw new Error('no connection created by `+c.connectionOwner+`') })()`))
	}
	for _, f := range []string{"3e587800-9a7c-ee11-8178-002248c6b93d", "3ae68a7e-c078-ee11-8179-002248c6b93d", "8e45d378-817a-ee11-8178-002248c6b93d"} {
		actions = append(actions, set("owner:flow:"+f, c.owner))
		if f == c.off {
			actions = append(actions, js(`document.querySelector('[name="on:`+f+`"]').checked = false`))
		}
	}
	if c.team != "" {
		// A page shown again after a refused save already has the team.
		has, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](`!!document.querySelector('input[name^="team:"][name$=":name"][value="`+c.team+`"]')`))
		if err != nil {
			w.t.Fatal(err)
		}
		if !has {
			actions = append(actions, chromedp.SendKeys(chromedp.CSS(sel("team:new:name")), c.team),
				set("team:new:group", c.group))
			for _, r := range c.teamRoles {
				actions = append(actions, chromedp.Click(chromedp.CSS(`[name="team:new:roles"][value="`+r+`"]`)))
			}
		}
		actions = append(actions, set("flowteam:"+c.shareFlow, c.team))
	}
	w.run("fill", actions...)
}

// set sets the form control named name, saying which one when the page
// does not offer value (a select without that option).
func set(name, value string) chromedp.Action[chromedp.Void] {
	a := chromedp.SetValue(chromedp.CSS(sel(name)), value)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := a(ctx, t); err != nil {
			return fmt.Errorf("set %s to %q: %w", name, value, err)
		}
		return nil
	})
}

// js runs a script on the page, for what the form controls do not offer
// through chromedp (a checkbox's state, an option by its text).
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return err
	})
}
