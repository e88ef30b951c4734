package diff

import (
	"fmt"
	"sort"
	"strings"
)

// What happened to a component between the two versions.
const (
	Added   = "added"
	Changed = "changed"
	Removed = "removed"
)

// Change is one component that differs between the two versions.
type Change struct {
	// Change is added, changed or removed.
	Change string `json:"change" doc:"added, changed or removed"`
	// Kind is what the component is: table, column, form, view, cloud flow,
	// canvas app, connection reference, environment variable, security
	// role, plug-in step, custom connector, ... (see the package doc).
	Kind string `json:"kind" doc:"table, column, form, view, cloud flow, canvas app, connection reference, environment variable, security role, plug-in step, custom connector, ..."`
	// Table is the logical name of the table a column, form or view
	// belongs to.
	Table string `json:"table,omitempty" doc:"the table of a column, form or view"`
	// Key is the component's identity: a logical or unique name, or an id.
	Key string `json:"key" doc:"its identity: logical or unique name, or id"`
	// Name is what a person calls it (display name), Key when it has none.
	Name string `json:"name" doc:"its display name"`
	// Parts name what differs inside a changed component.
	Parts []string `json:"parts,omitempty" doc:"what differs in a changed component: attribute and element names, definition, app, content"`
}

// Side describes one of the two versions.
type Side struct {
	Source     string `json:"source" doc:"the zip or folder read"`
	UniqueName string `json:"uniqueName" doc:"the solution's unique name (empty for a solution that did not exist)"`
	Version    string `json:"version"`
	Managed    bool   `json:"managed"`
}

// Result is the comparison of two versions of a solution.
type Result struct {
	From    Side     `json:"from" doc:"the earlier version"`
	To      Side     `json:"to" doc:"the later version"`
	Changes []Change `json:"changes" doc:"every component that differs, by kind, table and name; [] when nothing changed"`
	// Counts of Changes by what happened.
	Added   int `json:"added" doc:"how many changes are additions"`
	Changed int `json:"changed" doc:"how many are changes"`
	Removed int `json:"removed" doc:"how many are removals"`
}

// Same says nothing changed (the version aside).
func (r *Result) Same() bool { return len(r.Changes) == 0 }

// partNames make element names readable in a change's parts.
var partNames = map[string]string{
	"JsonFileName": "definition", "XamlFileName": "definition", "DocumentUri": "app", "BackgroundImageUri": "background image",
	"FileName": "content", "openapidefinition": "OpenAPI definition", "connectionparameters": "connection parameters",
	"policytemplateinstances": "policies", "iconblob": "icon", "files": "content",
}

// Compare lists the components that differ from a to b.
func Compare(a, b *Snapshot) *Result {
	r := &Result{From: side(a), To: side(b), Changes: []Change{}}
	add := func(what string, c *component, parts []string) {
		ch := Change{Change: what, Kind: c.Kind, Table: c.Parent, Key: c.Key, Name: c.Name, Parts: parts}
		r.Changes = append(r.Changes, ch)
	}
	order := map[*component]int{}
	for id, ca := range a.components {
		cb, ok := b.components[id]
		switch {
		case !ok:
			add(Removed, ca, nil)
			order[ca] = ca.order
		case ca.canon != cb.canon:
			add(Changed, cb, parts(ca, cb))
			order[cb] = cb.order
		}
	}
	for id, cb := range b.components {
		if _, ok := a.components[id]; !ok {
			add(Added, cb, nil)
		}
	}
	sort.Slice(r.Changes, func(i, j int) bool {
		x, y := r.Changes[i], r.Changes[j]
		if ox, oy := orderOf(x.Kind), orderOf(y.Kind); ox != oy {
			return ox < oy
		}
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		if x.Table != y.Table {
			return x.Table < y.Table
		}
		if lx, ly := strings.ToLower(x.Name), strings.ToLower(y.Name); lx != ly {
			return lx < ly
		}
		return x.Key < y.Key
	})
	for _, c := range r.Changes {
		switch c.Change {
		case Added:
			r.Added++
		case Changed:
			r.Changed++
		case Removed:
			r.Removed++
		}
	}
	return r
}

// Empty is a solution with no components: the "before" of a solution that
// is new (Compare lists everything as added).
func Empty(source string) *Snapshot {
	return &Snapshot{Source: source, components: map[string]*component{}}
}

func side(s *Snapshot) Side {
	return Side{Source: s.Source, UniqueName: s.UniqueName, Version: s.Version, Managed: s.Managed}
}

// parts names what differs between two versions of a component.
func parts(a, b *component) []string {
	var out []string
	switch {
	case a.elem != nil && b.elem != nil:
		out = differingParts(a.elem, b.elem)
		// One wrapper element differs (a table's EntityInfo/entity): say
		// what differs inside it instead.
		ea, eb, prefix := a.elem, b.elem, ""
		for depth := 0; depth < 3 && len(out) == 1; depth++ {
			ca, cb := ea.all(out[0]), eb.all(out[0])
			if len(ca) != 1 || len(cb) != 1 || len(ca[0].Children) == 0 || len(cb[0].Children) == 0 {
				break
			}
			inner := differingParts(ca[0], cb[0])
			if len(inner) == 0 {
				break
			}
			prefix += out[0] + "/"
			ea, eb, out = ca[0], cb[0], inner
		}
		if prefix != "" {
			for i := range out {
				out[i] = prefix + out[i]
			}
		}
	case a.files != nil && b.files != nil:
		for _, k := range sortedKeys(union(a.files, b.files)) {
			if a.files[k] != b.files[k] {
				if k == "" {
					k = "content"
				}
				out = append(out, k)
			}
		}
	}
	for i, p := range out {
		if n, ok := partNames[p]; ok {
			out[i] = n
		}
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// Text renders r for a terminal: a heading, one line per change and the
// counts.
func (r *Result) Text() string {
	var b strings.Builder
	b.WriteString(r.heading() + "\n")
	if r.Same() {
		fmt.Fprintf(&b, "Nothing changed: every component of %s is the same in both.\n", r.To.UniqueName)
		return b.String()
	}
	for _, c := range r.Changes {
		mark := map[string]string{Added: "+", Changed: "~", Removed: "-"}[c.Change]
		fmt.Fprintf(&b, "  %s %s\n", mark, c.describe())
	}
	fmt.Fprintf(&b, "%d added, %d changed, %d removed\n", r.Added, r.Changed, r.Removed)
	return b.String()
}

func (r *Result) heading() string {
	name := r.To.UniqueName
	if r.From.UniqueName != r.To.UniqueName && r.From.UniqueName != "" {
		name = r.From.UniqueName + " → " + r.To.UniqueName
	}
	ver := r.From.Version + " → " + r.To.Version
	switch {
	case r.From.Version == "":
		ver = r.To.Version + " (new)"
	case r.From.Version == r.To.Version:
		ver = r.To.Version + " (same version)"
	}
	if r.From.Managed != r.To.Managed && r.From.Version != "" {
		ver += fmt.Sprintf(" (%s → %s)", kindWord(r.From.Managed), kindWord(r.To.Managed))
	}
	return fmt.Sprintf("%s %s", name, ver)
}

func kindWord(managed bool) string {
	if managed {
		return "managed"
	}
	return "unmanaged"
}

// describe is a change's line without its mark.
func (c Change) describe() string {
	var b strings.Builder
	b.WriteString(c.Kind + " ")
	if c.Table != "" {
		b.WriteString(c.Table + ".")
	}
	b.WriteString(c.Name)
	if !strings.EqualFold(c.Name, c.Key) && c.Key != "" {
		b.WriteString(" (" + c.Key + ")")
	}
	if len(c.Parts) > 0 {
		b.WriteString(": " + strings.Join(c.Parts, ", "))
	}
	return b.String()
}

// Markdown renders r for a pull request description or a run summary: a
// heading, the counts and a table of changes, at most limit rows (0: all;
// the rest are counted).
func (r *Result) Markdown(limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Solution changes: %s\n\n", escapeMD(r.heading()))
	if r.Same() {
		b.WriteString("Nothing changed: every component is the same in both versions.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%d added, %d changed, %d removed.\n\n| | kind | component | what changed |\n|---|---|---|---|\n", r.Added, r.Changed, r.Removed)
	for i, c := range r.Changes {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "\n…and %d more (ppalm diff lists them all).\n", len(r.Changes)-limit)
			break
		}
		mark := map[string]string{Added: "➕ added", Changed: "✏️ changed", Removed: "➖ removed"}[c.Change]
		name := c.Name
		if c.Table != "" {
			name = c.Table + "." + name
		}
		if !strings.EqualFold(c.Name, c.Key) && c.Key != "" {
			name += " (`" + c.Key + "`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mark, escapeMD(c.Kind), escapeMD(name), escapeMD(strings.Join(c.Parts, ", ")))
	}
	return b.String()
}

// escapeMD keeps a value from breaking a table row or starting markup.
func escapeMD(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", "", "<", "&lt;", ">", "&gt;").Replace(s)
}
