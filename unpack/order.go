package unpack

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// The order SolutionPackager (pac 1.20 and later) writes some lists in,
// seen on real trees next to the exports they came from:
//
//   - RootComponents in Other/Solution.xml: by type compared as text
//     ("1" < "183" < "20" < "300" < "9"), the export order kept within a type.
//   - MissingDependencies: by the type, then the schemaName, of <Required>,
//     compared as .NET compares text (collate), the export order kept for ties.
//   - AppModuleComponents in AppModule.xml: by type compared as text, then
//     schemaName; components with only an id keep their order within their
//     type; AppModuleRoleMaps keep the export order.
//
// Exports list RootComponents by type as a number, and pack puts them back in
// that order (a stable sort, so the export order within a type survives both
// ways). Older trees, written in the numeric order, read the same.

// collate compares two names the way .NET's culture-aware comparison orders
// the ASCII names solution files hold: punctuation before digits before
// letters, letters regardless of case; remaining ties put lower case first
// and then fall back to the bytes.
func collate(a, b string) int {
	if c := cmp.Compare(collationKey(a), collationKey(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(swapCase(a), swapCase(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

func collationKey(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(2)
		case c >= 'a' && c <= 'z':
			b.WriteByte(3)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(3)
			c += 'a' - 'A'
		case c >= 0x80:
			b.WriteByte(4)
		default:
			b.WriteByte(1)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

// childOrder returns the children of parent in a new order, or nil to keep
// the order they have.
type childOrder func(src []byte, parent *node) []*node

// sortedBy returns a childOrder that stable-sorts the children of a parent
// that holds only elements called item (whitespace between them) by cmpFn.
func sortedBy(item string, cmpFn func(src []byte, a, b *node) int) childOrder {
	return func(src []byte, parent *node) []*node {
		if len(parent.children) < 2 || !hasOnlyChildren(src, parent, item) {
			return nil
		}
		kids := slices.Clone(parent.children)
		slices.SortStableFunc(kids, func(a, b *node) int { return cmpFn(src, a, b) })
		return kids
	}
}

func attrOf(src []byte, n *node, name string) string {
	if n == nil {
		return ""
	}
	v, _ := n.attr(src, name)
	return v
}

// rootComponentsAsText is pac's order of RootComponents (unpack).
var rootComponentsAsText = sortedBy("RootComponent", func(src []byte, a, b *node) int {
	return collate(attrOf(src, a, "type"), attrOf(src, b, "type"))
})

// rootComponentsAsNumbers is the export's order of RootComponents (pack):
// numeric types by value, any other type after them as text.
var rootComponentsAsNumbers = sortedBy("RootComponent", func(src []byte, a, b *node) int {
	ta, tb := attrOf(src, a, "type"), attrOf(src, b, "type")
	na, ea := strconv.Atoi(ta)
	nb, eb := strconv.Atoi(tb)
	switch {
	case ea == nil && eb == nil:
		return cmp.Compare(na, nb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return collate(ta, tb)
})

// missingDependencies is pac's order of MissingDependencies.
var missingDependencies = sortedBy("MissingDependency", func(src []byte, a, b *node) int {
	ra, rb := a.child("Required"), b.child("Required")
	if c := collate(attrOf(src, ra, "type"), attrOf(src, rb, "type")); c != 0 {
		return c
	}
	return collate(attrOf(src, ra, "schemaName"), attrOf(src, rb, "schemaName"))
})

// appModuleComponents is pac's order of AppModuleComponents.
var appModuleComponents = sortedBy("AppModuleComponent", func(src []byte, a, b *node) int {
	if c := collate(attrOf(src, a, "type"), attrOf(src, b, "type")); c != 0 {
		return c
	}
	return collate(attrOf(src, a, "schemaName"), attrOf(src, b, "schemaName"))
})

// emitOrdered appends n with its inner indentation shifted by delta and the
// children of the elements that orders names (by element name, at any
// depth below n) in the order it gives. The whitespace between children
// stays where it was, so only the elements move.
func emitOrdered(dst, src []byte, n *node, delta int, orders map[string]childOrder) []byte {
	if n.self() || len(n.children) == 0 {
		return append(dst, src[n.start:n.end]...)
	}
	kids := n.children
	if ord := orders[n.name]; ord != nil {
		if k := ord(src, n); k != nil {
			kids = k
		}
	}
	dst = append(dst, src[n.start:n.openEnd]...)
	p := n.openEnd
	for i, c := range n.children {
		dst = emitGap(dst, src[p:c.start], delta)
		dst = emitOrdered(dst, src, kids[i], delta, orders)
		p = c.end
	}
	dst = emitGap(dst, src[p:n.closeStart], delta)
	return append(dst, src[n.closeStart:n.end]...)
}

// orderedChildren is a fragmentFile replace function that writes the
// children of item named in orders with their lists sorted (nil when
// orders is empty).
func orderedChildren(src []byte, item *node, orders map[string]childOrder) func([]byte, *node) ([]byte, bool) {
	if len(orders) == 0 {
		return nil
	}
	delta := -max(column(src, item), 0)
	return func(dst []byte, c *node) ([]byte, bool) {
		if orders[c.name] == nil {
			return dst, false
		}
		return emitOrdered(dst, src, c, delta, orders), true
	}
}
