package unpack

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ppalm/ppalm/solzip"
)

// node is one element of a scanned XML document, located by byte offsets so
// fragments can be copied out of (and back into) the manifests without
// re-serialising them.
//
// A large customizations.xml has tens of thousands of elements, and every
// page of memory their nodes take is touched for the first time while it
// is scanned (~13 us a page on the VMs measured): offsets are int32 (XML
// files over 2 GiB are refused) and self-closing is read from them, so a
// node takes 56 bytes instead of 80.
type node struct {
	name       string
	children   []*node
	start      int32 // index of '<'
	openEnd    int32 // index after the '>' of the start tag
	closeStart int32 // index of "</" (== end for a self-closing element)
	end        int32 // index after the element's last '>'
}

// self reports a self-closing element (<x/>).
func (n *node) self() bool { return n.end == n.openEnd }

// xmlSyntaxError carries the line of the problem so the caller can name
// the file and the place.
type xmlSyntaxError struct {
	line int
	msg  string
}

func (e *xmlSyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// bom is the UTF-8 byte order mark SolutionPackager writes before every XML file.
var bom = []byte{0xEF, 0xBB, 0xBF}

// normalizeXML strips a BOM and folds CRLF to LF, the form every XML part is
// processed in.
func normalizeXML(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}

// normalizeOwnedXML is normalizeXML done in place, for a buffer nothing
// else holds. Exports end every line with CRLF: the lines between are
// moved whole, not byte by byte.
func normalizeOwnedXML(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return b
	}
	w := i
	for r := i + 1; ; {
		// b[r] is the '\n' of a CRLF whose '\r' is dropped.
		j := bytes.Index(b[r+1:], []byte("\r\n"))
		if j < 0 {
			w += copy(b[w:], b[r:])
			return b[:w]
		}
		w += copy(b[w:], b[r:r+1+j])
		r += j + 2
	}
}

// scanXML checks that src is one well-formed XML element (with optional
// declaration, comments and processing instructions around it) and returns
// the element tree. DOCTYPEs are refused: no real solution part has one, and
// they are the door to entity-expansion bombs.
//
// The tree of a large customizations.xml has tens of thousands of nodes,
// and building it was the largest cost of an unpack after writing the
// files: a node, a name string and a map of attribute names a tag, and a
// growing children slice an element. Nodes and children slices are now cut
// from a few blocks, names are shared, and attribute names are compared in
// place, so the tree costs about a tenth of the allocations.
func scanXML(src []byte) (*node, error) {
	var root *node
	lineAt := func(i int) int { return bytes.Count(src[:min(i, len(src))], []byte("\n")) + 1 }
	fail := func(i int, format string, a ...any) error {
		return &xmlSyntaxError{line: lineAt(i), msg: fmt.Sprintf(format, a...)}
	}
	if len(src) > math.MaxInt32 {
		return nil, fail(0, "%d bytes, more than the 2 GiB ppalm reads in one XML file", len(src))
	}
	if !utf8.Valid(src) {
		return nil, fail(0, "not valid UTF-8")
	}
	// Memory follows the element count, not the byte count: 600 MB of
	// <a/> is 150 million nodes. Counting '<' first refuses such a file
	// before a single node is allocated.
	tags := bytes.Count(src, []byte("<"))
	if tags > MaxXMLElements {
		return nil, fail(0, "%d tags, more than the %d elements ppalm reads in one XML file (an element bomb?)", tags, MaxXMLElements)
	}
	// Every start tag is a '<' that does not begin "</", so this bounds
	// the elements (and the blocks the tree is cut from).
	a := treeArena{left: tags - bytes.Count(src, []byte("</"))}
	// open are the elements not yet closed, innermost last; kids holds the
	// children each has so far, from its mark on.
	type openElement struct {
		n    *node
		mark int
	}
	var open []openElement
	var kids []*node
	pos := 0
	for pos < len(src) {
		lt := bytes.IndexByte(src[pos:], '<')
		text := src[pos:]
		if lt >= 0 {
			text = src[pos : pos+lt]
		}
		if len(open) == 0 {
			if len(bytes.TrimSpace(text)) > 0 {
				return nil, fail(pos, "text outside the root element")
			}
		} else if err := checkText(text); err != nil {
			return nil, fail(pos, "%v", err)
		}
		if lt < 0 {
			break
		}
		i := pos + lt
		rest := src[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			e := bytes.Index(rest, []byte("?>"))
			if e < 0 {
				return nil, fail(i, "unterminated processing instruction")
			}
			pos = i + e + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			e := bytes.Index(rest[4:], []byte("-->"))
			if e < 0 {
				return nil, fail(i, "unterminated comment")
			}
			pos = i + 4 + e + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(open) == 0 {
				return nil, fail(i, "CDATA outside the root element")
			}
			e := bytes.Index(rest, []byte("]]>"))
			if e < 0 {
				return nil, fail(i, "unterminated CDATA section")
			}
			pos = i + e + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, fail(i, "DOCTYPE and other declarations are not allowed")
		case bytes.HasPrefix(rest, []byte("</")):
			e := bytes.IndexByte(rest, '>')
			if e < 0 {
				return nil, fail(i, "unterminated end tag")
			}
			name := bytes.TrimRight(rest[2:e], " \t\n\r")
			if len(open) == 0 {
				return nil, fail(i, "end tag </%s> without a start tag", name)
			}
			top := open[len(open)-1]
			if top.n.name != string(name) {
				return nil, fail(i, "end tag </%s> does not match <%s>", name, top.n.name)
			}
			top.n.closeStart = int32(i)
			top.n.end = int32(i + e + 1)
			top.n.children = a.children(kids[top.mark:], len(kids))
			kids = kids[:top.mark]
			open = open[:len(open)-1]
			pos = i + e + 1
		default:
			n := a.node()
			if err := scanStartTag(src, i, n, &a.names); err != nil {
				return nil, fail(i, "%v", err)
			}
			if len(open) == 0 {
				if root != nil {
					return nil, fail(i, "second root element <%s>", n.name)
				}
				root = n
			} else {
				kids = append(kids, n)
			}
			if !n.self() {
				open = append(open, openElement{n, len(kids)})
			}
			pos = int(n.openEnd)
		}
	}
	if len(open) > 0 {
		return nil, fail(len(src), "element <%s> is never closed", open[len(open)-1].n.name)
	}
	if root == nil {
		return nil, fail(0, "no root element")
	}
	return root, nil
}

// treeArena hands out the nodes and children slices of one tree from
// blocks that double in size, never past what the document can hold.
type treeArena struct {
	left  int // elements the document may still hold
	nodes []node
	kids  []*node
	names map[string]string // element names, each allocated once
}

func (a *treeArena) node() *node {
	if len(a.nodes) == cap(a.nodes) {
		a.nodes = make([]node, 0, max(min(max(2*cap(a.nodes), 256), a.left), 1))
	}
	a.left--
	a.nodes = a.nodes[:len(a.nodes)+1]
	return &a.nodes[len(a.nodes)-1]
}

// children copies c into the current block of children, capped so that an
// append to one element's children never reaches its neighbour's; pending
// children (c among them) are still to be copied.
func (a *treeArena) children(c []*node, pending int) []*node {
	if len(c) == 0 {
		return nil
	}
	if cap(a.kids)-len(a.kids) < len(c) {
		a.kids = make([]*node, 0, max(min(max(2*cap(a.kids), 256), a.left+pending), len(c)))
	}
	s := len(a.kids)
	a.kids = append(a.kids, c...)
	return a.kids[s:len(a.kids):len(a.kids)]
}

// MaxXMLElements bounds the elements of one XML file, and with them the
// memory its node tree takes (about 100 bytes a node). The largest real
// customizations.xml seen holds well under a million. The manifests are
// refused past it while they inflate (solzip), before they are held.
const MaxXMLElements = solzip.MaxXMLElements

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanStartTag reads the start tag beginning at src[i] == '<' into n,
// taking its name from names (or adding it).
func scanStartTag(src []byte, i int, n *node, names *map[string]string) error {
	j := i + 1
	for j < len(src) && isNameByte(src[j], j == i+1) {
		j++
	}
	if j == i+1 {
		return fmt.Errorf("invalid element name")
	}
	n.name, n.start = internName(names, src[i+1:j]), int32(i)
	// Attribute names seen, as offsets into src: compared in place, and
	// through a map only past a few (a hostile tag may hold thousands).
	var spans [16][2]int
	seen := spans[:0]
	var many map[string]bool
	for {
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) {
			return fmt.Errorf("unterminated start tag <%s>", n.name)
		}
		if src[j] == '>' {
			n.openEnd = int32(j + 1)
			return nil
		}
		if src[j] == '/' {
			if j+1 < len(src) && src[j+1] == '>' {
				n.openEnd, n.closeStart, n.end = int32(j+2), int32(j+2), int32(j+2)
				return nil
			}
			return fmt.Errorf("stray '/' in <%s>", n.name)
		}
		if !isSpace(src[j-1]) {
			return fmt.Errorf("missing space before attribute in <%s>", n.name)
		}
		a := j
		for j < len(src) && isNameByte(src[j], j == a) {
			j++
		}
		if j == a {
			return fmt.Errorf("invalid attribute name in <%s>", n.name)
		}
		an := src[a:j]
		repeated := false
		if many != nil {
			repeated = many[string(an)]
			many[string(an)] = true
		} else {
			for _, s := range seen {
				if bytes.Equal(src[s[0]:s[1]], an) {
					repeated = true
				}
			}
			if len(seen) < len(spans) {
				seen = append(seen, [2]int{a, j})
			} else {
				many = make(map[string]bool, 2*len(spans))
				for _, s := range seen {
					many[string(src[s[0]:s[1]])] = true
				}
				many[string(an)] = true
			}
		}
		if repeated {
			return fmt.Errorf("attribute %s repeated in <%s>", an, n.name)
		}
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) || src[j] != '=' {
			return fmt.Errorf("attribute %s in <%s> has no value", an, n.name)
		}
		j++
		for j < len(src) && isSpace(src[j]) {
			j++
		}
		if j >= len(src) || (src[j] != '"' && src[j] != '\'') {
			return fmt.Errorf("attribute %s in <%s> is not quoted", an, n.name)
		}
		q := src[j]
		e := bytes.IndexByte(src[j+1:], q)
		if e < 0 {
			return fmt.Errorf("attribute %s in <%s> is not closed", an, n.name)
		}
		val := src[j+1 : j+1+e]
		if bytes.IndexByte(val, '<') >= 0 {
			return fmt.Errorf("'<' in the value of attribute %s in <%s>", an, n.name)
		}
		if err := checkText(val); err != nil {
			return fmt.Errorf("attribute %s in <%s>: %v", an, n.name, err)
		}
		j = j + 1 + e + 1
	}
}

// internName returns b as a string, one string per distinct name.
func internName(names *map[string]string, b []byte) string {
	if s, ok := (*names)[string(b)]; ok {
		return s
	}
	if *names == nil {
		*names = map[string]string{}
	}
	s := string(b)
	(*names)[s] = s
	return s
}

// checkText verifies the entity references in character data.
func checkText(t []byte) error {
	for {
		a := bytes.IndexByte(t, '&')
		if a < 0 {
			return nil
		}
		t = t[a+1:]
		e := bytes.IndexByte(t, ';')
		if e <= 0 || e > 12 {
			return fmt.Errorf("bare '&' (write &amp;)")
		}
		if _, ok := decodeEntity(string(t[:e])); !ok {
			return fmt.Errorf("unknown entity &%s;", t[:e])
		}
		t = t[e+1:]
	}
}

func decodeEntity(s string) (string, bool) {
	switch s {
	case "amp":
		return "&", true
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "quot":
		return `"`, true
	case "apos":
		return "'", true
	}
	if strings.HasPrefix(s, "#") {
		var v uint64
		var err error
		if strings.HasPrefix(s, "#x") {
			v, err = strconv.ParseUint(s[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(s[1:], 10, 32)
		}
		if err != nil || v == 0 || v > utf8.MaxRune {
			return "", false
		}
		return string(rune(v)), true
	}
	return "", false
}

func unescape(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return string(b)
	}
	var sb strings.Builder
	for {
		a := bytes.IndexByte(b, '&')
		if a < 0 {
			sb.Write(b)
			return sb.String()
		}
		sb.Write(b[:a])
		b = b[a+1:]
		e := bytes.IndexByte(b, ';')
		v, _ := decodeEntity(string(b[:e]))
		sb.WriteString(v)
		b = b[e+1:]
	}
}

// child returns the first child element called name.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// text returns the unescaped character data of a leaf element.
func (n *node) text(src []byte) string {
	if n == nil || n.self() {
		return ""
	}
	return strings.TrimSpace(unescape(src[n.openEnd:n.closeStart]))
}

// childText is n.child(name).text(src), "" when absent.
func (n *node) childText(src []byte, name string) string {
	return n.child(name).text(src)
}

// attr returns the unescaped value of attribute name and whether it exists.
func (n *node) attr(src []byte, name string) (string, bool) {
	raw, ok := n.rawAttr(src, name)
	if !ok {
		return "", false
	}
	return unescape(raw), true
}

// rawAttr returns the attribute value as written (still escaped).
func (n *node) rawAttr(src []byte, name string) ([]byte, bool) {
	tag := src[n.start:n.openEnd]
	j := 1 + len(n.name)
	for j < len(tag) {
		for j < len(tag) && isSpace(tag[j]) {
			j++
		}
		if j >= len(tag) || tag[j] == '>' || tag[j] == '/' {
			return nil, false
		}
		a := j
		for tag[j] != '=' && !isSpace(tag[j]) {
			j++
		}
		an := string(tag[a:j])
		for tag[j] != '"' && tag[j] != '\'' {
			j++
		}
		q := tag[j]
		e := bytes.IndexByte(tag[j+1:], q)
		val := tag[j+1 : j+1+e]
		j = j + 1 + e + 1
		if an == name {
			return val, true
		}
	}
	return nil, false
}

// column is the number of spaces indenting n on its line, or -1 when
// something other than spaces precedes it.
func column(src []byte, n *node) int {
	i := n.start
	c := 0
	for i > 0 && src[i-1] == ' ' {
		i--
		c++
	}
	if i > 0 && src[i-1] != '\n' {
		return -1
	}
	return c
}

// isBlank reports whether b holds only XML whitespace.
func isBlank(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// shiftIndent appends gap (whitespace-only text) to dst with the indentation
// after every newline changed by delta spaces.
func shiftIndent(dst, gap []byte, delta int) []byte {
	if delta == 0 || bytes.IndexByte(gap, '\n') < 0 {
		return append(dst, gap...)
	}
	for len(gap) > 0 {
		nl := bytes.IndexByte(gap, '\n')
		if nl < 0 {
			return append(dst, gap...)
		}
		dst = append(dst, gap[:nl+1]...)
		gap = gap[nl+1:]
		sp := 0
		for sp < len(gap) && gap[sp] == ' ' {
			sp++
		}
		nsp := max(sp+delta, 0)
		dst = append(dst, spaces(nsp)...)
		gap = gap[sp:]
	}
	return dst
}

const manySpaces = "                                                                                                                                "

func spaces(n int) string {
	for len(manySpaces) < n {
		return strings.Repeat(" ", n)
	}
	return manySpaces[:n]
}

// emitInner appends the content of n (between its tags) with indentation
// shifted by delta; replace, when it returns true, substitutes a direct child.
func emitInner(dst, src []byte, n *node, delta int, replace func(dst []byte, c *node) ([]byte, bool)) []byte {
	if n.self() {
		return dst
	}
	p := n.openEnd
	for _, c := range n.children {
		dst = emitGap(dst, src[p:c.start], delta)
		if replace != nil {
			if out, ok := replace(dst, c); ok {
				dst = out
				p = c.end
				continue
			}
		}
		dst = emitElement(dst, src, c, delta)
		p = c.end
	}
	return emitGap(dst, src[p:n.closeStart], delta)
}

func emitGap(dst, gap []byte, delta int) []byte {
	if isBlank(gap) {
		return shiftIndent(dst, gap, delta)
	}
	return append(dst, gap...)
}

// emitElement appends n with its inner indentation shifted by delta.
func emitElement(dst, src []byte, n *node, delta int) []byte {
	if delta == 0 || n.self() || len(n.children) == 0 {
		return append(dst, src[n.start:n.end]...)
	}
	dst = append(dst, src[n.start:n.openEnd]...)
	dst = emitInner(dst, src, n, delta, nil)
	return append(dst, src[n.closeStart:n.end]...)
}
