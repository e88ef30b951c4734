package task

// Colour on a terminal: only on a TTY, never when NO_COLOR is set
// (https://no-color.org), and never for TERM=dumb; CLICOLOR_FORCE=1 forces
// it (for a pager that understands escapes).

// ColorEnabled says whether output to a stream that is (or is not) a TTY
// gets colour, given the environment.
func ColorEnabled(getenv func(string) string, isTTY bool) bool {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if f := getenv("CLICOLOR_FORCE"); f != "" && f != "0" {
		return true
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	return isTTY
}

// Palette colours text when On, and returns it unchanged otherwise.
type Palette struct{ On bool }

func (p Palette) wrap(code, s string) string {
	if !p.On || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Red is for errors and failed steps.
func (p Palette) Red(s string) string { return p.wrap("31", s) }

// Green is for steps that succeeded.
func (p Palette) Green(s string) string { return p.wrap("32", s) }

// Yellow is for warnings.
func (p Palette) Yellow(s string) string { return p.wrap("33", s) }

// Bold is for headings.
func (p Palette) Bold(s string) string { return p.wrap("1", s) }

// Dim is for what matters less: skipped steps, timings.
func (p Palette) Dim(s string) string { return p.wrap("2", s) }
