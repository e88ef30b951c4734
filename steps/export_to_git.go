package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/unpack"
)

// CheckRepo checks that the repository answers before anything slow runs
// (gitops.CheckRepo); it changes nothing.
type CheckRepo struct{}

func (CheckRepo) Name() string                 { return "check-repo" }
func (CheckRepo) Skip(*Context) (bool, string) { return false, "" }
func (CheckRepo) Run(ctx context.Context, c *Context) error {
	return gitops.CheckRepo(ctx, c.Source.Repo, c.Source.Token)
}

// Publish publishes all customizations in the development environment so
// the export carries what makers see.
type Publish struct{}

func (Publish) Name() string { return "publish" }
func (Publish) Skip(c *Context) (bool, string) {
	if !c.Source.Publish {
		return true, "publishing was not asked for"
	}
	return false, ""
}
func (Publish) Run(ctx context.Context, c *Context) error {
	if err := c.Source.Dataverse.PublishAllXml(ctx); err != nil {
		return fmt.Errorf("publish customizations in %s: %w", c.Source.Dataverse.EnvironmentURL(), err)
	}
	return nil
}

// Export exports the solution twice, unmanaged and managed, as
// NAME.zip and NAME_managed.zip: the pair the unpack step reads as Both.
// Neither is written until both are exported.
type Export struct{}

func (Export) Name() string                 { return "export" }
func (Export) Skip(*Context) (bool, string) { return false, "" }
func (Export) Run(ctx context.Context, c *Context) error {
	s := c.Source
	dir := filepath.Join(s.WorkDir, "export")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unmanagedZip := filepath.Join(dir, s.Solution+".zip")
	managedZip := unpack.ManagedZipName(unmanagedZip)
	zips := map[string][]byte{}
	kinds := []struct {
		managed bool
		file    string
	}{{false, unmanagedZip}, {true, managedZip}}
	for _, kind := range kinds {
		opts := dataverse.ExportOptions{Managed: kind.managed, Async: s.Async}
		if s.Async {
			opts.Progress = func(op dataverse.AsyncOperation) {
				c.Reporter.Progress(50, fmt.Sprintf("export %s: %s", s.Solution, asyncState(op.StateCode)))
			}
		}
		zip, err := s.Dataverse.Export(ctx, s.Solution, opts)
		if err != nil {
			return err
		}
		zips[kind.file] = zip
	}
	for _, kind := range kinds {
		zip := zips[kind.file]
		if err := os.WriteFile(kind.file, zip, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", kind.file, err)
		}
		c.Note("%s (%d KB)", filepath.Base(kind.file), len(zip)/1024)
	}
	s.UnmanagedZip, s.ManagedZip = unmanagedZip, managedZip
	return nil
}

// Checkout copies the solution's folder from the branch (or, for a new
// branch, from its base) so that everything beside the unpacked tree —
// config/, pipelines, a README — is kept as it is.
type Checkout struct{}

func (Checkout) Name() string                 { return "checkout" }
func (Checkout) Skip(*Context) (bool, string) { return false, "" }
func (Checkout) Run(ctx context.Context, c *Context) error {
	s := c.Source
	s.Stage = filepath.Join(s.WorkDir, "stage", s.Solution)
	if err := os.RemoveAll(s.Stage); err != nil {
		return err
	}
	base := s.Base
	if base == "" {
		base = "main"
	}
	for _, ref := range []string{s.Branch, base} {
		n, err := gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: s.Repo, Ref: ref, Path: s.RepoFolder(), Dest: s.Stage, Token: s.Token})
		switch {
		case err == nil:
			c.Note("%d files of %s/ from branch %s", n, s.RepoFolder(), ref)
			return nil
		case errors.Is(err, object.ErrDirectoryNotFound):
			c.Note("branch %s has no %s/ yet", ref, s.RepoFolder())
			return os.MkdirAll(s.Stage, 0o755)
		case missingBranch(err):
			continue
		default:
			return err
		}
	}
	c.Note("the repository has neither branch %s nor %s: starting %s/ afresh", s.Branch, base, s.RepoFolder())
	return os.MkdirAll(s.Stage, 0o755)
}

// missingBranch tells a branch that does not exist (or an empty
// repository) from every other failure, which must stop the run: starting
// from an empty folder after, say, a network error would delete the
// repository's config/ on commit.
func missingBranch(err error) bool {
	var noMatch git.NoMatchingRefSpecError
	return errors.As(err, &noMatch) || errors.Is(err, plumbing.ErrReferenceNotFound) ||
		errors.Is(err, transport.ErrEmptyRemoteRepository)
}

// Unpack unpacks the exported pair into <Solution>/SolutionPackage/src,
// replacing the previous tree exactly.
type Unpack struct{}

func (Unpack) Name() string                 { return "unpack" }
func (Unpack) Skip(*Context) (bool, string) { return false, "" }
func (Unpack) Run(ctx context.Context, c *Context) error {
	s := c.Source
	sum, err := unpack.Unpack(ctx, unpack.UnpackOptions{
		ZipFile: s.UnmanagedZip, Folder: filepath.Join(s.Stage, filepath.FromSlash(SourceFolder)),
		PackageType: unpack.Both, LineEndings: s.LineEndings, ProcessCanvasApps: s.ProcessCanvasApps,
	})
	if err != nil {
		return err
	}
	for _, k := range sum.Kinds() {
		c.Note("%s: %d", k, sum.Components[k])
	}
	if len(sum.Removed) > 0 {
		c.Note("removed %d file(s) the solution no longer has: %s", len(sum.Removed), unpack.ShortList(sum.Removed, 10))
	}
	return nil
}

// Normalize removes what changes on every export without a maker changing
// anything: the version (stamped again at build) and, when asked, the
// development environment's variable values.
type Normalize struct{}

func (Normalize) Name() string { return "normalize" }
func (Normalize) Skip(c *Context) (bool, string) {
	if c.Source.KeepVersion && !c.Source.DropEnvironmentVariableValues {
		return true, "keeping the version and the environment variable values"
	}
	return false, ""
}
func (Normalize) Run(_ context.Context, c *Context) error {
	s := c.Source
	return unpack.Normalize(filepath.Join(s.Stage, filepath.FromSlash(SourceFolder)), unpack.NormalizeOptions{
		KeepVersion: s.KeepVersion, DropEnvironmentVariableValues: s.DropEnvironmentVariableValues,
	})
}

// Commit commits the staged folder to the branch and pushes it.
type Commit struct{}

func (Commit) Name() string                 { return "commit" }
func (Commit) Skip(*Context) (bool, string) { return false, "" }
func (Commit) Run(ctx context.Context, c *Context) error {
	s := c.Source
	res, err := gitops.Commit(ctx, gitops.CommitOptions{
		Repo: s.Repo, Branch: s.Branch, Base: s.Base, Folder: s.Stage, Path: s.RepoFolder(),
		Message: s.Message, Author: s.Author, Push: s.Push, Token: s.Token, Now: c.Now,
		DiscardChanges: s.DiscardChanges,
	})
	if err != nil {
		return err
	}
	s.Commit = res
	if !res.Committed {
		c.Note("nothing changed since the last commit on %s: no commit made", res.Branch)
	} else {
		c.Note("commit %.10s on %s: %d files changed", res.Hash, res.Branch, len(res.Changes))
	}
	if err := c.Reporter.SetOutput("committed", fmt.Sprint(res.Committed)); err != nil {
		return err
	}
	return c.Reporter.SetOutput("commit", res.Hash)
}

// asyncState names an asyncoperation statecode for progress lines.
func asyncState(code int) string {
	switch code {
	case 0:
		return "waiting"
	case 1:
		return "suspended"
	case 2:
		return "in progress"
	case 3:
		return "completed"
	}
	return fmt.Sprintf("state %d", code)
}
