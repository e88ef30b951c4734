package task

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// masker replaces registered secrets with *** in text. The longest secrets
// are replaced first so a secret that contains another is masked whole.
type masker struct {
	mu      sync.RWMutex
	secrets []string
}

// add registers value together with the forms it takes when printed: each
// line of a multi-line value (hosts print long values line by line), and
// the value as Go's %q, JSON and URLs escape it (an error that quotes a
// flag value, a settings file, a URL's userinfo). A secret holding '"' or
// '\' would otherwise leak in every quoted message. added is what the host
// must be told to mask.
func (m *masker) add(value string) (added []string) {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	candidates := []string{value}
	if strings.ContainsAny(value, "\r\n") {
		candidates = append(candidates, strings.FieldsFunc(value, func(r rune) bool { return r == '\r' || r == '\n' })...)
	}
	// The hosts derive the escaped forms themselves (the agent's and the
	// runner's secret maskers register JSON, URI and other encodings of
	// each secret), so they are told the value and its lines only.
	told := len(candidates)
	candidates = append(candidates, SecretVariants(value)...)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, c := range candidates {
		if strings.TrimSpace(c) == "" || contains(m.secrets, c) {
			continue
		}
		m.secrets = append(m.secrets, c)
		if i < told {
			added = append(added, c)
		}
	}
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	return added
}

// SecretVariants returns the escaped forms of a secret that differ from it:
// inside Go's strconv.Quote (and %q, %+q), inside a JSON string, and URL
// query and path escaping. Each is the text between the quotes, so it is
// found wherever the quoted value appears.
func SecretVariants(value string) []string {
	var out []string
	add := func(v string) {
		if v != value && v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	add(unquote(strconv.Quote(value)))
	add(unquote(strconv.QuoteToASCII(value)))
	if b, err := json.Marshal(value); err == nil {
		add(unquote(string(b)))
	}
	add(url.QueryEscape(value))
	add(url.PathEscape(value))
	return out
}

func unquote(q string) string {
	if len(q) >= 2 {
		return q[1 : len(q)-1]
	}
	return q
}

func (m *masker) mask(s string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, secret := range m.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}

// holdsSecret reports whether s contains a registered secret.
func (m *masker) holdsSecret(s string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, secret := range m.secrets {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Masker is implemented by the host reporters (and by wrappers that
// forward to one): Mask returns s with every registered secret, and each of
// its escaped forms, replaced by ***.
type Masker interface {
	Mask(s string) string
}

// Mask masks s through r when r can mask (every reporter of this package
// can); text that leaves ppalm by another way than r (stderr, a file, an
// error returned to a caller that prints it) goes through Mask first.
func Mask(r Reporter, s string) string {
	if m, ok := find[Masker](r); ok {
		return m.Mask(s)
	}
	return s
}

// RegisterSecrets registers every non-blank value as a secret with r, so r
// (and the host, which is told) masks it from then on. It is the one call
// code that learns a secret (a settings token from PPALM_SECRETS, an Azure
// DevOps secret variable, a password in a URL) makes before the value can
// reach a log line, an error, an output or the run summary.
func RegisterSecrets(r Reporter, values ...string) {
	if r == nil {
		return
	}
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			r.SetSecret(v)
		}
	}
}

// Mask implements Masker.
func (a *AzureDevOps) Mask(s string) string { return a.masks.mask(s) }

// Mask implements Masker.
func (g *GitHub) Mask(s string) string { return g.masks.mask(s) }

// Mask implements Masker.
func (t *Terminal) Mask(s string) string { return t.masks.mask(s) }
