package task

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"
)

// maxStepSummary is GitHub's limit for one step's summary; the runner drops
// a larger upload whole.
const maxStepSummary = 1 << 20

// GitHub reports through workflow commands (::group::, ::error::) and the
// runner's environment files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY).
//
// go-githubactions formats and escapes the commands, but its printing and
// file helpers panic on a write error or an unset file variable and write
// outputs with a fixed heredoc delimiter, so this type writes lines and
// files itself.
type GitHub struct {
	out         lineOut
	masks       masker
	outputPath  string
	summaryPath string
	delimiter   func() string
}

// NewGitHub writes workflow commands to w and reads the environment file
// paths through getenv.
func NewGitHub(w io.Writer, getenv func(string) string) *GitHub {
	return &GitHub{
		out:         lineOut{w: w},
		outputPath:  getenv("GITHUB_OUTPUT"),
		summaryPath: getenv("GITHUB_STEP_SUMMARY"),
		delimiter:   randomDelimiter,
	}
}

func randomDelimiter() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "ghadelimiter_" + hex.EncodeToString(b)
}

func (g *GitHub) command(name string, props map[string]string, msg string) string {
	c := githubactions.Command{Name: name, Message: msg, Properties: props}
	return c.String()
}

func (g *GitHub) StartGroup(name string) func() {
	g.out.println(g.command("group", nil, oneLine(g.masks.mask(name))))
	return onceFunc(func() { g.out.println(g.command("endgroup", nil, "")) })
}

func (g *GitHub) Info(msg string) {
	lines := splitLines(g.masks.mask(msg))
	for i, l := range lines {
		lines[i] = githubPlainLine(l)
	}
	g.out.println(lines...)
}

func (g *GitHub) Warning(msg, file string) { g.annotate("warning", msg, file) }
func (g *GitHub) Error(msg, file string)   { g.annotate("error", msg, file) }

func (g *GitHub) annotate(kind, msg, file string) {
	var props map[string]string
	if file != "" {
		props = map[string]string{"file": g.masks.mask(file)}
	}
	g.out.println(g.command(kind, props, g.masks.mask(msg)))
}

// Progress prints a plain line: GitHub has no progress command.
func (g *GitHub) Progress(percent int, msg string) {
	g.Info(fmt.Sprintf("[%3d%%] %s", clampPercent(percent), msg))
}

// SetOutput appends name<<DELIM value DELIM to $GITHUB_OUTPUT with a random
// delimiter, so a value cannot end the heredoc early and inject outputs.
// Values are not masked: the file is not printed, and the runner masks
// registered secrets wherever a later step prints the output.
func (g *GitHub) SetOutput(name, value string) error {
	if !validOutputName(name) {
		return fmt.Errorf("set output %q: name must be letters, digits, '_', '-' or '.', starting with a letter", name)
	}
	if g.outputPath == "" {
		return fmt.Errorf("set output %q: GITHUB_OUTPUT is not set", name)
	}
	delim := g.delimiter()
	if strings.Contains(value, delim) {
		return fmt.Errorf("set output %q: value contains the delimiter %q", name, delim)
	}
	return appendFile(g.outputPath, name+"<<"+delim+"\n"+value+"\n"+delim+"\n", "set output "+name)
}

func (g *GitHub) SetSecret(value string) {
	for _, s := range g.masks.add(value) {
		g.out.println(g.command("add-mask", nil, s))
	}
}

// Summary appends markdown to $GITHUB_STEP_SUMMARY, refusing to pass the
// runner's 1 MiB limit.
func (g *GitHub) Summary(markdown string) error {
	if g.summaryPath == "" {
		return fmt.Errorf("write summary: GITHUB_STEP_SUMMARY is not set")
	}
	md := g.masks.mask(markdown)
	if !strings.HasSuffix(md, "\n") {
		md += "\n"
	}
	var size int64
	if st, err := os.Stat(g.summaryPath); err == nil {
		size = st.Size()
	}
	if size+int64(len(md)) > maxStepSummary {
		return fmt.Errorf("write summary %s: %d bytes would pass GitHub's limit of 1 MiB per step", g.summaryPath, size+int64(len(md)))
	}
	return appendFile(g.summaryPath, md, "write summary")
}

func (g *GitHub) Complete(failed bool, msg string) {
	if msg != "" {
		g.Info(msg)
	}
}

func appendFile(path, text, action string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	_, werr := f.WriteString(text)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("%s: write %s: %w", action, path, werr)
	}
	return nil
}

// Debug writes a plain line: a ::debug:: command would only show when the
// repository turned step debug logging on, and ppalm writes debug lines
// only when asked (--verbose, PPALM_LOG=debug).
func (g *GitHub) Debug(msg string) { g.Info(msg) }
