package localvars_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/localvars"
	"github.com/ppalm/ppalm/settings"
)

func open(t *testing.T) *localvars.Store {
	t.Helper()
	s, err := localvars.Open(filepath.Join(t.TempDir(), "config", "ppalm", "local-variables.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPerEnvironmentValuesAndSecrets(t *testing.T) {
	s := open(t)
	const repo = "/home/megan/contoso-alm"
	if err := s.Set(repo, "test", []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://test.contoso.com"},
		{Name: "environmentvariable.cat_Key", Value: "test-key", Secret: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(repo, "prod", []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://contoso.com"},
		{Name: "environmentvariable.cat_Key", Value: "prod-key", Secret: true},
	}); err != nil {
		t.Fatal(err)
	}
	// A second save changes one value and keeps the rest.
	if err := s.Set(repo, "prod", []devops.PipelineVariable{{Name: "environmentvariable.cat_ApiUrl", Value: "https://www.contoso.com"}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Variables(repo, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(list); got != "[{environmentvariable.cat_ApiUrl false https://www.contoso.com} {environmentvariable.cat_Key true }]" {
		t.Errorf("prod lists %s; the secret's value must not be listed", got)
	}
	lookup, secrets, err := s.Lookup(repo, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(secrets, ",") != "prod-key" {
		t.Errorf("secrets to mask = %v", secrets)
	}
	// The deployment fills its settings from the store.
	out, err := settings.FillTokens("customDeploymentSettings.json",
		[]byte(`{"a":"#{environmentvariable.cat_ApiUrl}#","b":"#{ENVIRONMENTVARIABLE.CAT_KEY}#"}`), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"a":"https://www.contoso.com","b":"prod-key"}` {
		t.Errorf("filled = %s", out)
	}
	if l, _, _ := s.Lookup(repo, "test"); l != nil {
		if v, _ := l("environmentvariable.cat_Key"); v != "test-key" {
			t.Errorf("test key = %q", v)
		}
	}
	if list, err := s.Variables("/other/repo", "prod"); err != nil || len(list) != 0 {
		t.Errorf("another repository sees %v, %v", list, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %04o, want 0600", fi.Mode().Perm())
		}
		di, _ := os.Stat(filepath.Dir(s.Path()))
		if di.Mode().Perm() != 0o700 {
			t.Errorf("folder mode %04o, want 0700", di.Mode().Perm())
		}
	}
}

func TestRefusesUnsafePlaces(t *testing.T) {
	// Inside a git work tree (a dotfiles repository holding the config dir).
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := localvars.Open(filepath.Join(home, ".config", "ppalm", "local-variables.json"))
	if err == nil || !strings.Contains(err.Error(), "inside the git work tree "+home) || !strings.Contains(err.Error(), localvars.EnvPath) {
		t.Errorf("inside a repository: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	// A file others can read.
	s := open(t)
	if err := s.Set("r", "prod", []devops.PipelineVariable{{Name: "a", Value: "supersecret", Secret: true}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.Variables("r", "prod")
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+s.Path()) {
		t.Errorf("a readable file: %v", err)
	}
	if _, err := localvars.Open(s.Path()); err == nil {
		t.Error("Open accepted a readable file")
	}
	// A damaged file is reported without quoting its content.
	if err := os.WriteFile(s.Path(), []byte(`{"scopes": supersecret`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Variables("r", "prod")
	if err == nil || strings.Contains(err.Error(), "supersecret") || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("a damaged file: %v", err)
	}
}

func TestConcurrentSavesAllLand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "local-variables.json")
	var wg sync.WaitGroup
	const n = 12
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A store per goroutine: two processes share only the file.
			s, err := localvars.Open(path)
			if err != nil {
				t.Error(err)
				return
			}
			if err := s.Set("r", "prod", []devops.PipelineVariable{{Name: fmt.Sprintf("v%d", i), Value: "x"}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s, _ := localvars.Open(path)
	list, err := s.Variables("r", "prod")
	if err != nil || len(list) != n {
		t.Errorf("%d of %d saves landed (%v)", len(list), n, err)
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Error("the lock file was left behind")
	}
}

func TestDefaultPath(t *testing.T) {
	p, err := localvars.DefaultPath(func(k string) string {
		if k == localvars.EnvPath {
			return "/srv/ppalm/vars.json"
		}
		return ""
	})
	if err != nil || p != filepath.Clean("/srv/ppalm/vars.json") && runtime.GOOS != "windows" {
		t.Errorf("override: %s, %v", p, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "/home/megan/.config")
	t.Setenv("HOME", "/home/megan")
	if p, err := localvars.DefaultPath(os.Getenv); err != nil || runtime.GOOS == "linux" && p != "/home/megan/.config/ppalm/local-variables.json" {
		t.Errorf("default: %s, %v", p, err)
	}
}
