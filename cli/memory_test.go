package cli

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
)

// memoryBudget is the peak resident memory a ppalm process may reach while
// it refuses a hostile zip. A watchdog kills the process as soon as it
// passes the budget, so a regression fails the test instead of the machine.
const memoryBudget = 192 << 20

// deflated is an entry compressed once and written raw into many zips.
type deflated struct {
	raw  []byte
	crc  uint32
	size uint64
}

// deflate compresses size bytes, pattern repeated, in one streaming pass.
func deflate(t *testing.T, pattern []byte, size int64) deflated {
	t.Helper()
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	crc := crc32.NewIEEE()
	chunk := bytes.Repeat(pattern, (1<<20)/len(pattern))
	for left := size; left > 0; {
		n := min(int64(len(chunk)), left)
		fw.Write(chunk[:n])
		crc.Write(chunk[:n])
		left -= n
	}
	fw.Close()
	return deflated{raw: raw.Bytes(), crc: crc.Sum32(), size: uint64(size)}
}

// bombZip copies the real export base (leaving out replaced entries) and
// adds the precompressed entries.
func bombZip(t *testing.T, path, base string, add map[string]deflated) {
	t.Helper()
	zr, err := zip.OpenReader(base)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		if _, replaced := add[e.Name]; !replaced {
			zw.Copy(e)
		}
	}
	names := make([]string, 0, len(add))
	for n := range add {
		names = append(names, n)
	}
	for _, n := range names {
		d := add[n]
		w, err := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Deflate, CRC32: d.crc,
			CompressedSize64: uint64(len(d.raw)), UncompressedSize64: d.size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d.raw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// runMeasured runs the ppalm binary with args, killing it once its resident
// memory passes budget, and returns its output, exit code and peak
// resident memory: the process's own high-water mark (VmHWM), sampled
// every millisecond until it exits. (The kernel's ru_maxrss would count
// this test's own memory: a child started by vfork takes over the parent's
// high-water mark when it execs.)
func runMeasured(t *testing.T, budget int64, args ...string) (out string, code int, peak int64, killed bool) {
	t.Helper()
	cmd := exec.Command(ppalmBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type result struct {
		peak   int64
		killed bool
	}
	done := make(chan struct{})
	watched := make(chan result, 1)
	go func() {
		var r result
		defer func() { watched <- r }()
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		for {
			rss, hwm := statusKiB(status, "VmRSS:")<<10, statusKiB(status, "VmHWM:")<<10
			r.peak = max(r.peak, hwm, rss)
			if rss > budget {
				cmd.Process.Kill()
				r.killed = true
				return
			}
			select {
			case <-done:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	res := <-watched
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return buf.String(), code, res.peak, res.killed
}

// statusKiB reads one "Name: N kB" line of /proc/PID/status.
func statusKiB(path, field string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// The zips of issue 11 that cost gigabytes, fed to every command that reads
// a zip, each in its own ppalm process under a fixed memory budget with the
// peak measured: 12 × 500 MiB of entries in a 6 MB zip (9.1 GB in plan,
// import and settings), 600 MB of <a/> in customizations.xml from a zip of
// about 600 KB (12.6 GB in unpack), and a 2 MB bomb past unpack's old
// 2 GiB limit (4.4 GB before it was refused); and a customizations.xml
// with more tags than any command reads that compresses like real XML.
func TestHostileZipsUnderAMemoryBudget(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the watchdog reads /proc")
	}
	if testing.Short() {
		t.Skip("builds gigabyte-claiming zips")
	}
	base := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	dir := t.TempDir()
	zeros500 := deflate(t, []byte{0}, 500<<20)
	zeros550 := deflate(t, []byte{0}, 550<<20)

	cases := []struct {
		name string
		add  map[string]deflated
		want string
	}{
		{"12 x 500 MiB entries", func() map[string]deflated {
			m := map[string]deflated{}
			for i := range 12 {
				m[fmt.Sprintf("WebResources/blob%02d.bin", i)] = zeros500
			}
			return m
		}(), "zip bomb"},
		{"600 MB of <a/> in customizations.xml", map[string]deflated{"customizations.xml": denseCustomizations(t)}, "zip bomb"},
		// Dense but not very compressible: past the ratio check, refused
		// by the tag count while it inflates.
		{"9 Mi tags in customizations.xml", map[string]deflated{"customizations.xml": noisyCustomizations(t)}, "element bomb"},
		{"2 MB bomb past 2 GiB", map[string]deflated{"a.bin": zeros550, "b.bin": zeros550, "c.bin": zeros550, "d.bin": zeros550}, "zip bomb"},
	}

	ppalmBinary(t) // built before anything is timed
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}})
	connect := []string{"--environment", srv.EnvURL("test"), "--powerapps-url", srv.PowerAppsURL(), "--graph-url", srv.GraphURL()}
	settingsFile := filepath.Join(dir, "deploymentSettings.json")
	if _, errOut, code := runCLI(t, nil, "settings", "create", "--zipfile", base, "--out", settingsFile); code != 0 {
		t.Fatalf("settings create: %s", errOut)
	}
	for i, c := range cases {
		zipPath := filepath.Join(dir, fmt.Sprintf("bomb%d", i), "FollowSites.zip")
		os.MkdirAll(filepath.Dir(zipPath), 0o755)
		bombZip(t, zipPath, base, c.add)
		st, _ := os.Stat(zipPath)
		var claimed uint64
		for _, d := range c.add {
			claimed += d.size
		}
		t.Logf("%s: zip of %d KiB claiming %d MiB", c.name, st.Size()>>10, claimed>>20)
		for _, args := range [][]string{
			{"unpack", "--zipfile", zipPath, "--folder", filepath.Join(dir, fmt.Sprintf("tree%d", i))},
			append([]string{"plan", "--zipfile", zipPath, "--settings", settingsFile}, connect...),
			append([]string{"import", "--zipfile", zipPath, "--settings", settingsFile}, connect...),
			{"settings", "validate", "--zipfile", zipPath, "--settings", settingsFile},
		} {
			name := args[0]
			if name == "settings" {
				name = "settings validate"
			}
			start := time.Now()
			out, code, peak, killed := runMeasured(t, memoryBudget, args...)
			for try := 0; peak == 0 && try < 3; try++ {
				// Done before the first sample (a loaded machine): again.
				start = time.Now()
				out, code, peak, killed = runMeasured(t, memoryBudget, args...)
			}
			t.Logf("  %-17s peak %4d MiB, %v", name, peak>>20, time.Since(start).Round(time.Millisecond))
			switch {
			case killed:
				t.Errorf("%s, %s: passed the budget of %d MiB and was killed", c.name, name, memoryBudget>>20)
			case peak == 0:
				t.Errorf("%s, %s: no memory sample taken", c.name, name)
			case peak > memoryBudget:
				t.Errorf("%s, %s: peak %d MiB, over the budget of %d MiB", c.name, name, peak>>20, memoryBudget>>20)
			case code == 0 || !strings.Contains(out, c.want) || !strings.Contains(out, zipPath):
				t.Errorf("%s, %s: exit %d, want a refusal naming the zip and saying %q:\n%s", c.name, name, code, c.want, out)
			}
		}
	}
	if n := importRequests(srv); n != 0 {
		t.Errorf("the emulator received %d import requests", n)
	}
}

// denseCustomizations is a customizations.xml of 600 MB: <ImportExportXml>
// holding 150 million <a/>.
func denseCustomizations(t *testing.T) deflated {
	t.Helper()
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	crc := crc32.NewIEEE()
	w := io.MultiWriter(fw, crc)
	const elements = 150_000_000
	io.WriteString(w, "<ImportExportXml>")
	chunk := bytes.Repeat([]byte("<a/>"), 1<<18)
	for left := elements; left > 0; left -= 1 << 18 {
		w.Write(chunk[:4*min(left, 1<<18)])
	}
	io.WriteString(w, "</ImportExportXml>")
	fw.Close()
	return deflated{raw: raw.Bytes(), crc: crc.Sum32(), size: uint64(len("<ImportExportXml>") + 4*elements + len("</ImportExportXml>"))}
}

// noisyCustomizations is a customizations.xml of 9 Mi <a/>, each followed
// by a random letter, so it compresses about as well as real XML does.
func noisyCustomizations(t *testing.T) deflated {
	t.Helper()
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
	crc := crc32.NewIEEE()
	w := io.MultiWriter(fw, crc)
	const elements = 9 << 20
	rng := rand.New(rand.NewPCG(11, 11))
	size := 0
	n, _ := io.WriteString(w, "<ImportExportXml>")
	size += n
	chunk := make([]byte, 0, 5<<16)
	for left := elements; left > 0; left -= 1 << 16 {
		chunk = chunk[:0]
		for range min(left, 1<<16) {
			chunk = append(chunk, "<a/>"...)
			chunk = append(chunk, byte('a'+rng.IntN(26)))
		}
		w.Write(chunk)
		size += len(chunk)
	}
	n, _ = io.WriteString(w, "</ImportExportXml>")
	size += n
	fw.Close()
	return deflated{raw: raw.Bytes(), crc: crc.Sum32(), size: uint64(size)}
}
