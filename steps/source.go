package steps

import (
	"path"

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
