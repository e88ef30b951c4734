package maker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttpauth "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/gitops/githttp"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

// signedIn stands in for azidentity's credential of a signed-in maker: it
// hands out an Entra-shaped access token (a JWT whose oid, upn and name
// claims are emulator.Maker's) and records the scopes asked for.
type signedIn struct {
	token  string
	mu     sync.Mutex
	scopes []string
}

func newSignedIn() *signedIn {
	claims, _ := json.Marshal(map[string]string{"oid": emulator.Maker.ObjectID, "upn": emulator.Maker.Email, "name": emulator.Maker.Name,
		"tid": emulator.TenantID, "aud": "https://dev.crm.dynamics.com"})
	enc := base64.RawURLEncoding.EncodeToString
	return &signedIn{token: enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc(claims) + "." + enc([]byte("not-checked-signature"))}
}

func (c *signedIn) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, o.Scopes...)
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// rig is local mode against everything a maker's machine talks to, on
// loopback: the emulator (dev seeded), a git server, an Azure DevOps
// organization and a GitHub repository, with the team's profiles committed.
type rig struct {
	emu      *emulator.Emulator
	emuURL   string
	git      *githttp.Server
	repoURL  string
	gitToken string
	ado      *devopstest.AzureDevOps
	gh       *devopstest.GitHub
	cred     *signedIn
	opts     Options
	app      *Server
	base     string
}

const (
	adoProfile = "Contoso on Azure DevOps"
	ghProfile  = "Contoso on GitHub"
)

func serveLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{cred: newSignedIn(), gitToken: "git-token-s3cret-for-the-maker"}
	emu, err := emulator.New(emulator.Options{Environments: []string{"dev", "test", "prod"},
		SeedZips: map[string][][]byte{"dev": {fixtures.DemoSolution}}, AsyncPolls: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.emu, r.emuURL = emu, serveLoopback(t, emu.Handler())
	r.git = githttp.NewServer(filepath.Join(t.TempDir(), "git"), githttp.WithBasicAuth("maker", r.gitToken))
	if _, err := r.git.InitBare("alm.git", "main"); err != nil {
		t.Fatal(err)
	}
	// The git server knows the maker by user name, written in the URL.
	r.repoURL = strings.Replace(serveLoopback(t, r.git.Handler()), "http://", "http://maker@", 1) + "/alm.git"

	r.ado = devopstest.NewAzureDevOps(t)
	r.ado.EntraToken = r.cred.token
	r.ado.AddPipeline(devopstest.AzurePipeline{ID: 12, Name: "export-solution-to-git", Folder: `\ALM`, Parameters: []devopstest.AzureParameter{
		{Name: "solutionName", Required: true}, {Name: "commitMessage", Required: true}, {Name: "branch"}}})
	r.ado.AddPipeline(devopstest.AzurePipeline{ID: 13, Name: "deploy-prod", Parameters: []devopstest.AzureParameter{
		{Name: "solutionName", Required: true}, {Name: "environment"}, {Name: "upgrade"}}})
	r.gh = devopstest.NewGitHub(t)
	r.gh.AddWorkflow(devopstest.GitHubWorkflow{File: "export.yml", Name: "Export solution", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
		"solution-name": {Required: true}, "commit-message": {Required: true}, "branch": {Default: "main"}}})
	r.gh.AddWorkflow(devopstest.GitHubWorkflow{File: "deploy-prod.yml", Name: "Deploy to prod", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
		"solution-name": {Required: true}, "environment": {}, "upgrade": {}}})

	profiles := fmt.Sprintf(`profiles:
  - name: %s
    host: azure-devops
    organization: %s
    project: %s
    repository: %s
    exportPipeline: ALM\export-solution-to-git
    steps:
      - {environment: test, url: %s/test, approval: pull-request}
      - {environment: prod, url: %s/prod, approval: environment, pipeline: deploy-prod}
    advanced: [%s]
  - name: %s
    host: github
    repository: %s
    branch: "{maker}/{solution}"
    exportPipeline: export.yml
    steps:
      - {environment: test, url: %s/test, approval: pull-request}
      - {environment: prod, url: %s/prod, approval: environment, pipeline: deploy-prod.yml}
  - name: Finance only
    host: local
    steps:
      - {environment: prod, url: %s/prod, approval: environment}
    makers: [finance.lead@contoso.example]
`, adoProfile, r.ado.OrganizationURL(), r.ado.Project, r.ado.Repository, r.emuURL, r.emuURL, emulator.Maker.Email,
		ghProfile, r.gh.Repository(), r.emuURL, r.emuURL, r.emuURL)
	seed := t.TempDir()
	if err := os.WriteFile(filepath.Join(seed, "profiles.yaml"), []byte(profiles), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := gitops.Signature{Name: "Casey Admin", Email: emulator.Admin.Email}
	if _, err := gitops.Commit(context.Background(), gitops.CommitOptions{Repo: r.repoURL, Branch: "main", Base: "main", Folder: seed,
		Path: ".ppalm", Message: "The team's profiles", Author: admin, Push: true, Token: r.gitToken}); err != nil {
		t.Fatal(err)
	}

	r.opts, err = Local(context.Background(), LocalOptions{
		Repo: r.repoURL, Credential: r.cred,
		Environments: map[string]string{"dev": r.emuURL + "/dev"},
		GitToken:     func(context.Context) (string, error) { return r.gitToken, nil },
		GitHubToken:  func(context.Context) (string, error) { return r.gh.Token, nil },
		GitHubAPIURL: r.gh.APIURL(),
		Getenv:       func(string) string { return "" },
		DataverseOptions: []dataverse.Option{dataverse.WithPowerAppsURL(r.emuURL + "/powerapps"), dataverse.WithGraphURL(r.emuURL + "/graph"),
			dataverse.WithPollInterval(20 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(ln.Addr().String(), r.opts)
	if err != nil {
		t.Fatal(err)
	}
	app.refresh = 2 // the browser test watches a page refresh itself
	r.app = app
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.base = "http://" + ln.Addr().String()
	return r
}

// exportAsThePipeline does what the export pipeline the app queued does on
// its agent: export-to-git with the run's parameters (as the pipeline's own
// identity, the emulator's service principal).
func (r *rig) exportAsThePipeline(t *testing.T, solution, branch, message string) {
	t.Helper()
	c, err := dataverse.New(r.emuURL+"/dev", dataverse.WithPowerAppsURL(r.emuURL+"/powerapps"), dataverse.WithGraphURL(r.emuURL+"/graph"),
		dataverse.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	src := &steps.Source{Dataverse: c, Solution: solution, Publish: true, Repo: r.repoURL, Branch: branch, Base: "main", Token: r.gitToken,
		Author: gitops.Signature{Name: "Build Service", Email: "build@contoso.example"}, Message: message, Push: true,
		Environments: []string{"test", "prod"}, DropEnvironmentVariableValues: true}
	if _, err := steps.ExportToGit(context.Background(), steps.Services{Reporter: task.NewTerminal(&log, false), Getenv: func(string) string { return "" }}, src); err != nil {
		t.Fatalf("the export pipeline: %v\n%s", err, log.String())
	}
}

// branches lists the git server's branches and their commits' messages.
func branches(t *testing.T, repoURL, token string) map[string]string {
	t.Helper()
	rem := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: "origin", URLs: []string{strings.Replace(repoURL, "maker@", "", 1)}})
	refs, err := rem.List(&git.ListOptions{Auth: basicAuth(token)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ref := range refs {
		if ref.Name().IsBranch() {
			out[ref.Name().Short()] = ref.Hash().String()
		}
	}
	return out
}

// headCommit clones branch and returns its newest commit.
func headCommit(t *testing.T, repoURL, token, branch string) (message, author string, files int) {
	t.Helper()
	repo, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: strings.Replace(repoURL, "maker@", "", 1), Auth: basicAuth(token),
		ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true, Depth: 1})
	if err != nil {
		t.Fatalf("clone %s: %v", branch, err)
	}
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := c.Tree()
	_ = tree.Files().ForEach(func(*object.File) error { files++; return nil })
	return c.Message, c.Author.Email, files
}

func basicAuth(token string) *githttpauth.BasicAuth {
	return &githttpauth.BasicAuth{Username: "maker", Password: token}
}
