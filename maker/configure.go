package maker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/steps"
)

// Configure Deployment Settings (seed.md: "Select the Configure Deployment
// Settings link under the name of the Solution"): per deployment
// environment of the solution's profile, how the solution is wired there.
//
// The settings files on the solution's branch (config/<env>/) hold a
// #{token}# for every value, in the Accelerator's grammar
// (steps.TokenizedEnvironmentSettings); the values are the pipeline
// variables of that environment (variableStore: the repository host's, or
// the local store), so no value, and no secret, lands in git. The page
// reads both, shows what is set and what is missing, and runs the checks of
// `ppalm settings validate --environment` (settings.Validate and
// steps.ValidateAgainstTarget) on the settings as the deployment will read
// them. Saving checks first and changes nothing while any value is wrong;
// then it stores the values (and removes those the maker cleared) and
// commits the files (steps.CommitEnvironmentSettings).
//
// The form needs no script: the pickers' lists come with the page, and the
// buttons that look something up (refresh the connections, search Entra
// groups, list a site's lists) post the form back without saving, so what
// the maker entered stays. A secret is never sent back to the browser.
//
// Field names (also the ids, and the keys of page.Errors):
//
//	conn:<connection reference>     the connection (its creator becomes ConnectionOwner)
//	env:<schema name>               an environment variable's value
//	secret:<schema name>            store a text or JSON value as a secret
//	site:<schema name>              the site whose lists a list variable offers
//	share:<app>, role:<app>         the Entra group an app is shared with, and its role
//	owner:flow:<id>, owner:app:<app> the owner in the target
//	on:<flow id>, order:<flow id>   flow activation
//	flowteam:<flow id>              the group team a flow is shared with
//	connectorteam:<connector id>    the group team a custom connector is shared with
//	team:<key>:name|group|roles|keeproles   a group team (key "new": the empty row)

// portal is the maker portal the page links into (connection creation and
// details). The connection creation address is the one the portal itself
// opens for "New connection" of one connector.
const portal = "https://make.powerautomate.com"

// The canvas app roles the page offers: the service grants CanView for
// CanViewWithShare (coe-starter-kit #4345; issue 10), so that role is not
// offered: asking for it would be asking for what is not granted.
var appRoles = []option{{Value: settings.RoleCanView, Label: "Can view"}, {Value: settings.RoleCanEdit, Label: "Can edit"}}

// listableConnectors are the connectors whose data sets the page lists for
// a data source variable (dataverse.ConnectorDataSets); others get a text
// box.
var listableConnectors = map[string]bool{"shared_sharepointonline": true}

type option struct {
	Value, Label string
	Selected     bool
}

// configEnv is one deployment environment of the solution, loaded.
type configEnv struct {
	sol     *solution.Solution
	branch  string
	dir     string // the solution's folder as read from the branch
	cleanup func()
	// The settings files as on the branch (tokens or literal values).
	current       *settings.DeploymentSettings
	currentCustom *settings.CustomDeploymentSettings
	store         *variableStore
	stored        map[string]devops.StoredVariable
	target        Environment
}

// configView is what configure.html shows.
type configView struct {
	Solution    string
	Profile     Profile
	Step        DeploymentStep
	Branch      string
	Where       string
	NoSolution  string // why there is nothing to configure yet
	Connections []connRow
	Variables   []varRow
	Apps        []appRow
	Flows       []flowRow
	Teams       []teamRow
	Connectors  []connectorRow
	OwnersNote  string
	TeamRoles   []string
	TeamNames   []string // the group teams of the page, offered for sharing
	GroupSearch string
	GroupNote   string
	Set         int
	Missing     []string
	Problems    []string // checks that name no field
	Checked     bool
	Notes       []string // look-ups that failed
	Saved       string
	// Fix lists the refused fields, linked, at the top of a refused save.
	Fix []fixItem
	// Passed says every check against the target passed.
	Passed bool
	// Advanced makers may configure another branch than Commit's.
	Advanced bool
	Branches []string
	// Posted says the page answers the maker's form: its checks are
	// announced (role alert); on a page just opened they are not.
	Posted bool
}

type fixItem struct{ Field, Label, Message string }

type connRow struct {
	Field, Name, Logical, Connector string
	Options                         []option
	Owner, Status, Link, Create     string
	State                           string
}

type varRow struct {
	Field, Name, Schema, Type string
	Kind                      string // text, number, boolean, json, secret, datasource
	Value                     string
	Default                   string
	Secret                    bool // stored (or to be stored) as a secret
	CanBeSecret               bool
	SecretSet                 bool // a secret value is stored (never shown)
	Options                   []option
	Sites                     []option // a list variable's site picker
	SiteField                 string
	PickNote                  string
	State                     string
}

type appRow struct {
	Name, DisplayName   string
	GroupField, Group   string
	RoleField, Role     string
	OwnerField, Owner   string
	GroupOptions, Roles []option
	OwnerOptions        []option
	GroupLink           string
}

type flowRow struct {
	ID, Name            string
	OnField, OrderField string
	On                  bool
	Order               string
	OwnerField, Owner   string
	TeamField, Team     string
	Calls               []string
	Children            []string // names of the child flows it calls
	OwnerOptions        []option
}

type teamRow struct {
	Key, NameField, GroupField, RolesField, KeepField string
	Name, Group                                       string
	Roles                                             []option
	KeepRoles                                         bool
	GroupOptions                                      []option
	New                                               bool
}

type connectorRow struct {
	ID, Name, DisplayName, Field, Team string
}

func (s *Server) configureForm(w http.ResponseWriter, r *http.Request) {
	s.configurePage(w, r, false)
}

func (s *Server) configure(w http.ResponseWriter, r *http.Request) {
	s.configurePage(w, r, true)
}

// configurePage serves GET (the environment's settings as stored) and POST
// (the form back: saved when the maker pressed Save and every value
// passes the checks; otherwise shown again with what was looked up).
func (s *Server) configurePage(w http.ResponseWriter, r *http.Request, posted bool) {
	sp, _, ok := s.solutionContext(w, r, true)
	if !ok {
		return
	}
	envName := r.FormValue("environment")
	if envName == "" && len(sp.Profile.Steps) > 0 {
		envName = sp.Profile.Steps[0].Environment
	}
	step, inProfile := sp.Profile.Step(envName)
	if !inProfile {
		s.render(w, r, 404, "result", page{Title: "Configure " + sp.Solution, Failed: true,
			Message: fmt.Sprintf("Profile %s deploys %s to %s; %q is not one of them.", sp.Profile.Name, sp.Solution, stepNames(sp.Profile), envName),
			Link:    "/solutions/" + sp.Solution + "/configure", LinkText: "Configure " + sp.Solution})
		return
	}
	title := fmt.Sprintf("Configure %s for %s", sp.Solution, step.Environment)
	view := &configView{Solution: sp.Solution, Profile: sp.Profile, Step: step}
	// The branch: the one Commit uses; advanced makers, who commit where
	// they choose, may name another.
	branch := sp.Profile.CommitBranch(sp.Solution, s.who(r.Context()).Email)
	if b := strings.TrimSpace(r.FormValue("branch")); b != "" && sp.Advanced && checkBranch(b) == "" {
		branch = b
	}
	view.Advanced = sp.Advanced
	if sp.Advanced {
		view.Branches = s.branches(r.Context())
	}
	ce, err := s.loadConfigEnv(r.Context(), sp, step, branch)
	if ce != nil && ce.cleanup != nil {
		defer ce.cleanup()
	}
	var noSolution *noSolutionError
	switch {
	case errors.As(err, &noSolution):
		view.NoSolution, view.Branch = err.Error(), noSolution.branch
		s.render(w, r, 200, "configure", page{Title: title, Data: view})
		return
	case err != nil:
		s.fail(w, r, 502, err)
		return
	}
	view.Branch, view.Where = ce.branch, ce.store.Where

	var f form
	action := "refresh"
	if posted {
		f = postedForm(r, ce)
		action = r.PostFormValue("action")
		view.GroupSearch = strings.TrimSpace(r.PostFormValue("groupsearch"))
	} else {
		f = storedForm(ce)
	}
	look := s.lookUpTarget(r.Context(), ce, f, view.GroupSearch, action == "groups")
	errs := map[string]string{}
	fieldChecks(ce, f, look, errs)
	problems := s.checkAsDeployed(r.Context(), ce, f, look, errs)
	view.Problems, view.Checked = problems, look.err == nil
	view.Posted = posted
	status := 200
	if action == "save" {
		status = 400
		if len(errs) == 0 && len(problems) == 0 {
			saved, err := s.saveConfiguration(r.Context(), sp, ce, f, look)
			switch {
			case err != nil:
				status = 502
				view.Notes = append(view.Notes, sentence(s.scrubText(err.Error())))
			default:
				status, view.Saved, view.Posted = 200, saved, false
				if ce.stored, err = ce.store.storedValues(r.Context()); err != nil {
					view.Notes = append(view.Notes, "Saved, but the stored values could not be read back: "+s.scrubText(err.Error()))
				}
				f = storedForm(ce)
			}
		}
	}
	s.fillView(view, ce, f, look, errs)
	view.Passed = view.Checked && len(errs) == 0 && len(problems) == 0
	if status == 400 {
		view.Fix = fixList(view, errs)
	}
	// Looking something up is not an attempt to save: the checks are
	// shown beside the fields, but only a refused save answers 400.
	s.render(w, r, status, "configure", page{Title: title, Data: view, Errors: errs})
}

func stepNames(p Profile) string {
	var out []string
	for _, st := range p.Steps {
		out = append(out, st.Environment)
	}
	return strings.Join(out, " and ")
}

// noSolutionError says the branch holds no committed solution yet.
type noSolutionError struct{ branch, msg string }

func (e *noSolutionError) Error() string { return e.msg }

// loadConfigEnv reads the solution and its settings from its branch, and
// what the environment's variable store holds.
func (s *Server) loadConfigEnv(ctx context.Context, sp *solutionPage, step DeploymentStep, branch string) (*configEnv, error) {
	ce := &configEnv{branch: branch}
	target, err := s.environmentOf(step)
	if err != nil {
		return nil, err
	}
	ce.target = target
	var wg sync.WaitGroup
	var storeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		if ce.store, storeErr = s.variables(ctx, sp.Profile, step.Environment); storeErr == nil {
			ce.stored, storeErr = ce.store.storedValues(ctx)
		}
	}()
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.gitToken(ctx), ce.branch, sp.Solution)
	wg.Wait()
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "couldn't find remote ref") || strings.Contains(msg, "not found at") {
			return nil, &noSolutionError{branch: ce.branch, msg: fmt.Sprintf("Branch %s holds no committed %s yet: commit the solution first, then configure how it deploys.", ce.branch, sp.Solution)}
		}
		return nil, s.scrub(err)
	}
	ce.dir = dir
	ce.cleanup = func() { os.RemoveAll(filepath.Dir(dir)) }
	if storeErr != nil {
		return ce, s.scrub(fmt.Errorf("read the values of %s: %w", step.Environment, storeErr))
	}
	src := filepath.Join(dir, filepath.FromSlash(steps.SourceFolder))
	if _, err := os.Stat(src); err != nil {
		return ce, &noSolutionError{branch: ce.branch, msg: fmt.Sprintf("Folder %s of branch %s holds no %s yet: commit the solution first.", sp.Solution, ce.branch, steps.SourceFolder)}
	}
	if ce.sol, err = steps.ReadSolution(ctx, "", src); err != nil {
		return ce, err
	}
	loc, err := settings.Locate(filepath.Join(dir, steps.ConfigFolder), step.Environment)
	if err != nil {
		return ce, err
	}
	if loc.DeploymentSettings != "" {
		if ce.current, _, err = settings.LoadDeploymentSettings(loc.DeploymentSettings); err != nil {
			return ce, fmt.Errorf("branch %s: %w", ce.branch, err)
		}
	}
	if loc.CustomDeploymentSettings != "" {
		if ce.currentCustom, _, err = settings.LoadCustomDeploymentSettings(loc.CustomDeploymentSettings); err != nil {
			return ce, fmt.Errorf("branch %s: %w", ce.branch, err)
		}
	}
	return ce, nil
}

// form is the screen's values: what is stored (GET) or what was posted.
type form struct {
	values map[string]string
	// secretSet names the fields whose stored value is a secret: the value
	// is unknown here; left empty it is kept.
	secretSet map[string]bool
	teams     []teamForm
}

type teamForm struct {
	key, name, group string
	roles            []string
	keepRoles        bool
}

func (f form) get(k string) string { return strings.TrimSpace(f.values[k]) }

// teamSettings are the group teams the form names.
func (f form) teamSettings() []steps.GroupTeamSettings {
	var out []steps.GroupTeamSettings
	for _, t := range f.teams {
		if t.key == "new" || (t.name == "" && t.group == "") {
			continue
		}
		out = append(out, steps.GroupTeamSettings{Key: t.key, Name: t.name, Roles: t.roles, SkipRolesDeletion: t.keepRoles})
	}
	return out
}

// fields maps each field of the screen to what a settings file holds for
// it (a #{token}# or a literal value). Team fields are keyed by the team's
// key.
func fields(ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) map[string]string {
	m := map[string]string{}
	if ds != nil {
		for _, c := range ds.ConnectionReferences {
			m["conn:"+c.LogicalName] = c.ConnectionID
			m["connowner:"+c.LogicalName] = c.ConnectionOwner
		}
		for _, v := range ds.EnvironmentVariables {
			m["env:"+v.SchemaName] = v.Value
		}
	}
	if cds == nil {
		return m
	}
	for _, a := range cds.ActivateFlowConfiguration {
		id := flowID(a.SolutionComponentUniqueName)
		m["on:"+id], m["order:"+id] = a.Activate, a.SortOrder
	}
	for _, o := range cds.SolutionComponentOwnershipConfiguration {
		switch o.SolutionComponentType {
		case settings.ComponentTypeWorkflow:
			m["owner:flow:"+flowID(o.SolutionComponentUniqueName)] = o.OwnerEmail
		case settings.ComponentTypeCanvasApp:
			m["owner:app:"+o.SolutionComponentName] = o.OwnerEmail
		}
	}
	for _, a := range cds.AadGroupCanvasConfiguration {
		m["share:"+a.CanvasNameInSolution], m["role:"+a.CanvasNameInSolution] = a.AadGroupID, a.RoleName
	}
	for _, fs := range cds.FlowShareWithGroupTeamConfiguration {
		m["flowteam:"+flowID(fs.SolutionComponentUniqueName)] = fs.AadGroupTeamName
	}
	for _, c := range cds.ConnectorShareWithGroupTeamConfiguration {
		m["connectorteam:"+solution.NormalizeID(c.SolutionComponentUniqueName)] = c.AadGroupTeamName
	}
	for _, t := range cds.AadGroupTeamConfiguration {
		key := teamKey(t)
		m["team:"+key+":group"], m["team:"+key+":bu"] = t.AadSecurityGroupID, t.AadGroupTeamBusinessUnitID
	}
	return m
}

// flowID is the workflow id of a solutionComponentUniqueName (the
// Accelerator tolerates suffixes such as "_1").
func flowID(s string) string {
	if id, ok := guid.Leading(s); ok {
		return id
	}
	return strings.ToLower(strings.TrimSpace(s))
}

var teamToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#\{groupTeam\.([0-9A-Fa-f-]{36})\.`) })

// teamKey is the key of a group team entry: the GUID of its tokens, or one
// made from its name for a team written by hand.
func teamKey(t settings.GroupTeam) string {
	if m := teamToken().FindStringSubmatch(strings.TrimSpace(t.AadSecurityGroupID)); m != nil {
		return strings.ToLower(m[1])
	}
	return nameKey(t.AadGroupTeamName)
}

// nameKey is a stable GUID-shaped key for a name.
func nameKey(name string) string {
	h := uint64(14695981039346656037)
	var b [16]byte
	for i := range b {
		for _, c := range strings.ToLower(name) {
			h = (h ^ uint64(c)) * 1099511628211
		}
		h = (h ^ uint64(i)) * 1099511628211
		b[i] = byte(h >> 56)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tokenName returns name when s is exactly #{name}#.
func tokenName(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "#{") && strings.HasSuffix(s, "}#") && strings.Count(s, "#{") == 1 {
		return s[2 : len(s)-2]
	}
	return ""
}

// resolve turns what a settings file holds into the value the deployment
// gets: a token's stored variable, or the literal value. secret says the
// store holds a secret (whose value cannot be read back).
func (ce *configEnv) resolve(raw string) (value string, secret, set bool) {
	if tok := tokenName(raw); tok != "" {
		sv, ok := ce.stored[ce.store.key(tok)]
		return sv.Value, sv.Secret, ok
	}
	return strings.TrimSpace(raw), false, strings.TrimSpace(raw) != ""
}

// tokens are the token of every field of the files the screen saves.
func (ce *configEnv) tokens(teams []steps.GroupTeamSettings) (map[string]string, *settings.DeploymentSettings, *settings.CustomDeploymentSettings) {
	ds, cds := steps.TokenizedEnvironmentSettings(ce.sol, teams, ce.currentCustom)
	out := map[string]string{}
	for k, v := range fields(ds, cds) {
		if t := tokenName(v); t != "" {
			out[k] = t
		}
	}
	return out, ds, cds
}

// teamsOf lists the group teams a custom settings file holds.
func teamsOf(ce *configEnv, cds *settings.CustomDeploymentSettings) []teamForm {
	if cds == nil {
		return nil
	}
	var out []teamForm
	for _, t := range cds.AadGroupTeamConfiguration {
		tf := teamForm{key: teamKey(t), name: strings.TrimSpace(t.AadGroupTeamName), keepRoles: !strings.EqualFold(strings.TrimSpace(t.SkipRolesDeletion), "false")}
		tf.group, _, _ = ce.resolve(t.AadSecurityGroupID)
		for _, r := range t.DataverseSecurityRoleNames {
			if strings.TrimSpace(r) != "" {
				tf.roles = append(tf.roles, strings.TrimSpace(r))
			}
		}
		out = append(out, tf)
	}
	return out
}

// storedForm is the form as the branch's files and the stored values make
// it: for each field, the current file's entry (a token resolved through
// the store, or a literal value), else the token the screen would write.
func storedForm(ce *configEnv) form {
	f := form{values: map[string]string{}, secretSet: map[string]bool{}}
	f.teams = teamsOf(ce, ce.currentCustom)
	var teams []steps.GroupTeamSettings
	for _, t := range f.teams {
		teams = append(teams, steps.GroupTeamSettings{Key: t.key, Name: t.name, Roles: t.roles, SkipRolesDeletion: t.keepRoles})
	}
	ours, _, _ := ce.tokens(teams)
	have := fields(ce.current, ce.currentCustom)
	for k, tok := range ours {
		raw, ok := have[k]
		if !ok || strings.TrimSpace(raw) == "" {
			raw = "#{" + tok + "}#"
		}
		v, secret, _ := ce.resolve(raw)
		f.values[k] = v
		if secret {
			f.secretSet[k] = true
		}
	}
	for _, v := range ce.sol.EnvironmentVariables {
		if v.Type == solution.TypeSecret || f.secretSet["env:"+v.SchemaName] {
			f.values["secret:"+v.SchemaName] = "on"
		}
	}
	return f
}

// postedForm reads the form back; a secret field left empty keeps the
// stored secret.
func postedForm(r *http.Request, ce *configEnv) form {
	_ = r.ParseForm()
	stored := storedForm(ce)
	f := form{values: map[string]string{}, secretSet: stored.secretSet}
	for k, vs := range r.PostForm {
		if len(vs) > 0 && strings.Contains(k, ":") && !strings.HasPrefix(k, "team:") {
			f.values[k] = strings.TrimSpace(vs[0])
		}
	}
	for _, fl := range ce.sol.CloudFlows() {
		// Checkboxes send nothing when cleared.
		if f.values["on:"+fl.ID] == "on" {
			f.values["on:"+fl.ID] = "true"
		} else {
			f.values["on:"+fl.ID] = "false"
		}
	}
	for _, k := range r.PostForm["teams"] {
		p := "team:" + k + ":"
		t := teamForm{key: k, name: strings.TrimSpace(r.PostFormValue(p + "name")), group: strings.TrimSpace(r.PostFormValue(p + "group")),
			keepRoles: r.PostFormValue(p+"keeproles") == "on"}
		for _, role := range r.PostForm[p+"roles"] {
			if role = strings.TrimSpace(role); role != "" {
				t.roles = append(t.roles, role)
			}
		}
		if k == "new" && (t.name != "" || t.group != "") {
			t.key = newKey()
		}
		if k == "new" && t.key == "new" {
			continue
		}
		f.teams = append(f.teams, t)
	}
	return f
}

// lookup holds what the page asked the target environment.
type lookup struct {
	envID       string
	connections []dataverse.Connection
	users       []dataverse.SystemUser
	usersCapped bool
	rootBU      *dataverse.BusinessUnit
	roles       []dataverse.Role
	groups      []dataverse.GraphGroup // search results and the groups named
	groupNote   string
	dataSets    map[string][]dataverse.DataSourceItem // by connector
	tables      map[string][]dataverse.DataSourceItem // by site
	pickNotes   map[string]string                     // by connector
	err         error                                 // the target could not be read
}

const maxUsers = 500

// lookUpTarget asks the target what the pickers offer, concurrently.
func (s *Server) lookUpTarget(ctx context.Context, ce *configEnv, f form, groupSearch string, search bool) *lookup {
	dv := ce.target.Client
	l := &lookup{dataSets: map[string][]dataverse.DataSourceItem{}, tables: map[string][]dataverse.DataSourceItem{}, pickNotes: map[string]string{}}
	id, err := dv.EnvironmentID(ctx)
	if err != nil {
		l.err = fmt.Errorf("read environment %s: %w", ce.target.Name, err)
		return l
	}
	l.envID = id
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(fn func()) {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	var connErr error
	run(func() { l.connections, connErr = dv.ListConnections(ctx, id) })
	run(func() {
		var err error
		if l.users, err = dv.ListSystemUsers(ctx, "", maxUsers); err != nil {
			mu.Lock()
			l.err = err
			mu.Unlock()
		}
		l.usersCapped = len(l.users) >= maxUsers
	})
	run(func() {
		bu, err := dv.RootBusinessUnit(ctx)
		if err == nil {
			l.rootBU = bu
			l.roles, err = dv.ListRoles(ctx, bu.ID)
		}
		if err != nil {
			mu.Lock()
			l.err = err
			mu.Unlock()
		}
	})
	// The groups named in the form, for their names, and a search.
	named := map[string]bool{}
	for k, v := range f.values {
		if strings.HasPrefix(k, "share:") && v != "" {
			named[strings.ToLower(strings.Trim(v, "{}"))] = true
		}
	}
	for _, t := range f.teams {
		if t.group != "" {
			named[strings.ToLower(strings.Trim(t.group, "{}"))] = true
		}
	}
	for gid := range named {
		if !guid.Valid(gid) {
			continue
		}
		run(func() {
			g, err := dv.GraphGroup(ctx, gid)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				l.groups = append(l.groups, *g)
			case errors.Is(err, dataverse.ErrDirectoryForbidden):
				l.groupNote = "This app may not read your directory (Microsoft Graph answered 403): groups are shown by id and cannot be searched."
			}
		})
	}
	if search && groupSearch != "" {
		run(func() {
			found, err := dv.SearchGroups(ctx, groupSearch, 25)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, dataverse.ErrDirectoryForbidden):
				l.groupNote = "This app may not search your directory (Microsoft Graph answered 403): enter the group's object id instead."
			case err != nil:
				l.groupNote = "The group search failed: " + err.Error()
			case len(found) == 0:
				l.groupNote = fmt.Sprintf("No Entra group's name has a word starting with %q.", groupSearch)
			default:
				l.groupNote = fmt.Sprintf("%d group(s) found for %q: pick one in the lists below.", len(found), groupSearch)
				l.groups = append(l.groups, found...)
			}
		})
	}
	wg.Wait()
	if connErr != nil {
		l.err = fmt.Errorf("list the connections of %s: %w", ce.target.Name, connErr)
		return l
	}
	// Data sources: through a connection of the variable's connector, the
	// one chosen for a connection reference of that connector first.
	for _, v := range ce.sol.EnvironmentVariables {
		if v.Type != solution.TypeDataSource {
			continue
		}
		api := connectorName(v.ConnectorID)
		if !listableConnectors[api] {
			continue
		}
		conn := pickConnection(ce.sol, f, l.connections, api)
		if conn == "" {
			l.pickNotes[api] = fmt.Sprintf("%s has no %s connection to list the choices through: create one, or enter the value.", ce.target.Name, api)
			continue
		}
		if _, done := l.dataSets[api]; !done && l.pickNotes[api] == "" {
			sets, err := dv.ConnectorDataSets(ctx, id, v.ConnectorID, conn)
			if err != nil {
				l.pickNotes[api] = "The choices could not be listed (" + err.Error() + "): enter the value."
				continue
			}
			l.dataSets[api] = sets
		}
		if strings.EqualFold(v.ParameterKey, "table") {
			site := f.get("site:" + v.SchemaName)
			if site == "" {
				site = siteOf(ce.sol, f, api)
			}
			if site != "" {
				if _, done := l.tables[site]; !done {
					lists, err := dv.ConnectorTables(ctx, id, v.ConnectorID, conn, site)
					if err != nil {
						l.pickNotes[site] = "The site's lists could not be listed (" + err.Error() + "): enter the list id."
					}
					l.tables[site] = lists
				}
			}
		}
	}
	return l
}

// pickConnection is the connection a data source is listed through.
func pickConnection(sol *solution.Solution, f form, conns []dataverse.Connection, api string) string {
	for _, cr := range sol.ConnectionReferences {
		if connectorName(cr.ConnectorID) == api && f.get("conn:"+cr.LogicalName) != "" {
			for _, c := range conns {
				if strings.EqualFold(c.Name, f.get("conn:"+cr.LogicalName)) && connectorName(c.ConnectorID) == api {
					return c.Name
				}
			}
		}
	}
	for _, c := range conns {
		if connectorName(c.ConnectorID) == api {
			return c.Name
		}
	}
	return ""
}

// siteOf is the site a list variable defaults to: the value of the
// solution's site (dataset) variable of the same connector.
func siteOf(sol *solution.Solution, f form, api string) string {
	for _, v := range sol.EnvironmentVariables {
		if v.Type == solution.TypeDataSource && connectorName(v.ConnectorID) == api && !strings.EqualFold(v.ParameterKey, "table") {
			if site := f.get("env:" + v.SchemaName); site != "" {
				return site
			}
		}
	}
	return ""
}

func connectorName(id string) string {
	return strings.ToLower(id[strings.LastIndex(id, "/")+1:])
}

func (l *lookup) connection(name string) *dataverse.Connection {
	for i := range l.connections {
		if strings.EqualFold(l.connections[i].Name, name) {
			return &l.connections[i]
		}
	}
	return nil
}

// connectionOwner is what ConnectionOwner holds for a connection: its
// creator's e-mail, else object id.
func connectionOwner(c *dataverse.Connection) string {
	if c == nil {
		return ""
	}
	if c.CreatedBy.Email != "" {
		return c.CreatedBy.Email
	}
	return c.CreatedBy.ID
}

// fieldChecks are the checks the settings files cannot express: a choice
// the page did not offer, a team named twice, a role the business unit
// lacks. They add to errs, by field.
func fieldChecks(ce *configEnv, f form, l *lookup, errs map[string]string) {
	// Values by type, in a maker's words (settings.Validate checks the
	// same and stays the backstop; its wording is for people editing the
	// file).
	for _, cr := range ce.sol.ConnectionReferences {
		if f.get("conn:"+cr.LogicalName) == "" {
			errs["conn:"+cr.LogicalName] = fmt.Sprintf("Choose a %s connection of %s: the deployment binds %s to it.",
				connectorTitle(connectorName(cr.ConnectorID)), ce.target.Name, orName(cr.DisplayName, cr.LogicalName))
		}
	}
	for _, v := range ce.sol.EnvironmentVariables {
		k := "env:" + v.SchemaName
		val := f.get(k)
		if val == "" {
			if v.DefaultValue == "" && !f.secretSet[k] {
				errs[k] = "Enter a value: the variable has no default, and the import refuses an empty value."
				if v.Type == solution.TypeBoolean || v.Type == solution.TypeDataSource {
					errs[k] = "Choose a value: the variable has no default, and the import refuses an empty value."
				}
			}
			continue
		}
		switch v.Type {
		case solution.TypeNumber:
			if _, err := strconv.ParseFloat(val, 64); err != nil {
				errs[k] = "Enter a number, such as 42 or 3.5."
			}
		case solution.TypeBoolean:
			if val != "true" && val != "false" {
				errs[k] = "Choose Yes or No."
			}
		case solution.TypeJSON:
			var x any
			if err := json.Unmarshal([]byte(val), &x); err != nil {
				place := "it is incomplete"
				var se *json.SyntaxError
				if errors.As(err, &se) {
					place = fmt.Sprintf("the error is at character %d", se.Offset)
				}
				errs[k] = "This is not valid JSON (" + place + "): check the brackets, quotes and commas."
			}
		case solution.TypeSecret:
			if !settings.IsKeyVaultSecretRef(val) {
				errs[k] = "Enter an Azure Key Vault secret reference: /subscriptions/{subscription id}/resourceGroups/{resource group}/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{secret name}."
			}
		}
	}
	for _, a := range sharable(ce.sol) {
		group, role := f.get("share:"+a.Name), f.get("role:"+a.Name)
		switch {
		case group == "" && role != "":
			errs["share:"+a.Name] = "Choose the Entra group to share " + a.DisplayName + " with, or clear its role."
		case group != "" && role == "":
			errs["role:"+a.Name] = "Choose what the group may do with " + a.DisplayName + ": Can view or Can edit."
		case strings.EqualFold(role, settings.RoleCanViewWithShare):
			errs["role:"+a.Name] = "The service grants Can view for Can view and share: choose Can view or Can edit."
		case role != "" && role != settings.RoleCanView && role != settings.RoleCanEdit:
			errs["role:"+a.Name] = "Choose Can view or Can edit."
		}
	}
	names := map[string]bool{}
	var roleNames map[string]bool
	if l.roles != nil {
		roleNames = map[string]bool{}
		for _, r := range l.roles {
			roleNames[strings.ToLower(r.Name)] = true
		}
	}
	for _, t := range f.teams {
		p := "team:" + t.key + ":"
		switch {
		case t.name == "" && t.group == "":
			continue
		case t.name == "":
			errs[p+"name"] = "Enter the team's name (clear the group too to remove the team)."
		case names[strings.ToLower(t.name)]:
			errs[p+"name"] = fmt.Sprintf("Another team is called %s: give each team its own name.", t.name)
		}
		names[strings.ToLower(t.name)] = true
		if t.group == "" {
			errs[p+"group"] = "Choose the Entra security group of team " + t.name + "."
		}
		for _, r := range t.roles {
			if roleNames != nil && !roleNames[strings.ToLower(r)] {
				errs[p+"roles"] = fmt.Sprintf("%s has no security role %q in its root business unit.", ce.target.Name, r)
			}
		}
	}
	teamOK := func(field string) {
		if v := f.get(field); v != "" && !names[strings.ToLower(v)] {
			errs[field] = fmt.Sprintf("%q is not one of the group teams of this page: add the team below, or choose one.", v)
		}
	}
	for _, fl := range ce.sol.CloudFlows() {
		teamOK("flowteam:" + fl.ID)
	}
	for _, c := range ce.sol.CustomConnectors {
		teamOK("connectorteam:" + c.ID)
	}
}

// sharable are the canvas apps proper (custom pages and component
// libraries are neither shared nor owned on their own).
func sharable(sol *solution.Solution) []solution.CanvasApp {
	var out []solution.CanvasApp
	for _, a := range sol.CanvasApps {
		if a.AppType == 0 {
			out = append(out, a)
		}
	}
	return out
}

// keptSecret stands for a stored secret in the checks: a value the
// deployment fills at deploy time, which the checks accept unseen.
const keptSecret = "#{kept.secret}#"

// asDeployed is the environment's settings as the deployment will read
// them once the tokens are filled with the form's values: the entries the
// maker left unconfigured are skipped (settings.SkipNotConfigured's rule),
// and where maps each entry (its JSON path) to the field it came from.
func asDeployed(ce *configEnv, f form, l *lookup) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings, map[string]string) {
	where := map[string]string{}
	val := func(k string) string {
		if v := f.get(k); v != "" {
			return v
		}
		if f.secretSet[k] {
			return keptSecret
		}
		return ""
	}
	ds := &settings.DeploymentSettings{File: settings.DeploymentSettingsFile}
	for _, cr := range ce.sol.ConnectionReferences {
		k := "conn:" + cr.LogicalName
		where[fmt.Sprintf("ConnectionReferences[%d]", len(ds.ConnectionReferences))] = k
		ds.ConnectionReferences = append(ds.ConnectionReferences, settings.ConnectionReferenceSetting{LogicalName: cr.LogicalName,
			ConnectionID: val(k), ConnectorID: cr.ConnectorID, ConnectionOwner: connectionOwner(l.connection(val(k)))})
	}
	for _, v := range ce.sol.EnvironmentVariables {
		k := "env:" + v.SchemaName
		where[fmt.Sprintf("EnvironmentVariables[%d]", len(ds.EnvironmentVariables))] = k
		ds.EnvironmentVariables = append(ds.EnvironmentVariables, settings.EnvironmentVariableSetting{SchemaName: v.SchemaName, Value: val(k)})
	}
	cds := &settings.CustomDeploymentSettings{File: settings.CustomDeploymentSettingsFile}
	for _, fl := range ce.sol.CloudFlows() {
		i := len(cds.ActivateFlowConfiguration)
		where[fmt.Sprintf("ActivateFlowConfiguration[%d].sortOrder", i)] = "order:" + fl.ID
		where[fmt.Sprintf("ActivateFlowConfiguration[%d]", i)] = "on:" + fl.ID
		cds.ActivateFlowConfiguration = append(cds.ActivateFlowConfiguration, settings.FlowActivation{SolutionComponentName: fl.Name,
			SolutionComponentUniqueName: fl.ID, SortOrder: val("order:" + fl.ID), Activate: val("on:" + fl.ID)})
		if owner := val("owner:flow:" + fl.ID); owner != "" {
			where[fmt.Sprintf("SolutionComponentOwnershipConfiguration[%d]", len(cds.SolutionComponentOwnershipConfiguration))] = "owner:flow:" + fl.ID
			cds.SolutionComponentOwnershipConfiguration = append(cds.SolutionComponentOwnershipConfiguration, settings.ComponentOwnership{
				SolutionComponentType: settings.ComponentTypeWorkflow, SolutionComponentName: fl.Name, SolutionComponentUniqueName: fl.ID, OwnerEmail: owner})
		}
		if team := val("flowteam:" + fl.ID); team != "" {
			where[fmt.Sprintf("FlowShareWithGroupTeamConfiguration[%d]", len(cds.FlowShareWithGroupTeamConfiguration))] = "flowteam:" + fl.ID
			cds.FlowShareWithGroupTeamConfiguration = append(cds.FlowShareWithGroupTeamConfiguration, settings.FlowShare{
				SolutionComponentName: fl.Name, SolutionComponentUniqueName: fl.ID, AadGroupTeamName: team})
		}
	}
	for _, a := range sharable(ce.sol) {
		if owner := val("owner:app:" + a.Name); owner != "" {
			where[fmt.Sprintf("SolutionComponentOwnershipConfiguration[%d]", len(cds.SolutionComponentOwnershipConfiguration))] = "owner:app:" + a.Name
			cds.SolutionComponentOwnershipConfiguration = append(cds.SolutionComponentOwnershipConfiguration, settings.ComponentOwnership{
				SolutionComponentType: settings.ComponentTypeCanvasApp, SolutionComponentName: a.Name, OwnerEmail: owner})
		}
		if group := val("share:" + a.Name); group != "" {
			i := len(cds.AadGroupCanvasConfiguration)
			where[fmt.Sprintf("AadGroupCanvasConfiguration[%d]", i)] = "share:" + a.Name
			where[fmt.Sprintf("AadGroupCanvasConfiguration[%d].roleName", i)] = "role:" + a.Name
			cds.AadGroupCanvasConfiguration = append(cds.AadGroupCanvasConfiguration, settings.CanvasAppShare{
				AadGroupID: group, CanvasNameInSolution: a.Name, CanvasDisplayName: a.DisplayName, RoleName: val("role:" + a.Name)})
		}
	}
	for _, t := range f.teamSettings() {
		tf := teamFormOf(f, t.Key)
		i := len(cds.AadGroupTeamConfiguration)
		p := "team:" + t.Key + ":"
		where[fmt.Sprintf("AadGroupTeamConfiguration[%d]", i)] = p + "name"
		where[fmt.Sprintf("AadGroupTeamConfiguration[%d].aadSecurityGroupId", i)] = p + "group"
		where[fmt.Sprintf("AadGroupTeamConfiguration[%d].dataverseSecurityRoleNames", i)] = p + "roles"
		bu := ""
		if l.rootBU != nil {
			bu = l.rootBU.ID
		}
		cds.AadGroupTeamConfiguration = append(cds.AadGroupTeamConfiguration, settings.GroupTeam{AadGroupTeamName: t.Name,
			AadSecurityGroupID: tf.group, AadGroupTeamBusinessUnitID: bu, DataverseSecurityRoleNames: t.Roles, SkipRolesDeletion: fmt.Sprint(t.SkipRolesDeletion)})
	}
	for _, c := range ce.sol.CustomConnectors {
		if team := val("connectorteam:" + c.ID); team != "" {
			where[fmt.Sprintf("ConnectorShareWithGroupTeamConfiguration[%d]", len(cds.ConnectorShareWithGroupTeamConfiguration))] = "connectorteam:" + c.ID
			cds.ConnectorShareWithGroupTeamConfiguration = append(cds.ConnectorShareWithGroupTeamConfiguration, settings.ConnectorShare{
				SolutionComponentName: c.Name, SolutionComponentUniqueName: c.ID, AadGroupTeamName: team})
		}
	}
	return ds, cds, where
}

func teamFormOf(f form, key string) teamForm {
	for _, t := range f.teams {
		if t.key == key {
			return t
		}
	}
	return teamForm{}
}

// entryField finds the field a problem's entry (a JSON path) belongs to: the
// longest path registered in where that the entry starts with.
func entryField(where map[string]string, entry string) string {
	for e := entry; e != ""; {
		if k, ok := where[e]; ok {
			return k
		}
		i := strings.LastIndexAny(e, ".[")
		if i < 0 {
			break
		}
		e = e[:i]
	}
	return ""
}

// checkAsDeployed runs `ppalm settings validate --environment`'s checks on
// the settings as the deployment will read them: settings.Validate
// offline, steps.ValidateAgainstTarget against the target. Each problem
// goes beside its field in errs; those of no field come back as lines.
// Secrets kept unseen are not checked again.
func (s *Server) checkAsDeployed(ctx context.Context, ce *configEnv, f form, l *lookup, errs map[string]string) []string {
	ds, cds, where := asDeployed(ce, f, l)
	problems := settings.Validate(ce.sol, ds, cds)
	if l.err == nil {
		// Without an error, the lookup read the connections (maybe none).
		known := steps.TargetKnown{EnvironmentID: l.envID, Connections: append([]dataverse.Connection{}, l.connections...)}
		problems = append(problems, steps.ValidateAgainstKnownTarget(ctx, ce.target.Client, known, ce.sol, ds, cds)...)
	}
	var lines []string
	for _, p := range problems {
		if p.Severity != settings.SeverityError {
			continue
		}
		msg := s.scrubText(strings.ReplaceAll(p.Message, keptSecret, "the stored secret"))
		if k := entryField(where, p.Entry); k != "" {
			if _, taken := errs[k]; !taken {
				errs[k] = sentence(msg)
			}
			continue
		}
		lines = append(lines, p.String())
	}
	if l.err != nil {
		lines = append(lines, "The checks against "+ce.target.Name+" could not run: "+s.scrubText(l.err.Error()))
	}
	return lines
}

// sentence starts a check's message with a capital and ends it with a
// full stop, as the page's other messages.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// saveConfiguration stores the values (secrets as secrets), removes the
// ones the maker cleared, and commits the environment's tokenised files to
// the solution's branch. It says what it did.
func (s *Server) saveConfiguration(ctx context.Context, sp *solutionPage, ce *configEnv, f form, l *lookup) (string, error) {
	teams := f.teamSettings()
	tokens, ds, cds := ce.tokens(teams)
	var set []devops.PipelineVariable
	var clear []string
	secrets := 0
	for k, tok := range tokens {
		v := f.get(k)
		switch {
		case strings.HasPrefix(k, "connowner:"):
			v = connectionOwner(l.connection(f.get("conn:" + strings.TrimPrefix(k, "connowner:"))))
		case strings.HasPrefix(k, "team:") && strings.HasSuffix(k, ":group"):
			v = teamFormOf(f, strings.TrimSuffix(strings.TrimPrefix(k, "team:"), ":group")).group
		case strings.HasPrefix(k, "team:") && strings.HasSuffix(k, ":bu"):
			if l.rootBU != nil {
				v = l.rootBU.ID
			}
		}
		secret := isSecretField(ce.sol, f, k)
		sv, stored := ce.stored[ce.store.key(tok)]
		switch {
		case v != "" && stored && !secret && !sv.Secret && sv.Value == v:
			// Unchanged: not sent again (GitHub takes one request per
			// variable).
		case v != "":
			set = append(set, devops.PipelineVariable{Name: tok, Value: v, Secret: secret})
			if secret {
				secrets++
			}
		case f.secretSet[k] && secret:
			// Left empty: the stored secret stays.
		case stored:
			clear = append(clear, tok)
		}
	}
	// Teams removed from the page lose their variables too.
	for _, t := range teamsOf(ce, ce.currentCustom) {
		if teamFormOf(f, t.key).key == "" {
			g, bu := steps.GroupTeamTokens(t.key, t.name)
			clear = append(clear, g, bu)
		}
	}
	sort.Slice(set, func(i, j int) bool { return set[i].Name < set[j].Name })
	sort.Strings(clear)
	if err := ce.store.set(ctx, set); err != nil {
		return "", fmt.Errorf("the values could not all be stored in %s, and the settings files were not committed; save again: %w", ce.store.Where, err)
	}
	if err := ce.store.del(ctx, clear); err != nil {
		return "", fmt.Errorf("the values were stored in %s, but those you cleared could not be removed, and the settings files were not committed: %w", ce.store.Where, err)
	}
	// The config folder is read again just before the commit, one save at
	// a time: a save of another environment meanwhile is kept.
	s.configMu.Lock()
	defer s.configMu.Unlock()
	config := filepath.Join(filepath.Dir(ce.dir), "config-"+ce.target.Name)
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: s.opts.Repo, Ref: ce.branch, Path: sp.Solution + "/" + steps.ConfigFolder,
		Dest: config, Token: s.gitToken(ctx)}); err != nil && !errors.Is(err, object.ErrDirectoryNotFound) {
		return "", s.scrub(fmt.Errorf("the values were stored in %s, but the settings files could not be read again to commit them: %w", ce.store.Where, err))
	}
	res, err := steps.CommitEnvironmentSettings(ctx, steps.EnvironmentSettingsCommit{
		Repo: s.opts.Repo, Branch: ce.branch, Base: sp.Profile.Target(), Token: s.gitToken(ctx), Author: s.who(ctx).Signature,
		Message:  fmt.Sprintf("Deployment settings of %s for %s", sp.Solution, ce.target.Name),
		Solution: sp.Solution, Environment: ce.target.Name, ConfigDir: config,
		Deployment: ds, Custom: cds, Now: s.opts.Now,
	})
	if err != nil {
		return "", s.scrub(fmt.Errorf("the values were stored in %s, but the settings files could not be committed: %w", ce.store.Where, err))
	}
	ce.current, ce.currentCustom = ds, cds
	files := "the settings files on branch " + ce.branch + " were already up to date"
	if res.Committed {
		files = fmt.Sprintf("settings files committed to branch %s (%s)", ce.branch, short(res.Hash))
	}
	msg := fmt.Sprintf("Saved for %s: the values are in %s", ce.target.Name, ce.store.Where)
	if len(set) > 0 {
		msg += fmt.Sprintf(", %d changed", len(set))
	}
	if secrets > 0 {
		msg += fmt.Sprintf(" (%d of them secret)", secrets)
	}
	if len(clear) > 0 {
		msg += fmt.Sprintf("; %d cleared", len(clear))
	}
	return msg + "; " + files + ".", nil
}

// isSecretField says whether a field's value is stored as a secret: a
// secret (Key Vault reference) variable always, a text or JSON variable
// when the maker says so.
func isSecretField(sol *solution.Solution, f form, k string) bool {
	schema, ok := strings.CutPrefix(k, "env:")
	if !ok {
		return false
	}
	for _, v := range sol.EnvironmentVariables {
		if v.SchemaName == schema {
			return v.Type == solution.TypeSecret || (canBeSecret(v) && f.get("secret:"+schema) == "on")
		}
	}
	return false
}

func canBeSecret(v solution.EnvironmentVariable) bool {
	return v.Type == solution.TypeString || v.Type == solution.TypeJSON
}

// fillView lays the form out for configure.html.
func (s *Server) fillView(v *configView, ce *configEnv, f form, l *lookup, errs map[string]string) {
	tokens, _, _ := ce.tokens(f.teamSettings())
	state := func(k string, required bool) string {
		tok, ok := tokens[k]
		if !ok {
			return ""
		}
		sv, stored := ce.stored[ce.store.key(tok)]
		switch {
		case stored && sv.Secret:
			v.Set++
			return "set (secret)"
		case stored:
			v.Set++
			return "set"
		case required:
			return "missing"
		}
		return "not configured"
	}
	if l.err != nil {
		v.Notes = append(v.Notes, s.scrubText(l.err.Error()))
	}
	envID := url.PathEscape(l.envID)
	for _, cr := range ce.sol.ConnectionReferences {
		k := "conn:" + cr.LogicalName
		api := connectorName(cr.ConnectorID)
		row := connRow{Field: k, Name: orName(cr.DisplayName, cr.LogicalName), Logical: cr.LogicalName, Connector: connectorTitle(api),
			State:  state(k, true),
			Create: portal + "/environments/" + envID + "/connections/available/" + url.PathEscape(api)}
		chosen := f.get(k)
		for _, c := range l.connections {
			if connectorName(c.ConnectorID) != api {
				continue
			}
			row.Options = append(row.Options, option{Value: c.Name, Selected: strings.EqualFold(c.Name, chosen), Label: connectionLabel(c)})
		}
		if c := l.connection(chosen); c != nil {
			row.Owner, row.Status = orName(connectionOwner(c), "unknown"), orName(c.Status, "unknown")
			row.Link = portal + "/environments/" + envID + "/connections/" + url.PathEscape(api) + "/" + url.PathEscape(c.Name) + "/details"
		} else if chosen != "" {
			row.Options = append(row.Options, option{Value: chosen, Label: chosen + " (not a connection of " + ce.target.Name + ")", Selected: true})
		}
		if row.State == "missing" {
			v.Missing = append(v.Missing, "connection of "+row.Name)
		}
		v.Connections = append(v.Connections, row)
	}
	for _, ev := range ce.sol.EnvironmentVariables {
		k := "env:" + ev.SchemaName
		row := varRow{Field: k, Name: orName(ev.DisplayName, ev.SchemaName), Schema: ev.SchemaName, Type: ev.TypeName(),
			Default: ev.DefaultValue, CanBeSecret: canBeSecret(ev), SecretSet: f.secretSet[k],
			Secret: ev.Type == solution.TypeSecret || f.get("secret:"+ev.SchemaName) == "on"}
		row.State = state(k, ev.DefaultValue == "")
		if !row.Secret {
			row.Value = f.get(k)
		}
		switch ev.Type {
		case solution.TypeNumber:
			row.Kind = "number"
		case solution.TypeBoolean:
			row.Kind = "boolean"
			for _, b := range []string{"true", "false"} {
				row.Options = append(row.Options, option{Value: b, Label: map[string]string{"true": "Yes", "false": "No"}[b], Selected: strings.EqualFold(row.Value, b)})
			}
		case solution.TypeJSON:
			row.Kind = "json"
		case solution.TypeSecret:
			row.Kind = "secret"
		case solution.TypeDataSource:
			row.Kind = "datasource"
			s.dataSourceRow(&row, ev, ce, f, l)
		default:
			row.Kind = "text"
		}
		if row.Secret {
			row.Kind = "secret"
		}
		if row.State == "missing" {
			v.Missing = append(v.Missing, "value of "+row.Name)
		}
		v.Variables = append(v.Variables, row)
	}
	// Users, groups and teams the pickers offer.
	userOptions := func(chosen string) []option {
		opts := []option{{Value: "", Label: "Keep the deploying identity", Selected: chosen == ""}}
		found := chosen == ""
		for _, u := range l.users {
			mail := orName(u.Email, u.DomainName)
			sel := strings.EqualFold(mail, chosen)
			found = found || sel
			opts = append(opts, option{Value: mail, Label: fmt.Sprintf("%s (%s)", orName(u.FullName, mail), mail), Selected: sel})
		}
		if !found {
			opts = append(opts, option{Value: chosen, Label: chosen + " (not among the users listed)", Selected: true})
		}
		return opts
	}
	if l.usersCapped {
		v.OwnersNote = fmt.Sprintf("%s has more than %d users: the lists show the first %d by name.", ce.target.Name, maxUsers, maxUsers)
	}
	groupOptions := func(chosen string) []option {
		opts := []option{{Value: "", Label: "Not shared", Selected: chosen == ""}}
		seen := map[string]bool{}
		found := chosen == ""
		for _, g := range l.groups {
			if seen[strings.ToLower(g.ID)] {
				continue
			}
			seen[strings.ToLower(g.ID)] = true
			sel := strings.EqualFold(g.ID, strings.Trim(chosen, "{}"))
			found = found || sel
			label := g.DisplayName
			if g.Mail != "" {
				label += " (" + g.Mail + ")"
			}
			opts = append(opts, option{Value: g.ID, Label: label, Selected: sel})
		}
		if !found {
			opts = append(opts, option{Value: chosen, Label: chosen + " (group not found)", Selected: true})
		}
		return opts
	}
	v.GroupNote = l.groupNote
	for _, a := range sharable(ce.sol) {
		row := appRow{Name: a.Name, DisplayName: orName(a.DisplayName, a.Name), GroupField: "share:" + a.Name, RoleField: "role:" + a.Name,
			OwnerField: "owner:app:" + a.Name, Group: f.get("share:" + a.Name), Role: f.get("role:" + a.Name), Owner: f.get("owner:app:" + a.Name)}
		row.GroupOptions = groupOptions(row.Group)
		row.Roles = []option{{Value: "", Label: "Choose a role", Selected: row.Role == ""}}
		for _, r := range appRoles {
			row.Roles = append(row.Roles, option{Value: r.Value, Label: r.Label, Selected: r.Value == row.Role})
		}
		if strings.EqualFold(row.Role, settings.RoleCanViewWithShare) {
			row.Roles = append(row.Roles, option{Value: row.Role, Label: "Can view and share (granted as Can view)", Selected: true})
		}
		if guid.Valid(row.Group) {
			row.GroupLink = "https://portal.azure.com/#view/Microsoft_AAD_IAM/GroupDetailsMenuBlade/~/Overview/groupId/" + url.PathEscape(strings.Trim(row.Group, "{}"))
		}
		v.Apps = append(v.Apps, row)
		state(row.GroupField, false)
	}
	v.TeamRoles = nil
	for _, r := range l.roles {
		v.TeamRoles = append(v.TeamRoles, r.Name)
	}
	var teamNames []string
	for _, t := range f.teams {
		if t.key == "new" {
			continue
		}
		row := teamRow{Key: t.key, NameField: "team:" + t.key + ":name", GroupField: "team:" + t.key + ":group", RolesField: "team:" + t.key + ":roles",
			KeepField: "team:" + t.key + ":keeproles", Name: t.name, Group: t.group, KeepRoles: t.keepRoles}
		row.GroupOptions = groupOptions(t.group)
		row.Roles = roleOptions(v.TeamRoles, t.roles)
		v.Teams = append(v.Teams, row)
		if t.name != "" {
			teamNames = append(teamNames, t.name)
		}
	}
	blank := teamRow{Key: "new", NameField: "team:new:name", GroupField: "team:new:group", RolesField: "team:new:roles", KeepField: "team:new:keeproles",
		New: true, KeepRoles: true, GroupOptions: groupOptions(""), Roles: roleOptions(v.TeamRoles, nil)}
	blank.GroupOptions[0].Label = "Choose a group"
	v.Teams = append(v.Teams, blank)
	v.TeamNames = teamNames
	names := map[string]string{}
	for _, fl := range ce.sol.CloudFlows() {
		names[fl.ID] = fl.Name
	}
	// The rows in the order the deployment turns the flows on: by the
	// order given, every child flow before the flows calling it.
	sorts := map[string]int{}
	for _, fl := range ce.sol.CloudFlows() {
		if n, err := strconv.Atoi(f.get("order:" + fl.ID)); err == nil {
			sorts[fl.ID] = n
		}
	}
	for i, fl := range steps.ActivationOrder(ce.sol.CloudFlows(), sorts) {
		row := flowRow{ID: fl.ID, Name: fl.Name, OnField: "on:" + fl.ID, OrderField: "order:" + fl.ID, OwnerField: "owner:flow:" + fl.ID,
			TeamField: "flowteam:" + fl.ID, On: !strings.EqualFold(f.get("on:"+fl.ID), "false"), Order: f.get("order:" + fl.ID),
			Owner: f.get("owner:flow:" + fl.ID), Team: f.get("flowteam:" + fl.ID)}
		if row.Order == "" {
			row.Order = strconv.Itoa(i + 1)
		}
		for _, c := range fl.ChildFlows {
			if n, ok := names[c]; ok {
				row.Children = append(row.Children, n)
			}
		}
		row.OwnerOptions = userOptions(row.Owner)
		if state(row.OrderField, true) == "missing" || state(row.OnField, true) == "missing" {
			v.Missing = append(v.Missing, "activation of flow "+fl.Name)
		}
		state(row.OwnerField, false)
		state(row.TeamField, false)
		v.Flows = append(v.Flows, row)
	}
	for i := range v.Apps {
		v.Apps[i].OwnerOptions = userOptions(v.Apps[i].Owner)
		state(v.Apps[i].OwnerField, false)
	}
	for _, c := range ce.sol.CustomConnectors {
		k := "connectorteam:" + c.ID
		v.Connectors = append(v.Connectors, connectorRow{ID: c.ID, Name: c.Name, DisplayName: orName(c.DisplayName, c.Name), Field: k,
			Team: f.get(k)})
	}
}

// fixList is the refused fields in page order, each with what to fix.
func fixList(v *configView, errs map[string]string) []fixItem {
	var out []fixItem
	add := func(field, label string) {
		if msg, ok := errs[field]; ok {
			out = append(out, fixItem{Field: field, Label: label, Message: msg})
			delete(errs, field)
		}
	}
	left := map[string]string{}
	for k, m := range errs {
		left[k] = m
	}
	errs = left
	for _, c := range v.Connections {
		add(c.Field, "Connection of "+c.Name)
	}
	for _, r := range v.Variables {
		add(r.Field, r.Name)
	}
	for _, a := range v.Apps {
		add(a.GroupField, "Group "+a.DisplayName+" is shared with")
		add(a.RoleField, "Permission on "+a.DisplayName)
	}
	for _, fl := range v.Flows {
		add(fl.OwnerField, "Owner of flow "+fl.Name)
	}
	for _, a := range v.Apps {
		add(a.OwnerField, "Owner of app "+a.DisplayName)
	}
	for _, fl := range v.Flows {
		add(fl.OrderField, "Order of flow "+fl.Name)
	}
	for _, t := range v.Teams {
		name := orName(t.Name, "the new team")
		add(t.NameField, "Name of team "+name)
		add(t.GroupField, "Group of team "+name)
		add(t.RolesField, "Roles of team "+name)
	}
	for _, fl := range v.Flows {
		add(fl.TeamField, "Team flow "+fl.Name+" is shared with")
	}
	for _, c := range v.Connectors {
		add(c.Field, "Team connector "+c.DisplayName+" is shared with")
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, k)
	}
	return out
}

func roleOptions(all, chosen []string) []option {
	var out []option
	have := map[string]bool{}
	for _, r := range chosen {
		have[strings.ToLower(r)] = true
	}
	for _, r := range all {
		out = append(out, option{Value: r, Label: r, Selected: have[strings.ToLower(r)]})
		delete(have, strings.ToLower(r))
	}
	for _, r := range chosen {
		if have[strings.ToLower(r)] {
			out = append(out, option{Value: r, Label: r + " (not in this environment)", Selected: true})
		}
	}
	return out
}

// dataSourceRow offers a data source variable's choices: the connector's
// data sets (a SharePoint connection's sites), or for a list variable the
// lists of a chosen site; free text when the connector cannot be listed.
func (s *Server) dataSourceRow(row *varRow, ev solution.EnvironmentVariable, ce *configEnv, f form, l *lookup) {
	api := connectorName(ev.ConnectorID)
	if !listableConnectors[api] {
		row.PickNote = fmt.Sprintf("ppalm cannot list the choices of connector %s: enter the value.", orName(api, "(none)"))
		return
	}
	if note := l.pickNotes[api]; note != "" {
		row.PickNote = s.scrubText(note)
		return
	}
	add := func(items []dataverse.DataSourceItem) {
		found := row.Value == ""
		for _, it := range items {
			sel := strings.EqualFold(strings.TrimRight(it.Name, "/"), strings.TrimRight(row.Value, "/"))
			found = found || sel
			row.Options = append(row.Options, option{Value: it.Name, Label: fmt.Sprintf("%s (%s)", orName(it.DisplayName, it.Name), it.Name), Selected: sel})
		}
		if !found {
			row.Options = append(row.Options, option{Value: row.Value, Label: row.Value + " (not listed)", Selected: true})
		}
	}
	if !strings.EqualFold(ev.ParameterKey, "table") {
		add(l.dataSets[api])
		return
	}
	row.SiteField = "site:" + ev.SchemaName
	site := f.get(row.SiteField)
	if site == "" {
		site = siteOf(ce.sol, f, api)
	}
	for _, it := range l.dataSets[api] {
		row.Sites = append(row.Sites, option{Value: it.Name, Label: orName(it.DisplayName, it.Name), Selected: strings.EqualFold(it.Name, site)})
	}
	if note := l.pickNotes[site]; note != "" {
		row.PickNote = s.scrubText(note)
	}
	add(l.tables[site])
}

// connectionLabel names a connection in a picker: its name, who created it
// and its status.
func connectionLabel(c dataverse.Connection) string {
	owner := orName(connectionOwner(&c), "unknown")
	name := orName(c.DisplayName, c.Name)
	if strings.EqualFold(name, owner) {
		return fmt.Sprintf("%s's connection (%s)", owner, orName(c.Status, "status unknown"))
	}
	return fmt.Sprintf("%s, created by %s (%s)", name, owner, orName(c.Status, "status unknown"))
}

// connectorTitle names a Microsoft connector as the maker portal does;
// others by their API name.
func connectorTitle(api string) string {
	if t, ok := map[string]string{
		"shared_sharepointonline": "SharePoint", "shared_office365": "Office 365 Outlook", "shared_office365users": "Office 365 Users",
		"shared_commondataserviceforapps": "Microsoft Dataverse", "shared_teams": "Microsoft Teams", "shared_sql": "SQL Server",
		"shared_onedriveforbusiness": "OneDrive for Business", "shared_approvals": "Approvals", "shared_flowpush": "Notifications",
	}[api]; ok {
		return t
	}
	return strings.TrimPrefix(api, "shared_")
}

func orName(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// fieldState is what configure.html needs to mark a field: its error, and
// whether to announce it.
type fieldState struct {
	Name, Error string
	Alert       bool
}

// configureFuncs are configure.html's template functions.
var configureFuncs = template.FuncMap{
	// field returns the state of field name on page p.
	"field": func(p page, name string) fieldState {
		v, _ := p.Data.(*configView)
		return fieldState{Name: name, Error: p.Errors[name], Alert: v != nil && v.Posted}
	},
	"join": func(items []string) string { return strings.Join(items, "; ") },
}
