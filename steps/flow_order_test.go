package steps

import (
	"reflect"
	"testing"
)

func names(ws []flowWork) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Name)
	}
	return out
}

func TestOrderFlowsChildrenBeforeParents(t *testing.T) {
	// The parent has the lowest sort order, yet its three children must be
	// turned on first; the children keep their own sort order.
	items := []flowWork{
		{ID: "p", Name: "Daily status changes", Activate: true, SortOrder: 1, Children: []string{"c3", "c1", "c2"}},
		{ID: "c1", Name: "Cancel expired milestones", Activate: true, SortOrder: 5},
		{ID: "c2", Name: "Change project status", Activate: true, SortOrder: 3},
		{ID: "c3", Name: "Cancel expired outcomes", Activate: true, SortOrder: noSortOrder},
		{ID: "x", Name: "Request Approval", Activate: true, SortOrder: 2},
	}
	got := names(orderFlows(items))
	want := []string{"Request Approval", "Change project status", "Cancel expired milestones", "Cancel expired outcomes", "Daily status changes"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %q, want %q", got, want)
	}
}

func TestOrderFlowsDeactivationParentsFirst(t *testing.T) {
	items := []flowWork{
		{ID: "c", Name: "child", Activate: false, SortOrder: 1},
		{ID: "p", Name: "parent", Activate: false, SortOrder: 2, Children: []string{"c"}},
		{ID: "q", Name: "other", Activate: true, SortOrder: 0, Children: []string{"c"}}, // different direction: no edge
	}
	got := names(orderFlows(items))
	want := []string{"other", "parent", "child"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %q, want %q", got, want)
	}
}

func TestOrderFlowsCycleTerminates(t *testing.T) {
	items := []flowWork{
		{ID: "a", Name: "a", Activate: true, SortOrder: 2, Children: []string{"b"}},
		{ID: "b", Name: "b", Activate: true, SortOrder: 1, Children: []string{"a"}},
	}
	if got := names(orderFlows(items)); !reflect.DeepEqual(got, []string{"b", "a"}) {
		t.Fatalf("order = %q", got)
	}
}
