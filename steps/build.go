package steps

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/task"
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
	// SetRunName names the pipeline run after the version (Azure DevOps
	// build.updatebuildnumber), as the Accelerator's run name
	// 1.0.$(Date:yyyyMMdd)$(Rev:.r) did.
	SetRunName bool
	// CompareTo is what the build's component diff compares the tree with:
	// a branch of the working copy (or its origin), a zip or a folder; ""
	// for no diff.
	CompareTo string
	// CompareToBranch says CompareTo is a branch (the pull request's
	// target), never a path: the Accelerator names a solution's branch and
	// its folder alike, so a folder of that name is no reason to read it.
	CompareToBranch bool

	// Produced.
	SolutionName string
	SolutionVer  string
	UnmanagedZip string
	ManagedZip   string
	// Diff is the comparison with CompareTo.
	Diff *diff.Result
}

// Layout finds the unpacked tree and checks what the packer cannot use:
// a legacy tree directly under SolutionPackage/ (no src/) is built where it
// is, as the Accelerator's build did after moving it; old canvas source
// folders CanvasApps/*_msapp_src are left out of the zip (the .msapp beside
// each is what is packed), and one without its .msapp is an error, since
// ppalm does not compile canvas source.
type Layout struct{}

func (Layout) Name() string                 { return "layout" }
func (Layout) Skip(*Context) (bool, string) { return false, "" }
func (Layout) Run(_ context.Context, c *Context) error {
	b := c.Build
	tree, legacy := accelerator.ResolveTree(b.Folder)
	if legacy {
		c.Note("legacy layout: the tree is %s (no src/); ppalm export-to-git moves it to src/ on the next export", tree)
		b.Folder = tree
	}
	folders, missing, err := accelerator.LegacyCanvasSources(b.Folder)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: old canvas source folder(s) %s have no .msapp beside them: ppalm packs the .msapp and does not compile canvas source; "+
			"commit the app's .msapp (ppalm export-to-git exports it) or remove the folder", b.Folder, strings.Join(missing, ", "))
	}
	for _, f := range folders {
		c.Note("%s (old canvas source) is not packed: its .msapp is", f)
	}
	return nil
}

// BuildVersion is the four-part version a pipeline run stamps when none is
// given, as the Accelerator's run name 1.0.$(Date:yyyyMMdd)$(Rev:.r) gave it:
//   - Azure DevOps: the build number when it is a four-part version already
//     (a pipeline that kept the Accelerator's name:), else 1.0.<date>.<r>
//     from the default number format $(Date:yyyyMMdd)$(Rev:.r), else
//     1.0.<today>.<BUILD_BUILDID>;
//   - GitHub Actions: 1.0.<today>.<GITHUB_RUN_NUMBER>, so a first build
//     after the Accelerator is above the 1.0.<date>.<r> versions installed;
//   - "" anywhere else.
//
// Dates are UTC.
func BuildVersion(getenv func(string) string, now time.Time) string {
	today := now.UTC().Format("20060102")
	switch n := strings.TrimSpace(getenv("BUILD_BUILDNUMBER")); {
	case n != "" || getenv("TF_BUILD") != "":
		if unpack.CheckVersion(n) == nil {
			return n
		}
		if m := defaultBuildNumber().FindStringSubmatch(n); m != nil {
			return "1.0." + m[1] + "." + m[2]
		}
		if id := strings.TrimSpace(getenv("BUILD_BUILDID")); id != "" && unpack.CheckVersion("1.0.0."+id) == nil {
			return "1.0." + today + "." + id
		}
	case getenv("GITHUB_ACTIONS") == "true":
		if n := strings.TrimSpace(getenv("GITHUB_RUN_NUMBER")); n != "" && unpack.CheckVersion("1.0.0."+n) == nil {
			return "1.0." + today + "." + n
		}
	}
	return ""
}

// defaultBuildNumber is Azure DevOps' default run number, $(Date:yyyyMMdd)$(Rev:.r).
var defaultBuildNumber = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{8})\.(\d{1,9})$`) })

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
	if b.SetRunName {
		if task.SetRunName(c.Reporter, b.Version) {
			c.Note("run named %s", b.Version)
		}
	}
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
