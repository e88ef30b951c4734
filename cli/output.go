package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"
)

// --output table|json: every command that reports prints either its table
// (for people) or one JSON document (for scripts) on stdout; logs go to
// stderr either way. The document's fields are the json names of the Go
// type the command registers (addOutputFlag), listed with their meaning by
// `ppalm help output` and shown in cli/testdata/json/*.json; a field is
// never renamed or given another type, only added.

// outputFormat is the --output flag's value, checked when parsed.
type outputFormat struct {
	value string
	// extra are formats beyond table and json (diff: markdown).
	extra []string
}

func (o *outputFormat) String() string { return o.value }
func (o *outputFormat) Type() string   { return "string" }
func (o *outputFormat) Set(s string) error {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "text" {
		v = "table"
	}
	for _, ok := range append([]string{"table", "json"}, o.extra...) {
		if v == ok {
			o.value = v
			return nil
		}
	}
	return fmt.Errorf("%q: expected %s", s, strings.Join(append([]string{"table", "json"}, o.extra...), ", "))
}

// output is a command's --output flag.
type output struct{ format outputFormat }

// json says whether the command writes its JSON document.
func (o *output) json() bool { return o != nil && o.format.value == "json" }

// is says whether the command writes format f.
func (o *output) is(f string) bool { return o != nil && o.format.value == f }

// jsonTypes maps a type name (the annotation on a command) to the type of
// its JSON document, for `ppalm help output`.
var (
	jsonTypesMu sync.Mutex
	jsonTypes   = map[string]reflect.Type{}
)

const jsonAnnotation = "ppalm/json-document"

// addOutputFlag gives cmd --output table|json; doc is a value of the type
// the command writes with --output json.
func addOutputFlag(cmd *cobra.Command, doc any, extra ...string) *output {
	o := &output{format: outputFormat{value: "table", extra: extra}}
	usage := "table or json: json writes one JSON document to stdout (its fields: ppalm help output)"
	if len(extra) > 0 {
		usage = "table (text), json or " + strings.Join(extra, " or ") + ": json writes one JSON document to stdout (its fields: ppalm help output)"
	}
	cmd.Flags().VarP(&o.format, "output", "o", usage)
	t := reflect.TypeOf(doc)
	jsonTypesMu.Lock()
	jsonTypes[t.String()] = t
	jsonTypesMu.Unlock()
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[jsonAnnotation] = t.String()
	return o
}

// writeJSON writes v to stdout as one indented JSON document.
func (f *Factory) writeJSON(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	_, err := f.Stdout.Write(b.Bytes())
	return err
}

// outputHelp is the text of `ppalm help output`: each command's document,
// field by field.
func outputHelp(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString(`Every command that reports takes --output table|json (-o). With json it writes exactly one JSON
document to stdout and nothing else there; logs, warnings and errors go to stderr. Field names are
stable: a field is only ever added, never renamed or retyped. A field marked "omitted when empty"
is left out rather than written as "" or null; lists are [] when empty. Durations are milliseconds.
A command that fails before it can report writes no document (the exit code and stderr say why);
the pipelines (export-to-git, build, import, configure) write theirs with "succeeded": false.
`)
	var paths []string
	byPath := map[string]reflect.Type{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if name, ok := c.Annotations[jsonAnnotation]; ok {
			jsonTypesMu.Lock()
			byPath[c.CommandPath()] = jsonTypes[name]
			jsonTypesMu.Unlock()
			paths = append(paths, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&b, "\n%s --output json\n", p)
		describe(&b, byPath[p], "  ", map[reflect.Type]bool{})
	}
	return b.String()
}

// describe writes one line per field of t: its JSON name, type and doc tag.
func describe(b *strings.Builder, t reflect.Type, indent string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			describe(b, f.Type, indent, seen)
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		doc := f.Tag.Get("doc")
		if strings.Contains(opts, "omitempty") {
			if doc != "" {
				doc += " "
			}
			doc += "(omitted when empty)"
		}
		fmt.Fprintf(b, "%s%-22s %-9s %s\n", indent, name, jsonKind(f.Type), doc)
		elem := f.Type
		for elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Slice || elem.Kind() == reflect.Map {
			elem = elem.Elem()
		}
		if elem.Kind() == reflect.Struct && elem.PkgPath() != "time" {
			describe(b, elem, indent+"  ", seen)
		}
	}
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return jsonKind(t.Elem()) + "[]"
	case reflect.Map:
		return "object"
	case reflect.Struct:
		if t.PkgPath() == "time" {
			return "string"
		}
		return "object"
	}
	return t.Kind().String()
}
