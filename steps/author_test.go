package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/gitops"
)

// The commit author: the flags, then the CI host's requester, then git's
// own user.name and user.email (the working copy's, then the user's), as
// git commit would take them; with none of them, the error says all three.
func TestDefaultAuthorFallsBackToGitConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	none := func(string) string { return "" }
	var a gitops.Signature
	err := DefaultAuthorFor(none, "", &a)
	if err == nil || !strings.Contains(err.Error(), "--author-name and --author-email") || !strings.Contains(err.Error(), "user.name and user.email") {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Bea Owner\n\temail = bea@contoso.example\n"), 0o644)
	a = gitops.Signature{}
	if err := DefaultAuthorFor(none, "", &a); err != nil || a.Name != "Bea Owner" || a.Email != "bea@contoso.example" {
		t.Fatalf("%+v, %v", a, err)
	}
	// The CI host's requester comes first, the flags before everything.
	a = gitops.Signature{Name: "Flag Name"}
	ci := func(k string) string { return map[string]string{"BUILD_REQUESTEDFOREMAIL": "ci@contoso.example"}[k] }
	if err := DefaultAuthorFor(ci, "", &a); err != nil || a.Name != "Flag Name" || a.Email != "ci@contoso.example" {
		t.Fatalf("%+v, %v", a, err)
	}
}
