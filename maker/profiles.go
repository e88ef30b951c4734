package maker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/gitops"
)

// ProfilesPath is the profiles file on the repository's default branch.
const ProfilesPath = ".ppalm/profiles.yaml"

// Approval types of a deployment step.
const (
	ApprovalPullRequest = "pull-request"
	ApprovalEnvironment = "environment"
)

// Repository hosts a profile names.
const (
	HostAzureDevOps = "azure-devops"
	HostGitHub      = "github"
	HostLocal       = "local"
)

// Profiles is the profiles file.
type Profiles struct {
	Profiles []Profile `yaml:"profiles"`
}

// Profile says where a solution's source lives and where it deploys.
type Profile struct {
	Name string `yaml:"name"`
	// Host is azure-devops, github or local.
	Host         string `yaml:"host"`
	Organization string `yaml:"organization,omitempty"` // Azure DevOps organization URL
	Project      string `yaml:"project,omitempty"`
	Repository   string `yaml:"repository,omitempty"` // Azure Repos name, or GitHub owner/name
	// TargetBranch receives the pull requests (main when empty).
	TargetBranch string `yaml:"targetBranch,omitempty"`
	// Branch is where Commit goes for makers without the advanced options,
	// made from TargetBranch the first time: {solution} and {maker} (the
	// maker's e-mail before the @) are filled in; {solution} when empty,
	// the Accelerator's solution branch.
	Branch string `yaml:"branch,omitempty"`
	// ExportPipeline is the pipeline or workflow a pipeline host runs for
	// Commit Solution.
	ExportPipeline string           `yaml:"exportPipeline,omitempty"`
	Steps          []DeploymentStep `yaml:"steps"`
	// Makers may use the profile (e-mail addresses); empty: every maker.
	Makers []string `yaml:"makers,omitempty"`
	// Advanced makers see the advanced options; empty: nobody.
	Advanced []string `yaml:"advanced,omitempty"`
}

// DeploymentStep is one environment a profile deploys to.
type DeploymentStep struct {
	Environment string `yaml:"environment"`
	URL         string `yaml:"url"`
	Approval    string `yaml:"approval"`
	// Pipeline runs the deployment (environment approval, pipeline host).
	Pipeline string `yaml:"pipeline,omitempty"`
}

// Target returns the profile's branch that deployments merge into.
func (p Profile) Target() string {
	if p.TargetBranch == "" {
		return "main"
	}
	return p.TargetBranch
}

// CommitBranch is the branch Commit uses for maker without the advanced
// options.
func (p Profile) CommitBranch(solution, maker string) string {
	b := p.Branch
	if b == "" {
		b = "{solution}"
	}
	user, _, _ := strings.Cut(maker, "@")
	return strings.NewReplacer("{solution}", solution, "{maker}", user).Replace(b)
}

// OpenTo says whether maker (an e-mail) may use the profile.
func (p Profile) OpenTo(maker string) bool {
	return len(p.Makers) == 0 || slices.ContainsFunc(p.Makers, func(m string) bool { return strings.EqualFold(m, maker) })
}

// AdvancedFor says whether maker sees the advanced options.
func (p Profile) AdvancedFor(maker string) bool {
	return slices.ContainsFunc(p.Advanced, func(m string) bool { return strings.EqualFold(m, maker) })
}

// Step returns the deployment step for environment name.
func (p Profile) Step(env string) (DeploymentStep, bool) {
	for _, s := range p.Steps {
		if strings.EqualFold(s.Environment, env) {
			return s, true
		}
	}
	return DeploymentStep{}, false
}

// ParseProfiles reads and checks a profiles file; errors name the profile
// and field.
func ParseProfiles(data []byte) (*Profiles, error) {
	var ps Profiles
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("%s: %w", ProfilesPath, err)
	}
	seen := map[string]bool{}
	for i, p := range ps.Profiles {
		where := fmt.Sprintf("%s: profiles[%d]", ProfilesPath, i)
		switch {
		case strings.TrimSpace(p.Name) == "":
			return nil, fmt.Errorf("%s.name: expected a name", where)
		case seen[strings.ToLower(p.Name)]:
			return nil, fmt.Errorf("%s.name: %q is used twice", where, p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
		switch p.Host {
		case HostLocal:
		case HostGitHub:
			if !strings.Contains(p.Repository, "/") {
				return nil, fmt.Errorf("%s (%s).repository: expected owner/name for host github, got %q", where, p.Name, p.Repository)
			}
		case HostAzureDevOps:
			if p.Organization == "" || p.Project == "" || p.Repository == "" {
				return nil, fmt.Errorf("%s (%s): host azure-devops needs organization, project and repository", where, p.Name)
			}
		default:
			return nil, fmt.Errorf("%s (%s).host: expected azure-devops, github or local, got %q", where, p.Name, p.Host)
		}
		if p.Branch != "" {
			if m := checkBranch(p.CommitBranch("Solution", "alex.maker@contoso.com")); m != "" {
				return nil, fmt.Errorf("%s (%s).branch: %q: expected a branch name, with {solution} and {maker} filled in: %s", where, p.Name, p.Branch, m)
			}
		}
		if p.TargetBranch != "" {
			if m := checkBranch(p.TargetBranch); m != "" {
				return nil, fmt.Errorf("%s (%s).targetBranch: %s", where, p.Name, m)
			}
		}
		for j, s := range p.Steps {
			sw := fmt.Sprintf("%s (%s).steps[%d]", where, p.Name, j)
			if s.Environment == "" || s.URL == "" {
				return nil, fmt.Errorf("%s: expected environment and url", sw)
			}
			if s.Approval != ApprovalPullRequest && s.Approval != ApprovalEnvironment {
				return nil, fmt.Errorf("%s.approval: expected pull-request or environment, got %q", sw, s.Approval)
			}
		}
	}
	return &ps, nil
}

// Profile returns the profile called name.
func (ps *Profiles) Profile(name string) (Profile, bool) {
	for _, p := range ps.Profiles {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Profile{}, false
}

// OpenTo lists the profiles maker may use.
func (ps *Profiles) OpenTo(maker string) []Profile {
	var out []Profile
	for _, p := range ps.Profiles {
		if p.OpenTo(maker) {
			out = append(out, p)
		}
	}
	return out
}

// readRepoFolder copies a folder of branch into a new temporary folder; a
// missing folder gives an empty one.
func readRepoFolder(ctx context.Context, repo, token, branch, folder string) (string, error) {
	dir, err := os.MkdirTemp("", "ppalm-maker-")
	if err != nil {
		return "", err
	}
	dest := filepath.Join(dir, "f")
	if _, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: repo, Ref: branch, Path: folder, Dest: dest, Token: token}); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dest, nil
}
