package maker

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"github.com/ppalm/ppalm/fixtures"
)

// TestPipelineHostsInLocalMode walks the seed's flow in local mode (signed
// in as the maker) on each pipeline host, Azure DevOps and GitHub, as the
// app calls their REST APIs: Commit queues the export pipeline with its
// parameters, the history follows the run's state until the run ends,
// Deploy to test opens the pull request with the upgrade label and its work
// item, Deploy to prod queues the deployment pipeline (which the host
// refuses while it lacks a parameter the app sends), Delete and Import run
// in the maker's environment as the maker. No token reaches a page.
func TestPipelineHostsInLocalMode(t *testing.T) {
	for _, host := range []string{HostAzureDevOps, HostGitHub} {
		t.Run(host, func(t *testing.T) {
			r := newRig(t)
			b := newClient(t, r.base)
			sol := fixtures.DemoSolutionName
			ctx := context.Background()
			profile := map[string]string{HostAzureDevOps: adoProfile, HostGitHub: ghProfile}[host]
			// The maker chooses the branch on Azure DevOps (advanced); on
			// GitHub the profile names it.
			branch := map[string]string{HostAzureDevOps: sol, HostGitHub: "alex.maker/" + sol}[host]

			// Signed in: the header names the maker; the environments are
			// the maker's and the profiles' deployment steps.
			_, page := b.get("/")
			mustContain(t, "environments", page, emulator.Maker.Email, `value="dev"`, `value="test"`, `value="prod"`)
			_, page = b.post("/environment", url.Values{"environment": {"dev"}})
			mustContain(t, "solution list", page, "Solutions in dev", sol)
			b.post("/solutions/"+sol+"/profile", url.Values{"profile": {profile}})

			// Commit: the export pipeline is queued with the parameters its
			// template declares; the app itself pushes nothing.
			before := branches(t, r.repoURL, r.gitToken)
			code, page := b.post("/solutions/"+sol+"/commit", url.Values{"comment": {"First version #123"}, "branch": {sol}, "base": {"main"}})
			if code != 200 {
				t.Fatalf("commit: %d\n%s", code, page)
			}
			mustContain(t, "commit queued", page, "queued", "Follow the run on the repository host")
			var runID int
			switch host {
			case HostAzureDevOps:
				bs := r.ado.Builds()
				want := map[string]string{"solutionName": sol, "commitMessage": "First version #123", "branch": sol}
				if len(bs) != 1 || bs[0].DefinitionID != 12 || bs[0].Branch != "refs/heads/main" || !mapsEqual(bs[0].TemplateParameters, want) {
					t.Fatalf("runs: %+v", bs)
				}
				runID = bs[0].ID
				mustContain(t, "run link", page, "_build/results?buildId=")
			case HostGitHub:
				ds := r.gh.Dispatches()
				if len(ds) != 1 || ds[0].Workflow != "export.yml" || ds[0].Ref != "main" || ds[0].Inputs["solution-name"] != sol ||
					ds[0].Inputs["commit-message"] != "First version #123" || ds[0].Inputs["branch"] != branch || len(ds[0].Inputs) != 3 {
					t.Fatalf("dispatches: %+v", ds)
				}
				runID = int(ds[0].RunID)
				mustContain(t, "run link", page, "/contoso/alm-repo/actions/runs/")
			}
			if after := branches(t, r.repoURL, r.gitToken); len(after) != len(before) || after[branch] != "" {
				t.Fatalf("the app pushed although the pipeline commits: %v -> %v", before, after)
			}

			// While it runs, the history and the list say so and refresh.
			_, page = b.get("/solutions/" + sol + "/history")
			mustContain(t, "history while running", page, `http-equiv="refresh"`, "export pipeline", emulator.Maker.Email)
			if !strings.Contains(page, ">queued<") && !strings.Contains(page, ">running<") {
				t.Fatalf("history while running:\n%s", page)
			}
			_, page = b.get("/")
			mustContain(t, "list while running", page, `http-equiv="refresh"`, "commit ")

			// The pipeline does its work, then the host says it ended.
			r.exportAsThePipeline(t, sol, branch, "First version #123")
			switch host {
			case HostAzureDevOps:
				r.ado.SetRun(runID, "completed", "succeeded")
			case HostGitHub:
				r.gh.SetRun(int64(runID), "completed", "success")
			}
			_, page = b.get("/solutions/" + sol + "/history")
			mustContain(t, "history after the run", page, ">succeeded<")
			if strings.Contains(page, `http-equiv="refresh"`) {
				t.Fatal("the history still refreshes after the run ended")
			}

			// Deploy to test: a pull request with the upgrade label and the
			// work item; the host's pipelines deploy after the merge.
			code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"test"}, "upgrade": {"on"},
				"source": {sol}, "target": {"main"}, "title": {"Deploy to test"}, "comment": {"Ready #123"}})
			if code != 200 {
				t.Fatalf("deploy test: %d\n%s", code, page)
			}
			mustContain(t, "pull request", page, "labelled solution-upgrade")
			switch host {
			case HostAzureDevOps:
				prs := r.ado.PullRequests()
				if len(prs) != 1 || prs[0].Source != "refs/heads/"+sol || prs[0].Target != "refs/heads/main" ||
					!slices.Contains(prs[0].Labels, devops.UpgradeLabel) || !slices.Equal(prs[0].WorkItemRefs, []string{"123"}) ||
					!strings.Contains(prs[0].Description, "cloud flow") {
					t.Fatalf("pull requests: %+v", prs)
				}
			case HostGitHub:
				// This profile shows the maker no advanced options: the
				// title is the app's, the comment and its work item are not
				// asked for.
				ps := r.gh.Pulls()
				if len(ps) != 1 || ps[0].Head != branch || ps[0].Base != "main" || !slices.Contains(ps[0].Labels, devops.UpgradeLabel) ||
					ps[0].Title != "Deploy "+sol+" to test" || strings.Contains(ps[0].Body, "#123") || !strings.Contains(ps[0].Body, "cloud flow") {
					t.Fatalf("pull requests: %+v", ps)
				}
			}
			if _, err := findIn(r.opts, "test").Client.GetSolution(ctx, sol); err == nil {
				t.Fatal("the app deployed to test although the host's pipelines do")
			}
			_, page = b.get("/solutions/" + sol + "/history")
			mustContain(t, "pull request open", page, " open, labelled solution-upgrade")
			switch host {
			case HostAzureDevOps:
				r.ado.CompletePullRequest(r.ado.PullRequests()[0].ID)
			case HostGitHub:
				r.gh.MergePull(1)
			}
			_, page = b.get("/solutions/" + sol + "/history")
			mustContain(t, "pull request merged", page, " merged, labelled solution-upgrade")

			// Deploy to prod: the deployment pipeline does not declare
			// "upgrade" yet, and the host refuses the run.
			switch host {
			case HostAzureDevOps:
				r.ado.AddPipeline(devopstest.AzurePipeline{ID: 13, Name: "deploy-prod", Parameters: []devopstest.AzureParameter{{Name: "solutionName", Required: true}, {Name: "environment"}}})
			case HostGitHub:
				r.gh.AddWorkflow(devopstest.GitHubWorkflow{File: "deploy-prod.yml", Name: "Deploy to prod", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{"solution-name": {Required: true}, "environment": {}}})
			}
			code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"prod"}, "source": {sol}, "target": {"main"}})
			refusal := map[string]string{HostAzureDevOps: "Unexpected parameter &#39;upgrade&#39;", HostGitHub: "Unexpected inputs provided: [&#34;upgrade&#34;]"}[host]
			if code != 502 || !strings.Contains(page, refusal) {
				t.Fatalf("deploy to a pipeline lacking a parameter: %d, want %q in\n%s", code, refusal, page)
			}
			switch host {
			case HostAzureDevOps:
				r.ado.AddPipeline(devopstest.AzurePipeline{ID: 13, Name: "deploy-prod", Parameters: []devopstest.AzureParameter{
					{Name: "solutionName", Required: true}, {Name: "environment"}, {Name: "upgrade"}}})
			case HostGitHub:
				r.gh.AddWorkflow(devopstest.GitHubWorkflow{File: "deploy-prod.yml", Name: "Deploy to prod", Dispatch: true, Inputs: map[string]devopstest.GitHubInput{
					"solution-name": {Required: true}, "environment": {}, "upgrade": {}}})
			}
			code, page = b.post("/solutions/"+sol+"/deploy", url.Values{"environment": {"prod"}, "source": {sol}, "target": {"main"}})
			if code != 200 {
				t.Fatalf("deploy prod: %d\n%s", code, page)
			}
			want := map[string]string{"solutionName": sol, "environment": "prod", "upgrade": "false"}
			switch host {
			case HostAzureDevOps:
				bs := r.ado.Builds()
				if len(bs) != 2 || bs[1].DefinitionID != 13 || bs[1].Branch != "refs/heads/"+sol || !mapsEqual(bs[1].TemplateParameters, want) {
					t.Fatalf("runs: %+v", bs)
				}
			case HostGitHub:
				ds := r.gh.Dispatches()
				if len(ds) != 2 || ds[1].Workflow != "deploy-prod.yml" || ds[1].Ref != branch || ds[1].Inputs["environment"] != "prod" || ds[1].Inputs["upgrade"] != "false" {
					t.Fatalf("dispatches: %+v", ds)
				}
			}
			if _, err := findIn(r.opts, "prod").Client.GetSolution(ctx, sol); err == nil {
				t.Fatal("the app deployed to prod although the pipeline, behind its approval, does")
			}

			// Delete and Import run in the maker's environment as the maker.
			b.post("/solutions/"+sol+"/delete", url.Values{"confirm": {sol}})
			if code, page = b.post("/import", url.Values{"profile": {profile}, "branch": {branch}, "folder": {sol}}); code != 200 {
				t.Fatalf("import: %d\n%s", code, page)
			}
			var asMaker []string
			for _, a := range r.emu.Audit() {
				if a.Environment == "dev" && (a.Action == "delete-solution" || a.Action == "import-solution") {
					if a.CallerName != emulator.Maker.Name {
						t.Fatalf("%s ran as %s, not as the signed-in maker", a.Action, a.CallerName)
					}
					asMaker = append(asMaker, a.Action)
				}
			}
			if !slices.Contains(asMaker, "delete-solution") || !slices.Contains(asMaker, "import-solution") {
				t.Fatalf("audit of dev: %v", asMaker)
			}

			// The history holds all of it, newest first, with who and when.
			_, page = b.get("/solutions/" + sol + "/history")
			for _, w := range []string{">import<", ">delete<", ">deploy<", ">commit<", "failed", "queued", emulator.Maker.Email, "UTC"} {
				mustContain(t, "final history", page, w)
			}
			if strings.Index(page, ">import<") > strings.Index(page, ">commit<") {
				t.Fatal("history not newest first")
			}

			// Tokens stay in the process.
			for _, secret := range []string{r.cred.token, r.gh.Token, r.gitToken, r.ado.Token} {
				for _, p := range b.pages {
					if strings.Contains(p, secret) {
						t.Fatalf("a token reached a page:\n%s", p)
					}
				}
			}
			if host == HostAzureDevOps && !slices.Contains(r.cred.scopes, AzureDevOpsScope) {
				t.Fatalf("Azure DevOps was not called with the maker's token: scopes %v", r.cred.scopes)
			}
		})
	}
}

func findIn(o Options, name string) Environment {
	for _, e := range o.Environments {
		if e.Name == name {
			return e
		}
	}
	return Environment{}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
