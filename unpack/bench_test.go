package unpack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ppalm/ppalm/fixtures"
)

var largest = fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")

func BenchmarkUnpackLarge(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "tree")
	st, _ := os.Stat(largest)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Unpack(context.Background(), UnpackOptions{ZipFile: largest, Folder: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPackLarge(b *testing.B) {
	dir, _ := unpackTo(b, largest, UnpackOptions{})
	out := filepath.Join(b.TempDir(), "out.zip")
	st, _ := os.Stat(largest)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out}); err != nil {
			b.Fatal(err)
		}
	}
}

// unpackBound is the bound: unpacking every fixture zip, one
// process each, costs at most this many times what tar -x of the finished
// trees costs, one process each (the physical limit of writing the files).
const unpackBound = 1.5

// The whole process as a user feels it: the released binary (built once,
// CGO_ENABLED=0, stripped, as scripts/dist.sh builds it), one process per
// fixture zip into a fresh folder, against one tar -x process per finished
// tree. Rounds interleave the two, and each side keeps its best round: on
// a loaded machine the least disturbed round is the true cost. At least
// five rounds, up to twenty while the comparison stays above the bound.
func TestUnpackProcessCostComparedWithTar(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("timing test: not with -short or -race")
	}
	tar, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("tar not installed")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skip("no go tool to build the binary")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "ppalm")
	build := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "../cmd/ppalm")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ppalm: %v\n%s", err, out)
	}
	zips := allZips(t)
	tars := make([]string, len(zips))
	files := 0
	for i, z := range zips {
		ref := filepath.Join(work, "ref", strconv.Itoa(i))
		if out, err := exec.Command(bin, "unpack", "--zipfile", z, "--folder", ref).CombinedOutput(); err != nil {
			t.Fatalf("ppalm unpack %s: %v\n%s", z, err, out)
		}
		files += len(readDir(t, ref))
		tars[i] = filepath.Join(work, strconv.Itoa(i)+".tar")
		if out, err := exec.Command(tar, "-cf", tars[i], "-C", ref, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar -c %s: %v\n%s", ref, err, out)
		}
	}
	round := 0
	// timed runs one process per fixture into fresh folders and returns
	// the time the processes took (folder creation for tar excluded).
	timed := func(cmd func(i int, dir string) *exec.Cmd, mkdir bool) time.Duration {
		round++
		var total time.Duration
		for i := range zips {
			dir := filepath.Join(work, "r"+strconv.Itoa(round), strconv.Itoa(i))
			if mkdir {
				must(t, os.MkdirAll(dir, 0o755))
			} else {
				must(t, os.MkdirAll(filepath.Dir(dir), 0o755))
			}
			c := cmd(i, dir)
			start := time.Now()
			out, err := c.CombinedOutput()
			total += time.Since(start)
			if err != nil {
				t.Fatalf("%v: %v\n%s", c.Args, err, out)
			}
		}
		must(t, os.RemoveAll(filepath.Join(work, "r"+strconv.Itoa(round))))
		return total
	}
	runTar := func(i int, dir string) *exec.Cmd { return exec.Command(tar, "-xf", tars[i], "-C", dir) }
	runOurs := func(i int, dir string) *exec.Cmd {
		return exec.Command(bin, "unpack", "--zipfile", zips[i], "--folder", dir)
	}
	var tarTime, ours time.Duration
	for i := 0; i < 5 || (i < 20 && float64(ours) > unpackBound*float64(tarTime)); i++ {
		tt, o := timed(runTar, true), timed(runOurs, false)
		if i == 0 || tt < tarTime {
			tarTime = tt
		}
		if i == 0 || o < ours {
			ours = o
		}
	}
	ratio := float64(ours) / float64(tarTime)
	t.Logf("%d fixture zips, %d files, one process each: ppalm unpack %v, tar -x %v (ratio %.2f, bound %.1f)", len(zips), files, ours, tarTime, ratio, unpackBound)
	if ratio > unpackBound {
		t.Errorf("ppalm unpack took %v, %.2f times tar -x's %v; the bound is %.1f", ours, ratio, tarTime, unpackBound)
	}
}
