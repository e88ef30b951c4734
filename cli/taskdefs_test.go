package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/task"
	"github.com/ppalm/ppalm/taskdefs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// These tests keep task.json, action.yml and the pipeline templates in step
// with the CLI: every command they run and every input they pass must be a
// command and a flag of the cobra tree, with a matching type.

func repoFile(elem ...string) string { return filepath.Join(append([]string{".."}, elem...)...) }

// normal is how Azure DevOps names relate to flag names: case and
// punctuation dropped (tenantId ~ tenant-id).
func normal(s string) string {
	return strings.Map(func(r rune) rune {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return -1
	}, s)
}

// flagFor finds cmd's flag for an input name; exact requires the GitHub
// spelling (the flag name itself).
func flagFor(cmd *cobra.Command, input string, exact bool) *pflag.Flag {
	var found *pflag.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == input || (!exact && normal(f.Name) == normal(input)) {
			found = f
		}
	})
	if found == nil {
		cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) {
			if f.Name == input || (!exact && normal(f.Name) == normal(input)) {
				found = f
			}
		})
	}
	return found
}

func testRoot() *cobra.Command {
	return NewRoot(&Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }})
}

func findCommand(root *cobra.Command, name string) (*cobra.Command, error) {
	cmd, _, err := task.TaskCommand(func(k string) string {
		if k == "INPUT_COMMAND" {
			return name
		}
		return ""
	}, root)
	return cmd, err
}

// taskOnlyInputs are inputs that are not flags: the command itself and the
// service connection, which task mode turns into the connection flags.
var taskOnlyInputs = map[string]bool{"command": true, task.ServiceConnectionInput: true}

type taskJSON struct {
	Name    string `json:"name"`
	Version struct{ Major int }
	Inputs  []struct {
		Name         string            `json:"name"`
		Type         string            `json:"type"`
		DefaultValue string            `json:"defaultValue"`
		Options      map[string]string `json:"options"`
		VisibleRule  string            `json:"visibleRule"`
	} `json:"inputs"`
	Execution map[string]struct{ Target string } `json:"execution"`
}

func readTaskJSON(t *testing.T) taskJSON {
	return readRepoFile[taskJSON](t, "task.json", json.Unmarshal)
}

// readRepoFile decodes a file at the repository root.
func readRepoFile[T any](t *testing.T, name string, unmarshal func([]byte, any) error) T {
	t.Helper()
	var v T
	raw, err := os.ReadFile(repoFile(name))
	if err != nil {
		t.Fatal(err)
	}
	if err := unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

var adoInputName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)

// drift collects mismatches so one run lists all of them.
type drift struct{ problems []string }

func (d *drift) add(format string, args ...any) {
	d.problems = append(d.problems, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (d *drift) report(t *testing.T) {
	t.Helper()
	sort.Strings(d.problems)
	if len(d.problems) > 0 {
		t.Errorf("%d mismatches with the CLI:\n  %s", len(d.problems), strings.Join(d.problems, "\n  "))
	}
}

func TestTaskJSONMatchesCLI(t *testing.T) {
	tj := readTaskJSON(t)
	root := testRoot()
	var d drift
	if _, ok := tj.Execution["Node24"]; !ok {
		d.add("task.json: execution has no Node24 handler")
	}
	if _, ok := tj.Execution["Node20_1"]; !ok {
		d.add("task.json: execution has no Node20_1 handler")
	}
	var commands map[string]string
	for _, in := range tj.Inputs {
		if in.Name == "command" {
			commands = in.Options
		}
	}
	if len(commands) == 0 {
		d.add("task.json: no command pickList")
	}
	for name := range commands {
		if _, err := findCommand(root, name); err != nil {
			d.add("task.json: command %q is not a ppalm command", name)
		}
	}
	rule := regexp.MustCompile(`command = ([a-z-]+)`)
	for _, in := range tj.Inputs {
		if !adoInputName.MatchString(in.Name) {
			d.add("task.json: input name %q must match ^[A-Za-z][A-Za-z0-9]*$", in.Name)
		}
		if taskOnlyInputs[in.Name] {
			continue
		}
		matches := rule.FindAllStringSubmatch(in.VisibleRule, -1)
		if len(matches) == 0 {
			d.add("task.json: input %q has no visibleRule naming its commands", in.Name)
		}
		for _, m := range matches {
			if _, ok := commands[m[1]]; !ok {
				d.add("task.json: input %q: visibleRule names %q, which is not in the command pickList", in.Name, m[1])
			}
			cmd, err := findCommand(root, m[1])
			if err != nil {
				continue // reported above
			}
			f := flagFor(cmd, in.Name, false)
			if f == nil {
				d.add("task.json: input %q: ppalm %s has no flag --%s", in.Name, cmd.CommandPath(), in.Name)
				continue
			}
			checkType(&d, "task.json input "+in.Name, cmd, f, in.Type == "boolean")
		}
	}
	d.report(t)
}

func checkType(d *drift, where string, cmd *cobra.Command, f *pflag.Flag, isBool bool) {
	if flagBool := f.Value.Type() == "bool"; flagBool != isBool {
		d.add("%s: --%s of %s is %s, the input is boolean=%v", where, f.Name, cmd.CommandPath(), f.Value.Type(), isBool)
	}
}

type actionYAML struct {
	Runs struct {
		Using string `yaml:"using"`
		Main  string `yaml:"main"`
	} `yaml:"runs"`
	Inputs map[string]struct {
		Default *string `yaml:"default"`
	} `yaml:"inputs"`
}

func TestActionYAMLMatchesTaskJSONAndCLI(t *testing.T) {
	raw, err := os.ReadFile(repoFile("action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(raw, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	var d drift
	if a.Runs.Using != "node24" && a.Runs.Using != "node20" {
		d.add("action.yml: runs.using is %q", a.Runs.Using)
	}
	if _, err := os.Stat(repoFile(a.Runs.Main)); err != nil {
		d.add("action.yml: runs.main %q: %v", a.Runs.Main, err)
	}
	tj := readTaskJSON(t)
	ado := map[string]string{}
	var commands []string
	for _, in := range tj.Inputs {
		if in.Name == task.ServiceConnectionInput {
			continue
		}
		ado[normal(in.Name)] = in.Name
		if in.Name == "command" {
			for c := range in.Options {
				commands = append(commands, c)
			}
		}
	}
	root := testRoot()
	for name := range a.Inputs {
		if _, ok := ado[normal(name)]; !ok {
			d.add("action.yml: input %q has no task.json input", name)
		}
		delete(ado, normal(name))
		if taskOnlyInputs[name] {
			continue
		}
		// GitHub spells inputs exactly like the flags.
		found := false
		for _, c := range commands {
			if cmd, err := findCommand(root, c); err == nil {
				if f := flagFor(cmd, name, true); f != nil {
					found = true
					if def := a.Inputs[name].Default; def != nil && f.Value.Type() == "bool" && *def != "true" && *def != "false" {
						d.add("action.yml: input %q is a boolean flag with default %q", name, *def)
					}
				}
			}
		}
		if !found {
			d.add("action.yml: input %q is not a flag of any command", name)
		}
	}
	for _, name := range ado {
		d.add("task.json: input %q has no action.yml input", name)
	}
	d.report(t)
}

// invocation is one run of ppalm in a template: a task or action step.
type invocation struct {
	file   string
	inputs map[string]string
	github bool
}

// collectInvocations walks a YAML document for ppalm task steps (task:
// ppalm@N, inputs) and action steps (uses: ppalm/ppalm@..., with).
func collectInvocations(file string, n *yaml.Node, out *[]invocation) {
	if n.Kind == yaml.MappingNode {
		m := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = n.Content[i+1]
		}
		if tk, ok := m["task"]; ok && strings.HasPrefix(tk.Value, "ppalm@") {
			*out = append(*out, invocation{file: file, inputs: scalarMap(m["inputs"])})
		}
		if uses, ok := m["uses"]; ok && (strings.HasPrefix(uses.Value, "ppalm/ppalm@") || uses.Value == "./") {
			*out = append(*out, invocation{file: file, inputs: scalarMap(m["with"]), github: true})
		}
	}
	for _, c := range n.Content {
		collectInvocations(file, c, out)
	}
}

func scalarMap(n *yaml.Node) map[string]string {
	out := map[string]string{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1].Value
	}
	return out
}

func TestTemplatesMatchCLI(t *testing.T) {
	var files []string
	for _, pattern := range []string{"templates/azure-devops/*.yml", "templates/azure-devops/steps/*.yml", "templates/github/*.yml", "templates/github/examples/*.yml"} {
		m, err := filepath.Glob(repoFile(pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d templates: %v", len(files), files)
	}
	root := testRoot()
	var invs []invocation
	var d drift
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			d.add("%s: not YAML: %v", f, err)
			continue
		}
		collectInvocations(f, &doc, &invs)
	}
	if len(invs) < 15 {
		t.Errorf("found only %d ppalm steps in the templates", len(invs))
	}
	for _, inv := range invs {
		name := inv.inputs["command"]
		cmd, err := findCommand(root, name)
		if err != nil {
			d.add("%s: ppalm %s: no such command", inv.file, name)
			continue
		}
		for in := range inv.inputs {
			if taskOnlyInputs[in] {
				continue
			}
			if f := flagFor(cmd, in, inv.github); f == nil {
				d.add("%s: ppalm %s: no flag for input %q", inv.file, name, in)
			}
		}
	}
	d.report(t)
}

// TestTaskDefsAreGenerated fails when task.json or action.yml differ from
// what go run ./scripts/gentaskdefs writes for the current command tree.
func TestTaskDefsAreGenerated(t *testing.T) {
	current, err := os.ReadFile(repoFile("task.json"))
	if err != nil {
		t.Fatal(err)
	}
	tj, ay, err := taskdefs.Generate(testRoot(), current)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{"task.json": tj, "action.yml": ay} {
		have, err := os.ReadFile(repoFile(path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(have, want) {
			t.Errorf("%s is out of date with the CLI (first difference at line %d): run go run ./scripts/gentaskdefs", path, firstDiffLine(have, want))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range la {
		if i >= len(lb) || la[i] != lb[i] {
			return i + 1
		}
	}
	return len(la) + 1
}

// TestEveryTaskCommandFlagIsAnInput is the forward check, independent of
// the generator: every runnable command but the local ones is in the
// command pickList, and each of its flags is a task.json input whose
// visibleRule names the command, with the CLI's type and default, and an
// action.yml input of the flag's name.
func TestEveryTaskCommandFlagIsAnInput(t *testing.T) {
	root := testRoot()
	tj := readTaskJSON(t)
	a := readActionYAML(t)
	var d drift
	missingInputs(&d, root, tj, a)
	d.report(t)

	// Each local command exists and is kept out of the task.
	var commands map[string]string
	for _, in := range tj.Inputs {
		if in.Name == "command" {
			commands = in.Options
		}
	}
	for name := range taskdefs.LocalCommands {
		if _, err := findCommand(root, name); err != nil {
			t.Errorf("taskdefs.LocalCommands names %q, which is not a command", name)
		}
		if _, ok := commands[name]; ok {
			t.Errorf("local command %q is in the task.json command pickList", name)
		}
	}
}

// TestMissingInputsReportsANewFlag proves the forward check fails: a flag
// added to a task command, and a new command, show up as missing inputs.
func TestMissingInputsReportsANewFlag(t *testing.T) {
	root := testRoot()
	cmd, err := findCommand(root, "normalize")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().Bool("brand-new", false, "a flag no input declares")
	root.AddCommand(&cobra.Command{Use: "fresh", Short: "a command no pickList names", RunE: func(*cobra.Command, []string) error { return nil }})
	var d drift
	missingInputs(&d, root, readTaskJSON(t), readActionYAML(t))
	got := strings.Join(d.problems, "\n")
	for _, want := range []string{
		`task.json: no input for --brand-new of ppalm normalize`,
		`action.yml: no input "brand-new" for --brand-new of ppalm normalize`,
		`task.json: command "fresh" is not in the command pickList`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missingInputs did not report %q; it reported:\n%s", want, got)
		}
	}
}

// missingInputs adds to d every flag of a task command that task.json or
// action.yml does not declare for that command.
func missingInputs(d *drift, root *cobra.Command, tj taskJSON, a actionYAML) {
	var commands map[string]string
	for _, in := range tj.Inputs {
		if in.Name == "command" {
			commands = in.Options
		}
	}
	rule := regexp.MustCompile(`command = ([a-z-]+)`)
	var visit func(c *cobra.Command, path []string)
	visit = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			p := append(append([]string{}, path...), sub.Name())
			name := strings.Join(p, "-")
			if _, local := taskdefs.LocalCommands[name]; local {
				continue
			}
			visit(sub, p)
			if !sub.Runnable() {
				continue
			}
			if _, ok := commands[name]; !ok {
				d.add("task.json: command %q is not in the command pickList", name)
			}
			check := func(f *pflag.Flag) {
				if f.Name == "help" || f.Hidden {
					return
				}
				found := false
				for _, in := range tj.Inputs {
					if normal(in.Name) != normal(f.Name) {
						continue
					}
					for _, m := range rule.FindAllStringSubmatch(in.VisibleRule, -1) {
						found = found || m[1] == name
					}
					if !found {
						d.add("task.json: input %q: visibleRule %q does not name %s", in.Name, in.VisibleRule, name)
						found = true // reported
					}
					if in.DefaultValue != "" && in.DefaultValue != f.DefValue {
						d.add("task.json: input %q defaults to %q, --%s of %s to %q", in.Name, in.DefaultValue, f.Name, sub.CommandPath(), f.DefValue)
					}
					if (in.Type == "boolean") != (f.Value.Type() == "bool") {
						d.add("task.json: input %q is %s, --%s of %s is %s", in.Name, in.Type, f.Name, sub.CommandPath(), f.Value.Type())
					}
				}
				if !found {
					d.add("task.json: no input for --%s of %s", f.Name, sub.CommandPath())
				}
				in, ok := a.Inputs[f.Name]
				if !ok {
					d.add("action.yml: no input %q for --%s of %s", f.Name, f.Name, sub.CommandPath())
				} else if in.Default != nil && *in.Default != f.DefValue {
					d.add("action.yml: input %q defaults to %q, --%s of %s to %q", f.Name, *in.Default, f.Name, sub.CommandPath(), f.DefValue)
				}
			}
			sub.InheritedFlags().VisitAll(check)
			sub.LocalFlags().VisitAll(check)
		}
	}
	visit(root, nil)
}

func readActionYAML(t *testing.T) actionYAML {
	return readRepoFile[actionYAML](t, "action.yml", yaml.Unmarshal)
}

// A flag with fixed values is a pick list in task.json holding exactly the
// values the CLI accepts: configure's --only lists every step of the
// configure pipeline (a hand-kept copy once missed bypass-app-consent).
func TestTaskPickListsAreTheCLIsValues(t *testing.T) {
	tj := readTaskJSON(t)
	for _, in := range tj.Inputs {
		if in.Name != taskdefs.AzureDevOpsName("only") {
			continue
		}
		var got []string
		for v := range in.Options {
			got = append(got, v)
		}
		want := configureStepNames()
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("task.json's --only pick list %v, the configure pipeline's steps %v", got, want)
		}
		return
	}
	t.Fatal("task.json has no input for --only")
}
