package steps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ppalm/ppalm/task"
)

// stepFunc is a step built from functions, for testing the runner itself.
type stepFunc struct {
	name string
	skip func(*Context) (bool, string)
	run  func(context.Context, *Context) error
}

func (s stepFunc) Name() string { return s.name }
func (s stepFunc) Skip(c *Context) (bool, string) {
	if s.skip == nil {
		return false, ""
	}
	return s.skip(c)
}
func (s stepFunc) Run(ctx context.Context, c *Context) error { return s.run(ctx, c) }

func TestRunnerOrderSkipAndFailure(t *testing.T) {
	var out bytes.Buffer
	var ran []string
	tick := time.Unix(0, 0)
	clock := func() time.Time { tick = tick.Add(250 * time.Millisecond); return tick }
	r := Runner{Reporter: task.NewTerminal(&out, false), Now: clock}
	c := &Context{}
	boom := errors.New("connection reference x is not bound")
	err := r.Run(context.Background(), c, []Step{
		stepFunc{name: "export", run: func(_ context.Context, c *Context) error { ran = append(ran, "export"); c.Note("2 zips"); return nil }},
		stepFunc{name: "publish", skip: func(*Context) (bool, string) { return true, "--publish not set" }, run: func(context.Context, *Context) error { t.Fatal("skipped step ran"); return nil }},
		stepFunc{name: "import", run: func(context.Context, *Context) error { ran = append(ran, "import"); return boom }},
		stepFunc{name: "activate-flows", run: func(context.Context, *Context) error { t.Fatal("step after a failure ran"); return nil }},
	})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "import" || !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the import step's error wrapped", err)
	}
	if err.Error() != "import: connection reference x is not bound" {
		t.Fatalf("err text = %q", err.Error())
	}
	if strings.Join(ran, ",") != "export,import" {
		t.Fatalf("ran %v", ran)
	}
	if len(c.Outcomes) != 3 || !c.Outcomes[1].Skipped || c.Outcomes[0].Duration != 250*time.Millisecond {
		t.Fatalf("outcomes = %+v", c.Outcomes)
	}
	rep := Report(c.Outcomes)
	for _, want := range []string{"✓ export", "2 zips", "- publish", "skipped: --publish not set", "✗ import", "not bound"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if !strings.Contains(out.String(), "import: connection reference x is not bound") {
		t.Errorf("reporter output lacks the error:\n%s", out.String())
	}
	md := Markdown("Deploy", []Outcome{{Step: "a|b", Err: errors.New("x|y")}})
	if !strings.Contains(md, `❌ x\|y`) {
		t.Errorf("markdown does not escape pipes: %s", md)
	}
}

func TestRunnerStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Runner{Reporter: task.NewTerminal(&bytes.Buffer{}, false)}.Run(ctx, &Context{}, []Step{
		stepFunc{name: "export", run: func(context.Context, *Context) error { t.Fatal("ran after cancel"); return nil }},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// Notes from concurrent work arrive in whatever order the calls finish;
// the report lists them sorted, so it reads the same on every run, after
// the step's ordered notes.
func TestRunnerSortsConcurrentNotes(t *testing.T) {
	c := &Context{}
	err := Runner{Reporter: task.NewTerminal(&bytes.Buffer{}, false)}.Run(context.Background(), c, []Step{
		stepFunc{name: "set-flow-owners", run: func(_ context.Context, c *Context) error {
			c.Note("3 flows")
			done := make(chan bool)
			for _, n := range []string{"flow \"c\" now owned", "flow \"a\" now owned", "flow \"b\" now owned"} {
				go func() { c.noteSafe("%s", n); done <- true }()
			}
			for range 3 {
				<-done
			}
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Outcomes[0].Notes, "|"); got != `3 flows|flow "a" now owned|flow "b" now owned|flow "c" now owned` {
		t.Errorf("notes %q", got)
	}
}

// A step's progress and its report are not the same lines twice: the log
// has the heading and what the step logged, no "done in"; the report has
// the timing and the notes.
func TestRunnerLogsNoSecondCopyOfTheReport(t *testing.T) {
	var log bytes.Buffer
	c := &Context{}
	err := Runner{Reporter: task.NewTerminal(&log, false)}.Run(context.Background(), c, []Step{
		stepFunc{name: "import", run: func(_ context.Context, c *Context) error { c.Note("install X 1.0"); return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "done in") || strings.Contains(log.String(), "install X 1.0") {
		t.Errorf("the log repeats the report:\n%s", log.String())
	}
	if !strings.Contains(Report(c.Outcomes), "install X 1.0") {
		t.Errorf("report: %s", Report(c.Outcomes))
	}
}
