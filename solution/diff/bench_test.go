package diff

import (
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// BenchmarkCompareLarge reads and compares the largest real export in the
// fixtures (FabrikamEnvironmental, 1.9 MB, 15 tables, 3 apps) with its
// managed twin.
func BenchmarkCompareLarge(b *testing.B) {
	um := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	m := fixtures.Path("fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	for b.Loop() {
		x, err := ReadFile(um)
		if err != nil {
			b.Fatal(err)
		}
		y, err := ReadFile(m)
		if err != nil {
			b.Fatal(err)
		}
		if r := Compare(x, y); r.Same() {
			b.Fatal("no changes between unmanaged and managed")
		}
	}
}
