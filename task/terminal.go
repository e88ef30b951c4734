package task

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Terminal reports as plain lines; on a TTY, Progress redraws one bar.
type Terminal struct {
	out   lineOut
	masks masker
	tty   bool

	mu  sync.Mutex
	bar bool // a progress bar is on screen and must be cleared first
}

// NewTerminal writes to w; isTTY enables the progress bar.
func NewTerminal(w io.Writer, isTTY bool) *Terminal {
	return &Terminal{out: lineOut{w: w}, tty: isTTY}
}

func (t *Terminal) lines(lines ...string) {
	t.mu.Lock()
	if t.bar {
		t.out.print("\r\x1b[K")
		t.bar = false
	}
	t.mu.Unlock()
	t.out.println(lines...)
}

func (t *Terminal) StartGroup(name string) func() {
	t.lines("==> " + oneLine(t.masks.mask(name)))
	return func() {}
}

func (t *Terminal) Info(msg string) { t.lines(splitLines(t.masks.mask(msg))...) }

func (t *Terminal) Warning(msg, file string) { t.issue("warning", msg, file) }
func (t *Terminal) Error(msg, file string)   { t.issue("error", msg, file) }

func (t *Terminal) issue(kind, msg, file string) {
	prefix := kind + ": "
	if file != "" {
		prefix = t.masks.mask(file) + ": " + prefix
	}
	lines := splitLines(t.masks.mask(msg))
	lines[0] = prefix + lines[0]
	t.lines(lines...)
}

const barWidth = 30

func (t *Terminal) Progress(percent int, msg string) {
	percent = clampPercent(percent)
	msg = oneLine(t.masks.mask(msg))
	if !t.tty {
		// A log file or a pipe gets no progress: the step lines already
		// say what finished, and a line per tick would bury them.
		return
	}
	filled := percent * barWidth / 100
	bar := fmt.Sprintf("\r\x1b[K[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled), percent, msg)
	t.mu.Lock()
	defer t.mu.Unlock()
	if percent == 100 {
		t.out.print(bar + "\n")
		t.bar = false
		return
	}
	t.out.print(bar)
	t.bar = true
}

func (t *Terminal) SetOutput(name, value string) error {
	if !validOutputName(name) {
		return fmt.Errorf("set output %q: name must be letters, digits, '_', '-' or '.', starting with a letter", name)
	}
	t.lines(name + "=" + oneLine(t.masks.mask(value)))
	return nil
}

func (t *Terminal) SetSecret(value string) { t.masks.add(value) }

// Summary does nothing on a terminal: the commands print their report
// themselves, and the markdown is for a CI host's summary page.
func (t *Terminal) Summary(markdown string) error { return nil }

func (t *Terminal) Complete(failed bool, msg string) {
	if msg != "" {
		t.lines(splitLines(t.masks.mask(msg))...)
	}
}
