package maker

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops"
)

// TestBadInputBesideTheFieldNothingSent posts bad input to every form (an
// empty comment, branch names git refuses, a profile the maker may not
// use, an environment outside the profile, ...): each answer is 400 with
// the message beside its field (aria-describedby, aria-invalid), the rest
// of the form kept, and nothing reaches Dataverse, the repository host or
// the git server.
func TestBadInputBesideTheFieldNothingSent(t *testing.T) {
	r := newRig(t)
	b := newClient(t, r.base)
	sol := fixtures.DemoSolutionName
	b.get("/start?environment=dev")
	b.post("/solutions/"+sol+"/profile", url.Values{"profile": {adoProfile}})

	cases := []struct {
		name, form string
		fields     url.Values
		field      string // whose error
		want       string
	}{
		{"environment not offered", "/environment", url.Values{"environment": {"staging"}}, "environment", "Choose one of the environments listed."},
		{"profile closed to the maker", "/solutions/" + sol + "/profile", url.Values{"profile": {"Finance only"}}, "profile", "Choose one of the profiles open to you."},
		{"profile that does not exist", "/solutions/" + sol + "/profile", url.Values{"profile": {"Nobody's"}}, "profile", "profiles open to you"},
		{"empty comment", "/solutions/" + sol + "/commit", url.Values{"comment": {"  "}, "branch": {sol}, "base": {"main"}}, "comment", "Enter a comment"},
		{"branch with a space", "/solutions/" + sol + "/commit", url.Values{"comment": {"Fix #1"}, "branch": {"my branch"}, "base": {"main"}}, "branch", "not a branch name git accepts"},
		{"base ending in .lock", "/solutions/" + sol + "/commit", url.Values{"comment": {"Fix #1"}, "branch": {sol}, "base": {"main.lock"}}, "base", "not a branch name git accepts"},
		{"environment not in the profile", "/solutions/" + sol + "/deploy", url.Values{"environment": {"dev"}, "source": {sol}, "target": {"main"}}, "environment", "Choose one of the environments of profile " + adoProfile},
		{"source branch with ..", "/solutions/" + sol + "/deploy", url.Values{"environment": {"test"}, "source": {"a..b"}, "target": {"main"}}, "source", "not a branch name git accepts"},
		{"target branch with ~", "/solutions/" + sol + "/deploy", url.Values{"environment": {"test"}, "source": {sol}, "target": {"main~1"}}, "target", "not a branch name git accepts"},
		{"delete not confirmed", "/solutions/" + sol + "/delete", url.Values{"confirm": {"yes"}}, "confirm", "Type the solution&#39;s name, " + sol},
		{"import with a closed profile", "/import", url.Values{"profile": {"Finance only"}, "branch": {"main"}, "folder": {sol}}, "profile", "profiles open to you"},
		{"import from a branch git refuses", "/import", url.Values{"profile": {adoProfile}, "branch": {"feature/"}, "folder": {sol}}, "branch", "not a branch name git accepts"},
		{"import from a missing branch", "/import", url.Values{"profile": {adoProfile}, "branch": {"nosuch"}, "folder": {sol}}, "branch", "The repository has no branch nosuch."},
		{"import a folder outside the repository", "/import", url.Values{"profile": {adoProfile}, "branch": {"main"}, "folder": {"../etc"}}, "folder", "holds SolutionPackage"},
		{"import a folder the branch lacks", "/import", url.Values{"profile": {adoProfile}, "branch": {"main"}, "folder": {"Nothing"}}, "folder", "Branch main has no folder Nothing."},
		{"import a configuration path", "/import", url.Values{"profile": {adoProfile}, "branch": {"main"}, "folder": {sol}, "config": {"test/../prod"}}, "config", "one folder under config/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fields.Set("csrf", b.token(c.form))
			sent := r.sent(t)
			code, page := b.send(c.form, c.fields)
			if code != 400 {
				t.Fatalf("%d, want 400:\n%s", code, page)
			}
			besideTheField(t, page, c.field, c.want)
			for k, v := range c.fields {
				if k != "csrf" && k != c.field && k != "confirm" && !strings.Contains(page, `value="`+v[0]+`"`) && !strings.Contains(page, ">"+v[0]+"<") {
					t.Errorf("the form lost %s=%q", k, v[0])
				}
			}
			if now := r.sent(t); now != sent {
				t.Fatalf("bad input sent something: before %+v, after %+v", sent, now)
			}
		})
	}

	// A solution whose recorded profile is closed to the maker (set by
	// someone else): commit and deploy send the maker to choose another,
	// and send nothing.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "solution.yaml"), []byte("profile: Finance only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gitops.Commit(context.Background(), gitops.CommitOptions{Repo: r.repoURL, Branch: "main", Base: "main", Folder: dir,
		Path: statePath(sol), Message: "finance takes it", Author: gitops.Signature{Name: "Fin", Email: "finance.lead@contoso.example"},
		Push: true, Token: r.gitToken}); err != nil {
		t.Fatal(err)
	}
	tok := b.token("/environment")
	for _, form := range []string{"commit", "deploy"} {
		sent := r.sent(t)
		code, page := b.send("/solutions/"+sol+"/"+form, url.Values{"csrf": {tok}, "comment": {"Fix #1"}, "environment": {"prod"}, "source": {sol}, "target": {"main"}})
		if code != 409 || !strings.Contains(page, "has no profile open to you") || !strings.Contains(page, `href="/solutions/`+sol+`/profile"`) {
			t.Fatalf("%s with a closed profile: %d\n%s", form, code, page)
		}
		if now := r.sent(t); now != sent {
			t.Fatalf("%s with a closed profile sent something", form)
		}
	}
}

// sent is what left the app so far: Dataverse requests, repository host
// requests, and the git server's branches.
type sentSoFar struct {
	dataverse, ado, github int
	refs                   string
}

func (r *rig) sent(t *testing.T) sentSoFar {
	t.Helper()
	var refs []string
	for b, h := range branches(t, r.repoURL, r.gitToken) {
		refs = append(refs, b+"="+h)
	}
	sort.Strings(refs)
	return sentSoFar{dataverse: r.emu.Stats().Total, ado: len(r.ado.Requests()), github: len(r.gh.Requests()), refs: strings.Join(refs, ",")}
}

// besideTheField checks that the error of field follows the field, names
// what is wrong, and that the field points at it for screen readers.
func besideTheField(t *testing.T, page, field, want string) {
	t.Helper()
	errRe := regexp.MustCompile(`<p class="error" id="` + field + `-error" role="alert">([^<]*)</p>`)
	m := errRe.FindStringSubmatchIndex(page)
	if m == nil {
		t.Fatalf("no error for %s:\n%s", field, page)
	}
	if msg := page[m[2]:m[3]]; !strings.Contains(msg, want) {
		t.Fatalf("error for %s is %q, want %q", field, msg, want)
	}
	// The control (or its fieldset) refers to the message and comes just
	// before it.
	ctl := regexp.MustCompile(`<(input|textarea|select|fieldset)[^>]*aria-describedby="` + field + `-error"[^>]*>`).FindStringIndex(page)
	if ctl == nil || ctl[0] > m[0] {
		t.Fatalf("no control before the error of %s points at it:\n%s", field, page)
	}
	if tag := page[ctl[0]:ctl[1]]; !strings.HasPrefix(tag, "<fieldset") && !strings.Contains(tag, `aria-invalid="true"`) {
		t.Fatalf("control of %s not marked invalid: %s", field, tag)
	}
	if other := strings.Count(page, `class="error"`); other != 1 {
		t.Fatalf("%d errors on the page, want only %s's", other, field)
	}
}
