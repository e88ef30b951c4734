package unpack

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ignoredFolders are top-level folders that live beside a tree in ALM
// repositories and are never part of the solution.
var ignoredFolders = map[string]bool{"config": true, "deploymentsettings": true}

// ignoredTreeFiles are tree files pack reads nothing from: the
// [Content_Types].xml some trees keep under Other/ (pack always writes a
// fresh one).
var ignoredTreeFiles = map[string]bool{"Other/[Content_Types].xml": true}

// legacyCanvasSource reports whether rel is an old canvas source folder,
// CanvasApps/<blob>_msapp_src, which the ALM Accelerator committed beside
// each .msapp before pac --processCanvasApps existed.
func legacyCanvasSource(rel string) bool {
	dir, name := path.Split(rel)
	return strings.EqualFold(dir, "CanvasApps/") && strings.HasSuffix(strings.ToLower(name), "_msapp_src")
}

// canvasSourcePrefix holds PASopa sources written by pac --processCanvasApps.
const canvasSourcePrefix = "CanvasApps/src/"

// Pack builds the solution zip opts.ZipFile from the tree opts.Folder. Both
// writes ZipFile (unmanaged) and its _managed twin.
func Pack(ctx context.Context, opts PackOptions) (*Summary, error) {
	if opts.ZipFile == "" || opts.Folder == "" {
		return nil, fmt.Errorf("pack: both a folder and a zip file are required")
	}
	src, err := readTree(opts.Folder)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", opts.Folder, err)
	}
	for _, pat := range opts.AllowExtra {
		if _, err := path.Match(strings.TrimSuffix(pat, "/**"), ""); err != nil {
			return nil, fmt.Errorf("pack: --allow-extra %q is not a valid pattern: %w", pat, err)
		}
	}
	src.allowExtra = opts.AllowExtra
	types := []PackageType{opts.PackageType}
	switch opts.PackageType {
	case Both:
		types = []PackageType{Unmanaged, Managed}
	case 0:
		types = []PackageType{Unmanaged}
		if src.managedFlag == "1" {
			types = []PackageType{Managed}
		}
	}
	var sum *Summary
	for _, pt := range types {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pack %s: %w", opts.Folder, err)
		}
		z, err := src.assemble(pt == Managed)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", opts.Folder, err)
		}
		out := opts.ZipFile
		if opts.PackageType == Both && pt == Managed {
			out = ManagedZipName(opts.ZipFile)
		}
		if err := writeZip(ctx, out, z, opts.Modified); err != nil {
			return nil, fmt.Errorf("pack %s: %w", opts.Folder, err)
		}
		if sum == nil {
			sum = &Summary{UniqueName: src.uniqueName, Version: src.version, Managed: pt == Managed,
				Components: countComponents(z.customizations, z.custRoot, z.names)}
		}
		sum.FilesWritten += len(z.names) + 3
		sum.Outputs = append(sum.Outputs, out)
	}
	return sum, nil
}

// treeSource is an unpacked tree read into memory.
type treeSource struct {
	folder      string
	files       map[string][]byte // every tree file by '/' path
	paths       []string          // sorted
	solution    []byte
	solRoot     *node
	cust        []byte
	custRoot    *node
	managedFlag string
	uniqueName  string
	version     string
	allowExtra  []string        // PackOptions.AllowExtra
	lowerPaths  map[string]bool // every tree path in lower case
}

func readTree(folder string) (*treeSource, error) {
	st, err := os.Stat(folder)
	if err != nil {
		return nil, fmt.Errorf("read tree: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("read tree: %s is a file, expected the unpacked solution folder", folder)
	}
	if m, _ := filepath.Glob(filepath.Join(folder, "solutions", "*", "solution.yml")); len(m) > 0 {
		return nil, fmt.Errorf("read tree: %s is in the YAML source-control layout (%s); ppalm packs the SolutionPackager XML layout only", folder, m[0])
	}
	ts := &treeSource{folder: folder, files: map[string][]byte{}}
	err = filepath.WalkDir(folder, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(folder, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		top, _, nested := strings.Cut(rel, "/")
		if d.IsDir() {
			if !nested && (strings.HasPrefix(top, ".") || ignoredFolders[strings.ToLower(top)]) {
				return filepath.SkipDir
			}
			if legacyCanvasSource(rel) {
				return filepath.SkipDir // old pac canvas sources; the .msapp beside them is packed
			}
			return nil
		}
		if !nested || !d.Type().IsRegular() {
			return nil // files beside the tree (README, ...) are not part of it
		}
		if strings.HasPrefix(rel, canvasSourcePrefix) {
			return nil // pac --processCanvasApps sources; the .msapp beside them is packed
		}
		data, err := readTreeFile(p)
		if err != nil {
			return err
		}
		ts.files[rel] = data
		ts.paths = append(ts.paths, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read tree: %w", err)
	}
	sort.Strings(ts.paths)
	ts.lowerPaths = make(map[string]bool, len(ts.paths))
	for _, p := range ts.paths {
		ts.lowerPaths[strings.ToLower(p)] = true
	}
	if ts.solution, ts.solRoot, err = ts.xml("Other/Solution.xml", "ImportExportXml"); err != nil {
		return nil, err
	}
	if ts.cust, ts.custRoot, err = ts.xml("Other/Customizations.xml", "ImportExportXml"); err != nil {
		return nil, err
	}
	m := ts.solRoot.child("SolutionManifest")
	if m == nil {
		return nil, fmt.Errorf("Other/Solution.xml: no <SolutionManifest>")
	}
	ts.managedFlag = m.childText(ts.solution, "Managed")
	ts.uniqueName = m.childText(ts.solution, "UniqueName")
	ts.version = m.childText(ts.solution, "Version")
	if ts.managedFlag != "0" && ts.managedFlag != "1" && ts.managedFlag != "2" {
		return nil, fmt.Errorf("Other/Solution.xml: <Managed> is %q, expected 0, 1 or 2", ts.managedFlag)
	}
	return ts, nil
}

// xml parses a tree file and checks its root element.
func (ts *treeSource) xml(p, root string) ([]byte, *node, error) {
	data, ok := ts.files[p]
	if !ok {
		return nil, nil, fmt.Errorf("%s is missing; is %s an unpacked solution?", p, ts.folder)
	}
	src := normalizeXML(data)
	n, err := scanXML(src)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not well-formed XML: %w", p, err)
	}
	if root != "" && n.name != root {
		return nil, nil, fmt.Errorf("%s: expected root <%s>, found <%s>", p, root, n.name)
	}
	return src, n, nil
}

// packed is one assembled zip before it is written.
type packed struct {
	solution       []byte
	customizations []byte // LF
	custRoot       *node
	parts          map[string][]byte
	names          []string
}

// itemElement renders a fragment's root for re-insertion: xsi declaration
// dropped, indentation shifted by delta.
func itemElement(dst, src []byte, n *node, delta int) []byte {
	tag := bytes.Replace(src[n.start:n.openEnd], []byte(xsiDecl), nil, 1)
	dst = append(dst, tag...)
	if n.self() {
		return dst
	}
	dst = emitInner(dst, src, n, delta, nil)
	return append(dst, src[n.closeStart:n.end]...)
}

// pick chooses among the variants of a component file the one for the
// package being built, falling back to the other variant.
func (ts *treeSource) pick(p string, managed bool) (string, bool) {
	m := managedName(p)
	first, second := p, m
	if managed {
		first, second = m, p
	}
	if _, ok := ts.files[first]; ok {
		return first, true
	}
	_, ok := ts.files[second]
	return second, ok
}

func (ts *treeSource) assemble(managed bool) (*packed, error) {
	fills := map[string][]byte{}
	used := map[string]bool{"Other/Solution.xml": true, "Other/Customizations.xml": true}
	parts := map[string][]byte{}

	if err := ts.fillEntities(fills, used, parts, managed); err != nil {
		return nil, err
	}
	if err := ts.fillRelationships(fills, used); err != nil {
		return nil, err
	}
	for _, w := range wholeSections {
		p := "Other/" + w + ".xml"
		if _, ok := ts.files[p]; !ok {
			continue
		}
		src, root, err := ts.xml(p, w)
		if err != nil {
			return nil, err
		}
		used[p] = true
		fills[w] = itemElement(nil, src, root, 2)
	}
	for i := range itemRules {
		if err := ts.fillItems(&itemRules[i], fills, used, parts, managed); err != nil {
			return nil, err
		}
	}
	for i := range sectionRules {
		r := &sectionRules[i]
		fill, err := r.join(ts, used, parts)
		if err != nil {
			return nil, err
		}
		if fill != nil {
			fills[r.section] = fill
		}
	}
	var unplaced []string
	moved := make(map[string]string, len(parts)) // lower-case zip path → zip path
	for z := range parts {
		moved[strings.ToLower(z)] = z
	}
	for _, p := range ts.paths {
		if used[p] || ignoredTreeFiles[p] {
			continue
		}
		if ownedByPacker(p) {
			return nil, unclaimedError(p)
		}
		if z, dup := moved[strings.ToLower(p)]; dup {
			return nil, fmt.Errorf("%s: a component file elsewhere in the tree (formula, web resource or connector file) also packs to the zip part %s; keep one of them", p, z)
		}
		if !ts.placeable(p) {
			unplaced = append(unplaced, p)
			continue
		}
		parts[encodePartName(p)] = ts.files[p]
	}
	if len(unplaced) > 0 {
		return nil, ts.unplacedError(unplaced)
	}

	src := ts.cust
	out := append([]byte(nil), src[ts.custRoot.start:ts.custRoot.openEnd]...)
	p := ts.custRoot.openEnd
	for _, sec := range ts.custRoot.children {
		out = emitGap(out, src[p:sec.start], 0)
		p = sec.end
		if fill, ok := fills[sec.name]; ok && isEmptyElement(src, sec) {
			out = append(out, fill...)
			delete(fills, sec.name)
			continue
		}
		out = append(out, src[sec.start:sec.end]...)
	}
	out = emitGap(out, src[p:ts.custRoot.closeStart], 0)
	out = append(out, src[ts.custRoot.closeStart:ts.custRoot.end]...)
	if len(fills) > 0 {
		secs := make([]string, 0, len(fills))
		for sec := range fills {
			secs = append(secs, sec)
		}
		sort.Strings(secs)
		files := ts.sectionFiles(secs[0], used)
		return nil, fmt.Errorf("%s: Other/Customizations.xml has no empty <%s /> for this file (and %d more of the section) to go into; restore <%s /> there, or remove the files", files[0], secs[0], len(files)-1, secs[0])
	}
	custRoot, err := scanXML(out)
	if err != nil {
		return nil, fmt.Errorf("assembled customizations.xml is not well-formed (a component file is broken): %w", err)
	}
	if missing := missingParts(out, custRoot, parts); len(missing) > 0 {
		return nil, fmt.Errorf("the tree's components name %d file(s) it does not hold, without which they cannot import: %s (restore them, or remove the component's file)", len(missing), strings.Join(missing, ", "))
	}

	flag := "0"
	if managed {
		flag = "1"
	}
	sol := solutionFile(ts.solution, ts.solRoot, flag, packSolutionOrders)[len(xmlHeader):]
	z := &packed{solution: sol, customizations: out, custRoot: custRoot, parts: parts}
	for n := range parts {
		z.names = append(z.names, n)
	}
	sort.Strings(z.names)
	return z, nil
}

// unclaimedError explains a file where the tree keeps split components that
// no component of the tree reads.
func unclaimedError(p string) error {
	if strings.HasPrefix(p, emailDocumentsDir) {
		return fmt.Errorf("%s: no <emailtemplate> in Templates/EmailTemplates.xml has the languagecode and templateid of its folder, so nothing would import it; remove it or restore its template", p)
	}
	if sec := sectionOfFile(p); sec != "" {
		return fmt.Errorf("%s: a file of the <%s> section that no component of the tree reads, so nothing would import it; remove it or restore its component", p, sec)
	}
	return fmt.Errorf("%s: unexpected file in a folder ppalm generates (not a component file it knows)", p)
}

// sectionFiles lists the tree files pack read for a section (at least one
// name, for the error that names them).
func (ts *treeSource) sectionFiles(section string, used map[string]bool) []string {
	var files []string
	for _, p := range ts.paths {
		if used[p] && sectionOfFile(p) == section {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		files = []string{"Other/Customizations.xml"}
	}
	return files
}

// sectionOfFile names the customizations.xml section a split file belongs to.
func sectionOfFile(p string) string {
	switch {
	case strings.HasPrefix(p, "Entities/"):
		return "Entities"
	case strings.HasPrefix(p, "Other/Relationships"):
		return "EntityRelationships"
	}
	for _, w := range wholeSections {
		if p == "Other/"+w+".xml" {
			return w
		}
	}
	for _, r := range itemRules {
		if r.owns(p) {
			return r.section
		}
	}
	for _, r := range sectionRules {
		if r.owns(p) {
			return r.section
		}
	}
	return ""
}

// fillItems gathers the split-out files of one item rule.
func (ts *treeSource) fillItems(r *itemRule, fills map[string][]byte, used map[string]bool, parts map[string][]byte, managed bool) error {
	var files []string
	seen := map[string]bool{}
	for _, p := range ts.paths {
		if !r.owns(p) {
			continue
		}
		used[p] = true
		base := p
		if r.managedVariant && strings.HasSuffix(p, "_managed.xml") {
			base = strings.TrimSuffix(p, "_managed.xml") + ".xml"
		}
		if seen[base] {
			continue
		}
		seen[base] = true
		if r.managedVariant {
			base, _ = ts.pick(base, managed)
		}
		files = append(files, base)
	}
	if len(files) == 0 {
		return nil
	}
	sort.Slice(files, func(i, j int) bool { return strings.ToLower(files[i]) < strings.ToLower(files[j]) })
	out := []byte("<" + r.section + ">")
	for _, p := range files {
		src, root, err := ts.xml(p, r.item)
		if err != nil {
			return err
		}
		out = append(out, "\n    "...)
		out = itemElement(out, src, root, 4)
		if r.blobs == nil {
			continue
		}
		moves, ok := r.blobs(src, root)
		if !ok {
			return fmt.Errorf("%s: a file this <%s> names cannot sit beside it in the tree (expected one safe file name, not ending in .xml)", p, r.item)
		}
		for _, m := range moves {
			data, ok := ts.files[m.tree]
			if !ok {
				continue
			}
			if err := checkEntryName(m.zip); err != nil {
				return fmt.Errorf("%s names the zip part of %s: %w", p, m.tree, err)
			}
			used[m.tree] = true
			parts[m.zip] = data
		}
	}
	out = append(out, "\n  </"+r.section+">"...)
	fills[r.section] = out
	return nil
}

// fillRelationships rebuilds <EntityRelationships> in the order of
// Other/Relationships.xml (relationships not listed there follow by name).
func (ts *treeSource) fillRelationships(fills map[string][]byte, used map[string]bool) error {
	type rel struct {
		src  []byte
		n    *node
		file string
	}
	byName := map[string]rel{}
	var names []string
	for _, p := range ts.paths {
		if path.Dir(p) != "Other/Relationships" || !strings.HasSuffix(p, ".xml") {
			continue
		}
		used[p] = true
		src, root, err := ts.xml(p, "EntityRelationships")
		if err != nil {
			return err
		}
		for _, c := range root.children {
			name, ok := c.attr(src, "Name")
			if c.name != "EntityRelationship" || !ok {
				return fmt.Errorf("%s: expected <EntityRelationship Name=...> elements, found <%s>", p, c.name)
			}
			if prev, dup := byName[name]; dup {
				return fmt.Errorf("%s: relationship %s is also in %s", p, name, prev.file)
			}
			byName[name] = rel{src, c, p}
			names = append(names, name)
		}
	}
	if len(byName) == 0 {
		return ts.noRelationships(used)
	}
	var order []string
	listed := map[string]bool{}
	if _, ok := ts.files["Other/Relationships.xml"]; ok {
		used["Other/Relationships.xml"] = true
		src, root, err := ts.xml("Other/Relationships.xml", "EntityRelationships")
		if err != nil {
			return err
		}
		for _, c := range root.children {
			name, _ := c.attr(src, "Name")
			if _, ok := byName[name]; ok && !listed[name] {
				order = append(order, name)
				listed[name] = true
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	for _, n := range names {
		if !listed[n] {
			order = append(order, n)
		}
	}
	out := []byte("<EntityRelationships>")
	for _, n := range order {
		r := byName[n]
		out = append(out, "\n    "...)
		out = itemElement(out, r.src, r.n, 2)
	}
	fills["EntityRelationships"] = append(out, "\n  </EntityRelationships>"...)
	return nil
}

// noRelationships accepts an Other/Relationships.xml that lists no
// relationship when Other/Relationships/ holds none (some trees carry an
// empty <EntityRelationships />); one that lists relationships without
// their files is an error.
func (ts *treeSource) noRelationships(used map[string]bool) error {
	const list = "Other/Relationships.xml"
	if _, ok := ts.files[list]; !ok {
		return nil
	}
	src, root, err := ts.xml(list, "EntityRelationships")
	if err != nil {
		return err
	}
	if len(root.children) > 0 {
		name, _ := root.children[0].attr(src, "Name")
		return fmt.Errorf("%s lists <%s Name=%q> (%d in all) but Other/Relationships/ has no <Entity>.xml holding relationships", list, root.children[0].name, name, len(root.children))
	}
	used[list] = true
	return nil
}

// fillEntities rebuilds <Entities> from Entities/<Name>/; formula files go
// into parts.
func (ts *treeSource) fillEntities(fills map[string][]byte, used map[string]bool, zipParts map[string][]byte, managed bool) error {
	byEntity := map[string][]string{}
	var dirs []string
	for _, p := range ts.paths {
		if !strings.HasPrefix(p, "Entities/") {
			continue
		}
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 3 {
			return fmt.Errorf("%s: expected Entities/<Name>/<file>", p)
		}
		if _, ok := byEntity[parts[1]]; !ok {
			dirs = append(dirs, parts[1])
		}
		byEntity[parts[1]] = append(byEntity[parts[1]], parts[2])
		used[p] = true
	}
	if len(dirs) == 0 {
		return nil
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.ToLower(dirs[i]) < strings.ToLower(dirs[j]) })
	out := []byte("<Entities>")
	for _, d := range dirs {
		var err error
		out = append(out, "\n    "...)
		if out, err = ts.entity(out, "Entities/"+d+"/", byEntity[d], zipParts, managed); err != nil {
			return err
		}
	}
	fills["Entities"] = append(out, "\n  </Entities>"...)
	return nil
}

// entity renders one entity's <Entity> and puts its formula files into
// zipParts.
func (ts *treeSource) entity(out []byte, dir string, files []string, zipParts map[string][]byte, managed bool) ([]byte, error) {
	src, root, err := ts.xml(dir+"Entity.xml", "Entity")
	if err != nil {
		return nil, err
	}
	lowerParts := map[string]string{}
	for z := range zipParts {
		lowerParts[strings.ToLower(z)] = z
	}
	forms := map[string][]string{} // type → form file bases
	var views, vis []string
	known := map[string]bool{"Entity.xml": true, "RibbonDiff.xml": true}
	for _, f := range files {
		parts := strings.Split(f, "/")
		switch {
		case known[f]:
		case len(parts) == 3 && parts[0] == "FormXml" && strings.HasSuffix(f, ".xml"):
			base := strings.TrimSuffix(parts[2], "_managed.xml")
			base = strings.TrimSuffix(base, ".xml")
			if !contains(forms[parts[1]], base) {
				forms[parts[1]] = append(forms[parts[1]], base)
			}
		case len(parts) == 2 && parts[0] == "SavedQueries" && strings.HasSuffix(f, ".xml"):
			views = append(views, f)
		case len(parts) == 2 && parts[0] == "Visualizations" && strings.HasSuffix(f, ".xml"):
			vis = append(vis, f)
		case len(parts) == 2 && parts[0]+"/" == formulaDir:
			z, err := formulaZipPath(src, root, dir, parts[1])
			if err != nil {
				return nil, err
			}
			if prev, dup := lowerParts[strings.ToLower(z)]; dup {
				return nil, fmt.Errorf("%s%s: packs to the zip part %s, which another formula file already fills (%s)", dir, f, z, prev)
			}
			lowerParts[strings.ToLower(z)] = z
			zipParts[z] = ts.files[dir+f]
		default:
			return nil, fmt.Errorf("%s%s: unexpected file in an entity folder", dir, f)
		}
	}
	used := map[string]bool{}
	var werr, firstErr error
	fail := func(e error) {
		if firstErr == nil {
			firstErr = e
		}
	}
	replace := func(dst []byte, c *node) ([]byte, bool) {
		if !isEmptyElement(src, c) {
			return dst, false
		}
		switch c.name {
		case "FormXml":
			if len(forms) == 0 {
				return dst, false
			}
			used["FormXml"] = true
			dst = append(dst, "<FormXml>"...)
			for _, typ := range sortedKeys(forms) {
				dst = append(dst, "\n        <forms type=\""+xmlAttrEscape(typ)+"\">"...)
				ids := forms[typ]
				sort.Slice(ids, func(i, j int) bool { return strings.ToLower(ids[i]) < strings.ToLower(ids[j]) })
				for _, id := range ids {
					p, _ := ts.pick(dir+"FormXml/"+typ+"/"+id+".xml", managed)
					if dst, werr = ts.wrapped(dst, p, "forms", "systemform", "\n          ", 8); werr != nil {
						fail(werr)
						return dst, true
					}
				}
				dst = append(dst, "\n        </forms>"...)
			}
			return append(dst, "\n      </FormXml>"...), true
		case "SavedQueries":
			if len(views) == 0 {
				return dst, false
			}
			used["SavedQueries"] = true
			dst = append(dst, "<SavedQueries>\n        <savedqueries>"...)
			for _, v := range views {
				if dst, werr = ts.wrapped(dst, dir+v, "savedqueries", "savedquery", "\n          ", 8); werr != nil {
					fail(werr)
					return dst, true
				}
			}
			return append(dst, "\n        </savedqueries>\n      </SavedQueries>"...), true
		case "Visualizations":
			if len(vis) == 0 {
				return dst, false
			}
			used["Visualizations"] = true
			dst = append(dst, "<Visualizations>"...)
			for _, v := range vis {
				if dst, werr = ts.wrapped(dst, dir+v, "Visualizations", "visualization", "\n        ", 6); werr != nil {
					fail(werr)
					return dst, true
				}
			}
			return append(dst, "\n      </Visualizations>"...), true
		case "RibbonDiffXml":
			if _, ok := ts.files[dir+"RibbonDiff.xml"]; !ok {
				return dst, false
			}
			used["RibbonDiffXml"] = true
			rsrc, rroot, e := ts.xml(dir+"RibbonDiff.xml", "RibbonDiffXml")
			if e != nil {
				fail(e)
				return dst, true
			}
			return itemElement(dst, rsrc, rroot, 6), true
		}
		return dst, false
	}
	out = append(out, bytes.Replace(src[root.start:root.openEnd], []byte(xsiDecl), nil, 1)...)
	out = emitInner(out, src, root, 4, replace)
	out = append(out, src[root.closeStart:root.end]...)
	if firstErr != nil {
		return nil, firstErr
	}
	for what, has := range map[string]bool{"FormXml": len(forms) > 0, "SavedQueries": len(views) > 0, "Visualizations": len(vis) > 0} {
		if has && !used[what] {
			return nil, fmt.Errorf("%sEntity.xml has no empty <%s /> for the files in %s%s/", dir, what, dir, what)
		}
	}
	return out, nil
}

// wrapped appends the single item inside a wrapper file (<forms><systemform>).
func (ts *treeSource) wrapped(dst []byte, p, wrapper, item, lead string, delta int) ([]byte, error) {
	src, root, err := ts.xml(p, wrapper)
	if err != nil {
		return dst, err
	}
	if len(root.children) != 1 || root.children[0].name != item {
		return dst, fmt.Errorf("%s: expected exactly one <%s> inside <%s>", p, item, wrapper)
	}
	dst = append(dst, lead...)
	return itemElement(dst, src, root.children[0], delta), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func xmlAttrEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;")
	return r.Replace(s)
}
