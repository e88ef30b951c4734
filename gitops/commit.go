package gitops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Signature names the person a commit is recorded for.
type Signature struct {
	Name  string
	Email string
}

// CommitOptions says what to publish where.
type CommitOptions struct {
	Repo   string // path of a working copy, or a URL
	Branch string // branch to commit to; created from Base when missing
	Base   string // branch to start from; "main" when empty
	Folder string // the unpacked tree to publish
	Path   string // folder inside the repository to replace, slash-separated
	// Message is used as typed ("#123" links Azure Boards work items).
	Message string
	Author  Signature // also the committer
	Push    bool
	Token   string           // PAT, System.AccessToken or GITHUB_TOKEN; never logged
	Now     func() time.Time // clock for the signatures; time.Now when nil
	// StallTimeout is how long the git server may stay silent before the
	// run fails naming it; DefaultStallTimeout when zero.
	StallTimeout time.Duration
	// DiscardChanges lets Commit replace a working copy's folder that
	// holds uncommitted or untracked files; without it Commit refuses,
	// naming them.
	DiscardChanges bool
	// KeepOthers adds and replaces Folder's files under Path and keeps the
	// files of Path that Folder does not hold, instead of replacing Path
	// exactly: one file changes, its neighbours stay (the maker app's
	// profiles file beside the solutions' state).
	KeepOthers bool
}

// CommitResult says what Commit did.
type CommitResult struct {
	Committed bool
	Hash      string // the new commit, or the branch head when nothing changed
	Branch    string
	Pushed    bool
	Changes   []string // "A path", "M path" or "D path", sorted by path
}

// Commit replaces opts.Path in opts.Branch with opts.Folder, commits when
// anything changed and pushes when asked. See the package doc for the rules.
func Commit(ctx context.Context, opts CommitOptions) (*CommitResult, error) {
	res, err := commit(withStall(ctx, opts.StallTimeout), opts)
	if err != nil {
		_, _, password := remoteURL(opts.Repo)
		return nil, scrub(scrub(fmt.Errorf("commit %s to branch %q of %s: %w", opts.Path, opts.Branch, displayURL(opts.Repo), err), opts.Token), password)
	}
	return res, nil
}

func (o *CommitOptions) validate() ([]string, error) {
	if o.Repo == "" {
		return nil, errors.New("repository: empty; expected a working copy path or a URL")
	}
	if o.Branch == "" {
		return nil, errors.New("branch: empty; expected a branch name")
	}
	if o.Base == "" {
		o.Base = "main"
	}
	for _, b := range []string{o.Branch, o.Base} {
		if err := plumbing.NewBranchReferenceName(b).Validate(); err != nil || strings.HasPrefix(b, "refs/") {
			return nil, fmt.Errorf("branch %q: not a valid branch name", b)
		}
	}
	if o.Folder == "" {
		return nil, errors.New("folder: empty; expected the folder to publish")
	}
	p := strings.Trim(o.Path, "/")
	if p == "" || strings.Contains(p, "\\") || path.Clean(p) != p {
		return nil, fmt.Errorf("path %q: expected a relative, slash-separated folder inside the repository such as \"MySolution/SolutionPackage/src\"", o.Path)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "." || s == ".." || strings.EqualFold(s, ".git") {
			return nil, fmt.Errorf("path %q: %q is not allowed", o.Path, s)
		}
	}
	o.Path = p
	if strings.TrimSpace(o.Message) == "" {
		return nil, errors.New("message: empty; expected a commit message")
	}
	if o.Author.Name == "" || o.Author.Email == "" {
		return nil, errors.New("author: name and e-mail are both required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return segs, nil
}

// checkout is the repository Commit works in.
type checkout struct {
	repo   *git.Repository
	dir    string // working tree on disk; empty for a temporary clone
	remote string // origin's URL
	user   string // username from the URL
	pass   string // password from the URL
	start  plumbing.Hash
	exists bool // the branch existed before this run
}

func commit(ctx context.Context, opts CommitOptions) (*CommitResult, error) {
	segs, err := opts.validate()
	if err != nil {
		return nil, err
	}
	files, err := scanFolder(ctx, opts.Folder)
	if err != nil {
		return nil, err
	}

	var co *checkout
	if remote, ok := remoteRepo(opts.Repo); ok {
		tmp, err := os.MkdirTemp("", "ppalm-git-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		co, err = cloneBranch(ctx, remote, opts.Branch, opts.Base, opts.Token, tmp)
		if err != nil {
			return nil, err
		}
	} else {
		// The folder is replaced (and the branch maybe switched) below:
		// work nobody committed there would be lost. Publishing the folder
		// itself replaces nothing on disk.
		if same, err := sameDir(filepath.Join(opts.Repo, filepath.FromSlash(opts.Path)), opts.Folder); err != nil {
			return nil, err
		} else if !same && !opts.DiscardChanges {
			if err := checkUnsaved(opts.Repo, opts.Path); err != nil {
				return nil, err
			}
		}
		co, err = openWorkingCopy(ctx, opts.Repo, opts.Branch, opts.Base, opts.Token)
		if err != nil {
			return nil, err
		}
		if opts.Push && co.remote == "" {
			return nil, fmt.Errorf("push: working copy %s has no remote \"origin\" to push to: add one, or pass the repository's URL as --repo", opts.Repo)
		}
		if err := checkNoOverlap(co.dir, opts.Path, opts.Folder); err != nil {
			return nil, err
		}
	}

	s := co.repo.Storer
	if err := storeBlobs(ctx, s, files); err != nil {
		return nil, err
	}
	startTree := plumbing.ZeroHash
	if !co.start.IsZero() {
		c, err := co.repo.CommitObject(co.start)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", co.start, err)
		}
		startTree = c.TreeHash
	}
	oldSub, err := subtreeHash(s, startTree, opts.Path)
	if err != nil {
		return nil, err
	}
	if opts.KeepOthers {
		if files, err = withOthers(s, oldSub, files); err != nil {
			return nil, fmt.Errorf("read tree %s: %w", opts.Path, err)
		}
	}
	newSub, err := writeTree(s, files)
	if err != nil {
		return nil, fmt.Errorf("write tree: %w", err)
	}
	res := &CommitResult{Branch: opts.Branch, Hash: co.start.String()}
	if co.start.IsZero() {
		res.Hash = ""
	}
	if oldSub == newSub {
		return res, nil
	}
	oldFiles, err := treeFiles(s, oldSub)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", opts.Path, err)
	}
	res.Changes = changes(oldFiles, files, opts.Path)

	root, err := replaceSubtree(s, startTree, segs, newSub)
	if err != nil {
		return nil, fmt.Errorf("write tree: %w", err)
	}
	if root.IsZero() {
		// The folder was the repository's only content and is now empty.
		if root, err = storeTree(s, nil); err != nil {
			return nil, fmt.Errorf("write tree: %w", err)
		}
	}
	when := opts.Now()
	sig := object.Signature{Name: opts.Author.Name, Email: opts.Author.Email, When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: opts.Message, TreeHash: root}
	if !co.start.IsZero() {
		c.ParentHashes = []plumbing.Hash{co.start}
	}
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	hash, err := s.SetEncodedObject(obj)
	if err != nil {
		return nil, fmt.Errorf("store commit: %w", err)
	}
	branchRef := plumbing.NewBranchReferenceName(opts.Branch)
	if err := s.SetReference(plumbing.NewHashReference(branchRef, hash)); err != nil {
		return nil, fmt.Errorf("update %s: %w", branchRef, err)
	}
	if err := s.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branchRef)); err != nil {
		return nil, fmt.Errorf("update HEAD: %w", err)
	}
	res.Committed, res.Hash = true, hash.String()
	if co.dir != "" {
		if err := syncWorkingCopy(co, opts.Path, opts.Folder, files, opts.KeepOthers); err != nil {
			return nil, err
		}
	}

	if opts.Push {
		if isAzureRepos(co.remote) {
			allowMultiACK()
		}
		auth, err := authFor(co.remote, co.user, co.pass, opts.Token)
		if err != nil {
			return res, fmt.Errorf("push: %w", err)
		}
		err = co.repo.PushContext(ctx, &git.PushOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{config.RefSpec(branchRef + ":" + branchRef)},
			Auth:       auth,
		})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return res, fmt.Errorf("push to %s: %w", co.remote, networkError(co.remote, err, opts.StallTimeout))
		}
		res.Pushed = true
	}
	return res, nil
}

// withOthers adds to files the files of tree old they do not hold (kept
// as they are: no abs path, so a working copy's copy is left alone).
func withOthers(s storer.EncodedObjectStorer, old plumbing.Hash, files []folderFile) ([]folderFile, error) {
	have, err := treeFiles(s, old)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		delete(have, f.rel)
	}
	for rel, e := range have {
		files = append(files, folderFile{rel: rel, mode: e.Mode, hash: e.Hash})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

// cloneBranch clones branch (or base when branch is missing) of remote into
// dir: shallow, one branch, no checkout. An empty remote gives an empty
// repository with origin set.
func cloneBranch(ctx context.Context, raw, branch, base, token, dir string) (*checkout, error) {
	remote, user, pass := remoteURL(raw)
	if isAzureRepos(remote) {
		allowMultiACK()
	}
	auth, err := authFor(remote, user, pass, token)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	co := &checkout{remote: remote, user: user, pass: pass}
	for i, name := range []string{branch, base} {
		if i == 1 && base == branch {
			break
		}
		target := filepath.Join(dir, fmt.Sprint(i))
		repo, err := git.PlainCloneContext(ctx, target, true, &git.CloneOptions{
			URL:           remote,
			Auth:          auth,
			ReferenceName: plumbing.NewBranchReferenceName(name),
			SingleBranch:  true,
			Depth:         1,
			NoCheckout:    true,
			Tags:          git.NoTags,
		})
		switch {
		case err == nil:
			head, err := repo.Head()
			if err != nil {
				return nil, fmt.Errorf("read HEAD of clone: %w", err)
			}
			co.repo, co.start, co.exists = repo, head.Hash(), i == 0
			return co, nil
		case errors.Is(err, transport.ErrEmptyRemoteRepository):
			repo, err := git.PlainInit(target, true)
			if err != nil {
				return nil, err
			}
			if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
				return nil, err
			}
			co.repo = repo
			return co, nil
		case errors.Is(err, git.NoMatchingRefSpecError{}), errors.Is(err, plumbing.ErrReferenceNotFound):
			continue
		default:
			return nil, fmt.Errorf("clone %s: %w", remote, networkError(remote, err, stallOf(ctx)))
		}
	}
	return nil, fmt.Errorf("clone %s: neither branch %q nor base branch %q exists on the remote", remote, branch, base)
}

// remoteRepo says whether repo is committed to through a clone: a URL, or
// a bare repository on disk (it has no working tree to write into, and is
// what a remote is), which is cloned by its absolute path.
func remoteRepo(repo string) (string, bool) {
	if isURL(repo) {
		return repo, true
	}
	r, err := git.PlainOpen(repo)
	if err != nil {
		return "", false
	}
	if _, err := r.Worktree(); !errors.Is(err, git.ErrIsBareRepository) {
		return "", false
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return "", false
	}
	return abs, true
}

// openWorkingCopy finds where branch starts in the working copy at dir:
// the local branch, the remote-tracking branch, the same for base, and last
// a fetch of each from origin.
func openWorkingCopy(ctx context.Context, dir, branch, base, token string) (*checkout, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("open working copy %s: %w", dir, err)
	}
	co := &checkout{repo: repo, dir: dir}
	if rem, err := repo.Remote("origin"); err == nil && len(rem.Config().URLs) > 0 {
		co.remote, co.user, co.pass = remoteURL(rem.Config().URLs[0])
	}
	find := func(name string) (plumbing.Hash, bool) {
		for _, ref := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(name), plumbing.NewRemoteReferenceName("origin", name)} {
			if r, err := repo.Reference(ref, true); err == nil {
				return r.Hash(), true
			}
		}
		return plumbing.ZeroHash, false
	}
	fetch := func(name string) error {
		if co.remote == "" {
			return nil
		}
		if isAzureRepos(co.remote) {
			allowMultiACK()
		}
		spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/origin/%s", name, name))
		auth, err := authFor(co.remote, co.user, co.pass, token)
		if err != nil {
			return fmt.Errorf("fetch branch %q: %w", name, err)
		}
		err = repo.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Depth: 1, Tags: git.NoTags, Auth: auth})
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) || errors.Is(err, git.NoMatchingRefSpecError{}) {
			return nil
		}
		return fmt.Errorf("fetch branch %q from %s: %w", name, co.remote, networkError(co.remote, err, stallOf(ctx)))
	}
	start, ok := find(branch)
	co.exists = ok
	if !ok {
		start, ok = find(base)
	}
	for _, name := range []string{branch, base} {
		if ok {
			break
		}
		if err := fetch(name); err != nil {
			return nil, err
		}
		start, ok = find(name)
		co.exists = ok && name == branch
	}
	if !ok {
		return nil, fmt.Errorf("working copy %s: neither branch %q nor base branch %q found locally or on origin", dir, branch, base)
	}
	co.start = start

	// Work from start: a CI checkout usually already is there (detached).
	head, err := repo.Head()
	if err != nil || head.Hash() != start {
		wt, err := repo.Worktree()
		if err != nil {
			return nil, err
		}
		if err := wt.Checkout(&git.CheckoutOptions{Hash: start}); err != nil {
			return nil, fmt.Errorf("check out %s in %s: %w", start, dir, err)
		}
	}
	return co, nil
}

// checkNoOverlap refuses a folder that overlaps the repository folder it
// replaces, unless it is that very folder.
func checkNoOverlap(repoDir, p, folder string) error {
	target, err := filepath.Abs(filepath.Join(repoDir, filepath.FromSlash(p)))
	if err != nil {
		return err
	}
	src, err := filepath.Abs(folder)
	if err != nil {
		return err
	}
	if target == src {
		return nil
	}
	if within(target, src) || within(src, target) {
		return fmt.Errorf("folder %s overlaps repository folder %s; unpack somewhere else or into that folder itself", folder, target)
	}
	return nil
}

func within(parent, child string) bool {
	rel, err := filepath.Rel(parent, child)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

// syncWorkingCopy makes the files and the index of a working copy match the
// new commit for folder p, leaving everything else as it was.
func syncWorkingCopy(co *checkout, p, folder string, files []folderFile, keepOthers bool) error {
	target := filepath.Join(co.dir, filepath.FromSlash(p))
	same, err := sameDir(target, folder)
	if err != nil {
		return err
	}
	if !same {
		if !keepOthers {
			if err := os.RemoveAll(target); err != nil {
				return fmt.Errorf("replace %s: %w", target, err)
			}
		}
		for _, f := range files {
			if f.abs == "" {
				continue // kept as it was (KeepOthers)
			}
			dst := filepath.Join(target, filepath.FromSlash(f.rel))
			if err := copyFile(f.abs, dst, f.mode); err != nil {
				return fmt.Errorf("replace %s: %w", target, err)
			}
		}
	}
	idx, err := co.repo.Storer.Index()
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	kept := idx.Entries[:0]
	for _, e := range idx.Entries {
		if e.Name != p && !strings.HasPrefix(e.Name, p+"/") {
			kept = append(kept, e)
		}
	}
	idx.Entries = kept
	for _, f := range files {
		name := p + "/" + f.rel
		e := &index.Entry{Name: name, Hash: f.hash, Mode: f.mode, Size: uint32(f.size)}
		if fi, err := os.Stat(filepath.Join(co.dir, filepath.FromSlash(name))); err == nil {
			e.ModifiedAt, e.CreatedAt = fi.ModTime(), fi.ModTime()
		}
		idx.Entries = append(idx.Entries, e)
	}
	sort.Slice(idx.Entries, func(i, j int) bool { return idx.Entries[i].Name < idx.Entries[j].Name })
	if err := co.repo.Storer.SetIndex(idx); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

func sameDir(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	return err == nil && aa == bb, err
}

func copyFile(src, dst string, mode filemode.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	perm := os.FileMode(0o644)
	if !mode.IsRegular() {
		perm = 0o755
	}
	return os.WriteFile(dst, data, perm)
}
