package unpack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ppalm/ppalm/internal/safefile"
)

// treeWriter writes the files of a tree into a fresh folder beside the
// target, from one goroutine per processor (at most 8): a tree has several
// times more files than its zip has entries, and per-file system calls
// dominate the cost. Files are queued as the tree decides them, so writing
// can start while the rest of the tree is still being worked out (the
// split rules run on the calling goroutine, which writes too once it is
// done); a tree that then fails is never swapped in and its folder is
// deleted. Each folder is created by the first writer that needs it.
type treeWriter struct {
	ctx    context.Context
	root   string // the temporary folder
	crlf   bool
	budget *int64 // shared with the rest of the unpack, updated atomically

	mu      sync.Mutex
	ready   *sync.Cond // signalled when a file is queued or the queue closes
	queue   []treeFile
	closed  bool
	err     error           // the first failure; the writers then stop
	dirs    map[string]bool // folders created, '/' paths
	writers sync.WaitGroup
}

// newTreeWriter creates the temporary folder beside folder (abs is its
// absolute path), and its parent when missing.
func newTreeWriter(ctx context.Context, folder, abs string, crlf bool, budget *int64) (*treeWriter, error) {
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create parent of %s: %w", folder, err)
	}
	// 0777 less the umask: a new folder is renamed into place (os.MkdirTemp: 0700).
	tmp, err := safefile.MkdirTemp(parent, "."+base+".ppalm-new-")
	if err != nil {
		return nil, fmt.Errorf("create temporary folder beside %s: %w", folder, err)
	}
	w := &treeWriter{ctx: ctx, root: tmp, crlf: crlf, budget: budget, dirs: map[string]bool{".": true}}
	w.ready = sync.NewCond(&w.mu)
	return w, nil
}

// start starts the writers; the caller's goroutine joins them in finish.
func (w *treeWriter) start() {
	for range min(max(runtime.GOMAXPROCS(0), 1), 8) - 1 {
		w.writers.Go(w.write)
	}
}

// add queues f for writing.
func (w *treeWriter) add(f treeFile) {
	w.mu.Lock()
	w.queue = append(w.queue, f)
	w.mu.Unlock()
	w.ready.Signal()
}

// finish writes what is left of the queue together with the writers and
// returns the first failure.
func (w *treeWriter) finish() error {
	w.close()
	w.write()
	w.writers.Wait()
	return w.err
}

// discard stops the writers (after the file each is writing) and deletes
// the temporary folder, whatever it holds by then.
func (w *treeWriter) discard() {
	w.mu.Lock()
	if w.err == nil {
		w.err = errors.New("discarded")
	}
	w.mu.Unlock()
	w.close()
	w.writers.Wait()
	_ = os.RemoveAll(w.root)
}

func (w *treeWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.ready.Broadcast()
}

// next takes the next file to write, waiting for one; false once the queue
// is closed and empty or a writer failed.
func (w *treeWriter) next() (treeFile, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && !w.closed && w.err == nil {
		w.ready.Wait()
	}
	if len(w.queue) == 0 || w.err != nil {
		return treeFile{}, false
	}
	f := w.queue[0]
	w.queue = w.queue[1:]
	return f, true
}

func (w *treeWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.ready.Broadcast()
}

// write writes queued files until there are none left.
func (w *treeWriter) write() {
	var copyBuf, genBuf, crlfBuf []byte
	for {
		f, ok := w.next()
		if !ok {
			return
		}
		if err := w.ctx.Err(); err != nil {
			w.fail(err)
			return
		}
		if err := w.ensureDir(path.Dir(f.path)); err != nil {
			w.fail(fmt.Errorf("create folder %s: %w", path.Dir(f.path), err))
			return
		}
		p := filepath.Join(w.root, filepath.FromSlash(f.path))
		data := f.data
		var err error
		if f.part != nil {
			if copyBuf == nil {
				copyBuf = make([]byte, 32<<10)
			}
			err = writePart(p, f.part, copyBuf, w.budget)
		} else {
			if f.gen != nil {
				genBuf = f.gen(roomFor(genBuf, f.size+f.size/4+4<<10)) // header, declarations, indentation
				data = genBuf
			}
			if f.xml && w.crlf {
				crlfBuf = appendCRLF(roomFor(crlfBuf, len(data)+len(data)/8), data)
				data = crlfBuf
			}
			err = writeTreeFile(p, data)
		}
		if err != nil {
			w.fail(fmt.Errorf("write %s: %w", f.path, err))
			return
		}
	}
}

// ensureDir creates the folder d ('/' path) and its parents once. Two
// writers may both create one: the second finds it there.
func (w *treeWriter) ensureDir(d string) error {
	w.mu.Lock()
	done := w.dirs[d]
	w.mu.Unlock()
	if done {
		return nil
	}
	if err := w.ensureDir(path.Dir(d)); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(w.root, filepath.FromSlash(d)), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	w.mu.Lock()
	w.dirs[d] = true
	w.mu.Unlock()
	return nil
}

// roomFor empties buf, reallocating it when it holds less than n bytes: a
// writer's buffer for generated XML grows in few steps to the largest file,
// where appending would double it from small, every size on the way fresh
// memory (~200 page faults on the large fixture). Capacity never written to
// is never touched.
func roomFor(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, 0, max(n, 2*cap(buf)))
	}
	return buf[:0]
}
