package unpack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A swap replaces the top-level folders of the target that the tree owns.
// Before the first rename, a journal beside the target
// (.<base>.ppalm-swap) records what moves where; it is removed once the
// last rename is done. A run killed in between (kill -9, a cancelled
// pipeline, a crash) leaves the journal, and the next unpack into that
// folder finishes the swap from it before doing anything else, so the
// target never stays half old, half new. Without a journal, leftover
// .ppalm-new-* and .ppalm-old-* folders are a tree not yet swapped in or
// an old tree not yet deleted, and are deleted.
//
// Each folder is swapped on its own, and where the platform can exchange
// two paths in one call (renameat2 RENAME_EXCHANGE on Linux, renamex_np
// RENAME_SWAP on macOS) the target never lacks it at all; elsewhere it
// lacks it between two renames. All the reading, listing and comparing the
// swap needs is done before the first rename; the old folders are listed
// (for the files a new export removed) as they are deleted, once the
// journal is gone.

// swapJournal is what the journal file holds.
type swapJournal struct {
	// New and Old are the folders beside the target holding the new tree
	// and receiving the old folders (base names).
	New string `json:"new"`
	Old string `json:"old"`
	// In are the new tree's top-level folders, with the identity the
	// folder has in New (so a finished exchange is recognised).
	In []swapFolder `json:"in"`
	// Out are the target's owned top-level folders the new tree lacks.
	Out []string `json:"out"`
}

type swapFolder struct {
	Name string `json:"name"`
	ID   fileID `json:"id"`
}

// swapStepHook, when set (tests), runs after each rename or exchange of a
// swap, with the folder's name.
var swapStepHook func(name string)

func journalPath(folder string) string {
	return filepath.Join(filepath.Dir(folder), "."+filepath.Base(folder)+".ppalm-swap")
}

// writeJournal writes the journal atomically (a rename over a temporary
// file), so a journal is either whole or absent.
func writeJournal(folder string, j swapJournal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	p := journalPath(folder)
	if err := os.WriteFile(p+".tmp", data, 0o644); err != nil {
		return fmt.Errorf("write swap journal %s: %w", p, err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("write swap journal %s: %w", p, err)
	}
	return nil
}

// recoverSwap finishes a swap a killed unpack left in folder (abs is its
// absolute path), then removes the temporary folders killed runs left
// beside it. One listing of the parent finds them all: the journal, its
// temporary file, and the .<base>.ppalm-new-* and .ppalm-old-* folders.
// parentListed says the listing succeeded (so the parent exists).
func recoverSwap(folder, abs string) (parentListed bool, err error) {
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	jp := journalPath(abs)
	beside, listed := swapLeftovers(parent, base)
	if !listed || beside.journal {
		data, err := os.ReadFile(jp)
		if err == nil {
			var j swapJournal
			if err := json.Unmarshal(data, &j); err != nil || !j.valid(base) {
				return listed, fmt.Errorf("%s is not a swap journal ppalm wrote; an unpack into %s was interrupted: check the folder, then delete that file and the .%s.ppalm-* folders beside it", jp, folder, base)
			}
			if err := j.finish(parent, abs); err != nil {
				return listed, fmt.Errorf("finish the unpack into %s that was interrupted: %w", folder, err)
			}
			if err := os.Remove(jp); err != nil {
				return listed, fmt.Errorf("finish the unpack into %s that was interrupted: %w", folder, err)
			}
			// finish may have created the folder for the old tree.
			beside.stale = append(beside.stale, j.New, j.Old)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return listed, fmt.Errorf("read swap journal %s: %w", jp, err)
		}
	}
	// Whatever the stale folders hold is a previous tree or part of one:
	// this run replaces every folder the tree owns anyway, and left in
	// place they would be committed by git add -A.
	for _, s := range beside.stale {
		_ = os.RemoveAll(filepath.Join(parent, s))
	}
	if !listed || beside.journalTmp {
		_ = os.Remove(jp + ".tmp")
	}
	return listed, nil
}

// swapRemains are what killed unpacks into one folder left beside it.
type swapRemains struct {
	journal, journalTmp bool
	stale               []string // .<base>.ppalm-new-* and .ppalm-old-* names
}

// swapLeftovers lists parent once for what killed unpacks into base left
// there; listed is false when parent cannot be read (then nothing is known).
func swapLeftovers(parent, base string) (l swapRemains, listed bool) {
	d, err := os.Open(parent)
	if err != nil {
		return l, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return l, false
	}
	prefix := "." + base + ".ppalm-"
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		switch {
		case rest == "swap":
			l.journal = true
		case rest == "swap.tmp":
			l.journalTmp = true
		case strings.HasPrefix(rest, "new-"), strings.HasPrefix(rest, "old-"):
			l.stale = append(l.stale, n)
		}
	}
	return l, true
}

// valid refuses a journal naming anything but single folder names, and
// temporary folders that are not this target's.
func (j swapJournal) valid(base string) bool {
	single := func(s string) bool {
		return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
	}
	if !single(j.New) || !single(j.Old) || !strings.HasPrefix(j.New, "."+base+".ppalm-new-") || !strings.HasPrefix(j.Old, "."+base+".ppalm-old-") {
		return false
	}
	for _, f := range j.In {
		if !single(f.Name) {
			return false
		}
	}
	for _, n := range j.Out {
		if !single(n) {
			return false
		}
	}
	return true
}

// finish does what the swap had left to do: every new folder not yet in
// place goes in (whatever stands there goes to Old), every owned folder
// the new tree lacks goes to Old.
func (j swapJournal) finish(parent, folder string) error {
	newDir, oldDir := filepath.Join(parent, j.New), filepath.Join(parent, j.Old)
	aside := func(name string) error {
		if err := os.MkdirAll(oldDir, 0o755); err != nil {
			return err
		}
		return os.Rename(filepath.Join(folder, name), filepath.Join(oldDir, name))
	}
	for _, f := range j.In {
		dst, src := filepath.Join(folder, f.Name), filepath.Join(newDir, f.Name)
		if id, ok := idOf(dst); ok && f.ID.known() && id == f.ID {
			continue // in place (renamed or exchanged)
		}
		if _, err := os.Lstat(src); err != nil {
			continue // nothing left to move in
		}
		if _, err := os.Lstat(dst); err == nil {
			if err := aside(f.Name); err != nil {
				return err
			}
		}
		if err := os.Rename(src, dst); err != nil {
			return err
		}
	}
	for _, n := range j.Out {
		if _, err := os.Lstat(filepath.Join(folder, n)); err == nil {
			if err := aside(n); err != nil {
				return err
			}
		}
	}
	return nil
}
