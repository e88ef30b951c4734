package task

import (
	"io"
	"strings"
	"sync"
)

// lineOut serialises whole lines to the host's stdout, so lines written by
// several goroutines never interleave.
type lineOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *lineOut) println(lines ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range lines {
		// A reporter has nowhere to report its own write failures; a host
		// that stops reading stdout has already failed the step.
		_, _ = io.WriteString(o.w, l+"\n")
	}
}

func (o *lineOut) print(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.w, s)
}

// onceFunc makes an end-of-group func safe to call twice.
func onceFunc(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}

// validOutputName reports whether name can be a task variable and a GitHub
// output: letters, digits, '_', '-' and '.', starting with a letter or '_'.
func validOutputName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z'):
		case i > 0 && (r == '-' || r == '.' || ('0' <= r && r <= '9')):
		default:
			return false
		}
	}
	return true
}

func clampPercent(p int) int {
	if p < 0 {
		return 0
	}
	if p > 100 {
		return 100
	}
	return p
}

// Detect chooses the host once from the environment: GitHub Actions when
// GITHUB_ACTIONS=true, Azure DevOps when TF_BUILD is set (or AGENT_ID), a
// terminal otherwise. isTTY enables progress bars on a terminal.
func Detect(getenv func(string) string, stdout io.Writer, isTTY bool) Reporter {
	switch HostOf(getenv) {
	case HostGitHub:
		return NewGitHub(stdout, getenv)
	case HostAzureDevOps:
		return NewAzureDevOps(stdout, getenv("AGENT_TEMPDIRECTORY"))
	default:
		return NewTerminal(stdout, isTTY)
	}
}

// Host names a CI host.
type Host string

// The hosts ppalm knows.
const (
	HostTerminal    Host = "terminal"
	HostAzureDevOps Host = "azure-devops"
	HostGitHub      Host = "github"
)

// HostOf tells which host ppalm runs under.
func HostOf(getenv func(string) string) Host {
	if strings.EqualFold(getenv("GITHUB_ACTIONS"), "true") {
		return HostGitHub
	}
	if getenv("TF_BUILD") != "" || getenv("AGENT_ID") != "" {
		return HostAzureDevOps
	}
	return HostTerminal
}
