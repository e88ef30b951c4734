package steps

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ppalm/ppalm/task"
)

// Step is one unit of the ALM flow.
type Step interface {
	// Name is the step's stable kebab-case id, shared by the CLI, task.json
	// and action.yml.
	Name() string
	// Skip says whether the step has nothing to do for this run, and why.
	Skip(c *Context) (bool, string)
	// Run does the step's work.
	Run(ctx context.Context, c *Context) error
}

// Outcome records how one step went.
type Outcome struct {
	Step     string
	Skipped  bool
	Reason   string // why it was skipped
	Err      error
	Duration time.Duration
	// Notes are the lines the step wants in the final report.
	Notes []string
}

// Runner runs pipelines.
type Runner struct {
	Reporter task.Reporter
	// Now is the clock used for timings; time.Now when nil.
	Now func() time.Time
}

// Run runs steps in order until one fails. Every step's outcome is kept in
// c.Outcomes, and the error of the failing step comes back wrapped with the
// step's name.
func (r Runner) Run(ctx context.Context, c *Context, pipeline []Step) error {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	for i, s := range pipeline {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := s.Name()
		if skip, why := s.Skip(c); skip {
			c.Outcomes = append(c.Outcomes, Outcome{Step: name, Skipped: true, Reason: why})
			// A passing status: the final report lists skipped steps.
			task.Status(r.Reporter, fmt.Sprintf("[%d/%d] %s: skipped (%s)", i+1, len(pipeline), name, why))
			continue
		}
		end := r.Reporter.StartGroup(fmt.Sprintf("[%d/%d] %s", i+1, len(pipeline), name))
		c.notes, c.unordered = nil, nil
		start := now()
		err := s.Run(ctx, c)
		// Notes from concurrent work arrive in whatever order the calls
		// finished: sorted, the report reads the same on every run.
		sort.Strings(c.unordered)
		out := Outcome{Step: name, Err: err, Duration: now().Sub(start), Notes: append(c.notes, c.unordered...)}
		c.Outcomes = append(c.Outcomes, out)
		// The step's timing and notes are in the final report; only a
		// failure is said here, in full, once.
		if err != nil {
			r.Reporter.Error(fmt.Sprintf("%s: %v", name, err), "")
		}
		end()
		r.Reporter.Progress((i+1)*100/len(pipeline), name)
		if err != nil {
			return &StepError{Step: name, Err: err}
		}
	}
	return nil
}

// StepError is the error of the step that stopped a pipeline.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Report is a plain-text table of the outcomes, for the terminal and for
// the host's summary page.
func Report(outcomes []Outcome) string { return ReportWith(outcomes, task.Palette{}) }

// ReportWith is Report coloured with p (a terminal that takes colour).
func ReportWith(outcomes []Outcome, p task.Palette) string {
	var b strings.Builder
	for _, o := range outcomes {
		switch {
		case o.Skipped:
			fmt.Fprintf(&b, "  %s\n", p.Dim(fmt.Sprintf("- %-18s skipped: %s", o.Step, o.Reason)))
		case o.Err != nil:
			// The first line only: the whole error is printed once, above.
			first, _, _ := strings.Cut(o.Err.Error(), "\n")
			fmt.Fprintf(&b, "  %s %-18s %8s  %s\n", p.Red("✗"), o.Step, round(o.Duration), strings.TrimSuffix(first, ":"))
		default:
			fmt.Fprintf(&b, "  %s %-18s %8s\n", p.Green("✓"), o.Step, round(o.Duration))
		}
		for _, n := range o.Notes {
			fmt.Fprintf(&b, "      %s\n", n)
		}
	}
	return b.String()
}

// Markdown renders the outcomes as a markdown table for a run summary.
func Markdown(title string, outcomes []Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| step | result | time |\n|---|---|---|\n", title)
	for _, o := range outcomes {
		res := "✅ done"
		switch {
		case o.Skipped:
			res = "⏭ skipped: " + o.Reason
		case o.Err != nil:
			res = "❌ " + o.Err.Error()
		}
		res = strings.ReplaceAll(strings.ReplaceAll(res, "|", "\\|"), "\n", "<br>")
		fmt.Fprintf(&b, "| %s | %s | %s |\n", o.Step, res, round(o.Duration))
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
