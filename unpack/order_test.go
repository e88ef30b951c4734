package unpack

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

var (
	rootComponentRE  = regexp.MustCompile(`<RootComponent type="([^"]*)"[^>]*?(?:schemaName|id)="([^"]*)"`)
	requiredRE       = regexp.MustCompile(`<Required type="([^"]*)"(?: schemaName="([^"]*)")?`)
	appComponentRE   = regexp.MustCompile(`<AppModuleComponent type="([^"]*)"(?: schemaName="([^"]*)")?`)
	rootComponentsRE = regexp.MustCompile(`(?s)<RootComponents>.*</RootComponents>`)
)

// Unpack writes the lists pac 1.20+ sorts in pac's order: RootComponents by
// type as text keeping the export order within a type, MissingDependencies
// by Required type and schemaName, AppModuleComponents by type and
// schemaName. Pack writes RootComponents back in the export's order.
func TestUnpackSortsListsAsPac(t *testing.T) {
	z := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	export := string(normalizeXML(readZip(t, z)[solutionPart]))
	dir, _ := unpackTo(t, z, UnpackOptions{})
	tree := readDir(t, dir)
	sol := string(tree["Other/Solution.xml"])

	exported := rootComponentRE.FindAllStringSubmatch(export, -1)
	want := slices.Clone(exported)
	slices.SortStableFunc(want, func(a, b []string) int { return strings.Compare(a[1], b[1]) })
	got := rootComponentRE.FindAllStringSubmatch(sol, -1)
	if len(got) != len(want) || len(got) < 10 {
		t.Fatalf("%d root components in the tree, %d in the export", len(got), len(want))
	}
	for i := range want {
		if got[i][1] != want[i][1] || got[i][2] != want[i][2] {
			t.Fatalf("root component %d is type %s %s, want type %s %s (by type as text, export order within a type)", i, got[i][1], got[i][2], want[i][1], want[i][2])
		}
	}
	if slices.EqualFunc(exported, got, func(a, b []string) bool { return a[0] == b[0] }) {
		t.Fatalf("the fixture's export order is already pac's; the test shows nothing")
	}

	deps := requiredRE.FindAllStringSubmatch(sol, -1)
	if len(deps) < 2 {
		t.Fatalf("only %d missing dependencies", len(deps))
	}
	for i := 1; i < len(deps); i++ {
		if c := collate(deps[i-1][1], deps[i][1]); c > 0 || (c == 0 && collate(deps[i-1][2], deps[i][2]) > 0) {
			t.Errorf("MissingDependencies out of order at %d: %v before %v", i, deps[i-1][1:], deps[i][1:])
		}
	}

	apps := 0
	for p, b := range tree {
		if !strings.HasPrefix(p, "AppModules/") {
			continue
		}
		apps++
		comps := appComponentRE.FindAllStringSubmatch(string(b), -1)
		for i := 1; i < len(comps); i++ {
			if c := collate(comps[i-1][1], comps[i][1]); c > 0 || (c == 0 && collate(comps[i-1][2], comps[i][2]) > 0) {
				t.Errorf("%s: AppModuleComponents out of order at %d: %v before %v", p, i, comps[i-1][1:], comps[i][1:])
			}
		}
	}
	if apps == 0 {
		t.Fatal("no model-driven app in the tree")
	}

	// Pack restores the export's list, whatever order the tree has.
	packed := string(normalizeXML(readZip(t, packTo(t, dir, 0))[solutionPart]))
	if rootComponentsRE.FindString(packed) != rootComponentsRE.FindString(export) {
		t.Errorf("packed RootComponents differ from the export's")
	}
}

// A tree in the older numeric order (SolutionPackager before 1.20) packs
// to the same RootComponents.
func TestPackRestoresExportRootComponentOrder(t *testing.T) {
	z := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	export := string(normalizeXML(readZip(t, z)[solutionPart]))
	dir, _ := unpackTo(t, z, UnpackOptions{})
	p := filepath.Join(dir, "Other", "Solution.xml")
	b, err := os.ReadFile(p)
	must(t, err)
	numeric := rootComponentsRE.ReplaceAllLiteralString(string(b), rootComponentsRE.FindString(export))
	must(t, os.WriteFile(p, []byte(numeric), 0o644))
	packed := string(normalizeXML(readZip(t, packTo(t, dir, 0))[solutionPart]))
	if rootComponentsRE.FindString(packed) != rootComponentsRE.FindString(export) {
		t.Errorf("packed RootComponents of a numeric-order tree differ from the export's")
	}
}

func TestCollate(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"1", "183"}, {"183", "20"}, {"300", "9"}, // types as text
		{"appactionrule", "botcomponentcollection"}, {"botcomponentcollection", "SettingDefinition"}, // case-insensitive
		{"a_b", "a1"}, {"a1", "ab"}, // punctuation, digits, letters
		{"account", "Account"}, // lower case first on a tie
	} {
		if collate(c.a, c.b) >= 0 || collate(c.b, c.a) <= 0 {
			t.Errorf("collate(%q, %q) = %d, want %q first", c.a, c.b, collate(c.a, c.b), c.a)
		}
	}
}

// The real exports list MissingDependencies already in pac's order; with
// the Fabrikam export's list reversed, unpack still writes pac's order.
func TestUnpackSortsMissingDependencies(t *testing.T) {
	z := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	parts := readZip(t, z)
	var entries []entry
	for _, n := range sortedNames(parts) {
		entries = append(entries, entry{n, parts[n]})
	}
	sol := string(parts[solutionPart])
	deps := regexp.MustCompile(`(?s)<MissingDependency>.*?</MissingDependency>`).FindAllString(sol, -1)
	if len(deps) < 3 {
		t.Fatalf("only %d missing dependencies", len(deps))
	}
	block := regexp.MustCompile(`(?s)(<MissingDependencies>\s*)(.*</MissingDependency>)`)
	reversed := slices.Clone(deps)
	slices.Reverse(reversed)
	edited := block.ReplaceAllLiteralString(sol, "<MissingDependencies>\r\n      "+strings.Join(reversed, "\r\n      "))
	if edited == sol || !strings.Contains(edited, reversed[0]+"\r\n      "+reversed[1]) {
		t.Fatal("the MissingDependencies were not reversed")
	}
	sol = edited
	zp := filepath.Join(t.TempDir(), "Reversed.zip")
	must(t, os.WriteFile(zp, makeZip(t, replaced(entries, solutionPart, []byte(sol))...), 0o644))
	dir, _ := unpackTo(t, zp, UnpackOptions{})
	got := requiredRE.FindAllStringSubmatch(string(readDir(t, dir)["Other/Solution.xml"]), -1)
	want := requiredRE.FindAllStringSubmatch(string(parts[solutionPart]), -1)
	if len(got) != len(want) {
		t.Fatalf("%d missing dependencies after unpack, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i][0] != want[i][0] {
			t.Fatalf("missing dependency %d: %s, want %s", i, got[i][0], want[i][0])
		}
	}
}
