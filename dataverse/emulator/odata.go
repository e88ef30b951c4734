package emulator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The OData subset: $filter with eq, ne, gt, ge, lt, le, and, or, not,
// parentheses and contains/startswith/endswith; literals 'text' (with ''
// escaping), GUIDs quoted or not, null, true, false and numbers.

// filterExpr is a parsed $filter: it says whether a row matches.
type filterExpr func(record) bool

type token struct {
	kind string // ident, string, number, op, lparen, rparen, comma
	text string
}

func lexFilter(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			out = append(out, token{"lparen", "("})
			i++
		case c == ')':
			out = append(out, token{"rparen", ")"})
			i++
		case c == ',':
			out = append(out, token{"comma", ","})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string literal in $filter %q", s)
			}
			out = append(out, token{"string", b.String()})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			word := s[i:j]
			if word == "" {
				return nil, fmt.Errorf("unexpected character %q in $filter %q", c, s)
			}
			kind := "ident"
			if r := rune(word[0]); unicode.IsDigit(r) || r == '-' {
				kind = "number"
				if isGUID(word) {
					kind = "guid"
				} else if _, err := time.Parse(time.RFC3339, word); err == nil {
					kind = "datetime" // Edm.DateTimeOffset: 2025-01-01T10:00:00Z
				}
			} else if isGUID(word) {
				kind = "guid"
			}
			out = append(out, token{kind, word})
			i = j
		}
	}
	return out, nil
}

type filterParser struct {
	toks []token
	pos  int
	src  string
}

func parseFilter(s string) (filterExpr, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, src: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at the end of $filter %q", p.toks[p.pos].text, s)
	}
	return e, nil
}

func (p *filterParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == "ident" && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *filterParser) or() (filterExpr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r record) bool { return l(r) || right(r) }
	}
	return left, nil
}

func (p *filterParser) and() (filterExpr, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r record) bool { return l(r) && right(r) }
	}
	return left, nil
}

func (p *filterParser) unary() (filterExpr, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("$filter %q ends early: expected a condition", p.src)
	}
	if p.peekWord("not") {
		p.pos++
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(r record) bool { return !e(r) }, nil
	}
	t := p.toks[p.pos]
	if t.kind == "lparen" {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != "rparen" {
			return nil, fmt.Errorf("missing ) in $filter %q", p.src)
		}
		p.pos++
		return e, nil
	}
	if t.kind != "ident" {
		return nil, fmt.Errorf("unexpected %q in $filter %q: expected a column name", t.text, p.src)
	}
	p.pos++
	// function call: contains(col,'x')
	if p.pos < len(p.toks) && p.toks[p.pos].kind == "lparen" {
		fn := strings.ToLower(t.text)
		if fn != "contains" && fn != "startswith" && fn != "endswith" {
			return nil, fmt.Errorf("function %s in $filter %q is not supported: expected contains, startswith or endswith", t.text, p.src)
		}
		if p.pos+4 >= len(p.toks) {
			return nil, fmt.Errorf("malformed %s() in $filter %q", t.text, p.src)
		}
		col, comma, lit, rp := p.toks[p.pos+1], p.toks[p.pos+2], p.toks[p.pos+3], p.toks[p.pos+4]
		if col.kind != "ident" || comma.kind != "comma" || lit.kind != "string" || rp.kind != "rparen" {
			return nil, fmt.Errorf("malformed %s() in $filter %q: expected %s(column,'text')", t.text, p.src, t.text)
		}
		p.pos += 5
		name, needle := col.text, strings.ToLower(lit.text)
		return func(r record) bool {
			v := strings.ToLower(str(r[name]))
			switch fn {
			case "contains":
				return strings.Contains(v, needle)
			case "startswith":
				return strings.HasPrefix(v, needle)
			}
			return strings.HasSuffix(v, needle)
		}, nil
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != "ident" {
		return nil, fmt.Errorf("$filter %q: expected an operator (eq, ne, gt, ge, lt, le) after %q", p.src, t.text)
	}
	op := strings.ToLower(p.toks[p.pos].text)
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, fmt.Errorf("$filter %q: operator %q is not supported: expected eq, ne, gt, ge, lt or le", p.src, p.toks[p.pos].text)
	}
	p.pos++
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("$filter %q ends after %s: expected a value", p.src, op)
	}
	lt := p.toks[p.pos]
	p.pos++
	lit, err := literal(lt)
	if err != nil {
		return nil, fmt.Errorf("$filter %q: %w", p.src, err)
	}
	col := t.text
	return func(r record) bool { return compare(r[col], op, lit) }, nil
}

func literal(t token) (any, error) {
	switch t.kind {
	case "string", "guid":
		return t.text, nil
	case "datetime":
		return time.Parse(time.RFC3339, t.text)
	case "number":
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", t.text)
		}
		return f, nil
	case "ident":
		switch strings.ToLower(t.text) {
		case "null":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, fmt.Errorf("%q is not a value: expected 'text', a number, a GUID, true, false or null", t.text)
}

func compare(v any, op string, lit any) bool {
	switch op {
	case "eq":
		return valuesEqual(v, lit)
	case "ne":
		return !valuesEqual(v, lit)
	}
	c, ok := order(v, lit)
	if !ok {
		return false
	}
	switch op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	}
	return c <= 0
}

// valuesEqual compares a column value with a literal the way Dataverse does:
// strings and GUIDs case-insensitively, "" equal to null.
func valuesEqual(v, lit any) bool {
	if lit == nil || v == nil {
		return (v == nil || v == "") && (lit == nil || lit == "")
	}
	if a, ok := num(v); ok {
		if b, ok := num(lit); ok {
			return a == b
		}
		return false
	}
	if a, ok := v.(bool); ok {
		b, ok := lit.(bool)
		return ok && a == b
	}
	return strings.EqualFold(normID(str(v)), normID(str(lit)))
}

func order(a, b any) (int, bool) {
	if y, ok := b.(time.Time); ok {
		x, err := time.Parse(time.RFC3339, str(a))
		if err != nil {
			return 0, false
		}
		return x.Compare(y), true
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if a == nil || b == nil {
		return 0, false
	}
	return strings.Compare(strings.ToLower(str(a)), strings.ToLower(str(b))), true
}

// query is a parsed set of OData system query options.
type query struct {
	selectCols []string
	filter     filterExpr
	orderBy    []orderTerm
	top        int // 0: none
	count      bool
}

type orderTerm struct {
	col  string
	desc bool
}

func parseQuery(get func(string) string) (*query, error) {
	q := &query{}
	if s := get("$select"); s != "" {
		for _, c := range strings.Split(s, ",") {
			if c = strings.TrimSpace(c); c != "" {
				q.selectCols = append(q.selectCols, c)
			}
		}
	}
	if s := get("$filter"); s != "" {
		f, err := parseFilter(s)
		if err != nil {
			return nil, err
		}
		q.filter = f
	}
	if s := get("$orderby"); s != "" {
		for _, term := range strings.Split(s, ",") {
			parts := strings.Fields(term)
			if len(parts) == 0 {
				continue
			}
			ot := orderTerm{col: parts[0]}
			if len(parts) > 1 {
				switch strings.ToLower(parts[1]) {
				case "asc":
				case "desc":
					ot.desc = true
				default:
					return nil, fmt.Errorf("$orderby %q: expected asc or desc after %s", s, parts[0])
				}
			}
			q.orderBy = append(q.orderBy, ot)
		}
	}
	if s := get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("$top %q: expected a non-negative integer", s)
		}
		q.top = n
	}
	q.count = strings.EqualFold(get("$count"), "true")
	return q, nil
}

// apply filters and orders rows (it does not page or project).
func (q *query) apply(rows []record) []record {
	var out []record
	for _, r := range rows {
		if q.filter == nil || q.filter(r) {
			out = append(out, r)
		}
	}
	if len(q.orderBy) > 0 {
		sort.SliceStable(out, func(i, j int) bool {
			for _, ot := range q.orderBy {
				c, ok := order(out[i][ot.col], out[j][ot.col])
				if !ok || c == 0 {
					continue
				}
				if ot.desc {
					return c > 0
				}
				return c < 0
			}
			return false
		})
	}
	if q.top > 0 && len(out) > q.top {
		out = out[:q.top]
	}
	return out
}

// project returns the selected columns (all when none were selected), always
// with the primary key, as Dataverse answers.
func (q *query) project(r record, key string) record {
	if len(q.selectCols) == 0 {
		return r.clone()
	}
	out := record{key: r[key]}
	for _, c := range q.selectCols {
		v, ok := r[c]
		if !ok {
			v = nil
		}
		out[c] = v
	}
	return out
}
