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
)

// Hosts a pipeline is written for.
const (
	HostAzureDevOps = "azure-devops"
	HostGitHub      = "github"
)

// PipelineFile is a file ppalm migrate --write writes.
type PipelineFile struct {
	Path    string // repository-relative, slash-separated
	Content string
}

var stageName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_]`) })

// PipelineFiles returns, for each solution found, the pipeline that
// replaces its Accelerator pipelines on host: one build and a deployment
// per environment found, each with the branch (or pull requests) that
// deployed there, its config folder and, on Azure DevOps, its variable
// group (the Accelerator's shared group too).
func (r *Report) PipelineFiles(host string) ([]PipelineFile, error) {
	var out []PipelineFile
	for _, s := range r.Solutions {
		switch host {
		case HostAzureDevOps:
			out = append(out, PipelineFile{Path: path.Join(s.Folder, "ppalm-"+s.Name+".yml"), Content: azurePipeline(s)})
		case HostGitHub:
			out = append(out, PipelineFile{Path: ".github/workflows/ppalm-" + s.Name + ".yml", Content: githubWorkflow(s)})
		default:
			return nil, fmt.Errorf("host %q: expected %s or %s", host, HostAzureDevOps, HostGitHub)
		}
	}
	return out, nil
}

// WritePipelines writes PipelineFiles(host) into the working copy repo and
// returns their paths. It adds files only: when any of them exists it
// writes none, and the error names it.
func (r *Report) WritePipelines(repo, host string) ([]string, error) {
	files, err := r.PipelineFiles(host)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(files))
	for i, pf := range files {
		paths[i] = filepath.Join(repo, filepath.FromSlash(pf.Path))
		if _, err := os.Stat(paths[i]); err == nil {
			return nil, fmt.Errorf("%s exists: ppalm migrate does not overwrite files; remove it to write it again", paths[i])
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	var written []string
	for i, pf := range files {
		if err := os.MkdirAll(filepath.Dir(paths[i]), 0o755); err != nil {
			return written, err
		}
		// O_EXCL: a file that appeared since the check is not overwritten.
		w, err := os.OpenFile(paths[i], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, err
		}
		_, err = w.WriteString(pf.Content)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		written = append(written, paths[i])
	}
	return written, nil
}

func yamlString(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./@-]+$`).MatchString(s) && !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func branchesOf(s Solution) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range s.Environments {
		if e.Branch != "" && !seen[e.Branch] {
			seen[e.Branch] = true
			out = append(out, e.Branch)
		}
	}
	sort.Strings(out)
	return out
}

func sharedGroup(s Solution) string {
	for _, e := range s.Environments {
		if e.Pipeline != nil && len(e.Pipeline.VariableGroups) > 0 {
			return e.Pipeline.VariableGroups[0]
		}
	}
	return ""
}

func azurePipeline(s Solution) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by ppalm migrate from the ALM Accelerator's pipelines of %s.\n", s.Name)
	fmt.Fprintf(&b, "# Create one pipeline from this file. Each environment's stage links a\n")
	fmt.Fprintf(&b, "# variable group holding what its Accelerator deploy pipeline held.\n")
	branches := branchesOf(s)
	if len(branches) > 0 {
		fmt.Fprintf(&b, "trigger:\n  branches:\n    include:\n")
		for _, br := range branches {
			fmt.Fprintf(&b, "    - %s\n", yamlString(br))
		}
		fmt.Fprintf(&b, "  paths:\n    include:\n    - %s/\n", yamlString(s.Folder))
	} else {
		fmt.Fprintf(&b, "trigger: none\n")
	}
	for _, e := range s.Environments {
		if e.PullRequest {
			fmt.Fprintf(&b, "# Pull requests: on Azure Repos add a build validation branch policy\n# running this pipeline; on GitHub repositories this pr: block does it.\npr:\n  branches:\n    include:\n    - %s\n  paths:\n    include:\n    - %s/\n", yamlString(s.Name), yamlString(s.Folder))
			break
		}
	}
	fmt.Fprintf(&b, "resources:\n  repositories:\n  - repository: ppalm\n    type: github\n    name: ppalm/ppalm\n    endpoint: github\n    ref: refs/tags/v1\n")
	fmt.Fprintf(&b, "extends:\n  template: templates/azure-devops/build-deploy-solution.yml@ppalm\n  parameters:\n")
	fmt.Fprintf(&b, "    solutionName: %s\n", yamlString(s.Name))
	if s.Folder != s.Name {
		fmt.Fprintf(&b, "    folder: %s\n", yamlString(s.Folder))
	}
	if g := sharedGroup(s); g != "" {
		fmt.Fprintf(&b, "    variableGroup: %s\n", yamlString(g))
	}
	fmt.Fprintf(&b, "    environments:\n")
	for _, e := range s.Environments {
		fmt.Fprintf(&b, "    - name: %s\n", stageName().ReplaceAllString(strings.ToLower(e.Name), "_"))
		switch {
		case e.PullRequest:
			fmt.Fprintf(&b, "      pullRequest: true\n")
		case e.Branch != "":
			fmt.Fprintf(&b, "      branch: %s\n", yamlString(e.Branch))
		default:
			fmt.Fprintf(&b, "      # branch: the branch whose pushes deploy here (none was found)\n")
		}
		fmt.Fprintf(&b, "      config: %s\n", yamlString(e.Name))
		fmt.Fprintf(&b, "      variableGroup: %s\n", yamlString(e.VariableGroupToCreate))
	}
	return b.String()
}

func githubWorkflow(s Solution) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by ppalm migrate from the ALM Accelerator's pipelines of %s.\n", s.Name)
	fmt.Fprintf(&b, "# Each environment job names a GitHub environment holding what its\n")
	fmt.Fprintf(&b, "# Accelerator deploy pipeline held (variables and secrets in GitHub's\n")
	fmt.Fprintf(&b, "# spelling) and DATAVERSE_URL, AZURE_TENANT_ID and AZURE_CLIENT_ID.\n")
	fmt.Fprintf(&b, "name: Deploy %s\non:\n", s.Name)
	if branches := branchesOf(s); len(branches) > 0 {
		fmt.Fprintf(&b, "  push:\n    branches: [%s]\n    paths: ['%s/**']\n", strings.Join(quoteAll(branches), ", "), s.Folder)
	}
	for _, e := range s.Environments {
		if e.PullRequest {
			fmt.Fprintf(&b, "  pull_request:\n    branches: [%s]\n    paths: ['%s/**']\n", yamlString(s.Name), s.Folder)
			break
		}
	}
	fmt.Fprintf(&b, "  workflow_dispatch:\njobs:\n  build:\n    uses: ppalm/ppalm/.github/workflows/build-solution.yml@v1\n    with:\n      solution-name: %s\n", yamlString(s.Name))
	if s.Folder != s.Name {
		fmt.Fprintf(&b, "      folder: %s\n", yamlString(s.Folder))
	}
	fmt.Fprintf(&b, "    permissions:\n      contents: read\n")
	for _, e := range s.Environments {
		id := stageName().ReplaceAllString(strings.ToLower(e.Name), "_")
		fmt.Fprintf(&b, "  %s:\n    needs: build\n", id)
		switch {
		case e.PullRequest:
			fmt.Fprintf(&b, "    if: github.event_name == 'pull_request'\n")
		case e.Branch != "":
			fmt.Fprintf(&b, "    if: github.event_name != 'pull_request' && github.ref == 'refs/heads/%s'\n", e.Branch)
		default:
			fmt.Fprintf(&b, "    if: github.event_name == 'workflow_dispatch'  # no branch was found for %s\n", e.Name)
		}
		fmt.Fprintf(&b, "    uses: ppalm/ppalm/.github/workflows/deploy-solution.yml@v1\n    with:\n      solution-name: %s\n      environment: %s\n      config: %s\n",
			yamlString(s.Name), yamlString(id), yamlString(e.Name))
		fmt.Fprintf(&b, "    secrets: inherit\n    permissions:\n      contents: read\n      id-token: write\n      pull-requests: read\n")
	}
	return b.String()
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = yamlString(s)
	}
	return out
}
