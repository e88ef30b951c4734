package settings

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// EncodingError says a settings file is not UTF-8 text, and what it is.
type EncodingError struct {
	File   string
	Offset int    // byte offset of the first byte that is not UTF-8; -1 for a whole-file encoding
	Detail string // what was found and what to do
}

func (e *EncodingError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: not UTF-8: %s", e.File, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Detail)
}

const saveAsUTF8 = "save it as UTF-8 (in PowerShell: Set-Content -Encoding utf8; in VS Code: \"Save with Encoding\")"

// CheckEncoding returns data without a UTF-8 byte order mark, or an
// *EncodingError when data is not UTF-8 (see doc.go, Encoding). A file in
// another encoding is refused, not guessed at: a Latin-1 "é" read as UTF-8
// is deployed as mojibake, and tokens in a UTF-16 file are never found.
func CheckEncoding(file string, data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}):
		return nil, &EncodingError{File: file, Offset: -1, Detail: "is UTF-32 (it starts with a UTF-32 byte order mark); " + saveAsUTF8}
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return nil, &EncodingError{File: file, Offset: -1, Detail: "is UTF-16 LE (it starts with the byte order mark FF FE, as Windows PowerShell 5 writes with Out-File); " + saveAsUTF8}
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, &EncodingError{File: file, Offset: -1, Detail: "is UTF-16 BE (it starts with the byte order mark FE FF); " + saveAsUTF8}
	}
	if len(data) >= 2 && (data[0] == 0 || data[1] == 0) {
		return nil, &EncodingError{File: file, Offset: -1, Detail: "looks like UTF-16 without a byte order mark (it has NUL bytes); " + saveAsUTF8}
	}
	if utf8.Valid(data) {
		return data, nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	guess := ""
	if data[off] >= 0xA0 {
		guess = fmt.Sprintf(" (in Latin-1 / Windows-1252 it would be %q: the file was probably saved in that encoding)", string(rune(data[off])))
	}
	return nil, &EncodingError{File: file, Offset: off, Detail: fmt.Sprintf("byte 0x%02X at offset %d (line %d column %d) is not valid UTF-8%s; %s",
		data[off], off, line, col, guess, saveAsUTF8)}
}

// closestName returns the known name nearest to name (letter case aside)
// when it is near enough to be a misspelling of it: at most a third of
// its letters differ.
func closestName(name string, known []string) (string, bool) {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(name), strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best, bestD >= 0 && bestD <= max(1, len(best)/3)
}

// editDistance is the Levenshtein distance between a and b, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
