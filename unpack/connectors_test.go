package unpack

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// SolutionPackager writes each custom connector as Connectors/<name>.xml and
// moves the files it names from the zip's Connector/ folder to Connectors/
// (seen in pac trees of community samples); the XML keeps the /Connector/
// paths and pack moves the files back.
func TestUnpackSplitsCustomConnectors(t *testing.T) {
	z := fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip")
	parts := readZip(t, z)
	dir, _ := unpackTo(t, z, UnpackOptions{})
	got := readDir(t, dir)

	x, ok := got["Connectors/dem_inventorymanager.xml"]
	if !ok {
		t.Fatalf("no Connectors/dem_inventorymanager.xml; files: %v", sortedNames(got))
	}
	wantHead := string(xmlHeader) + "<Connector" + xsiDecl + ">\n  <connectorid>bedc080f-9be1-4f80-9f35-c630109a6b89</connectorid>\n  <description></description>\n"
	if !strings.HasPrefix(string(x), wantHead) || !strings.HasSuffix(string(x), "\n  <iconblob>/Connector/dem_inventorymanager_iconblob.Png</iconblob>\n</Connector>") {
		t.Errorf("Connectors/dem_inventorymanager.xml:\n%s\nwant it to start with\n%s", x, wantHead)
	}
	for _, base := range []string{"openapidefinition.json", "connectionparameters.json", "policytemplateinstances.json", "iconblob.Png"} {
		f := "dem_inventorymanager_" + base
		if !bytes.Equal(got["Connectors/"+f], parts["Connector/"+f]) || len(parts["Connector/"+f]) == 0 {
			t.Errorf("Connectors/%s is not the zip's Connector/%s byte for byte", f, f)
		}
		if _, ok := got["Connector/"+f]; ok {
			t.Errorf("Connector/%s was also copied verbatim", f)
		}
	}
	if !bytes.Contains(got["Other/Customizations.xml"], []byte("\n  <Connectors />\n")) {
		t.Errorf("Other/Customizations.xml does not leave <Connectors /> behind")
	}

	packed := packTo(t, dir, 0)
	assertEquivalentZips(t, z, packed)
	if _, ok := readZip(t, packed)["Connectors/dem_inventorymanager_iconblob.Png"]; ok {
		t.Errorf("pack kept the tree's Connectors/ folder in the zip")
	}
}

// A connector file name that could be taken for a connector's XML keeps the
// section inline, and the files stay verbatim under Connector/.
func TestUnpackConnectorXMLFileNameStaysInline(t *testing.T) {
	parts := readZip(t, fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"))
	const from, to = "Connector/dem_inventorymanager_iconblob.Png", "Connector/dem_inventorymanager_iconblob.xml"
	var entries []entry
	for _, n := range sortedNames(parts) {
		data := parts[n]
		switch n {
		case customizationsPart:
			data = bytes.Replace(data, []byte("/"+from), []byte("/"+to), 1)
		case from:
			n, data = to, []byte("<icon />")
		}
		entries = append(entries, entry{n, data})
	}
	z := filepath.Join(t.TempDir(), "PL400Demos.zip")
	must(t, os.WriteFile(z, makeZip(t, entries...), 0o644))

	dir, _ := unpackTo(t, z, UnpackOptions{})
	got := readDir(t, dir)
	for p := range got {
		if strings.HasPrefix(p, "Connectors/") {
			t.Errorf("%s written although the connector cannot be split", p)
		}
	}
	if _, ok := got[to]; !ok {
		t.Errorf("%s not copied verbatim", to)
	}
	if !bytes.Contains(got["Other/Customizations.xml"], []byte("<name>dem_inventorymanager</name>")) {
		t.Errorf("the connector is not inline in Other/Customizations.xml")
	}
	assertEquivalentZips(t, z, packTo(t, dir, 0))
}
