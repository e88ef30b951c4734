package task

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"": LevelInfo, "info": LevelInfo, "DEBUG": LevelDebug, "warn": LevelWarn, "warning": LevelWarn, "error": LevelError} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), "debug, info, warn, error") {
		t.Errorf("ParseLevel(loud) = %v", err)
	}
}

// Each level lets through what it says; errors, outputs and the result
// always pass.
func TestWithLevelFilters(t *testing.T) {
	for _, tc := range []struct {
		level Level
		want  []string
	}{
		{LevelDebug, []string{"==> g", "info", "debug", "warning: w", "error: e", "x=1", "done"}},
		{LevelInfo, []string{"==> g", "info", "warning: w", "error: e", "x=1", "done"}},
		{LevelWarn, []string{"warning: w", "error: e", "x=1", "done"}},
		{LevelError, []string{"error: e", "x=1", "done"}},
	} {
		var out bytes.Buffer
		r := WithLevel(NewTerminal(&out, false), tc.level)
		r.StartGroup("g")()
		r.Info("info")
		Debug(r, "debug")
		r.Warning("w", "")
		r.Error("e", "")
		_ = r.SetOutput("x", "1")
		r.Complete(false, "done")
		got := strings.Split(strings.TrimSpace(out.String()), "\n")
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.level, got, tc.want)
		}
		if LevelOf(r) != tc.level {
			t.Errorf("LevelOf = %v", LevelOf(r))
		}
	}
}

// The wrapper keeps masking: a secret registered through it is masked.
func TestWithLevelMasks(t *testing.T) {
	var out bytes.Buffer
	r := WithLevel(NewTerminal(&out, false), LevelDebug)
	RegisterSecrets(r, "s3cret")
	Debug(r, "GET https://x/?a=s3cret")
	if strings.Contains(out.String(), "s3cret") || Mask(r, "s3cret") != "***" {
		t.Errorf("not masked: %q", out.String())
	}
}

// Debug lines on the hosts: Azure DevOps styles ##[debug]; GitHub prints a
// plain line, since ::debug:: shows only with step debug logging on.
func TestDebugOnTheHosts(t *testing.T) {
	var ado bytes.Buffer
	Debug(NewAzureDevOps(&ado, ""), "HTTP GET x ##vso[task.complete]")
	if got := ado.String(); got != "##[debug]HTTP GET x ##vso%5Btask.complete]\n" {
		t.Errorf("azure devops: %q", got)
	}
	var gh bytes.Buffer
	Debug(NewGitHub(&gh, func(string) string { return "" }), "::error::x")
	if got := gh.String(); strings.HasPrefix(got, "::") {
		t.Errorf("github: %q starts a command", got)
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		tty  bool
		want bool
	}{
		{nil, true, true},
		{nil, false, false},
		{map[string]string{"NO_COLOR": "1"}, true, false},
		{map[string]string{"TERM": "dumb"}, true, false},
		{map[string]string{"CLICOLOR_FORCE": "1"}, false, true},
		{map[string]string{"CLICOLOR_FORCE": "1", "NO_COLOR": "x"}, false, false},
	} {
		if got := ColorEnabled(env(tc.env), tc.tty); got != tc.want {
			t.Errorf("%v tty=%v: %v", tc.env, tc.tty, got)
		}
	}
	var out bytes.Buffer
	NewTerminalWith(&out, TerminalOptions{Color: true}).Error("boom", "")
	if out.String() != "\x1b[31merror: \x1b[0mboom\n" {
		t.Errorf("coloured error: %q", out.String())
	}
	out.Reset()
	NewTerminalWith(&out, TerminalOptions{}).Error("boom", "")
	if strings.Contains(out.String(), "\x1b") {
		t.Errorf("colour without asking: %q", out.String())
	}
}

// On a TTY a group whose step logs nothing leaves no line behind; one that
// logs keeps its heading above its lines.
func TestTerminalTTYKeepsHeadingsOnlyWithContent(t *testing.T) {
	var out bytes.Buffer
	r := NewTerminal(&out, true)
	r.StartGroup("[1/2] quiet")()
	end := r.StartGroup("[2/2] talks")
	r.Info("said something")
	end()
	Status(r, "[3/3] skipped")
	r.Info("after")
	// What stays on screen is what a terminal shows after the escapes.
	screen := renderTTY(out.String())
	if want := "==> [2/2] talks\nsaid something\nafter\n"; screen != want {
		t.Errorf("screen:\n%q\nwant\n%q", screen, want)
	}
}

// renderTTY applies \r and ESC[K as a terminal does, line by line.
func renderTTY(s string) string {
	var lines []string
	cur := ""
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "\r"):
			cur = ""
			s = s[1:]
		case strings.HasPrefix(s, "\x1b[K"):
			s = s[3:]
		case s[0] == '\n':
			lines = append(lines, cur)
			cur = ""
			s = s[1:]
		default:
			cur += s[:1]
			s = s[1:]
		}
	}
	out := strings.Join(lines, "\n")
	if len(lines) > 0 {
		out += "\n"
	}
	return out + cur
}

// A run's name reaches the host through a level filter at any level: the
// build renames the run through whatever wraps the host's reporter.
func TestSetRunNameThroughLevel(t *testing.T) {
	for _, level := range []Level{LevelDebug, LevelInfo, LevelWarn, LevelError} {
		var out bytes.Buffer
		if !SetRunName(WithLevel(NewAzureDevOps(&out, ""), level), "1.0.20260301.1") {
			t.Errorf("level %v: SetRunName through WithLevel = false", level)
		}
		if !strings.Contains(out.String(), "##vso[build.updatebuildnumber]1.0.20260301.1") {
			t.Errorf("level %v: host got %q", level, out.String())
		}
	}
	if SetRunName(WithLevel(NewTerminal(&bytes.Buffer{}, false), LevelInfo), "x") {
		t.Error("a terminal renamed a run")
	}
}

// recorder is a wrapper that changes nothing but says what it wraps, as
// a command's output recorder does: the host's own channels are found
// through it.
type recorder struct{ Reporter }

func (r recorder) Unwrap() Reporter { return r.Reporter }

// Through a wrapper that implements only Unwrap, and a level filter under
// it, the host still masks, gets debug lines as debug lines, renames the
// run, and the level is the filter's.
func TestOptionalChannelsThroughAWrapper(t *testing.T) {
	var out bytes.Buffer
	r := recorder{WithLevel(recorder{NewAzureDevOps(&out, "")}, LevelDebug)}
	RegisterSecrets(r, "s3cret")
	if got := Mask(r, "a s3cret"); got != "a ***" {
		t.Errorf("Mask through a wrapper = %q", got)
	}
	Debug(r, "HTTP GET x")
	if !SetRunName(r, "1.0.1.2") {
		t.Error("SetRunName through a wrapper = false")
	}
	if got := LevelOf(r); got != LevelDebug {
		t.Errorf("LevelOf through a wrapper = %v", got)
	}
	for _, want := range []string{"##[debug]HTTP GET x\n", "##vso[build.updatebuildnumber]1.0.1.2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("host log lacks %q:\n%s", want, out.String())
		}
	}
	var quiet bytes.Buffer
	Debug(recorder{WithLevel(recorder{NewAzureDevOps(&quiet, "")}, LevelInfo)}, "HTTP GET x")
	if quiet.Len() != 0 {
		t.Errorf("a debug line passed the info level: %q", quiet.String())
	}
}
