// Package cli holds ppalm's cobra commands. Each command lives in its own file
// and registers itself with register; the commands receive their services
// (output streams, environment lookup, HTTP client) from one Factory so tests
// can build them without touching globals.
//
// Streams: a command's result (a table, or with --output json one JSON
// document) goes to stdout; everything said along the way (progress, step
// logs, warnings, errors, the --verbose HTTP log) goes to stderr through the
// Reporter. Under an Azure DevOps agent or a GitHub runner both go to the
// host's log (task mode, see RunTask).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/httplog"
	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

// Factory carries the services every command may use. Main builds the real
// one; tests build their own.
type Factory struct {
	Stdout io.Writer
	Stderr io.Writer
	// StdoutTTY and StderrTTY say whether the streams are terminals: colour
	// (unless NO_COLOR) and a passing status line.
	StdoutTTY, StderrTTY bool
	// Getenv looks up environment variables; tests replace it.
	Getenv func(string) string
	// Dir is the working directory commands read git's origin and config
	// from; "" is the process's.
	Dir string
	// Reporter talks to the host (Azure DevOps, GitHub Actions or a
	// terminal): groups, annotations, step outputs, masking. Nil means a
	// plain terminal on Stderr.
	Reporter task.Reporter
	// Entra is where a maker's sign-in goes (`ppalm maker --repo`): the
	// zero value is Microsoft Entra ID itself; tests point it at a stand-in
	// on loopback (Cloud, Transport).
	Entra azcore.ClientOptions
	// DataverseOptions and DevopsOptions are added to every client a
	// command builds (tests: a clock, a sleep that returns at once).
	DataverseOptions []dataverse.Option
	DevopsOptions    []devops.Option

	// level is what the reporter says (--verbose, PPALM_LOG), set before a
	// command runs.
	level task.Level
	// clients are the Dataverse clients built for this run, for the
	// end-of-run note on retries.
	mu      sync.Mutex
	clients []*dataverse.Client
}

// reporter returns f.Reporter, or a plain terminal reporter on Stderr.
func (f *Factory) reporter() task.Reporter {
	if f.Reporter == nil {
		f.Reporter = task.NewTerminalWith(f.Stderr, task.TerminalOptions{TTY: f.StderrTTY, Color: f.color(f.StderrTTY)})
	}
	return f.Reporter
}

// color says whether a stream gets colour.
func (f *Factory) color(tty bool) bool { return task.ColorEnabled(f.getenv, tty) }

// palette colours what a command prints on stdout.
func (f *Factory) palette() task.Palette { return task.Palette{On: f.color(f.StdoutTTY)} }

func (f *Factory) dir() string {
	if f.Dir == "" {
		return "."
	}
	return f.Dir
}

func (f *Factory) getenv(k string) string {
	if f.Getenv == nil {
		return ""
	}
	return f.Getenv(k)
}

// httpLog is the --verbose log of HTTP calls, nil below debug level.
func (f *Factory) httpLog() httplog.Func {
	if f.level > task.LevelDebug {
		return nil
	}
	r := f.reporter()
	return func(e httplog.Entry) { task.Debug(r, e.String()) }
}

// track remembers a Dataverse client for the end-of-run note.
func (f *Factory) track(c *dataverse.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients = append(f.clients, c)
}

// retryNote says, when calls were retried, how many and how long the run
// waited: without it a throttled run is slow for no visible reason.
func (f *Factory) retryNote() {
	f.mu.Lock()
	clients := f.clients
	f.mu.Unlock()
	var reqs, retries int64
	var waited float64
	for _, c := range clients {
		n, w := c.Retries()
		reqs += c.Requests()
		retries += n
		waited += w.Seconds()
	}
	if retries == 0 {
		return
	}
	hint := "; --verbose shows each call"
	if f.level <= task.LevelDebug {
		hint = ""
	}
	f.reporter().Info(fmt.Sprintf("note: %d of %d requests to Power Platform were retries (service protection limits or passing errors), after %.1fs of waiting%s", retries, reqs, waited, hint))
}

// commandBuilders is filled by the init functions of the command files,
// in their order.
var commandBuilders []commandBuilder

type commandBuilder struct {
	name  string // the command's name, as its Use starts
	build func(*Factory) *cobra.Command
}

// register adds a top-level command. Called from init in each command file.
func register(name string, build func(*Factory) *cobra.Command) {
	commandBuilders = append(commandBuilders, commandBuilder{name, build})
}

// runRoot is the command tree a run of args needs: the command args name
// alone when cobra finds that command with it, else every command (a flag
// before the command whose value is another command's name, say).
func runRoot(f *Factory, args []string) *cobra.Command {
	word := commandWord(args)
	if word == "" {
		return newRoot(f, "")
	}
	root := newRoot(f, word)
	if c, _, err := root.Find(args); err != nil || c == root {
		return newRoot(f, "")
	}
	return root
}

// commandWord is the top-level command args name: the first argument that
// is not a flag (every flag of the root is a switch, so none takes the next
// argument), or "" when there is none.
func commandWord(args []string) string {
	for i, a := range args {
		if a == "--" {
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		}
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// NewRoot builds the ppalm command tree around f.
func NewRoot(f *Factory) *cobra.Command {
	root := newRoot(f, "")
	installFlagAliases(root)
	installCompletions(root)
	return root
}

// newRoot is the command tree without what only some runs need: the flag
// aliases (run installs those of the command it runs) and the shell
// completions (installed when cobra's __complete runs). With only naming a
// registered command, the tree holds that one alone: a run of `ppalm
// unpack` needs none of the other forty, and building them was the
// largest part of the command tree's cost at each start. Anything else
// (no command, help, completion, a misspelt name) gets every command.
func newRoot(f *Factory, only string) *cobra.Command {
	var verbose bool
	var root *cobra.Command
	root = &cobra.Command{
		Use:   "ppalm",
		Short: "Power Platform ALM in one binary",
		Long: "ppalm exports, unpacks, commits, packs, imports and configures Dataverse solutions.\n" +
			"Run `ppalm demo` to see the whole pipeline against the built-in Dataverse emulator.\n\n" +
			"A command's result goes to stdout (a table, or one JSON document with --output json); progress,\n" +
			"logs and errors go to stderr. See `ppalm help exit-codes`, `ppalm help output` and\n" +
			"`ppalm help environment`.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Name() == cobra.ShellCompRequestCmd || cmd.Name() == cobra.ShellCompNoDescRequestCmd {
				installFlagAliases(root)
				installCompletions(root)
			}
			level, err := logLevel(f.getenv, verbose)
			if err != nil {
				return err
			}
			f.level = level
			f.Reporter = &outputRecorder{Reporter: task.WithLevel(f.reporter(), level)}
			return nil
		},
	}
	root.SetOut(f.Stdout)
	root.SetErr(f.Stderr)
	root.PersistentFlags().BoolVar(&verbose, "verbose", false, "log each HTTP call (method, URL without secrets, status, duration, retries and waits); also PPALM_LOG=debug")
	builders := commandBuilders
	for _, b := range commandBuilders {
		if only != "" && b.name == only {
			builders = []commandBuilder{b}
			break
		}
	}
	for _, b := range builders {
		root.AddCommand(b.build(f))
	}
	for _, t := range helpTopics {
		root.AddCommand(&cobra.Command{Use: t.name, Short: t.short, Long: t.long})
	}
	for _, c := range root.Commands() {
		if c.Name() == "output" && !c.Runnable() {
			// Its text walks every command's JSON document: written when
			// shown, not at each start.
			help := root.HelpFunc()
			c.SetHelpFunc(func(c *cobra.Command, args []string) {
				c.Long = outputHelp(root)
				help(c, args)
			})
		}
	}
	root.SetFlagErrorFunc(flagError)
	return root
}

// logLevel is the level --verbose, PPALM_LOG and the hosts' debug switches
// (Azure DevOps System.Debug, GitHub's RUNNER_DEBUG) ask for.
func logLevel(getenv func(string) string, verbose bool) (task.Level, error) {
	level, err := task.ParseLevel(getenv("PPALM_LOG"))
	if err != nil {
		return level, err
	}
	if verbose || strings.EqualFold(getenv("SYSTEM_DEBUG"), "true") || getenv("RUNNER_DEBUG") == "1" {
		level = task.LevelDebug
	}
	return level, nil
}

// ExitError lets a command choose its exit code without printing anything more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// The exit codes; `ppalm help exit-codes` and the README document them.
const (
	ExitOK = 0
	// ExitFailure: the command could not do what it was asked (bad flags or
	// input, a service refused, a step failed).
	ExitFailure = 1
	// ExitCheckFailed: a check ran and found problems (plan: the import
	// would fail; settings validate: settings to fix; diff --exit-code:
	// the versions differ).
	ExitCheckFailed = 2
	// ExitInterrupted: Ctrl-C (SIGINT) stopped the run.
	ExitInterrupted = 130
)

// Main runs ppalm with args and returns the process exit code. Only this
// function decides exit codes.
func Main(args []string) int {
	f := &Factory{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		StdoutTTY: isTerminal(os.Stdout), StderrTTY: isTerminal(os.Stderr)}
	// SIGTERM too: a container platform stops `ppalm maker` with it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, f, args)
}

func run(ctx context.Context, f *Factory, args []string) int {
	// Under an Azure DevOps agent or a GitHub runner, ppalm with no
	// arguments is a task: the command and its flags come from INPUT_*.
	if len(args) == 0 {
		if code, ok := RunTask(ctx, f); ok {
			return code
		}
	}
	// What a command prints itself (not through the reporter) is masked
	// too: a settings check quoting a value from a secret, a server's
	// message.
	r := f.reporter()
	stdout, stderr := task.NewMaskingWriter(f.Stdout, r), task.NewMaskingWriter(f.Stderr, r)
	defer stdout.Flush()
	defer stderr.Flush()
	f.Stdout, f.Stderr = stdout, stderr
	root := runRoot(f, args)
	installPathAliases(root, args)
	root.SetArgs(args)
	err := unknownSubcommand(root, args)
	if err == nil {
		err = root.ExecuteContext(ctx)
	}
	f.retryNote()
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(f.Stderr, "ppalm: interrupted")
		return ExitInterrupted
	}
	msg := err.Error()
	// A step's error was already reported in full where it happened, and
	// the report names it again; the last line only names the step.
	var step *steps.StepError
	if errors.As(err, &step) {
		msg = step.Step + " failed (details above)"
	}
	// Stderr is not the reporter: mask what it prints the same way.
	fmt.Fprintf(f.Stderr, "ppalm: %s\n", task.Mask(f.reporter(), msg))
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	return ExitFailure
}

// isTerminal says whether f is a character device (a TTY), without cgo.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// setOutputs publishes name, value pairs as step outputs.
func setOutputs(r task.Reporter, nameValues ...string) error {
	for i := 0; i+1 < len(nameValues); i += 2 {
		if err := r.SetOutput(nameValues[i], nameValues[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// version is set at release: go build -ldflags "-X github.com/ppalm/ppalm/cli.version=1.2.3".
var version string

// buildVersion is the release version, else what the Go build recorded
// (a module version or a VCS revision), else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
