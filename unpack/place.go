package unpack

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
)

// A tree file that no split rule reads is packed as a zip part under its
// own path. That is right for the component folders an export itself holds
// (flow definitions, canvas app blobs, record-style folders), and silently
// wrong for files another packager split out of customizations.xml: their
// section stays empty, the files travel as stray parts, and the import drops
// the components. placeable decides which is which; pack refuses the rest.

// exportFolders are top-level zip folders that Dataverse exports hold as
// files of their own (solution-format.md §1.5); their files are packed as
// they are.
var exportFolders = map[string]bool{
	"workflows": true, "formulas": true, "canvasapps": true, "webresources": true,
	"pluginassemblies": true, "pluginpackages": true, "controls": true, "connector": true,
	"environmentvariabledefinitions": true, "bots": true, "botcomponents": true,
	"botcomponentcollections": true, "assets": true, "customapis": true, "appactions": true,
	"fxexpressions": true, "maskingrules": true, "aipluginoperations": true,
	"dvtablesearchs": true, "dvtablesearchentities": true, "resources": true,
}

// splitFolders are folders SolutionPackager fills from a customizations.xml
// section, by the section they come from, where it also writes files ppalm
// does not read back (KB article and mail merge templates, report links of
// unknown shape). Packing them verbatim would lose those components.
var splitFolders = map[string]string{
	"templates": "Templates",
	"reports":   "Reports",
}

// placeable reports whether a tree file that no rule read may be packed as a
// zip part under its own path.
func (ts *treeSource) placeable(p string) bool {
	for _, pat := range ts.allowExtra {
		if dir, ok := strings.CutSuffix(pat, "/**"); ok && strings.HasPrefix(p, dir+"/") {
			return true
		}
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	top, _, _ := strings.Cut(p, "/")
	low := strings.ToLower(top)
	if sec, ok := splitFolders[low]; ok {
		// ppalm's own trees keep such a section inline, and the parts it
		// names are real zip parts; a tree whose section is empty was
		// split by another packager.
		return !ts.sectionEmpty(sec) && ts.named(p)
	}
	if exportFolders[low] || ts.named(p) {
		return true
	}
	return ts.recordStyle(p)
}

// named reports whether customizations.xml names p as a zip part.
func (ts *treeSource) named(p string) bool {
	return bytes.Contains(ts.cust, []byte(">/"+p+"<")) || bytes.Contains(ts.cust, []byte(">"+p+"<"))
}

// sectionEmpty reports whether customizations.xml has the section and it
// holds nothing (a missing section counts as empty).
func (ts *treeSource) sectionEmpty(name string) bool {
	for _, sec := range ts.custRoot.children {
		if sec.name == name {
			return isEmptyElement(ts.cust, sec)
		}
	}
	return true
}

// recordStyle recognises the "one folder per record" layout newer
// components use in the zip, <things>/<record>/<thing>.xml (or .json) and
// whatever else sits in that record's folder, so a kind of component
// Microsoft adds later packs without a new rule.
func (ts *treeSource) recordStyle(p string) bool {
	parts := strings.Split(p, "/")
	if len(parts) < 3 {
		return false
	}
	top := strings.ToLower(parts[0])
	for _, stem := range []string{strings.TrimSuffix(top, "s"), strings.TrimSuffix(top, "es")} {
		if stem == top || stem == "" {
			continue
		}
		for _, ext := range []string{".xml", ".json"} {
			if ts.lowerPaths[strings.ToLower(parts[0]+"/"+parts[1]+"/"+stem+ext)] {
				return true
			}
		}
	}
	return false
}

// unplacedError names every file pack cannot place and what to do.
func (ts *treeSource) unplacedError(files []string) error {
	sort.Strings(files)
	var b strings.Builder
	fmt.Fprintf(&b, "%d file(s) in the tree belong to no component ppalm can pack; packing them as loose zip parts would drop them from the import:", len(files))
	bySection := map[string][]string{}
	var unknown []string
	for _, f := range files {
		top, _, _ := strings.Cut(f, "/")
		if sec, ok := splitFolders[strings.ToLower(top)]; ok {
			bySection[sec] = append(bySection[sec], f)
			continue
		}
		unknown = append(unknown, f)
	}
	secs := make([]string, 0, len(bySection))
	for s := range bySection {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for _, sec := range secs {
		fmt.Fprintf(&b, "\n  %s: files SolutionPackager (pac) split out of <%s> that ppalm does not join back into it (<%s /> in Other/Customizations.xml is empty), so the components would be lost:", sec, sec, sec)
		for _, f := range bySection[sec] {
			fmt.Fprintf(&b, "\n    %s", f)
		}
	}
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "\n  not a component folder of a solution export, and not named in Other/Customizations.xml:")
		for _, f := range unknown {
			fmt.Fprintf(&b, "\n    %s", f)
		}
		fmt.Fprintf(&b, "\n  move them out of the tree, or pass --allow-extra '%s/**' to carry them into the zip as they are", strings.SplitN(unknown[0], "/", 2)[0])
	}
	return fmt.Errorf("%s", b.String())
}

// partElements are the customizations.xml elements whose text is the zip
// path of a part the component cannot import without.
var partElements = map[string]bool{
	"JsonFileName": true, "XamlFileName": true, "DocumentUri": true, "BackgroundImageUri": true,
	"ExportedFileName": true,
}

// missingParts lists, for the assembled customizations.xml, the zip parts
// it names in partElements that the package does not hold: a tree whose
// flow definition or app blob was deleted while its metadata stayed.
func missingParts(cust []byte, root *node, parts map[string][]byte) []string {
	var missing []string
	var walk func(n *node)
	walk = func(n *node) {
		for _, c := range n.children {
			if partElements[c.name] && len(c.children) == 0 {
				if z := trimSlash(strings.TrimSpace(c.text(cust))); z != "" {
					if _, ok := parts[z]; !ok {
						missing = append(missing, "<"+c.name+">"+z)
					}
				}
				continue
			}
			walk(c)
		}
	}
	walk(root)
	sort.Strings(missing)
	return missing
}
