package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/unpack"
)

// ReadSnapshot reads one version of a solution for a comparison: a zip, or
// an unpacked tree (packed to a temporary zip first, as the build packs it).
func ReadSnapshot(ctx context.Context, source string) (*diff.Snapshot, error) {
	st, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", source, err)
	}
	if !st.IsDir() {
		return diff.ReadFile(source)
	}
	tmp, err := os.MkdirTemp("", "ppalm-diff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	zip := filepath.Join(tmp, "solution.zip")
	if _, err := unpack.Pack(ctx, unpack.PackOptions{Folder: source, ZipFile: zip}); err != nil {
		return nil, fmt.Errorf("read solution folder %s: %w", source, err)
	}
	s, err := diff.ReadFile(zip)
	if err != nil {
		return nil, fmt.Errorf("read solution folder %s: %w", source, err)
	}
	s.Source = source
	return s, nil
}

// Diff compares two versions of a solution, each a zip or an unpacked
// tree.
func Diff(ctx context.Context, from, to string) (*diff.Result, error) {
	a, err := ReadSnapshot(ctx, from)
	if err != nil {
		return nil, err
	}
	b, err := ReadSnapshot(ctx, to)
	if err != nil {
		return nil, err
	}
	return diff.Compare(a, b), nil
}

// RefSnapshot reads the unpacked tree at path (slash-separated, inside the
// repository) as it is at ref of repo (a working copy or a URL). A tree the
// ref does not have is an empty solution: everything in the other version
// is new.
func RefSnapshot(ctx context.Context, repo, token, ref, path string) (*diff.Snapshot, error) {
	tmp, err := os.MkdirTemp("", "ppalm-diff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dest := filepath.Join(tmp, "src")
	_, err = gitops.ReadFolder(ctx, gitops.ReadOptions{Repo: repo, Ref: ref, Path: path, Dest: dest, Token: token})
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return diff.Empty(ref + ":" + path), nil
	}
	if err != nil {
		return nil, err
	}
	s, err := ReadSnapshot(ctx, dest)
	if err != nil {
		return nil, err
	}
	s.Source = ref + ":" + path
	return s, nil
}

// DiffRefs compares a solution's unpacked tree (<solution>/SolutionPackage/src)
// between two refs of repo: what a pull request from head into base
// changes.
func DiffRefs(ctx context.Context, repo, token, solutionName, base, head string) (*diff.Result, error) {
	path := RepoSourcePath(solutionName)
	a, err := RefSnapshot(ctx, repo, token, base, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, base, err)
	}
	b, err := RefSnapshot(ctx, repo, token, head, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, head, err)
	}
	return diff.Compare(a, b), nil
}

// DiffTreeWithRef compares the unpacked tree at folder with the same
// folder at ref of the working copy it lives in (or, when the working copy
// does not have ref, of its origin, fetched with token).
func DiffTreeWithRef(ctx context.Context, folder, ref, token string) (*diff.Result, error) {
	root, err := gitops.WorkingCopyRoot(folder)
	if err != nil {
		return nil, err
	}
	absFolder, err := filepath.Abs(folder)
	if err != nil {
		return nil, err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(absRoot, absFolder)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is not inside the working copy %s", folder, root)
	}
	path := filepath.ToSlash(rel)
	a, err := RefSnapshot(ctx, root, "", ref, path)
	if err != nil {
		origin := gitops.OriginURL(root)
		if origin == "" {
			return nil, err
		}
		// A CI checkout is often shallow and holds the pull request alone.
		a, err = RefSnapshot(ctx, origin, token, ref, path)
		if err != nil {
			return nil, err
		}
	}
	b, err := ReadSnapshot(ctx, folder)
	if err != nil {
		return nil, err
	}
	return diff.Compare(a, b), nil
}

// PullRequestBase is the branch a pull request build merges into, from the
// CI variables (Azure DevOps SYSTEM_PULLREQUEST_TARGETBRANCH, GitHub
// GITHUB_BASE_REF); "" outside a pull request build.
func PullRequestBase(getenv func(string) string) string {
	for _, v := range []string{"SYSTEM_PULLREQUEST_TARGETBRANCH", "GITHUB_BASE_REF"} {
		if b := strings.TrimPrefix(getenv(v), "refs/heads/"); b != "" {
			return b
		}
	}
	return ""
}

// CompareStep is the build's comparison with what the tree replaces: the
// same folder on the pull request's target branch (Build.CompareTo), or a
// zip or folder. It writes the component diff to the run summary, where a
// reviewer reads it, and to the report. A comparison that cannot be made
// is a warning: it never fails the build.
type CompareStep struct{}

func (CompareStep) Name() string { return "diff" }

func (CompareStep) Skip(c *Context) (bool, string) {
	if c.Build.CompareTo == "" {
		return true, "nothing to compare with (not a pull request build; --compare-to names a branch, zip or folder)"
	}
	return false, ""
}

func (CompareStep) Run(ctx context.Context, c *Context) error {
	b := c.Build
	var r *diff.Result
	var err error
	if _, statErr := os.Stat(b.CompareTo); statErr == nil && !b.CompareToBranch {
		r, err = Diff(ctx, b.CompareTo, b.Folder)
	} else {
		r, err = DiffTreeWithRef(ctx, b.Folder, b.CompareTo, gitops.TokenFromEnv(c.Getenv))
	}
	if err != nil {
		c.Reporter.Warning(fmt.Sprintf("no component diff against %s: %v", b.CompareTo, err), "")
		c.Note("no diff against %s: %v", b.CompareTo, err)
		return nil
	}
	b.Diff = r
	if r.Same() {
		c.Note("against %s: nothing changed", b.CompareTo)
	} else {
		c.Note("against %s: %d added, %d changed, %d removed", b.CompareTo, r.Added, r.Changed, r.Removed)
	}
	if err := c.Reporter.Summary(r.Markdown(200)); err != nil {
		c.Reporter.Warning(err.Error(), "")
	}
	return nil
}

// MaxPullRequestDescription is Azure DevOps' limit on a pull request's
// description (GitHub allows far more): descriptions are cut to it.
const MaxPullRequestDescription = 4000

// DescribeChanges appends r as a Markdown table to desc, the description of
// a deployment's pull request, cutting rows (never the counts) to stay
// within max characters.
func DescribeChanges(desc string, r *diff.Result, max int) string {
	if desc != "" {
		desc += "\n\n"
	}
	for limit := 0; ; {
		md := r.Markdown(limit)
		if len(desc)+len(md) <= max || limit == 1 {
			return desc + md
		}
		if limit == 0 {
			limit = len(r.Changes)
		}
		limit = limit * 3 / 4
		if limit < 1 {
			limit = 1
		}
	}
}
