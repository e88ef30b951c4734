package gitops

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestBranchesOfARemote(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	if _, err := Commit(ctx, baseOptions(rem.url, solutionFolder(t))); err != nil {
		t.Fatal(err)
	}
	got, err := Branches(ctx, rem.url, token)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"feature/forms", "main"}) {
		t.Fatalf("branches %v", got)
	}
	if _, err := Branches(ctx, rem.url, "wrong-token"); err == nil || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("bad token: %v", err)
	}
}
