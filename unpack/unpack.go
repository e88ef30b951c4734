package unpack

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Unpack extracts the solution zip opts.ZipFile into the SolutionPackager
// tree opts.Folder. With Both it reads opts.ZipFile (unmanaged) and the
// _managed zip beside it. The folder is replaced atomically enough: the new
// tree is written beside it first and only swapped in when complete.
func Unpack(ctx context.Context, opts UnpackOptions) (*Summary, error) {
	le := strings.ToLower(opts.LineEndings)
	if le == "" {
		le = "lf"
	}
	if le != "lf" && le != "crlf" {
		return nil, fmt.Errorf("unpack %s: line endings %q: expected lf or crlf", opts.ZipFile, opts.LineEndings)
	}
	if opts.ZipFile == "" || opts.Folder == "" {
		return nil, fmt.Errorf("unpack: both a zip file and a folder are required")
	}
	if err := checkTargetFolder(opts.Folder); err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	abs, err := filepath.Abs(opts.Folder)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: folder %s: %w", opts.ZipFile, opts.Folder, err)
	}
	// A swap a killed run left half done is finished first, so the folder
	// is whole whatever this run does.
	parentExists, err := recoverSwap(opts.Folder, abs)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	budget := opts.MaxInflatedBytes
	if budget <= 0 {
		budget = DefaultMaxInflatedBytes
	}
	// The collector waits while the tree is built and written (gcpause.go).
	resume, paused := pauseGC(), true
	defer func() { resume() }()
	exports, err := readExports(opts, &budget, func(ex *export) {
		if len(ex.solution)+len(ex.customizations) > maxPausedManifests {
			resume()
			paused = false
		}
	})
	for _, ex := range exports {
		defer ex.close()
	}
	if err != nil {
		return nil, err
	}
	crlf := le == "crlf"
	t := newTree()
	// Files are written as the tree decides them, unless the folder's
	// parent is missing (creating it for a tree that then fails would
	// change something) or canvas app reviews read the app documents first
	// (the documents are then written from what the reviews read).
	var w *treeWriter
	if parentExists && !opts.ProcessCanvasApps {
		if w, err = newTreeWriter(ctx, opts.Folder, abs, crlf, &budget); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
		}
		defer w.discard()
		t.written = w.add
		w.start()
	}
	sum, err := buildTree(opts, exports, t)
	if err != nil {
		return nil, err
	}
	if opts.ProcessCanvasApps {
		resume()
		if err := addCanvasReviews(t, &budget); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
		}
		if paused {
			resume = pauseGC()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	if w == nil {
		if w, err = newTreeWriter(ctx, opts.Folder, abs, crlf, &budget); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
		}
		defer w.discard()
		for i := range t.files {
			w.add(t.files[i])
		}
		w.start()
	}
	if err := w.finish(); err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	removed, err := swapIn(abs, w.root, t)
	resume()
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	sum.Removed = removed
	sum.FilesWritten = len(t.files)
	sum.Outputs = []string{opts.Folder}
	return sum, nil
}

// readExports reads and checks the zip(s) an unpack reads: opts.ZipFile,
// and with Both the managed zip beside it. The exports it returns (also
// with an error) are closed once the tree is written.
//
// opened is called with each export once its manifests are read
// (readExport).
func readExports(opts UnpackOptions, budget *int64, opened func(*export)) ([]*export, error) {
	ex, err := readExport(opts.ZipFile, budget, opened)
	if err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	exports := []*export{ex}
	name, version, managedFlag := ex.manifest()
	isManaged := managedFlag == "1"
	if managedFlag != "0" && managedFlag != "1" {
		return exports, fmt.Errorf("unpack %s: %s: <Managed> is %q, expected 0 or 1 in an exported zip", opts.ZipFile, solutionPart, managedFlag)
	}
	switch opts.PackageType {
	case Unmanaged, Both:
		if isManaged {
			return exports, fmt.Errorf("unpack %s: the zip is managed (<Managed>1</Managed>) but package type %s needs the unmanaged zip", opts.ZipFile, opts.PackageType)
		}
	case Managed:
		if !isManaged {
			return exports, fmt.Errorf("unpack %s: the zip is unmanaged (<Managed>0</Managed>) but package type Managed was asked for", opts.ZipFile)
		}
	}
	if opts.PackageType != Both {
		return exports, nil
	}
	mzip := ManagedZipName(opts.ZipFile)
	mex, err := readExport(mzip, budget, opened)
	if err != nil {
		return exports, fmt.Errorf("unpack both: %w", err)
	}
	exports = append(exports, mex)
	mname, mversion, mflag := mex.manifest()
	if mflag != "1" || mname != name || mversion != version {
		return exports, fmt.Errorf("unpack both: %s holds %s %s (Managed=%s); expected the managed export of %s %s", mzip, mname, mversion, mflag, name, version)
	}
	return exports, nil
}

// buildTree computes every file of the tree from the exports readExports
// read: the generated ones rendered when written, the others as the zip
// entries they copy.
func buildTree(opts UnpackOptions, exports []*export, t *tree) (*Summary, error) {
	ex := exports[0]
	name, version, managedFlag := ex.manifest()
	isManaged := managedFlag == "1"
	u := &unpacker{ex: ex, t: t, managed: isManaged}
	solutionManaged := ""
	if opts.PackageType == Both {
		solutionManaged = "2"
	}
	if err := u.run(solutionManaged); err != nil {
		return nil, fmt.Errorf("unpack %s: %w", opts.ZipFile, err)
	}
	if opts.PackageType == Both {
		mu := &unpacker{ex: exports[1], t: t, managed: true, variantsOnly: true}
		if err := mu.run(""); err != nil {
			return nil, fmt.Errorf("unpack %s: %w", ManagedZipName(opts.ZipFile), err)
		}
	}
	return &Summary{UniqueName: name, Version: version, Managed: isManaged, Both: opts.PackageType == Both,
		Components: countComponents(ex.customizations, ex.custRoot, ex.names)}, nil
}

// ManagedZipName is the managed zip that pac pairs with an unmanaged one:
// Name.zip → Name_managed.zip.
func ManagedZipName(zipFile string) string {
	base := zipFile
	if strings.HasSuffix(strings.ToLower(base), ".zip") {
		base = base[:len(base)-4]
	}
	return base + "_managed.zip"
}

// unpacker turns one export into tree files.
type unpacker struct {
	ex      *export
	t       *tree
	managed bool // names "differs in managed" files with _managed
	// variantsOnly writes only the managed variants (second half of Both).
	variantsOnly bool
	consumed     map[string]bool // zip parts moved (web resource, connector and formula files)
	lowerNames   map[string]bool // lower-case zip entry names, built when needed
}

func (u *unpacker) variantName(p string) string {
	if u.managed {
		return managedName(p)
	}
	return p
}

func (u *unpacker) add(p string, data []byte) error {
	return u.t.add(p, data, true)
}

func (u *unpacker) run(solutionManaged string) error {
	ex := u.ex
	u.consumed = map[string]bool{}
	src := ex.customizations
	out := append([]byte(nil), xmlHeader...)
	out = append(out, src[ex.custRoot.start:ex.custRoot.openEnd]...)
	p := ex.custRoot.openEnd
	for _, sec := range ex.custRoot.children {
		out = emitGap(out, src[p:sec.start], 0)
		p = sec.end
		split, err := u.section(sec)
		if err != nil {
			return err
		}
		if split || isEmptyElement(src, sec) {
			out = emptyTag(out, sec.name)
			continue
		}
		out = emitElement(out, src, sec, 0)
	}
	out = emitGap(out, src[p:ex.custRoot.closeStart], 0)
	out = append(out, src[ex.custRoot.closeStart:ex.custRoot.end]...)
	if u.variantsOnly {
		return nil
	}
	if err := u.add("Other/Customizations.xml", out); err != nil {
		return err
	}
	if err := u.add("Other/Solution.xml", solutionFile(ex.solution, ex.solRoot, solutionManaged, unpackSolutionOrders)); err != nil {
		return err
	}
	names := append([]string(nil), ex.names...)
	sort.Strings(names)
	for _, n := range names {
		if u.consumed[n] {
			continue
		}
		if ownedByPacker(n) {
			return fmt.Errorf("zip entry %s lies where the tree keeps split-out components; it cannot be unpacked losslessly", n)
		}
		if err := u.t.addPart(decodePartName(n), ex.parts[n]); err != nil {
			return err
		}
	}
	return nil
}

// solutionFile renders Other/Solution.xml: <Managed> rewritten when managed
// is set, and the lists orders names put in their order.
func solutionFile(src []byte, root *node, managed string, orders map[string]childOrder) []byte {
	if m := root.child("SolutionManifest").childNode("Managed"); managed != "" && m != nil && !m.self() {
		edited := append(append(append([]byte(nil), src[:m.openEnd]...), managed...), src[m.closeStart:]...)
		if r, err := scanXML(edited); err == nil {
			src, root = edited, r
		}
	}
	out := append([]byte(nil), xmlHeader...)
	return emitOrdered(out, src, root, 0, orders)
}

// unpackSolutionOrders are the lists of solution.xml pac sorts on unpack.
var unpackSolutionOrders = map[string]childOrder{
	"RootComponents":      rootComponentsAsText,
	"MissingDependencies": missingDependencies,
}

// packSolutionOrders put RootComponents back in the export's order.
var packSolutionOrders = map[string]childOrder{"RootComponents": rootComponentsAsNumbers}

// section splits one top-level section; false means it stays inline.
func (u *unpacker) section(sec *node) (bool, error) {
	switch sec.name {
	case "Entities":
		return u.entities(sec)
	case "EntityRelationships":
		if u.variantsOnly {
			return true, nil
		}
		return u.relationships(sec)
	}
	for _, w := range wholeSections {
		if sec.name == w {
			if u.variantsOnly || isEmptyElement(u.ex.customizations, sec) {
				return true, nil
			}
			src := u.ex.customizations
			return true, u.t.addFile(genFile("Other/"+w+".xml", span(sec), func(dst []byte) []byte { return appendFragment(dst, src, sec, false, nil) }))
		}
	}
	for i := range itemRules {
		if itemRules[i].section == sec.name {
			return u.items(&itemRules[i], sec)
		}
	}
	for i := range sectionRules {
		if sectionRules[i].section == sec.name {
			return u.splitSection(&sectionRules[i], sec)
		}
	}
	return false, nil
}

// splitSection writes the files of a section with a shape of its own.
func (u *unpacker) splitSection(r *sectionRule, sec *node) (bool, error) {
	files, moves, ok := r.split(u.ex.customizations, sec)
	if !ok || !u.movable(moves) {
		return false, nil
	}
	if u.variantsOnly {
		return true, nil
	}
	for _, f := range files {
		if err := u.add(f.path, f.data); err != nil {
			return false, err
		}
	}
	for _, m := range moves {
		if err := u.moveBlob(m); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (u *unpacker) items(r *itemRule, sec *node) (bool, error) {
	src := u.ex.customizations
	if !hasOnlyChildren(src, sec, r.item) {
		return false, nil
	}
	paths := make([]string, len(sec.children))
	moves := make([][]blobMove, len(sec.children))
	for i, it := range sec.children {
		if paths[i] = r.file(src, it); paths[i] == "" {
			return false, nil
		}
		if r.blobs != nil {
			m, ok := r.blobs(src, it)
			if !ok || !u.movable(m) {
				return false, nil
			}
			moves[i] = m
		}
	}
	if u.variantsOnly && !r.managedVariant {
		return true, nil
	}
	for i, it := range sec.children {
		p := paths[i]
		if r.managedVariant {
			p = u.variantName(p)
		}
		if err := u.t.addFile(genFile(p, span(it), func(dst []byte) []byte {
			return appendFragment(dst, src, it, r.bare, orderedChildren(src, it, r.orders))
		})); err != nil {
			return false, err
		}
		for _, m := range moves[i] {
			if err := u.moveBlob(m); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// movable: no zip entry already lies where a blob would move (the entry
// would collide with it in the tree).
func (u *unpacker) movable(moves []blobMove) bool {
	for _, m := range moves {
		if _, ok := u.ex.parts[m.zip]; !ok || m.tree == m.zip {
			continue
		}
		if u.lowerNames == nil {
			u.lowerNames = make(map[string]bool, len(u.ex.names))
			for _, n := range u.ex.names {
				u.lowerNames[strings.ToLower(n)] = true
			}
		}
		if u.lowerNames[strings.ToLower(m.tree)] {
			return false
		}
	}
	return true
}

// moveBlob writes a zip part an item names under its tree path, as
// SolutionPackager does (a part the zip lacks is skipped).
func (u *unpacker) moveBlob(m blobMove) error {
	part, ok := u.ex.parts[m.zip]
	if !ok {
		return nil
	}
	u.consumed[m.zip] = true
	return u.t.addPart(m.tree, part)
}

// entities writes Entities/<Name>/... for every entity.
func (u *unpacker) entities(sec *node) (bool, error) {
	src := u.ex.customizations
	if !hasOnlyChildren(src, sec, "Entity") {
		return false, nil
	}
	for _, e := range sec.children {
		if !safeSegment(e.childText(src, "Name")) {
			return false, nil
		}
	}
	var owners map[string]int
	if !u.variantsOnly {
		owners = formulaOwners(src, sec.children, u.ex.parts)
	}
	formulas := make([][]string, len(sec.children))
	for z, i := range owners {
		formulas[i] = append(formulas[i], z)
	}
	for i, e := range sec.children {
		sort.Strings(formulas[i])
		if err := u.entity(e, formulas[i]); err != nil {
			return false, err
		}
	}
	return true, nil
}

// entity writes one entity's folder; formulas are the Formulas/ zip parts
// only this entity references, moved to its Formulas/ folder.
func (u *unpacker) entity(e *node, formulas []string) error {
	src := u.ex.customizations
	dir := "Entities/" + e.childText(src, "Name") + "/"
	var files []treeFile
	wrapped := func(p, wrapper string, item *node) {
		files = append(files, genFile(p, span(item), func(dst []byte) []byte { return appendWrapped(dst, src, wrapper, []*node{item}) }))
	}
	// The children of <Entity> that move to files of their own, left as
	// placeholders in Entity.xml.
	split := map[*node]bool{}
	for _, c := range e.children {
		switch c.name {
		case "FormXml":
			if !formsSplittable(src, c) {
				continue
			}
			for _, forms := range c.children {
				typ, _ := forms.attr(src, "type")
				for _, sf := range forms.children {
					wrapped(u.variantName(dir+"FormXml/"+typ+"/"+sf.childText(src, "formid")+".xml"), "forms", sf)
				}
			}
		case "SavedQueries":
			if u.variantsOnly || !listSplittable(src, c, "savedqueries", "savedquery", "savedqueryid") {
				continue
			}
			if !c.self() && len(c.children) == 1 {
				for _, q := range c.children[0].children {
					wrapped(dir+"SavedQueries/"+q.childText(src, "savedqueryid")+".xml", "savedqueries", q)
				}
			}
		case "Visualizations":
			if u.variantsOnly || !hasOnlyChildren(src, c, "visualization") || !childIDsSafe(src, c, "savedqueryvisualizationid") {
				continue
			}
			for _, v := range c.children {
				wrapped(dir+"Visualizations/"+v.childText(src, "savedqueryvisualizationid")+".xml", "Visualizations", v)
			}
		case "RibbonDiffXml":
			if u.variantsOnly {
				continue
			}
			files = append(files, genFile(dir+"RibbonDiff.xml", span(c), func(dst []byte) []byte { return appendFragment(dst, src, c, false, nil) }))
		default:
			continue
		}
		split[c] = true
	}
	if !u.variantsOnly {
		entityXML := genFile(dir+"Entity.xml", span(e), func(dst []byte) []byte {
			return appendFragment(dst, src, e, false, func(dst []byte, c *node) ([]byte, bool) {
				if !split[c] {
					return dst, false
				}
				return emptyTag(dst, c.name), true
			})
		})
		files = append([]treeFile{entityXML}, files...)
	}
	for _, f := range files {
		if u.variantsOnly && !strings.Contains(f.path, "/FormXml/") {
			continue
		}
		if err := u.t.addFile(f); err != nil {
			return err
		}
	}
	for _, z := range formulas {
		if err := u.moveBlob(blobMove{zip: z, tree: dir + formulaDir + path.Base(z)}); err != nil {
			return err
		}
	}
	return nil
}

// formsSplittable: <FormXml> holds only <forms type="x"> (no other
// attribute) each holding only <systemform> with a usable formid.
func formsSplittable(src []byte, fx *node) bool {
	if !hasOnlyChildren(src, fx, "forms") {
		return false
	}
	for _, f := range fx.children {
		typ, ok := f.attr(src, "type")
		if !ok || !safeSegment(typ) || f.self() || len(f.children) == 0 {
			return false
		}
		raw, _ := f.rawAttr(src, "type")
		if !bytes.Equal(src[f.start:f.openEnd], []byte(`<forms type="`+string(raw)+`">`)) {
			return false
		}
		if !hasOnlyChildren(src, f, "systemform") || !childIDsSafe(src, f, "formid") {
			return false
		}
	}
	return true
}

// listSplittable: <outer> holds at most one bare <list> of <item>s with ids.
func listSplittable(src []byte, outer *node, list, item, id string) bool {
	if !hasOnlyChildren(src, outer, list) || len(outer.children) > 1 {
		return false
	}
	if len(outer.children) == 0 {
		return true
	}
	l := outer.children[0]
	if !bytes.Equal(src[l.start:l.openEnd], []byte("<"+list+">")) || len(l.children) == 0 {
		return false
	}
	return hasOnlyChildren(src, l, item) && childIDsSafe(src, l, id)
}

func childIDsSafe(src []byte, n *node, id string) bool {
	seen := map[string]bool{}
	for _, c := range n.children {
		v := strings.ToLower(c.childText(src, id))
		if !safeSegment(v) || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

// relationships writes Other/Relationships.xml (the order) and one file per
// entity under Other/Relationships/.
func (u *unpacker) relationships(sec *node) (bool, error) {
	src := u.ex.customizations
	if !hasOnlyChildren(src, sec, "EntityRelationship") {
		return false, nil
	}
	if len(sec.children) == 0 {
		return true, nil
	}
	groups := map[string][]*node{}
	spelling := map[string]string{}
	var order []string
	for _, r := range sec.children {
		if _, ok := r.rawAttr(src, "Name"); !ok {
			return false, nil
		}
		key := r.childText(src, "ReferencedEntityName")
		if key == "" {
			key = r.childText(src, "FirstEntityName")
		}
		if !safeSegment(key) {
			return false, nil
		}
		lk := strings.ToLower(key)
		if _, ok := spelling[lk]; !ok {
			spelling[lk] = key
			order = append(order, lk)
		}
		groups[lk] = append(groups[lk], r)
	}
	list := append([]byte(nil), xmlHeader...)
	list = append(list, "<EntityRelationships"+xsiDecl+">"...)
	for _, r := range sec.children {
		raw, _ := r.rawAttr(src, "Name")
		list = append(list, "\n  <EntityRelationship Name=\""...)
		list = append(list, raw...)
		list = append(list, "\" />"...)
	}
	list = append(list, "\n</EntityRelationships>"...)
	if err := u.add("Other/Relationships.xml", list); err != nil {
		return false, err
	}
	for _, lk := range order {
		group := groups[lk]
		if err := u.t.addFile(genFile("Other/Relationships/"+spelling[lk]+".xml", span(group...), func(dst []byte) []byte {
			return appendWrapped(dst, src, "EntityRelationships", group)
		})); err != nil {
			return false, err
		}
	}
	return true, nil
}
