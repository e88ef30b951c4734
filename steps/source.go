package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/gitops"
)

// Source configures the export-to-git pipeline: which solution of which
// development environment goes to which branch of which repository.
type Source struct {
	// Dataverse is the client of the development environment.
	Dataverse *dataverse.Client
	Solution  string // unique name
	// Publish runs PublishAllXml before the export, so unpublished app
	// changes are not left behind.
	Publish bool
	// Async exports with ExportSolutionAsync, for large solutions.
	Async bool
	// WorkDir holds the exported zips and the staged repository folder.
	WorkDir string

	Repo    string // working copy path or URL
	Branch  string
	Base    string // the branch a new Branch starts from
	Token   string
	Author  gitops.Signature
	Message string
	Push    bool
	// DiscardChanges replaces the working copy's solution folder even when
	// it holds uncommitted or untracked files (gitops.CommitOptions).
	DiscardChanges bool

	// Environments get config/<env>/ deployment settings when they have none.
	Environments []string
	// KeepVersion keeps the development version instead of 0.0.0.0.
	KeepVersion bool
	// DropEnvironmentVariableValues removes current values from source.
	DropEnvironmentVariableValues bool
	// LineEndings of the unpacked XML: "lf" or "crlf".
	LineEndings string
	// ProcessCanvasApps writes read-only review copies of the canvas apps
	// under CanvasApps/src/ (unpack.UnpackOptions.ProcessCanvasApps).
	ProcessCanvasApps bool
	// Scope says what is committed: the solution and its settings, the
	// solution only, or the settings only (the Accelerator's CommitScope).
	Scope CommitScope
	// NoSettingsFiles writes no config/ settings files (the Accelerator's
	// GenerateDeploymentSettings=false).
	NoSettingsFiles bool
	// DisableFlows commits every cloud flow turned off (StateCode 0,
	// StatusCode 1), as the Accelerator's DisableFlows=true did.
	DisableFlows bool
	// ApplyDefaultEnvironmentVariables writes the [schema, value] pairs of
	// config/customDeploymentSettings.json's DefaultEnvironmentVariables
	// into the variables' default values in source (the Accelerator's
	// VerifyDefaultEnvironmentVariableValues=true).
	ApplyDefaultEnvironmentVariables bool

	// Produced.
	UnmanagedZip, ManagedZip string
	// Stage is the local copy of the repository's <Solution>/ folder that
	// the unpack and settings steps write and the commit step publishes.
	Stage  string
	Commit *gitops.CommitResult
}

// RepoFolder is the solution's folder in the repository, as the Accelerator
// lays it out: <Solution>/SolutionPackage/src and <Solution>/config/<env>/.
func (s *Source) RepoFolder() string { return s.Solution }

// SourceFolder is where the unpacked tree lives inside the repository
// folder.
const SourceFolder = "SolutionPackage/src"

// ConfigFolder holds the per-environment settings inside the repository
// folder.
const ConfigFolder = "config"

// RepoSourcePath is the slash-separated repository path of the unpacked tree.
func RepoSourcePath(solutionName string) string { return path.Join(solutionName, SourceFolder) }

// CommitScope is what export-to-git commits.
type CommitScope int

// Commit scopes, numbered as the Accelerator's CommitScope parameter
// (export-solution-to-git.yml: 1 solution and settings, 2 solution only, 3
// settings only), from 0.
const (
	ScopeAll CommitScope = iota
	ScopeSolution
	ScopeSettings
)

func (s CommitScope) String() string {
	switch s {
	case ScopeSolution:
		return "solution"
	case ScopeSettings:
		return "settings"
	}
	return "all"
}

// ParseCommitScope reads --commit-scope: all, solution or settings, or the
// Accelerator's 1, 2 or 3.
func ParseCommitScope(s string) (CommitScope, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "all", "1":
		return ScopeAll, nil
	case "solution", "2":
		return ScopeSolution, nil
	case "settings", "3":
		return ScopeSettings, nil
	}
	return ScopeAll, fmt.Errorf("--commit-scope %q: expected all, solution or settings (the Accelerator's 1, 2 or 3)", s)
}
