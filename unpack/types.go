package unpack

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solzip"
)

// PackageType says which variant of a solution a zip holds or a pack writes.
// The zero value means "as the input says": the zip's <Managed> on unpack, the
// tree's Other/Solution.xml on pack (where Managed=2 packs unmanaged).
type PackageType int

// The package types of pac's --packagetype.
const (
	Unmanaged PackageType = iota + 1
	Managed
	Both
)

// ParsePackageType reads pac's spelling (case-insensitive); "" is the zero
// value.
func ParsePackageType(s string) (PackageType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "unmanaged":
		return Unmanaged, nil
	case "managed":
		return Managed, nil
	case "both":
		return Both, nil
	}
	return 0, fmt.Errorf("package type %q: expected Unmanaged, Managed or Both", s)
}

func (p PackageType) String() string {
	switch p {
	case Unmanaged:
		return "Unmanaged"
	case Managed:
		return "Managed"
	case Both:
		return "Both"
	}
	return "auto"
}

// DefaultMaxInflatedBytes bounds what one unpack may inflate (all entries
// together); a solution bigger than this is not a real export. It is the
// limit of every command that reads a solution zip.
const DefaultMaxInflatedBytes = solzip.DefaultMaxInflated

// UnpackOptions configures Unpack.
type UnpackOptions struct {
	ZipFile     string
	Folder      string
	PackageType PackageType
	// LineEndings of the XML files ppalm writes: "lf" (default) or "crlf".
	// Files copied verbatim from the zip keep their bytes.
	LineEndings string
	// MaxInflatedBytes overrides DefaultMaxInflatedBytes (tests use small values).
	MaxInflatedBytes int64
	// ProcessCanvasApps also writes CanvasApps/src/<App>/, a read-only review
	// copy of each canvas app (see the package documentation). Pack ignores it.
	ProcessCanvasApps bool
}

// PackOptions configures Pack.
type PackOptions struct {
	Folder      string
	ZipFile     string
	PackageType PackageType
	// Modified is the timestamp of every zip entry; zero means now.
	Modified time.Time
	// AllowExtra lists tree paths (path.Match patterns on '/' paths, or
	// "Folder/**" for everything below Folder) that pack carries into the
	// zip as they are although no rule places them.
	AllowExtra []string
}

// Summary describes what an unpack or pack handled, for printing.
type Summary struct {
	UniqueName string
	Version    string
	Managed    bool
	// Both says the tree holds the unmanaged and the managed variants.
	Both bool
	// Components counts components by kind ("Entities", "Cloud flows", ...).
	Components map[string]int
	// FilesWritten counts the files (unpack) or zip entries (pack) written.
	FilesWritten int
	// Outputs are the folder or zip files written.
	Outputs []string
	// Removed are the files an unpack took out of an existing tree because
	// the solution no longer has them ('/' paths inside the folder).
	Removed []string
}

// Kinds returns the component kinds in display order.
func (s *Summary) Kinds() []string {
	kinds := make([]string, 0, len(s.Components))
	for k := range s.Components {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// String renders the summary as a few readable lines.
func (s *Summary) String() string {
	var b strings.Builder
	kind := "unmanaged"
	switch {
	case s.Both:
		kind = "unmanaged + managed"
	case s.Managed:
		kind = "managed"
	}
	fmt.Fprintf(&b, "Solution %s %s (%s)\n", s.UniqueName, s.Version, kind)
	for _, k := range s.Kinds() {
		fmt.Fprintf(&b, "  %-28s %d\n", k, s.Components[k])
	}
	for _, o := range s.Outputs {
		fmt.Fprintf(&b, "Wrote %s\n", o)
	}
	fmt.Fprintf(&b, "%d files written\n", s.FilesWritten)
	if len(s.Removed) > 0 {
		fmt.Fprintf(&b, "Removed %d file(s) the solution no longer has:\n", len(s.Removed))
		const shown = 50
		for i, r := range s.Removed {
			if i == shown {
				fmt.Fprintf(&b, "  ... and %d more\n", len(s.Removed)-shown)
				break
			}
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	return b.String()
}

// ShortList joins the first n paths with ", " and says how many more there are.
func ShortList(paths []string, n int) string {
	if len(paths) <= n {
		return strings.Join(paths, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(paths[:n], ", "), len(paths)-n)
}
