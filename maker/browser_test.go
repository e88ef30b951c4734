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

// TestBrowserSeedFlow walks the seed flow in headless Chromium on --demo:
// pick the environment, choose a profile, commit with #123, deploy to test
// by pull request with the upgrade label and to prod by environment
// approval, delete, import from the branch, and read the history; then
// checks git, the GitHub stand-in and the emulator.
func TestBrowserSeedFlow(t *testing.T) {
	ctx := browserContext(t)
	d, base := app(t)
	sol := fixtures.DemoSolutionName
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	body := func(wants ...string) {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Fatalf("want %q in:\n%s", w, text)
			}
		}
	}
	submit := chromedp.Click(chromedp.CSS(`main button[type=submit]`))
	loaded := chromedp.WaitVisible(chromedp.CSS("main h1"))
	on := func(page string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`main[data-page="` + page + `"]`))
	}

	run("choose environment", chromedp.Navigate(base+"/"), loaded, shot("1-environment"),
		chromedp.Click(chromedp.CSS(`input[value="dev"]`)), submit, on("solutions"))
	body("Unmanaged solutions in dev", sol)
	run("profile", chromedp.Navigate(base+"/solutions/"+sol+"/profile"), loaded,
		chromedp.Click(chromedp.CSS(`input[name=profile]`)), shot("3-profile"), submit, on("solutions"))
	body(DemoProfile)

	// Bad input first: an empty comment and a branch git refuses.
	run("bad commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded,
		chromedp.Click(chromedp.CSS("summary")),
		chromedp.SetValue(chromedp.CSS("#branch"), "no spaces allowed"), submit, chromedp.WaitVisible(chromedp.CSS("#comment-error")))
	body("Enter a comment", "not a branch name git accepts")
	run("commit", chromedp.Navigate(base+"/solutions/"+sol+"/commit"), loaded, chromedp.Click(chromedp.CSS("summary")),
		chromedp.SendKeys(chromedp.CSS("#comment"), "First version #123"), shot("4-commit"), submit,
		on("result"))
	body("succeeded", "#123")

	run("deploy test", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="test"]`)), chromedp.Click(chromedp.CSS(`input[name=upgrade]`)),
		shot("5-deploy"), submit, on("result"))
	body("succeeded", "pull request #1", "labelled solution-upgrade", "deployed to test")
	run("deploy prod", chromedp.Navigate(base+"/solutions/"+sol+"/deploy"), loaded,
		chromedp.Click(chromedp.CSS(`input[value="prod"]`)), submit, on("result"))
	body("succeeded", "deployed branch "+sol+" to prod")
	run("list", chromedp.Navigate(base+"/"), loaded, shot("2-solutions"))

	run("delete", chromedp.Navigate(base+"/solutions/"+sol+"/delete"), loaded,
		chromedp.SendKeys(chromedp.CSS("#confirm"), sol), shot("6-delete"), submit, on("result"))
	body("deleted " + sol + " from dev")
	run("import", chromedp.Navigate(base+"/import"), loaded,
		chromedp.SetValue(chromedp.CSS("#profile"), DemoProfile),
		chromedp.SendKeys(chromedp.CSS("#branch"), sol), chromedp.SendKeys(chromedp.CSS("#folder"), sol),
		shot("7-import"), submit, on("result"))
	body("imported " + sol)
	run("history", chromedp.Navigate(base+"/solutions/"+sol+"/history"), loaded, shot("8-history"))
	body("import", "delete", "deploy", "commit", "pull request #1")

	pulls := d.GitHub.Pulls()
	if len(pulls) != 1 || !contains(pulls[0].Labels, devops.UpgradeLabel) {
		t.Fatalf("pull requests: %+v", pulls)
	}
	for env, managed := range map[string]bool{"test": true, "prod": true, "dev": false} {
		got, err := findEnv(d, env).Client.GetSolution(context.Background(), sol)
		if err != nil || got.IsManaged != managed {
			t.Fatalf("%s: %+v, %v", env, got, err)
		}
	}
}
