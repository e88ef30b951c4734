package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

func init() { register("demo", newDemoCmd) }

type demoOptions struct {
	dir   string
	serve bool
}

func newDemoCmd(f *Factory) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use: "demo",
		Example: `  ppalm demo
  # keep the emulator and the git server running afterwards, the files in ./ppalm-demo
  ppalm demo --dir ./ppalm-demo --serve`,
		Short: "Run the whole ALM flow end to end on the built-in Dataverse emulator (no account needed)",
		Long: "demo starts the Dataverse emulator (dev seeded with a real solution, test and prod empty) and a\n" +
			"git server on loopback, then runs what a team's pipelines run: commit the solution from dev to\n" +
			"git, build it, deploy it to test with its settings and configuration, deploy it to prod, and\n" +
			"upgrade prod with a new build. It prints what each step did and where to look.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.dir, "dir", "", "folder for the demo's repository and build output (default: a new temporary folder, kept)")
	cmd.Flags().BoolVar(&o.serve, "serve", false, "keep the emulator and the git server running after the demo, until interrupted")
	return cmd
}

// demo holds the running services and what the stages hand on.
type demo struct {
	f        *Factory
	out      io.Writer
	dir      string
	emuURL   string
	repoURL  string
	token    string
	clients  map[string]*dataverse.Client
	emu      *emulator.Emulator
	vars     map[string]string // the pipeline variables a team would keep in a variable group
	clock    func() time.Time
	buildNum int
	stageNum int
}

func runDemo(ctx context.Context, f *Factory, o *demoOptions) error {
	started := time.Now()
	out := f.Stdout
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "ppalm-demo-")
		if err != nil {
			return err
		}
		dir = d
	} else {
		cleared, err := clearPreviousDemo(dir)
		if err != nil {
			return err
		}
		if len(cleared) > 0 {
			f.reporter().Info(fmt.Sprintf("starting afresh in %s: removed what the previous demo left there (%s)", dir, strings.Join(cleared, ", ")))
		}
	}
	d := &demo{f: f, out: out, dir: dir, clients: map[string]*dataverse.Client{}, clock: time.Now}

	// Services on loopback: the emulator and a git server with basic auth.
	emu, err := emulator.New(emulator.Options{
		Environments: []string{"dev", "test", "prod"},
		SeedZips:     map[string][][]byte{"dev": {fixtures.DemoSolution}},
		AsyncPolls:   1,
	})
	if err != nil {
		return err
	}
	d.emu = emu
	emuURL, stopEmu, err := serveLoopback(emu.Handler())
	if err != nil {
		return err
	}
	defer stopEmu()
	d.emuURL = emuURL
	d.token = randomToken()
	f.reporter().SetSecret(d.token)
	gitRoot := filepath.Join(dir, "git")
	gs := githttp.NewServer(gitRoot, githttp.WithBasicAuth("maker", d.token))
	if _, err := gs.InitBare("alm.git", "main"); err != nil {
		return err
	}
	gitURL, stopGit, err := serveLoopback(gs.Handler())
	if err != nil {
		return err
	}
	defer stopGit()
	d.repoURL = strings.Replace(gitURL, "http://", "http://maker@", 1) + "/alm.git"
	for _, env := range []string{"dev", "test", "prod"} {
		c, err := dataverse.New(emuURL+"/"+env, dataverse.WithPowerAppsURL(emuURL+"/powerapps"),
			dataverse.WithGraphURL(emuURL+"/graph"), dataverse.WithPollInterval(20*time.Millisecond))
		if err != nil {
			return err
		}
		d.clients[env] = c
	}

	fmt.Fprintf(out, "ppalm demo: the ALM flow for solution %s, end to end, on the built-in Dataverse emulator\n\n", fixtures.DemoSolutionName)
	fmt.Fprintf(out, "  Dataverse emulator  %s  (environments dev, test, prod; dev holds %s)\n", emuURL, fixtures.DemoSolutionName)
	fmt.Fprintf(out, "  git server          %s  (an empty repository: step 1 pushes its first branch)\n", gitURL+"/alm.git")
	fmt.Fprintf(out, "  work folder         %s\n", dir)

	src, err := d.commitSolution(ctx)
	if err != nil {
		return err
	}
	zip, config, err := d.build(ctx, src)
	if err != nil {
		return err
	}
	if err := d.deploy(ctx, "test", zip, config, false); err != nil {
		return err
	}
	if err := d.deploy(ctx, "prod", zip, config, false); err != nil {
		return err
	}
	zip2, config2, err := d.build(ctx, src)
	if err != nil {
		return err
	}
	if err := d.deploy(ctx, "prod", zip2, config2, true); err != nil {
		return err
	}
	if err := d.summary(ctx, started); err != nil {
		return err
	}
	if o.serve {
		fmt.Fprintf(out, "\nServing until interrupted (Ctrl-C). Try:\n  ppalm solution list --environment %s/prod\n  git clone --branch %s %s\n", emuURL, fixtures.DemoSolutionName, strings.Replace(gitURL, "http://", "http://maker@", 1)+"/alm.git")
		<-ctx.Done()
	}
	return nil
}

// stage prints a numbered heading and runs a pipeline on a fresh step
// context, then prints the step report. The step log goes to the report
// only when a step failed.
func (d *demo) stage(ctx context.Context, title string, c *steps.Context, pipeline []steps.Step) error {
	d.stageNum++
	fmt.Fprintf(d.out, "\n%d. %s\n", d.stageNum, title)
	var log strings.Builder
	r := task.NewTerminal(&log, false)
	r.SetSecret(d.token)
	c.Reporter, c.Getenv, c.Now = r, d.getenv, d.clock
	start := time.Now()
	err := steps.Runner{Reporter: r}.Run(ctx, c, pipeline)
	fmt.Fprint(d.out, steps.ReportWith(c.Outcomes, d.f.palette()))
	if err != nil {
		fmt.Fprintf(d.out, "\nThe step log:\n%s", log.String())
		return fmt.Errorf("demo stage %q: %w", title, err)
	}
	fmt.Fprintf(d.out, "     (%s)\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// getenv is what the pipeline's variable group would hold.
func (d *demo) getenv(name string) string { return d.vars[name] }

func (d *demo) commitSolution(ctx context.Context) (string, error) {
	src := &steps.Source{
		Dataverse: d.clients["dev"], Solution: fixtures.DemoSolutionName, Publish: true, WorkDir: filepath.Join(d.dir, "export"),
		Repo: d.repoURL, Branch: fixtures.DemoSolutionName, Base: "main", Token: d.token,
		Author:  gitops.Signature{Name: emulator.Maker.Name, Email: emulator.Maker.Email},
		Message: "Follow sites: first version #1", Push: true,
		Environments: []string{"test", "prod"}, DropEnvironmentVariableValues: true,
	}
	title := fmt.Sprintf("Commit solution: export %s from dev, unpack it, push it to branch %s", src.Solution, src.Branch)
	if err := d.stage(ctx, title, &steps.Context{Source: src}, steps.ExportToGitPipeline()); err != nil {
		return "", err
	}
	return src.Branch, nil
}

// build checks the branch out as a pipeline would, stamps the next build
// number and packs the zips. It returns the managed zip and the config
// folder that travels with it.
func (d *demo) build(ctx context.Context, branch string) (zip, config string, err error) {
	d.buildNum++
	version := fmt.Sprintf("1.0.%s.%d", d.clock().Format("20060102"), d.buildNum)
	root := filepath.Join(d.dir, fmt.Sprintf("build-%d", d.buildNum))
	checkout := filepath.Join(root, "source")
	if err := os.RemoveAll(root); err != nil {
		return "", "", err
	}
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: d.repoURL, Ref: branch, Path: fixtures.DemoSolutionName, Dest: checkout, Token: d.token}); err != nil {
		return "", "", err
	}
	b := &steps.Build{Folder: filepath.Join(checkout, filepath.FromSlash(steps.SourceFolder)), Version: version, OutDir: filepath.Join(root, "drop")}
	title := fmt.Sprintf("Build: check out branch %s, stamp version %s, pack", branch, version)
	if err := d.stage(ctx, title, &steps.Context{Build: b}, steps.BuildPipeline()); err != nil {
		return "", "", err
	}
	return b.ManagedZip, filepath.Join(checkout, steps.ConfigFolder), nil
}

// deploy imports the managed zip into env with that environment's settings
// and configures it, as the build-deploy pipeline's deployment job does.
func (d *demo) deploy(ctx context.Context, env, zip, config string, upgrade bool) error {
	sol, err := solution.ReadFile(zip)
	if err != nil {
		return err
	}
	if err := d.pipelineVariables(ctx, env, sol, upgrade); err != nil {
		return err
	}
	loc, err := settings.Locate(config, env)
	if err != nil {
		return err
	}
	ds, cds, _, err := steps.LoadSettings(loc.DeploymentSettings, loc.CustomDeploymentSettings, func(name string) (string, bool) {
		v, ok := d.vars[name]
		return v, ok
	})
	if err != nil {
		return err
	}
	// The team a profile adds by hand: the sales group, as a Dataverse team.
	cds.AadGroupTeamConfiguration = append(cds.AadGroupTeamConfiguration, settings.GroupTeam{
		AadGroupTeamName: emulator.Groups[0].DisplayName, AadSecurityGroupID: emulator.Groups[0].ID,
		DataverseSecurityRoleNames: []string{"Basic User"},
	})
	c := &steps.Context{
		Dataverse: d.clients[env], ZipFile: zip, Solution: sol, Deployment: ds, Custom: cds,
		Upgrade: steps.UpgradeAuto,
		UpgradeRequested: func(ctx context.Context) (bool, string, error) {
			return devops.UpgradeRequested(ctx, d.getenv)
		},
	}
	title := fmt.Sprintf("Deploy %s %s to %s: import with settings, then teams, sharing, owners, flows", sol.UniqueName, sol.Version, env)
	if upgrade {
		title = fmt.Sprintf("Upgrade %s in %s to %s: the pull request carries the solution-upgrade label", sol.UniqueName, env, sol.Version)
	}
	return d.stage(ctx, title, c, steps.DeployPipeline())
}

// pipelineVariables fills what a team keeps in the environment's variable
// group: the connection to bind, the site the flows use, flow order and
// owners, the group the app is shared with.
func (d *demo) pipelineVariables(ctx context.Context, env string, sol *solution.Solution, upgrade bool) error {
	c := d.clients[env]
	envID, err := c.EnvironmentID(ctx)
	if err != nil {
		return err
	}
	conns, err := c.ListConnections(ctx, envID)
	if err != nil {
		return err
	}
	v := map[string]string{"TriggerSolutionUpgrade": fmt.Sprint(upgrade)}
	for _, ref := range sol.ConnectionReferences {
		found := false
		for _, conn := range conns {
			if strings.EqualFold(conn.ConnectorID, ref.ConnectorID) {
				v["connectionreference."+ref.LogicalName] = conn.Name
				v["connectionreference.user."+ref.LogicalName] = emulator.Maker.Email
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s has no connection for %s", env, ref.ConnectorID)
		}
	}
	for _, ev := range sol.EnvironmentVariables {
		v["environmentvariable."+ev.SchemaName] = "https://contoso.sharepoint.com/sites/" + env
	}
	for i, fl := range sol.CloudFlows() {
		key := fl.Name + "." + fl.ID
		v["activateflow.order."+key] = fmt.Sprint(i + 1)
		v["activateflow.activate."+key] = "true"
		// The flows belong to a business owner; they are still switched on
		// as the maker who owns their connections.
		v["owner.ownerEmail."+key] = emulator.FlowOwner.Email
		v["flow.sharing."+key] = emulator.Groups[0].DisplayName
	}
	for _, app := range sol.CanvasApps {
		v["canvasowner.ownerEmail."+app.Name] = emulator.FlowOwner.Email
		v["canvasshare.aadGroupId."+app.Name] = emulator.Groups[0].ID
		v["canvasshare.roleName."+app.Name] = "CanView"
	}
	d.vars = v
	return nil
}

// summary prints the state of test and prod and where to look.
func (d *demo) summary(ctx context.Context, started time.Time) error {
	fmt.Fprintf(d.out, "\nWhere things are now\n")
	for _, env := range []string{"test", "prod"} {
		c := d.clients[env]
		s, err := c.GetSolution(ctx, fixtures.DemoSolutionName)
		if err != nil {
			return err
		}
		flows, err := c.ListSolutionFlows(ctx, s.ID)
		if err != nil {
			return err
		}
		on := 0
		for _, fl := range flows {
			if fl.StateCode == 1 {
				on++
			}
		}
		fmt.Fprintf(d.out, "  %-5s %s %s (managed: %v), %d of %d cloud flows on\n", env, s.UniqueName, s.Version, s.IsManaged, on, len(flows))
	}
	stats := d.emu.Stats()
	fmt.Fprintf(d.out, "  The emulator answered %d requests.\n", stats.Total)
	fmt.Fprintf(d.out, "\nWhere to look\n")
	fmt.Fprintf(d.out, "  the repository      git clone --branch %s %s\n", fixtures.DemoSolutionName, filepath.Join(d.dir, "git", "alm.git"))
	fmt.Fprintf(d.out, "  the unpacked source %s/SolutionPackage/src on branch %s\n", fixtures.DemoSolutionName, fixtures.DemoSolutionName)
	fmt.Fprintf(d.out, "  the settings        %s/config/{test,prod}/ on the same branch\n", fixtures.DemoSolutionName)
	fmt.Fprintf(d.out, "  the build output    %s\n", filepath.Join(d.dir, "build-*", "drop"))
	fmt.Fprintf(d.out, "  the emulator        ppalm demo --serve keeps it running; ppalm emulator runs it alone\n")
	fmt.Fprintf(d.out, "\nDone in %s.\n", time.Since(started).Round(10*time.Millisecond))
	return nil
}

// isDemoEntry says whether name is a folder a demo writes into its --dir.
func isDemoEntry(name string) bool {
	if name == "git" || name == "export" {
		return true
	}
	if n, ok := strings.CutPrefix(name, "build-"); ok {
		for _, r := range n {
			if r < '0' || r > '9' {
				return false
			}
		}
		return n != ""
	}
	return false
}

// clearPreviousDemo makes dir ready for a demo: created when missing, and
// emptied of what an earlier demo wrote there (git/, export/, build-N/),
// so `ppalm demo --dir X` runs again. Anything else in dir is left alone.
func clearPreviousDemo(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var cleared []string
	for _, e := range entries {
		if !e.IsDir() || !isDemoEntry(e.Name()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return cleared, fmt.Errorf("clear the previous demo in %s: %w", dir, err)
		}
		cleared = append(cleared, e.Name()+"/")
	}
	return cleared, nil
}

// serveLoopback serves h on a free loopback port until stop is called.
func serveLoopback(h http.Handler) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "ppalm demo: server:", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// randomToken is the demo git server's password: a fresh secret per run.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
