package unpack

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// pacPair is a solution export with the tree SolutionPackager (pac)
// unpacked from it.
type pacPair struct {
	name string
	tree string // the unpacked folder
	zip  string // the unmanaged zip, or the managed one for a managed tree
	// packageType is what pac was asked for: Both for Managed=2 trees.
	packageType PackageType
	// partial: a Both tree next to its unmanaged zip only; the _managed
	// files and <Managed>2</Managed> are not compared.
	partial bool
}

// pacPairs are the committed exact pairs, plus every pair under
// $PPALM_PAC_PAIRS: folders holding pair.json ({"managed": "0"|"1"|"2",
// "partial": bool}), the zip(s) as Name.zip / Name_managed.zip and the
// tree as unpacked/. That lets real pairs from public repositories whose
// licences keep them out of fixtures/ be checked on a developer's machine.
func pacPairs(t *testing.T) []pacPair {
	t.Helper()
	var pairs []pacPair
	for _, name := range []string{"qa-assessment-managed", "dynamic-forms", "sharepoint-site-creation-bot"} {
		zips, _ := filepath.Glob(fixtures.Path(name, "*.zip"))
		pairs = append(pairs, pacPair{name: name, tree: fixtures.Path(name, "unpacked"), zip: zips[0]})
	}
	dir := os.Getenv("PPALM_PAC_PAIRS")
	if dir == "" {
		return pairs
	}
	metas, _ := filepath.Glob(filepath.Join(dir, "*", "pair.json"))
	for _, m := range metas {
		var meta struct {
			Managed string
			Partial bool
		}
		b, err := os.ReadFile(m)
		must(t, err)
		must(t, json.Unmarshal(b, &meta))
		d := filepath.Dir(m)
		zips, _ := filepath.Glob(filepath.Join(d, "*.zip"))
		p := pacPair{name: filepath.Base(d), tree: filepath.Join(d, "unpacked"), partial: meta.Partial}
		for _, z := range zips {
			managed := strings.HasSuffix(z, "_managed.zip")
			if (meta.Managed == "1") == managed {
				p.zip = z
			}
		}
		if meta.Managed == "2" && !meta.Partial {
			p.packageType = Both
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// treeFiles reads a pac tree as ppalm would unpack it: files beside the
// tree (top-level files, folders no export holds, pac's canvas sources)
// left out.
func treeFiles(t *testing.T, dir string, ours map[string][]byte) map[string][]byte {
	t.Helper()
	oursTop := map[string]bool{}
	for p := range ours {
		top, _, _ := strings.Cut(p, "/")
		oursTop[strings.ToLower(top)] = true
	}
	for _, f := range treeFolders {
		oursTop[strings.ToLower(f)] = true
	}
	out := map[string][]byte{}
	for p, b := range readDir(t, dir) {
		top, _, nested := strings.Cut(p, "/")
		if !nested || !oursTop[strings.ToLower(top)] || strings.HasPrefix(p, canvasSourcePrefix) {
			continue
		}
		out[p] = b
	}
	return out
}

// rebuiltByPac: with --processCanvasApps pac rebuilds each .msapp from its
// sources, so those bytes are pac's, not the export's.
func rebuiltByPac(tree map[string][]byte, p string) bool {
	return strings.HasPrefix(p, "CanvasApps/") && strings.HasSuffix(p, ".msapp") && hasPrefix(tree, canvasSourcePrefix)
}

func hasPrefix(files map[string][]byte, prefix string) bool {
	for p := range files {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// ppalm's unpack of each export is the tree pac wrote, file for file, byte
// for byte (BOM and CRLF aside).
func TestUnpackMatchesSolutionPackagerTrees(t *testing.T) {
	for _, pair := range pacPairs(t) {
		t.Run(pair.name, func(t *testing.T) {
			pt := pair.packageType
			if pair.partial {
				pt = Unmanaged
			}
			dir, _ := unpackTo(t, pair.zip, UnpackOptions{PackageType: pt})
			got := readDir(t, dir)
			all := readDir(t, pair.tree)
			want := treeFiles(t, pair.tree, got)
			for p := range want {
				if pair.partial && strings.HasSuffix(p, "_managed.xml") {
					delete(want, p)
				}
			}
			if !reflect.DeepEqual(sortedNames(want), sortedNames(got)) {
				t.Fatalf("file sets differ:\nonly pac's: %v\nonly ours:  %v", onlyIn(want, got), onlyIn(got, want))
			}
			for p, w := range want {
				g := got[p]
				if rebuiltByPac(all, p) {
					continue
				}
				if pair.partial && p == "Other/Solution.xml" {
					w = bytes.Replace(w, []byte("<Managed>2</Managed>"), []byte("<Managed>0</Managed>"), 1)
				}
				if !bytes.Equal(stripBOMCR(w), stripBOMCR(g)) {
					t.Errorf("%s differs:\n%s", p, firstDiff(string(stripBOMCR(w)), string(stripBOMCR(g))))
				}
			}
		})
	}
}

func onlyIn(a, b map[string][]byte) []string {
	var out []string
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Packing pac's tree gives a zip equivalent to the export: every part, and
// every component in customizations.xml.
func TestPackSolutionPackagerTrees(t *testing.T) {
	for _, pair := range pacPairs(t) {
		t.Run(pair.name, func(t *testing.T) {
			// Only the solution's own files: the tree may sit among
			// a repository's other files.
			ours, _ := unpackTo(t, pair.zip, UnpackOptions{PackageType: pair.packageType})
			all := readDir(t, pair.tree)
			clean := filepath.Join(t.TempDir(), "tree")
			for p, b := range treeFiles(t, pair.tree, readDir(t, ours)) {
				writeFile(t, clean, p, string(b))
			}
			pt := pair.packageType
			if pair.partial {
				pt = Unmanaged
			}
			out := filepath.Join(t.TempDir(), "Packed.zip")
			if _, err := Pack(t.Context(), PackOptions{Folder: clean, ZipFile: out, PackageType: pt}); err != nil {
				t.Fatal(err)
			}
			skip := func(name string) bool { return rebuiltByPac(all, name) }
			assertEquivalentZipsSkip(t, pair.zip, out, true, skip)
			if pt == Both {
				assertEquivalentZipsSkip(t, ManagedZipName(pair.zip), ManagedZipName(out), true, skip)
			}
		})
	}
}
