package cli

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/gitops/githttp"
)

func TestCommitCommand(t *testing.T) {
	srv := githttp.NewServer(t.TempDir(), githttp.WithBasicAuth("x-access-token", "cli-token-77"))
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	if _, err := srv.InitBare("sol", "main"); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	os.MkdirAll(filepath.Join(folder, "Other"), 0o755)
	os.WriteFile(filepath.Join(folder, "Other", "Solution.xml"), []byte("<ImportExportXml />\n"), 0o644)

	env := map[string]string{"SYSTEM_ACCESSTOKEN": "cli-token-77", "BUILD_REQUESTEDFOR": "Maker", "BUILD_REQUESTEDFOREMAIL": "maker@contoso.com"}
	runCommit := func(env map[string]string) (int, string, string) {
		out, errOut, code := runCLI(t, env, "commit", "--repo", ts.URL+"/sol.git", "--branch", "main",
			"--folder", folder, "--path", "Sol/src", "--message", "Export #42")
		return code, out, errOut
	}
	code, out, errOut := runCommit(env)
	if code != 0 || !strings.Contains(out, "A Sol/src/Other/Solution.xml") || !strings.Contains(errOut, "committed=true") || !strings.Contains(errOut, "pushed=true") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCommit(env)
	if code != 0 || !strings.Contains(out, "Nothing to commit") || !strings.Contains(errOut, "committed=false") {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(folder, "Other", "Solution.xml"), []byte("<ImportExportXml changed=\"1\" />\n"), 0o644)
	bad := map[string]string{"PPALM_GIT_TOKEN": "wrong-cli-secret", "BUILD_REQUESTEDFOR": "Maker", "BUILD_REQUESTEDFOREMAIL": "m@c.com"}
	code, out, errOut = runCommit(bad)
	if code == 0 || strings.Contains(out+errOut, "wrong-cli-secret") || !strings.Contains(errOut, "authentication required") {
		t.Fatalf("bad token: exit %d\n%s%s", code, out, errOut)
	}
}
