package task

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	hostile = "x\n##vso[task.setvariable variable=a]b"
	secret  = "s3cr%t;]"
)

// script drives a reporter through everything a step may do, with hostile
// values everywhere a user-controlled string can go.
func script(t *testing.T, r Reporter) {
	t.Helper()
	r.SetSecret(secret)
	r.SetSecret("") // ignored
	end := r.StartGroup("Import " + hostile)
	r.Info("solution " + hostile)
	r.Info("::add-mask::leak")
	r.Info("  ::error::fake")
	r.Info("##[error]fake\r\n##VSO[task.complete result=Succeeded;]done")
	r.Info("token is " + secret + " ok")
	r.Warning("50% done; [x] ok", "src/a;b]c:d,e.xml")
	r.Error("failed for "+hostile+" secret "+secret, "")
	r.Progress(42, "import 100% ]; "+hostile)
	r.Progress(150, "clamped")
	if err := r.SetOutput("solutionName", hostile); err != nil {
		t.Fatal(err)
	}
	if err := r.SetOutput("connection", "pre "+secret+" post"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetOutput("bad name]", "v"); err == nil {
		t.Error("SetOutput accepted the name \"bad name]\"")
	}
	if err := r.Summary("# Summary\n" + hostile + "\nsecret " + secret + "\n"); err != nil {
		t.Fatal(err)
	}
	end()
	end() // a second call must not print a second end
	r.Complete(true, "failed: "+hostile)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./task -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./task -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// adoCommand parses one ##vso line the way the agent does: the command runs
// from the first "##vso[" to the first ']' after it.
var adoCommandLine = regexp.MustCompile(`^##vso\[([a-z]+\.[a-z]+)( [^\]]*)?\](.*)$`)

func adoUnescape(s string) string {
	return strings.NewReplacer("%AZP25", "%", "%0D", "\r", "%0A", "\n", "%5D", "]", "%3B", ";").Replace(s)
}

func TestAzureDevOpsGolden(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	r := NewAzureDevOps(&out, dir)
	script(t, r)

	var summaryPath string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if i := strings.Index(strings.ToLower(line), "##vso["); i >= 0 {
			m := adoCommandLine.FindStringSubmatch(line)
			if i != 0 || m == nil {
				t.Errorf("line is not one well-formed logging command: %q", line)
				continue
			}
			if strings.Contains(m[3], "]") || strings.ContainsAny(m[3], "\r") {
				t.Errorf("message could close a second command: %q", line)
			}
			props := m[2]
			switch m[1] {
			case "task.setvariable":
				if strings.Contains(props, "variable=a") || strings.Contains(props, "variable=a;") {
					t.Errorf("injected variable: %q", line)
				}
			case "task.complete":
				if !strings.HasPrefix(props, " result=Failed;") {
					t.Errorf("complete: %q", line)
				}
			case "task.uploadsummary":
				summaryPath = adoUnescape(m[3])
			}
			if m[1] != "task.setsecret" && strings.Contains(adoUnescape(line), secret) && !strings.Contains(props, "issecret=true") {
				t.Errorf("secret printed: %q", line)
			}
		} else if strings.Contains(line, secret) {
			t.Errorf("secret printed: %q", line)
		}
	}
	if !filepath.IsAbs(summaryPath) || filepath.Dir(summaryPath) != dir {
		t.Fatalf("summary path %q is not an absolute path in AGENT_TEMPDIRECTORY %q", summaryPath, dir)
	}
	summary, err := os.ReadFile(summaryPath)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(out.String(), summaryPath, "$AGENT_TEMPDIRECTORY/ppalm-summary.md")
	golden(t, "azure-devops.golden", []byte(got+"--- summary file\n"+string(summary)))
}

func TestAzureDevOpsSummaryNeedsTempDir(t *testing.T) {
	r := NewAzureDevOps(&bytes.Buffer{}, "")
	if err := r.Summary("x"); err == nil || !strings.Contains(err.Error(), "AGENT_TEMPDIRECTORY") {
		t.Errorf("Summary without a temp dir: %v, want an error naming AGENT_TEMPDIRECTORY", err)
	}
}

func TestGitHubGolden(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	r := NewGitHub(&out, func(k string) string { return env[k] })
	n := 0
	r.delimiter = func() string { n++; return "ghadelimiter_test" + string(rune('0'+n)) }
	script(t, r)

	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "::") {
			name, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "::"), "::")
			name, _, _ = strings.Cut(name, " ")
			switch name {
			case "group", "endgroup", "warning", "error":
			case "add-mask":
				if trimmed != "::add-mask::"+strings.ReplaceAll(secret, "%", "%25") {
					t.Errorf("unexpected mask command: %q", line)
				}
				continue
			default:
				t.Errorf("unexpected workflow command: %q", line)
			}
		}
		if strings.Contains(line, secret) {
			t.Errorf("secret printed: %q", line)
		}
	}
	output, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	if outputs := parseGitHubOutput(t, string(output)); outputs["solutionName"] != hostile || len(outputs) != 2 {
		t.Errorf("outputs = %q, want solutionName = %q and connection", outputs, hostile)
	}
	golden(t, "github.golden", []byte(out.String()+"--- GITHUB_OUTPUT\n"+string(output)+"--- GITHUB_STEP_SUMMARY\n"+string(summary)))
}

// parseGitHubOutput reads an output file the way the runner does.
func parseGitHubOutput(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("output line %d is not name<<delimiter: %q", i+1, lines[i])
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

func TestGitHubFilesUnset(t *testing.T) {
	r := NewGitHub(&bytes.Buffer{}, func(string) string { return "" })
	if err := r.SetOutput("a", "b"); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT") {
		t.Errorf("SetOutput without GITHUB_OUTPUT: %v, want an error naming it (and no panic)", err)
	}
	if err := r.Summary("b"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY") {
		t.Errorf("Summary without GITHUB_STEP_SUMMARY: %v, want an error naming it", err)
	}
}

func TestGitHubSummaryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary")
	r := NewGitHub(&bytes.Buffer{}, func(k string) string {
		if k == "GITHUB_STEP_SUMMARY" {
			return path
		}
		return ""
	})
	if err := r.Summary(strings.Repeat("a", maxStepSummary-10)); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary(strings.Repeat("b", 20)); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("summary past 1 MiB: %v, want an error", err)
	}
}

func TestTerminalGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		tty  bool
	}{{"terminal.golden", false}, {"terminal-tty.golden", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			script(t, NewTerminal(&out, tc.tty))
			if strings.Contains(out.String(), secret) {
				t.Errorf("secret printed:\n%s", out.String())
			}
			if got := strings.Contains(out.String(), "\x1b[K"); got != tc.tty {
				t.Errorf("progress bar drawn = %v, want %v", got, tc.tty)
			}
			golden(t, tc.name, out.Bytes())
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": "/tmp"}, "*task.AzureDevOps"},
		{map[string]string{"GITHUB_ACTIONS": "true"}, "*task.GitHub"},
		{map[string]string{"GITHUB_ACTIONS": "false"}, "*task.Terminal"},
		{map[string]string{}, "*task.Terminal"},
	} {
		r := Detect(func(k string) string { return tc.env[k] }, &bytes.Buffer{}, false)
		if got := typeName(r); got != tc.want {
			t.Errorf("Detect(%v) = %s, want %s", tc.env, got, tc.want)
		}
	}
}

func typeName(r Reporter) string {
	switch r.(type) {
	case *AzureDevOps:
		return "*task.AzureDevOps"
	case *GitHub:
		return "*task.GitHub"
	case *Terminal:
		return "*task.Terminal"
	}
	return "?"
}

// TestConcurrentLines checks that lines from several goroutines never
// interleave (run with -race).
func TestConcurrentLines(t *testing.T) {
	var out bytes.Buffer
	r := NewAzureDevOps(&out, t.TempDir())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				r.SetSecret(strings.Repeat("k", j+1) + "!")
				r.Error("boom", "")
			}
		}()
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line != "##vso[task.logissue type=error]boom" && !strings.HasPrefix(line, "##vso[task.setsecret]k") {
			t.Fatalf("interleaved line %q", line)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	r := NewAzureDevOps(&out, "")
	r.SetSecret("hunter2")
	w := NewLineWriter(r)
	w.Write([]byte("one\r\n##vso[task.setvariable variable=a]b\npass hun"))
	w.Write([]byte("ter2 end"))
	w.Flush()
	want := "##vso[task.setsecret]hunter2\none\n##vso%5Btask.setvariable variable=a]b\npass *** end\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func BenchmarkAzureDevOpsInfo(b *testing.B) {
	r := NewAzureDevOps(discard{}, "")
	for i := 0; i < 20; i++ {
		r.SetSecret(strings.Repeat("s", 10+i))
	}
	msg := "Importing solution Contoso 1.0.0.1 into https://contoso.crm.dynamics.com: 42% done"
	b.ReportAllocs()
	for b.Loop() {
		r.Info(msg)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
