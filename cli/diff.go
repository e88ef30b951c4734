package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/solution/diff"
	"github.com/ppalm/ppalm/steps"
)

func init() { register("diff", newDiffCmd) }

func newDiffCmd(f *Factory) *cobra.Command {
	var from, to string
	var exitCode bool
	var out *output
	cmd := &cobra.Command{
		Use: "diff FROM TO",
		Example: `  ppalm diff MySolution_1_0_3_0.zip MySolution_1_0_4_0.zip
  # a tree against a zip, as Markdown for a pull request
  ppalm diff build/MySolution.zip MySolution/SolutionPackage/src --output markdown
  # in a script: exit code 2 when they differ
  ppalm diff --from old.zip --to new.zip --exit-code --output json`,
		Short: "Show what changed between two versions of a solution, component by component",
		Long: "diff compares two versions of a solution, each a solution zip or an unpacked tree, and lists the\n" +
			"components added, changed and removed: tables and their columns, forms and views, cloud flows and\n" +
			"other processes, canvas and model-driven apps, connection references, environment variables,\n" +
			"security roles, plug-in assemblies and steps, custom connectors, web resources, and any other\n" +
			"component the zip holds. A changed component says what differs in it. What changes on every\n" +
			"export without anyone changing anything (the version, line endings, a canvas app's AppVersion and\n" +
			"blob names) is not a change. The output is text, JSON or Markdown (for a pull request); under an\n" +
			"Azure DevOps or GitHub run the Markdown also goes to the run summary.\n\n" +
			"Exit codes: 0 compared (with --exit-code: nothing changed); 2 with --exit-code, the versions\n" +
			"differ; 1 a version could not be read.",
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 2 && from == "" && to == "":
				from, to = args[0], args[1]
			case len(args) != 0 && (from != "" || to != ""):
				return fmt.Errorf("diff: give FROM and TO as two arguments or as --from and --to, not both")
			case len(args) == 1, from == "" || to == "":
				return fmt.Errorf("diff: two versions are needed: ppalm diff FROM TO (zips or unpacked folders)")
			}
			r, err := steps.Diff(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			_ = f.reporter().Summary(r.Markdown(200))
			switch {
			case out.json():
				if err := f.writeJSON(r); err != nil {
					return err
				}
			case out.is("markdown"):
				fmt.Fprint(f.Stdout, r.Markdown(0))
			default:
				fmt.Fprint(f.Stdout, colorDiff(r.Text(), f))
			}
			if exitCode && !r.Same() {
				return &ExitError{Code: ExitCheckFailed, Err: fmt.Errorf("diff: %d added, %d changed, %d removed", r.Added, r.Changed, r.Removed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the earlier version: a solution zip or an unpacked folder (or the first argument)")
	cmd.Flags().StringVar(&to, "to", "", "the later version: a solution zip or an unpacked folder (or the second argument)")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit with 2 when the versions differ, as git diff --exit-code")
	out = addOutputFlag(cmd, diff.Result{}, "markdown")
	return cmd
}

// colorDiff colours the marks of a diff's text lines on a terminal.
func colorDiff(text string, f *Factory) string {
	p := f.palette()
	if !p.On {
		return text
	}
	var b []byte
	for _, line := range splitKeep(text) {
		switch {
		case len(line) > 3 && line[:4] == "  + ":
			line = "  " + p.Green("+") + line[3:]
		case len(line) > 3 && line[:4] == "  - ":
			line = "  " + p.Red("-") + line[3:]
		case len(line) > 3 && line[:4] == "  ~ ":
			line = "  " + p.Yellow("~") + line[3:]
		}
		b = append(b, line...)
	}
	return string(b)
}

// splitKeep splits s into lines, each keeping its newline.
func splitKeep(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		if i < len(s) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}
