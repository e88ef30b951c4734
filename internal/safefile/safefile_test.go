//go:build unix

package safefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Files and folders get 0666 and 0777 less the umask, as any other tool
// writes them: 0644 and 0755 under the usual 022, 0664 and 0775 under 002.
func TestModesFollowTheUmask(t *testing.T) {
	for _, tc := range []struct {
		umask        int
		file, folder os.FileMode
	}{{0o022, 0o644, 0o755}, {0o002, 0o664, 0o775}, {0o077, 0o600, 0o700}} {
		old := syscall.Umask(tc.umask)
		dir := t.TempDir()
		path := filepath.Join(dir, "a.zip")
		if err := WriteFile(path, []byte("zip")); err != nil {
			t.Fatal(err)
		}
		d, err := MkdirTemp(dir, ".x-*")
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != tc.file {
			t.Errorf("umask %03o: file %v, want %v", tc.umask, st.Mode().Perm(), tc.file)
		}
		if st, _ := os.Stat(d); st.Mode().Perm() != tc.folder {
			t.Errorf("umask %03o: folder %v, want %v", tc.umask, st.Mode().Perm(), tc.folder)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 2 {
			t.Errorf("left behind: %v", entries)
		}
	}
}
