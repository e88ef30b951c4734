package templates_test

import (
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
// use: template parameters (typed, with defaults and allowed values),
// `- template:` step includes, ${{ }} compile-time expressions (parameter
// paths, coalesce, format, eq, ne), runtime stage conditions (and, or, not,
// succeeded, eq, ne, format, variables['X']) and $(Var) macros. Anything
// else is an error, so a template cannot grow syntax this test does not run.

// exprNode is a parsed expression.
type exprNode struct {
	lit   *string  // string literal
	path  []string // parameters.a.b
	index string   // variables['X']
	fn    string   // function name
	args  []*exprNode
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

// exprScope is what an expression may read: parameters at compile time,
// variables at run time (never both).
type exprScope struct {
	parameters map[string]any
	variables  *variables
}

func (s exprScope) eval(n *exprNode) (any, error) {
	switch {
	case n.lit != nil:
		return *n.lit, nil
	case n.path != nil:
		if s.parameters == nil || n.path[0] != "parameters" || len(n.path) < 2 {
			return nil, fmt.Errorf("%s: only parameters.<name> paths are supported here", strings.Join(n.path, "."))
		}
		var cur any = s.parameters
		for i, seg := range n.path[1:] {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s is not an object", strings.Join(n.path, "."), strings.Join(n.path[:i+1], "."))
			}
			if cur, ok = m[seg]; !ok {
				return nil, fmt.Errorf("%s: no %q", strings.Join(n.path, "."), seg)
			}
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

// expandString evaluates the ${{ }} expressions in s. A string that is one
// expression takes the expression's value, which may be an object.
func expandString(s string, params map[string]any) (any, error) {
	scope := exprScope{parameters: params}
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
	switch x := v.(type) {
	case string:
		return expandString(x, params)
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if strings.Contains(k, "${{") {
				return nil, fmt.Errorf("key %q: conditional and loop insertions are not supported by this evaluator", k)
			}
			e, err := expand(val, params, dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = e
		}
		return out, nil
	case []any:
		var out []any
		for i, item := range x {
			if m, ok := item.(map[string]any); ok && m["template"] != nil {
				items, err := include(m, params, dir)
				if err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
				out = append(out, items...)
				continue
			}
			e, err := expand(item, params, dir)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, e)
		}
		return out, nil
	}
	return v, nil
}

// include expands a `- template: file` item with its parameters into the
// items of the included template's one list (steps, jobs or stages).
func include(item map[string]any, callerParams map[string]any, dir string) ([]any, error) {
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
		p, err := expand(item["parameters"], callerParams, dir)
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
	if _, err := expand(map[string]any{"${{ if eq(parameters.name, 'x') }}": map[string]any{}}, params, "."); err == nil {
		t.Error("an ${{ if }} insertion expanded without error")
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
	if want := "$(Build.SourcesDirectory)/Contoso/config/JohannaDev/customDeploymentSettings.json"; configure == nil || configure["customSettings"] != want {
		t.Errorf("configure inputs %v: want customSettings %s", configure, want)
	}
	if want := "$(Build.SourcesDirectory)/Contoso/config/JohannaDev/deploymentSettings.json"; configure == nil || configure["settings"] != want {
		t.Errorf("configure inputs %v: want settings %s", configure, want)
	}
}
