package gitops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ConfiguredAuthor is the identity `git commit` would use for repo:
// user.name and user.email from the working copy's own config when repo is
// one (a URL has none), then the user's (~/.gitconfig,
// $XDG_CONFIG_HOME/git/config), then the system's. A field nobody sets is
// empty.
func ConfiguredAuthor(repo string) Signature {
	var sig Signature
	fill := func(c *config.Config) {
		if c == nil {
			return
		}
		if sig.Name == "" {
			sig.Name = c.User.Name
		}
		if sig.Email == "" {
			sig.Email = c.User.Email
		}
	}
	if repo != "" && !isURL(repo) {
		if r, err := git.PlainOpenWithOptions(repo, &git.PlainOpenOptions{DetectDotGit: true}); err == nil {
			if c, err := r.Config(); err == nil {
				fill(c)
			}
		}
	}
	for _, scope := range []config.Scope{config.GlobalScope, config.SystemScope} {
		if c, err := config.LoadConfig(scope); err == nil {
			fill(c)
		}
	}
	return sig
}

// CheckRepo checks, before anything slow or with side effects runs, that
// repo is something a commit can go to: a working copy or a bare repository
// on disk, or a URL that answers (an empty repository is fine) with the
// credentials given. It changes nothing.
func CheckRepo(ctx context.Context, repo, token string) error {
	if repo == "" {
		return errors.New("no repository: --repo is empty")
	}
	if !isURL(repo) {
		abs, _ := filepath.Abs(repo)
		if _, err := git.PlainOpen(repo); err != nil {
			if errors.Is(err, git.ErrRepositoryNotExists) {
				return fmt.Errorf("--repo %s: not a git repository (no .git in %s): clone the repository there first, or pass its URL", repo, abs)
			}
			return fmt.Errorf("--repo %s: %w", repo, err)
		}
		return nil
	}
	remote, user, pass := remoteURL(repo)
	if isAzureRepos(remote) {
		allowMultiACK()
	}
	auth, err := authFor(remote, user, pass, token)
	if err != nil {
		return fmt.Errorf("--repo %s: %w", displayURL(repo), err)
	}
	ctx = withStall(ctx, 0)
	r := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{remote}})
	_, err = r.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err == nil || errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil
	}
	err = fmt.Errorf("--repo %s: %w", displayURL(repo), networkError(remote, err, stallOf(ctx)))
	return scrub(scrub(err, token), pass)
}

// OriginURL is the URL of the "origin" remote of the working copy at or
// above dir, without any user information; "" when there is none.
func OriginURL(dir string) string {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return ""
	}
	rem, err := r.Remote("origin")
	if err != nil || len(rem.Config().URLs) == 0 {
		return ""
	}
	clean, _, _ := remoteURL(rem.Config().URLs[0])
	return clean
}

// WorkingCopyRoot is the top folder of the working copy dir is in.
func WorkingCopyRoot(dir string) (string, error) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", fmt.Errorf("%s is not in a git working copy: %w", dir, err)
	}
	wt, err := r.Worktree()
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	return wt.Filesystem.Root(), nil
}
