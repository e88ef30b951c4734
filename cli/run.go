package cli

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ppalm/ppalm/steps"
	"github.com/ppalm/ppalm/task"
)

// runDoc is the --output json document of a command that runs a pipeline
// (export-to-git, build, import, configure).
type runDoc struct {
	Command    string            `json:"command" doc:"the command that ran, e.g. import"`
	Succeeded  bool              `json:"succeeded" doc:"every step that ran succeeded"`
	FailedStep string            `json:"failedStep,omitempty" doc:"the step that failed"`
	Error      string            `json:"error,omitempty" doc:"why it failed"`
	Steps      []stepDoc         `json:"steps" doc:"every step of the pipeline, in order"`
	Outputs    map[string]string `json:"outputs" doc:"the step outputs (task output variables, GitHub step outputs)"`
}

// stepDoc is one step of a runDoc.
type stepDoc struct {
	Name       string   `json:"name" doc:"the step's stable id: export, unpack, commit, settings-check, import, activate-flows, ..."`
	Status     string   `json:"status" doc:"done, skipped or failed"`
	Reason     string   `json:"reason,omitempty" doc:"why it was skipped"`
	Error      string   `json:"error,omitempty" doc:"why it failed"`
	DurationMS int64    `json:"durationMs" doc:"how long it ran"`
	Notes      []string `json:"notes" doc:"what it did, one line each"`
}

// newRunDoc describes a pipeline run from its outcomes and error.
func newRunDoc(command string, outcomes []steps.Outcome, outputs map[string]string, err error) runDoc {
	d := runDoc{Command: command, Succeeded: err == nil, Steps: []stepDoc{}, Outputs: outputs}
	if d.Outputs == nil {
		d.Outputs = map[string]string{}
	}
	if err != nil {
		d.Error = err.Error()
		var se *steps.StepError
		if errors.As(err, &se) {
			d.FailedStep, d.Error = se.Step, se.Err.Error()
		}
	}
	for _, o := range outcomes {
		s := stepDoc{Name: o.Step, Status: "done", DurationMS: o.Duration.Milliseconds(), Notes: o.Notes}
		switch {
		case o.Skipped:
			s.Status, s.Reason = "skipped", o.Reason
		case o.Err != nil:
			s.Status, s.Error = "failed", o.Err.Error()
		}
		if s.Notes == nil {
			s.Notes = []string{}
		}
		d.Steps = append(d.Steps, s)
	}
	return d
}

// report prints the end of a pipeline run: the step table on stdout (or
// nothing with --output json: the caller writes the document), and the
// run summary for the host.
func (f *Factory) report(out *output, title string, outcomes []steps.Outcome) {
	if !out.json() {
		fmt.Fprint(f.Stdout, steps.ReportWith(outcomes, f.palette()))
	}
	_ = f.reporter().Summary(steps.Markdown(title, outcomes))
}

// outputRecorder keeps the step outputs a command sets, for its JSON
// document, and passes everything on.
type outputRecorder struct {
	task.Reporter
	mu      sync.Mutex
	outputs map[string]string
}

func (o *outputRecorder) SetOutput(name, value string) error {
	o.mu.Lock()
	if o.outputs == nil {
		o.outputs = map[string]string{}
	}
	o.outputs[name] = value
	o.mu.Unlock()
	return o.Reporter.SetOutput(name, value)
}

// Unwrap implements task.Wrapper: everything but outputs passes through.
func (o *outputRecorder) Unwrap() task.Reporter { return o.Reporter }

// outputs returns the step outputs set so far in this run.
func (f *Factory) outputs() map[string]string {
	out := map[string]string{}
	if r, ok := f.Reporter.(*outputRecorder); ok {
		r.mu.Lock()
		for k, v := range r.outputs {
			out[k] = v
		}
		r.mu.Unlock()
	}
	return out
}
