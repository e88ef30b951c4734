// Package guid reads the GUIDs Dataverse and Entra use as ids (workflow ids,
// group and user object ids, record ids): 8-4-4-4-12 hexadecimal digits,
// which the Accelerator's settings files also write in braces and, for a
// flow's solutionComponentUniqueName, with a suffix such as "_1".
package guid

import "strings"

// Valid says whether s is exactly one GUID, in braces or not; spaces around
// it do not count.
func Valid(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	return bare(s)
}

// Leading is the GUID s starts with (after spaces and an opening brace),
// lower-cased, and whether there is one: "{6E4A…}_1" gives "6e4a…".
func Leading(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "{")
	if len(s) < 36 || !bare(s[:36]) {
		return "", false
	}
	return strings.ToLower(s[:36]), true
}

// bare says whether s is a GUID without braces.
func bare(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
