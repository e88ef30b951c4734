package unpack

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CheckVersion accepts a Dataverse solution version: four dot-separated
// whole numbers (major.minor.build.revision).
func CheckVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) != 4 {
		return fmt.Errorf("version %q: expected four numbers like 1.2.3.4", v)
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > 2147483647 || p == "" {
			return fmt.Errorf("version %q: %q is not a whole number; expected four numbers like 1.2.3.4", v, p)
		}
	}
	return nil
}

// SetVersion stamps version into <Version> of folder/Other/Solution.xml,
// keeping the file's encoding and line endings.
func SetVersion(folder, version string) error {
	if err := CheckVersion(version); err != nil {
		return fmt.Errorf("set version in %s: %w", folder, err)
	}
	p := filepath.Join(folder, "Other", "Solution.xml")
	raw, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("set version: %w", err)
	}
	hasBOM := bytes.HasPrefix(raw, bom)
	src := bytes.TrimPrefix(raw, bom)
	root, err := scanXML(src)
	if err != nil {
		return fmt.Errorf("set version: %s is not well-formed XML: %w", p, err)
	}
	v := root.child("SolutionManifest").childNode("Version")
	if v == nil || v.self() {
		return fmt.Errorf("set version: %s has no <SolutionManifest><Version> element", p)
	}
	var out []byte
	if hasBOM {
		out = append(out, bom...)
	}
	out = append(out, src[:v.openEnd]...)
	out = append(out, version...)
	out = append(out, src[v.closeStart:]...)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return fmt.Errorf("set version: %w", err)
	}
	return nil
}

// childNode is child that tolerates a nil receiver.
func (n *node) childNode(name string) *node {
	if n == nil {
		return nil
	}
	return n.child(name)
}

// NormalizeOptions configures Normalize.
type NormalizeOptions struct {
	// KeepVersion leaves <Version> alone; otherwise it becomes 0.0.0.0 so
	// commits do not change on every export.
	KeepVersion bool
	// DropEnvironmentVariableValues deletes environmentvariablevalues.json
	// files: current values belong to an environment, not to source.
	DropEnvironmentVariableValues bool
}

// Normalize prepares an unpacked tree for commit.
func Normalize(folder string, opts NormalizeOptions) error {
	if !opts.KeepVersion {
		if err := SetVersion(folder, "0.0.0.0"); err != nil {
			return fmt.Errorf("normalize %s: %w", folder, err)
		}
	}
	if opts.DropEnvironmentVariableValues {
		vals, err := filepath.Glob(filepath.Join(folder, "environmentvariabledefinitions", "*", "environmentvariablevalues.json"))
		if err != nil {
			return fmt.Errorf("normalize %s: %w", folder, err)
		}
		for _, v := range vals {
			if err := os.Remove(v); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("normalize %s: remove %s: %w", folder, v, err)
			}
		}
	}
	return nil
}
