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

	"github.com/spf13/cobra"
)

// Factory carries the services every command may use. Main builds the real
// one; tests build their own.
type Factory struct {
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up environment variables; tests replace it.
	Getenv func(string) string
}

// commandBuilders is filled by the init functions of the command files.
var commandBuilders []func(*Factory) *cobra.Command

// register adds a top-level command. Called from init in each command file.
func register(build func(*Factory) *cobra.Command) {
	commandBuilders = append(commandBuilders, build)
}

// NewRoot builds the ppalm command tree around f.
func NewRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "ppalm",
		Short:         "Power Platform ALM in one binary",
		Long:          "ppalm exports, unpacks, commits, packs, imports and configures Dataverse solutions.\nRun `ppalm demo` to see the whole pipeline against the built-in Dataverse emulator.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(f.Stdout)
	root.SetErr(f.Stderr)
	for _, build := range commandBuilders {
		root.AddCommand(build(f))
	}
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return run(ctx, f, args)
}

func run(ctx context.Context, f *Factory, args []string) int {
	root := NewRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(f.Stderr, "ppalm: %v\n", err)
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	return 1
}
