package cli

import (
	"fmt"
	"github.com/ppalm/ppalm/taskdefs"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ppalm/ppalm/steps"
)

// unknownSubcommand catches a misspelt subcommand of a command group
// (`ppalm solution lst --environment X`), which cobra would answer with the
// group's help and exit 0, or with "unknown flag" for a flag the group does
// not have. It returns a usage error naming the word and the closest
// subcommands, or nil.
func unknownSubcommand(root *cobra.Command, args []string) error {
	// cobra adds these when it executes; Find must know them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		// The root's own check: a word that is no command.
		if word := firstPositional(args); word != "" && !strings.HasPrefix(word, "__") {
			return unknownCommandError(root, word)
		}
		return nil
	}
	if cmd.Runnable() || !cmd.HasAvailableSubCommands() {
		return nil
	}
	word := firstPositional(rest)
	if word == "" || word == "help" {
		return nil
	}
	return unknownCommandError(cmd, word)
}

func unknownCommandError(cmd *cobra.Command, word string) error {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	}
	var subs []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			subs = append(subs, c.Name())
		}
	}
	if len(subs) > 0 {
		msg += fmt.Sprintf("\n%s has: %s (run '%s --help' for usage)", cmd.CommandPath(), strings.Join(subs, ", "), cmd.CommandPath())
	}
	return fmt.Errorf("%s", msg)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "'" + v + "'"
	}
	return out
}

// firstPositional is the first argument that is neither a flag nor the
// value of one (--flag value; --flag=value; -- ends the flags).
func firstPositional(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++ // its value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
		default:
			return a
		}
	}
	return ""
}

// subcommandArgs is the Args of a runnable command that also has
// subcommands (`ppalm version`, `ppalm version set`): a stray word is a
// misspelt subcommand.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommandError(cmd, args[0])
	}
	return nil
}

// flagError adds the closest flag names to cobra's "unknown flag" error.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, ok := strings.CutPrefix(msg, "unknown flag: --")
	if !ok {
		return err
	}
	var near []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := levenshtein(name, f.Name); d <= 2 || strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, f.Name) {
			near = append(near, "--"+f.Name)
		}
	})
	sort.Strings(near)
	if len(near) > 0 {
		return fmt.Errorf("%s for %q; did you mean %s?", msg, cmd.CommandPath(), strings.Join(near, " or "))
	}
	return fmt.Errorf("%s for %q (run '%s --help' for its flags)", msg, cmd.CommandPath(), cmd.CommandPath())
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// pacAliases are the flag names of Microsoft's pac CLI (and of earlier
// spellings) that ppalm accepts for its own, by command path. Beyond these,
// every flag matches whatever its case and dashes (pac writes
// --processCanvasApps and --packageType, ppalm --process-canvas-apps and
// --packagetype). The command's help lists them.
var pacAliases = map[string]map[string]string{
	"":                  {"debug": "verbose"},
	"export":            {"name": "solution"},
	"export-to-git":     {"name": "solution"},
	"import":            {"path": "zipfile", "settings-file": "settings", "force-overwrite": "overwrite-unmanaged", "publish-changes": "publish"},
	"plan":              {"path": "zipfile", "settings-file": "settings"},
	"configure":         {"settings-file": "settings", "solution-name": "solution"},
	"settings create":   {"solution-zip": "zipfile", "solution-folder": "folder", "settings-file": "out"},
	"settings validate": {"solution-zip": "zipfile", "solution-folder": "folder", "settings-file": "settings"},
	"solution delete":   {"solution-name": "solution"},
	"diff":              {},
}

// squash is a flag name without case and dashes: the key aliases match on.
func squash(name string) string {
	// A loop, not strings.NewReplacer: this runs for every flag of every
	// command at each start, and building a Replacer allocates a 256-entry
	// table each time (most of a short command's start-up, by perf).
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '-' || c == '_':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return strings.ToLower(string(b))
}

// installFlagAliases sets on every command a flag-name normalizer that maps
// pac's names and any spelling of a flag's name to the flag, and lists the
// pac names in the command's help.
func installFlagAliases(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		installFlagAliasesOn(root, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// installPathAliases installs the aliases on the commands args run: the
// command cobra finds, its parents, and for `help CMD` the command whose
// help it prints. One command's flags are all a run parses, so a start
// need not build the tables of the forty others (about a third of the
// command tree's cost at each start, by BenchmarkNewRoot).
func installPathAliases(root *cobra.Command, args []string) {
	// cobra adds these when it executes; Find must know them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	// The root's first: Find reads its flags (--debug) before the command.
	installChainAliases(root, root)
	cmd, rest, err := root.Find(args)
	if err != nil {
		cmd = root
	}
	if cmd.Name() == "help" && cmd.Parent() == root {
		if target, _, err := root.Find(rest); err == nil {
			installChainAliases(root, target)
		}
	}
	installChainAliases(root, cmd)
}

func installChainAliases(root, cmd *cobra.Command) {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[aliasesAnnotation] == "" {
			installFlagAliasesOn(root, c)
		}
	}
}

// aliasesAnnotation marks a command whose aliases are installed.
const aliasesAnnotation = "ppalm-flag-aliases"

func installFlagAliasesOn(root, c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[aliasesAnnotation] = "installed"
	key := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
	table := map[string]string{}
	visit := func(f *pflag.Flag) { table[squash(f.Name)] = f.Name }
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	root.PersistentFlags().VisitAll(visit)
	for a, to := range pacAliases[""] {
		table[squash(a)] = to
	}
	var listed []string
	for a, to := range pacAliases[key] {
		if c.Flags().Lookup(to) == nil {
			panic(fmt.Sprintf("cli: pac alias --%s of %q names --%s, which it does not have", a, key, to))
		}
		table[squash(a)] = to
		listed = append(listed, fmt.Sprintf("--%s (--%s)", a, to))
	}
	if len(listed) > 0 {
		sort.Strings(listed)
		c.Long = strings.TrimRight(c.Long, "\n") + "\n\npac's flag names work too: " + strings.Join(listed, ", ") + "."
	}
	normalize := func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := table[squash(name)]; ok {
			return pflag.NormalizedName(to)
		}
		return pflag.NormalizedName(name)
	}
	c.Flags().SetNormalizeFunc(normalize)
}

// flagValues are the fixed values of flags (--only: configureStepNames),
// offered by shell completion and as the task's pick lists.
var flagValues = map[string][]string{
	"activate-as":  {steps.ActivateAsServicePrincipal, steps.ActivateAsConnectionOwner},
	"auth":         {"auto", "secret", "certificate", "azure-pipelines", "github-oidc", "managed-identity", "azure-cli"},
	"host":         {"azure-devops", "github"},
	"line-endings": {"lf", "crlf"},
	"packagetype":  {"Unmanaged", "Managed", "Both"},
	"upgrade":      {"auto", "always", "never"},
}

// fileFlags complete to files with these extensions ("" any file), dirFlags
// to folders.
var (
	fileFlags = map[string][]string{"zipfile": {"zip"}, "keep": {"zip"}, "settings": {"json"}, "custom-settings": {"json"},
		"deployment-settings": {"json"}, "out": nil, "custom-out": {"json"}, "certificate-path": {"pem", "pfx"}}
	dirFlags = map[string]bool{"folder": true, "config": true, "dir": true, "repo": true}
)

// installCompletions registers value completion for every flag with fixed
// values (--packagetype, --upgrade, --only, ...), files and folders.
func installCompletions(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			var fn cobra.CompletionFunc
			switch {
			case f.Name == "output":
				if o, ok := f.Value.(*outputFormat); ok {
					fn = cobra.FixedCompletions(append([]string{"table", "json"}, o.extra...), cobra.ShellCompDirectiveNoFileComp)
				}
			case fixedValues(f.Name) != nil:
				values := fixedValues(f.Name)
				_ = c.Flags().SetAnnotation(f.Name, taskdefs.ValuesAnnotation, values)
				fn = cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
			case dirFlags[f.Name]:
				fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
					return nil, cobra.ShellCompDirectiveFilterDirs
				}
			default:
				ext, ok := fileFlags[f.Name]
				if !ok {
					return
				}
				fn = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
					if len(ext) == 0 {
						return nil, cobra.ShellCompDirectiveDefault
					}
					return ext, cobra.ShellCompDirectiveFilterFileExt
				}
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, fn)
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// configureStepNames are the values of configure's --only: the steps of
// the configure pipeline, in order.
// fixedValues are a flag's fixed values, or nil.
func fixedValues(flag string) []string {
	if flag == "only" {
		return configureStepNames()
	}
	return flagValues[flag]
}

func configureStepNames() []string {
	var names []string
	for _, s := range steps.ConfigurePipeline() {
		names = append(names, s.Name())
	}
	return names
}
