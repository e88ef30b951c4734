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
			args := []string{"unpack", "--zipfile", "x.zip", "--folder", "src"}
			installPathAliases(runRoot(f, args), args)
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			NewRoot(f)
		}
	})
}

// A run builds the command its first word names and no other; the name a
// command is registered under is the one it answers to, so `ppalm NAME`
// finds it in the tree built for NAME.
func TestRunBuildsTheCommandItNames(t *testing.T) {
	f := &Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	registered := map[string]bool{}
	for _, b := range commandBuilders {
		registered[b.name] = true
	}
	for _, b := range commandBuilders {
		if got := b.build(f).Name(); got != b.name {
			t.Errorf("registered as %q, the command is %q", b.name, got)
		}
		root := runRoot(f, []string{"--verbose", b.name, "--help"})
		var built []string
		for _, c := range root.Commands() {
			if registered[c.Name()] {
				built = append(built, c.Name())
			}
		}
		if len(built) != 1 || built[0] != b.name {
			t.Errorf("ppalm %s built %v", b.name, built)
		}
	}
	// Anything else gets them all: the root's help lists them, and a
	// misspelt command is matched against them.
	// So does a command word that is a flag's value, not the command.
	for _, args := range [][]string{nil, {"--help"}, {"help", "unpack"}, {"unpak"}, {"completion", "bash"}, {"--", "-x"},
		{"--folder", "unpack", "pack"}} {
		root := runRoot(f, args)
		n := 0
		for _, c := range root.Commands() {
			if registered[c.Name()] {
				n++
			}
		}
		if n != len(commandBuilders) {
			t.Errorf("%v built %d of %d commands", args, n, len(commandBuilders))
		}
	}
}
