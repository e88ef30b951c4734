package gitops

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	gogithttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/gitops/githttp"
)

const (
	token   = "tok-3f9a1c77e2"
	solPath = "DynamicForms/SolutionPackage/src"
)

var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 2*3600))

func clock() time.Time { return fixedTime }

// remote is a bare repository behind the githttp server, seeded with main.
type remote struct {
	url, bare string
	main      plumbing.Hash
}

func newRemote(t *testing.T) remote {
	t.Helper()
	srv := githttp.NewServer(t.TempDir(), githttp.WithBasicAuth("x-access-token", token))
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	bare, err := srv.InitBare("sol", "main")
	if err != nil {
		t.Fatal(err)
	}
	url := ts.URL + "/sol.git"
	main := seed(t, url, map[string]string{
		"README.md":          "# solutions\n",
		"other/keep.txt":     "keep me",
		solPath + "/old.txt": "stale component",
	})
	return remote{url: url, bare: bare, main: main}
}

// seed pushes one commit with files to main of url, using go-git directly.
func seed(t *testing.T, url string, files map[string]string) plumbing.Hash {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wt, _ := r.Worktree()
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Seed", Email: "seed@example.com", When: fixedTime.Add(-time.Hour)}
	h, err := wt.Commit("seed", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", h)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		t.Fatal(err)
	}
	err = r.Push(&git.PushOptions{RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"}, Auth: &gogithttp.BasicAuth{Username: "x-access-token", Password: token}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// solutionFolder copies a real unpacked solution into a fresh folder.
func solutionFolder(t *testing.T) string {
	t.Helper()
	src := fixtures.Path("dynamic-forms", "unpacked")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// folderFiles maps slash paths to contents for every file under dir.
func folderFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// remoteTree maps slash paths to contents for the commit at ref in bare.
func remoteTree(t *testing.T, bare, ref string) (*object.Commit, map[string]string) {
	t.Helper()
	r, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Reference(plumbing.ReferenceName(ref), true)
	if err != nil {
		t.Fatalf("%s on the remote: %v", ref, err)
	}
	c, err := r.CommitObject(h.Hash())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	iter, _ := c.Files()
	iter.ForEach(func(f *object.File) error {
		s, err := f.Contents()
		files[f.Name] = s
		return err
	})
	return c, files
}

func underPath(files map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for name, body := range files {
		if rel, ok := strings.CutPrefix(name, prefix+"/"); ok {
			out[rel] = body
		}
	}
	return out
}

func baseOptions(repo, folder string) CommitOptions {
	return CommitOptions{
		Repo: repo, Branch: "feature/forms", Base: "main", Folder: folder, Path: solPath,
		Message: "Add dynamic forms #123\n\nExported by ppalm.",
		Author:  Signature{Name: "Maker Person", Email: "maker@contoso.com"},
		Push:    true, Token: token, Now: clock,
	}
}

func TestCommitToURL(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	folder := solutionFolder(t)
	want := folderFiles(t, folder)

	// First run: the branch is created from main and pushed.
	res, err := Commit(ctx, baseOptions(rem.url, folder))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || !res.Pushed || res.Branch != "feature/forms" {
		t.Fatalf("result = %+v", res)
	}
	if !slices.Contains(res.Changes, "D "+solPath+"/old.txt") || len(res.Changes) != len(want)+1 {
		t.Fatalf("changes = %v (want %d adds and one delete)", res.Changes, len(want))
	}
	c, files := remoteTree(t, rem.bare, "refs/heads/feature/forms")
	if c.Hash.String() != res.Hash {
		t.Fatalf("remote branch = %s, result hash %s", c.Hash, res.Hash)
	}
	if len(c.ParentHashes) != 1 || c.ParentHashes[0] != rem.main {
		t.Fatalf("parents = %v, want main %s", c.ParentHashes, rem.main)
	}
	for _, s := range []object.Signature{c.Author, c.Committer} {
		if s.Name != "Maker Person" || s.Email != "maker@contoso.com" || !s.When.Equal(fixedTime) {
			t.Fatalf("signature = %+v", s)
		}
		if _, off := s.When.Zone(); off != 2*3600 {
			t.Fatalf("signature zone offset = %d, want +0200", off)
		}
	}
	if c.Message != "Add dynamic forms #123\n\nExported by ppalm." {
		t.Fatalf("message = %q", c.Message)
	}
	if got := underPath(files, solPath); !mapsEqual(got, want) {
		t.Fatalf("remote folder differs from the published folder: %d files vs %d", len(got), len(want))
	}
	if files["README.md"] != "# solutions\n" || files["other/keep.txt"] != "keep me" {
		t.Fatalf("files outside the path changed: %v", files["other/keep.txt"])
	}
	if mainC, _ := remoteTree(t, rem.bare, "refs/heads/main"); mainC.Hash != rem.main {
		t.Fatal("main moved")
	}

	// Second run, same folder: nothing to commit, nothing pushed.
	again, err := Commit(ctx, baseOptions(rem.url, folder))
	if err != nil {
		t.Fatal(err)
	}
	if again.Committed || again.Pushed || again.Hash != res.Hash || len(again.Changes) != 0 {
		t.Fatalf("second run = %+v", again)
	}
	if c2, _ := remoteTree(t, rem.bare, "refs/heads/feature/forms"); c2.Hash != c.Hash {
		t.Fatal("second run moved the remote branch")
	}

	// Third run: a deleted component and a CRLF edit on the existing branch.
	var gone string
	for name := range want {
		if strings.HasPrefix(name, "Entities/") {
			gone = name
			break
		}
	}
	os.Remove(filepath.Join(folder, filepath.FromSlash(gone)))
	crlf := "<ImportExportXml>\r\n  <changed />\r\n</ImportExportXml>\r\n"
	os.WriteFile(filepath.Join(folder, "Other", "Solution.xml"), []byte(crlf), 0o644)
	third, err := Commit(ctx, baseOptions(rem.url, folder))
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []string{"D " + solPath + "/" + gone, "M " + solPath + "/Other/Solution.xml"}
	slices.SortFunc(wantChanges, func(a, b string) int { return strings.Compare(a[2:], b[2:]) })
	if !slices.Equal(third.Changes, wantChanges) {
		t.Fatalf("changes = %v, want %v", third.Changes, wantChanges)
	}
	c3, files3 := remoteTree(t, rem.bare, "refs/heads/feature/forms")
	if c3.ParentHashes[0] != c.Hash {
		t.Fatal("third commit does not follow the branch head")
	}
	if _, ok := files3[solPath+"/"+gone]; ok {
		t.Fatalf("%s still on the remote", gone)
	}
	if files3[solPath+"/Other/Solution.xml"] != crlf {
		t.Fatal("CRLF content was not committed byte for byte")
	}

	// ReadFolder brings the branch's folder back exactly.
	dest := filepath.Join(t.TempDir(), "out")
	n, err := ReadFolder(ctx, ReadOptions{Repo: rem.url, Ref: "feature/forms", Path: solPath, Dest: dest, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if got := folderFiles(t, dest); n != len(got) || !mapsEqual(got, folderFiles(t, folder)) {
		t.Fatalf("ReadFolder wrote %d files that differ from the folder", n)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestCommitBadCredentials(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	folder := solutionFolder(t)

	// Clone refused: the token is nowhere in the error, even inside the URL.
	opts := baseOptions(strings.Replace(rem.url, "http://", "http://someone:"+"wrong-"+token+"@", 1), folder)
	opts.Token = "wrong-" + token
	_, err := Commit(ctx, opts)
	if err == nil {
		t.Fatal("commit with a bad token succeeded")
	}
	if strings.Contains(err.Error(), "wrong-") || strings.Contains(err.Error(), token) {
		t.Fatalf("token leaked: %v", err)
	}
	if !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Fatalf("error = %v, want authentication required", err)
	}

	// Push refused: a working copy cloned with good credentials, pushed with
	// a bad token. The local commit is made; the error says push failed.
	dir := t.TempDir()
	if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: rem.url, Auth: &gogithttp.BasicAuth{Username: "x-access-token", Password: token}}); err != nil {
		t.Fatal(err)
	}
	opts = baseOptions(dir, folder)
	opts.Token = "bad-secret-value"
	_, err = Commit(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "push to "+rem.url) || strings.Contains(err.Error(), "bad-secret-value") {
		t.Fatalf("push with bad token: %v", err)
	}
	if _, err := git.PlainOpen(rem.bare); err == nil {
		r, _ := git.PlainOpen(rem.bare)
		if _, err := r.Reference("refs/heads/feature/forms", true); err == nil {
			t.Fatal("branch reached the remote despite bad credentials")
		}
	}
}

func TestCommitDetachedWorkingCopy(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	folder := solutionFolder(t)

	// A CI checkout: the commit checked out detached, origin/main tracked.
	dir := t.TempDir()
	r, err := git.PlainClone(dir, false, &git.CloneOptions{URL: rem.url, Auth: &gogithttp.BasicAuth{Username: "x-access-token", Password: token}})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Hash: rem.main}); err != nil {
		t.Fatal(err)
	}
	if err := r.Storer.RemoveReference("refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if h, _ := r.Head(); h.Name() != plumbing.HEAD {
		t.Fatalf("HEAD is %s, want detached", h.Name())
	}
	// Local edits outside the path must stay local and untouched.
	os.WriteFile(filepath.Join(dir, "other", "keep.txt"), []byte("local edit"), 0o644)
	os.WriteFile(filepath.Join(dir, "untracked.txt"), []byte("pipeline scratch"), 0o644)

	opts := baseOptions(dir, folder)
	opts.Branch = "DynamicForms"
	res, err := Commit(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || !res.Pushed {
		t.Fatalf("result = %+v", res)
	}
	c, files := remoteTree(t, rem.bare, "refs/heads/DynamicForms")
	if c.Hash.String() != res.Hash || c.ParentHashes[0] != rem.main {
		t.Fatalf("remote DynamicForms = %s (parent %v), want %s on main", c.Hash, c.ParentHashes, res.Hash)
	}
	if files["other/keep.txt"] != "keep me" {
		t.Fatal("a local edit outside the path was committed")
	}
	if _, ok := files["untracked.txt"]; ok {
		t.Fatal("an untracked file outside the path was committed")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "other", "keep.txt")); string(got) != "local edit" {
		t.Fatal("the local edit was lost")
	}
	if got := folderFiles(t, filepath.Join(dir, filepath.FromSlash(solPath))); !mapsEqual(got, folderFiles(t, folder)) {
		t.Fatal("working copy folder does not match the published folder")
	}
	head, _ := r.Head()
	if head.Name() != "refs/heads/DynamicForms" || head.Hash().String() != res.Hash {
		t.Fatalf("HEAD = %s %s", head.Name(), head.Hash())
	}
	// The index agrees with the commit: git sees only the local edits.
	if _, err := exec.LookPath("git"); err == nil {
		out, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
		if err != nil {
			t.Fatalf("git status: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "M other/keep.txt\n?? untracked.txt" && got != " M other/keep.txt\n?? untracked.txt" {
			t.Fatalf("git status --porcelain:\n%s", out)
		}
	}
	// The published folder may also be the repository folder itself.
	again := baseOptions(dir, filepath.Join(dir, filepath.FromSlash(solPath)))
	again.Branch = "DynamicForms"
	if res2, err := Commit(ctx, again); err != nil || res2.Committed {
		t.Fatalf("in-place rerun = %+v, %v", res2, err)
	}
}

func TestCommitToEmptyRemote(t *testing.T) {
	srv := githttp.NewServer(t.TempDir())
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	bare, err := srv.InitBare("empty", "main")
	if err != nil {
		t.Fatal(err)
	}
	opts := baseOptions(ts.URL+"/empty.git", solutionFolder(t))
	opts.Branch, opts.Token = "main", ""
	res, err := Commit(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c, files := remoteTree(t, bare, "refs/heads/main")
	if !res.Committed || len(c.ParentHashes) != 0 || len(files) != len(folderFiles(t, opts.Folder)) {
		t.Fatalf("root commit %s: %d parents, %d files", c.Hash, len(c.ParentHashes), len(files))
	}
}

func TestCommitRefusesCaseCollisions(t *testing.T) {
	folder := t.TempDir()
	os.MkdirAll(filepath.Join(folder, "Entities", "Account"), 0o755)
	os.MkdirAll(filepath.Join(folder, "entities", "contact"), 0o755)
	os.WriteFile(filepath.Join(folder, "Entities", "Account", "Entity.xml"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(folder, "entities", "contact", "Entity.xml"), []byte("b"), 0o644)
	_, err := Commit(context.Background(), baseOptions(t.TempDir(), folder))
	if err == nil || !strings.Contains(err.Error(), `"Entities"`) || !strings.Contains(err.Error(), `"entities"`) {
		t.Fatalf("error = %v, want both colliding names", err)
	}

	folder = t.TempDir()
	os.WriteFile(filepath.Join(folder, "README.md"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(folder, "readme.md"), []byte("b"), 0o644)
	if _, err := Commit(context.Background(), baseOptions(t.TempDir(), folder)); err == nil || !strings.Contains(err.Error(), "letter case") {
		t.Fatalf("error = %v", err)
	}
}

func TestCommitValidation(t *testing.T) {
	folder := t.TempDir()
	for _, tc := range []struct {
		edit func(*CommitOptions)
		want string
	}{
		{func(o *CommitOptions) { o.Path = "../outside" }, `path "../outside"`},
		{func(o *CommitOptions) { o.Path = "" }, `path ""`},
		{func(o *CommitOptions) { o.Path = "a/.git/hooks" }, `".git" is not allowed`},
		{func(o *CommitOptions) { o.Branch = "bad..name" }, `branch "bad..name"`},
		{func(o *CommitOptions) { o.Message = " " }, "message: empty"},
		{func(o *CommitOptions) { o.Author.Email = "" }, "author:"},
		{func(o *CommitOptions) { o.Folder = filepath.Join(folder, "missing") }, "missing"},
	} {
		opts := baseOptions(t.TempDir(), folder)
		tc.edit(&opts)
		if _, err := Commit(context.Background(), opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error = %v, want it to mention %s", err, tc.want)
		}
	}
}

// TestCommitGitHTTPBackend pushes to git's own http-backend, behind basic
// auth, and checks the result with git log.
func TestCommitGitHTTPBackend(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	execPath, err := exec.Command(gitBin, "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path failed")
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skip("git http-backend not installed")
	}
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	for _, args := range [][]string{
		{"init", "--bare", "--initial-branch=main", bare},
		{"-C", bare, "config", "http.receivepack", "true"},
	} {
		if out, err := exec.Command(gitBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	cgiHandler := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	var sawAuth bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u == "" || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		sawAuth = true
		cgiHandler.ServeHTTP(w, r)
	}))
	defer ts.Close()
	url := ts.URL + "/repo.git"
	rem := seed(t, url, map[string]string{"README.md": "hello"})

	ctx := context.Background()
	opts := baseOptions(url, solutionFolder(t))
	res, err := Commit(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sawAuth || !res.Committed || !res.Pushed {
		t.Fatalf("result = %+v, auth seen %v", res, sawAuth)
	}
	out, err := exec.Command(gitBin, "-C", bare, "log", "--format=%H|%P|%an <%ae>|%aI|%cn <%ce>|%cI|%s", "feature/forms").CombinedOutput()
	if err != nil {
		t.Fatalf("git log: %v\n%s", err, out)
	}
	first := strings.SplitN(string(out), "\n", 2)[0]
	want := res.Hash + "|" + rem.String() + "|Maker Person <maker@contoso.com>|2024-05-06T07:08:09+02:00|Maker Person <maker@contoso.com>|2024-05-06T07:08:09+02:00|Add dynamic forms #123"
	if first != want {
		t.Fatalf("git log:\n%s\nwant\n%s", first, want)
	}
	if out, err := exec.Command(gitBin, "-C", bare, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
	if again, err := Commit(ctx, opts); err != nil || again.Committed {
		t.Fatalf("rerun = %+v, %v", again, err)
	}
}

// --repo over plain http with a token to a host that is not loopback is
// refused before any connection; nothing is cloned.
func TestCommitRefusesTokenOverHTTP(t *testing.T) {
	_, err := Commit(context.Background(), CommitOptions{Repo: "http://git.contoso.example/alm.git", Branch: "b",
		Folder: solutionFolder(t), Path: solPath, Message: "m", Author: Signature{"A", "a@b.c"}, Token: token, Now: clock})
	if err == nil || !strings.Contains(err.Error(), "plain http to git.contoso.example") {
		t.Fatalf("err = %v, want a refusal naming the host", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("token in error: %v", err)
	}
}

// A password written in the --repo URL is the credential used (the server
// takes no other), and it never shows in an error.
func TestCommitUsesURLPassword(t *testing.T) {
	rem := newRemote(t)
	withPass := strings.Replace(rem.url, "http://", "http://x-access-token:"+token+"@", 1)
	res, err := Commit(context.Background(), CommitOptions{Repo: withPass, Branch: "main", Folder: solutionFolder(t),
		Path: solPath, Message: "m", Author: Signature{"A", "a@b.c"}, Push: true, Token: "ambient-wrong", Now: clock})
	if err != nil || !res.Pushed {
		t.Fatalf("commit with the URL's password: %v %+v", err, res)
	}
	wrong := strings.Replace(rem.url, "http://", "http://x-access-token:wr0ngpass@", 1)
	_, err = Commit(context.Background(), CommitOptions{Repo: wrong, Branch: "main", Folder: solutionFolder(t),
		Path: solPath, Message: "m", Author: Signature{"A", "a@b.c"}, Push: true, Now: clock})
	if err == nil || strings.Contains(err.Error(), "wr0ngpass") {
		t.Fatalf("wrong URL password: %v (want a failure without the password)", err)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// A git server that accepts and never answers fails clone (commit) and
// read in bounded time, with a message naming the host.
func TestHungServerFailsInBoundedTime(t *testing.T) {
	addr := silentServer(t)
	url := "http://" + addr + "/sol.git"
	for name, run := range map[string]func(context.Context) error{
		"commit": func(ctx context.Context) error {
			_, err := Commit(ctx, CommitOptions{Repo: url, Branch: "b", Folder: solutionFolder(t), Path: solPath,
				Message: "m", Author: Signature{"A", "a@b.c"}, Token: token, Now: clock, StallTimeout: 300 * time.Millisecond})
			return err
		},
		"read": func(ctx context.Context) error {
			_, err := ReadFolder(ctx, ReadOptions{Repo: url, Ref: "main", Dest: t.TempDir(), Token: token, StallTimeout: 300 * time.Millisecond})
			return err
		},
	} {
		start := time.Now()
		err := run(context.Background())
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "git server "+addr+" did not answer for 300ms") {
			t.Errorf("%s against a silent server: %v, want a message naming %s", name, err, addr)
		}
		if took > 10*time.Second {
			t.Errorf("%s took %s against a silent server", name, took)
		}
	}
}

// Uncommitted and untracked files under the path are not wiped: commit
// refuses naming them (on the same branch and when it switches branch),
// leaves them as they were, and replaces them only with DiscardChanges.
func TestCommitRefusesToDestroyUncommittedWork(t *testing.T) {
	rem := newRemote(t)
	ctx := context.Background()
	for _, branch := range []string{"main", "DynamicForms"} {
		dir := t.TempDir()
		if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: rem.url, Auth: &gogithttp.BasicAuth{Username: "x-access-token", Password: token}}); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(solPath))
		os.WriteFile(filepath.Join(target, "old.txt"), []byte("edited, not committed"), 0o644)
		os.MkdirAll(filepath.Join(target, "Notes"), 0o755)
		os.WriteFile(filepath.Join(target, "Notes", "draft.md"), []byte("untracked"), 0o644)
		opts := baseOptions(dir, solutionFolder(t))
		opts.Branch, opts.Push = branch, false
		_, err := Commit(ctx, opts)
		var ue *UncommittedError
		if !errors.As(err, &ue) {
			t.Fatalf("%s: err = %v, want an UncommittedError", branch, err)
		}
		for _, f := range []string{solPath + "/old.txt", solPath + "/Notes/draft.md"} {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("%s: error does not name %s: %v", branch, f, err)
			}
		}
		if !strings.Contains(err.Error(), "--discard-changes") {
			t.Errorf("%s: error does not say how to go on: %v", branch, err)
		}
		if b, _ := os.ReadFile(filepath.Join(target, "Notes", "draft.md")); string(b) != "untracked" {
			t.Fatalf("%s: the untracked file was touched", branch)
		}
		if b, _ := os.ReadFile(filepath.Join(target, "old.txt")); string(b) != "edited, not committed" {
			t.Fatalf("%s: the edit was touched", branch)
		}
		opts.DiscardChanges = true
		if res, err := Commit(ctx, opts); err != nil || !res.Committed {
			t.Fatalf("%s with DiscardChanges: %+v, %v", branch, res, err)
		}
		if _, err := os.Stat(filepath.Join(target, "Notes", "draft.md")); !os.IsNotExist(err) {
			t.Fatalf("%s: DiscardChanges kept the untracked file", branch)
		}
	}
}
