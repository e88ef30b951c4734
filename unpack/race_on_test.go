//go:build race

package unpack

// raceEnabled: the race detector slows code several times, so timing
// comparisons are skipped under it.
const raceEnabled = true
