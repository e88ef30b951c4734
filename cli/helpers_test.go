package cli

import (
	"bytes"
	"context"
	"testing"
)

// runCLI runs ppalm with args as Main would, with env as the process
// environment (nil: empty), and returns what it wrote and its exit code.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code = run(context.Background(), f, args)
	return out.String(), errb.String(), code
}
