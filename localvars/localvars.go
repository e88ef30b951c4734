// Package localvars keeps the pipeline variables of `local` profiles: the
// values a deployment's #{token}# placeholders read when no Azure DevOps or
// GitHub pipeline holds them, because ppalm itself runs the deployment on
// the maker's machine. The settings files in git keep only the tokens; the
// values, secrets among them, stay here, outside any repository.
//
// # Where
//
// One file per user: $PPALM_LOCAL_VARIABLES when set (a file path),
// otherwise local-variables.json in ppalm's folder of the user's
// configuration directory (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config
// on Linux, ~/Library/Application Support on macOS, %AppData% on Windows),
// where tools such as the GitHub CLI (hosts.yml) and the Azure CLI keep
// their credentials when no keyring is used. An OS keychain would need cgo
// or a new dependency on every platform, so ppalm does what those tools do
// without one: a plain file that only its owner can read.
//
// # What is enforced
//
//   - The file is created 0600 in a folder created 0700; on Unix a file
//     that group or others can read, or a folder they can write, is refused
//     (as ssh refuses a readable private key) with the chmod that fixes it.
//   - The file may not sit inside a git work tree (a folder with .git
//     above it, such as a dotfiles repository holding ~/.config): a commit
//     would carry every secret. Set PPALM_LOCAL_VARIABLES elsewhere.
//   - Writes go to a temporary file in the same folder that is synced and
//     renamed over the old one, under a lock file, so a crash leaves the old
//     or the new content and two ppalm processes saving at once both land.
//   - Values are never printed; Lookup reports the secret values so the
//     caller masks them before anything can print them.
//
// # Format
//
//	{"version": 1, "scopes": {SCOPE: {ENVIRONMENT: {NAME: {"value": "…", "secret": true}}}}}
//
// SCOPE names the repository a profile deploys from (the caller's choice,
// for example its URL or absolute path), ENVIRONMENT the profile's
// deployment step, NAME the token as the settings file writes it.
package localvars

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/settings"
)

// EnvPath is the environment variable that overrides the file's location.
const EnvPath = "PPALM_LOCAL_VARIABLES"

// DefaultPath is where the store lives for this user (see the package
// documentation); getenv is os.Getenv in product code.
func DefaultPath(getenv func(string) string) (string, error) {
	if getenv != nil {
		if p := strings.TrimSpace(getenv(EnvPath)); p != "" {
			return filepath.Abs(p)
		}
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user's configuration folder for local variables (set %s to a file path): %w", EnvPath, err)
	}
	return filepath.Join(dir, "ppalm", "local-variables.json"), nil
}

// Store is the local variables file.
type Store struct {
	path string
	mu   sync.Mutex // orders this process's writers; the lock file orders processes
	// LockTimeout bounds the wait for another process's lock (default 10s).
	LockTimeout time.Duration
}

type variable struct {
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

type document struct {
	Version int                                       `json:"version"`
	Scopes  map[string]map[string]map[string]variable `json:"scopes"`
}

// Open checks that path is a safe place for secrets (see the package
// documentation) and returns the store; the file is created on the first
// Set.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("local variables file %s: %w", path, err)
	}
	if repo := enclosingRepository(filepath.Dir(abs)); repo != "" {
		return nil, fmt.Errorf("local variables file %s: it is inside the git work tree %s, where a commit would publish its secrets; set %s to a file outside any repository", abs, repo, EnvPath)
	}
	s := &Store{path: abs}
	if err := s.checkPermissions(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the file the store reads and writes.
func (s *Store) Path() string { return s.path }

// enclosingRepository returns the first folder at or above dir holding
// .git, or "".
func enclosingRepository(dir string) string {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// checkPermissions refuses a file or folder others can read or write. On
// Windows the folder's ACL (the user's profile) is what protects it.
func (s *Store) checkPermissions() error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if fi, err := os.Stat(filepath.Dir(s.path)); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("local variables folder %s: others can write to it (mode %04o); run chmod go-w %s", filepath.Dir(s.path), fi.Mode().Perm(), filepath.Dir(s.path))
	}
	fi, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("local variables file %s: %w", s.path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("local variables file %s: other users can read it (mode %04o); run chmod 600 %s", s.path, fi.Mode().Perm(), s.path)
	}
	return nil
}

func (s *Store) read() (*document, error) {
	if err := s.checkPermissions(); err != nil {
		return nil, err
	}
	doc := &document{Version: 1, Scopes: map[string]map[string]map[string]variable{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read local variables file %s: %w", s.path, err)
	}
	if err := json.Unmarshal(data, doc); err != nil {
		// The error text never quotes the content: it holds secrets.
		return nil, fmt.Errorf("read local variables file %s: it is not the JSON ppalm writes (expected {\"version\": 1, \"scopes\": {…}}); fix or remove it", s.path)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("read local variables file %s: version %d; this ppalm reads version 1", s.path, doc.Version)
	}
	if doc.Scopes == nil {
		doc.Scopes = map[string]map[string]map[string]variable{}
	}
	return doc, nil
}

func (s *Store) write(doc *document) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create local variables folder %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".local-variables-*.tmp") // 0600
	if err != nil {
		return fmt.Errorf("write local variables file %s: %w", s.path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write local variables file %s: %w", s.path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write local variables file %s: %w", s.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write local variables file %s: %w", s.path, err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write local variables file %s: %w", s.path, err)
	}
	return nil
}

// lock takes the lock file beside the store; a lock older than a minute
// is left from a killed process and is taken over.
func (s *Store) lock() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("create local variables folder %s: %w", filepath.Dir(s.path), err)
	}
	name := s.path + ".lock"
	timeout := s.LockTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lock local variables file %s: %w", s.path, err)
		}
		if fi, serr := os.Stat(name); serr == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(name)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock local variables file %s: another ppalm holds %s; if none runs, remove it", s.path, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkKey(what, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is empty", what)
	}
	return nil
}

// Set stores vars for environment of scope, replacing values of the same
// names and keeping the others.
func (s *Store) Set(scope, environment string, vars []devops.PipelineVariable) error {
	what := fmt.Sprintf("save local variables of %s for environment %q", scope, environment)
	if err := errors.Join(checkKey("the scope", scope), checkKey("the environment name", environment)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	seen := map[string]bool{}
	for _, v := range vars {
		if strings.TrimSpace(v.Name) == "" {
			return fmt.Errorf("%s: a variable has no name", what)
		}
		if seen[v.Name] {
			return fmt.Errorf("%s: variable %q is given twice", what, v.Name)
		}
		seen[v.Name] = true
	}
	err := s.update(func(doc *document) {
		envs := doc.Scopes[scope]
		if envs == nil {
			envs = map[string]map[string]variable{}
			doc.Scopes[scope] = envs
		}
		m := envs[environment]
		if m == nil {
			m = map[string]variable{}
			envs[environment] = m
		}
		for _, v := range vars {
			m[v.Name] = variable{Value: v.Value, Secret: v.Secret}
		}
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Delete removes the named variables of environment of scope.
func (s *Store) Delete(scope, environment string, names ...string) error {
	return s.update(func(doc *document) {
		m := doc.Scopes[scope][environment]
		for _, n := range names {
			delete(m, n)
		}
	})
}

// update changes the store's document under the process's mutex and the
// file lock other processes honour: read, change, write.
func (s *Store) update(change func(doc *document)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	doc, err := s.read()
	if err != nil {
		return err
	}
	change(doc)
	return s.write(doc)
}

func (s *Store) env(scope, environment string) (map[string]variable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, err := s.read()
	if err != nil {
		return nil, err
	}
	return doc.Scopes[scope][environment], nil
}

// Variables lists what environment of scope holds, sorted by name; a
// secret's value is left out, as the pipeline hosts leave it out.
func (s *Store) Variables(scope, environment string) ([]devops.StoredVariable, error) {
	m, err := s.env(scope, environment)
	if err != nil {
		return nil, err
	}
	out := make([]devops.StoredVariable, 0, len(m))
	for n, v := range m {
		sv := devops.StoredVariable{Name: n, Secret: v.Secret}
		if !v.Secret {
			sv.Value = v.Value
		}
		out = append(out, sv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Lookup returns the token lookup a local deployment of environment fills
// its settings with (by the name as written, then ignoring case), and the
// secret values among them, which the caller registers for masking before
// the deployment prints anything.
func (s *Store) Lookup(scope, environment string) (settings.LookupFunc, []string, error) {
	m, err := s.env(scope, environment)
	if err != nil {
		return nil, nil, err
	}
	var secrets []string
	for _, v := range m {
		if v.Secret && v.Value != "" {
			secrets = append(secrets, v.Value)
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := m[name]; ok && v.Value != "" {
			return v.Value, true
		}
		for n, v := range m {
			if strings.EqualFold(n, name) && v.Value != "" {
				return v.Value, true
			}
		}
		return "", false
	}
	return lookup, secrets, nil
}
