package task

import (
	"fmt"
	"strings"
)

// Level is how much ppalm logs: --verbose and PPALM_LOG choose it.
type Level int

// The levels, from most to least said; the zero value is LevelInfo.
const (
	// LevelDebug adds each HTTP call (method, URL without secrets, status,
	// duration, retries and waits) to what LevelInfo says.
	LevelDebug Level = iota - 1
	// LevelInfo is the default: what each step does, warnings, errors.
	LevelInfo
	// LevelWarn keeps warnings and errors only.
	LevelWarn
	// LevelError keeps errors only.
	LevelError
)

// Levels are the PPALM_LOG values, in Level order.
var Levels = []string{"debug", "info", "warn", "error"}

func (l Level) String() string {
	if i := int(l - LevelDebug); i >= 0 && i < len(Levels) {
		return Levels[i]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel reads a PPALM_LOG value; "" is LevelInfo.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return LevelInfo, nil
	case "debug", "trace", "verbose":
		return LevelDebug, nil
	case "warn", "warning":
		return LevelWarn, nil
	case "error":
		return LevelError, nil
	}
	return LevelInfo, fmt.Errorf("PPALM_LOG=%q: expected one of %s", s, strings.Join(Levels, ", "))
}

// Debugger is a Reporter with a channel for debug lines (the --verbose log).
type Debugger interface {
	Debug(msg string)
}

// Debug writes msg as a debug line when r has such a channel, else as a
// plain line. Callers decide whether debug lines are wanted (WithLevel).
func Debug(r Reporter, msg string) {
	if d, ok := find[Debugger](r); ok {
		d.Debug(msg)
		return
	}
	r.Info(msg)
}

// Statuser is a Reporter that can show a passing status (what runs now),
// which a terminal replaces by the next one instead of keeping it.
type Statuser interface {
	Status(msg string)
}

// Status shows msg as a passing status when r can, else as a plain line.
func Status(r Reporter, msg string) {
	if s, ok := find[Statuser](r); ok {
		s.Status(msg)
		return
	}
	r.Info(msg)
}

// WithLevel returns r saying only what level lets through: Debug lines at
// LevelDebug, Info, Status, groups and progress up to LevelInfo, warnings up
// to LevelWarn; errors, outputs, secrets, summaries and the final result
// always.
func WithLevel(r Reporter, level Level) Reporter {
	return &leveled{Reporter: r, level: level}
}

type leveled struct {
	Reporter
	level Level
}

func (l *leveled) StartGroup(name string) func() {
	if l.level > LevelInfo {
		return func() {}
	}
	return l.Reporter.StartGroup(name)
}

func (l *leveled) Info(msg string) {
	if l.level <= LevelInfo {
		l.Reporter.Info(msg)
	}
}

func (l *leveled) Status(msg string) {
	if l.level <= LevelInfo {
		Status(l.Reporter, msg)
	}
}

func (l *leveled) Debug(msg string) {
	if l.level <= LevelDebug {
		Debug(l.Reporter, msg)
	}
}

func (l *leveled) Warning(msg, file string) {
	if l.level <= LevelWarn {
		l.Reporter.Warning(msg, file)
	}
}

func (l *leveled) Progress(percent int, msg string) {
	if l.level <= LevelInfo {
		l.Reporter.Progress(percent, msg)
	}
}

// Unwrap implements Wrapper: masking and the run's name (not a log line)
// pass through whatever the level.
func (l *leveled) Unwrap() Reporter { return l.Reporter }

// Level is the level l lets through.
func (l *leveled) Level() Level { return l.level }

// LevelOf is the level r lets through: LevelInfo unless r came from
// WithLevel.
func LevelOf(r Reporter) Level {
	if l, ok := find[interface{ Level() Level }](r); ok {
		return l.Level()
	}
	return LevelInfo
}
