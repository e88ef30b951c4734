package unpack

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// checkTargetFolder refuses a folder path that is a file.
func checkTargetFolder(folder string) error {
	st, err := os.Stat(folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("folder %s: %w", folder, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("folder %s is a file, expected a folder (or a path that does not exist yet)", folder)
	}
	return nil
}

// toCRLF turns every LF not already preceded by CR into CRLF.
func toCRLF(b []byte) []byte {
	if bytes.IndexByte(b, '\n') < 0 {
		return b
	}
	return appendCRLF(make([]byte, 0, len(b)+bytes.Count(b, []byte("\n"))), b)
}

// appendCRLF appends b to out with every LF not preceded by CR as CRLF.
func appendCRLF(out, b []byte) []byte {
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// deleteOld deletes dir, a folder of the target (rel, '/'-separated) that a
// swap moved aside, appending to removed each of its files the new tree
// lacks: listing the old files and deleting them is one walk.
func deleteOld(dir, rel string, t *tree, removed []string) []string {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p, r := filepath.Join(dir, e.Name()), rel+"/"+e.Name()
		if e.IsDir() {
			removed = deleteOld(p, r, t, removed)
			continue
		}
		if _, ok := t.index[strings.ToLower(r)]; !ok {
			removed = append(removed, r)
		}
		_ = os.Remove(p)
	}
	_ = os.Remove(dir)
	return removed
}

// writePart inflates a zip entry into the file p, counting the bytes
// against budget (shared by the writers, so atomically): the entry's
// header may understate what it inflates to.
func writePart(p string, part *zip.File, buf []byte, budget *int64) error {
	rc, err := part.Open()
	if err != nil {
		return fmt.Errorf("entry %s: %w", part.Name, err)
	}
	defer rc.Close()
	w, err := createTreeFile(p)
	if err != nil {
		return err
	}
	for {
		n, rerr := rc.Read(buf)
		if n > 0 {
			if left := atomic.AddInt64(budget, -int64(n)); left < 0 {
				w.Close()
				return fmt.Errorf("entry %s: inflates past the limit of %d bytes (zip bomb?)", part.Name, left+int64(n))
			}
			if _, err := w.Write(buf[:n]); err != nil {
				w.Close()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			w.Close()
			return fmt.Errorf("entry %s: %w", part.Name, rerr)
		}
	}
	return w.Close()
}

// swapIn moves the top-level folders of tmp into folder, after moving the
// folders the tree owns out of the way, one folder at a time and under a
// journal (see swap.go).
func swapIn(folder, tmp string, t *tree) ([]string, error) {
	if _, err := os.Stat(folder); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, folder); err != nil {
			return nil, fmt.Errorf("move new tree into %s: %w", folder, err)
		}
		return nil, nil
	}
	owned := map[string]bool{}
	for _, d := range treeFolders {
		owned[strings.ToLower(d)] = true
	}
	newTop, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("read new tree: %w", err)
	}
	for _, e := range newTop {
		owned[strings.ToLower(e.Name())] = true
	}
	existing, err := os.ReadDir(folder)
	if err != nil {
		return nil, fmt.Errorf("read folder %s: %w", folder, err)
	}
	// present maps each lower-case name the target holds to its spelling.
	present := map[string]string{}
	var move []string
	for _, e := range existing {
		if !owned[strings.ToLower(e.Name())] {
			continue
		}
		if !e.IsDir() {
			return nil, fmt.Errorf("%s is a file where the tree needs a folder", filepath.Join(folder, e.Name()))
		}
		present[strings.ToLower(e.Name())] = e.Name()
		move = append(move, e.Name())
	}
	old, err := os.MkdirTemp(filepath.Dir(folder), "."+filepath.Base(folder)+".ppalm-old-")
	if err != nil {
		return nil, fmt.Errorf("create temporary folder beside %s: %w", folder, err)
	}
	defer os.RemoveAll(old)
	j := swapJournal{New: filepath.Base(tmp), Old: filepath.Base(old)}
	inNew := map[string]bool{}
	for _, e := range newTop {
		id, _ := idOf(filepath.Join(tmp, e.Name()))
		j.In = append(j.In, swapFolder{Name: e.Name(), ID: id})
		inNew[strings.ToLower(e.Name())] = true
	}
	for _, m := range move {
		if !inNew[strings.ToLower(m)] {
			j.Out = append(j.Out, m)
		}
	}
	if err := writeJournal(folder, j); err != nil {
		return nil, err
	}
	// From here to the journal's removal, only renames.
	type step struct {
		name, was string // was: the target's spelling it replaced ("" none)
		exchanged bool
	}
	var done []step
	var outDone []string
	rollback := func() {
		for _, m := range outDone {
			_ = os.Rename(filepath.Join(old, m), filepath.Join(folder, m))
		}
		for i := len(done) - 1; i >= 0; i-- {
			s := done[i]
			switch {
			case s.exchanged:
				_ = exchange(filepath.Join(tmp, s.name), filepath.Join(folder, s.name))
			default:
				_ = os.Rename(filepath.Join(folder, s.name), filepath.Join(tmp, s.name))
				if s.was != "" {
					_ = os.Rename(filepath.Join(old, s.was), filepath.Join(folder, s.was))
				}
			}
		}
		_ = os.Remove(journalPath(folder))
	}
	for _, e := range newTop {
		name := e.Name()
		src, dst := filepath.Join(tmp, name), filepath.Join(folder, name)
		was := present[strings.ToLower(name)]
		if was == name && exchange(src, dst) == nil {
			// The old folder now sits in tmp and goes with it.
			done = append(done, step{name: name, exchanged: true})
			stepHook(name)
			continue
		}
		if was != "" {
			if err := os.Rename(filepath.Join(folder, was), filepath.Join(old, was)); err != nil {
				rollback()
				return nil, fmt.Errorf("move old %s aside: %w", was, err)
			}
			stepHook(was)
		}
		if err := os.Rename(src, dst); err != nil {
			if was != "" {
				_ = os.Rename(filepath.Join(old, was), filepath.Join(folder, was))
			}
			rollback()
			return nil, fmt.Errorf("move new %s into %s: %w", name, folder, err)
		}
		done = append(done, step{name: name, was: was})
		stepHook(name)
	}
	for _, m := range j.Out {
		if err := os.Rename(filepath.Join(folder, m), filepath.Join(old, m)); err != nil {
			rollback()
			return nil, fmt.Errorf("move old %s aside: %w", m, err)
		}
		outDone = append(outDone, m)
		stepHook(m)
	}
	if err := os.Remove(journalPath(folder)); err != nil {
		return nil, fmt.Errorf("remove swap journal: %w", err)
	}
	// The replaced folders are in tmp (exchanged) or old (moved aside);
	// their files the new tree lacks are the removed components.
	exchanged := map[string]bool{}
	for _, s := range done {
		if s.exchanged {
			exchanged[s.name] = true
		}
	}
	var removed []string
	for _, m := range move {
		aside := filepath.Join(old, m)
		if exchanged[m] {
			aside = filepath.Join(tmp, m)
		}
		removed = deleteOld(aside, m, t, removed)
	}
	sort.Strings(removed)
	return removed, nil
}

func stepHook(name string) {
	if swapStepHook != nil {
		swapStepHook(name)
	}
}
