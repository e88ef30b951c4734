package solzip

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSegmentBytes is the longest file or folder name macOS and Linux store
// (NAME_MAX); Windows counts UTF-16 units and allows as many.
const MaxSegmentBytes = 255

// CheckName refuses an entry name ('/'-separated; a trailing '/' marks a
// folder) that would escape the folder it is unpacked into or that Windows,
// macOS or Linux cannot store. The error names the entry and the reason.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("an entry has an empty name")
	case !utf8.ValidString(name):
		return fmt.Errorf("entry %q: the name is not valid UTF-8, so not a file name every OS can store (Windows and macOS store only Unicode names)", name)
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("entry %q uses a backslash; solution zips use '/'", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("entry %q is an absolute path", name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("entry %q starts with a drive letter", name)
	}
	for _, r := range name {
		if r < 0x20 {
			return fmt.Errorf("entry %q has the control character %U in its name, so not a file name every OS can store (Windows refuses it)", name, r)
		}
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("entry %q: %w", name, err)
		}
	}
	return nil
}

// CheckSegment says why s cannot be one file or folder name on every OS
// ppalm runs on, or nil when it can.
func CheckSegment(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("the name %q is not valid UTF-8", s)
	}
	for _, r := range s {
		if r < 0x20 {
			return fmt.Errorf("the name %q has the control character %U", s, r)
		}
	}
	if strings.ContainsRune(s, '/') || strings.ContainsRune(s, '\\') {
		return fmt.Errorf("the name %q holds a path separator", s)
	}
	return checkSegment(s)
}

func checkSegment(seg string) error {
	switch {
	case seg == "" || seg == "." || seg == "..":
		return fmt.Errorf("a %q path segment (would escape the folder)", seg)
	case strings.ContainsAny(seg, `<>:"|?*`):
		return fmt.Errorf("%q is not a file name every OS can store: it has one of <>:\"|?*, which Windows refuses", seg)
	case strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "):
		return fmt.Errorf("%q is not a file name every OS can store: it ends in a dot or a space, which Windows drops", seg)
	case len(seg) > MaxSegmentBytes:
		return fmt.Errorf("a name of %d bytes is not a file name every OS can store: macOS and Linux store at most %d", len(seg), MaxSegmentBytes)
	case reservedName(seg):
		return fmt.Errorf("%q is not a file name every OS can store: Windows reserves the device names CON, PRN, AUX, NUL, COM1-9 and LPT1-9, with or without an extension", seg)
	}
	return nil
}

// reservedName reports a Windows device name: the part before the first
// dot, trailing spaces dropped, compared ignoring case.
func reservedName(seg string) bool {
	stem, _, _ := strings.Cut(seg, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) < 4 || (stem[:3] != "COM" && stem[:3] != "LPT") {
		return false
	}
	switch stem[3:] {
	case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
		return true
	}
	return false
}
