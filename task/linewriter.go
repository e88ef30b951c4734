package task

import (
	"bytes"
	"sync"
)

// LineWriter turns bytes written by a command (its stdout or stderr) into
// Reporter.Info lines, so even text a command prints directly is masked and
// cannot inject logging commands. Call Flush when the command is done.
type LineWriter struct {
	mu  sync.Mutex
	r   Reporter
	buf []byte
}

// NewLineWriter returns a writer that reports each complete line through r.
func NewLineWriter(r Reporter) *LineWriter { return &LineWriter{r: r} }

func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.r.Info(string(bytes.TrimSuffix(w.buf[:i], []byte("\r"))))
		w.buf = w.buf[i+1:]
	}
}

// Flush reports a final line that had no newline.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.r.Info(string(w.buf))
		w.buf = nil
	}
}
