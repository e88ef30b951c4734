package steps

import (
	"math"
	"slices"
)

// flowWork is one flow the activate-flows step turns on or off.
type flowWork struct {
	ID       string // workflow id, lower case
	Name     string
	Activate bool // true: turn on; false: turn off
	// SortOrder comes from ActivateFlowConfiguration; math.MaxInt when none.
	SortOrder int
	// Children are the workflow ids of the child flows this flow calls.
	Children []string
}

// orderFlows returns the flows in the order they are switched: by
// SortOrder (then name), except that a flow being turned on comes after
// every child it calls that is also being turned on (the service refuses to
// turn on a parent whose child is off), and a flow being turned off comes
// before the children it calls that are also being turned off (so no
// running parent ever calls a stopped child). A dependency cycle, which the
// service itself does not allow, is broken at the lowest sort order.
func orderFlows(items []flowWork) []flowWork {
	byID := make(map[string]int, len(items))
	for i, it := range items {
		byID[it.ID] = i
	}
	// before[i] lists the items that must come before item i.
	waiting := make([]int, len(items))
	after := make([][]int, len(items))
	for i, it := range items {
		for _, c := range it.Children {
			j, ok := byID[c]
			if !ok || j == i || items[j].Activate != it.Activate {
				continue
			}
			if it.Activate { // child j before parent i
				after[j] = append(after[j], i)
				waiting[i]++
			} else { // parent i before child j
				after[i] = append(after[i], j)
				waiting[j]++
			}
		}
	}
	less := func(a, b int) bool {
		x, y := items[a], items[b]
		if x.SortOrder != y.SortOrder {
			return x.SortOrder < y.SortOrder
		}
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.ID < y.ID
	}
	done := make([]bool, len(items))
	out := make([]flowWork, 0, len(items))
	for len(out) < len(items) {
		pick := -1
		for i := range items {
			if done[i] || waiting[i] > 0 {
				continue
			}
			if pick < 0 || less(i, pick) {
				pick = i
			}
		}
		if pick < 0 { // a cycle: take the first remaining by sort order
			for i := range items {
				if !done[i] && (pick < 0 || less(i, pick)) {
					pick = i
				}
			}
			waiting[pick] = 0
		}
		done[pick] = true
		out = append(out, items[pick])
		for _, j := range after[pick] {
			waiting[j]--
		}
	}
	return out
}

// flowWaits says, for each flow of a switching order (as orderFlows returns
// it), which earlier flows must have finished before it starts:
//   - the children it calls, when both are being turned on, and the parents
//     that call it, when both are being turned off;
//   - every earlier flow with a different SortOrder, so flows of different
//     sort orders never overlap and keep the serial order between them.
//
// Flows of one SortOrder (all flows without one share noSortOrder) wait for
// nothing else. Only earlier flows are waited for, so order itself is a
// valid serial schedule and the edge a broken cycle left behind is ignored.
func flowWaits(order []flowWork) [][]int {
	pos := make(map[string]int, len(order))
	for i, w := range order {
		pos[w.ID] = i
	}
	waits := make([][]int, len(order))
	for j, b := range order {
		dep := map[int]bool{}
		if b.Activate {
			for _, c := range b.Children {
				if i, ok := pos[c]; ok && i < j && order[i].Activate {
					dep[i] = true
				}
			}
		}
		for i, a := range order[:j] {
			if dep[i] || a.SortOrder != b.SortOrder ||
				!a.Activate && !b.Activate && slices.Contains(a.Children, b.ID) {
				waits[j] = append(waits[j], i)
			}
		}
	}
	return waits
}

// switchInOrder calls fn for every flow of order, at most limit at a time
// (limit < 1 counts as 1). A flow starts once every flow flowWaits names
// for it has returned; of the flows ready, the earliest in order starts
// first, so limit 1 calls them exactly in order. fn must be safe for
// concurrent use; switchInOrder returns when every call has returned.
func switchInOrder(order []flowWork, limit int, fn func(i int)) {
	limit = max(limit, 1)
	waiting := make([]int, len(order))
	next := make([][]int, len(order))
	for j, ws := range flowWaits(order) {
		waiting[j] = len(ws)
		for _, i := range ws {
			next[i] = append(next[i], j)
		}
	}
	var ready []int // ascending
	for j, n := range waiting {
		if n == 0 {
			ready = append(ready, j)
		}
	}
	done := make(chan int)
	running := 0
	for finished := 0; finished < len(order); finished++ {
		for running < limit && len(ready) > 0 {
			i := ready[0]
			ready = ready[1:]
			running++
			go func() {
				fn(i)
				done <- i
			}()
		}
		i := <-done
		running--
		for _, j := range next[i] {
			if waiting[j]--; waiting[j] == 0 {
				at, _ := slices.BinarySearch(ready, j)
				ready = slices.Insert(ready, at, j)
			}
		}
	}
}

// noSortOrder is the sort order of a flow configured without one (the
// Accelerator's [int]::MaxValue): after every numbered flow.
const noSortOrder = math.MaxInt
