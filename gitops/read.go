package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ReadOptions says which repository folder ReadFolder copies where.
type ReadOptions struct {
	Repo  string // path of a working copy, or a URL
	Ref   string // branch name; a working copy also accepts any revision
	Path  string // folder inside the repository, slash-separated
	Dest  string // folder to write; must be missing or empty
	Token string
	// StallTimeout is how long the git server may stay silent;
	// DefaultStallTimeout when zero.
	StallTimeout time.Duration
}

// ReadFolder writes the files of folder Path at Ref into Dest and returns how
// many it wrote: the Accelerator's "import solution from branch". A URL is
// cloned shallow into memory.
func ReadFolder(ctx context.Context, opts ReadOptions) (int, error) {
	n, err := readFolder(withStall(ctx, opts.StallTimeout), opts)
	if err != nil {
		_, _, password := remoteURL(opts.Repo)
		return 0, scrub(scrub(fmt.Errorf("read %s at %q of %s: %w", opts.Path, opts.Ref, displayURL(opts.Repo), err), opts.Token), password)
	}
	return n, nil
}

func readFolder(ctx context.Context, opts ReadOptions) (int, error) {
	p := strings.Trim(opts.Path, "/")
	if p != "" && (path.Clean(p) != p || strings.Contains(p, "\\") || !filepath.IsLocal(p)) {
		return 0, fmt.Errorf("path %q: expected a relative, slash-separated folder", opts.Path)
	}
	if opts.Ref == "" {
		return 0, errors.New("ref: empty; expected a branch name")
	}
	if entries, err := os.ReadDir(opts.Dest); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("destination %s is not empty", opts.Dest)
	}

	var repo *git.Repository
	var hash plumbing.Hash
	if isURL(opts.Repo) {
		remote, user, pass := remoteURL(opts.Repo)
		if isAzureRepos(remote) {
			allowMultiACK()
		}
		auth, err := authFor(remote, user, pass, opts.Token)
		if err != nil {
			return 0, fmt.Errorf("clone: %w", err)
		}
		r, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
			URL:           remote,
			Auth:          auth,
			ReferenceName: plumbing.NewBranchReferenceName(opts.Ref),
			SingleBranch:  true,
			Depth:         1,
			NoCheckout:    true,
			Tags:          git.NoTags,
		})
		if err != nil {
			return 0, fmt.Errorf("clone %s: %w", remote, networkError(remote, err, stallOf(ctx)))
		}
		head, err := r.Head()
		if err != nil {
			return 0, err
		}
		repo, hash = r, head.Hash()
	} else {
		r, err := git.PlainOpen(opts.Repo)
		if err != nil {
			return 0, fmt.Errorf("open working copy: %w", err)
		}
		h, err := r.ResolveRevision(plumbing.Revision(opts.Ref))
		if err != nil {
			h, err = r.ResolveRevision(plumbing.Revision("refs/remotes/origin/" + opts.Ref))
		}
		if err != nil {
			return 0, fmt.Errorf("resolve %q: %w", opts.Ref, err)
		}
		repo, hash = r, *h
	}

	c, err := repo.CommitObject(hash)
	if err != nil {
		return 0, err
	}
	tree, err := c.Tree()
	if err != nil {
		return 0, err
	}
	if p != "" {
		if tree, err = tree.Tree(p); err != nil {
			return 0, fmt.Errorf("folder %q not found at %s: %w", p, hash, err)
		}
	}
	n := 0
	err = tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("refusing path %q", f.Name)
		}
		if f.Mode == filemode.Symlink || f.Mode == filemode.Submodule {
			return fmt.Errorf("%s: only regular files can be read, found mode %s", f.Name, f.Mode)
		}
		dst := filepath.Join(opts.Dest, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if f.Mode == filemode.Executable {
			perm = 0o755
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return fmt.Errorf("write %s: %w", dst, err)
		}
		n++
		return out.Close()
	})
	return n, err
}
