// Package taskdefs writes the inputs of task.json (the Azure DevOps task) and
// action.yml (the GitHub Action) from ppalm's cobra tree, so the CLI, the
// task and the action declare the same inputs (style rule 13).
//
// Every runnable command is a task command except those in LocalCommands.
// Each flag of a task command is one input, shared by every command that has
// the flag: on GitHub it is named like the flag (tenant-id); on Azure DevOps,
// whose input names cannot hold '-', in camel case (tenantId), which
// task.InputEnvNames finds as INPUT_TENANTID. The input's type follows the
// flag (boolean for bool flags, multiLine for messages and repeatable flags,
// pickList where the CLI accepts a fixed set), its default is the CLI's when
// every command agrees on it, and its help is the flag's usage.
//
// go run ./scripts/gentaskdefs rewrites both files; cli/taskdefs_test.go
// fails when they differ from what Generate returns.
package taskdefs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ppalm/ppalm/task"
)

// LocalCommands are the commands that are not task commands, and why.
var LocalCommands = map[string]string{
	"demo":     "runs its own emulator and git server on loopback and, with --serve, waits for Ctrl-C: a local tour, not a pipeline step",
	"emulator": "serves an in-memory Dataverse until interrupted (--listen): a test fixture for a developer's machine, not a pipeline step",
	"maker":    "serves the maker web app on loopback until interrupted: a browser app, not a pipeline step",
	"version":  "prints ppalm's own version, which the task log already names: not a pipeline step (version set is)",
}

// ValuesAnnotation is the flag annotation that lists a flag's fixed
// values (set by the CLI, which also offers them to shell completion): such
// a flag is a pickList input. Generate fails when an option is missing from
// a command's usage text, so a renamed value cannot go unnoticed here.
const ValuesAnnotation = "ppalm-values"

// multiLine are string flags whose values span lines.
var multiLine = map[string]bool{"message": true, "description": true}

// labels override the label made from the flag name.
var labels = map[string]string{
	"auth":                  "Authentication",
	"certificate-path":      "Client certificate (PEM or PFX)",
	"client-id":             "Client id",
	"client-secret":         "Client secret",
	"config":                "Config folder",
	"custom-out":            "customDeploymentSettings.json to write",
	"custom-settings":       "customDeploymentSettings.json",
	"deployment-settings":   "deploymentSettings.json",
	"environment":           "Environment URL",
	"github-api-url":        "GitHub API URL",
	"graph-url":             "Microsoft Graph URL",
	"organization-url":      "Azure DevOps organization URL",
	"out":                   "Output",
	"packagetype":           "Package type",
	"path":                  "Path in the repository",
	"powerapps-url":         "Power Apps API URL",
	"repo":                  "Repository (path or URL)",
	"service-connection-id": "Service connection id",
	"settings":              "Settings file",
	"solution":              "Solution unique name",
	"tenant-id":             "Tenant id",
	"work-item":             "Work item ids",
	"zipfile":               "Solution zip",
}

// groups put the inputs most steps leave alone out of the way in the task
// editor, in this order.
var groups = []struct {
	Name, DisplayName string
	Flags             []string
}{
	{"connection", "Connection without a service connection", []string{"auth", "tenant-id", "client-id", "client-secret", "certificate-path", "service-connection-id"}},
	{"repositoryHost", "Repository host (defaults from the pipeline)", []string{"host", "organization-url", "project", "repository", "github-api-url"}},
	{"advanced", "Advanced", []string{"graph-url", "powerapps-url", "max-concurrency"}},
}

// secrets are the inputs that should come from a secret variable.
var secrets = map[string]bool{"client-secret": true, "token": true}

// Command is a task command: its pickList value and the cobra command.
type Command struct {
	Name string // the path joined with '-', e.g. version-set
	Cmd  *cobra.Command
}

// Commands returns root's task commands in the order of the tree.
func Commands(root *cobra.Command) []Command {
	var out []Command
	var walk func(c *cobra.Command, prefix []string)
	walk = func(c *cobra.Command, prefix []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			path := append(append([]string{}, prefix...), sub.Name())
			name := strings.Join(path, "-")
			// A local command is not a task command; its subcommands
			// may be (version is local, version set is not).
			if _, local := LocalCommands[name]; !local && sub.Runnable() {
				out = append(out, Command{Name: name, Cmd: sub})
			}
			walk(sub, path)
		}
	}
	walk(root, nil)
	return out
}

// Flags returns the flags of cmd that are inputs: all but help and hidden
// ones, inherited first, as task.TaskArgs visits them.
func Flags(cmd *cobra.Command) []*pflag.Flag {
	var out []*pflag.Flag
	visit := func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden {
			out = append(out, f)
		}
	}
	cmd.InheritedFlags().VisitAll(visit)
	cmd.LocalFlags().VisitAll(visit)
	return out
}

// AzureDevOpsName is the task.json name of the input for flag: camel case,
// since Azure DevOps input names are ^[A-Za-z][A-Za-z0-9]*$.
func AzureDevOpsName(flag string) string {
	parts := strings.Split(flag, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// use is one command's view of a flag.
type use struct {
	command string
	flag    *pflag.Flag
}

// Input is one flag as an input of both hosts.
type Input struct {
	Flag     string // the CLI flag and action.yml name
	Name     string // the task.json name
	Label    string
	Type     string // task.json type
	Options  []string
	Multi    bool // pickList with several values (comma-separated)
	Default  string
	Help     string // markdown, from the flag's usage
	Group    string
	Commands []string
}

// defaultOf is the flag's default as an input value: "" for none.
func defaultOf(f *pflag.Flag) string {
	switch d := f.DefValue; {
	case d == "[]", d == "0s" && f.Value.Type() == "duration":
		return ""
	default:
		return d
	}
}

func required(f *pflag.Flag) bool {
	r := f.Annotations[cobra.BashCompOneRequiredFlag]
	return len(r) > 0 && r[0] == "true"
}

// Inputs returns the inputs for root's task commands, in the order of their
// first command, grouped inputs last.
func Inputs(root *cobra.Command) ([]Input, error) {
	uses := map[string][]use{}
	var order []string
	for _, c := range Commands(root) {
		for _, f := range Flags(c.Cmd) {
			if _, seen := uses[f.Name]; !seen {
				order = append(order, f.Name)
			}
			uses[f.Name] = append(uses[f.Name], use{c.Name, f})
		}
	}
	groupOf := map[string]string{}
	rank := map[string]int{}
	for i, g := range groups {
		for j, f := range g.Flags {
			groupOf[f] = g.Name
			rank[f] = (i+1)*100 + j
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return rank[order[i]] < rank[order[j]] })

	var inputs []Input
	var errs []string
	byName := map[string]string{}
	for _, name := range order {
		in, err := newInput(name, uses[name])
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		in.Group = groupOf[name]
		if other, dup := byName[strings.ToLower(in.Name)]; dup {
			errs = append(errs, fmt.Sprintf("flags --%s and --%s both become task.json input %q", other, name, in.Name))
		}
		byName[strings.ToLower(in.Name)] = name
		inputs = append(inputs, in)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("task inputs: %s", strings.Join(errs, "; "))
	}
	return inputs, nil
}

func newInput(name string, us []use) (Input, error) {
	in := Input{Flag: name, Name: AzureDevOpsName(name), Type: "string"}
	in.Label = labels[name]
	if in.Label == "" {
		in.Label = strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "-", " ")
	}
	types := map[string]bool{}
	defaults := map[string]bool{}
	for _, u := range us {
		in.Commands = append(in.Commands, u.command)
		types[u.flag.Value.Type()] = true
		defaults[defaultOf(u.flag)] = true
	}
	if len(types) != 1 {
		return in, fmt.Errorf("flag --%s has different types in %s: one input cannot serve them", name, strings.Join(in.Commands, ", "))
	}
	typ := us[0].flag.Value.Type()
	repeatable := strings.HasSuffix(typ, "Slice") || strings.HasSuffix(typ, "Array")
	switch {
	case typ == "bool":
		in.Type = "boolean"
	case len(us[0].flag.Annotations[ValuesAnnotation]) > 0:
		in.Type, in.Options, in.Multi = "pickList", us[0].flag.Annotations[ValuesAnnotation], repeatable
		for _, u := range us {
			if !slices.Equal(u.flag.Annotations[ValuesAnnotation], in.Options) {
				return in, fmt.Errorf("flag --%s has different values in %s and %s: one input cannot serve them", name, us[0].command, u.command)
			}
			for _, o := range in.Options {
				if !strings.Contains(u.flag.Usage, o) {
					return in, fmt.Errorf("flag --%s of %s: its usage %q does not name the pickList option %q", name, u.command, u.flag.Usage, o)
				}
			}
		}
	case multiLine[name] || repeatable:
		in.Type = "multiLine"
	}
	if len(defaults) == 1 {
		in.Default = defaultOf(us[0].flag)
	}

	// Help: the usage once when every command says the same, else one
	// line per command; defaults that differ are named per command.
	usages := map[string]bool{}
	var requiredBy []string
	for _, u := range us {
		usages[u.flag.Usage] = true
		if required(u.flag) && !strings.Contains(u.flag.Usage, "required") {
			requiredBy = append(requiredBy, "`"+u.command+"`")
		}
	}
	var help []string
	if len(usages) == 1 && len(defaults) == 1 {
		help = append(help, sentence(us[0].flag.Usage))
	} else {
		for _, u := range us {
			s := u.flag.Usage
			if d := defaultOf(u.flag); d != "" && len(defaults) > 1 {
				s += " (default `" + d + "`)"
			}
			help = append(help, "`"+u.command+"`: "+sentence(s))
		}
	}
	if len(requiredBy) > 0 {
		help = append(help, "Required by "+strings.Join(requiredBy, ", ")+".")
	}
	switch {
	case in.Multi:
		help = append(help, "Several values: comma-separated.")
	case repeatable:
		help = append(help, "One value per line.")
	}
	if secrets[name] {
		help = append(help, "Pass it from a secret variable; it is masked and never printed.")
	}
	in.Help = strings.Join(help, " ")
	return in, nil
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if first, _, _ := strings.Cut(s, " "); strings.Trim(first, "abcdefghijklmnopqrstuvwxyz,") == "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// visibleRule names every command that has the input.
func visibleRule(commands []string) string {
	parts := make([]string, len(commands))
	for i, c := range commands {
		parts[i] = "command = " + c
	}
	return strings.Join(parts, " || ")
}

// TaskJSON is task.json. Fields the generator does not know make Generate
// fail rather than vanish.
type TaskJSON struct {
	Schema              string           `json:"$schema"`
	ID                  string           `json:"id"`
	Name                string           `json:"name"`
	FriendlyName        string           `json:"friendlyName"`
	Description         string           `json:"description"`
	Author              string           `json:"author"`
	HelpMarkDown        string           `json:"helpMarkDown"`
	Category            string           `json:"category"`
	Visibility          []string         `json:"visibility"`
	RunsOn              []string         `json:"runsOn"`
	Version             TaskVersion      `json:"version"`
	MinimumAgentVersion string           `json:"minimumAgentVersion"`
	InstanceNameFormat  string           `json:"instanceNameFormat"`
	Groups              []TaskGroup      `json:"groups"`
	Inputs              []TaskInput      `json:"inputs"`
	OutputVariables     []OutputVariable `json:"outputVariables"`
	Execution           TaskExecution    `json:"execution"`
}

type TaskVersion struct {
	Major int `json:"Major"`
	Minor int `json:"Minor"`
	Patch int `json:"Patch"`
}

type TaskGroup struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	IsExpanded  bool   `json:"isExpanded"`
}

// TaskInput is one entry of task.json inputs; Options is an ordered list
// of pairs so the file keeps the order of the CLI.
type TaskInput struct {
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	Label        string            `json:"label"`
	Required     bool              `json:"required"`
	DefaultValue string            `json:"defaultValue,omitempty"`
	GroupName    string            `json:"groupName,omitempty"`
	Options      *orderedOptions   `json:"options,omitempty"`
	Properties   map[string]string `json:"properties,omitempty"`
	HelpMarkDown string            `json:"helpMarkDown,omitempty"`
	VisibleRule  string            `json:"visibleRule,omitempty"`
}

type OutputVariable struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type TaskExecution struct {
	Node24  *TaskHandler `json:"Node24,omitempty"`
	Node201 *TaskHandler `json:"Node20_1,omitempty"`
}

type TaskHandler struct {
	Target string `json:"target"`
}

// orderedOptions is a JSON object whose keys keep their order.
type orderedOptions struct{ keys, values []string }

func (o *orderedOptions) add(k, v string) { o.keys, o.values = append(o.keys, k), append(o.values, v) }

func (o *orderedOptions) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := marshal(o.values[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (o *orderedOptions) UnmarshalJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return err
		}
		o.add(fmt.Sprint(k), v)
	}
	_, err := dec.Token()
	return err
}

// marshal is json.Marshal without HTML escaping (help text holds < and >).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Generate returns task.json and action.yml for root. The parts of
// task.json that are not inputs (id, version, execution, ...) come from
// current, the file as it is.
func Generate(root *cobra.Command, current []byte) (taskJSON, actionYML []byte, err error) {
	var tj TaskJSON
	dec := json.NewDecoder(bytes.NewReader(current))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tj); err != nil {
		return nil, nil, fmt.Errorf("task.json: %w (the generator must know every field; add it to taskdefs.TaskJSON)", err)
	}
	inputs, err := Inputs(root)
	if err != nil {
		return nil, nil, err
	}
	commands := Commands(root)

	tj.Groups = nil
	for _, g := range groups {
		tj.Groups = append(tj.Groups, TaskGroup{Name: g.Name, DisplayName: g.DisplayName})
	}
	pick := &orderedOptions{}
	var names []string
	for _, c := range commands {
		pick.add(c.Name, c.Cmd.Short)
		names = append(names, c.Name)
	}
	tj.Inputs = []TaskInput{{
		Name: "command", Type: "pickList", Label: "Command", Required: true, DefaultValue: "unpack",
		Options: pick, HelpMarkDown: "The ppalm command to run; the inputs shown are its flags.",
	}}
	// The service connection stands for the connection flags on every
	// command that has them.
	var connCommands []string
	for _, in := range inputs {
		if in.Flag == "service-connection-id" {
			connCommands = in.Commands
		}
	}
	if len(connCommands) > 0 {
		tj.Inputs = append(tj.Inputs, TaskInput{
			Name: task.ServiceConnectionInput, Type: "connectedService:powerplatform-spn", Label: "Power Platform service connection",
			HelpMarkDown: "A \"Power Platform\" service connection (service principal or workload identity federation). Its URL is the environment; it fills Environment URL, Tenant id, Client id, Client secret and Authentication unless they are given.",
			VisibleRule:  visibleRule(connCommands),
		})
	}
	for _, in := range inputs {
		ti := TaskInput{Name: in.Name, Type: in.Type, Label: in.Label, DefaultValue: in.Default, GroupName: in.Group,
			HelpMarkDown: in.Help + " CLI flag `--" + in.Flag + "`.", VisibleRule: visibleRule(in.Commands)}
		if in.Options != nil {
			ti.Options = &orderedOptions{}
			for _, o := range in.Options {
				ti.Options.add(o, o)
			}
			if in.Multi {
				ti.Properties = map[string]string{"MultiSelectFlatList": "True"}
			}
		}
		tj.Inputs = append(tj.Inputs, ti)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tj); err != nil {
		return nil, nil, fmt.Errorf("task.json: %w", err)
	}
	taskJSON = b.Bytes()

	var a strings.Builder
	a.WriteString(actionHeader)
	q := func(s string) string { b, _ := marshal(s); return string(b) }
	fmt.Fprintf(&a, "  command:\n    description: %s\n    required: true\n", q("The ppalm command: "+strings.Join(names, ", ")))
	for _, in := range inputs {
		desc := in.Help + " Commands: " + strings.Join(in.Commands, ", ") + "."
		if in.Options != nil {
			desc += " One of: " + strings.Join(in.Options, ", ") + "."
		}
		if in.Flag == "client-secret" {
			desc += " Leave empty to sign in with GitHub OIDC (permissions: id-token: write)."
		}
		fmt.Fprintf(&a, "  %s:\n    description: %s\n    required: false\n", in.Flag, q(desc))
		if in.Default != "" {
			fmt.Fprintf(&a, "    default: %s\n", q(in.Default))
		}
	}
	a.WriteString(actionFooter)
	return taskJSON, []byte(a.String()), nil
}

const actionHeader = `# Generated by go run ./scripts/gentaskdefs from the ppalm command tree; do
# not edit the inputs by hand (cli/taskdefs_test.go fails when they drift).
#
# ppalm as a GitHub Action: runs ` + "`ppalm <command>`" + ` with the inputs below as
# its flags (input names are the CLI flag names). The Node shim picks the
# bundled binary for the runner's OS and architecture; no .NET, PowerShell
# or pac. Release tags carry the binaries (scripts/dist.sh).
name: ppalm
description: Power Platform ALM in one binary - export, unpack, commit, pack, import and configure Dataverse solutions
author: ppalm
branding:
  icon: package
  color: blue
inputs:
`

const actionFooter = `outputs:
  result:
    description: Succeeded or Failed
runs:
  # node24: GitHub runs Node 20 actions on Node 24 since June 2026 and
  # removes Node 20 in September 2026.
  using: node24
  main: shim/index.js
`
