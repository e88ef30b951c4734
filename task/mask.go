package task

import (
	"sort"
	"strings"
	"sync"
)

// masker replaces registered secrets with *** in text. The longest secrets
// are replaced first so a secret that contains another is masked whole.
type masker struct {
	mu      sync.RWMutex
	secrets []string
}

// add registers value and, for a multi-line value, each of its lines: hosts
// print long values line by line, and each line must stay hidden.
func (m *masker) add(value string) (added []string) {
	candidates := []string{value}
	if strings.ContainsAny(value, "\r\n") {
		candidates = append(candidates, strings.FieldsFunc(value, func(r rune) bool { return r == '\r' || r == '\n' })...)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range candidates {
		if strings.TrimSpace(c) == "" || contains(m.secrets, c) {
			continue
		}
		m.secrets = append(m.secrets, c)
		added = append(added, c)
	}
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	return added
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
