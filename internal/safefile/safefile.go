// Package safefile writes files and folders the way a user expects from a
// command-line tool: all at once (through a temporary name, so a failed run
// never leaves half a zip under the final name) and with the modes any
// other tool would give them (0666 and 0777 less the umask), where
// os.CreateTemp and os.MkdirTemp give 0600 and 0700 whatever the umask.
package safefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func randomName(pattern string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	r := hex.EncodeToString(b)
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		return pattern[:i] + r + pattern[i+1:]
	}
	return pattern + r
}

// CreateTemp is os.CreateTemp with mode 0666 less the umask.
func CreateTemp(dir, pattern string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	for range 100 {
		f, err := os.OpenFile(filepath.Join(dir, randomName(pattern)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file in %s: no free name", dir)
}

// MkdirTemp is os.MkdirTemp with mode 0777 less the umask.
func MkdirTemp(dir, pattern string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	for range 100 {
		name := filepath.Join(dir, randomName(pattern))
		err := os.Mkdir(name, 0o777)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, err
	}
	return "", fmt.Errorf("create a temporary folder in %s: no free name", dir)
}

// WriteFile writes data to path through a temporary file beside it, so
// path holds either its old content or all of data.
func WriteFile(path string, data []byte) error {
	tmp, err := CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".ppalm-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
