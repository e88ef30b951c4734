package diff

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// node is an XML element: enough of a DOM to split customizations.xml into
// components and write each in a canonical form.
type node struct {
	Name     string
	Attr     []xml.Attr
	Children []*node
	// Text is the element's character data, trimmed; only kept for leaves
	// (mixed content is not used by the solution format).
	Text string
}

// parseXML reads data into a tree rooted at its document element.
func parseXML(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var stack []*node
	var root *node
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{Name: t.Name.Local, Attr: cleanAttrs(t.Attr)}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
			text.Reset()
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.Children) == 0 {
				n.Text = strings.TrimSpace(strings.ReplaceAll(text.String(), "\r\n", "\n"))
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		case xml.CharData:
			text.Write(t)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// cleanAttrs drops namespace declarations and keeps local names.
func cleanAttrs(in []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range in {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
			continue
		}
		out = append(out, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
	}
	return out
}

// attr returns the attribute name (any letter case), "" when absent.
func (n *node) attr(name string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

// child returns the first child named name (any letter case).
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// path follows child names.
func (n *node) path(names ...string) *node {
	for _, name := range names {
		n = n.child(name)
	}
	return n
}

// childText is the text of the first child named name.
func (n *node) childText(name string) string {
	if c := n.child(name); c != nil {
		return c.Text
	}
	return ""
}

// all returns the children named name.
func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, name) {
			out = append(out, c)
		}
	}
	return out
}

// without returns a shallow copy of n whose children named in drop are
// left out (at any depth given as a/b paths: "EntityInfo/entity/attributes").
func (n *node) without(drop ...string) *node {
	cp := *n
	cp.Children = nil
	for _, c := range n.Children {
		keep := true
		var deeper []string
		for _, d := range drop {
			head, rest, nested := strings.Cut(d, "/")
			if !strings.EqualFold(head, c.Name) {
				continue
			}
			if nested {
				deeper = append(deeper, rest)
			} else {
				keep = false
			}
		}
		if !keep {
			continue
		}
		if len(deeper) > 0 {
			c = c.without(deeper...)
		}
		cp.Children = append(cp.Children, c)
	}
	return &cp
}

// canonical writes n with attributes sorted by name, one element after the
// other, text escaped: two elements are equal when these strings are.
func (n *node) canonical() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	b.WriteByte('<')
	b.WriteString(n.Name)
	attrs := append([]xml.Attr(nil), n.Attr...)
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name.Local < attrs[j].Name.Local })
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		_ = xml.EscapeText(b2w{b}, []byte(strings.ReplaceAll(a.Value, "\r\n", "\n")))
		b.WriteByte('"')
	}
	b.WriteByte('>')
	if len(n.Children) == 0 {
		_ = xml.EscapeText(b2w{b}, []byte(n.Text))
	}
	for _, c := range n.Children {
		c.write(b)
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteByte('>')
}

type b2w struct{ b *strings.Builder }

func (w b2w) Write(p []byte) (int, error) { return w.b.Write(p) }

// differingParts names what differs between two versions of one element:
// its attributes by name and its children by element name (a child that
// repeats is compared as the list of all of that name).
func differingParts(a, b *node) []string {
	var out []string
	seen := map[string]bool{}
	for _, at := range append(append([]xml.Attr{}, a.Attr...), b.Attr...) {
		k := at.Name.Local
		if seen["@"+k] {
			continue
		}
		seen["@"+k] = true
		if a.attr(k) != b.attr(k) {
			out = append(out, k)
		}
	}
	if a.Text != b.Text && len(a.Children) == 0 && len(b.Children) == 0 {
		out = append(out, "value")
	}
	group := func(n *node) map[string]string {
		m := map[string]string{}
		for _, c := range n.Children {
			m[c.Name] += c.canonical()
		}
		return m
	}
	ga, gb := group(a), group(b)
	var names []string
	for k := range ga {
		names = append(names, k)
	}
	for k := range gb {
		if _, ok := ga[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if ga[k] != gb[k] {
			out = append(out, k)
		}
	}
	return out
}
