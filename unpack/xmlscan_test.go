package unpack

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// The tree scanXML builds from every fixture's manifests has the elements
// encoding/xml reads, nested the same way, each located at its own tags:
// the nodes and children slices are cut from shared blocks, so one element
// taking another's children would show here.
func TestScanXMLMatchesEncodingXML(t *testing.T) {
	for _, z := range allZips(t) {
		parts := readZip(t, z)
		for _, name := range []string{solutionPart, customizationsPart} {
			src := normalizeXML(parts[name])
			root, err := scanXML(src)
			if err != nil {
				t.Fatalf("%s %s: %v", filepath.Base(z), name, err)
			}
			var got strings.Builder
			var walk func(n *node, depth int)
			walk = func(n *node, depth int) {
				if src[n.start] != '<' || !bytes.HasPrefix(src[n.start+1:], []byte(n.name)) || src[n.end-1] != '>' {
					t.Fatalf("%s %s: <%s> at %d..%d is not at its tags", filepath.Base(z), name, n.name, n.start, n.end)
				}
				if !n.self() && !bytes.HasPrefix(src[n.closeStart:], []byte("</"+n.name)) {
					t.Fatalf("%s %s: <%s> closes at %d, not at its end tag", filepath.Base(z), name, n.name, n.closeStart)
				}
				fmt.Fprintf(&got, "%d %s\n", depth, n.name)
				for _, c := range n.children {
					walk(c, depth+1)
				}
			}
			walk(root, 0)
			var want strings.Builder
			d := xml.NewDecoder(bytes.NewReader(src))
			depth := 0
			for {
				tok, err := d.RawToken()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s %s: encoding/xml: %v", filepath.Base(z), name, err)
				}
				switch e := tok.(type) {
				case xml.StartElement:
					fmt.Fprintf(&want, "%d %s\n", depth, qname(e.Name))
					depth++
				case xml.EndElement:
					depth--
				}
			}
			if got.String() != want.String() {
				t.Errorf("%s %s: element tree differs from encoding/xml's: %s", filepath.Base(z), name, firstDiff(want.String(), got.String()))
			}
		}
	}
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// Malformed XML is refused with the reason, whatever path the scanner takes
// (attribute names are compared in place for the first few, through a map
// past them).
func TestScanXMLRefuses(t *testing.T) {
	many := func(n int, dup string) string {
		var b strings.Builder
		b.WriteString("<a")
		for i := range n {
			fmt.Fprintf(&b, ` x%d="1"`, i)
		}
		b.WriteString(dup)
		b.WriteString("/>")
		return b.String()
	}
	for _, c := range []struct{ doc, want string }{
		{`<a x="1" x="2"/>`, "attribute x repeated in <a>"},
		{`<a x="1" y="2" x="3"></a>`, "attribute x repeated in <a>"},
		{many(16, ` x3="2"`), "attribute x3 repeated in <a>"},
		{many(40, ` x30="2"`), "attribute x30 repeated in <a>"},
		{many(40, ` x39="2"`), "attribute x39 repeated in <a>"},
		{`<a><b></a></b>`, "end tag </a> does not match <b>"},
		{`<a><b>`, "element <b> is never closed"},
		{`<a/><b/>`, "second root element <b>"},
		{`</a>`, "end tag </a> without a start tag"},
		{`<!DOCTYPE a><a/>`, "DOCTYPE"},
		{`<a x="<"/>`, "'<' in the value of attribute x in <a>"},
		{`<a>&bogus;</a>`, "unknown entity &bogus;"},
		{``, "no root element"},
	} {
		_, err := scanXML([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("scanXML(%.60q) = %v, want an error with %q", c.doc, err, c.want)
		}
	}
	for _, ok := range []string{many(16, ""), many(40, ""), `<a><!-- </b> <c> --><b x="1" y="2"/><![CDATA[</d>]]></a>`} {
		if _, err := scanXML([]byte(ok)); err != nil {
			t.Errorf("scanXML(%.60q): %v", ok, err)
		}
	}
}

// normalizeOwnedXML, done in place, gives what normalizeXML gives.
func TestNormalizeOwnedXML(t *testing.T) {
	for _, s := range []string{"", "\r\n", "a", "a\r\nb", "a\r\nb\r\n", "\r\n\r\n", "\r\r\n\n", "a\rb\r\nc\r", "\xEF\xBB\xBF<a>\r\n  <b/>\r\n</a>", "\xEF\xBB\xBFx", "x\r"} {
		want := string(normalizeXML([]byte(s)))
		if got := string(normalizeOwnedXML([]byte(s))); got != want {
			t.Errorf("normalizeOwnedXML(%q) = %q, want %q", s, got, want)
		}
	}
}
