package unpack

import (
	"runtime/debug"
	"sync"
)

// The collector waits while an unpack reads the zip and writes the tree.
// Almost everything those steps allocate stays live until the tree is
// written: the inflated manifests, their node trees, the tree's file list.
// What they drop (the buffers the writers grow, a path string a file) is a
// small part of it (the large fixture: 5.1 MB allocated, 3.5 MB of it
// live at the end). A collection in the middle therefore frees little and
// costs a mark of the heap plus, in a short process, the pages the
// collector's own bookkeeping touches for the first time: measured on the
// large fixture, two collections cost ~200 page faults and 3 to 8 ms of a
// 65 ms process. With the collector waiting, the heap grows by what the
// unpack allocates, which is about what it would reach anyway before a
// collection at the default GOGC=100 (twice the live heap). Canvas app
// processing decodes JSON and drops most of it, so it runs with the
// collector, and so does an unpack whose manifests are larger than real
// exports' (maxPausedManifests): what it drops, if a fraction, is then
// worth collecting (a zip just under the tag limit peaked 7% higher
// with the collector waiting). A memory limit (GOMEMLIMIT) still starts a
// collection when reached.
//

// maxPausedManifests is the most bytes of manifests (solution.xml and
// customizations.xml) an unpack reads with the collector waiting; the
// largest fixture's are 1.5 MB.
const maxPausedManifests = 16 << 20

// gcPause counts the unpacks running with the collector stopped: they may
// overlap (the maker app), so the first to start stops the collector and
// the last to finish restores the setting it found (prev).
var gcPause struct {
	sync.Mutex
	n    int
	prev int
}

// pauseGC stops the collector until the returned function is called (once;
// later calls do nothing).
func pauseGC() (resume func()) {
	gcPause.Lock()
	if gcPause.n == 0 {
		gcPause.prev = debug.SetGCPercent(-1)
	}
	gcPause.n++
	gcPause.Unlock()
	return sync.OnceFunc(func() {
		gcPause.Lock()
		defer gcPause.Unlock()
		if gcPause.n--; gcPause.n == 0 {
			debug.SetGCPercent(gcPause.prev)
		}
	})
}
