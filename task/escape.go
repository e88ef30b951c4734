package task

import (
	"strings"
	"unicode"
)

// Host escaping rules.
//
// Azure DevOps (azure-pipelines-task-lib taskcommand.ts; the agent undoes
// the same mapping): in the message of a ##vso command "%" becomes "%AZP25",
// CR "%0D" and LF "%0A"; in property values additionally "]" becomes "%5D"
// and ";" becomes "%3B". The agent (Command.TryParse) parses only the first
// command of a line and unescapes all five in the message too, so ppalm
// escapes messages like properties: a message then holds no ']' and cannot
// carry a second command even for a naive parser. The agent looks for "##vso[" anywhere in a line, not
// only at its start, so untrusted text printed as a plain line must never
// contain it; a line starting with "##[" is a formatting command (group,
// error, section) and is neutralised as well.
//
// GitHub Actions (actions/toolkit command.ts, go-githubactions): in the
// message "%" becomes "%25", CR "%0D", LF "%0A"; in properties additionally
// ":" becomes "%3A" and "," becomes "%2C". The runner (actions/runner,
// ActionCommandManager.TryProcessCommand) tries two parsers on every line
// of a step's output (ActionCommand.cs):
//
//   - TryParseV2: the line after .NET's TrimStart (every Unicode white
//     space, not only ' ' and tab) starts with "::", then a command name up
//     to a space or the next "::".
//   - TryParse, the legacy form: "##[" ANYWHERE in the line, the command
//     name up to a space or the next ']', properties split on ';'.
//
// Command names match without regard to case ("::ERROR::" works), and
// the runner's StartsWith and IndexOf are culture-sensitive, which skips
// ignorable characters (a soft hyphen or zero-width space between the two
// colons still matches). So a plain line is defused by escaping its first
// colon when the first character that is neither white space nor
// ignorable is ':', and by escaping every '[' that follows "##", ignorable
// characters between them included.

var adoProperty = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", "]", "%5D", ";", "%3B")

// adoEscapeData escapes the message part of a ##vso command that a person
// reads (issues, progress, results); "##vso[" in it is defused as well.
// Values a later step consumes (variables, secrets, paths) use
// adoEscapeProperty alone so they arrive unchanged.
func adoEscapeData(s string) string {
	return defuseADO(adoProperty.Replace(s))
}

func adoEscapeProperty(s string) string {
	return adoProperty.Replace(s)
}

// defuseADO rewrites every "##vso[" (in any letter case) to "##vso%5B" so
// the agent does not see a command.
func defuseADO(s string) string {
	lower := asciiLower(s)
	if !strings.Contains(lower, "##vso[") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, "##vso[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+5])
		b.WriteString("%5B")
		s, lower = s[i+6:], lower[i+6:]
	}
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// adoPlainLine makes one line of untrusted text safe to print on an agent.
func adoPlainLine(line string) string {
	line = defuseADO(line)
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "##[") {
		trimmed := strings.TrimLeft(line, " \t")
		line = line[:len(line)-len(trimmed)] + "##%5B" + trimmed[3:]
	}
	return line
}

// githubPlainLine makes one line of untrusted text safe to print on a
// runner (see the rules above).
func githubPlainLine(line string) string {
	line = defuseLegacyGitHub(line)
	for i, r := range line {
		if dotnetSpace(r) || ignorable(r) {
			continue
		}
		if r == ':' {
			return line[:i] + "%3A" + line[i+1:]
		}
		break
	}
	return line
}

// defuseLegacyGitHub escapes each '[' that follows two '#' (ignorable
// characters between them do not count), so no "##[" command remains.
func defuseLegacyGitHub(line string) string {
	if !strings.Contains(line, "[") || !strings.Contains(line, "#") {
		return line
	}
	var b strings.Builder
	hashes := 0
	for _, r := range line {
		switch {
		case r == '#':
			hashes++
		case r == '[' && hashes >= 2:
			b.WriteString("%5B")
			hashes = 0
			continue
		case ignorable(r):
		default:
			hashes = 0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dotnetSpace is .NET's char.IsWhiteSpace, which String.TrimStart uses: the
// Unicode white space Go knows, and the information separators U+001C to
// U+001F, which .NET counts as well.
func dotnetSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// ignorable reports characters a culture-sensitive comparison may skip:
// controls, format characters (soft hyphen, zero-width space and joiners,
// BOM, bidi marks), variation selectors, other default-ignorable code
// points and combining marks. Wider than ICU's set on purpose: defusing
// too much costs a '%3A' in a log line, too little a forged command.
func ignorable(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// oneLine joins the lines of a title (group names) with spaces.
func oneLine(s string) string {
	return strings.Join(splitLines(s), " ")
}

// splitLines splits on LF, CRLF and lone CR; a trailing newline does not add
// an empty line.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}
