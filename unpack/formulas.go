package unpack

import (
	"archive/zip"
	"fmt"
	"path"
	"strings"
)

// Formula columns: an attribute's <FormulaDefinitionFileName> names a zip
// part under Formulas/ (a .xaml per column, a FormulaDefinitions.yaml per
// table). SolutionPackager keeps those files in the entity's folder,
// Entities/<Name>/Formulas/<file>, while the attribute keeps the zip path.

// formulaDir is the folder of formula files, at the top of the zip and in
// an entity's tree folder alike.
const formulaDir = "Formulas/"

// formulaRefs returns the zip paths (no leading '/') every
// <FormulaDefinitionFileName> inside n names, in document order.
func formulaRefs(src []byte, n *node) []string {
	var refs []string
	var walk func(*node)
	walk = func(c *node) {
		if c.name == "FormulaDefinitionFileName" {
			if v := trimSlash(c.text(src)); v != "" {
				refs = append(refs, v)
			}
			return
		}
		for _, k := range c.children {
			walk(k)
		}
	}
	walk(n)
	return refs
}

// formulaOwners maps each Formulas/<file> zip part that exactly one entity
// references to that entity's index. A part two entities name, or one the
// zip lacks, is not in the map and stays where it is.
func formulaOwners(src []byte, entities []*node, parts map[string]*zip.File) map[string]int {
	owner := map[string]int{}
	for i, e := range entities {
		for _, z := range formulaRefs(src, e) {
			base, ok := strings.CutPrefix(z, formulaDir)
			if !ok || !safeSegment(base) {
				continue
			}
			if _, ok := parts[z]; !ok {
				continue
			}
			if prev, seen := owner[z]; seen && prev != i {
				owner[z] = -1
				continue
			}
			owner[z] = i
		}
	}
	for z, i := range owner {
		if i < 0 {
			delete(owner, z)
		}
	}
	return owner
}

// formulaZipPath is the zip part of the entity file dir+Formulas/<base>:
// the path a <FormulaDefinitionFileName> of the entity names whose last
// segment is base, else Formulas/<base>.
func formulaZipPath(src []byte, root *node, dir, base string) (string, error) {
	zipPath := ""
	for _, z := range formulaRefs(src, root) {
		if path.Base(z) != base || z == zipPath {
			continue
		}
		if zipPath != "" {
			return "", fmt.Errorf("%s%s%s: %sEntity.xml names it both as /%s and /%s in <FormulaDefinitionFileName>; expected one zip path", dir, formulaDir, base, dir, zipPath, z)
		}
		zipPath = z
	}
	if zipPath == "" {
		zipPath = formulaDir + base
	}
	if err := checkEntryName(zipPath); err != nil {
		return "", fmt.Errorf("%s%s%s: the <FormulaDefinitionFileName> of %sEntity.xml: %w", dir, formulaDir, base, dir, err)
	}
	return zipPath, nil
}
