package steps

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ppalm/ppalm/solution"
)

// SourceChanges is what a branch changes in a solution against another
// branch, component by component: what a deployment's pull request
// describes. Each entry reads "cloud flow Find sites", "canvas app x", ...
type SourceChanges struct {
	Added, Changed, Removed []string
}

// Empty says nothing differs.
func (c *SourceChanges) Empty() bool {
	return len(c.Added)+len(c.Changed)+len(c.Removed) == 0
}

// CompareSources compares two unpacked solutions (SolutionPackage/src
// trees): head against base, which may be nil (no solution there yet:
// everything is added). Processes are matched by id and compared by
// definition, canvas apps by name and their files' bytes, connection
// references by logical name and connector, environment variables by
// schema name, type and default value.
func CompareSources(base, head *solution.Solution, baseDir, headDir string) *SourceChanges {
	c := &SourceChanges{}
	if base == nil {
		base = &solution.Solution{}
	}
	note := func(list *[]string, kind, name string) { *list = append(*list, kind+" "+name) }

	flows := map[string]solution.Flow{}
	for _, f := range base.Flows {
		flows[f.ID] = f
	}
	for _, f := range head.Flows {
		kind := "process"
		if f.IsCloudFlow() {
			kind = "cloud flow"
		}
		old, ok := flows[f.ID]
		switch {
		case !ok:
			note(&c.Added, kind, f.Name)
		case !bytes.Equal(bytes.TrimSpace(old.ClientData), bytes.TrimSpace(f.ClientData)) || old.Name != f.Name || old.StateCode != f.StateCode:
			note(&c.Changed, kind, f.Name)
		}
		delete(flows, f.ID)
	}
	for _, f := range flows {
		kind := "process"
		if f.IsCloudFlow() {
			kind = "cloud flow"
		}
		note(&c.Removed, kind, f.Name)
	}

	apps := map[string]bool{}
	for _, a := range base.CanvasApps {
		apps[strings.ToLower(a.Name)] = true
	}
	for _, a := range head.CanvasApps {
		switch {
		case !apps[strings.ToLower(a.Name)]:
			note(&c.Added, "canvas app", a.Name)
		case !sameFiles(filepath.Join(baseDir, "CanvasApps"), filepath.Join(headDir, "CanvasApps"), a.Name):
			note(&c.Changed, "canvas app", a.Name)
		}
		delete(apps, strings.ToLower(a.Name))
	}
	for _, a := range base.CanvasApps {
		if apps[strings.ToLower(a.Name)] {
			note(&c.Removed, "canvas app", a.Name)
		}
	}

	refs := map[string]solution.ConnectionReference{}
	for _, r := range base.ConnectionReferences {
		refs[strings.ToLower(r.LogicalName)] = r
	}
	for _, r := range head.ConnectionReferences {
		old, ok := refs[strings.ToLower(r.LogicalName)]
		switch {
		case !ok:
			note(&c.Added, "connection reference", r.LogicalName)
		case !strings.EqualFold(old.ConnectorID, r.ConnectorID):
			note(&c.Changed, "connection reference", r.LogicalName)
		}
		delete(refs, strings.ToLower(r.LogicalName))
	}
	for _, r := range refs {
		note(&c.Removed, "connection reference", r.LogicalName)
	}

	vars := map[string]solution.EnvironmentVariable{}
	for _, v := range base.EnvironmentVariables {
		vars[strings.ToLower(v.SchemaName)] = v
	}
	for _, v := range head.EnvironmentVariables {
		old, ok := vars[strings.ToLower(v.SchemaName)]
		switch {
		case !ok:
			note(&c.Added, "environment variable", v.SchemaName)
		case old.Type != v.Type || old.DefaultValue != v.DefaultValue:
			note(&c.Changed, "environment variable", v.SchemaName)
		}
		delete(vars, strings.ToLower(v.SchemaName))
	}
	for _, v := range vars {
		note(&c.Removed, "environment variable", v.SchemaName)
	}
	sort.Strings(c.Added)
	sort.Strings(c.Changed)
	sort.Strings(c.Removed)
	return c
}

// sameFiles compares the files of dir a and b whose names start with
// prefix (a canvas app's .msapp, meta.xml and background files).
func sameFiles(a, b, prefix string) bool {
	read := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.IsDir() || !strings.HasPrefix(strings.ToLower(e.Name()), strings.ToLower(prefix)) {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil {
				out[e.Name()] = data
			}
		}
		return out
	}
	fa, fb := read(a), read(b)
	if len(fa) != len(fb) {
		return false
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			return false
		}
	}
	return true
}
