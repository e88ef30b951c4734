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
