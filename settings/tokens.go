package settings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// LookupFunc finds a variable's value; ok is false when it is not set.
type LookupFunc func(name string) (value string, ok bool)

// MissingTokensError lists every #{name}# of a file no variable was found for.
type MissingTokensError struct {
	File  string
	Names []string // sorted, each once
}

func (e *MissingTokensError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d token(s) have no value; set these variables (or their Azure DevOps spelling, e.g. %s, or on GitHub %s): ",
		e.File, len(e.Names), AzureDevOpsName(e.Names[0]), GitHubName(e.Names[0]))
	b.WriteString(strings.Join(e.Names, ", "))
	return b.String()
}

// AzureDevOpsName is how an Azure DevOps agent exposes pipeline variable
// name to a process: upper case, "." and " " replaced by "_".
func AzureDevOpsName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == ' ' {
			return '_'
		}
		return r
	}, strings.ToUpper(name))
}

// GitHubName is how name can be spelt as a GitHub Actions variable or
// secret, whose names hold only letters, digits and "_" (upper case): every
// other character becomes "_".
func GitHubName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return '_'
	}, name)
}

// Lookup finds the value for token name: by the name as written, then by
// its Azure DevOps spelling, then by its GitHub spelling.
func Lookup(lookup LookupFunc, name string) (string, bool) {
	if v, ok := lookup(name); ok {
		return v, true
	}
	tried := name
	for _, alt := range []string{AzureDevOpsName(name), GitHubName(name)} {
		if alt == tried {
			continue
		}
		if v, ok := lookup(alt); ok {
			return v, true
		}
		tried = alt
	}
	return "", false
}

// IsToken reports whether s holds a #{name}# placeholder.
func IsToken(s string) bool {
	_, _, ok := nextToken([]byte(s), 0)
	return ok
}

// Tokens returns the distinct token names in data, sorted.
func Tokens(data []byte) []string {
	seen := map[string]bool{}
	for i := 0; ; {
		start, end, ok := nextToken(data, i)
		if !ok {
			break
		}
		seen[string(data[start+2:end-2])] = true
		i = end
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FillTokens replaces every #{name}# in a settings file with its value. A
// token inside a JSON string is replaced by the JSON-escaped value, so any
// text stays a valid string. When any token has no value nothing is
// returned but one *MissingTokensError naming them all.
func FillTokens(file string, data []byte, lookup LookupFunc) ([]byte, error) {
	// Tokens are found byte by byte: in a file that is not UTF-8 none
	// would be, and the unfilled file would fail later for no clear reason.
	data, err := CheckEncoding(file, data)
	if err != nil {
		return nil, err
	}
	out, missing := fillTokens(data, lookup)
	if len(missing) > 0 {
		return nil, &MissingTokensError{File: file, Names: missing}
	}
	return out, nil
}

// FillTokensLenient is FillTokens with the Accelerator's semantics: a token
// without a value becomes "" (as its replacetokens step did) and unset
// names them, sorted. What an empty value means is then decided per entry:
// SkipNotConfigured for the custom file, BuildImportParameters for the
// import's.
func FillTokensLenient(data []byte, lookup LookupFunc) (out []byte, unset []string) {
	return fillTokens(data, lookup)
}

func fillTokens(data []byte, lookup LookupFunc) ([]byte, []string) {
	out := make([]byte, 0, len(data))
	var missing []string
	seen := map[string]bool{}
	inString, escaped := false, false
	last := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '#' && i+1 < len(data) && data[i+1] == '{' {
			if start, end, ok := nextToken(data, i); ok && start == i {
				name := string(data[start+2 : end-2])
				out = append(out, data[last:start]...)
				v, found := Lookup(lookup, name)
				switch {
				case !found:
					if !seen[name] {
						seen[name] = true
						missing = append(missing, name)
					}
				case inString:
					out = appendInString(out, v)
				default:
					out = append(out, v...)
				}
				last = end
				i = end - 1
				continue
			}
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		}
	}
	sort.Strings(missing)
	return append(out, data[last:]...), missing
}

// nextToken finds the first #{name}# at or after from: name is non-empty
// and holds no braces, quotes or line breaks.
func nextToken(data []byte, from int) (start, end int, ok bool) {
	for {
		i := bytes.Index(data[from:], []byte("#{"))
		if i < 0 {
			return 0, 0, false
		}
		start = from + i
		j := start + 2
		for j < len(data) {
			c := data[j]
			if c == '}' || c == '{' || c == '"' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		if j > start+2 && j+1 < len(data) && data[j] == '}' && data[j+1] == '#' {
			return start, j + 2, true
		}
		from = start + 2
	}
}

// appendInString inserts v into a JSON string: escaped, unless v already is
// the body of a JSON string and holds an escape, which is what a value
// escaped by hand for the Accelerator looks like ({\"name\":\"test\"} for a
// JSON environment variable): its replacetokens step inserted values as
// they were, so such a value is inserted as it is and means what it meant
// there. A value without a backslash, or one that is not a valid string
// body (a raw quote, a bad escape), is escaped.
func appendInString(out []byte, v string) []byte {
	if strings.Contains(v, `\`) && validStringBody(v) {
		return append(out, v...)
	}
	return appendEscaped(out, v)
}

// validStringBody reports whether s can stand between the quotes of a JSON
// string as it is: no raw quote or control character, only valid escapes.
func validStringBody(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(s) {
				return false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(s) {
					return false
				}
				for _, h := range s[i+2 : i+6] {
					if !strings.ContainsRune("0123456789abcdefABCDEF", h) {
						return false
					}
				}
				i += 5
			default:
				return false
			}
		}
	}
	return true
}

func appendEscaped(out []byte, v string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return append(out, b[1:len(b)-1]...)
}
