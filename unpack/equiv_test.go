package unpack

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// unorderedChildren lists the elements whose children a SolutionPackager
// tree cannot keep in export order (the server's order is not derivable
// from the components: workflows, views and forms come in database order).
// Pack writes them sorted; the comparison treats them as sets. Everything
// else, including entity and relationship order, must match exactly.
var unorderedChildren = map[string]bool{
	"ImportExportXml/Workflows":                                 true,
	"ImportExportXml/Roles":                                     true,
	"ImportExportXml/optionsets":                                true,
	"ImportExportXml/Dashboards":                                true,
	"ImportExportXml/WebResources":                              true,
	"ImportExportXml/AppModules":                                true,
	"ImportExportXml/AppModuleSiteMaps":                         true,
	"ImportExportXml/CanvasApps":                                true,
	"ImportExportXml/SdkMessageProcessingSteps":                 true,
	"ImportExportXml/CustomControls":                            true,
	"ImportExportXml/SolutionPluginAssemblies":                  true,
	"ImportExportXml/Entities/Entity/FormXml":                   true,
	"ImportExportXml/Entities/Entity/FormXml/forms":             true,
	"ImportExportXml/Entities/Entity/SavedQueries/savedqueries": true,
	"FormXml":       true, // formsOf compares FormXml fragments
	"FormXml/forms": true,
	"ImportExportXml/Entities/Entity/Visualizations": true,
	// pac sorts these lists on unpack (order.go); the export order is lost.
	"ImportExportXml/AppModules/AppModule/AppModuleComponents": true,
	"ImportExportXml/SolutionManifest/MissingDependencies":     true,
	// Exports list RootComponents by type as a number, pac's trees (and the
	// zips pac packs from them) by type as text; pack writes the export's
	// order (TestPackRestoresExportRootComponentOrder), import reads both.
	"ImportExportXml/SolutionManifest/RootComponents": true,
}

type cnode struct {
	name     string
	attrs    []string
	text     string
	children []*cnode
}

// canonicalXML parses b and renders it canonically: namespace-resolved
// names, sorted attributes without namespace declarations, whitespace-only
// text dropped, comments and processing instructions dropped.
func canonicalXML(b []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, bom)))
	var stack []*cnode
	root := &cnode{}
	stack = append(stack, root)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &cnode{name: t.Name.Space + ":" + t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.attrs = append(n.attrs, a.Name.Space+":"+a.Name.Local+"="+a.Value)
			}
			sort.Strings(n.attrs)
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			// An email template's presentation XML is re-serialised on
			// unpack, as SolutionPackager does (sections.go): whitespace
			// between its elements is not part of the template.
			if t.Name.Local == "presentationxml" || t.Name.Local == "subjectpresentationxml" {
				if n := normalizePresentation(top.text); n != nil {
					top.text = string(n)
				}
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if s := string(t); strings.TrimSpace(s) != "" {
				top.text += s
			}
		}
	}
	var sb strings.Builder
	for _, c := range root.children {
		sb.WriteString(render(c, ""))
	}
	return sb.String(), nil
}

func render(n *cnode, parent string) string {
	local := n.name[strings.IndexByte(n.name, ':')+1:]
	p := local
	if parent != "" {
		p = parent + "/" + local
	}
	kids := make([]string, len(n.children))
	for i, c := range n.children {
		kids[i] = render(c, p)
	}
	if unorderedChildren[p] {
		sort.Strings(kids)
	}
	return fmt.Sprintf("<%s %q>%q%s</>", n.name, n.attrs, n.text, strings.Join(kids, ""))
}

// readZip returns the entries of a zip by name.
func readZip(t testing.TB, p string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", p, f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

// assertEquivalentZips: same entry names; XML equal canonically; JSON equal
// parsed; everything else byte-equal. [Content_Types].xml is regenerated
// and only checked for being well-formed.
func assertEquivalentZips(t *testing.T, want, got string) {
	t.Helper()
	assertEquivalentZipsOpt(t, want, got, false)
}

// assertEquivalentZipsOpt with foldCR compares text parts modulo CRLF, for
// reference trees whose git checkout normalised line endings.
func assertEquivalentZipsOpt(t *testing.T, want, got string, foldCR bool) {
	t.Helper()
	assertEquivalentZipsSkip(t, want, got, foldCR, nil)
}

// assertEquivalentZipsSkip leaves the parts skip names out of the byte
// comparison (they must still both be there).
func assertEquivalentZipsSkip(t *testing.T, want, got string, foldCR bool, skip func(string) bool) {
	t.Helper()
	w, g := readZip(t, want), readZip(t, got)
	if !reflect.DeepEqual(sortedNames(w), sortedNames(g)) {
		t.Fatalf("entries differ:\nwant %v\ngot  %v", sortedNames(w), sortedNames(g))
	}
	for name, wb := range w {
		gb := g[name]
		if skip != nil && skip(name) {
			continue
		}
		if foldCR && utf8.Valid(wb) && utf8.Valid(gb) {
			wb, gb = stripBOMCR(wb), stripBOMCR(gb)
		}
		if err := equivalentPart(name, wb, gb); err != nil {
			t.Errorf("%s vs %s: %s: %v", filepath.Base(want), filepath.Base(got), name, err)
		}
	}
}

func equivalentPart(name string, wb, gb []byte) error {
	switch {
	case name == contentTypesPart:
		_, err := canonicalXML(gb)
		return err
	case strings.HasSuffix(strings.ToLower(name), ".xml"):
		cw, err := canonicalXML(wb)
		if err != nil {
			return fmt.Errorf("original: %w", err)
		}
		cg, err := canonicalXML(gb)
		if err != nil {
			return fmt.Errorf("packed: %w", err)
		}
		if cw != cg {
			return fmt.Errorf("XML differs canonically (%s)", firstDiff(cw, cg))
		}
	case strings.HasSuffix(strings.ToLower(name), ".json"):
		var jw, jg any
		if err := json.Unmarshal(bytes.TrimPrefix(wb, bom), &jw); err != nil {
			if !bytes.Equal(wb, gb) {
				return fmt.Errorf("unparsable JSON differs")
			}
			return nil
		}
		if err := json.Unmarshal(bytes.TrimPrefix(gb, bom), &jg); err != nil {
			return fmt.Errorf("packed JSON: %w", err)
		}
		if !reflect.DeepEqual(jw, jg) {
			return fmt.Errorf("JSON differs")
		}
	default:
		if !bytes.Equal(wb, gb) {
			return fmt.Errorf("bytes differ (%d vs %d bytes)", len(wb), len(gb))
		}
	}
	return nil
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-150, 0)
	return fmt.Sprintf("at %d: want …%s… got …%s…", i, a[lo:min(i+150, len(a))], b[lo:min(i+150, len(b))])
}

func sortedNames(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readDir returns every file under dir by '/' path.
func readDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
