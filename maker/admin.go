package maker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
)

// Profile administration: the admins the profiles file names (admins:,
// people or Entra groups) create and edit profiles — repository host,
// branches, deployment steps, who may use each and who sees its advanced
// options — and save the file to the default branch by a commit, or
// propose it in a pull request on the repository's host, as they choose.
//
// Every /admin route checks, in the server, that the signed-in maker is an
// admin of the file as it is on the default branch now; hiding the link is
// only a courtesy. A save is refused when the file changed since the form
// was opened (someone else saved), so nobody's change is overwritten
// silently. People and groups added to a list are looked up in the
// directory (Graph, as the admin) and written with their display names;
// the object id or sign-in name decides. The app writes the file in its
// own layout (comments in a hand-written file are not kept).

func (s *Server) adminRoutes() {
	s.mux.HandleFunc("GET /admin", s.adminHome)
	s.mux.HandleFunc("GET /admin/profiles/new", s.adminNew)
	s.mux.HandleFunc("GET /admin/profiles/{name}", s.adminEdit)
	s.mux.HandleFunc("POST /admin/profiles", s.adminSave)
}

// mayAdminister says whether who may use the admin screens, from the
// profiles the request already read (or, for a page that read none and
// succeeded, a fresh read).
func (s *Server) mayAdminister(ctx context.Context, who Identity, status int) bool {
	sn := visitOf(ctx).snap.Load()
	if sn == nil && status < 400 {
		sn, _ = s.read(ctx)
	}
	return sn != nil && sn.profiles != nil && sn.profiles.AdminFor(who)
}

// adminContext reads the profiles and lets only their admins through.
func (s *Server) adminContext(w http.ResponseWriter, r *http.Request) (*snapshot, Identity, bool) {
	who := s.who(r.Context())
	sn, err := s.read(r.Context())
	if err != nil {
		s.fail(w, r, 502, err)
		return nil, who, false
	}
	if sn.profiles == nil {
		s.fail(w, r, 500, fmt.Errorf("the profiles cannot be administered here until %s can be read: %w", ProfilesPath, sn.profilesErr))
		return nil, who, false
	}
	if !sn.profiles.AdminFor(who) {
		msg := fmt.Sprintf("Only the administrators %s names (admins:) may change the profiles; you are signed in as %s.", ProfilesPath, who.Email)
		if visitOf(r.Context()).groupsErr != nil {
			msg += " Your groups could not be read: " + s.scrubText(visitOf(r.Context()).groupsErr.Error())
		}
		s.render(w, r, http.StatusForbidden, "result", page{Title: "Profiles are for administrators", Failed: true, Message: msg})
		return nil, who, false
	}
	return sn, who, true
}

type adminPage struct {
	Profiles []Profile
	Admins   []Principal
	Branch   string
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	sn, _, ok := s.adminContext(w, r)
	if !ok {
		return
	}
	s.render(w, r, 200, "admin", page{Title: "Profiles", Admin: true,
		Data: adminPage{Profiles: sn.profiles.Profiles, Admins: sn.profiles.Admins, Branch: s.opts.DefaultBranch}})
}

// choice is one person or group of a makers or advanced list on the form.
type choice struct {
	Principal
	Value   string // what the checkbox posts
	Checked bool
}

// principalField is a makers or advanced list on the form: the chosen
// entries, a group search and its results, and people to add.
type principalField struct {
	Field  string // makers, advanced
	Chosen []choice
	Found  []choice
	Query  string
	People string
}

type profileForm struct {
	Original string // the profile's name before the edit; "" for a new one
	Version  string // the profiles file the form was made from
	Profile  Profile
	Steps    []DeploymentStep // the steps, then empty rows to fill
	Makers   principalField
	Advanced principalField
	Save     string // commit, pull-request
	Message  string
	// CanPullRequest says the repository's host is known.
	CanPullRequest bool
	Branch         string
}

func encodeChoice(p Principal) string {
	if p.Group != "" {
		return "group:" + p.Group + "|" + p.Name
	}
	return "user:" + p.User + "|" + p.Name
}

func decodeChoice(v string) (Principal, bool) {
	kind, rest, ok := strings.Cut(v, ":")
	if !ok {
		return Principal{}, false
	}
	id, name, _ := strings.Cut(rest, "|")
	switch kind {
	case "group":
		return Principal{Group: strings.TrimSpace(id), Name: strings.TrimSpace(name)}, true
	case "user":
		return Principal{User: strings.TrimSpace(id), Name: strings.TrimSpace(name)}, true
	}
	return Principal{}, false
}

func fieldOf(name string, list []Principal) principalField {
	f := principalField{Field: name}
	for _, p := range list {
		f.Chosen = append(f.Chosen, choice{Principal: p, Value: encodeChoice(p), Checked: true})
	}
	return f
}

func version(data []byte) string {
	if len(data) == 0 {
		return "none"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

func (s *Server) newForm(sn *snapshot, p Profile, original string) *profileForm {
	f := &profileForm{Original: original, Version: version(sn.profilesData), Profile: p, Steps: append(append([]DeploymentStep{}, p.Steps...), DeploymentStep{}),
		Makers: fieldOf("makers", p.Makers), Advanced: fieldOf("advanced", p.Advanced), Save: "commit",
		CanPullRequest: s.opts.RepositoryHost != nil, Branch: s.opts.DefaultBranch}
	if s.opts.RepositoryHost != nil {
		f.Save = "pull-request"
	}
	return f
}

func (s *Server) adminNew(w http.ResponseWriter, r *http.Request) {
	sn, _, ok := s.adminContext(w, r)
	if !ok {
		return
	}
	f := s.newForm(sn, Profile{Host: HostGitHub, TargetBranch: "main"}, "")
	f.Steps = []DeploymentStep{{Approval: ApprovalPullRequest}, {Approval: ApprovalEnvironment}}
	s.render(w, r, 200, "admin-profile", page{Title: "New profile", Admin: true, Data: f})
}

func (s *Server) adminEdit(w http.ResponseWriter, r *http.Request) {
	sn, _, ok := s.adminContext(w, r)
	if !ok {
		return
	}
	p, found := sn.profiles.Profile(r.PathValue("name"))
	if !found {
		s.fail(w, r, 404, fmt.Errorf("%s has no profile %q", ProfilesPath, r.PathValue("name")))
		return
	}
	s.render(w, r, 200, "admin-profile", page{Title: "Profile " + p.Name, Admin: true, Data: s.newForm(sn, p, p.Name)})
}

var listSplit = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[\s,;]+`) })

// readForm reads the posted profile form.
func (s *Server) readForm(r *http.Request) *profileForm {
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	pf := &profileForm{Original: get("original"), Version: get("version"), Save: get("save"), Message: get("message"),
		CanPullRequest: s.opts.RepositoryHost != nil, Branch: s.opts.DefaultBranch}
	pf.Profile = Profile{Name: get("name"), Host: get("host"), Organization: strings.TrimRight(get("organization"), "/"), Project: get("project"),
		Repository: get("repository"), TargetBranch: get("targetBranch"), Branch: get("branch"), ExportPipeline: get("exportPipeline")}
	envs, urls, approvals, pipelines := f["step-environment"], f["step-url"], f["step-approval"], f["step-pipeline"]
	for i := range envs {
		at := func(l []string) string {
			if i < len(l) {
				return strings.TrimSpace(l[i])
			}
			return ""
		}
		pf.Steps = append(pf.Steps, DeploymentStep{Environment: at(envs), URL: at(urls), Approval: at(approvals), Pipeline: at(pipelines)})
	}
	for _, fld := range []*principalField{&pf.Makers, &pf.Advanced} {
		name := "makers"
		if fld == &pf.Advanced {
			name = "advanced"
		}
		fld.Field, fld.Query, fld.People = name, get(name+"-q"), get(name+"-people")
		seen := map[string]bool{}
		for _, v := range f[name] {
			if p, ok := decodeChoice(v); ok && !seen[strings.ToLower(p.User+p.Group)] {
				seen[strings.ToLower(p.User+p.Group)] = true
				fld.Chosen = append(fld.Chosen, choice{Principal: p, Value: encodeChoice(p), Checked: true})
			}
		}
	}
	return pf
}

// filled drops the step rows left empty.
func filled(steps []DeploymentStep) []DeploymentStep {
	var out []DeploymentStep
	for _, st := range steps {
		if st.Environment != "" || st.URL != "" || st.Pipeline != "" {
			out = append(out, st)
		}
	}
	return out
}

// directory is the Graph client the admin's searches and checks go
// through: the environment the admin chose, else the first one (Graph is
// the tenant's, whichever environment's client asks).
func (s *Server) directory(r *http.Request) (*dataverse.Client, error) {
	if env, ok := s.environment(r); ok {
		return env.Client, nil
	}
	if len(s.opts.Environments) > 0 {
		return s.opts.Environments[0].Client, nil
	}
	return nil, errors.New("no environment to reach the directory through")
}

func (s *Server) adminSave(w http.ResponseWriter, r *http.Request) {
	sn, who, ok := s.adminContext(w, r)
	if !ok {
		return
	}
	f := s.readForm(r)
	errs := map[string]string{}
	title := "New profile"
	if f.Original != "" {
		title = "Profile " + f.Original
	}
	var original Profile
	if f.Original != "" {
		var found bool
		if original, found = sn.profiles.Profile(f.Original); !found {
			s.fail(w, r, 409, fmt.Errorf("profile %q is no longer in %s: someone renamed or removed it since you opened the page", f.Original, ProfilesPath))
			return
		}
	}
	action := r.PostFormValue("action")
	if action != "save" {
		// Not a save: search the directory, add a step row, check.
		if action == "add-step" {
			f.Steps = append(f.Steps, DeploymentStep{})
		}
		for _, fld := range []*principalField{&f.Makers, &f.Advanced} {
			if fld.Query != "" {
				s.searchGroups(r, fld, errs)
			}
		}
		if len(filled(f.Steps)) == len(f.Steps) {
			f.Steps = append(f.Steps, DeploymentStep{})
		}
		s.render(w, r, 200, "admin-profile", page{Title: title, Admin: true, Data: f, Errors: errs})
		return
	}

	p := f.Profile
	p.Steps = filled(f.Steps)
	s.checkProfile(&p, sn.profiles, f.Original, errs)
	var err error
	if p.Makers, err = s.principals(r, &f.Makers, original.Makers); err != nil {
		errs["makers"] = err.Error()
	}
	if p.Advanced, err = s.principals(r, &f.Advanced, original.Advanced); err != nil {
		errs["advanced"] = err.Error()
	}
	switch f.Save {
	case "commit":
	case "pull-request":
		if s.opts.RepositoryHost == nil {
			errs["save"] = "This app does not know the repository's host: choose a commit."
		}
	default:
		errs["save"] = "Choose a commit or a pull request."
	}
	if f.Message == "" {
		verb := "updated"
		if f.Original == "" {
			verb = "created"
		}
		f.Message = fmt.Sprintf("Profile %s %s by %s", p.Name, verb, who.Name)
	}
	// The new file: the profiles as they are on the branch, this one
	// replaced (or added), checked as any reader of the file checks it.
	next := &Profiles{Admins: sn.profiles.Admins}
	replaced := false
	for _, q := range sn.profiles.Profiles {
		if f.Original != "" && strings.EqualFold(q.Name, f.Original) {
			q, replaced = p, true
		}
		next.Profiles = append(next.Profiles, q)
	}
	if !replaced {
		next.Profiles = append(next.Profiles, p)
	}
	data, err := yaml.Marshal(next)
	if err == nil && len(errs) == 0 {
		if _, perr := ParseProfiles(data); perr != nil {
			errs["file"] = perr.Error()
		}
	}
	if err != nil {
		errs["file"] = err.Error()
	}
	if f.Version != version(sn.profilesData) {
		errs["file"] = fmt.Sprintf("%s changed on %s since you opened this page (someone else saved it). Nothing was saved: open the profile again to see their change, then make yours.", ProfilesPath, s.opts.DefaultBranch)
	}
	if len(errs) > 0 {
		f.Steps = append(p.Steps, DeploymentStep{})
		s.render(w, r, 400, "admin-profile", page{Title: title, Admin: true, Data: f, Errors: errs})
		return
	}
	desc := describeProfileChange(original, p, f.Original == "", who)
	res, err := s.saveProfiles(r.Context(), data, f.Save, f.Message, desc, who, p.Name)
	if err != nil {
		s.fail(w, r, 502, err)
		return
	}
	s.render(w, r, 200, "result", page{Title: "Profile " + p.Name + " saved", Admin: true, Message: res.detail, Link: res.link, LinkText: res.linkText})
}

// checkProfile puts what is wrong with p beside each field.
func (s *Server) checkProfile(p *Profile, ps *Profiles, original string, errs map[string]string) {
	switch {
	case p.Name == "":
		errs["name"] = "Enter the profile's name."
	case strings.ContainsAny(p.Name, "/\\") || len(p.Name) > 80:
		errs["name"] = "Use a name of at most 80 characters, without / or \\."
	default:
		if q, taken := ps.Profile(p.Name); taken && !strings.EqualFold(q.Name, original) {
			errs["name"] = fmt.Sprintf("Profile %s exists already: choose another name.", q.Name)
		}
	}
	switch p.Host {
	case HostGitHub:
		p.Organization, p.Project = "", ""
		if parts := strings.Split(p.Repository, "/"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			errs["repository"] = "Enter the GitHub repository as owner/name."
		}
	case HostAzureDevOps:
		if u, err := url.Parse(p.Organization); err != nil || u.Scheme != "https" || u.Host == "" {
			errs["organization"] = "Enter the organization's URL, e.g. https://dev.azure.com/contoso."
		}
		if p.Project == "" {
			errs["project"] = "Enter the Azure DevOps project."
		}
		if p.Repository == "" {
			errs["repository"] = "Enter the Azure Repos repository."
		}
	case HostLocal:
		p.Organization, p.Project, p.Repository, p.ExportPipeline = "", "", "", ""
	default:
		errs["host"] = "Choose GitHub, Azure DevOps or this machine."
	}
	if p.Host != HostLocal && p.ExportPipeline == "" && errs["host"] == "" {
		errs["exportPipeline"] = "Enter the pipeline (Azure DevOps) or workflow file (GitHub) that Commit runs."
	}
	if p.TargetBranch != "" {
		if m := checkBranch(p.TargetBranch); m != "" {
			errs["targetBranch"] = m
		}
	}
	if p.Branch != "" {
		if m := checkBranch(p.CommitBranch("Solution", "alex.maker@contoso.com")); m != "" {
			errs["branch"] = "With {solution} and {maker} filled in: " + m
		}
	}
	if len(p.Steps) == 0 {
		errs["steps"] = "Add at least one deployment step."
	}
	seen := map[string]bool{}
	for i, st := range p.Steps {
		key := fmt.Sprintf("step-%d", i)
		switch {
		case st.Environment == "":
			errs[key] = "Enter the environment's name."
		case seen[strings.ToLower(st.Environment)]:
			errs[key] = fmt.Sprintf("Environment %s is a step already.", st.Environment)
		case !validURL(st.URL):
			errs[key] = "Enter the environment's URL, https://ORG.crm.dynamics.com."
		case st.Approval != ApprovalPullRequest && st.Approval != ApprovalEnvironment:
			errs[key] = "Choose how the deployment is approved."
		case st.Approval == ApprovalEnvironment && p.Host != HostLocal && st.Pipeline == "":
			errs[key] = "Enter the pipeline or workflow that deploys, whose environment approval applies."
		}
		seen[strings.ToLower(st.Environment)] = true
	}
}

// validURL accepts https, and http on loopback (the emulator).
func validURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// searchGroups fills fld.Found with the directory's groups matching its
// query (Graph, as the admin), leaving out those already chosen.
func (s *Server) searchGroups(r *http.Request, fld *principalField, errs map[string]string) {
	dir, err := s.directory(r)
	var groups []dataverse.GraphGroup
	if err == nil {
		groups, err = dir.SearchGroups(r.Context(), fld.Query, 10)
	}
	if err != nil {
		errs[fld.Field+"-q"] = directoryError("search the groups", err, s)
		return
	}
	for _, g := range groups {
		p := Principal{Group: g.ID, Name: g.DisplayName}
		if !slicesContainsChoice(fld.Chosen, p) {
			fld.Found = append(fld.Found, choice{Principal: p, Value: encodeChoice(p)})
		}
	}
	if len(fld.Found) == 0 {
		errs[fld.Field+"-q"] = fmt.Sprintf("No group whose name has a word starting with %q.", fld.Query)
	}
}

func slicesContainsChoice(cs []choice, p Principal) bool {
	return slices.ContainsFunc(cs, func(c choice) bool { return c.same(p) })
}

func directoryError(what string, err error, s *Server) string {
	if errors.Is(err, dataverse.ErrDirectoryForbidden) {
		return fmt.Sprintf("Microsoft Graph refused to %s: the app needs the delegated directory permissions (User.ReadBasic.All, GroupMember.Read.All) with admin consent.", what)
	}
	return s.scrubText(fmt.Sprintf("Could not %s: %v", what, err))
}

// principals is a list as saved: the entries kept on the form and the
// people typed in, each one not already in before looked up in the
// directory (which gives its display name); an unknown one is an error.
func (s *Server) principals(r *http.Request, fld *principalField, before []Principal) ([]Principal, error) {
	var out []Principal
	var unknown []string
	var dir *dataverse.Client
	lookup := func() (*dataverse.Client, error) {
		if dir != nil {
			return dir, nil
		}
		var err error
		dir, err = s.directory(r)
		return dir, err
	}
	add := func(p Principal) {
		if !slices.ContainsFunc(out, p.same) {
			out = append(out, p)
		}
	}
	check := func(p Principal) error {
		if m := p.check(); m != "" {
			unknown = append(unknown, m)
			return nil
		}
		if i := slices.IndexFunc(before, p.same); i >= 0 {
			add(before[i])
			return nil
		}
		d, err := lookup()
		if err != nil {
			return err
		}
		// A group is saved by its object id, a user as typed; both with
		// the directory's display name.
		kind, id, found := "user", p.User, p
		if p.Group != "" {
			kind, id = "group", p.Group
			var g *dataverse.GraphGroup
			if g, err = d.GraphGroup(r.Context(), p.Group); err == nil {
				found = Principal{Group: g.ID, Name: g.DisplayName}
			}
		} else {
			var u *dataverse.GraphUser
			if u, err = d.GraphUser(r.Context(), p.User); err == nil {
				found = Principal{User: p.User, Name: u.DisplayName}
			}
		}
		switch {
		case dataverse.StatusCode(err) == http.StatusNotFound:
			unknown = append(unknown, "no "+kind+" "+id+" in the directory")
		case err != nil:
			return errors.New(directoryError("look the "+kind+" up", err, s))
		default:
			add(found)
		}
		return nil
	}
	for _, c := range fld.Chosen {
		if err := check(c.Principal); err != nil {
			return nil, err
		}
	}
	for _, person := range listSplit().Split(fld.People, -1) {
		if person == "" {
			continue
		}
		if err := check(Principal{User: person}); err != nil {
			return nil, err
		}
	}
	// Keep what was posted on the form when it comes back with an error.
	fld.Chosen = nil
	for _, p := range out {
		fld.Chosen = append(fld.Chosen, choice{Principal: p, Value: encodeChoice(p), Checked: true})
	}
	if len(unknown) > 0 {
		return out, errors.New(strings.Join(unknown, "; ") + ". Nothing was saved.")
	}
	fld.People = ""
	return out, nil
}

// same says whether p and q name the same user or group.
func (p Principal) same(q Principal) bool {
	return strings.EqualFold(p.User, q.User) && strings.EqualFold(p.Group, q.Group)
}

// describeProfileChange is the pull request's description.
func describeProfileChange(before, after Profile, created bool, who Identity) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) ", who.Name, who.Email)
	if created {
		fmt.Fprintf(&b, "adds profile %s in ppalm maker.\n", after.Name)
	} else {
		fmt.Fprintf(&b, "changes profile %s in ppalm maker.\n", before.Name)
	}
	yamlOf := func(p Profile) string {
		out, _ := yaml.Marshal([]Profile{p})
		return string(out)
	}
	if !created {
		fmt.Fprintf(&b, "\nBefore:\n\n```yaml\n%s```\n", yamlOf(before))
	}
	fmt.Fprintf(&b, "\nAfter:\n\n```yaml\n%s```\n", yamlOf(after))
	return b.String()
}

type saved struct {
	detail, link, linkText string
}

var notBranchChar = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// saveProfiles writes data as the profiles file: a commit to the default
// branch, or a new branch and a pull request into it.
func (s *Server) saveProfiles(ctx context.Context, data []byte, mode, message, desc string, who Identity, name string) (saved, error) {
	dir, err := os.MkdirTemp("", "ppalm-maker-profiles-")
	if err != nil {
		return saved{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, path.Base(ProfilesPath)), data, 0o644); err != nil {
		return saved{}, err
	}
	branch := s.opts.DefaultBranch
	if mode == "pull-request" {
		slug := strings.Trim(notBranchChar().ReplaceAllString(strings.ToLower(name), "-"), "-.")
		branch = "ppalm/profiles/" + slug + "-" + s.opts.Now().UTC().Format("20060102-150405")
	}
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	res, err := gitops.Commit(ctx, gitops.CommitOptions{Repo: s.opts.Repo, Branch: branch, Base: s.opts.DefaultBranch, Folder: dir,
		Path: path.Dir(ProfilesPath), KeepOthers: true, Message: message, Author: who.Signature, Push: true, Token: s.gitToken(ctx), Now: s.opts.Now})
	if err != nil {
		return saved{}, s.scrub(fmt.Errorf("save %s: %w", ProfilesPath, err))
	}
	if mode != "pull-request" {
		if !res.Committed {
			return saved{detail: "Nothing changed: " + ProfilesPath + " already says this.", link: "/admin", linkText: "Back to the profiles"}, nil
		}
		return saved{detail: fmt.Sprintf("Committed %s to %s: %s. Makers see the change on their next page.", short(res.Hash), s.opts.DefaultBranch, message),
			link: "/admin", linkText: "Back to the profiles"}, nil
	}
	c, err := s.opts.RepositoryHost(ctx)
	if err != nil {
		return saved{}, s.scrub(fmt.Errorf("open the repository's host: %w", err))
	}
	pr, _, err := c.EnsurePullRequest(ctx, devops.NewPullRequest{SourceBranch: branch, TargetBranch: s.opts.DefaultBranch, Title: message, Description: desc})
	if err != nil {
		return saved{}, s.scrub(fmt.Errorf("open the pull request for %s: %w", ProfilesPath, err))
	}
	return saved{detail: fmt.Sprintf("Pull request #%d proposes the change from branch %s: it applies once merged into %s.", pr.ID, branch, s.opts.DefaultBranch),
		link: pr.WebURL, linkText: fmt.Sprintf("Open pull request #%d", pr.ID)}, nil
}
