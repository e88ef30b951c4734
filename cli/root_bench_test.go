package cli

import (
	"bytes"
	"testing"
)

// BenchmarkCommandTree is the command tree's share of each start: what run
// builds for `ppalm unpack ...` against the whole tree (NewRoot: every
// command's flag aliases and shell completions, and the output help).
func BenchmarkCommandTree(b *testing.B) {
	f := &Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	b.Run("run", func(b *testing.B) {
		for b.Loop() {
			installPathAliases(newRoot(f), []string{"unpack", "--zipfile", "x.zip", "--folder", "src"})
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			NewRoot(f)
		}
	})
}
