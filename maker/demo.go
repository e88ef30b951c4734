package maker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/entra/entratest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// Demo is what `ppalm maker --demo` runs beside the app: the Dataverse
// emulator (dev seeded, test and prod empty), a git server on loopback and
// the GitHub fake standing in for the repository host.
type Demo struct {
	Emulator *emulator.Emulator
	EmuURL   string
	Git      *githttp.Server
	RepoURL  string
	GitHub   *devopstest.GitHub
	// Entra is the Entra stand-in of team mode (Demo.Team); nil before.
	Entra   *entratest.Server
	Options Options
	stops   []func()
	dir     string
}

// DemoProfile is the profile the demo repository starts with: test through a
// pull request, prod through an environment approval.
const DemoProfile = "Contoso ALM"

// StartDemo starts the demo's services; Close stops them.
func StartDemo(ctx context.Context) (*Demo, error) {
	d := &Demo{}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	emu, err := emulator.New(emulator.Options{
		Environments: []string{"dev", "test", "prod"},
		SeedZips:     map[string][][]byte{"dev": {fixtures.DemoSolution}},
		AsyncPolls:   1,
	})
	if err != nil {
		return nil, err
	}
	d.Emulator = emu
	if d.EmuURL, err = d.serve(emu.Handler()); err != nil {
		return nil, err
	}
	if d.dir, err = os.MkdirTemp("", "ppalm-maker-demo-"); err != nil {
		return nil, err
	}
	token := randomHex()
	d.Git = githttp.NewServer(filepath.Join(d.dir, "git"), githttp.WithBasicAuth("maker", token))
	if _, err := d.Git.InitBare("alm.git", "main"); err != nil {
		return nil, err
	}
	gitURL, err := d.serve(d.Git.Handler())
	if err != nil {
		return nil, err
	}
	d.RepoURL = strings.Replace(gitURL, "http://", "http://maker@", 1) + "/alm.git"
	d.GitHub = devopstest.StartGitHub()
	d.stops = append(d.stops, d.GitHub.Close)

	var envs []Environment
	for _, name := range []string{"dev", "test", "prod"} {
		c, err := dataverse.New(d.EmuURL+"/"+name, dataverse.WithPowerAppsURL(d.EmuURL+"/powerapps"),
			dataverse.WithGraphURL(d.EmuURL+"/graph"), dataverse.WithPollInterval(20*time.Millisecond))
		if err != nil {
			return nil, err
		}
		envs = append(envs, Environment{Name: name, URL: d.EmuURL + "/" + name, Client: c})
	}
	maker := gitops.Signature{Name: emulator.Maker.Name, Email: emulator.Maker.Email}
	profiles := fmt.Sprintf(`admins:
  - %s
  - group: %s
    name: %s
profiles:
  - name: %s
    host: github
    repository: %s
    targetBranch: main
    exportPipeline: export-solution-to-git.yml
    steps:
      - environment: test
        url: %s/test
        approval: pull-request
        pipeline: deploy-test.yml
      - environment: prod
        url: %s/prod
        approval: environment
        pipeline: deploy-prod.yml
    makers:
      - group: %s
        name: %s
    advanced: [%s]
  - name: Finance only
    host: local
    steps:
      - environment: prod
        url: %s/prod
        approval: environment
    makers: [finance.lead@contoso.example]
`, maker.Email, emulator.Groups[2].ID, emulator.Groups[2].DisplayName,
		DemoProfile, d.GitHub.Repository(), d.EmuURL, d.EmuURL, emulator.Groups[1].ID, emulator.Groups[1].DisplayName, maker.Email, d.EmuURL)
	seed := filepath.Join(d.dir, "seed")
	if err := os.MkdirAll(seed, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte(profiles), 0o644); err != nil {
		return nil, err
	}
	if _, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: d.RepoURL, Branch: "main", Base: "main", Folder: seed, Path: ".ppalm",
		Message: "The team's deployment profiles", Author: maker, Push: true, Token: token}); err != nil {
		return nil, fmt.Errorf("seed the profiles: %w", err)
	}
	gh := d.GitHub
	repoHost := func(ctx context.Context, p Profile) (*devops.Client, error) {
		return devops.New(ctx, devops.Config{Host: devops.HostGitHub, Repository: p.Repository, Token: gh.Token, GitHubAPIURL: gh.APIURL()})
	}
	// Prod has a second SharePoint connection, Casey Admin's, so Configure
	// has a choice to offer there.
	if _, err := emu.AddConnection("prod", "/providers/Microsoft.PowerApps/apis/shared_sharepointonline", emulator.Admin.Email, emulator.ServicePrincipal.Email); err != nil {
		return nil, err
	}
	// The team's values for test and prod, as an administrator would have
	// set them: the GitHub environments' variables (Configure
	// Deployment Settings changes them).
	host, err := repoHost(ctx, Profile{Repository: gh.Repository()})
	if err != nil {
		return nil, err
	}
	sol, err := solution.Read(fixtures.DemoSolution)
	if err != nil {
		return nil, err
	}
	for _, e := range envs[1:] {
		vals, err := demoVariables(ctx, e.Client, e.Name, sol)
		if err != nil {
			return nil, err
		}
		var vars []devops.PipelineVariable
		for name, v := range vals {
			if v != "" {
				vars = append(vars, devops.PipelineVariable{Name: name, Value: v})
			}
		}
		if err := host.SetEnvironmentVariables(ctx, e.Name, vars); err != nil {
			return nil, fmt.Errorf("seed the %s variables: %w", e.Name, err)
		}
	}
	d.Options = Options{
		Environments: envs, Repo: d.RepoURL, Token: token, DefaultBranch: "main", Maker: maker,
		// The demo's maker is Alex, in Contoso Makers (the emulator's
		// directory says so; no sign-in to ask Graph with).
		MakerObjectID: emulator.Maker.ObjectID,
		Groups:        func(context.Context) ([]string, error) { return emulator.MemberGroupsOf(emulator.Maker.ObjectID), nil },
		RunsPipelines: true,
		RepoHost:      repoHost,
		// The GitHub stand-in hosts the demo repository's pull requests,
		// an admin's change to the profiles among them.
		RepositoryHost: func(ctx context.Context) (*devops.Client, error) {
			return devops.New(ctx, devops.Config{Host: devops.HostGitHub, Repository: gh.Repository(), Token: gh.Token, GitHubAPIURL: gh.APIURL()})
		},
		Variables: func(ctx context.Context, env string, sol *solution.Solution) (settings.LookupFunc, error) {
			if env == "test" || env == "prod" {
				return githubJobVariables(ctx, host, gh, env)
			}
			for _, e := range envs {
				if e.Name == env {
					vars, err := demoVariables(ctx, e.Client, env, sol)
					return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }, err
				}
			}
			return nil, fmt.Errorf("no environment %s", env)
		},
		LocalVariables: openLocalVariables(func() (string, error) { return filepath.Join(d.dir, "local-variables.json"), nil }),
	}
	ok = true
	return d, nil
}

// Close stops the demo's services and removes its files.
func (d *Demo) Close() {
	for i := len(d.stops) - 1; i >= 0; i-- {
		d.stops[i]()
	}
	d.stops = nil
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

func (d *Demo) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "ppalm maker demo:", err)
		}
	}()
	d.stops = append(d.stops, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// githubJobVariables are the values a GitHub deployment job on environment
// env reads: the reusable workflow passes ${{ toJSON(vars) }} and
// ${{ toJSON(secrets) }} as PPALM_VARIABLES and PPALM_SECRETS, the
// environment's variables and (opened) secrets. Here the GitHub stand-in
// opens the secrets, as the runner does.
func githubJobVariables(ctx context.Context, host *devops.Client, gh *devopstest.GitHub, env string) (settings.LookupFunc, error) {
	stored, err := host.EnvironmentVariables(ctx, env)
	if err != nil {
		return nil, err
	}
	vars, secrets := map[string]string{}, map[string]string{}
	for _, v := range stored {
		if v.Secret {
			secrets[v.Name], _ = gh.EnvironmentSecret(env, v.Name)
		} else {
			vars[v.Name] = v.Value
		}
	}
	vj, err := json.Marshal(vars)
	if err != nil {
		return nil, err
	}
	sj, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	job := map[string]string{"GITHUB_ACTIONS": "true", "PPALM_VARIABLES": string(vj), "PPALM_SECRETS": string(sj)}
	return settings.NewVariables(func(k string) string { return job[k] }, nil).Lookup, nil
}

// demoVariables are the values the demo starts with: a connection for each
// reference, a site per environment, flows on, owned by Bea Owner, the app
// shared with Contoso Sales. Test's and prod's are the GitHub
// environments' variables at start (Configure Deployment Settings changes
// them); dev's (an import with a configuration) are computed.
func demoVariables(ctx context.Context, c *dataverse.Client, env string, sol *solution.Solution) (map[string]string, error) {
	envID, err := c.EnvironmentID(ctx)
	if err != nil {
		return nil, err
	}
	conns, err := c.ListConnections(ctx, envID)
	if err != nil {
		return nil, err
	}
	v := map[string]string{}
	for _, ref := range sol.ConnectionReferences {
		for _, conn := range conns {
			if strings.EqualFold(conn.ConnectorID, ref.ConnectorID) {
				v["connectionreference."+ref.LogicalName] = conn.Name
				v["connectionreference.user."+ref.LogicalName] = emulator.Maker.Email
				break
			}
		}
	}
	site := emulator.SharePointSites[0].URL // Sales
	if env == "prod" {
		site = emulator.SharePointSites[1].URL // Operations
	}
	for _, ev := range sol.EnvironmentVariables {
		if ev.Type == solution.TypeDataSource {
			v["environmentvariable."+ev.SchemaName] = site
		}
	}
	for i, fl := range sol.CloudFlows() {
		key := fl.Name + "." + fl.ID
		v["activateflow.order."+key] = fmt.Sprint(i + 1)
		v["activateflow.activate."+key] = "true"
		v["owner.ownerEmail."+key] = emulator.FlowOwner.Email
		v["flow.sharing."+key] = "" // no group team in the demo: the flows are not shared
	}
	for _, app := range sol.CanvasApps {
		v["canvasowner.ownerEmail."+app.Name] = emulator.FlowOwner.Email
		v["canvasshare.aadGroupId."+app.Name] = emulator.Groups[0].ID
		v["canvasshare.roleName."+app.Name] = "CanView"
	}
	return v, nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
