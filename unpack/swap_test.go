//go:build unix

package unpack

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// TestKilledSwapChild is the process TestKillDuringSwap kills: it unpacks
// $PPALM_SWAP_ZIP into $PPALM_SWAP_FOLDER and sends itself SIGKILL right
// after rename number $PPALM_SWAP_KILL_AT of the swap (0: never, and it
// prints how many there were).
func TestKilledSwapChild(t *testing.T) {
	zip := os.Getenv("PPALM_SWAP_ZIP")
	if zip == "" {
		t.Skip("run by TestKillDuringSwap")
	}
	killAt, _ := strconv.Atoi(os.Getenv("PPALM_SWAP_KILL_AT"))
	steps := 0
	swapStepHook = func(string) {
		steps++
		if steps == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: zip, Folder: os.Getenv("PPALM_SWAP_FOLDER")}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("swap steps: %d\n", steps)
}

// runSwapChild runs TestKilledSwapChild in a new process of this test
// binary, the real unpack code, and reports whether it was killed.
func runSwapChild(t *testing.T, zip, folder string, killAt int) (killed bool, out string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledSwapChild$", "-test.v")
	cmd.Env = append(os.Environ(), "PPALM_SWAP_ZIP="+zip, "PPALM_SWAP_FOLDER="+folder, "PPALM_SWAP_KILL_AT="+strconv.Itoa(killAt))
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, string(b)
		}
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, b)
	}
	return false, string(b)
}

// snapshot maps every file under dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func leftovers(t *testing.T, parent string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".ppalm-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func diffTrees(got, want map[string]string) string {
	var d []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			d = append(d, "missing "+p)
		} else if g != w {
			d = append(d, "differs "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			d = append(d, "extra "+p)
		}
	}
	sort.Strings(d)
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("... %d in all", len(d)))
	}
	return strings.Join(d, "; ")
}

// kill -9 after each rename of the swap, over a tree whose top-level
// folders the new tree partly keeps, partly drops and partly adds: the
// next unpack, even one that fails, first finishes the swap, so the
// folder is the new tree exactly, the user's files are kept, and nothing
// is left beside it for git add -A to commit.
func TestKillDuringSwap(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process per swap step")
	}
	oldZip := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	newZip := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	work := t.TempDir()
	bad := filepath.Join(work, "bad.zip")
	must(t, os.WriteFile(bad, []byte("not a zip"), 0o644))
	user := map[string]string{"README.md": "# mine\n", "config/test/deploymentSettings.json": "{}"}

	// The reference: the new tree unpacked over the old one without a kill.
	prepare := func(folder string) {
		t.Helper()
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: oldZip, Folder: folder}); err != nil {
			t.Fatal(err)
		}
		for p, c := range user {
			must(t, os.MkdirAll(filepath.Dir(filepath.Join(folder, p)), 0o755))
			must(t, os.WriteFile(filepath.Join(folder, p), []byte(c), 0o644))
		}
	}
	ref := filepath.Join(work, "ref", "src")
	prepare(ref)
	killed, out := runSwapChild(t, newZip, ref, 0)
	if killed {
		t.Fatal("the reference run was killed")
	}
	var steps int
	fmt.Sscanf(out[strings.Index(out, "swap steps:"):], "swap steps: %d", &steps)
	t.Logf("a swap of %s over %s takes %d renames", filepath.Base(newZip), filepath.Base(oldZip), steps)
	if steps < 3 {
		t.Fatalf("only %d swap steps:\n%s", steps, out)
	}
	want := snapshot(t, ref)
	for p, c := range user {
		if want[p] != c {
			t.Fatalf("the reference run lost %s", p)
		}
	}

	for k := 1; k <= steps; k++ {
		folder := filepath.Join(work, strconv.Itoa(k), "src")
		prepare(folder)
		if killed, out := runSwapChild(t, newZip, folder, k); !killed {
			t.Fatalf("step %d: the child was not killed:\n%s", k, out)
		}
		parent := filepath.Dir(folder)
		if k < steps && !bytes.Contains([]byte(strings.Join(leftovers(t, parent), " ")), []byte(".ppalm-swap")) {
			t.Errorf("step %d of %d: killed mid-swap but no journal beside the folder: %v", k, steps, leftovers(t, parent))
		}
		// A run that fails still finishes the swap first.
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: bad, Folder: folder}); err == nil {
			t.Fatalf("step %d: unpack of a bad zip succeeded", k)
		}
		if d := diffTrees(snapshot(t, folder), want); d != "" {
			t.Errorf("step %d of %d: after the kill and a failed rerun the folder is not the new tree: %s", k, steps, d)
		}
		if l := leftovers(t, parent); len(l) > 0 {
			t.Errorf("step %d: left beside the folder: %v", k, l)
		}
		// And the rerun gives the same tree.
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: newZip, Folder: folder}); err != nil {
			t.Fatalf("step %d: rerun: %v", k, err)
		}
		if d := diffTrees(snapshot(t, folder), want); d != "" {
			t.Errorf("step %d: after the rerun: %s", k, d)
		}
	}
}

// A journal ppalm did not write (naming paths outside the target) is
// refused, and nothing is moved.
func TestSwapJournalMustBeOurs(t *testing.T) {
	parent := t.TempDir()
	folder := filepath.Join(parent, "src")
	must(t, os.MkdirAll(filepath.Join(folder, "Entities"), 0o755))
	must(t, os.WriteFile(journalPath(folder), []byte(`{"new":"../x","old":".src.ppalm-old-1","in":[{"name":"Entities"}]}`), 0o644))
	_, err := Unpack(context.Background(), UnpackOptions{ZipFile: fixtures.Path("followsites-small", "sharepoint-followsites.zip"), Folder: folder})
	if err == nil || !strings.Contains(err.Error(), "is not a swap journal ppalm wrote") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(folder, "Entities")); err != nil {
		t.Error("a refused journal moved a folder")
	}
}
