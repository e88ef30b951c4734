package task

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// The GitHub runner's command parsing, written from actions/runner
// src/Runner.Common/ActionCommand.cs (TryParseV2, TryParse) and
// src/Runner.Worker/ActionCommandManager.cs (TryProcessCommand): V2 first,
// the legacy "##[" form when V2 fails; command names case-insensitive.
//
// Two details are modelled on the hostile side:
//   - TrimStart trims .NET white space (char.IsWhiteSpace): Unicode white
//     space and U+001C..U+001F.
//   - StartsWith("::") and IndexOf("##[") are culture-sensitive in .NET;
//     under ICU, control and format characters (Cc, Cf) weigh nothing, so
//     the model skips them when matching the markers.

type runnerCommand struct {
	name  string
	props map[string]string
	data  string
}

var runnerCommands = map[string]bool{
	"stop-commands": true, "set-env": true, "set-output": true, "save-state": true,
	"add-mask": true, "add-path": true, "warning": true, "error": true, "notice": true,
	"debug": true, "group": true, "endgroup": true, "echo": true, "add-matcher": true,
	"remove-matcher": true,
}

func runnerSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func weightless(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }

// cultureIndex finds marker in s from byte offset from, skipping weightless
// runes inside s, and returns where the match starts and ends.
func cultureIndex(s, marker string, from int) (start, end int) {
	for i := from; i < len(s); i++ {
		j, k := i, 0
		for j < len(s) && k < len(marker) {
			r, size := rune(s[j]), 1
			if r >= 0x80 {
				r, size = decodeRune(s[j:])
			}
			if k > 0 && weightless(r) {
				j += size
				continue
			}
			if byte(r) != marker[k] || r >= 0x80 {
				break
			}
			j, k = j+size, k+1
		}
		if k == len(marker) {
			return i, j
		}
	}
	return -1, -1
}

func decodeRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 1
}

func runnerParse(line string) (runnerCommand, bool) {
	if c, ok := runnerParseV2(line); ok {
		return c, true
	}
	return runnerParseLegacy(line)
}

func runnerParseV2(line string) (runnerCommand, bool) {
	msg := strings.TrimLeftFunc(line, func(r rune) bool { return runnerSpace(r) || weightless(r) })
	start, end := cultureIndex(msg, "::", 0)
	if start != 0 {
		return runnerCommand{}, false
	}
	msg = "::" + msg[end:]
	sep, sepEnd := cultureIndex(msg, "::", 2)
	if sep < 0 {
		return runnerCommand{}, false
	}
	info := msg[2:sep]
	name, props, _ := strings.Cut(info, " ")
	if !runnerCommands[strings.ToLower(name)] {
		return runnerCommand{}, false
	}
	c := runnerCommand{name: strings.ToLower(name), props: map[string]string{}}
	for _, p := range strings.Split(strings.TrimSpace(props), ",") {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
			c.props[k] = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(v)
		}
	}
	c.data = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(msg[sepEnd:])
	return c, true
}

func runnerParseLegacy(line string) (runnerCommand, bool) {
	_, cmd := cultureIndex(line, "##[", 0)
	if cmd < 0 {
		return runnerCommand{}, false
	}
	rb := strings.IndexByte(line[cmd:], ']')
	if rb < 0 {
		return runnerCommand{}, false
	}
	info := line[cmd : cmd+rb]
	name, _, _ := strings.Cut(info, " ")
	if !runnerCommands[strings.ToLower(name)] {
		return runnerCommand{}, false
	}
	return runnerCommand{name: strings.ToLower(name), data: line[cmd+rb+1:]}, true
}

// TestRunnerModel pins the model on the runner's own documented cases and
// on the forms the issue found: if the model stops seeing them, the test
// below proves nothing.
func TestRunnerModel(t *testing.T) {
	for _, line := range []string{
		"::error::x", "  ::error::x", "\u00a0::error::x", "\u2003::ERROR::x", "\u001f::error::x",
		"##[error]x", "some text ##[set-output name=a;]x", "#\u200b#[add-mask]x", ":\u00ad:add-mask::x",
		"::set-output name=a::x",
	} {
		if _, ok := runnerParse(line); !ok {
			t.Errorf("model does not parse %q as a command", line)
		}
	}
	for _, line := range []string{"%3A:error::x", "##%5Berror]x", "::nothing::x", "plain"} {
		if c, ok := runnerParse(line); ok {
			t.Errorf("model parses %q as %q", line, c.name)
		}
	}
}

// TestGitHubNoForgedCommands prints hostile solution names and commit
// messages through every GitHub reporter method and parses each output
// line as the runner would: only the command the method means may appear,
// carrying the text unchanged.
func TestGitHubNoForgedCommands(t *testing.T) {
	prefixes := []string{"", " ", "\t", "\v", "\f", "\u00a0", "\u0085", "\u1680", "\u2003", "\u2028",
		"\u2029", "\u202f", "\u205f", "\u3000", "\u001c", "\u001f", "\u200b", "\ufeff", "\u00ad", "\u200b \u00a0", "x "}
	bodies := []string{
		"::error::forged", "::ERROR::forged", "::set-output name=owned::forged", "::add-mask::forged",
		"::stop-commands::tok", "::warning file=a::forged", ":\u200b:error::forged",
		"##[error]forged", "##[set-output name=owned;]forged", "##[add-mask]forged", "##[Error]forged",
		"#\u200b#[error]forged", "##\u00ad[error]forged", "###[error]forged", "[##[error]forged",
	}
	var hostile []string
	for _, p := range prefixes {
		for _, b := range bodies {
			hostile = append(hostile, p+b, "Contoso\n"+p+b, "Contoso\r"+p+b)
		}
	}
	type use struct {
		name string
		want string // the one command the method prints; "" for plain lines
		call func(r *GitHub, s string)
	}
	uses := []use{
		{"Info", "", func(r *GitHub, s string) { r.Info(s) }},
		{"Progress", "", func(r *GitHub, s string) { r.Progress(50, s) }},
		{"Complete", "", func(r *GitHub, s string) { r.Complete(true, s) }},
		{"Warning", "warning", func(r *GitHub, s string) { r.Warning(s, "") }},
		{"Error", "error", func(r *GitHub, s string) { r.Error("commit "+s, s) }},
		{"StartGroup", "group", func(r *GitHub, s string) { r.StartGroup("Import " + s)() }},
	}
	for _, u := range uses {
		for _, s := range hostile {
			var out bytes.Buffer
			r := NewGitHub(&out, func(string) string { return "" })
			u.call(r, s)
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				c, ok := runnerParse(line)
				switch {
				case !ok:
				case c.name == u.want:
					if c.name != "group" && !strings.Contains(c.data, "forged") && !strings.Contains(c.data, "tok") {
						t.Errorf("%s(%q): %q carries %+v", u.name, s, line, c)
					}
				case c.name == "endgroup" && u.want == "group":
				default:
					t.Errorf("%s(%q) printed %q, which the runner runs as %q %v %q", u.name, s, line, c.name, c.props, c.data)
				}
			}
		}
	}
}
