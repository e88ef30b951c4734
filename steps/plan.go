package steps

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// PlanReport is what a deploy would do, computed without changing anything.
type PlanReport struct {
	Solution, Version string
	// Kind is install, update or upgrade (or "refused"), Why the reason.
	Kind, Why string
	// Added, Changed and Removed name components ("flow Daily status
	// changes", "canvas app x", ...) against the installed solution. Removed
	// components are only removed by an upgrade.
	Added, Changed, Removed []string
	// Gaps are the settings problems a deploy would stop at: values
	// missing from the settings (as the settings check reads them) and,
	// against the target, connections, users and groups that do not exist
	// there (as the import's preflight checks them).
	Gaps []string
	// Warnings are what the deploy would warn about without stopping
	// (a directory the credential may not read).
	Warnings []string
}

// WouldFail says whether the import would stop: a settings gap, or a
// target that refuses it.
func (p *PlanReport) WouldFail() bool { return p.Kind == "refused" || len(p.Gaps) > 0 }

// String renders the plan for the terminal: the decision, each component
// change, each gap, and a summary line (also when nothing changes).
func (p *PlanReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s (%s)\n", p.Solution, p.Version, p.Kind, p.Why)
	for _, s := range []struct {
		mark  string
		items []string
	}{{"+", p.Added}, {"~", p.Changed}, {"-", p.Removed}} {
		for _, it := range s.items {
			fmt.Fprintf(&b, "  %s %s\n", s.mark, it)
		}
	}
	if len(p.Added)+len(p.Changed)+len(p.Removed) == 0 && p.Kind != "refused" {
		b.WriteString("  no component changes: the target's flows, canvas apps, connection references and environment variables match the zip\n")
	}
	if len(p.Removed) > 0 && p.Kind == ImportUpdate {
		fmt.Fprintf(&b, "  note: an update keeps the %d removed component(s); use --upgrade always to remove them\n", len(p.Removed))
	}
	for _, g := range p.Gaps {
		fmt.Fprintf(&b, "  ! %s\n", g)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	fmt.Fprintf(&b, "Plan: %s %s, %d to add, %d to change, %d to remove, %d settings gap(s): %s\n",
		p.Kind, p.Solution, len(p.Added), len(p.Changed), len(p.Removed), len(p.Gaps), p.verdict())
	return b.String()
}

func (p *PlanReport) verdict() string {
	switch {
	case p.Kind == "refused":
		return "the target refuses the import"
	case len(p.Gaps) > 0:
		return "the import would fail until they are fixed"
	}
	return "the import would go ahead"
}

// Plan compares the zip (c.ZipFile) with the target and the settings
// (c.Deployment, c.Custom): update or upgrade, components added, changed and
// removed, and every settings gap. It only reads.
func Plan(ctx context.Context, c *Context) (*PlanReport, error) {
	sol, err := loadSolution(c)
	if err != nil {
		return nil, err
	}
	p := &PlanReport{Solution: sol.UniqueName, Version: sol.Version, Added: []string{}, Changed: []string{}, Removed: []string{}, Gaps: []string{}, Warnings: []string{}}
	_, gaps := BuildComponentParameters(sol, c.Deployment)
	if len(gaps) > 0 && c.Dataverse != nil {
		// As the settings check: a variable without a value in the settings
		// keeps the value already set in the target.
		inTarget, err := targetValues(ctx, c, sol)
		if err != nil {
			return nil, err
		}
		_, gaps, _ = buildComponentParameters(sol, c.Deployment, func(s string) bool { return inTarget[strings.ToLower(s)] })
	}
	p.Gaps = append(p.Gaps, gaps...)
	// What the import's preflight checks in the target, before anything
	// is sent: the plan must not pass where the import then stops.
	if c.Dataverse != nil {
		for _, pr := range validateTarget(ctx, c, sol, c.Deployment, c.Custom) {
			if pr.Severity == settings.SeverityError {
				p.Gaps = append(p.Gaps, pr.String())
			} else {
				p.Warnings = append(p.Warnings, pr.String())
			}
		}
	}
	// BuildComponentParameters has named every connection reference and
	// variable without a value; Validate would name them again.
	for _, pr := range settings.Validate(sol, c.Deployment, c.Custom) {
		if pr.Severity == settings.SeverityError && pr.Check != settings.CheckMissingValue && pr.Check != settings.CheckMissingEntry {
			p.Gaps = append(p.Gaps, pr.String())
		}
	}
	d, err := DecideImport(ctx, c, sol)
	if err != nil {
		p.Kind, p.Why = "refused", err.Error()
		return p, nil
	}
	p.Kind, p.Why = d.Kind, d.Why
	if d.Installed == nil {
		for _, f := range sol.Flows {
			p.Added = append(p.Added, "process "+f.Name)
		}
		for _, a := range sol.CanvasApps {
			p.Added = append(p.Added, "canvas app "+a.Name)
		}
		for _, r := range sol.ConnectionReferences {
			p.Added = append(p.Added, "connection reference "+r.LogicalName)
		}
		for _, v := range sol.EnvironmentVariables {
			p.Added = append(p.Added, "environment variable "+v.SchemaName)
		}
		return p, nil
	}
	dv := c.Dataverse
	id := d.Installed.ID
	// Processes: every workflow component, compared by id and definition.
	comps, err := dv.SolutionComponents(ctx, id, 29)
	if err != nil {
		return nil, err
	}
	target := map[string]string{} // id -> name
	defs := map[string]string{}
	errs := parallel(len(comps), c.concurrency(), func(i int) error {
		w, err := dv.GetWorkflow(ctx, comps[i].ObjectID)
		if err != nil {
			return err
		}
		c.noteMu.Lock()
		target[strings.ToLower(w.ID)] = w.Name
		defs[strings.ToLower(w.ID)] = w.ClientData
		c.noteMu.Unlock()
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range sol.Flows {
		seen[f.ID] = true
		name, ok := target[f.ID]
		switch {
		case !ok:
			p.Added = append(p.Added, "process "+f.Name)
		case f.IsCloudFlow() && !sameJSON(f.ClientData, defs[f.ID]):
			p.Changed = append(p.Changed, "process "+name)
		}
	}
	for id, name := range target {
		if !seen[id] {
			p.Removed = append(p.Removed, "process "+name)
		}
	}
	apps, err := dv.ListSolutionCanvasApps(ctx, id)
	if err != nil {
		return nil, err
	}
	diffNames(p, "canvas app", namesOf(sol.CanvasApps, func(a solution.CanvasApp) string { return a.Name }),
		namesOf(apps, func(a dataverse.CanvasApp) string { return a.Name }))
	refs, err := dv.ListSolutionConnectionReferences(ctx, id)
	if err == nil {
		diffNames(p, "connection reference", namesOf(sol.ConnectionReferences, func(r solution.ConnectionReference) string { return r.LogicalName }),
			namesOf(refs, func(r dataverse.ConnectionReference) string { return r.LogicalName }))
	}
	vars, err := dv.ListSolutionEnvironmentVariables(ctx, id)
	if err != nil {
		return nil, err
	}
	diffNames(p, "environment variable", namesOf(sol.EnvironmentVariables, func(v solution.EnvironmentVariable) string { return v.SchemaName }),
		namesOf(vars, func(v dataverse.EnvironmentVariableDefinition) string { return v.SchemaName }))
	sort.Strings(p.Added)
	sort.Strings(p.Changed)
	sort.Strings(p.Removed)
	return p, nil
}

// namesOf lists the name of each item.
func namesOf[T any](items []T, name func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func diffNames(p *PlanReport, kind string, zip, target []string) {
	in := map[string]bool{}
	for _, n := range target {
		in[strings.ToLower(n)] = true
	}
	z := map[string]bool{}
	for _, n := range zip {
		z[strings.ToLower(n)] = true
		if !in[strings.ToLower(n)] {
			p.Added = append(p.Added, kind+" "+n)
		}
	}
	for _, n := range target {
		if !z[strings.ToLower(n)] {
			p.Removed = append(p.Removed, kind+" "+n)
		}
	}
}

// sameJSON compares a flow definition from the zip with the target's
// clientdata, ignoring a BOM and surrounding space.
func sameJSON(zip []byte, target string) bool {
	a := bytes.TrimSpace(bytes.TrimPrefix(zip, []byte("\xef\xbb\xbf")))
	return string(a) == strings.TrimSpace(target)
}
