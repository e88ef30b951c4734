// Package task adapts ppalm to the host it runs under: an Azure DevOps agent
// (TF_BUILD), a GitHub Actions runner (GITHUB_ACTIONS=true) or a terminal. A
// host is chosen once from the environment; everything ppalm tells the user
// goes through its Reporter, which escapes every value for that host and
// masks secrets.
package task

// Reporter is how steps and commands talk to the user and to the CI host.
// Implementations must be safe for use from several goroutines.
type Reporter interface {
	// StartGroup opens a collapsible log group; the returned func closes it.
	StartGroup(name string) (end func())
	// Info writes a plain log line.
	Info(msg string)
	// Warning and Error raise an annotation on the host (a build issue, a
	// GitHub annotation); file may be empty.
	Warning(msg string, file string)
	Error(msg string, file string)
	// Progress reports how far a long operation is (0-100).
	Progress(percent int, msg string)
	// SetOutput publishes a step output (task variable with isOutput=true,
	// $GITHUB_OUTPUT, or a plain line on a terminal).
	SetOutput(name, value string) error
	// SetSecret masks value in every later line the host prints.
	SetSecret(value string)
	// Summary appends markdown to the run's summary page.
	Summary(markdown string) error
	// Complete records the final result of the task.
	Complete(failed bool, msg string)
}

// RunNamer is a host that can rename the pipeline run (Azure DevOps:
// build.updatebuildnumber). Callers check for it with a type assertion;
// hosts without such a command do not implement it.
type RunNamer interface {
	// SetRunName renames the run; false when the host cannot.
	SetRunName(name string) bool
}

// Wrapper is a Reporter that wraps another (a level filter, an output
// recorder, a group keeper). The optional interfaces (Masker, Debugger,
// Statuser, RunNamer, Level) are looked for along Unwrap, so a wrapper
// implements only what it changes and a host's own channel is not lost
// behind it.
type Wrapper interface {
	Unwrap() Reporter
}

// find returns the first reporter along r's Unwrap chain that is a T.
func find[T any](r Reporter) (T, bool) {
	for r != nil {
		if v, ok := r.(T); ok {
			return v, true
		}
		w, ok := r.(Wrapper)
		if !ok {
			break
		}
		r = w.Unwrap()
	}
	var zero T
	return zero, false
}

// SetRunName renames the run when r (or a reporter it wraps) can; false
// otherwise.
func SetRunName(r Reporter, name string) bool {
	if n, ok := find[RunNamer](r); ok {
		return n.SetRunName(name)
	}
	return false
}
