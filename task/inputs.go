package task

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Inputs in task mode.
//
// Both hosts hand a step's inputs to the process as INPUT_* variables, named
// differently: Azure DevOps upper-cases the task.json name and turns '.' and
// ' ' into '_' (names there cannot hold '-', so `package-type` is declared
// as `packageType` and arrives as INPUT_PACKAGETYPE); GitHub upper-cases the
// action.yml name, turns ' ' into '_' and keeps '-' (INPUT_PACKAGE-TYPE).
// The input names are the CLI flag names, so one flag set serves the CLI, the
// task and the action; InputEnvNames lists every spelling looked up.

// InputEnvNames returns the environment variables an input named name may
// arrive in, in lookup order: GitHub's spelling, '-' as '_', and Azure
// DevOps' spelling with every non-alphanumeric removed.
func InputEnvNames(name string) []string {
	upper := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(name), " ", "_"))
	names := []string{"INPUT_" + upper}
	add := func(n string) {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	add("INPUT_" + strings.NewReplacer("-", "_", ".", "_").Replace(upper))
	add("INPUT_" + strings.Map(func(r rune) rune {
		if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, upper))
	return names
}

// LookupInput returns the trimmed value of input name and the variable it
// came from; ok is false when no spelling is set to a non-blank value (both
// hosts leave an input without a value out or empty).
func LookupInput(getenv func(string) string, name string) (value, envName string, ok bool) {
	for _, n := range InputEnvNames(name) {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v, n, true
		}
	}
	return "", "", false
}

// unexpandedMacro matches an Azure DevOps $(Variable) that survived
// expansion, which means the variable does not exist.
var unexpandedMacro = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\$\(([A-Za-z0-9_.\-]+)\)$`) })

// TaskCommand resolves INPUT_COMMAND to the cobra command under root and
// returns its path of names. A sub-command may be spelled with spaces or
// dashes ("version set", "version-set"): task.json pickList values cannot
// hold spaces in a visibleRule.
func TaskCommand(getenv func(string) string, root *cobra.Command) (*cobra.Command, []string, error) {
	value, envName, ok := LookupInput(getenv, "command")
	if !ok {
		return nil, nil, fmt.Errorf("task mode: input \"command\" (INPUT_COMMAND) is not set: expected the ppalm command to run, such as unpack")
	}
	want := strings.Join(strings.Fields(value), " ")
	var found *cobra.Command
	var foundPath, names []string
	walkCommands(root, nil, func(c *cobra.Command, path []string) {
		name := strings.Join(path, " ")
		names = append(names, name)
		if found == nil && (name == want || strings.Join(path, "-") == want) {
			found, foundPath = c, path
		}
	})
	if found == nil {
		return nil, nil, fmt.Errorf("task mode: input \"command\" (%s) is %q: expected one of %s", envName, value, strings.Join(names, ", "))
	}
	return found, foundPath, nil
}

// walkCommands calls visit for every runnable, visible command under root.
func walkCommands(root *cobra.Command, prefix []string, visit func(*cobra.Command, []string)) {
	for _, sub := range root.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		path := append(append([]string{}, prefix...), sub.Name())
		if sub.Runnable() {
			visit(sub, path)
		}
		walkCommands(sub, path, visit)
	}
}

// TaskArgs turns the INPUT_* variables for cmd's flags into command-line
// arguments (--name=value), by walking cmd's flags: each flag is an input
// of the same name. Booleans must be true or false, numbers must parse, and
// list flags take one value per line. An input still holding a literal
// $(Variable) is an error, because it means the variable was never defined.
func TaskArgs(getenv func(string) string, cmd *cobra.Command) ([]string, error) {
	var args []string
	var errs []string
	visit := func(f *pflag.Flag) {
		if f.Name == "help" || f.Hidden {
			return
		}
		value, envName, ok := LookupInput(getenv, f.Name)
		if !ok {
			return
		}
		if m := unexpandedMacro().FindStringSubmatch(value); m != nil {
			errs = append(errs, fmt.Sprintf("input %q (%s) is %q: the pipeline variable %s is not defined", f.Name, envName, value, m[1]))
			return
		}
		switch t := f.Value.Type(); t {
		case "bool":
			b, err := strconv.ParseBool(strings.ToLower(value))
			if err != nil {
				errs = append(errs, fmt.Sprintf("input %q (%s) is %q: expected true or false", f.Name, envName, value))
				return
			}
			args = append(args, fmt.Sprintf("--%s=%t", f.Name, b))
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
			if _, err := strconv.ParseInt(value, 10, 64); err != nil {
				errs = append(errs, fmt.Sprintf("input %q (%s) is %q: expected a whole number", f.Name, envName, value))
				return
			}
			args = append(args, "--"+f.Name+"="+value)
		case "stringSlice", "stringArray":
			for _, line := range splitLines(value) {
				if line = strings.TrimSpace(line); line != "" {
					args = append(args, "--"+f.Name+"="+line)
				}
			}
		default:
			args = append(args, "--"+f.Name+"="+value)
		}
	}
	cmd.InheritedFlags().VisitAll(visit)
	cmd.LocalFlags().VisitAll(visit)
	if len(errs) > 0 {
		return nil, fmt.Errorf("task inputs for %q: %s", cmd.CommandPath(), strings.Join(errs, "; "))
	}
	return args, nil
}
