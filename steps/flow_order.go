package steps

import (
	"math"
	"sort"
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

// noSortOrder is the sort order of a flow configured without one (the
// Accelerator's [int]::MaxValue): after every numbered flow.
const noSortOrder = math.MaxInt

// sortStrings returns a sorted copy.
func sortStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
