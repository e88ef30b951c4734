package task

import (
	"bytes"
	"io"
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

// MaskingWriter passes what a command prints to w line by line, each line
// masked by r's secrets first: text printed directly (not through r) is
// masked as the reporter's own lines are. Call Flush when the command is
// done.
type MaskingWriter struct {
	mu  sync.Mutex
	w   io.Writer
	r   Reporter
	buf []byte
}

// NewMaskingWriter returns a writer that masks each complete line through r
// and writes it to w.
func NewMaskingWriter(w io.Writer, r Reporter) *MaskingWriter {
	return &MaskingWriter{w: w, r: r}
}

func (m *MaskingWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf = append(m.buf, p...)
	i := bytes.LastIndexByte(m.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	if _, err := io.WriteString(m.w, Mask(m.r, string(m.buf[:i+1]))); err != nil {
		return 0, err
	}
	m.buf = append(m.buf[:0], m.buf[i+1:]...)
	return len(p), nil
}

// Flush writes a final line that had no newline.
func (m *MaskingWriter) Flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.buf) > 0 {
		io.WriteString(m.w, Mask(m.r, string(m.buf)))
		m.buf = nil
	}
}
