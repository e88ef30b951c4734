package accelerator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/settings"
)

// Report is what Inspect found in an Accelerator repository.
type Report struct {
	Repo      string
	Solutions []Solution
	// HooksDir is where the Accelerator's hook templates were read
	// ("" when none were found).
	HooksDir string
	Hooks    []Hook // the hooks a team changed
}

// Solution is one solution folder of the repository.
type Solution struct {
	Name    string // unique name, from Solution.xml
	Folder  string // the repository folder, slash-separated
	Tree    string // the unpacked tree, repository-relative
	Legacy  bool   // the tree is directly under SolutionPackage/
	Version string // <Version> in source (0.0.0.0: stamped at build)
	// CanvasSources are old CanvasApps/*_msapp_src folders; CanvasMissing
	// those without their .msapp, which cannot be built.
	CanvasSources, CanvasMissing []string
	Environments                 []Environment
	SharedFiles                  []string // config/deploymentSettings.json and customDeploymentSettings.json
	Pipelines                    []Pipeline
	// NotDeployed lists what the folder holds that ppalm neither builds
	// nor deploys (code-first projects, Power Pages, configuration data).
	NotDeployed []string
}

// Environment is one deployment environment of a solution: its settings,
// found with the Accelerator's look-up, and its deploy pipeline.
type Environment struct {
	Name                  string
	Deployment, Custom    string   // repository-relative files the look-up finds ("" none)
	Tokens                []string // every #{token}# of both files, sorted
	Problems              []string // what fails to parse: must be fixed
	Warnings              []string
	Pipeline              *Pipeline
	Branch                string // the branch that deploys here ("" unknown)
	PullRequest           bool   // pull requests deploy here
	VariableGroupToCreate string
}

// Pipeline is a deploy pipeline the Accelerator's export generated,
// deploy-<env>-<Solution>.yml.
type Pipeline struct {
	File           string // repository-relative
	Environment    string // <env> of the file name
	Branches       []string
	PullRequest    bool
	VariableGroups []string
}

// Hook is one of the Accelerator's hook templates a team filled in.
type Hook struct {
	File  string
	Steps int    // enabled steps
	PPALM string // where the steps go in ppalm ("" when ppalm has no such point)
}

// hookPlaces maps each Accelerator hook template to its place in ppalm's
// templates (the stepList parameters of the Azure DevOps templates, the
// .ppalm/hooks/<name> composite actions on GitHub).
var hookPlaces = map[string]string{
	"export-solution-pre-hook":                           "preExport (.ppalm/hooks/pre-export)",
	"export-solution-post-hook":                          "postExport (.ppalm/hooks/post-export)",
	"build-solution-pre-hook":                            "preBuild (.ppalm/hooks/pre-build)",
	"build-solution-manipulate-source-pre-hook":          "preBuild (.ppalm/hooks/pre-build): ppalm build finds, stamps and packs in one step",
	"build-solution-pack-pre-hook":                       "preBuild (.ppalm/hooks/pre-build): ppalm build finds, stamps and packs in one step",
	"build-solution-post-hook":                           "postBuild (.ppalm/hooks/post-build)",
	"deploy-solution-pre-hook":                           "preImport (.ppalm/hooks/pre-import)",
	"deploy-solution-import-pre-hook":                    "preImport (.ppalm/hooks/pre-import)",
	"deploy-solution-configure-pre-hook":                 "preConfigure (.ppalm/hooks/pre-configure)",
	"deploy-solution-post-hook":                          "postConfigure (.ppalm/hooks/post-configure)",
	"export-solution-unpack-pre-hook":                    "",
	"export-solution-manipulate-pre-hook":                "",
	"export-solution-update-deploymentsettings-pre-hook": "",
	"export-solution-commit-pre-hook":                    "",
	"export-power-page-pre-hook":                         "",
	"export-power-page-post-hook":                        "",
	"deploy-power-page-pre-hook":                         "",
}

// Inspect reads an Accelerator repository (a working copy) and, when
// hooksDir is not "", the hook templates of its pipeline templates
// repository (Pipelines/Templates/Hooks; the repository's own
// Pipelines/Templates/Hooks is read when it has one). It changes nothing.
func Inspect(repo, hooksDir string) (*Report, error) {
	st, err := os.Stat(repo)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", repo, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("inspect %s: not a folder; pass the repository's working copy", repo)
	}
	r := &Report{Repo: repo}
	entries, err := os.ReadDir(repo)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", repo, err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		s, ok, err := inspectSolution(repo, e.Name())
		if err != nil {
			return nil, err
		}
		if ok {
			r.Solutions = append(r.Solutions, s)
		}
	}
	if hooksDir == "" {
		if d := filepath.Join(repo, "Pipelines", "Templates", "Hooks"); isDir(d) {
			hooksDir = d
		}
	}
	if hooksDir != "" {
		r.HooksDir = hooksDir
		if r.Hooks, err = inspectHooks(hooksDir); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

var (
	uniqueNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<UniqueName>\s*([^<\s]+)\s*</UniqueName>`) })
	versionRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<Version>\s*([^<\s]+)\s*</Version>`) })
	deployFileRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^deploy-([A-Za-z0-9_]+)-(.+)\.ya?ml$`) })
)

func inspectSolution(repo, folder string) (Solution, bool, error) {
	dir := filepath.Join(repo, folder)
	pkg := filepath.Join(dir, "SolutionPackage")
	s := Solution{Folder: folder}
	tree, legacy := ResolveTree(filepath.Join(pkg, "src"))
	manifest, err := os.ReadFile(filepath.Join(tree, "Other", "Solution.xml"))
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("inspect %s: %w", folder, err)
	}
	s.Legacy = legacy
	s.Tree, _ = filepath.Rel(repo, tree)
	s.Tree = filepath.ToSlash(s.Tree)
	s.Name = folder
	if m := uniqueNameRE().FindSubmatch(manifest); m != nil {
		s.Name = string(m[1])
	}
	if m := versionRE().FindSubmatch(manifest); m != nil {
		s.Version = string(m[1])
	}
	if s.CanvasSources, s.CanvasMissing, err = LegacyCanvasSources(tree); err != nil {
		return s, false, err
	}

	// The deploy pipelines the export generated.
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		m := deployFileRE().FindStringSubmatch(f.Name())
		if f.IsDir() || m == nil || !strings.EqualFold(m[2], s.Name) {
			continue
		}
		p := Pipeline{File: path.Join(folder, f.Name()), Environment: m[1]}
		if err := readPipeline(filepath.Join(dir, f.Name()), &p); err != nil {
			return s, false, err
		}
		s.Pipelines = append(s.Pipelines, p)
	}

	// The environments: config folders, flattened files, and pipelines.
	config := filepath.Join(dir, "config")
	names := map[string]string{} // lower -> as spelled
	add := func(n string) {
		if _, ok := names[strings.ToLower(n)]; !ok {
			names[strings.ToLower(n)] = n
		}
	}
	entries, _ := os.ReadDir(config)
	flat := regexp.MustCompile(`(?i)^(custom)?deploymentSettings-(.+)\.json$`)
	for _, e := range entries {
		switch {
		case e.IsDir() && !strings.EqualFold(e.Name(), "ConfigurationMigrationData"):
			add(e.Name())
		case !e.IsDir() && flat.MatchString(e.Name()):
			add(flat.FindStringSubmatch(e.Name())[2])
		case !e.IsDir() && (strings.EqualFold(e.Name(), settings.DeploymentSettingsFile) || strings.EqualFold(e.Name(), settings.CustomDeploymentSettingsFile)):
			s.SharedFiles = append(s.SharedFiles, path.Join(folder, "config", e.Name()))
		}
	}
	for _, p := range s.Pipelines {
		add(strings.ToUpper(p.Environment[:1]) + p.Environment[1:])
	}
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env, err := inspectEnvironment(repo, config, names[k])
		if err != nil {
			return s, false, err
		}
		for i := range s.Pipelines {
			if strings.EqualFold(s.Pipelines[i].Environment, env.Name) {
				p := s.Pipelines[i]
				env.Pipeline = &p
				env.PullRequest = p.PullRequest
				if len(p.Branches) > 0 {
					env.Branch = p.Branches[0]
				}
			}
		}
		if env.Pipeline == nil {
			// The Accelerator's convention (branching-environment-strategy).
			switch strings.ToLower(env.Name) {
			case "validation", "validate":
				env.PullRequest = true
			case "test":
				env.Branch = s.Name
			case "prod", "production":
				env.Branch = "main"
			}
		}
		env.VariableGroupToCreate = "deploy-" + strings.ToLower(env.Name) + "-" + s.Name
		s.Environments = append(s.Environments, env)
	}

	// What ppalm does not build or deploy.
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(repo, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && (p == pkg || strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "bin" || d.Name() == "obj"):
			return filepath.SkipDir
		case d.IsDir() && strings.EqualFold(d.Name(), "PowerPages"):
			s.NotDeployed = append(s.NotDeployed, rel+"/ (Power Pages sites)")
			return filepath.SkipDir
		case d.IsDir() && strings.EqualFold(d.Name(), "ConfigurationMigrationData"):
			s.NotDeployed = append(s.NotDeployed, rel+"/ (Configuration Migration data)")
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(strings.ToLower(d.Name()), ".csproj") || strings.HasSuffix(strings.ToLower(d.Name()), ".pcfproj")):
			s.NotDeployed = append(s.NotDeployed, rel+" (code-first project)")
		}
		return nil
	})
	sort.Strings(s.NotDeployed)
	return s, true, nil
}

// readPipeline reads a deploy pipeline's trigger branches and variable
// groups.
func readPipeline(file string, p *Pipeline) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc struct {
		Trigger struct {
			Branches struct {
				Include []string `yaml:"include"`
			} `yaml:"branches"`
		} `yaml:"trigger"`
		Variables []map[string]any `yaml:"variables"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, b := range doc.Trigger.Branches.Include {
		if strings.HasPrefix(b, "refs/pull/") {
			p.PullRequest = true
			continue
		}
		p.Branches = append(p.Branches, strings.TrimPrefix(b, "refs/heads/"))
	}
	for _, v := range doc.Variables {
		if g, ok := v["group"].(string); ok {
			p.VariableGroups = append(p.VariableGroups, g)
		}
	}
	return nil
}

func inspectEnvironment(repo, config, name string) (Environment, error) {
	env := Environment{Name: name}
	loc, err := settings.Locate(config, name)
	if err != nil {
		env.Problems = append(env.Problems, err.Error())
		return env, nil
	}
	tokens := map[string]bool{}
	for _, f := range []struct {
		path   string
		target *string
		custom bool
	}{{loc.DeploymentSettings, &env.Deployment, false}, {loc.CustomDeploymentSettings, &env.Custom, true}} {
		if f.path == "" {
			continue
		}
		rel, _ := filepath.Rel(repo, f.path)
		*f.target = filepath.ToSlash(rel)
		raw, err := os.ReadFile(f.path)
		if err != nil {
			return env, err
		}
		data, err := settings.CheckEncoding(*f.target, raw)
		if err != nil {
			env.Problems = append(env.Problems, err.Error())
			continue
		}
		for _, t := range settings.Tokens(data) {
			tokens[t] = true
		}
		var warnings []settings.Warning
		if f.custom {
			_, warnings, err = settings.ParseCustomDeploymentSettings(*f.target, data)
		} else {
			_, warnings, err = settings.ParseDeploymentSettings(*f.target, data)
		}
		if err != nil {
			env.Problems = append(env.Problems, err.Error())
		}
		for _, w := range warnings {
			env.Warnings = append(env.Warnings, w.String())
		}
	}
	for t := range tokens {
		env.Tokens = append(env.Tokens, t)
	}
	sort.Strings(env.Tokens)
	return env, nil
}

// inspectHooks lists the hook templates whose steps a team enabled: the
// Accelerator shipped each with one step marked enabled: false.
func inspectHooks(dir string) ([]Hook, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Hook
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Steps []map[string]any `yaml:"steps"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		n := 0
		for _, s := range doc.Steps {
			if e, ok := s["enabled"].(bool); !ok || e {
				n++
			}
		}
		if n == 0 {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		out = append(out, Hook{File: filepath.Base(f), Steps: n, PPALM: hookPlaces[name]})
	}
	return out, nil
}

// MustChange lists what the repository (or the pipelines' hooks) must
// change before ppalm deploys it: nothing blocks when it is empty.
func (r *Report) MustChange() []string {
	var out []string
	for _, s := range r.Solutions {
		for _, c := range s.CanvasMissing {
			out = append(out, fmt.Sprintf("%s: %s holds canvas source without its .msapp; ppalm packs the .msapp (it does not compile canvas source): commit the app's .msapp (a ppalm export-to-git writes it)", s.Folder, c))
		}
		for _, e := range s.Environments {
			for _, p := range e.Problems {
				out = append(out, fmt.Sprintf("%s environment %s: %s", s.Folder, e.Name, p))
			}
		}
		for _, n := range s.NotDeployed {
			out = append(out, fmt.Sprintf("%s: %s is not built or deployed by ppalm: build or deploy it in a hook step (or keep the Accelerator's pipeline for it)", s.Folder, n))
		}
	}
	for _, h := range r.Hooks {
		if h.PPALM == "" {
			out = append(out, fmt.Sprintf("hook %s (%d step(s)) has no place in ppalm's templates: its point in the Accelerator's pipeline is inside a ppalm step; move the steps before or after that step", h.File, h.Steps))
		}
	}
	return out
}

// String is the report ppalm migrate prints.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ALM Accelerator repository %s\n", r.Repo)
	if len(r.Solutions) == 0 {
		fmt.Fprintf(&b, "\nno solution folder found (a folder holding SolutionPackage/src/Other/Solution.xml or, in the legacy layout, SolutionPackage/Other/Solution.xml)\n")
	}
	for _, s := range r.Solutions {
		fmt.Fprintf(&b, "\nsolution %s (%s/)\n", s.Name, s.Folder)
		if s.Legacy {
			fmt.Fprintf(&b, "  source: %s, the legacy layout (no src/): ppalm builds it where it is; the next ppalm export-to-git moves it to SolutionPackage/src\n", s.Tree)
		} else {
			fmt.Fprintf(&b, "  source: %s\n", s.Tree)
		}
		if s.Version == "0.0.0.0" {
			fmt.Fprintf(&b, "  version: 0.0.0.0 in source, stamped at build (1.0.<yyyyMMdd>.<n>)\n")
		} else if s.Version != "" {
			fmt.Fprintf(&b, "  version: %s in source, kept at build (UseSolutionVersionFromDataverse)\n", s.Version)
		}
		for _, c := range s.CanvasSources {
			fmt.Fprintf(&b, "  canvas: %s (old pac canvas source) is left out of the zip; its .msapp is packed\n", c)
		}
		for _, f := range s.SharedFiles {
			fmt.Fprintf(&b, "  shared settings: %s, used by every environment without its own\n", f)
		}
		for _, e := range s.Environments {
			fmt.Fprintf(&b, "  environment %s:", e.Name)
			switch {
			case e.PullRequest:
				fmt.Fprintf(&b, " pull requests deploy here")
			case e.Branch != "":
				fmt.Fprintf(&b, " a push to %s deploys here", e.Branch)
			default:
				fmt.Fprintf(&b, " no branch known: set the environment's branch")
			}
			if e.Pipeline != nil {
				fmt.Fprintf(&b, " (%s", e.Pipeline.File)
				if len(e.Pipeline.VariableGroups) > 0 {
					fmt.Fprintf(&b, ", variable group %s", strings.Join(e.Pipeline.VariableGroups, ", "))
				}
				fmt.Fprintf(&b, ")")
			}
			fmt.Fprintln(&b)
			for _, f := range []struct{ what, path string }{{"deploymentSettings", e.Deployment}, {"customDeploymentSettings", e.Custom}} {
				if f.path == "" {
					fmt.Fprintf(&b, "    %s: none (optional: deployed without)\n", f.what)
				} else {
					fmt.Fprintf(&b, "    %s: %s\n", f.what, f.path)
				}
			}
			for _, w := range e.Warnings {
				fmt.Fprintf(&b, "    warning: %s\n", w)
			}
			if len(e.Tokens) > 0 {
				fmt.Fprintf(&b, "    %d variable(s) the settings read (Azure DevOps name / GitHub name); one left unset is empty, as in the Accelerator:\n", len(e.Tokens))
				for _, t := range e.Tokens {
					fmt.Fprintf(&b, "      %s  /  %s\n", t, settings.GitHubName(t))
				}
			}
		}
	}
	if r.HooksDir != "" {
		fmt.Fprintf(&b, "\nhooks (%s):", r.HooksDir)
		if len(r.Hooks) == 0 {
			fmt.Fprintf(&b, " none changed from the Accelerator's samples")
		}
		fmt.Fprintln(&b)
		for _, h := range r.Hooks {
			if h.PPALM != "" {
				fmt.Fprintf(&b, "  %s: %d step(s): move them to %s\n", h.File, h.Steps, h.PPALM)
			}
		}
	}
	fmt.Fprintf(&b, "\nto set up, once (nothing in the repository changes):\n")
	for _, s := range r.Solutions {
		for _, e := range s.Environments {
			from := "the Accelerator's deploy pipeline's variables"
			if e.Pipeline != nil {
				from = "the variables of the pipeline " + strings.TrimSuffix(path.Base(e.Pipeline.File), path.Ext(e.Pipeline.File))
			}
			fmt.Fprintf(&b, "  - %s: Azure DevOps: a variable group %s holding %s (secret ones stay secret); GitHub: an environment holding them (names in GitHub's spelling, as listed)\n",
				e.Name, e.VariableGroupToCreate, from)
		}
	}
	fmt.Fprintf(&b, "  - one pipeline (or workflow) per solution extending ppalm's templates: `ppalm migrate --write` writes it\n")
	changes := r.MustChange()
	if len(changes) == 0 {
		fmt.Fprintf(&b, "\nnothing in the repository must change: it deploys with ppalm as it is\n")
	} else {
		fmt.Fprintf(&b, "\n%d thing(s) to change before ppalm deploys it:\n", len(changes))
		for _, c := range changes {
			fmt.Fprintf(&b, "  - %s\n", c)
		}
	}
	return b.String()
}
