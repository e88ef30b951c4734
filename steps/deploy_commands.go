package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
)

// The deployment entry points the CLI (import, configure) and the maker app
// share: each takes a Context built from already-parsed settings and runs
// one pipeline.

// Deploy imports c.ZipFile with its settings (ImportPipeline: the settings
// check, flows turned off when asked, the import) and, when configure is
// set, the post-import configuration too.
func Deploy(ctx context.Context, c *Context, configure bool) error {
	pipeline := ImportPipeline()
	if configure {
		pipeline = DeployPipeline()
	}
	return Runner{Reporter: c.Reporter}.Run(ctx, c, pipeline)
}

// ConfigureSteps returns the configure steps named in only, in pipeline
// order; all of them when only is empty. An unknown name is an error
// listing the known ones.
func ConfigureSteps(only []string) ([]Step, error) {
	all := ConfigurePipeline()
	if len(only) == 0 {
		return all, nil
	}
	names := make([]string, len(all))
	want := make(map[string]bool, len(all))
	for i, s := range all {
		names[i] = s.Name()
		want[names[i]] = false
	}
	for _, n := range only {
		n = strings.TrimSpace(n)
		if _, ok := want[n]; !ok {
			return nil, fmt.Errorf("--only %q: expected one of %s", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	var out []Step
	for _, s := range all {
		if want[s.Name()] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Configure runs the configure steps named in only (all when empty) on the
// installed solution c.SolutionName. The solution must exist: every step
// looks components up by id, not through the solution, so a mistyped name
// would configure whatever the environment holds.
func Configure(ctx context.Context, c *Context, only []string) error {
	pipeline, err := ConfigureSteps(only)
	if err != nil {
		return err
	}
	if _, err := c.Dataverse.GetSolution(ctx, c.SolutionName); errors.Is(err, dataverse.ErrNotFound) {
		return fmt.Errorf("--solution %q: no such solution in %s: import it first, or check the unique name (not the display name)", c.SolutionName, c.Dataverse.EnvironmentURL())
	} else if err != nil {
		return fmt.Errorf("configure %s: %w", c.SolutionName, err)
	}
	for _, s := range UnhandledSections(c.Custom) {
		c.Reporter.Warning(s, settingsFile(c.Custom))
	}
	return Runner{Reporter: c.Reporter}.Run(ctx, c, pipeline)
}
