//go:build unix

package cli

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

// treeOf maps every file under dir to its content.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, _ := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for p, c := range a {
		if d, ok := b[p]; !ok || c != d {
			return false
		}
	}
	return true
}

// kill -9 a real ppalm unpack at moments spread over its whole run (reading,
// writing the new tree, swapping, cleaning up), then run ppalm again: even
// a run that fails leaves the folder exactly the old tree or exactly the
// new one, never a mix, with nothing hidden beside it; a rerun gives the
// new tree.
func TestKilledUnpackLeavesOldOrNewTree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs many ppalm processes")
	}
	bin := ppalmBinary(t)
	oldZip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	newZip := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	work := t.TempDir()
	unpack := func(zip, folder string) *exec.Cmd {
		return exec.Command(bin, "unpack", "--zipfile", zip, "--folder", folder)
	}
	prepare := func(folder string) {
		t.Helper()
		if out, err := unpack(oldZip, folder).CombinedOutput(); err != nil {
			t.Fatalf("unpack the old tree: %v\n%s", err, out)
		}
		os.WriteFile(filepath.Join(folder, "README.md"), []byte("# mine\n"), 0o644)
	}
	ref := filepath.Join(work, "ref", "src")
	prepare(ref)
	oldTree := treeOf(t, ref)
	best := time.Duration(1 << 62)
	for range 3 {
		os.RemoveAll(filepath.Dir(ref))
		prepare(ref)
		start := time.Now()
		if out, err := unpack(newZip, ref).CombinedOutput(); err != nil {
			t.Fatalf("unpack the new tree: %v\n%s", err, out)
		}
		best = min(best, time.Since(start))
	}
	newTree := treeOf(t, ref)
	bad := filepath.Join(work, "bad.zip")
	os.WriteFile(bad, []byte("not a zip"), 0o644)

	const runs = 16
	counts := map[string]int{}
	for i := range runs {
		folder := filepath.Join(work, fmt.Sprint(i), "src")
		prepare(folder)
		cmd := unpack(newZip, folder)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// From just after the start to a little past the best time.
		time.Sleep(best * time.Duration(i+1) / runs * 5 / 4)
		cmd.Process.Kill()
		cmd.Wait()
		if out, err := unpack(bad, folder).CombinedOutput(); err == nil {
			t.Fatalf("unpack of a bad zip succeeded:\n%s", out)
		}
		got := treeOf(t, folder)
		switch {
		case sameTree(got, oldTree):
			counts["old"]++
		case sameTree(got, newTree):
			counts["new"]++
		default:
			t.Errorf("run %d: killed after %v, the folder is neither the old tree nor the new one", i, best*time.Duration(i+1)/runs*5/4)
		}
		entries, _ := os.ReadDir(filepath.Dir(folder))
		for _, e := range entries {
			if strings.Contains(e.Name(), ".ppalm-") {
				t.Errorf("run %d: %s left beside the folder", i, e.Name())
			}
		}
		if out, err := unpack(newZip, folder).CombinedOutput(); err != nil {
			t.Fatalf("rerun: %v\n%s", err, out)
		}
		if !sameTree(treeOf(t, folder), newTree) {
			t.Errorf("run %d: the rerun did not give the new tree", i)
		}
	}
	t.Logf("a clean unpack takes %v (best of 3); after %d kills spread over it the folder was %d times the old tree and %d times the new one", best, runs, counts["old"], counts["new"])
}
