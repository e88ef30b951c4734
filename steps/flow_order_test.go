package steps

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
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

// fabrikamLike is a switching order shaped like fabrikam's flows: six
// flows of one sort order, three of them children of a seventh.
func fabrikamLike() []flowWork {
	items := []flowWork{{ID: "p", Name: "Daily status changes", Activate: true, SortOrder: noSortOrder, Children: []string{"c3", "c1", "c2"}}}
	for _, id := range []string{"c1", "c2", "c3", "x1", "x2", "x3"} {
		items = append(items, flowWork{ID: id, Name: id, Activate: true, SortOrder: noSortOrder})
	}
	return orderFlows(items)
}

func TestFlowWaits(t *testing.T) {
	order := orderFlows([]flowWork{
		{ID: "p", Name: "parent", Activate: true, SortOrder: 1, Children: []string{"c1", "c2"}},
		{ID: "c1", Name: "child 1", Activate: true, SortOrder: 2},
		{ID: "c2", Name: "child 2", Activate: true, SortOrder: 2},
		{ID: "y", Name: "y", Activate: true, SortOrder: 2},
		{ID: "z", Name: "z", Activate: true, SortOrder: 3},
		{ID: "off", Name: "off parent", Activate: false, SortOrder: 3, Children: []string{"offc"}},
		{ID: "offc", Name: "off child", Activate: false, SortOrder: 3},
	})
	got := map[string][]string{}
	for j, ws := range flowWaits(order) {
		for _, i := range ws {
			got[order[j].Name] = append(got[order[j].Name], order[i].Name)
		}
	}
	// The parent (sort order 1) is moved after its children but before y
	// (sort order 2), which therefore waits for it; the flows of sort
	// order 3 wait for everything of another sort order ahead of them, and
	// the child being turned off for its parent.
	want := map[string][]string{
		"parent":     {"child 1", "child 2"},
		"y":          {"parent"},
		"off parent": {"child 1", "child 2", "parent", "y"},
		"off child":  {"child 1", "child 2", "parent", "y", "off parent"},
		"z":          {"child 1", "child 2", "parent", "y"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %q: waits = %q, want %q", names(order), got, want)
	}
}

func TestSwitchInOrderSerialIsTheOrder(t *testing.T) {
	order := fabrikamLike()
	var calls []int
	switchInOrder(order, 1, func(i int) { calls = append(calls, i) })
	if !reflect.DeepEqual(calls, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Fatalf("calls = %v, want the order itself", calls)
	}
}

// TestSwitchInOrderLevelConcurrently proves the six flows of the first
// level are in flight together (each waits until all six have started),
// and the parent starts only after its three children returned.
func TestSwitchInOrderLevelConcurrently(t *testing.T) {
	order := fabrikamLike()
	var mu sync.Mutex
	started, returned := map[string]bool{}, map[string]bool{}
	allStarted := make(chan struct{})
	switchInOrder(order, 8, func(i int) {
		w := order[i]
		mu.Lock()
		if w.ID == "p" {
			for _, c := range w.Children {
				if !returned[c] {
					t.Errorf("parent started before child %s returned", c)
				}
			}
		}
		started[w.ID] = true
		if len(started) == 6 && w.ID != "p" {
			close(allStarted)
		}
		mu.Unlock()
		if w.ID != "p" {
			select {
			case <-allStarted:
			case <-time.After(5 * time.Second):
				t.Errorf("flow %s: the six flows of the first level were not in flight together", w.ID)
			}
		}
		mu.Lock()
		returned[w.ID] = true
		mu.Unlock()
	})
	if len(returned) != 7 {
		t.Fatalf("returned %v, want all 7", returned)
	}
}

func TestSwitchInOrderBoundedAndSortOrdersApart(t *testing.T) {
	var order []flowWork
	for _, n := range []int{1, 1, 1, 1, 2, 2, 2} {
		order = append(order, flowWork{ID: fmt.Sprint(len(order)), Name: fmt.Sprint(len(order)), Activate: true, SortOrder: n})
	}
	var mu sync.Mutex
	inFlight, peak, returned := 0, 0, 0
	switchInOrder(order, 2, func(i int) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if order[i].SortOrder == 2 && returned < 4 {
			t.Errorf("flow %d (sort order 2) started after %d of the 4 flows of sort order 1 returned", i, returned)
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // let the others start, if they may
		mu.Lock()
		inFlight--
		returned++
		mu.Unlock()
	})
	if peak != 2 {
		t.Fatalf("peak in flight = %d, want the limit 2", peak)
	}
}
