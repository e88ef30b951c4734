//go:build !unix

package unpack

import "os"

// createTreeFile creates (or truncates) p with mode 0644.
func createTreeFile(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// writeTreeFile writes data to p.
func writeTreeFile(p string, data []byte) error { return os.WriteFile(p, data, 0o644) }

// readTreeFile reads a whole file.
func readTreeFile(p string) ([]byte, error) { return os.ReadFile(p) }
