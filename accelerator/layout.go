package accelerator

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The Accelerator's repository layouts, as ppalm reads them.

// LegacyTree reports whether dir (a <Solution>/SolutionPackage folder) holds
// a tree unpacked directly in it, without src/: the layout the Accelerator
// wrote before it used pac solution clone, which its build moved into src/
// (Invoke-Restructure-Legacy-Folders).
func LegacyTree(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "Other", "Solution.xml"))
	return err == nil
}

// ResolveTree returns the unpacked tree for folder: folder itself, or, when
// folder is a <Solution>/SolutionPackage/src that does not exist and its
// parent holds a legacy tree, the parent. legacy says which.
func ResolveTree(folder string) (tree string, legacy bool) {
	if _, err := os.Stat(filepath.Join(folder, "Other", "Solution.xml")); err == nil {
		return folder, false
	}
	if strings.EqualFold(filepath.Base(folder), "src") {
		if _, err := os.Stat(folder); errors.Is(err, fs.ErrNotExist) && LegacyTree(filepath.Dir(folder)) {
			return filepath.Dir(folder), true
		}
	}
	return folder, false
}

// LegacyCanvasSources lists the CanvasApps/<blob>_msapp_src/ folders of a
// tree (the source folders of pac canvas unpack the Accelerator once
// committed beside each .msapp), each with whether its .msapp is there.
func LegacyCanvasSources(tree string) (folders []string, withoutMsapp []string, err error) {
	entries, err := os.ReadDir(filepath.Join(tree, "CanvasApps"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), "_msapp_src") {
			continue
		}
		rel := "CanvasApps/" + e.Name()
		folders = append(folders, rel)
		msapp := e.Name()[:len(e.Name())-len("_msapp_src")] + ".msapp"
		if _, err := os.Stat(filepath.Join(tree, "CanvasApps", msapp)); err != nil {
			withoutMsapp = append(withoutMsapp, rel)
		}
	}
	return folders, withoutMsapp, nil
}
