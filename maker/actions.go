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
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
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
	ps, err := s.profiles(r.Context())
	if err != nil {
		s.fail(w, r, 500, err)
		return nil, env, false
	}
	st, err := s.readState(r.Context(), name)
	if err != nil {
		s.fail(w, r, 500, err)
		return nil, env, false
	}
	sp := &solutionPage{Solution: name, State: st, Profiles: ps.OpenTo(s.opts.Maker.Email), Form: map[string]string{}}
	if p, ok := ps.Profile(st.Profile); ok && p.OpenTo(s.opts.Maker.Email) {
		sp.Profile = p
		sp.Advanced = p.AdvancedFor(s.opts.Maker.Email)
	} else if needProfile {
		s.render(w, r, 409, "result", page{Title: "Choose a profile first", Failed: true,
			Message: fmt.Sprintf("Solution %s has no profile open to you yet: choose one, then come back.", name),
			Link:    "/solutions/" + name + "/profile"})
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
		sp.Form["branch"] = sp.Solution
		sp.Form["base"] = sp.Profile.Target()
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

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	sp, env, ok := s.solutionContext(w, r, true)
	if !ok {
		return
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	branch, base := sp.Solution, sp.Profile.Target()
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
	if sp.Profile.Host != HostLocal && !s.opts.RunsPipelines {
		// A pipeline host: its export pipeline does the work, with the
		// inputs the export example workflow declares.
		req := Request{Kind: "commit", Environment: env.Name, By: s.opts.Maker.Email, When: s.opts.Now()}
		run, err := s.queue(r.Context(), sp.Profile, sp.Profile.ExportPipeline, map[string]string{
			"solution-name": sp.Solution, "commit-message": comment, "branch": branch})
		req.State, req.Link, req.Detail = "queued", run.Link, fmt.Sprintf("export pipeline %s queued for branch %s: %s", sp.Profile.ExportPipeline, branch, comment)
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
		Repo: s.opts.Repo, Branch: branch, Base: base, Token: s.opts.Token, Author: s.opts.Maker,
		Message: comment, Push: true, Environments: envs, DropEnvironmentVariableValues: true,
	}
	c, err := steps.ExportToGit(r.Context(), s.services(), src)
	req := Request{Kind: "commit", Environment: env.Name, By: s.opts.Maker.Email, When: s.opts.Now()}
	switch {
	case err != nil:
		req.State, req.Detail = "failed", err.Error()
	case src.Commit != nil && src.Commit.Committed:
		req.State, req.Detail = "succeeded", fmt.Sprintf("%s on %s: %s", short(src.Commit.Hash), branch, comment)
	default:
		req.State, req.Detail = "succeeded", "nothing changed on "+branch
	}
	_ = c
	s.finish(w, r, sp.Solution, req)
}

// finish records a request in the solution's state and shows its result.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, solution string, req Request) {
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
	s.render(w, r, status, "result", page{Title: fmt.Sprintf("%s %s: %s", strings.ToUpper(req.Kind[:1])+req.Kind[1:], solution, req.State),
		Message: req.Detail, Failed: req.State == "failed", Link: req.Link, Data: solution})
}

func short(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

func (s *Server) services() steps.Services {
	var log strings.Builder
	r := task.NewTerminal(&log, false)
	if s.opts.Token != "" {
		r.SetSecret(s.opts.Token)
	}
	return steps.Services{Reporter: r, Getenv: func(string) string { return "" }, Now: s.opts.Now}
}

func (s *Server) deployForm(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, true)
	if ok {
		sp.Form["source"], sp.Form["target"] = sp.Solution, sp.Profile.Target()
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
	source, target := sp.Solution, sp.Profile.Target()
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
	req := Request{Kind: "deploy", Environment: step.Environment, By: s.opts.Maker.Email, When: s.opts.Now()}
	var err error
	switch step.Approval {
	case ApprovalPullRequest:
		var pr devops.PullRequest
		pr, err = s.pullRequest(r.Context(), sp, source, target, title, comment, upgrade)
		if err == nil {
			req.Link = pr.WebURL
			req.Detail = fmt.Sprintf("pull request #%d %s -> %s%s", pr.ID, source, target, labelNote(upgrade))
			if s.opts.RunsPipelines {
				// What the target branch's policy build would do once the
				// pull request is validated: deploy the source branch.
				if err = s.runDeployment(r.Context(), sp.Solution, source, step, upgrade); err == nil {
					req.Detail += "; deployed to " + step.Environment
				}
			}
		}
	case ApprovalEnvironment:
		if !s.opts.RunsPipelines && sp.Profile.Host != HostLocal {
			// The pipeline's environment approval applies from here.
			var run devops.QueuedRun
			run, err = s.queue(r.Context(), sp.Profile, step.Pipeline, map[string]string{
				"solution-name": sp.Solution, "environment": step.Environment, "upgrade": strconv.FormatBool(upgrade)})
			req.Link, req.Detail = run.Link, fmt.Sprintf("deployment pipeline %s queued for %s on %s", step.Pipeline, step.Environment, source)
			break
		}
		if err = s.runDeployment(r.Context(), sp.Solution, source, step, upgrade); err == nil {
			req.Detail = fmt.Sprintf("deployed branch %s to %s%s", source, step.Environment, map[bool]string{true: " as an upgrade"}[upgrade])
		}
	}
	req.State = "succeeded"
	if req.Link != "" && step.Approval == ApprovalEnvironment {
		req.State = "queued"
	}
	if err != nil {
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, sp.Solution, req)
}

// queue starts a pipeline of the profile's host on its target branch.
func (s *Server) queue(ctx context.Context, p Profile, pipeline string, params map[string]string) (devops.QueuedRun, error) {
	if s.opts.RepoHost == nil {
		return devops.QueuedRun{}, errors.New("profile " + p.Name + " names a pipeline host this app cannot reach")
	}
	c, err := s.opts.RepoHost(ctx, p)
	if err != nil {
		return devops.QueuedRun{}, err
	}
	return c.QueueRun(ctx, pipeline, p.Target(), params)
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
	if s.opts.RepoHost == nil || sp.Profile.Host == HostLocal {
		return devops.PullRequest{}, errors.New("profile " + sp.Profile.Name + " has no repository host for pull requests")
	}
	c, err := s.opts.RepoHost(ctx, sp.Profile)
	if err != nil {
		return devops.PullRequest{}, err
	}
	desc, err := s.describe(ctx, sp.Solution, source, comment)
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

// describe lists the components of the source branch's solution for the
// pull request's description.
func (s *Server) describe(ctx context.Context, name, branch, comment string) (string, error) {
	sol, cleanup, err := s.branchSolution(ctx, name, branch)
	if err != nil {
		return "", err
	}
	defer cleanup()
	var b strings.Builder
	if comment != "" {
		b.WriteString(comment + "\n\n")
	}
	fmt.Fprintf(&b, "Solution %s from branch %s.\n\nComponents:\n", name, branch)
	for _, f := range sol.CloudFlows() {
		fmt.Fprintf(&b, "- cloud flow %s\n", f.Name)
	}
	for _, a := range sol.CanvasApps {
		fmt.Fprintf(&b, "- canvas app %s\n", a.Name)
	}
	for _, c := range sol.ConnectionReferences {
		fmt.Fprintf(&b, "- connection reference %s (%s)\n", c.LogicalName, c.ConnectorID)
	}
	for _, v := range sol.EnvironmentVariables {
		fmt.Fprintf(&b, "- environment variable %s\n", v.SchemaName)
	}
	return b.String(), nil
}

// branchSolution checks the solution's folder of branch out and reads it.
func (s *Server) branchSolution(ctx context.Context, name, branch string) (*solution.Solution, func(), error) {
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.opts.Token, branch, name)
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(filepath.Dir(dir)) }
	sol, err := steps.ReadSolution(ctx, "", filepath.Join(dir, filepath.FromSlash(steps.SourceFolder)))
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return sol, cleanup, nil
}

// runDeployment is the build-deploy pipeline run by the app itself: check
// the branch out, build with the next version, import the managed zip with
// the environment's settings and configure it.
func (s *Server) runDeployment(ctx context.Context, name, branch string, step DeploymentStep, upgrade bool) error {
	env, ok := s.findEnvironment(step.Environment)
	if !ok {
		return fmt.Errorf("environment %s of the profile is not one this app can reach", step.Environment)
	}
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.opts.Token, branch, name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(dir))
	s.buildMu.Lock()
	s.builds++
	version := fmt.Sprintf("1.0.%s.%d", s.opts.Now().Format("20060102"), s.builds)
	s.buildMu.Unlock()
	b := &steps.Build{Folder: filepath.Join(dir, filepath.FromSlash(steps.SourceFolder)), Version: version, OutDir: filepath.Join(filepath.Dir(dir), "drop")}
	if _, err := steps.RunBuild(ctx, s.services(), b); err != nil {
		return err
	}
	sol, err := solution.ReadFile(b.ManagedZip)
	if err != nil {
		return err
	}
	vars := map[string]string{}
	if s.opts.Variables != nil {
		if vars, err = s.opts.Variables(ctx, env.Name, sol); err != nil {
			return err
		}
	}
	loc, err := settings.Locate(filepath.Join(dir, steps.ConfigFolder), env.Name)
	if err != nil {
		return err
	}
	ds, cds, _, err := steps.LoadSettings(loc.DeploymentSettings, loc.CustomDeploymentSettings, func(n string) (string, bool) {
		v, ok := vars[n]
		return v, ok
	})
	if err != nil {
		return err
	}
	mode := steps.UpgradeNever
	if upgrade {
		mode = steps.UpgradeAlways
	}
	svc := s.services()
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
	req := Request{Kind: "delete", Environment: env.Name, By: s.opts.Maker.Email, When: s.opts.Now(), State: "succeeded",
		Detail: fmt.Sprintf("deleted %s from %s", sp.Solution, env.Name)}
	sol, err := env.Client.GetSolution(r.Context(), sp.Solution)
	if err == nil {
		err = env.Client.DeleteSolution(r.Context(), sol.ID)
	}
	if err != nil {
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, sp.Solution, req)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	sp, _, ok := s.solutionContext(w, r, false)
	if ok {
		p := page{Title: "Request history of " + sp.Solution, Data: sp}
		for _, q := range sp.State.Requests {
			// Run state is not read back from the host yet, so only a
			// recent queued request keeps the page refreshing.
			if q.State == "queued" && s.opts.Now().Sub(q.When) < 30*time.Minute {
				p.Refresh = 10 // something runs on the host: look again soon
			}
		}
		s.render(w, r, 200, "history", p)
	}
}

type importPage struct {
	Profiles []Profile
	Form     map[string]string
}

func (s *Server) importForm(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles(r.Context())
	if err != nil {
		s.fail(w, r, 500, err)
		return
	}
	s.render(w, r, 200, "import", page{Title: "Import a solution from a branch", Data: importPage{Profiles: ps.OpenTo(s.opts.Maker.Email), Form: map[string]string{}}})
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
	ps, err := s.profiles(r.Context())
	if err != nil {
		s.fail(w, r, 500, err)
		return
	}
	f := r.PostFormValue
	ip := importPage{Profiles: ps.OpenTo(s.opts.Maker.Email), Form: map[string]string{
		"profile": f("profile"), "branch": strings.TrimSpace(f("branch")), "folder": strings.Trim(strings.TrimSpace(f("folder")), "/"), "config": strings.TrimSpace(f("config"))}}
	errs := map[string]string{}
	if p, ok := ps.Profile(ip.Form["profile"]); !ok || !p.OpenTo(s.opts.Maker.Email) {
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
	dir, err := readRepoFolder(r.Context(), s.opts.Repo, s.opts.Token, ip.Form["branch"], folder)
	var name string
	if err == nil {
		defer os.RemoveAll(filepath.Dir(dir))
		name, err = s.importUnmanaged(r.Context(), env, dir, ip.Form["config"])
	}
	if name == "" {
		name = filepath.Base(folder)
	}
	req := Request{Kind: "import", Environment: env.Name, By: s.opts.Maker.Email, When: s.opts.Now(), State: "succeeded",
		Detail: fmt.Sprintf("imported %s from branch %s into %s", folder, ip.Form["branch"], env.Name)}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "not exist") {
			errs["folder"] = fmt.Sprintf("Branch %s has no solution in %s/%s: %v", ip.Form["branch"], folder, steps.SourceFolder, err)
			s.render(w, r, 400, "import", page{Title: "Import a solution from a branch", Data: ip, Errors: errs})
			return
		}
		req.State, req.Detail = "failed", err.Error()
	}
	s.finish(w, r, name, req)
}

func (s *Server) importUnmanaged(ctx context.Context, env Environment, dir, config string) (string, error) {
	src := filepath.Join(dir, filepath.FromSlash(steps.SourceFolder))
	if _, err := os.Stat(src); err != nil {
		return "", err
	}
	zip := filepath.Join(filepath.Dir(dir), "unmanaged.zip")
	if _, err := unpack.Pack(ctx, unpack.PackOptions{Folder: src, ZipFile: zip, PackageType: unpack.Unmanaged}); err != nil {
		return "", err
	}
	sol, err := solution.ReadFile(zip)
	if err != nil {
		return "", err
	}
	svc := s.services()
	c := &steps.Context{Reporter: svc.Reporter, Getenv: svc.Getenv, Now: svc.Now,
		Dataverse: env.Client, ZipFile: zip, Solution: sol, Upgrade: steps.UpgradeNever, Publish: true}
	if config != "" {
		vars := map[string]string{}
		if s.opts.Variables != nil {
			if vars, err = s.opts.Variables(ctx, env.Name, sol); err != nil {
				return sol.UniqueName, err
			}
		}
		loc, err := settings.Locate(filepath.Join(dir, steps.ConfigFolder), config)
		if err != nil {
			return sol.UniqueName, err
		}
		if c.Deployment, c.Custom, _, err = steps.LoadSettings(loc.DeploymentSettings, loc.CustomDeploymentSettings, func(n string) (string, bool) {
			v, ok := vars[n]
			return v, ok
		}); err != nil {
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
