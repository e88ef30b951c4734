package gitops

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Branches lists the branch names of a remote repository (one ref
// advertisement, nothing cloned), sorted: the maker app offers them where
// a maker names a branch.
func Branches(ctx context.Context, repo, token string) ([]string, error) {
	names, err := branches(withStall(ctx, 0), repo, token)
	if err != nil {
		_, _, password := remoteURL(repo)
		return nil, scrub(scrub(fmt.Errorf("list the branches of %s: %w", displayURL(repo), err), token), password)
	}
	return names, nil
}

func branches(ctx context.Context, repo, token string) ([]string, error) {
	if !isURL(repo) {
		r, err := git.PlainOpen(repo)
		if err != nil {
			return nil, fmt.Errorf("open working copy: %w", err)
		}
		iter, err := r.Branches()
		if err != nil {
			return nil, err
		}
		var names []string
		_ = iter.ForEach(func(ref *plumbing.Reference) error {
			names = append(names, ref.Name().Short())
			return nil
		})
		sort.Strings(names)
		return names, nil
	}
	remote, user, pass := remoteURL(repo)
	if isAzureRepos(remote) {
		allowMultiACK()
	}
	auth, err := authFor(remote, user, pass, token)
	if err != nil {
		return nil, err
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{remote}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return nil, networkError(remote, err, stallOf(ctx))
	}
	var names []string
	for _, ref := range refs {
		if ref.Name().IsBranch() {
			names = append(names, ref.Name().Short())
		}
	}
	sort.Strings(names)
	return names, nil
}
