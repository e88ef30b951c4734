package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// startupPagesBound bounds the pages a ppalm process touches before its
// command does any work, against a Go program that only prints a line.
//
// On the VMs ppalm is developed and tested on, touching a page for the
// first time costs 13-30 us, and pages are most of a short command's cost:
// `ppalm unpack --help` took 20-24 ms where a Go hello-world takes 4-6 ms
// and tar --version 3 ms. Page faults, unlike times, hardly move with the
// machine's load, so they are what this test holds. Measured on 2026-12-06:
// hello-world 170-186 faults; ppalm 940-990 (5.5x) before start-up work
// was made lazy (regular expressions compiled at package init, every
// command's flag aliases and completions built at each start, git's
// transport installed at init, and all forty commands built for any one),
// 630-690 (3.7-4.1x) after it. What remains is
// the Go runtime's set-up for a 20 MB binary and the package initialisation
// of the dependencies (go-git, azidentity and MSAL, the Azure DevOps
// client, yaml), which ppalm does not control.
const startupPagesBound = 4.6

// A command that builds little at start stays cheap: a package-level
// regular expression, template or table built at init, or a new dependency
// with a costly init, shows here as pages every ppalm process touches.
func TestStartupTouchesFewPages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("page faults are read from Linux's rusage")
	}
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binaries")
	}
	dir := t.TempDir()
	build := func(out, pkg, wd string) {
		t.Helper()
		c := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		c.Dir = wd
		c.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	ppalm := filepath.Join(dir, "ppalm")
	build(ppalm, ".", ".")
	hello := filepath.Join(dir, "hello")
	src := filepath.Join(dir, "src")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"), 0o644))
	build(hello, ".", src)

	// The fewest of several runs: a run the machine disturbed (a page
	// reclaimed under it) only ever touches more.
	fewest := func(bin string, args ...string) int64 {
		best := int64(-1)
		for range 15 {
			c := exec.Command(bin, args...)
			if b, err := c.CombinedOutput(); err != nil {
				t.Fatalf("%s %v: %v\n%s", bin, args, err, b)
			}
			ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
			if !ok {
				t.Skip("no rusage on this platform")
			}
			if n := ru.Minflt + ru.Majflt; best < 0 || n < best {
				best = n
			}
		}
		return best
	}
	base := fewest(hello)
	for _, args := range [][]string{{"unpack", "--help"}, {"--version"}} {
		n := fewest(ppalm, args...)
		ratio := float64(n) / float64(base)
		t.Logf("ppalm %v: %d page faults, a Go hello-world %d: %.2fx (bound %.1fx)", args, n, base, ratio, startupPagesBound)
		if ratio > startupPagesBound {
			t.Errorf("ppalm %v touched %d pages before doing anything, %.2f times a Go hello-world's %d; the bound is %.1f: something now builds at start (see go doc on startupPagesBound)",
				args, n, ratio, base, startupPagesBound)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
