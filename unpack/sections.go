package unpack

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
)

// sectionRule splits a customizations.xml section whose files do not follow
// the one-file-per-item shape of itemRule: email templates with their
// documents, reports with their definitions.
type sectionRule struct {
	section string
	// split returns the tree files of the section and the zip parts it
	// moves; ok false keeps the section inline (it cannot be split
	// losslessly).
	split func(src []byte, sec *node) (files []treeFile, moves []blobMove, ok bool)
	// owns reports whether a tree path is read by join.
	owns func(p string) bool
	// join rebuilds the section from the tree (nil, nil when the tree has
	// none of its files), marking the files it read in used and putting
	// the zip parts it moves back into parts.
	join func(ts *treeSource, used map[string]bool, parts map[string][]byte) ([]byte, error)
}

var sectionRules = []sectionRule{
	{section: "Templates", split: splitTemplates, owns: ownsTemplates, join: joinTemplates},
	{section: "Reports", split: splitReports, owns: ownsReports, join: joinReports},
}

// ---- Email and contract templates ----
//
// <Templates> holds <EmailTemplates> and <ContractTemplates>. Each becomes
// Templates/<Name>.xml; an email template's four documents, XML escaped as
// text in customizations.xml, move to
// Templates/EmailDocuments/<languagecode>/<templateid>/ and their elements
// are left empty (<body></body>): body.xsl and subject.xsl hold the text
// after a BOM, presentationxml.xml and subjectpresentationxml.xml the XML
// with the header and every element that holds only elements indented.

const emailDocumentsDir = "Templates/EmailDocuments/"

// emailDocuments are the fields of an <emailtemplate> written to files.
var emailDocuments = []struct{ field, file string }{
	{"body", "body.xsl"},
	{"subject", "subject.xsl"},
	{"presentationxml", "presentationxml.xml"},
	{"subjectpresentationxml", "subjectpresentationxml.xml"},
}

// templateKinds are the children of <Templates> split into files.
var templateKinds = map[string]bool{"EmailTemplates": true, "ContractTemplates": true}

func ownsTemplates(p string) bool {
	if p == "Templates/EmailTemplates.xml" || p == "Templates/ContractTemplates.xml" {
		return true
	}
	rest, ok := strings.CutPrefix(p, emailDocumentsDir)
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return false
	}
	for _, d := range emailDocuments {
		if parts[2] == d.file {
			return true
		}
	}
	return false
}

// blankSeparated reports whether only whitespace lies around n's children.
func blankSeparated(src []byte, n *node) bool {
	p := n.openEnd
	for _, c := range n.children {
		if !isBlank(src[p:c.start]) {
			return false
		}
		p = c.end
	}
	return n.self() || isBlank(src[p:n.closeStart])
}

func splitTemplates(src []byte, sec *node) ([]treeFile, []blobMove, bool) {
	if !blankSeparated(src, sec) {
		return nil, nil, false
	}
	var files []treeFile
	seen := map[string]bool{}
	for _, c := range sec.children {
		if !templateKinds[c.name] || seen[c.name] {
			return nil, nil, false
		}
		seen[c.name] = true
		if c.name != "EmailTemplates" {
			files = append(files, treeFile{path: "Templates/" + c.name + ".xml", data: fragmentFile(src, c, false, nil), xml: true})
			continue
		}
		f, ok := splitEmailTemplates(src, c)
		if !ok {
			return nil, nil, false
		}
		files = append(files, f...)
	}
	return files, nil, true
}

func splitEmailTemplates(src []byte, et *node) ([]treeFile, bool) {
	if !hasOnlyChildren(src, et, "emailtemplate") {
		return nil, false
	}
	var docs []treeFile
	emptied := map[*node]bool{}
	dirs := map[string]bool{}
	for _, tpl := range et.children {
		dir, ok := emailDocumentDir(src, tpl)
		if !ok || dirs[strings.ToLower(dir)] {
			return nil, false
		}
		dirs[strings.ToLower(dir)] = true
		for _, d := range emailDocuments {
			f, ok := onlyChild(tpl, d.field)
			if !ok {
				return nil, false
			}
			if f == nil || f.self() || f.openEnd == f.closeStart {
				continue // nothing to move
			}
			if len(f.children) > 0 {
				return nil, false
			}
			raw := src[f.openEnd:f.closeStart]
			text := unescape(raw)
			if escapeText(text) != string(raw) {
				return nil, false
			}
			data, ok := documentFile(d.file, text)
			if !ok {
				return nil, false
			}
			docs = append(docs, treeFile{path: dir + d.file, data: data, xml: true})
			emptied[f] = true
		}
	}
	delta := -max(column(src, et), 0)
	list := fragmentFile(src, et, false, func(dst []byte, tpl *node) ([]byte, bool) {
		dst = append(dst, src[tpl.start:tpl.openEnd]...)
		dst = emitInner(dst, src, tpl, delta, func(dst []byte, f *node) ([]byte, bool) {
			if !emptied[f] {
				return dst, false
			}
			dst = append(dst, src[f.start:f.openEnd]...)
			return append(dst, src[f.closeStart:f.end]...), true
		})
		return append(dst, src[tpl.closeStart:tpl.end]...), true
	})
	return append([]treeFile{{path: "Templates/EmailTemplates.xml", data: list, xml: true}}, docs...), true
}

// onlyChild returns the child called name (nil when there is none); ok
// is false when the name repeats (one file could hold only one of them).
func onlyChild(n *node, name string) (c *node, ok bool) {
	for _, k := range n.children {
		if k.name != name {
			continue
		}
		if c != nil {
			return nil, false
		}
		c = k
	}
	return c, true
}

// emailDocumentDir is the folder of a template's documents.
func emailDocumentDir(src []byte, tpl *node) (string, bool) {
	lang, id := tpl.childText(src, "languagecode"), tpl.childText(src, "templateid")
	if !safeSegment(lang) || !safeSegment(id) {
		return "", false
	}
	return emailDocumentsDir + lang + "/" + id + "/", true
}

// escapeText escapes character data the way exports write it: &, < and >.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// documentFile renders one email document: the text after a BOM for the
// XSL documents; for the presentation ones the XML as SolutionPackager
// re-serialises it: header, whitespace-only text dropped (insignificant to
// the template editor), self-closing tags as <x />, and every element that
// holds only elements indented. ok is false when the text is not such XML.
func documentFile(file, text string) ([]byte, bool) {
	if strings.HasPrefix(text, "\uFEFF") {
		return nil, false
	}
	if strings.HasSuffix(file, ".xsl") {
		return append(append([]byte(nil), bom...), text...), true
	}
	src := normalizePresentation(text)
	if src == nil || bytes.HasPrefix(src, []byte("<?")) {
		return nil, false
	}
	root, err := scanXML(src)
	if err != nil || root.start != 0 || int(root.end) != len(src) {
		return nil, false
	}
	pretty := indentElement(nil, src, root, 0)
	if back, err := compactXML(pretty); err != nil || !bytes.Equal(back, src) {
		return nil, false
	}
	return append(append([]byte(nil), xmlHeader...), pretty...), true
}

// normalizePresentation drops the whitespace-only text between markup and
// writes self-closing tags as <x />; nil when the markup is not closed.
func normalizePresentation(text string) []byte {
	out := make([]byte, 0, len(text))
	for len(text) > 0 {
		lt := strings.IndexByte(text, '<')
		if lt < 0 {
			lt = len(text)
		}
		if t := text[:lt]; strings.TrimLeft(t, " \t\r\n") != "" {
			out = append(out, t...)
		}
		text = text[lt:]
		if text == "" {
			break
		}
		end := markupEnd(text)
		if end < 0 {
			return nil
		}
		m := text[:end]
		if strings.HasSuffix(m, "/>") && !strings.HasSuffix(m, " />") && !strings.HasPrefix(m, "<!") && !strings.HasPrefix(m, "<?") {
			m = strings.TrimRight(m[:len(m)-2], " \t\r\n") + " />"
		}
		out = append(out, m...)
		text = text[end:]
	}
	return out
}

// markupEnd is the length of the markup s starts with (a tag, CDATA
// section, comment or processing instruction), or -1.
func markupEnd(s string) int {
	for _, d := range [][2]string{{"<![CDATA[", "]]>"}, {"<!--", "-->"}, {"<?", "?>"}} {
		if strings.HasPrefix(s, d[0]) {
			e := strings.Index(s[len(d[0]):], d[1])
			if e < 0 {
				return -1
			}
			return len(d[0]) + e + len(d[1])
		}
	}
	var q byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return i + 1
		}
	}
	return -1
}

// indentElement appends n with every element that holds only elements (no
// text, not even whitespace) laid out one child a line, two spaces a level.
func indentElement(dst, src []byte, n *node, depth int) []byte {
	if n.self() || len(n.children) == 0 || !elementOnly(src, n) {
		return append(dst, src[n.start:n.end]...)
	}
	dst = append(dst, src[n.start:n.openEnd]...)
	for _, c := range n.children {
		dst = append(dst, '\n')
		dst = append(dst, spaces(2*(depth+1))...)
		dst = indentElement(dst, src, c, depth+1)
	}
	dst = append(dst, '\n')
	dst = append(dst, spaces(2*depth)...)
	return append(dst, src[n.closeStart:n.end]...)
}

// elementOnly: nothing at all between n's children and its tags.
func elementOnly(src []byte, n *node) bool {
	p := n.openEnd
	for _, c := range n.children {
		if c.start != p {
			return false
		}
		p = c.end
	}
	return p == n.closeStart
}

// compactXML undoes indentElement: the whitespace between the children of
// an element that holds only elements and whitespace goes. The header, if
// any, is dropped.
func compactXML(b []byte) ([]byte, error) {
	src := normalizeXML(b)
	root, err := scanXML(src)
	if err != nil {
		return nil, err
	}
	return compactElement(nil, src, root), nil
}

func compactElement(dst, src []byte, n *node) []byte {
	if n.self() || len(n.children) == 0 || !blankSeparated(src, n) {
		return append(dst, src[n.start:n.end]...)
	}
	dst = append(dst, src[n.start:n.openEnd]...)
	for _, c := range n.children {
		dst = compactElement(dst, src, c)
	}
	return append(dst, src[n.closeStart:n.end]...)
}

// documentText reads an email document file back into the text of its
// element.
func documentText(file string, data []byte) (string, error) {
	if strings.HasSuffix(file, ".xsl") {
		return string(normalizeXML(data)), nil
	}
	c, err := compactXML(data)
	if err != nil {
		return "", fmt.Errorf("not well-formed XML: %w", err)
	}
	return string(c), nil
}

func joinTemplates(ts *treeSource, used map[string]bool, _ map[string][]byte) ([]byte, error) {
	var out []byte
	for _, kind := range []string{"EmailTemplates", "ContractTemplates"} {
		p := "Templates/" + kind + ".xml"
		if _, ok := ts.files[p]; !ok {
			continue
		}
		src, root, err := ts.xml(p, kind)
		if err != nil {
			return nil, err
		}
		used[p] = true
		out = append(out, "\n    "...)
		if kind != "EmailTemplates" {
			out = itemElement(out, src, root, 4)
			continue
		}
		if out, err = ts.joinEmailTemplates(out, p, src, root, used); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		for _, p := range ts.paths {
			if strings.HasPrefix(p, emailDocumentsDir) && ownsTemplates(p) {
				return nil, fmt.Errorf("%s: an email template document without Templates/EmailTemplates.xml, which holds the templates it belongs to", p)
			}
		}
		return nil, nil
	}
	return append(append([]byte("<Templates>"), out...), "\n  </Templates>"...), nil
}

// joinEmailTemplates appends <EmailTemplates> with each template's
// documents put back into their elements.
func (ts *treeSource) joinEmailTemplates(dst []byte, file string, src []byte, root *node, used map[string]bool) ([]byte, error) {
	const delta = 4
	var ferr error
	tag := bytes.Replace(src[root.start:root.openEnd], []byte(xsiDecl), nil, 1)
	dst = append(dst, tag...)
	if root.self() {
		return dst, nil
	}
	dst = emitInner(dst, src, root, delta, func(dst []byte, tpl *node) ([]byte, bool) {
		if tpl.name != "emailtemplate" || ferr != nil {
			return dst, false
		}
		dir, ok := emailDocumentDir(src, tpl)
		if !ok {
			return dst, false
		}
		fill := map[*node]string{}
		for _, d := range emailDocuments {
			p := dir + d.file
			data, has := ts.files[p]
			if !has {
				continue
			}
			f, _ := onlyChild(tpl, d.field)
			if f == nil || f.self() {
				ferr = fmt.Errorf("%s: its template in %s has no <%s></%s> element to hold it", p, file, d.field, d.field)
				return dst, true
			}
			if f.openEnd != f.closeStart {
				ferr = fmt.Errorf("%s: its template in %s already holds a <%s>; keep the document in one place", p, file, d.field)
				return dst, true
			}
			text, err := documentText(d.file, data)
			if err != nil {
				ferr = fmt.Errorf("%s: %w", p, err)
				return dst, true
			}
			used[p] = true
			fill[f] = escapeText(text)
		}
		dst = append(dst, src[tpl.start:tpl.openEnd]...)
		dst = emitInner(dst, src, tpl, delta, func(dst []byte, f *node) ([]byte, bool) {
			text, ok := fill[f]
			if !ok {
				return dst, false
			}
			dst = append(dst, src[f.start:f.openEnd]...)
			dst = append(dst, text...)
			return append(dst, src[f.closeStart:f.end]...), true
		})
		return append(dst, src[tpl.closeStart:tpl.end]...), true
	})
	if ferr != nil {
		return nil, ferr
	}
	return append(dst, src[root.closeStart:root.end]...), nil
}

// ---- Reports ----
//
// <Reports> holds <ReportSignatureIdMappings>, <ReportLinks> and one
// <Report> per report. The first two become Reports/<Name>.xml; each report
// becomes Reports/<languagecode>/<reportid>/<filename>.data.xml, and the
// zip part its <ExportedFileName> names (the .wdl) moves beside it as
// <filename>. <ExportedFileName> keeps the zip path for pack. These roots
// get no xmlns:xsi (as seen in real trees).

var reportLists = []string{"ReportSignatureIdMappings", "ReportLinks"}

func ownsReports(p string) bool {
	for _, l := range reportLists {
		if p == "Reports/"+l+".xml" {
			return true
		}
	}
	parts := strings.Split(p, "/")
	return len(parts) == 4 && parts[0] == "Reports" && strings.HasSuffix(parts[3], ".data.xml") && len(parts[3]) > len(".data.xml")
}

// reportPaths are the tree paths of a report's metadata and definition.
func reportPaths(src []byte, r *node) (data string, ok bool) {
	lang, id, name := r.childText(src, "languagecode"), r.childText(src, "reportid"), r.childText(src, "filename")
	if !safeSegment(lang) || !safeSegment(id) || !safeSegment(name) || strings.HasSuffix(strings.ToLower(name), ".data.xml") {
		return "", false
	}
	return "Reports/" + lang + "/" + id + "/" + name + ".data.xml", true
}

func splitReports(src []byte, sec *node) ([]treeFile, []blobMove, bool) {
	if !blankSeparated(src, sec) {
		return nil, nil, false
	}
	var files []treeFile
	var moves []blobMove
	seen := map[string]bool{}
	for _, c := range sec.children {
		if c.name != "Report" {
			if !contains(reportLists, c.name) || seen[c.name] {
				return nil, nil, false
			}
			seen[c.name] = true
			files = append(files, treeFile{path: "Reports/" + c.name + ".xml", data: fragmentFile(src, c, true, nil), xml: true})
			continue
		}
		p, ok := reportPaths(src, c)
		if !ok || seen[strings.ToLower(path.Dir(p))] {
			return nil, nil, false
		}
		seen[strings.ToLower(path.Dir(p))] = true
		files = append(files, treeFile{path: p, data: fragmentFile(src, c, true, nil), xml: true})
		if z := trimSlash(c.childText(src, "ExportedFileName")); z != "" {
			moves = append(moves, blobMove{zip: z, tree: strings.TrimSuffix(p, ".data.xml")})
		}
	}
	return files, moves, true
}

func joinReports(ts *treeSource, used map[string]bool, parts map[string][]byte) ([]byte, error) {
	var out []byte
	for _, l := range reportLists {
		p := "Reports/" + l + ".xml"
		if _, ok := ts.files[p]; !ok {
			continue
		}
		src, root, err := ts.xml(p, l)
		if err != nil {
			return nil, err
		}
		used[p] = true
		out = append(out, "\n    "...)
		out = itemElement(out, src, root, 4)
	}
	var reports []string
	for _, p := range ts.paths {
		if ownsReports(p) && !used[p] {
			reports = append(reports, p)
		}
	}
	sort.Slice(reports, func(i, j int) bool { return strings.ToLower(reports[i]) < strings.ToLower(reports[j]) })
	for _, p := range reports {
		src, root, err := ts.xml(p, "Report")
		if err != nil {
			return nil, err
		}
		used[p] = true
		out = append(out, "\n    "...)
		out = itemElement(out, src, root, 4)
		z := trimSlash(root.childText(src, "ExportedFileName"))
		def := strings.TrimSuffix(p, ".data.xml")
		data, ok := ts.files[def]
		if z == "" {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("%s: the report's definition %s is missing (its <ExportedFileName> %s cannot be packed without it)", p, def, z)
		}
		if err := checkEntryName(z); err != nil {
			return nil, fmt.Errorf("%s names the zip part of %s: %w", p, def, err)
		}
		used[def] = true
		parts[z] = data
	}
	if len(out) == 0 {
		return nil, nil
	}
	return append(append([]byte("<Reports>"), out...), "\n  </Reports>"...), nil
}
