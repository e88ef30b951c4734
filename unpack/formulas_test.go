package unpack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// The formula files of the fabrikam export, by the entity whose
// FormulaDefinitionFileName names them.
var fabrikamFormulas = map[string]string{
	"Formulas/contoso_milestone-contoso_numberofopentasks.xaml": "contoso_milestone",
	"Formulas/contoso_outcome-contoso_approveremail.xaml":       "contoso_outcome",
	"Formulas/contoso_outcomelifecycle-bpf_duration.xaml":       "contoso_outcomelifecycle",
	"Formulas/contoso_project-FormulaDefinitions.yaml":          "contoso_project",
	"Formulas/contoso_project-contoso_lengthofproject.xaml":     "contoso_project",
	"Formulas/contoso_project-contoso_totalprojectfunding.xaml": "contoso_project",
}

// SolutionPackager keeps formula files in their entity's folder
// (Entities/<Name>/Formulas/<file>) while the attribute keeps the zip path;
// pack puts them back at Formulas/<file>, unmanaged and Both alike.
func TestUnpackMovesFormulasIntoEntityFolders(t *testing.T) {
	z := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	parts := readZip(t, z)
	for _, pt := range []PackageType{Unmanaged, Both} {
		t.Run(pt.String(), func(t *testing.T) {
			dir, _ := unpackTo(t, z, UnpackOptions{PackageType: pt})
			got := readDir(t, dir)
			for zp, entity := range fabrikamFormulas {
				tp := "Entities/" + entity + "/" + zp
				if len(parts[zp]) == 0 || !bytes.Equal(got[tp], parts[zp]) {
					t.Errorf("%s is not the zip's %s byte for byte", tp, zp)
				}
			}
			for p := range got {
				if strings.HasPrefix(p, "Formulas/") {
					t.Errorf("%s left at the top although its entity references it", p)
				}
			}
			if !bytes.Contains(got["Entities/contoso_project/Entity.xml"], []byte("<FormulaDefinitionFileName>/Formulas/contoso_project-FormulaDefinitions.yaml</FormulaDefinitionFileName>")) {
				t.Errorf("Entity.xml does not keep the zip path in <FormulaDefinitionFileName>")
			}
			out := filepath.Join(t.TempDir(), "Out.zip")
			if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out, PackageType: pt}); err != nil {
				t.Fatal(err)
			}
			outs := []string{out}
			if pt == Both {
				outs = append(outs, ManagedZipName(out))
			}
			for _, o := range outs {
				packed := readZip(t, o)
				for zp := range fabrikamFormulas {
					if !bytes.Equal(packed[zp], parts[zp]) {
						t.Errorf("%s: %s is not the export's part", filepath.Base(o), zp)
					}
				}
				for n := range packed {
					if strings.HasPrefix(n, "Entities/") {
						t.Errorf("%s: tree path %s packed into the zip", filepath.Base(o), n)
					}
				}
			}
			assertEquivalentZips(t, z, out)
		})
	}
}

// A formula file no entity references stays at Formulas/ in the tree, and
// so does one two entities reference.
func TestUnpackKeepsUnclaimedFormulasAtTop(t *testing.T) {
	z := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	parts := readZip(t, z)
	const shared = "Formulas/contoso_outcome-contoso_approveremail.xaml"
	var entries []entry
	for _, n := range sortedNames(parts) {
		data := parts[n]
		if n == customizationsPart {
			// The milestone column now names the outcome's formula too.
			data = bytes.Replace(data, []byte("/Formulas/contoso_milestone-contoso_numberofopentasks.xaml"), []byte("/"+shared), 1)
		}
		entries = append(entries, entry{n, data})
	}
	entries = append(entries, entry{"Formulas/orphan.xaml", []byte("<Activity />")})
	zp := filepath.Join(t.TempDir(), "Fabrikam.zip")
	must(t, os.WriteFile(zp, makeZip(t, entries...), 0o644))

	dir, _ := unpackTo(t, zp, UnpackOptions{})
	got := readDir(t, dir)
	for _, p := range []string{"Formulas/orphan.xaml", shared, "Formulas/contoso_milestone-contoso_numberofopentasks.xaml"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not kept at the top of the tree", p)
		}
	}
	for _, p := range []string{"Entities/contoso_outcome/" + shared, "Entities/contoso_milestone/" + shared} {
		if _, ok := got[p]; ok {
			t.Errorf("%s written although two entities reference the file", p)
		}
	}
	if _, ok := got["Entities/contoso_project/Formulas/contoso_project-FormulaDefinitions.yaml"]; !ok {
		t.Errorf("the project's own formulas were not moved")
	}
	assertEquivalentZips(t, zp, packTo(t, dir, 0))
}

const (
	formulaTestSolution = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ImportExportXml version=\"9.2.25063.213\" SolutionPackageVersion=\"9.2\" languagecode=\"1033\" generatedBy=\"CrmLive\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <SolutionManifest>\n    <UniqueName>KPI</UniqueName>\n    <Version>1.0.0.1</Version>\n    <Managed>0</Managed>\n  </SolutionManifest>\n</ImportExportXml>"
	formulaTestCust     = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ImportExportXml xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <Entities />\n  <Roles />\n  <Workflows />\n  <FieldSecurityProfiles />\n  <Templates />\n  <EntityMaps />\n  <EntityRelationships />\n  <OrganizationSettings />\n  <optionsets />\n  <CustomControls />\n  <EntityDataProviders />\n  <Languages>\n    <Language>1033</Language>\n  </Languages>\n</ImportExportXml>"
	formulaTestXaml     = "<Activity x:Class=\"XrmWorkflow00000000000000000000000000000000\" xmlns=\"http://schemas.microsoft.com/netfx/2009/xaml/activities\">\r\n  <x:Members />\r\n</Activity>"
)

// formulaTestEntity is an Entity.xml as pac writes it, one formula column
// naming ref.
func formulaTestEntity(ref string) string {
	return "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Entity xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <Name LocalizedName=\"Job Position\" OriginalName=\"Job Position\">cr5db_JobPosition</Name>\n  <EntityInfo>\n    <entity Name=\"cr5db_JobPosition\">\n      <attributes>\n        <attribute PhysicalName=\"cr5db_CurrentHeadcount\">\n          <Type>int</Type>\n          <Name>cr5db_currentheadcount</Name>\n          <LogicalName>cr5db_currentheadcount</LogicalName>\n          <FormulaDefinitionFileName>" + ref + "</FormulaDefinitionFileName>\n        </attribute>\n      </attributes>\n    </entity>\n  </EntityInfo>\n  <FormXml />\n  <SavedQueries />\n  <RibbonDiffXml />\n</Entity>"
}

// writeTestTree writes files (by '/' path) under a fresh folder.
func writeTestTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	for p, data := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		must(t, os.MkdirAll(filepath.Dir(fp), 0o755))
		must(t, os.WriteFile(fp, []byte(data), 0o644))
	}
	return dir
}

// violettaTree mirrors the pac tree of violetta-org/kpi-management-system:
// the formula under its entity, the attribute naming /Formulas/<file>.
func violettaTree() map[string]string {
	const f = "cr5db_jobposition-cr5db_currentheadcount.xaml"
	return map[string]string{
		"Other/Solution.xml":                             formulaTestSolution,
		"Other/Customizations.xml":                       formulaTestCust,
		"Entities/cr5db_JobPosition/Entity.xml":          formulaTestEntity("/Formulas/" + f),
		"Entities/cr5db_JobPosition/Formulas/" + f:       formulaTestXaml,
		"Entities/cr5db_JobPosition/Formulas/other.xaml": "<Activity />",
	}
}

// A pac tree with formula files in the entity folder packs them to the zip
// path the attribute names (Formulas/<file> when none does), and unpacking
// that zip gives the tree back.
func TestPackFormulasFromEntityFolder(t *testing.T) {
	dir := writeTestTree(t, violettaTree())
	zp := packTo(t, dir, 0)
	parts := readZip(t, zp)
	const f = "cr5db_jobposition-cr5db_currentheadcount.xaml"
	if got := string(parts["Formulas/"+f]); got != formulaTestXaml {
		t.Errorf("zip Formulas/%s = %q, want the tree file byte for byte", f, got)
	}
	if got := string(parts["Formulas/other.xaml"]); got != "<Activity />" {
		t.Errorf("an unreferenced formula file: zip Formulas/other.xaml = %q, want the fallback path", got)
	}
	for n := range parts {
		if strings.HasPrefix(n, "Entities/") {
			t.Errorf("tree path %s packed into the zip", n)
		}
	}
	if !bytes.Contains(parts[customizationsPart], []byte("<FormulaDefinitionFileName>/Formulas/"+f+"</FormulaDefinitionFileName>")) {
		t.Errorf("customizations.xml lost the attribute's <FormulaDefinitionFileName>")
	}
	again, _ := unpackTo(t, zp, UnpackOptions{})
	got := readDir(t, again)
	if string(got["Entities/cr5db_JobPosition/Formulas/"+f]) != formulaTestXaml {
		t.Errorf("unpack did not put the formula back in the entity folder; files: %v", sortedNames(got))
	}
	if string(got["Formulas/other.xaml"]) != "<Activity />" {
		t.Errorf("the unreferenced formula should come back at Formulas/other.xaml; files: %v", sortedNames(got))
	}
	third, _ := unpackTo(t, packTo(t, again, 0), UnpackOptions{})
	assertSameTree(t, again, third)
}

// The attribute's path wins over the Formulas/<file> default, and files
// that would land on one zip part are refused, naming both.
func TestPackFormulaPaths(t *testing.T) {
	files := violettaTree()
	const f = "cr5db_jobposition-cr5db_currentheadcount.xaml"
	files["Entities/cr5db_JobPosition/Entity.xml"] = formulaTestEntity("/Formulas/v2/" + f)
	parts := readZip(t, packTo(t, writeTestTree(t, files), 0))
	if string(parts["Formulas/v2/"+f]) != formulaTestXaml {
		t.Errorf("formula not packed to the path its attribute names; zip has %v", sortedNames(parts))
	}
	if _, ok := parts["Formulas/"+f]; ok {
		t.Errorf("formula also packed to the default path")
	}

	cases := []struct {
		name string
		edit func(map[string]string)
		want string
	}{
		{"also at the top", func(m map[string]string) { m["Formulas/"+f] = "x" },
			"Formulas/" + f + ": a component file elsewhere in the tree (formula, web resource or connector file) also packs to the zip part Formulas/" + f},
		{"escaping path", func(m map[string]string) {
			m["Entities/cr5db_JobPosition/Entity.xml"] = formulaTestEntity("/../" + f)
		}, "Entities/cr5db_JobPosition/Formulas/" + f + ": the <FormulaDefinitionFileName> of Entities/cr5db_JobPosition/Entity.xml"},
		{"two entities, one part", func(m map[string]string) {
			m["Entities/cr5db_Other/Entity.xml"] = strings.ReplaceAll(formulaTestEntity("/Formulas/"+f), "cr5db_JobPosition", "cr5db_Other")
			m["Entities/cr5db_Other/Formulas/"+f] = "y"
		}, "Entities/cr5db_Other/Formulas/" + f + ": packs to the zip part Formulas/" + f + ", which another formula file already fills"},
		{"deeper folder", func(m map[string]string) { m["Entities/cr5db_JobPosition/Formulas/sub/a.xaml"] = "z" },
			"Entities/cr5db_JobPosition/Formulas/sub/a.xaml: unexpected file in an entity folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := violettaTree()
			c.edit(m)
			_, err := Pack(context.Background(), PackOptions{Folder: writeTestTree(t, m), ZipFile: filepath.Join(t.TempDir(), "x.zip")})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// Some trees carry an Other/Relationships.xml with an empty
// <EntityRelationships /> and no Other/Relationships/ folder, and an
// Other/[Content_Types].xml: they pack, with no relationship and a fresh
// [Content_Types].xml. A list without its files, or an unknown file under
// Other/, is still refused.
func TestPackEmptyRelationshipsList(t *testing.T) {
	const empty = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<EntityRelationships xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" />"
	files := violettaTree()
	files["Other/Relationships.xml"] = empty
	files["Other/[Content_Types].xml"] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"text/xml\" /></Types>"
	parts := readZip(t, packTo(t, writeTestTree(t, files), 0))
	if !bytes.Contains(parts[customizationsPart], []byte("\r\n  <EntityRelationships />\r\n")) {
		t.Errorf("customizations.xml should keep the empty <EntityRelationships />")
	}
	if strings.Contains(string(parts[contentTypesPart]), "text/xml") {
		t.Errorf("[Content_Types].xml copied from the tree instead of generated")
	}
	for n := range parts {
		if strings.HasPrefix(n, "Other/") {
			t.Errorf("tree file %s packed into the zip", n)
		}
	}

	for name, c := range map[string][2]string{
		"listed without files": {"Other/Relationships.xml", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<EntityRelationships xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  <EntityRelationship Name=\"cr5db_a_b\" />\n</EntityRelationships>"},
		"not a list":           {"Other/Relationships.xml", "<Relationships />"},
		"unknown file":         {"Other/ClientSolution.xml", "<x />"},
	} {
		t.Run(name, func(t *testing.T) {
			m := violettaTree()
			m[c[0]] = c[1]
			_, err := Pack(context.Background(), PackOptions{Folder: writeTestTree(t, m), ZipFile: filepath.Join(t.TempDir(), "x.zip")})
			want := map[string]string{
				"listed without files": `Other/Relationships.xml lists <EntityRelationship Name="cr5db_a_b"> (1 in all) but Other/Relationships/ has no <Entity>.xml holding relationships`,
				"not a list":           "Other/Relationships.xml: expected root <EntityRelationships>, found <Relationships>",
				"unknown file":         "Other/ClientSolution.xml: unexpected file in a folder ppalm generates",
			}[name]
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
		})
	}
}
