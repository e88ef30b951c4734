package taskdefs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/task"
)

const minimalTaskJSON = `{"id":"826b4b31-bbc2-4434-bebe-09d2d857f662","name":"ppalm","version":{"Major":1,"Minor":0,"Patch":0},
"inputs":[],"execution":{"Node24":{"target":"index.js"}}}`

// tree is a small command tree: two commands sharing --folder with
// different usages, a local command, a bool, a pickList and a list flag.
func tree() *cobra.Command {
	root := &cobra.Command{Use: "ppalm"}
	run := func(*cobra.Command, []string) error { return nil }
	unpack := &cobra.Command{Use: "unpack", Short: "Unpack", RunE: run}
	unpack.Flags().String("folder", "", "folder to write into")
	unpack.Flags().String("line-endings", "lf", "lf or crlf")
	_ = unpack.Flags().SetAnnotation("line-endings", ValuesAnnotation, []string{"lf", "crlf"})
	_ = unpack.MarkFlagRequired("folder")
	version := &cobra.Command{Use: "version"}
	set := &cobra.Command{Use: "set", Short: "Set the version", RunE: run}
	set.Flags().String("folder", "", "unpacked solution folder")
	set.Flags().Bool("keep-existing", false, "stamp only 0.0.0.0")
	set.Flags().StringArray("label", nil, "label to add")
	version.AddCommand(set)
	demo := &cobra.Command{Use: "demo", Short: "Demo", RunE: run}
	demo.Flags().Bool("serve", false, "keep serving")
	root.AddCommand(unpack, version, demo)
	return root
}

func TestGenerate(t *testing.T) {
	tj, ay, err := Generate(tree(), []byte(minimalTaskJSON))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Inputs []struct {
			Name, Type, DefaultValue, HelpMarkDown, VisibleRule string
			Options                                             map[string]string
		}
	}
	if err := json.Unmarshal(tj, &got); err != nil {
		t.Fatalf("task.json: %v\n%s", err, tj)
	}
	byName := map[string]int{}
	for i, in := range got.Inputs {
		byName[in.Name] = i
	}
	want := map[string]struct{ typ, def, rule string }{
		"folder":       {"string", "", "command = unpack || command = version-set"},
		"lineEndings":  {"pickList", "lf", "command = unpack"},
		"keepExisting": {"boolean", "false", "command = version-set"},
		"label":        {"multiLine", "", "command = version-set"},
	}
	for name, w := range want {
		i, ok := byName[name]
		if !ok {
			t.Errorf("no input %s in\n%s", name, tj)
			continue
		}
		in := got.Inputs[i]
		if in.Type != w.typ || in.DefaultValue != w.def || in.VisibleRule != w.rule {
			t.Errorf("input %s: type %q default %q rule %q, want %q %q %q", name, in.Type, in.DefaultValue, in.VisibleRule, w.typ, w.def, w.rule)
		}
	}
	if _, ok := byName["serve"]; ok {
		t.Errorf("the local command demo's --serve became an input")
	}
	if h := got.Inputs[byName["folder"]].HelpMarkDown; !strings.Contains(h, "`unpack`: Folder to write into.") || !strings.Contains(h, "Required by `unpack`.") {
		t.Errorf("folder help %q", h)
	}
	if o := got.Inputs[byName["command"]].Options; len(o) != 2 || o["version-set"] != "Set the version" {
		t.Errorf("command options %v", o)
	}
	for _, line := range []string{"  keep-existing:\n", "    default: \"false\"\n", "  folder:\n"} {
		if !strings.Contains(string(ay), line) {
			t.Errorf("action.yml has no %q:\n%s", line, ay)
		}
	}
}

// The task.json names must reach TaskArgs: "INPUT_" + the name upper-cased
// (what the agent sets) is one of the spellings task mode looks up.
func TestAzureDevOpsNameIsLookedUp(t *testing.T) {
	for _, flag := range []string{"folder", "keep-existing", "drop-environment-variable-values", "github-api-url"} {
		name := AzureDevOpsName(flag)
		if !slices.Contains(task.InputEnvNames(flag), "INPUT_"+strings.ToUpper(name)) {
			t.Errorf("--%s: task.json name %s arrives as INPUT_%s, which task.InputEnvNames(%q) = %v does not look up",
				flag, name, strings.ToUpper(name), flag, task.InputEnvNames(flag))
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	if _, _, err := Generate(tree(), []byte(`{"id":"x","inputs":[],"somethingNew":1}`)); err == nil || !strings.Contains(err.Error(), "somethingNew") {
		t.Errorf("unknown task.json field: err = %v, want it named", err)
	}
	root := tree()
	cmd, _, _ := root.Find([]string{"unpack"})
	cmd.Flags().String("upgrade", "auto", "upgrade mode") // usage names none of auto, always, never
	_ = cmd.Flags().SetAnnotation("upgrade", ValuesAnnotation, []string{"auto", "always", "never"})
	if _, _, err := Generate(root, []byte(minimalTaskJSON)); err == nil || !strings.Contains(err.Error(), `pickList option "auto"`) {
		t.Errorf("pickList option not in usage: err = %v", err)
	}
	root = tree()
	cmd, _, _ = root.Find([]string{"version", "set"})
	cmd.Flags().String("line-endings", "lf", "lf, crlf or cr")
	_ = cmd.Flags().SetAnnotation("line-endings", ValuesAnnotation, []string{"lf", "crlf", "cr"})
	if _, _, err := Generate(root, []byte(minimalTaskJSON)); err == nil || !strings.Contains(err.Error(), "different values") {
		t.Errorf("one flag name, two value lists: err = %v", err)
	}
	root = tree()
	cmd, _, _ = root.Find([]string{"unpack"})
	cmd.Flags().Int("label", 0, "a different type")
	if _, _, err := Generate(root, []byte(minimalTaskJSON)); err == nil || !strings.Contains(err.Error(), "different types") {
		t.Errorf("one flag name, two types: err = %v", err)
	}
}
