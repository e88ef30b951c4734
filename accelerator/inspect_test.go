package accelerator

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(fixtures.AcceleratorPath("repo"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// digest is a hash of every file under dir, to see that nothing changed.
func digest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			lines = append(lines, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		}
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Inspect reads the Accelerator-layout repository as the Accelerator left
// it and finds that nothing in it must change; it changes nothing.
func TestInspectAcceleratorRepository(t *testing.T) {
	repo := copyRepo(t)
	before := digest(t, repo)
	r, err := Inspect(repo, "")
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, repo) != before {
		t.Fatal("Inspect changed the repository")
	}
	if len(r.Solutions) != 1 {
		t.Fatalf("%d solutions", len(r.Solutions))
	}
	s := r.Solutions[0]
	if s.Name != "ALMAcceleratorSampleSolution" || !s.Legacy || s.Version != "0.0.0.0" || len(s.CanvasSources) != 1 || len(s.CanvasMissing) != 0 {
		t.Errorf("solution %+v", s)
	}
	if len(s.Environments) != 2 {
		t.Fatalf("environments %+v", s.Environments)
	}
	for _, e := range s.Environments {
		want := map[string]string{"Prod": "main", "Test": "ALMAcceleratorSampleSolution"}[e.Name]
		if e.Branch != want || e.Pipeline == nil || e.Deployment == "" || e.Custom == "" || len(e.Tokens) != 24 ||
			e.VariableGroupToCreate != "deploy-"+strings.ToLower(e.Name)+"-ALMAcceleratorSampleSolution" {
			t.Errorf("environment %s: branch %q, pipeline %v, files %q %q, %d tokens, group %s", e.Name, e.Branch, e.Pipeline, e.Deployment, e.Custom, len(e.Tokens), e.VariableGroupToCreate)
		}
	}
	if c := r.MustChange(); len(c) != 0 {
		t.Errorf("must change: %v", c)
	}
	out := r.String()
	for _, want := range []string{"the legacy layout", "old pac canvas source", "a push to main deploys here",
		"GROUPTEAM_6EFB89E3_C102_458D_B83C_7A62FD4FDE61_PROD_TEAM", "a variable group deploy-prod-ALMAcceleratorSampleSolution",
		"nothing in the repository must change"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// What must change is named: canvas source without its .msapp, a settings
// file that does not parse, code-first projects ppalm does not build, a
// hook at a point ppalm has no place for; a filled-in hook that has one is
// told where its steps go.
func TestInspectNamesWhatMustChange(t *testing.T) {
	repo := copyRepo(t)
	sol := filepath.Join(repo, "ALMAcceleratorSampleSolution")
	os.Remove(filepath.Join(sol, "SolutionPackage", "CanvasApps", "cat_devopskitsamplecanvasapp_c7ec5_DocumentUri.msapp"))
	os.WriteFile(filepath.Join(sol, "config", "Test", "customDeploymentSettings.json"), []byte(`{"ActivateFlowConfiguration": {}}`), 0o644)
	os.MkdirAll(filepath.Join(sol, "Plugins", "alm-plugins"), 0o755)
	os.WriteFile(filepath.Join(sol, "Plugins", "alm-plugins", "alm-plugins.csproj"), []byte("<Project/>"), 0o644)
	hooks := t.TempDir()
	os.WriteFile(filepath.Join(hooks, "build-solution-pre-hook.yml"), []byte("steps:\n- script: echo build\n"), 0o644)
	os.WriteFile(filepath.Join(hooks, "export-solution-commit-pre-hook.yml"), []byte("steps:\n- script: echo commit\n"), 0o644)
	os.WriteFile(filepath.Join(hooks, "deploy-solution-post-hook.yml"), []byte("steps:\n- script: echo sample\n  enabled: false\n"), 0o644)

	r, err := Inspect(repo, hooks)
	if err != nil {
		t.Fatal(err)
	}
	changes := strings.Join(r.MustChange(), "\n")
	for _, want := range []string{
		"CanvasApps/cat_devopskitsamplecanvasapp_c7ec5_DocumentUri_msapp_src holds canvas source without its .msapp",
		"environment Test: ALMAcceleratorSampleSolution/config/Test/customDeploymentSettings.json",
		"ALMAcceleratorSampleSolution/Plugins/alm-plugins/alm-plugins.csproj (code-first project) is not built",
		"hook export-solution-commit-pre-hook.yml (1 step(s)) has no place in ppalm's templates",
	} {
		if !strings.Contains(changes, want) {
			t.Errorf("must change lacks %q:\n%s", want, changes)
		}
	}
	if strings.Contains(changes, "deploy-solution-post-hook") || strings.Contains(changes, "build-solution-pre-hook") {
		t.Errorf("a sample hook or one ppalm has a place for is listed as a change:\n%s", changes)
	}
	if out := r.String(); !strings.Contains(out, "build-solution-pre-hook.yml: 1 step(s): move them to preBuild (.ppalm/hooks/pre-build)") {
		t.Errorf("report:\n%s", out)
	}
}

// The pipelines --write writes extend ppalm's templates with the
// environments found, each with its branch, config and variable group.
func TestPipelineFiles(t *testing.T) {
	r, err := Inspect(copyRepo(t), "")
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.PipelineFiles(HostAzureDevOps)
	if err != nil || len(files) != 1 || files[0].Path != "ALMAcceleratorSampleSolution/ppalm-ALMAcceleratorSampleSolution.yml" {
		t.Fatalf("%+v %v", files, err)
	}
	for _, want := range []string{"template: templates/azure-devops/build-deploy-solution.yml@ppalm", "variableGroup: alm-accelerator-variable-group",
		"- name: test\n      branch: ALMAcceleratorSampleSolution\n      config: Test\n      variableGroup: deploy-test-ALMAcceleratorSampleSolution"} {
		if !strings.Contains(files[0].Content, want) {
			t.Errorf("pipeline lacks %q:\n%s", want, files[0].Content)
		}
	}
	files, err = r.PipelineFiles(HostGitHub)
	if err != nil || len(files) != 1 || !strings.Contains(files[0].Content, "uses: ppalm/ppalm/.github/workflows/deploy-solution.yml@v1") {
		t.Fatalf("%+v %v", files, err)
	}
	if _, err := r.PipelineFiles("jenkins"); err == nil {
		t.Error("an unknown host was accepted")
	}
	// Every variable the README's migration page lists is a real one.
	for _, v := range Variables {
		if v.Name == "" || v.PPALM == "" {
			t.Errorf("variable %+v lacks its name or what ppalm does", v)
		}
	}
	if _, ok := Lookup("skipsolutionimport"); !ok {
		t.Error("Lookup is not case-insensitive")
	}
}

// --write adds files only: with two solutions, the second's workflow
// already there, it writes neither and names the one that exists; once
// that is removed it writes both.
func TestWritePipelinesWritesAllOrNothing(t *testing.T) {
	repo := copyRepo(t)
	r, err := Inspect(repo, "")
	if err != nil {
		t.Fatal(err)
	}
	second := r.Solutions[0]
	second.Name = "Second"
	r.Solutions = append(r.Solutions, second)
	first := filepath.Join(repo, ".github", "workflows", "ppalm-ALMAcceleratorSampleSolution.yml")
	there := filepath.Join(repo, ".github", "workflows", "ppalm-Second.yml")
	os.MkdirAll(filepath.Dir(there), 0o755)
	os.WriteFile(there, []byte("kept\n"), 0o644)
	written, err := r.WritePipelines(repo, HostGitHub)
	if err == nil || !strings.Contains(err.Error(), there+" exists") || len(written) != 0 {
		t.Fatalf("written %v, err %v", written, err)
	}
	if _, err := os.Stat(first); err == nil {
		t.Errorf("%s was written although %s exists", first, there)
	}
	if b, _ := os.ReadFile(there); string(b) != "kept\n" {
		t.Errorf("%s overwritten: %q", there, b)
	}
	os.Remove(there)
	written, err = r.WritePipelines(repo, HostGitHub)
	if err != nil || len(written) != 2 || written[0] != first || written[1] != there {
		t.Fatalf("written %v, err %v", written, err)
	}
	want, _ := r.PipelineFiles(HostGitHub)
	for i, p := range written {
		if b, _ := os.ReadFile(p); string(b) != want[i].Content {
			t.Errorf("%s is not the pipeline:\n%s", p, b)
		}
	}
}

// The README's migration page lists every control variable with what
// ppalm does with it.
func TestReadmeListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i := strings.Index(readme, "## Moving from the ALM Accelerator")
	if i < 0 {
		t.Fatal("README.md has no migration page")
	}
	page := readme[i:]
	for _, v := range Variables {
		row := "| `" + v.Name + "` |"
		if !strings.Contains(page, row) || !strings.Contains(page, strings.ReplaceAll(v.PPALM, "|", "\\|")) {
			t.Errorf("the migration page lacks %s with what ppalm does (%q)", v.Name, v.PPALM)
		}
	}
}
