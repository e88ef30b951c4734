package steps

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

func TestPlanShowsRemovedComponentAndChangesNothing(t *testing.T) {
	e, ds, cds := installFabrikam(t)
	v2 := editZip(t, fixtures.Path("fabrikam-environmental-large", fabrikamManaged), "1.1.11.72", "7faeff67-f0d3-ef11-a730-0022480b5362")
	c := deployContext(e.Client(t, "test"), v2)
	c.Deployment, c.Custom, c.Upgrade = ds, cds, UpgradeAlways
	before := e.changes("test")
	p, err := Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != ImportUpgrade || !slices.Equal(p.Removed, []string{"process Set Project End Date"}) || len(p.Added) != 0 {
		t.Errorf("plan:\n%s\nremoved %q added %q", p, p.Removed, p.Added)
	}
	// The settings were made for 1.1.11.71: their entries for the dropped
	// flow are gaps of this plan, and nothing else is.
	if len(p.Gaps) != 3 {
		t.Errorf("gaps: %q", p.Gaps)
	}
	for _, g := range p.Gaps {
		if !strings.Contains(g, "7faeff67-f0d3-ef11-a730-0022480b5362") {
			t.Errorf("gap %q is not about the dropped flow", g)
		}
	}
	if e.changes("test") != before {
		t.Error("plan changed the target")
	}
	ds.ConnectionReferences[0].ConnectionID = ""
	p, err = Plan(context.Background(), c)
	if err != nil || len(p.Gaps) == 0 || !strings.Contains(strings.Join(p.Gaps, "\n"), "is not bound") {
		t.Errorf("gaps after unbinding: %q %v", p.Gaps, err)
	}
}
