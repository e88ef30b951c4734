package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxNamed is how many unsaved files an error lists before "and N more".
const maxNamed = 10

// UncommittedError is Commit refusing to replace a working copy's folder
// that holds work no commit has: files modified, staged or untracked
// (ignored ones included) under Path, which the replacement would wipe.
type UncommittedError struct {
	Dir   string
	Path  string
	Files []string // slash paths inside the repository, sorted
}

func (e *UncommittedError) Error() string {
	named := e.Files
	more := ""
	if len(named) > maxNamed {
		more = fmt.Sprintf(" and %d more", len(named)-maxNamed)
		named = named[:maxNamed]
	}
	return fmt.Sprintf("working copy %s has %d uncommitted or untracked file(s) under %s that the commit would destroy: %s%s; commit or move them, or pass --discard-changes to replace them",
		e.Dir, len(e.Files), e.Path, strings.Join(named, ", "), more)
}

// checkUnsaved refuses when folder p of the working copy at dir holds
// anything HEAD's commit does not: a file on disk that is new or differs
// from HEAD, or an index entry that differs from HEAD. Files deleted on
// disk lose nothing (HEAD still has them). It runs before the branch is
// switched and before the folder is replaced.
func checkUnsaved(dir, p string) error {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return fmt.Errorf("open working copy %s: %w", dir, err)
	}
	head := map[string]plumbing.Hash{}
	if ref, err := repo.Head(); err == nil {
		c, err := repo.CommitObject(ref.Hash())
		if err != nil {
			return fmt.Errorf("read HEAD of %s: %w", dir, err)
		}
		tree, err := c.Tree()
		if err != nil {
			return fmt.Errorf("read HEAD of %s: %w", dir, err)
		}
		if sub, err := tree.Tree(p); err == nil {
			err = sub.Files().ForEach(func(f *object.File) error {
				head[p+"/"+f.Name] = f.Hash
				return nil
			})
			if err != nil {
				return fmt.Errorf("read %s at HEAD: %w", p, err)
			}
		} else if !errors.Is(err, object.ErrDirectoryNotFound) && !errors.Is(err, object.ErrEntryNotFound) {
			return fmt.Errorf("read %s at HEAD: %w", p, err)
		}
	} else if !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return fmt.Errorf("read HEAD of %s: %w", dir, err)
	}

	unsaved := map[string]bool{}
	if idx, err := repo.Storer.Index(); err == nil {
		for _, e := range idx.Entries {
			if e.Name == p || strings.HasPrefix(e.Name, p+"/") {
				if h, ok := head[e.Name]; !ok || h != e.Hash {
					unsaved[e.Name] = true
				}
			}
		}
	}
	root := filepath.Join(dir, filepath.FromSlash(p))
	err = filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && file == root {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		h, ok := head[name]
		if !ok || !d.Type().IsRegular() {
			unsaved[name] = true
			return nil
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if plumbing.ComputeHash(plumbing.BlobObject, data) != h {
			unsaved[name] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check %s for uncommitted files: %w", root, err)
	}
	if len(unsaved) == 0 {
		return nil
	}
	files := make([]string, 0, len(unsaved))
	for f := range unsaved {
		files = append(files, f)
	}
	sort.Strings(files)
	return &UncommittedError{Dir: dir, Path: p, Files: files}
}
