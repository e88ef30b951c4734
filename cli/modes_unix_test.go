//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Exported and built zips were written 0600 and new folders 0700, whatever
// the umask; they get what any tool gives: 0644 and 0755 under umask 022.
func TestWrittenFilesHaveTheUsualModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	srv := emulatorServer(t)
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, nil, "export", "--environment", srv.EnvURL("dev"), "--solution", "FollowSites", "--out", dir); code != 0 {
		t.Fatal(errOut)
	}
	tree := filepath.Join(dir, "new", "src")
	if _, errOut, code := runCLI(t, nil, "unpack", "--zipfile", filepath.Join(dir, "FollowSites.zip"), "--folder", tree); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := runCLI(t, nil, "build", "--folder", tree, "--out", filepath.Join(dir, "drop")); code != 0 {
		t.Fatal(errOut)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, "FollowSites.zip"):         0o644,
		filepath.Join(dir, "FollowSites_managed.zip"): 0o644,
		tree: 0o755,
		filepath.Join(dir, "drop", "FollowSites_1_0_0_0.zip"):         0o644,
		filepath.Join(dir, "drop", "FollowSites_1_0_0_0_managed.zip"): 0o644,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}
