package gitops

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// folderFile is one regular file of the folder being published.
type folderFile struct {
	rel  string // slash-separated, relative to the folder
	abs  string
	mode filemode.FileMode
	hash plumbing.Hash
	size int64
}

// scanFolder lists the regular files under dir, sorted by path, and refuses
// special files and names that collide when letter case is ignored.
func scanFolder(ctx context.Context, dir string) ([]folderFile, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("read folder %s: not a directory", dir)
	}
	var files []folderFile
	seen := map[string]string{} // lower-cased path -> path as found
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.EqualFold(d.Name(), ".git") {
			return fmt.Errorf("%s: a .git entry cannot be committed", p)
		}
		key := strings.ToLower(rel)
		if other, ok := seen[key]; ok {
			return fmt.Errorf("%q and %q differ only in letter case; they would overwrite each other on Windows and macOS checkouts", other, rel)
		}
		seen[key] = rel
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: only regular files can be committed, found %s", p, d.Type())
		}
		mode := filemode.Regular
		if runtime.GOOS != "windows" {
			if fi, err := d.Info(); err == nil && fi.Mode()&0o111 != 0 {
				mode = filemode.Executable
			}
		}
		files = append(files, folderFile{rel: rel, abs: p, mode: mode})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

// storeBlobs hashes every file and writes the blobs the repository lacks.
func storeBlobs(ctx context.Context, s storer.EncodedObjectStorer, files []folderFile) error {
	for i := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(files[i].abs)
		if err != nil {
			return fmt.Errorf("read %s: %w", files[i].abs, err)
		}
		h := plumbing.ComputeHash(plumbing.BlobObject, data)
		files[i].hash, files[i].size = h, int64(len(data))
		if s.HasEncodedObject(h) == nil {
			continue
		}
		obj := s.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		obj.SetSize(int64(len(data)))
		w, err := obj.Writer()
		if err != nil {
			return fmt.Errorf("store %s: %w", files[i].abs, err)
		}
		if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
			return fmt.Errorf("store %s: %w", files[i].abs, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("store %s: %w", files[i].abs, err)
		}
		if _, err := s.SetEncodedObject(obj); err != nil {
			return fmt.Errorf("store %s: %w", files[i].abs, err)
		}
	}
	return nil
}

// dirNode is a folder being turned into tree objects.
type dirNode struct {
	files map[string]folderFile
	dirs  map[string]*dirNode
}

func newDirNode() *dirNode {
	return &dirNode{files: map[string]folderFile{}, dirs: map[string]*dirNode{}}
}

// writeTree stores the tree objects for files (already hashed) and returns
// the root's hash; no files gives the zero hash (git has no empty trees).
func writeTree(s storer.EncodedObjectStorer, files []folderFile) (plumbing.Hash, error) {
	if len(files) == 0 {
		return plumbing.ZeroHash, nil
	}
	root := newDirNode()
	for _, f := range files {
		n := root
		parts := strings.Split(f.rel, "/")
		for _, dir := range parts[:len(parts)-1] {
			child, ok := n.dirs[dir]
			if !ok {
				child = newDirNode()
				n.dirs[dir] = child
			}
			n = child
		}
		n.files[parts[len(parts)-1]] = f
	}
	return writeNode(s, root)
}

func writeNode(s storer.EncodedObjectStorer, n *dirNode) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	for name, f := range n.files {
		entries = append(entries, object.TreeEntry{Name: name, Mode: f.mode, Hash: f.hash})
	}
	for name, d := range n.dirs {
		h, err := writeNode(s, d)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	return storeTree(s, entries)
}

// storeTree sorts entries in git's order (a folder sorts as "name/") and
// stores the tree.
func storeTree(s storer.EncodedObjectStorer, entries []object.TreeEntry) (plumbing.Hash, error) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	t := &object.Tree{Entries: entries}
	obj := s.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// replaceSubtree returns the hash of tree root with the folder at segs set to
// sub (the zero hash removes it). A zero root is an empty tree.
func replaceSubtree(s storer.EncodedObjectStorer, root plumbing.Hash, segs []string, sub plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !root.IsZero() {
		t, err := object.GetTree(s, root)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, t.Entries...)
	}
	idx := -1
	for i, e := range entries {
		if e.Name == segs[0] {
			idx = i
			break
		}
	}
	newHash := sub
	if len(segs) > 1 {
		child := plumbing.ZeroHash
		if idx >= 0 {
			if entries[idx].Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%q is a file in the repository, not a folder", segs[0])
			}
			child = entries[idx].Hash
		}
		h, err := replaceSubtree(s, child, segs[1:], sub)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s/%w", segs[0], err)
		}
		newHash = h
	}
	if idx >= 0 {
		entries = append(entries[:idx], entries[idx+1:]...)
	}
	if !newHash.IsZero() {
		entries = append(entries, object.TreeEntry{Name: segs[0], Mode: filemode.Dir, Hash: newHash})
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return storeTree(s, entries)
}

// subtreeHash returns the hash of the folder at p in tree root, zero when it
// is missing.
func subtreeHash(s storer.EncodedObjectStorer, root plumbing.Hash, p string) (plumbing.Hash, error) {
	if root.IsZero() {
		return plumbing.ZeroHash, nil
	}
	t, err := object.GetTree(s, root)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	e, err := t.FindEntry(p)
	if err == object.ErrEntryNotFound || err == object.ErrDirectoryNotFound {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if e.Mode != filemode.Dir {
		return plumbing.ZeroHash, fmt.Errorf("%q is a file in the repository, not a folder", p)
	}
	return e.Hash, nil
}

// treeFiles lists the files of tree h (zero: none) by slash path.
func treeFiles(s storer.EncodedObjectStorer, h plumbing.Hash) (map[string]object.TreeEntry, error) {
	out := map[string]object.TreeEntry{}
	if h.IsZero() {
		return out, nil
	}
	t, err := object.GetTree(s, h)
	if err != nil {
		return nil, err
	}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e.Mode != filemode.Dir {
			out[name] = e
		}
	}
}

// changes lists "A path", "M path" and "D path" between the old folder tree
// and the new files, with repository paths under prefix.
func changes(old map[string]object.TreeEntry, files []folderFile, prefix string) []string {
	var out []string
	for _, f := range files {
		e, ok := old[f.rel]
		switch {
		case !ok:
			out = append(out, "A "+path.Join(prefix, f.rel))
		case e.Hash != f.hash || e.Mode != f.mode:
			out = append(out, "M "+path.Join(prefix, f.rel))
		}
		delete(old, f.rel)
	}
	for rel := range old {
		out = append(out, "D "+path.Join(prefix, rel))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}
