package task

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Terminal reports as plain lines. On a TTY a group's heading, a status and
// the progress bar are a passing status line: the next one replaces it, and
// a group heading stays on screen only when something is logged under it,
// so a run that goes well leaves its final report, not a second copy of it.
type Terminal struct {
	out   lineOut
	masks masker
	tty   bool
	color Palette

	mu sync.Mutex
	// status is the passing line on screen (a TTY only), "" for none;
	// heading says it is a group heading, kept once a line is logged under it.
	status  string
	heading bool
}

// TerminalOptions configure a Terminal.
type TerminalOptions struct {
	// TTY enables the passing status line and the progress bar.
	TTY bool
	// Color colours warnings, errors and headings (see ColorEnabled).
	Color bool
}

// NewTerminal writes to w; isTTY enables the status line and progress bar.
func NewTerminal(w io.Writer, isTTY bool) *Terminal {
	return NewTerminalWith(w, TerminalOptions{TTY: isTTY})
}

// NewTerminalWith writes to w as opts say.
func NewTerminalWith(w io.Writer, opts TerminalOptions) *Terminal {
	return &Terminal{out: lineOut{w: w}, tty: opts.TTY, color: Palette{On: opts.Color}}
}

// lines writes whole lines, first clearing the status line; a group heading
// on it is written for good first, so the lines have their context.
func (t *Terminal) lines(lines ...string) {
	t.mu.Lock()
	if t.status != "" {
		t.out.print("\r\x1b[K")
		if t.heading {
			t.out.print(t.status + "\n")
		}
		t.status, t.heading = "", false
	}
	t.mu.Unlock()
	t.out.println(lines...)
}

// show puts s on the status line (a TTY only).
func (t *Terminal) show(s string, heading bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out.print("\r\x1b[K" + s)
	t.status, t.heading = s, heading
}

// clear removes the status line if it still shows s.
func (t *Terminal) clear(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != "" && t.status == s {
		t.out.print("\r\x1b[K")
		t.status, t.heading = "", false
	}
}

func (t *Terminal) StartGroup(name string) func() {
	h := t.color.Bold("==> " + oneLine(t.masks.mask(name)))
	if !t.tty {
		t.lines(h)
		return func() {}
	}
	t.show(h, true)
	return func() { t.clear(h) }
}

// Status shows what runs now: the status line on a TTY, a line otherwise.
func (t *Terminal) Status(msg string) {
	s := t.color.Dim(oneLine(t.masks.mask(msg)))
	if !t.tty {
		t.lines(s)
		return
	}
	t.show(s, false)
}

func (t *Terminal) Info(msg string) { t.lines(splitLines(t.masks.mask(msg))...) }

// Debug writes a debug line (the --verbose log), dimmed.
func (t *Terminal) Debug(msg string) {
	lines := splitLines(t.masks.mask(msg))
	for i, l := range lines {
		lines[i] = t.color.Dim(l)
	}
	t.lines(lines...)
}

func (t *Terminal) Warning(msg, file string) { t.issue("warning", msg, file) }
func (t *Terminal) Error(msg, file string)   { t.issue("error", msg, file) }

func (t *Terminal) issue(kind, msg, file string) {
	label := kind + ": "
	if kind == "error" {
		label = t.color.Red(label)
	} else {
		label = t.color.Yellow(label)
	}
	prefix := label
	if file != "" {
		prefix = t.masks.mask(file) + ": " + label
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
	if percent == 100 {
		// Done: the report says so; the bar goes.
		t.mu.Lock()
		if !t.heading && t.status != "" {
			t.out.print("\r\x1b[K")
			t.status = ""
		}
		t.mu.Unlock()
		return
	}
	filled := percent * barWidth / 100
	t.mu.Lock()
	keep := t.heading
	t.mu.Unlock()
	if keep {
		// A step is running: its heading says what; the bar would hide it.
		return
	}
	t.show(fmt.Sprintf("[%s%s] %3d%% %s", strings.Repeat("#", filled), strings.Repeat(" ", barWidth-filled), percent, msg), false)
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
