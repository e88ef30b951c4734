// Package cli holds ppalm's cobra commands. Each command lives in its own file
// and registers itself with register; the commands receive their services
// (output streams, environment lookup, HTTP client) from one Factory so tests
// can build them without touching globals.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

// Factory carries the services every command may use. Main builds the real
// one; tests build their own.
type Factory struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up environment variables; tests replace it.
	Getenv func(string) string
	// Reporter talks to the host (Azure DevOps, GitHub Actions or a
	// terminal): groups, annotations, step outputs, masking. Nil means a
	// plain terminal on Stdout.
	Reporter task.Reporter
}

// reporter returns f.Reporter, or a plain terminal reporter on Stdout.
func (f *Factory) reporter() task.Reporter {
	if f.Reporter == nil {
		f.Reporter = task.NewTerminal(f.Stdout, false)
	}
	return f.Reporter
}

// commandBuilders is filled by the init functions of the command files.
var commandBuilders []func(*Factory) *cobra.Command

// register adds a top-level command. Called from init in each command file.
func register(build func(*Factory) *cobra.Command) {
	commandBuilders = append(commandBuilders, build)
}

// namedBuilders are the commands run often as a process of their own in a
// pipeline (unpack, pack), by name: run builds only the one asked for.
var namedBuilders = map[string]func(*Factory) *cobra.Command{}

// registerNamed is register for a command in namedBuilders.
func registerNamed(name string, build func(*Factory) *cobra.Command) {
	register(build)
	namedBuilders[name] = build
}

// NewRoot builds the ppalm command tree around f.
func NewRoot(f *Factory) *cobra.Command {
	root := newRootCommand(f)
	for _, build := range commandBuilders {
		root.AddCommand(build(f))
	}
	return root
}

// newRootCommand is the root command without subcommands.
func newRootCommand(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "ppalm",
		Short:         "Power Platform ALM in one binary",
		Long:          "ppalm exports, unpacks, commits, packs, imports and configures Dataverse solutions.\nRun `ppalm demo` to see the whole pipeline against the built-in Dataverse emulator.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetOut(f.Stdout)
	root.SetErr(f.Stderr)
	return root
}

// newRootFor builds the command tree for args: for a command in
// namedBuilders only that command (building every command's flags is most
// of what a short command spends in ppalm itself), else all of them.
func newRootFor(f *Factory, args []string) *cobra.Command {
	if len(args) == 0 {
		return NewRoot(f)
	}
	build, ok := namedBuilders[args[0]]
	if !ok {
		return NewRoot(f)
	}
	root := newRootCommand(f)
	root.AddCommand(build(f))
	return root
}

// ExitError lets a command choose its exit code without printing anything more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs ppalm with args and returns the process exit code. Only this
// function decides exit codes.
func Main(args []string) int {
	f := &Factory{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	f.Reporter = task.NewTerminal(os.Stdout, isTerminal(os.Stdout))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
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
	root := newRootFor(f, args)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
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
	return 1
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
