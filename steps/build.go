package steps

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/unpack"
)

// Build configures the build steps: stamp the version, pack the tree.
type Build struct {
	// Folder is the unpacked tree (<Solution>/SolutionPackage/src).
	Folder string
	// Version is stamped when the tree carries 0.0.0.0 (the export's
	// normalised version); a real version in source is left alone, as the
	// Accelerator's build does. Empty: the tree's version is kept.
	Version string
	// VersionGiven says Version was asked for by name (--version), not
	// taken from the build number: keeping the tree's version then gets a
	// warning, since the caller expected theirs.
	VersionGiven bool
	// OutDir receives <Solution>_<version>.zip and _managed.zip.
	OutDir string
	// PackageType chooses what pack writes; Both by default.
	PackageType unpack.PackageType
	// AllowExtra lists tree paths pack carries as they are although no
	// rule places them (unpack.PackOptions.AllowExtra).
	AllowExtra []string
	// CompareTo is what the build's component diff compares the tree with:
	// a branch of the working copy (or its origin), a zip or a folder; ""
	// for no diff.
	CompareTo string

	// Produced.
	SolutionName string
	SolutionVer  string
	UnmanagedZip string
	ManagedZip   string
	// Diff is the comparison with CompareTo.
	Diff *diff.Result
}

// StampVersion sets the build's version in Other/Solution.xml.
type StampVersion struct{}

func (StampVersion) Name() string { return "version" }
func (StampVersion) Skip(c *Context) (bool, string) {
	if c.Build.Version == "" {
		return true, "no build version given"
	}
	return false, ""
}
func (StampVersion) Run(_ context.Context, c *Context) error {
	b := c.Build
	name, cur, err := ReadManifest(b.Folder)
	if err != nil {
		return err
	}
	b.SolutionName, b.SolutionVer = name, cur
	if cur != "0.0.0.0" {
		c.Note("source carries version %s: kept, %s not stamped", cur, b.Version)
		if b.VersionGiven {
			c.Reporter.Warning(fmt.Sprintf("--version %s not stamped: the tree carries version %s (committed with --keep-version), which the build keeps as the Accelerator's did; "+
				"to build %s, run `ppalm version set --folder %s --version %s` first", b.Version, cur, b.Version, b.Folder, b.Version), filepath.Join(b.Folder, "Other", "Solution.xml"))
		}
		return nil
	}
	if err := unpack.SetVersion(b.Folder, b.Version); err != nil {
		return err
	}
	b.SolutionVer = b.Version
	c.Note("version %s", b.Version)
	return nil
}

// Pack packs the tree into the build's zips.
type Pack struct{}

func (Pack) Name() string                 { return "pack" }
func (Pack) Skip(*Context) (bool, string) { return false, "" }
func (Pack) Run(ctx context.Context, c *Context) error {
	b := c.Build
	name, ver, err := ReadManifest(b.Folder)
	if err != nil {
		return err
	}
	b.SolutionName, b.SolutionVer = name, ver
	if err := os.MkdirAll(b.OutDir, 0o755); err != nil {
		return err
	}
	pt := b.PackageType
	if pt == 0 {
		pt = unpack.Both
	}
	// Named as the Accelerator's build names its drop: NAME_VERSION.zip
	// and NAME_VERSION_managed.zip.
	zip := filepath.Join(b.OutDir, fmt.Sprintf("%s_%s.zip", name, strings.ReplaceAll(ver, ".", "_")))
	if pt == unpack.Managed {
		zip = unpack.ManagedZipName(zip)
	}
	existed := map[string]bool{}
	for _, z := range []string{zip, unpack.ManagedZipName(zip)} {
		if _, err := os.Stat(z); err == nil {
			existed[z] = true
		}
	}
	sum, err := unpack.Pack(ctx, unpack.PackOptions{Folder: b.Folder, ZipFile: zip, PackageType: pt, Modified: c.now(), AllowExtra: b.AllowExtra})
	if err != nil {
		return err
	}
	for _, out := range sum.Outputs {
		if strings.HasSuffix(out, "_managed.zip") {
			b.ManagedZip = out
		} else {
			b.UnmanagedZip = out
		}
		if existed[out] {
			// Same name, same version: a rebuild. Said, not silent.
			c.Note("%s (replaced the zip of the same version that was there)", out)
		} else {
			c.Note("%s", out)
		}
	}
	return nil
}

// ReadManifest returns the unique name and version of the unpacked tree in
// folder.
func ReadManifest(folder string) (name, version string, err error) {
	p := filepath.Join(folder, "Other", "Solution.xml")
	data, err := os.ReadFile(p)
	if err != nil {
		return "", "", fmt.Errorf("read the solution manifest: %w", err)
	}
	var m struct {
		Manifest struct {
			UniqueName string `xml:"UniqueName"`
			Version    string `xml:"Version"`
		} `xml:"SolutionManifest"`
	}
	if err := xml.Unmarshal(data, &m); err != nil {
		return "", "", fmt.Errorf("%s: malformed XML: %w", p, err)
	}
	if m.Manifest.UniqueName == "" || m.Manifest.Version == "" {
		return "", "", fmt.Errorf("%s: SolutionManifest/UniqueName and Version are required", p)
	}
	return strings.TrimSpace(m.Manifest.UniqueName), strings.TrimSpace(m.Manifest.Version), nil
}

// now reads the injected clock.
func (c *Context) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
