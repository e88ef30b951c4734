// Tests for the Node shim (index.js) that the Azure DevOps task and the
// GitHub Action run; they need node on PATH.
package shim

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var goarch = map[string]string{"amd64": "amd64", "arm64": "arm64"}

// install copies index.js into a task folder with binary as the
// non-executable bin/ppalm-<os>-<arch>, as a VSIX unpacks it.
func install(t *testing.T, binary string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the fake binary is a shell script")
	}
	dir := t.TempDir()
	src, err := os.ReadFile("index.js")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.js"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if binary != "" {
		if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		name := "ppalm-" + runtime.GOOS + "-" + goarch[runtime.GOARCH]
		if err := os.WriteFile(filepath.Join(dir, "bin", name), []byte(binary), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func node(t *testing.T, dir string, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(dir, "index.js"))
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestShimRestoresExecBitAndPassesThrough(t *testing.T) {
	dir := install(t, "#!/bin/sh\necho \"args=$# input=$INPUT_ZIPFILE auth=$ENDPOINT_AUTH_X\"\nexit 7\n")
	out, code := node(t, dir, "INPUT_ZIPFILE=a b.zip", "ENDPOINT_AUTH_X={\"k\":1}")
	if code != 7 {
		t.Errorf("exit code = %d, want the binary's 7; output:\n%s", code, out)
	}
	if want := "args=0 input=a b.zip auth={\"k\":1}\n"; out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
	st, err := os.Stat(filepath.Join(dir, "bin", "ppalm-"+runtime.GOOS+"-"+goarch[runtime.GOARCH]))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o111 != 0o111 {
		t.Errorf("binary mode = %v, want executable", st.Mode())
	}

	dir = install(t, "#!/bin/sh\nexit 0\n")
	if out, code := node(t, dir); code != 0 {
		t.Errorf("exit code = %d, want 0; output:\n%s", code, out)
	}
}

func TestShimMissingBinary(t *testing.T) {
	dir := install(t, "")
	out, code := node(t, dir, "TF_BUILD=True", "GITHUB_ACTIONS=")
	if code != 1 || !strings.HasPrefix(out, "##vso[task.logissue type=error]ppalm binary not found at ") || !strings.Contains(out, "##vso[task.complete result=Failed;]") {
		t.Errorf("code %d, output:\n%s", code, out)
	}
	out, code = node(t, dir, "TF_BUILD=", "GITHUB_ACTIONS=true")
	if code != 1 || !strings.HasPrefix(out, "::error::ppalm binary not found at ") {
		t.Errorf("code %d, output:\n%s", code, out)
	}
}
