package maker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
)

// chromium finds the distribution's headless browser; outside CI its
// absence skips the browser tests, in CI it fails them.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); the browser test needs it")
	return ""
}

func browserContext(t *testing.T) context.Context {
	opts := append([]chromedp.ExecAllocatorOption{},
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 760),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// shot saves a PNG of the page into docs/maker when PPALM_SCREENSHOTS is set
// (go test ./maker -run Browser with PPALM_SCREENSHOTS=1 refreshes the
// README's pictures).
func shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if os.Getenv("PPALM_SCREENSHOTS") == "" {
			return nil
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join("..", "docs", "maker", name+".png"), png, 0o644)
	})
}

// walker drives one browser tab through the app.
type walker struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (w walker) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	if err := chromedp.Do(w.ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// text is what the main landmark says.
func (w walker) text() string {
	w.t.Helper()
	text, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		w.t.Fatal(err)
	}
	return text
}

func (w walker) body(wants ...string) {
	w.t.Helper()
	text := w.text()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			w.t.Fatalf("want %q in:\n%s", want, text)
		}
	}
}

// within waits until the page (which refreshes itself) says want.
func (w walker) within(d time.Duration, want string) {
	w.t.Helper()
	deadline := time.Now().Add(d)
	for {
		text, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS("main")))
		if err == nil && strings.Contains(text, want) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the page did not come to say %q within %s:\n%s", want, d, text)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

var (
	submit = chromedp.Click(chromedp.CSS(`main button[type=submit]`))
	loaded = chromedp.WaitVisible(chromedp.CSS("main h1"))
)

func on(page string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`main[data-page="` + page + `"]`))
}

// TestBrowserSeedFlow walks the seed flow in headless Chromium on --demo:
// pick the environment (with the keyboard), choose a profile, commit with
// #123, deploy to test by pull request with the upgrade label and to prod
// by environment approval, delete, import from the branch, and read the
// history; then checks the effects: the branch and its commit in git, the
// pull request and its label on the GitHub stand-in, the solution managed
// in test and prod and unmanaged again in dev.
func TestBrowserSeedFlow(t *testing.T) {
	w := walker{t: t, ctx: browserContext(t)}
	d, base := app(t)
	w.base = base
	sol := fixtures.DemoSolutionName

	// The first screen asks for the environment; radios and the button
	// answer the keyboard.
	w.run("choose environment", chromedp.Navigate(base+"/"), loaded, shot("1-environment"),
		chromedp.Focus(chromedp.CSS(`input[value="dev"]`)), chromedp.KeyEvent(" "), chromedp.KeyEvent("\r"), on("solutions"))
	w.body("Unmanaged solutions in dev", sol)
	w.run("profile", chromedp.Navigate(base+"/solutions/"+sol+"/profile"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="`+DemoProfile+`"]`)), shot("3-profile"), submit, on("solutions"))
	w.body(DemoProfile)

	// Bad input first: an empty comment and a branch git refuses, shown
	// beside their fields.
	w.run("bad commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded,
		chromedp.Click(chromedp.CSS("summary")),
		chromedp.SetValue(chromedp.CSS("#branch"), "no spaces allowed"), submit, chromedp.WaitVisible(chromedp.CSS("#comment-error")),
		chromedp.WaitVisible(chromedp.CSS("#branch-error")))
	w.body("Enter a comment", "not a branch name git accepts")
	if _, err := gitops.ReadFolder(context.Background(), gitops.ReadOptions{Repo: d.RepoURL, Ref: sol, Path: sol, Dest: t.TempDir(), Token: d.Options.Token}); err == nil {
		t.Fatal("the refused commit pushed the solution branch")
	}
	w.run("commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded, chromedp.Click(chromedp.CSS("summary")),
		chromedp.SendKeys(chromedp.CSS("#comment"), "First version #123"), shot("4-commit"), submit, on("result"))
	w.body("succeeded", "#123")
	msg, author, files := headCommit(t, d.RepoURL, d.Options.Token, sol)
	if !strings.Contains(msg, "First version #123") || author != d.Options.Maker.Email || files < 10 {
		t.Fatalf("branch %s: head commit %q by %s with %d files", sol, msg, author, files)
	}

	// Deploy: no environment chosen is an error beside the choice.
	w.run("deploy without environment", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded, submit,
		chromedp.WaitVisible(chromedp.CSS("#environment-error")))
	if len(d.GitHub.Pulls()) != 0 {
		t.Fatal("a refused deploy opened a pull request")
	}
	w.run("deploy test", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="test"]`)), chromedp.Click(chromedp.CSS(`input[name=upgrade]`)),
		shot("5-deploy"), submit, on("result"))
	w.body("succeeded", "pull request #1", "labelled solution-upgrade", "deployed to test")
	w.run("deploy prod", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="prod"]`)), submit, on("result"))
	w.body("succeeded", "deployed branch "+sol+" to prod")
	w.run("list", chromedp.Navigate(base+"/"), loaded, shot("2-solutions"))

	w.run("delete", chromedp.Navigate(base+"/solutions/"+sol+"/delete"), loaded,
		chromedp.SendKeys(chromedp.CSS("#confirm"), sol), shot("6-delete"), submit, on("result"))
	w.body("deleted " + sol + " from dev")
	if _, err := findEnv(d, "dev").Client.GetSolution(context.Background(), sol); err == nil {
		t.Fatal("still in dev after delete")
	}
	w.run("import", chromedp.Navigate(base+"/import"), loaded,
		chromedp.SetValue(chromedp.CSS("#profile"), DemoProfile),
		chromedp.SendKeys(chromedp.CSS("#branch"), sol), chromedp.SendKeys(chromedp.CSS("#folder"), sol),
		shot("7-import"), submit, on("result"))
	w.body("imported " + sol)

	// The history: every request, newest first, with state, who, when and
	// the pull request's link and state.
	w.run("history", chromedp.Navigate(base+"/solutions/"+sol+"/history"), loaded, shot("8-history"))
	w.body("import", "delete", "deploy", "commit", "pull request #1 open, labelled solution-upgrade", d.Options.Maker.Email, "UTC")
	href, err := chromedp.Run(w.ctx, chromedp.AttributeValue(chromedp.CSS(`tr.request a`), "href"))
	if err != nil || !href.Exists || !strings.HasSuffix(href.Value, "/contoso/alm-repo/pull/1") {
		t.Fatalf("history link: %+v, %v", href, err)
	}

	pulls := d.GitHub.Pulls()
	if len(pulls) != 1 || pulls[0].Head != sol || !contains(pulls[0].Labels, devops.UpgradeLabel) || !strings.Contains(pulls[0].Body, "canvas app") {
		t.Fatalf("pull requests: %+v", pulls)
	}
	for env, managed := range map[string]bool{"test": true, "prod": true, "dev": false} {
		got, err := findEnv(d, env).Client.GetSolution(context.Background(), sol)
		if err != nil || got.IsManaged != managed {
			t.Fatalf("%s: %+v, %v", env, got, err)
		}
	}
}

// TestBrowserPipelineHost walks Commit and Deploy in headless Chromium in
// local mode on Azure DevOps: the result links the queued run, the history
// shows it running and refreshes itself until the host says it succeeded,
// and the pull request's state follows the host too.
func TestBrowserPipelineHost(t *testing.T) {
	w := walker{t: t, ctx: browserContext(t)}
	r := newRig(t)
	base := r.base
	w.base = base
	sol := fixtures.DemoSolutionName
	w.run("start", chromedp.Navigate(base+"/start?environment=dev"), on("solutions"))
	w.run("profile", chromedp.Navigate(base+"/solutions/"+sol+"/profile"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="`+adoProfile+`"]`)), submit, on("solutions"))
	w.run("commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded,
		chromedp.SendKeys(chromedp.CSS("#comment"), "First version #123"), submit, on("result"))
	w.body("queued", "export pipeline")
	link, err := chromedp.Run(w.ctx, chromedp.AttributeValue(chromedp.CSS(`main a`), "href"))
	if err != nil || !strings.Contains(link.Value, "_build/results?buildId=") {
		t.Fatalf("run link %+v, %v", link, err)
	}
	bs := r.ado.Builds()
	if len(bs) != 1 || bs[0].TemplateParameters["commitMessage"] != "First version #123" {
		t.Fatalf("runs: %+v", bs)
	}

	w.run("history while running", chromedp.Navigate(base+"/solutions/"+sol+"/history"), loaded)
	w.body("running", "looks again every")
	r.exportAsThePipeline(t, sol, sol, "First version #123")
	r.ado.SetRun(bs[0].ID, "completed", "succeeded")
	w.within(15*time.Second, "succeeded") // the page refreshes itself: nobody navigates

	w.run("deploy test", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="test"]`)), chromedp.Click(chromedp.CSS(`input[name=upgrade]`)), submit, on("result"))
	w.run("deploy prod", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="prod"]`)), submit, on("result"))
	w.body("queued", "deployment pipeline deploy-prod")
	w.run("history", chromedp.Navigate(base+"/solutions/"+sol+"/history"), loaded, shot("9-history-azure-devops"))
	w.body("pull request #100 open, labelled solution-upgrade", "run ", "succeeded", "running")
	if bs := r.ado.Builds(); len(bs) != 2 || bs[1].TemplateParameters["environment"] != "prod" {
		t.Fatalf("runs: %+v", bs)
	}
}
