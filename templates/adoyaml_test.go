package templates_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// A small Azure Pipelines YAML evaluator for exactly the forms our templates
// use: template parameters (typed, with defaults and allowed values; object
// and stepList), `- template:` step includes, ${{ }} compile-time
// expressions (parameter and loop-variable paths, coalesce, format, eq, ne,
// and, or, not), conditional insertion (${{ if }} as a mapping key or a
// sequence item), loops (${{ each x in ... }} as a sequence item), a step
// list spliced where a sequence item is one expression, runtime stage
// conditions (and, or, not, succeeded, eq, ne, format, variables['X']) and
// $(Var) macros. As in Azure Pipelines, a property an object does not have
// is null (''), while an undeclared parameter is an error. Anything else is
// an error too, so a template cannot grow syntax this test does not run.

// exprNode is a parsed expression.
type exprNode struct {
	lit     *string // string literal
	isConst bool    // true, false or null: value below
	value   any
	path    []string // parameters.a.b
	index   string   // variables['X']
	fn      string   // function name
	args    []*exprNode
}

type exprParser struct{ exprScanner }

func parseExpr(src string) (*exprNode, error) {
	p := &exprParser{exprScanner{src: src}}
	return parseWhole(&p.exprScanner, p.expr)
}

func (p *exprParser) peek() byte {
	p.space()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*`)

func (p *exprParser) expr() (*exprNode, error) {
	switch c := p.peek(); {
	case c == '\'':
		s, err := p.quoted()
		return &exprNode{lit: &s}, err
	case c == 0:
		return nil, fmt.Errorf("unexpected end")
	}
	id := identRE.FindString(p.src[p.pos:])
	if id == "" {
		return nil, fmt.Errorf("unexpected %q at offset %d: expected a string literal, a path or a function call", p.src[p.pos:], p.pos)
	}
	p.pos += len(id)
	switch id {
	case "true", "false":
		if p.peek() != '(' {
			return &exprNode{isConst: true, value: id == "true"}, nil
		}
	case "null":
		if p.peek() != '(' {
			return &exprNode{isConst: true}, nil
		}
	}
	switch p.peek() {
	case '(':
		p.pos++
		args, err := callArgs(&p.exprScanner, id, p.expr)
		if err != nil {
			return nil, err
		}
		return &exprNode{fn: strings.ToLower(id), args: args}, nil
	case '[':
		if id != "variables" {
			return nil, fmt.Errorf("indexing %s: only variables['Name'] is supported", id)
		}
		p.pos++
		if p.peek() != '\'' {
			return nil, fmt.Errorf("variables[...] at offset %d: expected a quoted name", p.pos)
		}
		name, err := p.quoted()
		if err != nil {
			return nil, err
		}
		if p.peek() != ']' {
			return nil, fmt.Errorf("variables['%s' at offset %d: expected ]", name, p.pos)
		}
		p.pos++
		return &exprNode{index: name}, nil
	}
	return &exprNode{path: strings.Split(id, ".")}, nil
}

// exprScope is what an expression may read: parameters and loop variables
// at compile time, variables at run time (never both).
type exprScope struct {
	parameters map[string]any
	locals     map[string]any // ${{ each x in ... }} variables
	variables  *variables
}

// with returns the scope with loop variable name bound to v.
func (s exprScope) with(name string, v any) exprScope {
	locals := map[string]any{}
	for k, x := range s.locals {
		locals[k] = x
	}
	locals[name] = v
	s.locals = locals
	return s
}

func (s exprScope) eval(n *exprNode) (any, error) {
	switch {
	case n.isConst:
		return n.value, nil
	case n.lit != nil:
		return *n.lit, nil
	case n.path != nil:
		var cur any
		rest := n.path[1:]
		switch local, isLocal := s.locals[n.path[0]]; {
		case isLocal:
			cur = local
		case s.parameters != nil && n.path[0] == "parameters" && len(n.path) >= 2:
			// An undeclared parameter is an error; below it, a missing
			// property is null, as in Azure Pipelines.
			v, ok := s.parameters[n.path[1]]
			if !ok {
				return nil, fmt.Errorf("%s: no parameter %q", strings.Join(n.path, "."), n.path[1])
			}
			cur, rest = v, n.path[2:]
		default:
			return nil, fmt.Errorf("%s: only parameters.<name> and loop variable paths are supported here", strings.Join(n.path, "."))
		}
		for i, seg := range rest {
			if cur == nil {
				return nil, nil
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s is not an object", strings.Join(n.path, "."), strings.Join(n.path[:len(n.path)-len(rest)+i], "."))
			}
			cur = m[seg]
		}
		return cur, nil
	case n.index != "":
		if s.variables == nil {
			return nil, fmt.Errorf("variables['%s']: variables are not known at compile time", n.index)
		}
		v, ok := s.variables.get(n.index)
		if !ok {
			return nil, fmt.Errorf("variables['%s'] is not defined", n.index)
		}
		return v, nil
	}
	args, err := evalArgs(n.args, s.eval)
	if err != nil {
		return nil, err
	}
	want := func(k int) error {
		if len(args) != k {
			return fmt.Errorf("%s: expected %d argument(s), got %d", n.fn, k, len(args))
		}
		return nil
	}
	switch n.fn {
	case "coalesce":
		for _, a := range args {
			if a != nil && a != "" {
				return a, nil
			}
		}
		return "", nil
	case "format":
		if len(args) == 0 {
			return nil, fmt.Errorf("format: expected a format string")
		}
		out, err := scalar(args[0])
		if err != nil {
			return nil, fmt.Errorf("format: %w", err)
		}
		for i, a := range args[1:] {
			v, err := scalar(a)
			if err != nil {
				return nil, fmt.Errorf("format argument %d: %w", i, err)
			}
			out = strings.ReplaceAll(out, "{"+strconv.Itoa(i)+"}", v)
		}
		return out, nil
	case "eq", "ne":
		if err := want(2); err != nil {
			return nil, err
		}
		a, err1 := scalar(args[0])
		b, err2 := scalar(args[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: expected scalars", n.fn)
		}
		return strings.EqualFold(a, b) == (n.fn == "eq"), nil
	case "and", "or":
		if len(args) < 2 {
			return nil, fmt.Errorf("%s: expected at least 2 arguments", n.fn)
		}
		for _, a := range args {
			b, ok := a.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: argument %v is not a boolean", n.fn, a)
			}
			if b == (n.fn == "or") {
				return b, nil
			}
		}
		return n.fn == "and", nil
	case "not":
		if err := want(1); err != nil {
			return nil, err
		}
		b, ok := args[0].(bool)
		if !ok {
			return nil, fmt.Errorf("not: argument %v is not a boolean", args[0])
		}
		return !b, nil
	case "succeeded":
		if s.variables == nil {
			return nil, fmt.Errorf("succeeded() is a runtime function")
		}
		// The test stops at the first failing step, so every dependency
		// that ran succeeded.
		return true, nil
	}
	return nil, fmt.Errorf("function %s is not supported by this evaluator", n.fn)
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil // null reads as ''
	case string:
		return x, nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("%v (%T) is not a scalar", v, v)
}

var compileExprRE = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// truthy is how ${{ if }} reads a value: false, null, ” and 0 are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	}
	return true
}

// expandString evaluates the ${{ }} expressions in s. A string that is one
// expression takes the expression's value, which may be an object.
func expandString(s string, params map[string]any) (any, error) {
	return expandStringIn(s, exprScope{parameters: params})
}

func expandStringIn(s string, scope exprScope) (any, error) {
	if m := compileExprRE.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		n, err := parseExpr(s[m[2]:m[3]])
		if err != nil {
			return nil, err
		}
		return scope.eval(n)
	}
	var firstErr error
	out := compileExprRE.ReplaceAllStringFunc(s, func(e string) string {
		n, err := parseExpr(compileExprRE.FindStringSubmatch(e)[1])
		if err == nil {
			var v any
			if v, err = scope.eval(n); err == nil {
				var str string
				if str, err = scalar(v); err == nil {
					return str
				}
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%q: %w", e, err)
		}
		return e
	})
	if strings.Contains(out, "${{") && firstErr == nil {
		firstErr = fmt.Errorf("%q: unterminated ${{ expression", s)
	}
	return out, firstErr
}

// expand evaluates every ${{ }} in v and splices `- template:` items of
// sequences; dir is the folder of the file v comes from.
func expand(v any, params map[string]any, dir string) (any, error) {
	return expandIn(v, exprScope{parameters: params}, dir)
}

var (
	ifKeyRE   = regexp.MustCompile(`^\$\{\{\s*if\s+(.+?)\s*\}\}$`)
	eachKeyRE = regexp.MustCompile(`^\$\{\{\s*each\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+?)\s*\}\}$`)
)

// directive evaluates a ${{ if }} or ${{ each }} key: for an if, whether
// to insert (and no items); for an each, the items to loop over.
func directive(key string, scope exprScope) (kind, name string, insert bool, items []any, err error) {
	if m := ifKeyRE.FindStringSubmatch(key); m != nil {
		n, err := parseExpr(m[1])
		if err != nil {
			return "", "", false, nil, fmt.Errorf("%s: %w", key, err)
		}
		v, err := scope.eval(n)
		if err != nil {
			return "", "", false, nil, fmt.Errorf("%s: %w", key, err)
		}
		return "if", "", truthy(v), nil, nil
	}
	if m := eachKeyRE.FindStringSubmatch(key); m != nil {
		n, err := parseExpr(m[2])
		if err != nil {
			return "", "", false, nil, fmt.Errorf("%s: %w", key, err)
		}
		v, err := scope.eval(n)
		if err != nil {
			return "", "", false, nil, fmt.Errorf("%s: %w", key, err)
		}
		switch x := v.(type) {
		case nil:
			return "each", m[1], false, nil, nil
		case []any:
			return "each", m[1], false, x, nil
		}
		return "", "", false, nil, fmt.Errorf("%s: %v (%T) is not a list", key, v, v)
	}
	return "", "", false, nil, fmt.Errorf("key %q: only ${{ if cond }} and ${{ each x in list }} insertions are supported by this evaluator", key)
}

func expandIn(v any, scope exprScope, dir string) (any, error) {
	switch x := v.(type) {
	case string:
		return expandStringIn(x, scope)
	case map[string]any:
		out := map[string]any{}
		merge := func(m map[string]any, where string) error {
			for k, val := range m {
				if _, dup := out[k]; dup {
					return fmt.Errorf("%s: key %q is set twice", where, k)
				}
				out[k] = val
			}
			return nil
		}
		for k, val := range x {
			if !strings.Contains(k, "${{") {
				continue
			}
			kind, _, insert, _, err := directive(k, scope)
			if err != nil {
				return nil, err
			}
			if kind != "if" {
				return nil, fmt.Errorf("key %q: an each insertion in a mapping is not supported by this evaluator", k)
			}
			if !insert {
				continue
			}
			m, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("key %q: expected a mapping to insert", k)
			}
			e, err := expandIn(m, scope, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if err := merge(e.(map[string]any), k); err != nil {
				return nil, err
			}
		}
		for k, val := range x {
			if strings.Contains(k, "${{") {
				continue
			}
			e, err := expandIn(val, scope, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if err := merge(map[string]any{k: e}, k); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := []any{}
		for i, item := range x {
			if m, ok := item.(map[string]any); ok && len(m) == 1 {
				var key string
				var val any
				for key, val = range m {
				}
				if strings.Contains(key, "${{") {
					kind, name, insert, items, err := directive(key, scope)
					if err != nil {
						return nil, fmt.Errorf("item %d: %w", i, err)
					}
					body, ok := val.([]any)
					if !ok {
						return nil, fmt.Errorf("item %d: %s: expected a sequence to insert", i, key)
					}
					switch {
					case kind == "if" && insert:
						e, err := expandIn(body, scope, dir)
						if err != nil {
							return nil, fmt.Errorf("item %d: %w", i, err)
						}
						out = append(out, e.([]any)...)
					case kind == "each":
						for _, it := range items {
							e, err := expandIn(body, scope.with(name, it), dir)
							if err != nil {
								return nil, fmt.Errorf("item %d: %s: %w", i, key, err)
							}
							out = append(out, e.([]any)...)
						}
					}
					continue
				}
			}
			if m, ok := item.(map[string]any); ok && m["template"] != nil {
				items, err := include(m, scope, dir)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out = append(out, items...)
				continue
			}
			e, err := expandIn(item, scope, dir)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			// A sequence item that is one expression naming a list (a
			// stepList parameter) is replaced by the list's items.
			if str, ok := item.(string); ok && compileExprRE.FindString(str) == str && str != "" {
				if list, ok := e.([]any); ok {
					out = append(out, list...)
					continue
				}
			}
			out = append(out, e)
		}
		return out, nil
	}
	return v, nil
}

// include expands a `- template: file` item with its parameters into the
// items of the included template's one list (steps, jobs or stages).
func include(item map[string]any, caller exprScope, dir string) ([]any, error) {
	for k := range item {
		if k != "template" && k != "parameters" {
			return nil, fmt.Errorf("template item has key %q: expected template and parameters only", k)
		}
	}
	ref, ok := item["template"].(string)
	if !ok || strings.Contains(ref, "@") || strings.Contains(ref, "${{") {
		return nil, fmt.Errorf("template %v: expected a path in the same repository", item["template"])
	}
	given := map[string]any{}
	if item["parameters"] != nil {
		p, err := expandIn(item["parameters"], caller, dir)
		if err != nil {
			return nil, fmt.Errorf("template %s parameters: %w", ref, err)
		}
		if given, ok = p.(map[string]any); !ok {
			return nil, fmt.Errorf("template %s: parameters must be a mapping", ref)
		}
	}
	doc, err := loadTemplate(filepath.Join(dir, filepath.FromSlash(ref)), given)
	if err != nil {
		return nil, err
	}
	var lists []string
	for k, v := range doc {
		if k == "parameters" {
			continue
		}
		if _, ok := v.([]any); ok && (k == "steps" || k == "jobs" || k == "stages") {
			lists = append(lists, k)
		} else {
			return nil, fmt.Errorf("template %s: top-level key %q: expected steps, jobs or stages", ref, k)
		}
	}
	if len(lists) != 1 {
		return nil, fmt.Errorf("template %s: expected one of steps, jobs or stages, got %v", ref, lists)
	}
	return doc[lists[0]].([]any), nil
}

// loadTemplate reads a template file, binds its declared parameters to
// given (checking names, types, defaults and allowed values) and returns
// the document with every expression evaluated.
func loadTemplate(path string, given map[string]any) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	params, err := bindParameters(doc["parameters"], given)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out, err := expand(doc, params, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out.(map[string]any), nil
}

func bindParameters(decl any, given map[string]any) (map[string]any, error) {
	list, _ := decl.([]any)
	if decl != nil && list == nil {
		return nil, fmt.Errorf("parameters: expected a list of {name, type, default, values}")
	}
	out := map[string]any{}
	declared := map[string]bool{}
	for _, d := range list {
		p, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parameters: entry %v is not a mapping", d)
		}
		name, _ := p["name"].(string)
		typ, _ := p["type"].(string)
		declared[name] = true
		v, ok := given[name]
		if !ok {
			if v, ok = p["default"]; !ok {
				return nil, fmt.Errorf("parameter %s: required (no default) but not given", name)
			}
		}
		switch typ {
		case "string":
			s, err := scalar(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %s (string): %w", name, err)
			}
			v = s
		case "boolean":
			if _, ok := v.(bool); !ok {
				return nil, fmt.Errorf("parameter %s (boolean): %v (%T) is not true or false", name, v, v)
			}
		case "object":
		case "stepList":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("parameter %s (stepList): %v (%T) is not a list of steps", name, v, v)
			}
			for i, st := range list {
				if _, ok := st.(map[string]any); !ok {
					return nil, fmt.Errorf("parameter %s (stepList): item %d is not a step", name, i)
				}
			}
		default:
			return nil, fmt.Errorf("parameter %s: type %q is not supported by this evaluator", name, typ)
		}
		if vals, ok := p["values"].([]any); ok {
			found := false
			for _, a := range vals {
				found = found || a == v
			}
			if !found {
				return nil, fmt.Errorf("parameter %s: %v is not one of %v", name, v, vals)
			}
		}
		out[name] = v
	}
	var extra []string
	for k := range given {
		if !declared[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("unexpected parameter(s) %s", strings.Join(extra, ", "))
	}
	return out, nil
}

// variables are a run's variables, looked up case-insensitively as the
// agent does.
type variables struct {
	values  map[string]string // lower-case name -> value
	names   map[string]string // lower-case name -> name as defined
	secrets map[string]bool   // lower-case names
}

func newVariables() *variables {
	return &variables{values: map[string]string{}, names: map[string]string{}, secrets: map[string]bool{}}
}

func (v *variables) set(name, value string) {
	v.values[strings.ToLower(name)], v.names[strings.ToLower(name)] = value, name
}

func (v *variables) setSecret(name, value string) {
	v.set(name, value)
	v.secrets[strings.ToLower(name)] = true
}

func (v *variables) get(name string) (string, bool) {
	s, ok := v.values[strings.ToLower(name)]
	return s, ok
}

func (v *variables) clone() *variables {
	c := newVariables()
	for k, val := range v.values {
		c.values[k], c.names[k], c.secrets[k] = val, v.names[k], v.secrets[k]
	}
	return c
}

var macroRE = regexp.MustCompile(`\$\(([A-Za-z0-9_.\-]+)\)`)

// macros replaces $(Name) with the variable's value. An undefined variable
// is an error here (the agent would leave the macro in place).
func (v *variables) macros(s string) (string, error) {
	var missing []string
	out := macroRE.ReplaceAllStringFunc(s, func(m string) string {
		name := macroRE.FindStringSubmatch(m)[1]
		val, ok := v.get(name)
		if !ok {
			missing = append(missing, name)
			return m
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q: undefined variable(s) %s", s, strings.Join(missing, ", "))
	}
	if strings.Contains(out, "$[") || strings.Contains(out, "${{") {
		return "", fmt.Errorf("%q: expression left after expansion", out)
	}
	return out, nil
}

// condition evaluates a stage or job condition at run time; "" is
// succeeded().
func (v *variables) condition(cond string) (bool, error) {
	if strings.TrimSpace(cond) == "" {
		cond = "succeeded()"
	}
	n, err := parseExpr(cond)
	if err != nil {
		return false, err
	}
	r, err := exprScope{variables: v}.eval(n)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", cond, err)
	}
	b, ok := r.(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: result %v is not a boolean", cond, r)
	}
	return b, nil
}

// envName is the agent's ConvertToEnvVariableFormat: '.' and ' ' become
// '_', then upper case.
func envName(name string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", " ", "_").Replace(name))
}

// TestTemplateEvaluator checks the evaluator itself: the forms the
// templates use give the values Azure Pipelines gives, and anything else is
// an error rather than a silent pass.
func TestTemplateEvaluator(t *testing.T) {
	params := map[string]any{"name": "Contoso", "folder": "", "test": map[string]any{"config": "Test"}}
	for _, tt := range []struct{ in, want string }{
		{"${{ parameters.name }}", "Contoso"},
		{"a/${{ coalesce(parameters.folder, parameters.name) }}/b", "a/Contoso/b"},
		{"${{ parameters.test.config }}-$(Build.BuildNumber)", "Test-$(Build.BuildNumber)"},
		{"eq(x, format('refs/heads/{0}', '${{ parameters.name }}'))", "eq(x, format('refs/heads/{0}', 'Contoso'))"},
	} {
		got, err := expandString(tt.in, params)
		if err != nil || got != tt.want {
			t.Errorf("expand %q = %v, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"${{ parameters.missing }}",
		"${{ replace(parameters.name, 'C', 'K') }}",
		"${{ variables.x }}",
		"${{ parameters.test }}/x", // an object inside a string
		"${{ parameters.name",
	} {
		if got, err := expandString(bad, params); err == nil {
			t.Errorf("expand %q = %v: expected an error", bad, got)
		}
	}
	// Conditional insertion and loops, as Azure Pipelines reads them.
	got, err := expand(map[string]any{
		"${{ if eq(parameters.name, 'Contoso') }}": map[string]any{"a": "yes"},
		"${{ if eq(parameters.name, 'x') }}":       map[string]any{"b": "no"},
		"steps": []any{
			map[string]any{"${{ each e in parameters.envs }}": []any{map[string]any{"stage": "${{ e.name }}", "cfg": "${{ coalesce(e.config, e.name) }}"}}},
			map[string]any{"${{ if parameters.folder }}": []any{"folder"}},
			"${{ parameters.hooks }}",
			"last",
		},
	}, map[string]any{"name": "Contoso", "folder": "", "hooks": []any{map[string]any{"script": "echo"}},
		"envs": []any{map[string]any{"name": "test", "config": "Test"}, map[string]any{"name": "prod"}}}, ".")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"yes","steps":[{"cfg":"Test","stage":"test"},{"cfg":"prod","stage":"prod"},{"script":"echo"},"last"]}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("insertions expanded to %s, want %s", b, want)
	}
	for _, bad := range []map[string]any{
		{"${{ else }}": map[string]any{}},
		{"${{ if eq(parameters.name) }}": map[string]any{}},
		{"x": []any{map[string]any{"${{ each e in parameters.name }}": []any{"x"}}}},
		{"${{ if eq('a', 'a') }}": map[string]any{"a": 1}, "a": 2},
	} {
		if got, err := expand(bad, params, "."); err == nil {
			t.Errorf("expand %v = %v: expected an error", bad, got)
		}
	}

	v := newVariables()
	v.set("Build.Reason", "PullRequest")
	for cond, want := range map[string]bool{
		"": true,
		"and(succeeded(), eq(variables['build.reason'], 'pullrequest'))": true,
		"and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))": false,
		"or(eq('a', 'b'), not(eq('a', 'b')))":                            true,
	} {
		if got, err := v.condition(cond); err != nil || got != want {
			t.Errorf("condition %q = %v, %v; want %v", cond, got, err, want)
		}
	}
	for _, bad := range []string{"eq(variables['Undefined'], 'x')", "always()", "eq('a')", "and(succeeded(), 'x')", "$[ eq(1, 1) ]"} {
		if got, err := v.condition(bad); err == nil {
			t.Errorf("condition %q = %v: expected an error", bad, got)
		}
	}
	if _, err := v.macros("$(Undefined.Variable)/x"); err == nil {
		t.Error("an undefined $(macro) expanded without error")
	}
	if _, err := bindParameters([]any{map[string]any{"name": "upgrade", "type": "string", "default": "auto", "values": []any{"auto", "never"}}},
		map[string]any{"upgrade": "sometimes"}); err == nil {
		t.Error("a parameter value outside values: was accepted")
	}
	if _, err := bindParameters([]any{map[string]any{"name": "a", "type": "string"}}, map[string]any{"a": "x", "b": "y"}); err == nil {
		t.Error("an undeclared parameter was accepted")
	}
}

// TestImportUnmanagedTemplateExpands expands import-unmanaged-to-dev.yml,
// which shares steps/deploy-steps.yml: every expression evaluates and
// configure reads the custom settings.
func TestImportUnmanagedTemplateExpands(t *testing.T) {
	doc, err := loadTemplate(filepath.Join("azure-devops", "import-unmanaged-to-dev.yml"),
		map[string]any{"solutionName": "Contoso", "serviceConnection": "contoso-dev", "config": "JohannaDev"})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := doc["stages"].([]any)
	jobs, _ := stages[0].(map[string]any)["jobs"].([]any)
	steps, _ := jobs[0].(map[string]any)["steps"].([]any)
	var configure map[string]any
	for _, s := range steps {
		if in, ok := s.(map[string]any)["inputs"].(map[string]any); ok && in["command"] == "configure" {
			configure = in
		}
	}
	// The config folder, looked up for the config's name as the
	// Accelerator did (config/JohannaDev/, then the shared files).
	if want := "$(Build.SourcesDirectory)/Contoso/config"; configure == nil || configure["settings"] != want || configure["environmentName"] != "JohannaDev" {
		t.Errorf("configure inputs %v: want settings %s for environment JohannaDev", configure, want)
	}
}

// build-deploy-solution.yml takes any number of environments in any order:
// each becomes a stage after the build (and after the stages it names),
// routed by its own trigger, linking its own variable group.
func TestAzureDevOpsEnvironmentsAnyNumberAnyOrder(t *testing.T) {
	doc, err := loadTemplate(filepath.Join("azure-devops", "build-deploy-solution.yml"), map[string]any{
		"solutionName": "Contoso",
		"environments": []any{
			map[string]any{"name": "prod", "branch": "main", "dependsOn": []any{"uat"}, "variableGroup": "contoso-prod"},
			map[string]any{"name": "uat", "branch": "main", "config": "UAT", "variableGroup": "contoso-uat", "serviceConnection": "contoso-uat"},
			map[string]any{"name": "validation", "pullRequest": true},
			map[string]any{"name": "sandbox"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]map[string]any{}
	for _, s := range listOf(t, doc["stages"], "stages") {
		names = append(names, str(s["stage"]))
		byName[str(s["stage"])] = s
	}
	if got := strings.Join(names, ","); got != "build,prod,uat,validation,sandbox" {
		t.Fatalf("stages %s", got)
	}
	if deps, _ := json.Marshal(byName["prod"]["dependsOn"]); string(deps) != `["build","uat"]` {
		t.Errorf("prod depends on %s", deps)
	}
	if vars, _ := json.Marshal(byName["uat"]["variables"]); string(vars) != `[{"group":"contoso-uat"}]` {
		t.Errorf("uat variables %s", vars)
	}
	if vars, _ := json.Marshal(byName["sandbox"]["variables"]); string(vars) != `[]` {
		t.Errorf("sandbox variables %s", vars)
	}
	for _, tt := range []struct {
		reason, branch, want string
	}{
		{"IndividualCI", "refs/heads/main", "prod,uat,sandbox"},
		{"PullRequest", "refs/pull/3/merge", "validation"},
		{"Manual", "refs/heads/feature", "sandbox"},
	} {
		v := newVariables()
		v.set("Build.Reason", tt.reason)
		v.set("Build.SourceBranch", tt.branch)
		var got []string
		for _, n := range names[1:] {
			ok, err := v.condition(str(byName[n]["condition"]))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				got = append(got, n)
			}
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s on %s deploys to %v, want %s", tt.reason, tt.branch, got, tt.want)
		}
	}
	// Each stage's deployment reads its own config and connection.
	steps := listOf(t, listOf(t, byName["uat"]["jobs"], "jobs")[0]["strategy"].(map[string]any)["runOnce"].(map[string]any)["deploy"].(map[string]any)["steps"], "steps")
	in := steps[0]["inputs"].(map[string]any)
	if in["environmentName"] != "UAT" || in["powerPlatformSPN"] != "contoso-uat" {
		t.Errorf("uat plan inputs %v", in)
	}
	steps = listOf(t, listOf(t, byName["sandbox"]["jobs"], "jobs")[0]["strategy"].(map[string]any)["runOnce"].(map[string]any)["deploy"].(map[string]any)["steps"], "steps")
	if in := steps[0]["inputs"].(map[string]any); in["environmentName"] != "sandbox" || in["powerPlatformSPN"] != "$(ServiceConnection)" {
		t.Errorf("sandbox plan inputs %v", in)
	}
}
