package steps

import (
	"fmt"
	"time"

	"github.com/ppalm/ppalm/task"
)

// Context is what a step sees: the run's configuration, the injected
// services, and what earlier steps produced. It is built once per run by the
// CLI (or a test) and passed by pointer; only steps write the "produced"
// fields.
type Context struct {
	// Services.
	Reporter task.Reporter
	Getenv   func(string) string
	Now      func() time.Time

	// Outcomes of the steps run so far, in order.
	Outcomes []Outcome
	notes    []string
}

// Note adds a line to the current step's entry in the final report.
func (c *Context) Note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}
