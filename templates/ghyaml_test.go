package templates_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A GitHub Actions expression evaluator for exactly the forms our workflows
// use: literals ('string', numbers, true, false, null), context paths
// (inputs.solution-name, github.event.label.name, steps.x.outputs.y,
// vars['X']), the operators !, ==, !=, <, <=, >, >=, && and || with
// GitHub's coercion and short-circuit values, parentheses, format() and the
// status functions of job and step conditions. Anything else is an error,
// so a workflow cannot grow syntax this test does not run.
//
// Values are nil, bool, float64, string, map[string]any, []any and
// ghStrict (a context whose missing keys are an error, not null: inputs,
// env, steps, needs, runner and github's own keys; vars, secrets and the
// event payload yield null for a missing key, as GitHub does).

// ghStrict is a context object in which reading an undefined key is an
// error: a typo in a workflow must fail the test, not evaluate to ”.
type ghStrict map[string]any

// ghExpr is a parsed expression node.
type ghExpr struct {
	op   string // "lit", "ctx", "prop", "index", "call", "!", "==", "!=", "<", "<=", ">", ">=", "&&", "||"
	val  any    // literal value; name of a context, property or function
	args []*ghExpr
}

type ghParser struct{ exprScanner }

func parseGHExpr(src string) (*ghExpr, error) {
	p := &ghParser{exprScanner{src: src}}
	return parseWhole(&p.exprScanner, p.or)
}

func (p *ghParser) binary(next func() (*ghExpr, error), ops ...string) (*ghExpr, error) {
	left, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, o := range ops {
			// "<" must not take the first byte of "<=", nor "!" of "!=".
			if p.space(); strings.HasPrefix(p.src[p.pos:], o) && !(len(o) == 1 && strings.HasPrefix(p.src[p.pos+1:], "=")) {
				op = o
				break
			}
		}
		if op == "" {
			return left, nil
		}
		p.pos += len(op)
		right, err := next()
		if err != nil {
			return nil, err
		}
		left = &ghExpr{op: op, args: []*ghExpr{left, right}}
	}
}

// Precedence, loosest first: ||, &&, == !=, < <= > >=, !.
func (p *ghParser) or() (*ghExpr, error)  { return p.binary(p.and, "||") }
func (p *ghParser) and() (*ghExpr, error) { return p.binary(p.eq, "&&") }
func (p *ghParser) eq() (*ghExpr, error)  { return p.binary(p.cmp, "==", "!=") }
func (p *ghParser) cmp() (*ghExpr, error) { return p.binary(p.unary, "<=", ">=", "<", ">") }

func (p *ghParser) unary() (*ghExpr, error) {
	if p.space(); strings.HasPrefix(p.src[p.pos:], "!") && !strings.HasPrefix(p.src[p.pos:], "!=") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &ghExpr{op: "!", args: []*ghExpr{n}}, nil
	}
	return p.postfix()
}

var (
	ghIdentRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*`)
	ghNumberRE = regexp.MustCompile(`^-?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)`)
)

func (p *ghParser) postfix() (*ghExpr, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.eat("."):
			id := ghIdentRE.FindString(p.src[p.pos:])
			if id == "" {
				return nil, fmt.Errorf("expected a property name after '.' at offset %d", p.pos)
			}
			p.pos += len(id)
			n = &ghExpr{op: "prop", val: id, args: []*ghExpr{n}}
		case p.eat("["):
			idx, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.eat("]") {
				return nil, fmt.Errorf("expected ] at offset %d", p.pos)
			}
			n = &ghExpr{op: "index", args: []*ghExpr{n, idx}}
		default:
			return n, nil
		}
	}
}

func (p *ghParser) primary() (*ghExpr, error) {
	p.space()
	if p.pos == len(p.src) {
		return nil, fmt.Errorf("unexpected end")
	}
	rest := p.src[p.pos:]
	switch {
	case rest[0] == '(':
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, fmt.Errorf("expected ) at offset %d", p.pos)
		}
		return n, nil
	case rest[0] == '\'':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return &ghExpr{op: "lit", val: s}, nil
	}
	if num := ghNumberRE.FindString(rest); num != "" {
		p.pos += len(num)
		var f float64
		if strings.HasPrefix(strings.TrimPrefix(num, "-"), "0x") {
			i, err := strconv.ParseInt(strings.Replace(num, "0x", "", 1), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("number %s: %w", num, err)
			}
			f = float64(i)
		} else {
			var err error
			if f, err = strconv.ParseFloat(num, 64); err != nil {
				return nil, fmt.Errorf("number %s: %w", num, err)
			}
		}
		return &ghExpr{op: "lit", val: f}, nil
	}
	id := ghIdentRE.FindString(rest)
	if id == "" {
		return nil, fmt.Errorf("unexpected %q at offset %d: expected a literal, a context or a function call", rest, p.pos)
	}
	p.pos += len(id)
	switch id {
	case "true", "false":
		return &ghExpr{op: "lit", val: id == "true"}, nil
	case "null":
		return &ghExpr{op: "lit", val: nil}, nil
	}
	if !p.eat("(") {
		return &ghExpr{op: "ctx", val: id}, nil
	}
	args, err := callArgs(&p.exprScanner, id, p.or)
	if err != nil {
		return nil, err
	}
	return &ghExpr{op: "call", val: strings.ToLower(id), args: args}, nil
}

// ghScope is what an expression may read: the contexts available where it
// stands (a job's if: has no steps, a with: value has them all) and the
// status of the job or step it decides on.
type ghScope struct {
	contexts map[string]any // github, inputs, env, vars, secrets, needs, steps, runner, matrix, job
	failed   bool           // an earlier job or step failed (success() and failure())
	inIf     bool           // evaluating an if:, where status functions are allowed
	// workspace is GITHUB_WORKSPACE where a step's expressions run
	// (hashFiles reads it); "" elsewhere.
	workspace string
}

func (s ghScope) eval(n *ghExpr) (any, error) {
	switch n.op {
	case "lit":
		return n.val, nil
	case "ctx":
		name := n.val.(string)
		v, ok := s.contexts[name]
		if !ok {
			return nil, fmt.Errorf("context %s is not available here (or not supported by this evaluator)", name)
		}
		return v, nil
	case "prop", "index":
		obj, err := s.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		var key any = n.val
		if n.op == "index" {
			if key, err = s.eval(n.args[1]); err != nil {
				return nil, err
			}
		}
		return ghLookup(obj, key, ghPath(n.args[0]))
	case "!":
		v, err := s.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		return !ghTruthy(v), nil
	case "&&", "||":
		left, err := s.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		if ghTruthy(left) == (n.op == "||") {
			return left, nil
		}
		return s.eval(n.args[1])
	case "==", "!=", "<", "<=", ">", ">=":
		a, err := s.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		b, err := s.eval(n.args[1])
		if err != nil {
			return nil, err
		}
		return ghCompare(n.op, a, b)
	case "call":
		return s.call(n)
	}
	return nil, fmt.Errorf("operator %s is not supported by this evaluator", n.op)
}

func (s ghScope) call(n *ghExpr) (any, error) {
	name := n.val.(string)
	status := map[string]bool{"success": !s.failed, "failure": s.failed, "always": true, "cancelled": false}
	if v, ok := status[name]; ok {
		if len(n.args) != 0 {
			return nil, fmt.Errorf("%s() takes no arguments", name)
		}
		if !s.inIf {
			return nil, fmt.Errorf("%s() is only allowed in an if: condition", name)
		}
		return v, nil
	}
	args, err := evalArgs(n.args, s.eval)
	if err != nil {
		return nil, err
	}
	switch name {
	case "hashfiles":
		// hashFiles(patterns...): '' when no file under the workspace
		// matches, else a SHA-256 of the matching files (the runner's
		// exact digest is not reproduced: workflows only compare with '').
		if s.workspace == "" {
			return nil, fmt.Errorf("hashFiles() is only available in a step")
		}
		var files []string
		for _, a := range args {
			pat, ok := a.(string)
			if !ok || strings.Contains(pat, "**") || filepath.IsAbs(pat) {
				return nil, fmt.Errorf("hashFiles(%v): only relative patterns without ** are emulated", a)
			}
			m, err := filepath.Glob(filepath.Join(s.workspace, filepath.FromSlash(pat)))
			if err != nil {
				return nil, fmt.Errorf("hashFiles(%q): %w", pat, err)
			}
			files = append(files, m...)
		}
		if len(files) == 0 {
			return "", nil
		}
		sort.Strings(files)
		h := sha256.New()
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			h.Write(b)
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	case "tojson":
		if len(args) != 1 {
			return nil, fmt.Errorf("toJSON: expected one argument")
		}
		b, err := json.MarshalIndent(args[0], "", "  ")
		if err != nil {
			return nil, fmt.Errorf("toJSON: %w", err)
		}
		return string(b), nil
	case "format":
		if len(args) == 0 {
			return nil, fmt.Errorf("format: expected a format string")
		}
		f, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("format: the format %v is not a string", args[0])
		}
		var b strings.Builder
		for i := 0; i < len(f); i++ {
			switch {
			case strings.HasPrefix(f[i:], "{{"), strings.HasPrefix(f[i:], "}}"):
				b.WriteByte(f[i])
				i++
			case f[i] == '{':
				end := strings.IndexByte(f[i:], '}')
				k, err := strconv.Atoi(f[i+1 : i+max(end, 1)])
				if end < 0 || err != nil || k < 0 || k+1 >= len(args) {
					return nil, fmt.Errorf("format %q: bad or missing argument at offset %d", f, i)
				}
				str, err := ghString(args[k+1])
				if err != nil {
					return nil, fmt.Errorf("format argument %d: %w", k, err)
				}
				b.WriteString(str)
				i += end
			case f[i] == '}':
				return nil, fmt.Errorf("format %q: lone } at offset %d", f, i)
			default:
				b.WriteByte(f[i])
			}
		}
		return b.String(), nil
	}
	return nil, fmt.Errorf("function %s() is not supported by this evaluator", name)
}

// ghPath renders a context path for an error message.
func ghPath(n *ghExpr) string {
	switch n.op {
	case "ctx":
		return n.val.(string)
	case "prop":
		return ghPath(n.args[0]) + "." + n.val.(string)
	case "index":
		return ghPath(n.args[0]) + "[...]"
	}
	return "(" + n.op + ")"
}

// ghLookup reads obj[key]: property names match case-insensitively, as
// GitHub's do.
func ghLookup(obj, key any, path string) (any, error) {
	switch o := obj.(type) {
	case nil:
		return nil, nil
	case ghStrict, map[string]any:
		k, ok := key.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%v]: an object's key must be a string", path, key)
		}
		m := map[string]any(nil)
		if s, strict := o.(ghStrict); strict {
			m = s
		} else {
			m = o.(map[string]any)
		}
		if v, ok := m[k]; ok {
			return v, nil
		}
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				return v, nil
			}
		}
		if _, strict := o.(ghStrict); strict {
			return nil, fmt.Errorf("%s.%s is not defined", path, k)
		}
		return nil, nil
	case []any:
		f, ok := key.(float64)
		if !ok || f != math.Trunc(f) {
			return nil, fmt.Errorf("%s[%v]: an array index must be a whole number", path, key)
		}
		if f < 0 || int(f) >= len(o) {
			return nil, nil
		}
		return o[int(f)], nil
	}
	return nil, fmt.Errorf("%s: %v (%T) has no properties", path, obj, obj)
}

// ghTruthy is GitHub's falsy set: false, 0, -0, NaN, ” and null.
func ghTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

// ghNumber is GitHub's coercion of a value to a number.
func ghNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		if i, err := strconv.ParseInt(strings.TrimPrefix(s, "0x"), 16, 64); err == nil && strings.HasPrefix(s, "0x") {
			return float64(i)
		}
	}
	return math.NaN()
}

// ghCompare compares as GitHub does: strings case-insensitively, values of
// different types as numbers; objects and arrays are not compared here.
func ghCompare(op string, a, b any) (any, error) {
	for _, v := range []any{a, b} {
		switch v.(type) {
		case nil, bool, float64, string:
		default:
			return nil, fmt.Errorf("%s: comparing an object or array is not supported by this evaluator", op)
		}
	}
	var c int
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	switch {
	case aStr && bStr:
		c = strings.Compare(strings.ToUpper(sa), strings.ToUpper(sb))
	case a == nil && b == nil:
		c = 0
	default:
		x, y := ghNumber(a), ghNumber(b)
		if math.IsNaN(x) || math.IsNaN(y) {
			return op == "!=", nil
		}
		switch {
		case x < y:
			c = -1
		case x > y:
			c = 1
		}
	}
	switch op {
	case "==":
		return c == 0, nil
	case "!=":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// ghString converts a value for interpolation into a string.
func ghString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf("%v (%T) is an object or array, not a string", v, v)
}

// ghValue converts a YAML scalar (a with: or env: value) as the runner
// does: booleans and numbers become their text.
func ghValue(v any) (string, error) {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return ghString(x)
	}
	return ghString(v)
}

// interpolate evaluates every ${{ }} in text and returns the text. An
// expression ends at the first }} outside a string literal, as the
// runner's template reader finds it.
func (s ghScope) interpolate(text string) (string, error) {
	var b strings.Builder
	rest := text
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		end, inString := -1, false
		for j := i + 3; j < len(rest); j++ {
			switch {
			case rest[j] == '\'':
				inString = !inString // '' inside a literal toggles twice
			case !inString && strings.HasPrefix(rest[j:], "}}"):
				end = j
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			return "", fmt.Errorf("%q: unterminated ${{ expression", text)
		}
		n, err := parseGHExpr(rest[i+3 : end])
		if err != nil {
			return "", err
		}
		v, err := s.eval(n)
		if err != nil {
			return "", fmt.Errorf("%s: %w", rest[i:end+2], err)
		}
		str, err := ghString(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", rest[i:end+2], err)
		}
		b.WriteString(str)
		rest = rest[end+2:]
	}
}

// condition evaluates an if: (with or without ${{ }}); "" is success(),
// and a condition without a status function is ANDed with success().
func (s ghScope) condition(cond string) (bool, error) {
	c := strings.TrimSpace(cond)
	if strings.HasPrefix(c, "${{") && strings.HasSuffix(c, "}}") && strings.Count(c, "${{") == 1 {
		c = strings.TrimSpace(c[3 : len(c)-2])
	}
	if c == "" {
		c = "success()"
	}
	n, err := parseGHExpr(c)
	if err != nil {
		return false, err
	}
	s.inIf = true
	v, err := s.eval(n)
	if err != nil {
		return false, fmt.Errorf("if: %s: %w", c, err)
	}
	if !ghHasStatus(n) && s.failed {
		return false, nil
	}
	return ghTruthy(v), nil
}

func ghHasStatus(n *ghExpr) bool {
	if n.op == "call" {
		switch n.val {
		case "success", "failure", "always", "cancelled":
			return true
		}
	}
	for _, a := range n.args {
		if ghHasStatus(a) {
			return true
		}
	}
	return false
}

// TestGitHubExpressions checks the evaluator itself: the forms the
// workflows use give the values GitHub gives, and anything else is an
// error rather than a silent pass.
func TestGitHubExpressions(t *testing.T) {
	s := ghScope{contexts: map[string]any{
		"inputs": ghStrict{"solution-name": "Contoso", "folder": "", "runs-on": "ubuntu-latest", "n": 3.0, "flag": true},
		"github": ghStrict{"event_name": "push", "ref": "refs/heads/Contoso", "run_number": 12.0,
			"event": map[string]any{"pull_request": map[string]any{"labels": []any{map[string]any{"name": "solution-upgrade"}}}}},
		"vars":    map[string]any{"DATAVERSE_URL": "https://x.crm.dynamics.com"},
		"secrets": map[string]any{},
		"steps":   ghStrict{"v": ghStrict{"outputs": map[string]any{"result": "Succeeded"}, "outcome": "success"}},
	}}
	for in, want := range map[string]string{
		"${{ inputs.folder != '' && inputs.folder || inputs.solution-name }}":                           "Contoso",
		"${{ inputs['solution-name'] }}/x":                                                              "Contoso/x",
		"1.0.${{ github.run_number }}.${{ inputs.n }}":                                                  "1.0.12.3",
		"${{ vars.PPALM_CONFIG || 'Test' }}":                                                            "Test",
		"${{ vars.dataverse_url }}":                                                                     "https://x.crm.dynamics.com",
		"${{ secrets.client-secret }}":                                                                  "",
		"${{ format('refs/heads/{0}', inputs.solution-name) }}":                                         "refs/heads/Contoso",
		"${{ format('{{{0}}}', 'a') }}":                                                                 "{a}",
		"${{ github.event.pull_request.labels[0].name }}":                                               "solution-upgrade",
		"${{ github.event.label.name }}":                                                                "",
		"${{ steps.v.outputs.result }}":                                                                 "Succeeded",
		"${{ github.event_name == 'PUSH' }} ${{ 'a' != 'b' }} ${{ !inputs.flag }} ${{ 3 == '3' }}":      "true true false true",
		"${{ github.event_name == 'pull_request' && 'validation' || github.ref == 'x' && 'p' || 't' }}": "t",
		"${{ (1 < 2) && (2 >= 2) && !(1 > 2) && null == null && null != 'a' }}":                         "true",
	} {
		got, err := s.interpolate(in)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"${{ inputs.solution_name }}",         // not declared
		"${{ github.run_numbr }}",             // not a github key
		"${{ matrix.os }}",                    // no matrix here
		"${{ fromJSON(inputs) }}",             // function not supported
		"${{ contains(github.ref, 'main') }}", // function not supported
		"${{ inputs }}",                       // an object in a string
		"${{ inputs.folder = 'x' }}",
		"${{ 'a' ",
		"${{ format('{1}', 'a') }}",
		"${{ steps.w.outputs.result }}",
		"${{ success() }}", // status functions only in if:
	} {
		if got, err := s.interpolate(bad); err == nil {
			t.Errorf("%s = %q: expected an error", bad, got)
		}
	}
	for cond, want := range map[string]bool{
		"":                                   true,
		"github.event_name == 'push'":        true,
		"${{ github.event_name == 'push' }}": true,
		"github.event_name == 'pull_request' ||\ngithub.ref == format('refs/heads/{0}', inputs.solution-name)": true,
		"always()":  true,
		"failure()": false,
		"github.event.action != 'labeled' || github.event.label.name == 'solution-upgrade'": true,
	} {
		if got, err := s.condition(cond); err != nil || got != want {
			t.Errorf("if: %q = %v, %v; want %v", cond, got, err, want)
		}
	}
	failed := s
	failed.failed = true
	if got, err := failed.condition("github.event_name == 'push'"); err != nil || got {
		t.Errorf("a condition without a status function ran after a failure: %v, %v", got, err)
	}
	if got, err := failed.condition("always() && github.event_name == 'push'"); err != nil || !got {
		t.Errorf("always() did not run after a failure: %v, %v", got, err)
	}
}
