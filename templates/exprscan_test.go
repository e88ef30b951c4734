package templates_test

import (
	"fmt"
	"strings"
)

// exprScanner is what the two expression parsers (Azure Pipelines' in
// adoyaml_test.go, GitHub's in ghyaml_test.go) share: the languages differ,
// but white space, 'quoted' strings (” is a quote), call argument lists and
// "the whole expression or an error" read the same.
type exprScanner struct {
	src string
	pos int
}

func (s *exprScanner) space() {
	for s.pos < len(s.src) && strings.ContainsRune(" \t\r\n", rune(s.src[s.pos])) {
		s.pos++
	}
}

// eat consumes tok if it comes next.
func (s *exprScanner) eat(tok string) bool {
	s.space()
	if strings.HasPrefix(s.src[s.pos:], tok) {
		s.pos += len(tok)
		return true
	}
	return false
}

// quoted reads the string literal whose opening quote is at pos.
func (s *exprScanner) quoted() (string, error) {
	var b strings.Builder
	for i := s.pos + 1; i < len(s.src); i++ {
		if s.src[i] != '\'' {
			b.WriteByte(s.src[i])
			continue
		}
		if i+1 < len(s.src) && s.src[i+1] == '\'' { // '' is a quote
			b.WriteByte('\'')
			i++
			continue
		}
		s.pos = i + 1
		return b.String(), nil
	}
	return "", fmt.Errorf("unterminated string literal")
}

// parseWhole parses all of s.src with parse: anything left over is an
// error.
func parseWhole[N any](s *exprScanner, parse func() (N, error)) (N, error) {
	var none N
	n, err := parse()
	if err != nil {
		return none, fmt.Errorf("expression %q: %w", s.src, err)
	}
	if s.space(); s.pos != len(s.src) {
		return none, fmt.Errorf("expression %q: unexpected %q at offset %d", s.src, s.src[s.pos:], s.pos)
	}
	return n, nil
}

// callArgs reads the arguments of a call of fn, each with arg, after its
// "(" up to and including its ")".
func callArgs[N any](s *exprScanner, fn string, arg func() (N, error)) ([]N, error) {
	if s.eat(")") {
		return nil, nil
	}
	var args []N
	for {
		a, err := arg()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		switch {
		case s.eat(","):
		case s.eat(")"):
			return args, nil
		default:
			return nil, fmt.Errorf("expected , or ) at offset %d in call of %s", s.pos, fn)
		}
	}
}

// evalArgs evaluates a call's arguments in order, stopping at the first
// error.
func evalArgs[N any](nodes []N, eval func(N) (any, error)) ([]any, error) {
	args := make([]any, len(nodes))
	for i, n := range nodes {
		v, err := eval(n)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}
