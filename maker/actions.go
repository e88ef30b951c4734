package maker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
	"github.com/ppalm/ppalm/unpack"
)

// solutionPage is what the per-solution forms show.
type solutionPage struct {
	Solution string
	State    *SolutionState
	Profile  Profile
	Profiles []Profile // open to the maker
	Advanced bool
	Form     map[string]string
	// Branches are the repository's branches, offered where a branch is
	// asked for.
	Branches []string
}

// solutionContext loads what a per-solution screen needs; with needProfile
// the solution must have a profile open to the maker.
func (s *Server) solutionContext(w http.ResponseWriter, r *http.Request, needProfile bool) (*solutionPage, Environment, bool) {
	env, ok := s.environment(r)
	if !ok {
		http.Redirect(w, r, "/environment", http.StatusSeeOther)
		return nil, env, false
	}
	name := r.PathValue("name")
	sn, err := s.read(r.Context())
	if err != nil {
		s.fail(w, r, 502, err)
		return nil, env, false
	}
	if sn.profilesErr != nil {
		s.fail(w, r, 500, sn.profilesErr)
		return nil, env, false
	}
	st := sn.state(name)
	sp := &solutionPage{Solution: name, State: st, Profiles: sn.profiles.OpenTo(s.who(r.Context())), Form: map[string]string{}}
	if p, ok := sn.profiles.Profile(st.Profile); ok && p.OpenTo(s.who(r.Context())) {
		sp.Profile = p
		sp.Advanced = p.AdvancedFor(s.who(r.Context()))
	} else if needProfile {
		s.render(w, r, 409, "result", page{Title: "Choose a profile first", Failed: true,
			Message: fmt.Sprintf("Solution %s has no profile open to you yet: choose one, then come back.", name),
			Link:    "/solutions/" + name + "/profile", LinkText: "Choose a profile for " + name})
		return nil, env, false
	}
	return sp, env, true
}

func (s *Server) profileForm(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, false)
	if ok {
		s.render(w, r, 200, "profile", page{Title: "Choose a profile for " + sp.Solution, Data: sp})
	}
}

func (s *Server) setProfile(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, false)
	if !ok {
		return
	}
	name := r.PostFormValue("profile")
	var chosen *Profile
	for _, p := range sp.Profiles {
		if p.Name == name {
			chosen = &p
		}
	}
	if chosen == nil {
		s.render(w, r, 400, "profile", page{Title: "Choose a profile for " + sp.Solution, Data: sp,
			Errors: map[string]string{"profile": "Choose one of the profiles open to you."}})
		return
	}
	if err := s.updateState(r.Context(), sp.Solution, fmt.Sprintf("%s uses profile %s", sp.Solution, chosen.Name), func(st *SolutionState) {
		st.Profile = chosen.Name
	}); err != nil {
		s.fail(w, r, 500, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) commitForm(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, true)
	if ok {
		sp.Form["branch"] = sp.Profile.CommitBranch(sp.Solution, s.who(r.Context()).Email)
		sp.Form["base"] = sp.Profile.Target()
		if sp.Advanced {
			sp.Branches = s.branches(r.Context())
		}
		s.render(w, r, 200, "commit", page{Title: "Commit " + sp.Solution, Data: sp})
	}
}

// checkBranch says what is wrong with a branch name, as git's ref rules do.
func checkBranch(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Enter a branch name."
	}
	if err := plumbing.NewBranchReferenceName(name).Validate(); err != nil || strings.ContainsAny(name, " ~^:?*[\\") {
		return fmt.Sprintf("%q is not a branch name git accepts (no spaces, .., ~ ^ : ? * [ \\, or a trailing .lock or /).", name)
	}
	return ""
}

// pipelineParams spells the app's parameters (camelCase keys) as each host's
// templates declare them: Azure DevOps runtime parameters in camelCase
// (templates/azure-devops/export-solution-to-git.yml: solutionName,
// commitMessage, branch), GitHub workflow_dispatch inputs in kebab-case
// (templates/github/examples/export.yml: solution-name, commit-message,
// branch). A pipeline that does not declare one refuses the run, and the
// maker sees the host's words.
func pipelineParams(host string, params map[string]string) map[string]string {
	if host != HostGitHub {
		return params
	}
	out := make(map[string]string, len(params))
	for k, v := range params {
		var b strings.Builder
		for _, c := range k {
			if c >= 'A' && c <= 'Z' {
				b.WriteByte('-')
				c += 'a' - 'A'
			}
			b.WriteRune(c)
		}
		out[b.String()] = v
	}
	return out
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	sp, env, ok := s.solutionContext(w, r, true)
	if !ok {
		return
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	branch, base := sp.Profile.CommitBranch(sp.Solution, s.who(r.Context()).Email), sp.Profile.Target()
	if sp.Advanced {
		branch, base = strings.TrimSpace(r.PostFormValue("branch")), strings.TrimSpace(r.PostFormValue("base"))
	}
	sp.Form = map[string]string{"comment": comment, "branch": branch, "base": base}
	errs := map[string]string{}
	if comment == "" {
		errs["comment"] = "Enter a comment saying what changed (#123 links a work item)."
	}
	if m := checkBranch(branch); m != "" {
		errs["branch"] = m
	}
	if m := checkBranch(base); m != "" {
		errs["base"] = m
	}
	if len(errs) > 0 {
		s.render(w, r, 400, "commit", page{Title: "Commit " + sp.Solution, Data: sp, Errors: errs})
		return
	}
	req := Request{Kind: "commit", Environment: env.Name, By: s.who(r.Context()).Email, When: s.opts.Now()}
	if sp.Profile.Host != HostLocal && !s.opts.RunsPipelines {
		// A pipeline host: its export pipeline does the work, with the
		// parameters the export templates declare.
		run, err := s.queue(r.Context(), sp.Profile, sp.Profile.ExportPipeline, sp.Profile.Target(), map[string]string{
			"solutionName": sp.Solution, "commitMessage": comment, "branch": branch})
		req.Pipeline, req.RunID, req.PipelineID, req.Link = sp.Profile.ExportPipeline, run.ID, run.PipelineID, run.Link
		req.State, req.Detail = "queued", fmt.Sprintf("export pipeline %s queued for branch %s: %s", sp.Profile.ExportPipeline, branch, comment)
		if err != nil {
			req.State, req.Detail = "failed", err.Error()
		}
		s.finish(w, r, sp.Solution, req)
		return
	}
	var envs []string
	for _, st := range sp.Profile.Steps {
		envs = append(envs, st.Environment)
	}
	src := &steps.Source{
		Dataverse: env.Client, Solution: sp.Solution, Publish: true,
		Repo: s.opts.Repo, Branch: branch, Base: base, Token: s.gitToken(r.Context()), Author: s.who(r.Context()).Signature,
		Message: comment, Push: true, Environments: envs, DropEnvironmentVariableValues: true,
	}
	_, err := steps.ExportToGit(r.Context(), s.services(r.Context()), src)
	switch {
	case err != nil:
		req.State, req.Detail = "failed", err.Error()
	case src.Commit != nil && src.Commit.Committed:
		req.State, req.Detail = "succeeded", fmt.Sprintf("%s on %s: %s", short(src.Commit.Hash), branch, comment)
	default:
		req.State, req.Detail = "succeeded", "nothing changed on "+branch
	}
	s.finish(w, r, sp.Solution, req)
}

// finish records a request in the solution's state and shows its result.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, solution string, req Request) {
	req.Detail = s.scrubText(req.Detail)
	if err := s.updateState(r.Context(), solution, fmt.Sprintf("%s: %s %s", solution, req.Kind, req.State), func(st *SolutionState) {
		st.Requests = append(st.Requests, req)
	}); err != nil {
		s.fail(w, r, 500, err)
		return
	}
	status := 200
	if req.State == "failed" {
		status = 502
	}
	p := page{Title: fmt.Sprintf("%s %s: %s", strings.ToUpper(req.Kind[:1])+req.Kind[1:], solution, req.State),
		Message: req.Detail, Failed: req.State == "failed", Link: req.Link, Data: solution}
	switch {
	case req.RunID > 0 || (req.Link != "" && req.Pipeline != ""):
		p.LinkText = "Follow the run on the repository host"
	case req.PullRequest > 0:
		p.LinkText = fmt.Sprintf("Open pull request #%d", req.PullRequest)
	}
	s.render(w, r, status, "result", p)
}

func short(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

func (s *Server) services(ctx context.Context) steps.Services {
	var log strings.Builder
	r := task.NewTerminal(&log, false)
	if tok := s.gitToken(ctx); tok != "" {
		r.SetSecret(tok)
	}
	return steps.Services{Reporter: r, Getenv: func(string) string { return "" }, Now: s.opts.Now}
}

func (s *Server) deployForm(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, true)
	if ok {
		sp.Form["source"], sp.Form["target"] = sp.Profile.CommitBranch(sp.Solution, s.who(r.Context()).Email), sp.Profile.Target()
		sp.Form["title"] = "Deploy " + sp.Solution
		s.render(w, r, 200, "deploy", page{Title: "Deploy " + sp.Solution, Data: sp})
	}
}

var workItem = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`#(\d+)`) })

func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, true)
	if !ok {
		return
	}
	f := r.PostFormValue
	envName := f("environment")
	source, target := sp.Profile.CommitBranch(sp.Solution, s.who(r.Context()).Email), sp.Profile.Target()
	title, comment := "Deploy "+sp.Solution+" to "+envName, ""
	if sp.Advanced {
		source, target = strings.TrimSpace(f("source")), strings.TrimSpace(f("target"))
		if t := strings.TrimSpace(f("title")); t != "" {
			title = t
		}
		comment = strings.TrimSpace(f("comment"))
	}
	upgrade := f("upgrade") == "on"
	sp.Form = map[string]string{"environment": envName, "source": source, "target": target, "title": title, "comment": comment}
	if upgrade {
		sp.Form["upgrade"] = "on"
	}
	errs := map[string]string{}
	step, inProfile := sp.Profile.Step(envName)
	if !inProfile {
		errs["environment"] = fmt.Sprintf("Choose one of the environments of profile %s.", sp.Profile.Name)
	}
	if m := checkBranch(source); m != "" {
		errs["source"] = m
	}
	if m := checkBranch(target); m != "" {
		errs["target"] = m
	}
	if len(errs) > 0 {
		s.render(w, r, 400, "deploy", page{Title: "Deploy " + sp.Solution, Data: sp, Errors: errs})
		return
	}
	req := Request{Kind: "deploy", Environment: step.Environment, By: s.who(r.Context()).Email, When: s.opts.Now(), State: "succeeded"}
	var err error
	switch step.Approval {
	case ApprovalPullRequest:
		var pr devops.PullRequest
		pr, err = s.pullRequest(r.Context(), sp, source, target, title, comment, upgrade)
		if err == nil {
			req.Link, req.PullRequest = pr.WebURL, pr.ID
			req.Detail = fmt.Sprintf("pull request #%d %s -> %s%s", pr.ID, source, target, labelNote(upgrade))
			if s.opts.RunsPipelines {
				// What the target branch's policy build would do once the
				// pull request is validated: deploy the source branch.
				if err = s.runDeployment(r.Context(), sp.Profile, sp.Solution, source, step, upgrade); err == nil {
					req.Detail += "; deployed to " + step.Environment
				}
			}
		}
	case ApprovalEnvironment:
		if !s.opts.RunsPipelines && sp.Profile.Host != HostLocal {
			// The pipeline deploys the source branch; its environment's
			// approval applies from here.
			var run devops.QueuedRun
			run, err = s.queue(r.Context(), sp.Profile, step.Pipeline, source, map[string]string{
				"solutionName": sp.Solution, "environment": step.Environment, "upgrade": strconv.FormatBool(upgrade)})
			req.State, req.Pipeline, req.RunID, req.PipelineID, req.Link = "queued", step.Pipeline, run.ID, run.PipelineID, run.Link
			req.Detail = fmt.Sprintf("deployment pipeline %s queued for %s on %s%s", step.Pipeline, step.Environment, source, map[bool]string{true: " as an upgrade"}[upgrade])
			break
		}
		if err = s.runDeployment(r.Context(), sp.Profile, sp.Solution, source, step, upgrade); err == nil {
			req.Detail = fmt.Sprintf("deployed branch %s to %s%s", source, step.Environment, map[bool]string{true: " as an upgrade"}[upgrade])
		}
	}
	if err != nil {
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, sp.Solution, req)
}

// queue starts a pipeline of the profile's host on branch, with the app's
// parameters in the host's spelling.
func (s *Server) queue(ctx context.Context, p Profile, pipeline, branch string, params map[string]string) (devops.QueuedRun, error) {
	c, err := s.repoHost(ctx, p)
	if err != nil {
		return devops.QueuedRun{}, err
	}
	return c.QueueRun(ctx, pipeline, branch, pipelineParams(p.Host, params))
}

// repoHost opens the client of the profile's repository host.
func (s *Server) repoHost(ctx context.Context, p Profile) (*devops.Client, error) {
	if s.opts.RepoHost == nil || p.Host == HostLocal {
		return nil, errors.New("profile " + p.Name + " names no repository host this app can reach")
	}
	c, err := s.opts.RepoHost(ctx, p)
	return c, s.scrub(err)
}

func labelNote(upgrade bool) string {
	if upgrade {
		return ", labelled " + devops.UpgradeLabel
	}
	return ""
}

// pullRequest creates or reuses the deployment's pull request, describing
// the solution's components.
func (s *Server) pullRequest(ctx context.Context, sp *solutionPage, source, target, title, comment string, upgrade bool) (devops.PullRequest, error) {
	c, err := s.repoHost(ctx, sp.Profile)
	if err != nil {
		return devops.PullRequest{}, err
	}
	desc, err := s.describe(ctx, sp.Solution, source, target, comment)
	if err != nil {
		return devops.PullRequest{}, err
	}
	in := devops.NewPullRequest{SourceBranch: source, TargetBranch: target, Title: title, Description: desc}
	if upgrade {
		in.Labels = []string{devops.UpgradeLabel}
	}
	for _, m := range workItem().FindAllStringSubmatch(comment, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			in.WorkItems = append(in.WorkItems, n)
		}
	}
	pr, _, err := c.EnsurePullRequest(ctx, in)
	return pr, err
}

// describe says what the pull request changes on the target branch,
// component by component: the same comparison as ppalm diff and pr create
// (steps.DiffRefs), of the two branches' unpacked solutions.
func (s *Server) describe(ctx context.Context, name, source, target, comment string) (string, error) {
	path := steps.RepoSourcePath(name)
	token := s.gitToken(ctx)
	head, err := steps.RefSnapshot(ctx, s.opts.Repo, token, source, path)
	if err == nil && head.UniqueName == "" {
		err = fmt.Errorf("%s is not there", path)
	}
	if err != nil {
		return "", fmt.Errorf("branch %s holds no committed solution %s yet (has its export finished?): %w", source, name, s.scrub(err))
	}
	base, err := steps.RefSnapshot(ctx, s.opts.Repo, token, target, path)
	if err != nil {
		return "", fmt.Errorf("read %s on %s: %w", name, target, s.scrub(err))
	}
	var b strings.Builder
	if comment != "" {
		b.WriteString(comment + "\n\n")
	}
	fmt.Fprintf(&b, "Solution %s from branch %s into %s.", name, source, target)
	if base.UniqueName == "" {
		fmt.Fprintf(&b, "\n\nThe solution is new on %s.", target)
	}
	return steps.DescribeChanges(b.String(), diff.Compare(base, head), steps.MaxPullRequestDescription), nil
}

// runDeployment is the build-deploy pipeline run by the app itself: check
// the branch out, build with the next version, import the managed zip with
// the environment's settings and configure it.
func (s *Server) runDeployment(ctx context.Context, p Profile, name, branch string, step DeploymentStep, upgrade bool) error {
	env, err := s.environmentOf(step)
	if err != nil {
		return err
	}
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.gitToken(ctx), branch, name)
	if err != nil {
		return s.scrub(err)
	}
	defer os.RemoveAll(filepath.Dir(dir))
	s.buildMu.Lock()
	s.builds++
	version := fmt.Sprintf("1.0.%s.%d", s.opts.Now().Format("20060102"), s.builds)
	s.buildMu.Unlock()
	svc := s.services(ctx)
	b := &steps.Build{Folder: filepath.Join(dir, filepath.FromSlash(steps.SourceFolder)), Version: version, OutDir: filepath.Join(filepath.Dir(dir), "drop")}
	if _, err := steps.RunBuild(ctx, svc, b); err != nil {
		return err
	}
	sol, err := solution.ReadFile(b.ManagedZip)
	if err != nil {
		return err
	}
	lookup, err := s.lookup(ctx, p, env.Name, sol)
	if err != nil {
		return err
	}
	loc, err := settings.Locate(filepath.Join(dir, steps.ConfigFolder), env.Name)
	if err != nil {
		return err
	}
	// As the pipeline reads them by default (ppalm import without
	// --strict, the Accelerator's semantics): a setting the maker left
	// unconfigured (its variable unset) is skipped, a required one left
	// empty fails the settings check before anything is sent.
	ds, cds, _, err := steps.LoadSettingsWith(loc.DeploymentSettings, loc.CustomDeploymentSettings, lookup, steps.LoadOptions{})
	if err != nil {
		return err
	}
	mode := steps.UpgradeNever
	if upgrade {
		mode = steps.UpgradeAlways
	}
	c := &steps.Context{Reporter: svc.Reporter, Getenv: svc.Getenv, Now: svc.Now,
		Dataverse: env.Client, ZipFile: b.ManagedZip, Solution: sol, Deployment: ds, Custom: cds, Upgrade: mode}
	return steps.Runner{Reporter: svc.Reporter}.Run(ctx, c, steps.DeployPipeline())
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request) {
	sp, env, ok := s.solutionContext(w, r, false)
	if ok {
		sp.Form["environment"] = env.Name
		s.render(w, r, 200, "delete", page{Title: "Delete " + sp.Solution, Data: sp})
	}
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	sp, env, ok := s.solutionContext(w, r, false)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != sp.Solution {
		sp.Form["environment"] = env.Name
		s.render(w, r, 400, "delete", page{Title: "Delete " + sp.Solution, Data: sp,
			Errors: map[string]string{"confirm": "Type the solution's name, " + sp.Solution + ", to confirm."}})
		return
	}
	req := Request{Kind: "delete", Environment: env.Name, By: s.who(r.Context()).Email, When: s.opts.Now(), State: "succeeded",
		Detail: fmt.Sprintf("deleted %s from %s", sp.Solution, env.Name)}
	if _, err := steps.DeleteSolution(r.Context(), env.Client, s.services(r.Context()).Reporter, steps.DeleteOptions{Solution: sp.Solution}); err != nil {
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, sp.Solution, req)
}

type importPage struct {
	Profiles []Profile
	Form     map[string]string
	Branches []string
}

// branches lists the repository's branches for a form's suggestions; a
// slow or failing server only leaves the suggestions out.
func (s *Server) branches(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	names, _ := gitops.Branches(ctx, s.opts.Repo, s.gitToken(ctx))
	return names
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.environment(r); !ok {
		http.Redirect(w, r, "/environment", http.StatusSeeOther)
		return
	}
	sn, err := s.read(r.Context())
	if err == nil {
		err = sn.profilesErr
	}
	if err != nil {
		s.fail(w, r, 502, err)
		return
	}
	s.render(w, r, 200, "import", page{Title: "Import a solution from a branch", Data: importPage{Profiles: sn.profiles.OpenTo(s.who(r.Context())),
		Form: map[string]string{}, Branches: s.branches(r.Context())}})
}

// importSolution packs a branch's unpacked solution as unmanaged, imports it
// into the maker's environment and configures it from the chosen config
// folder: the Accelerator's import-unmanaged-to-dev.
func (s *Server) importSolution(w http.ResponseWriter, r *http.Request) {
	env, ok := s.environment(r)
	if !ok {
		http.Redirect(w, r, "/environment", http.StatusSeeOther)
		return
	}
	sn, err := s.read(r.Context())
	if err == nil {
		err = sn.profilesErr
	}
	if err != nil {
		s.fail(w, r, 502, err)
		return
	}
	f := r.PostFormValue
	ip := importPage{Profiles: sn.profiles.OpenTo(s.who(r.Context())), Form: map[string]string{
		"profile": f("profile"), "branch": strings.TrimSpace(f("branch")), "folder": strings.Trim(strings.TrimSpace(f("folder")), "/"), "config": strings.TrimSpace(f("config"))}}
	errs := map[string]string{}
	if p, ok := sn.profiles.Profile(ip.Form["profile"]); !ok || !p.OpenTo(s.who(r.Context())) {
		errs["profile"] = "Choose one of the profiles open to you."
	}
	if m := checkBranch(ip.Form["branch"]); m != "" {
		errs["branch"] = m
	}
	folder := ip.Form["folder"]
	if folder == "" || strings.Contains(folder, "..") || strings.Contains(folder, "\\") {
		errs["folder"] = "Enter the repository folder that holds SolutionPackage, e.g. MySolution."
	}
	if c := ip.Form["config"]; c != "" && (strings.ContainsAny(c, "/\\") || c == "..") {
		errs["config"] = "Enter the name of one folder under config/, e.g. test."
	}
	if len(errs) > 0 {
		s.render(w, r, 400, "import", page{Title: "Import a solution from a branch", Data: ip, Errors: errs})
		return
	}
	dir, err := readRepoFolder(r.Context(), s.opts.Repo, s.gitToken(r.Context()), ip.Form["branch"], folder)
	if err != nil {
		switch {
		case strings.Contains(err.Error(), "couldn't find remote ref"):
			errs["branch"] = fmt.Sprintf("The repository has no branch %s.", ip.Form["branch"])
		case strings.Contains(err.Error(), "not found at"):
			errs["folder"] = fmt.Sprintf("Branch %s has no folder %s.", ip.Form["branch"], folder)
		default:
			s.fail(w, r, 502, s.scrub(err))
			return
		}
		s.render(w, r, 400, "import", page{Title: "Import a solution from a branch", Data: ip, Errors: errs})
		return
	}
	defer os.RemoveAll(filepath.Dir(dir))
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(steps.SourceFolder))); err != nil {
		errs["folder"] = fmt.Sprintf("Folder %s of branch %s holds no %s: choose the folder of an exported solution.", folder, ip.Form["branch"], steps.SourceFolder)
		s.render(w, r, 400, "import", page{Title: "Import a solution from a branch", Data: ip, Errors: errs})
		return
	}
	profile, _ := sn.profiles.Profile(ip.Form["profile"])
	name, err := s.importUnmanaged(r.Context(), profile, env, dir, ip.Form["config"])
	if name == "" {
		name = filepath.Base(folder)
	}
	req := Request{Kind: "import", Environment: env.Name, By: s.who(r.Context()).Email, When: s.opts.Now(), State: "succeeded",
		Detail: fmt.Sprintf("imported %s from branch %s into %s", folder, ip.Form["branch"], env.Name)}
	if err != nil {
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, name, req)
}

func (s *Server) importUnmanaged(ctx context.Context, p Profile, env Environment, dir, config string) (string, error) {
	src := filepath.Join(dir, filepath.FromSlash(steps.SourceFolder))
	zip := filepath.Join(filepath.Dir(dir), "unmanaged.zip")
	if _, err := unpack.Pack(ctx, unpack.PackOptions{Folder: src, ZipFile: zip, PackageType: unpack.Unmanaged}); err != nil {
		return "", err
	}
	sol, err := solution.ReadFile(zip)
	if err != nil {
		return "", err
	}
	svc := s.services(ctx)
	c := &steps.Context{Reporter: svc.Reporter, Getenv: svc.Getenv, Now: svc.Now,
		Dataverse: env.Client, ZipFile: zip, Solution: sol, Upgrade: steps.UpgradeNever, Publish: true}
	if config != "" {
		lookup, err := s.lookup(ctx, p, env.Name, sol)
		if err != nil {
			return sol.UniqueName, err
		}
		loc, err := settings.Locate(filepath.Join(dir, steps.ConfigFolder), config)
		if err != nil {
			return sol.UniqueName, err
		}
		if c.Deployment, c.Custom, _, err = steps.LoadSettingsWith(loc.DeploymentSettings, loc.CustomDeploymentSettings, lookup, steps.LoadOptions{}); err != nil {
			return sol.UniqueName, err
		}
	}
	pipeline := steps.DeployPipeline()
	if config == "" {
		// No configuration chosen: the maker binds connections in the
		// development environment by hand, as after a portal import.
		pipeline = []steps.Step{steps.Import{}}
	}
	return sol.UniqueName, steps.Runner{Reporter: svc.Reporter}.Run(ctx, c, pipeline)
}
