package task

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretMaskedInEscapedForms: a secret holding '"' or '\' is printed
// escaped by every %q in an error, by JSON and by URLs; each form must be
// masked on every host, in log lines, annotations and the summary.
func TestSecretMaskedInEscapedForms(t *testing.T) {
	const secret = `pa"ss\wo rd/é`
	jsonForm, _ := json.Marshal(secret)
	forms := map[string]string{
		"raw":   secret,
		"%q":    fmt.Sprintf("%q", secret),
		"%+q":   fmt.Sprintf("%+q", secret),
		"json":  string(jsonForm),
		"query": url.QueryEscape(secret),
		"path":  url.PathEscape(secret),
	}
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	for _, host := range []string{"azure-devops", "github", "terminal"} {
		var out bytes.Buffer
		var r Reporter
		switch host {
		case "azure-devops":
			r = NewAzureDevOps(&out, dir)
		case "github":
			r = NewGitHub(&out, func(k string) string {
				if k == "GITHUB_STEP_SUMMARY" {
					return summary
				}
				return ""
			})
		default:
			r = NewTerminal(&out, false)
		}
		RegisterSecrets(r, secret)
		var printed bytes.Buffer // what the host shows a reader, setsecret lines aside
		for name, form := range forms {
			msg := "input --client-secret=" + form + " (" + name + ")"
			r.Info(msg)
			r.Error(msg, "")
			if err := r.Summary(msg); err != nil {
				t.Fatal(err)
			}
			if got := Mask(r, msg); strings.Contains(got, form) {
				t.Errorf("%s: Mask left the %s form: %s", host, name, got)
			}
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "##vso[task.setsecret]") || strings.HasPrefix(l, "::add-mask::") {
				continue
			}
			printed.WriteString(l + "\n")
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			printed.Write(b)
		}
		for name, form := range forms {
			inner := strings.Trim(form, `"`)
			if strings.Contains(printed.String(), inner) {
				t.Errorf("%s: the %s form %s of the secret was printed:\n%s", host, name, inner, printed.String())
			}
		}
		for _, f := range files {
			os.Remove(f)
		}
	}
}
