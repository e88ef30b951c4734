package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/settings"
)

func TestValidateAgainstTarget(t *testing.T) {
	e, ds, cds := installFabrikam(t)
	dv := e.Client(t, "test")
	sol := mustRead(t, fixtures.Path("fabrikam-environmental-large", fabrikamManaged))
	if probs := ValidateAgainstTarget(context.Background(), dv, sol, ds, cds); len(probs) != 0 {
		t.Fatalf("valid settings: %v", probs)
	}
	// Swap the two connections (wrong connector each), name an unknown
	// connection, an unknown owner and an unknown group.
	crs := ds.ConnectionReferences
	crs[0].ConnectionID, crs[1].ConnectionID = crs[1].ConnectionID, crs[0].ConnectionID
	ds.ConnectionReferences = append(ds.ConnectionReferences, settings.ConnectionReferenceSetting{LogicalName: "x_extra", ConnectionID: "nosuchconnection"})
	cds.SolutionComponentOwnershipConfiguration[0].OwnerEmail = "ghost@contoso.example"
	cds.AadGroupTeamConfiguration = []settings.GroupTeam{{AadGroupTeamName: "T", AadSecurityGroupID: "6a0b1c2d-0000-4000-8000-0000000000ff"}}
	before := e.changes("test")
	probs := ValidateAgainstTarget(context.Background(), dv, sol, ds, cds)
	var got []string
	for _, p := range probs {
		got = append(got, p.Check+" "+p.Entry+": "+p.Message)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"target-connection-connector ConnectionReferences[0].ConnectionId",
		"target-connection-connector ConnectionReferences[1].ConnectionId",
		"target-connection-missing ConnectionReferences[2].ConnectionId: connection nosuchconnection does not exist",
		`target-user SolutionComponentOwnershipConfiguration[0].ownerEmail: user "ghost@contoso.example" is not a user of`,
		"target-group AadGroupTeamConfiguration[0].aadSecurityGroupId: Entra group 6a0b1c2d-0000-4000-8000-0000000000ff does not exist",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems lack %q:\n%s", want, joined)
		}
	}
	if len(probs) != 5 {
		t.Errorf("%d problems, want 5:\n%s", len(probs), joined)
	}
	if e.changes("test") != before {
		t.Error("validation changed the target")
	}
}
