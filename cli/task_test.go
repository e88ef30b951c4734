package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"net/http"
	"net/http/httptest"

	"github.com/ppalm/ppalm/dataverse/emulator"
	"github.com/ppalm/ppalm/dataverse/emulator/emulatortest"
	"github.com/ppalm/ppalm/fixtures"
	"github.com/ppalm/ppalm/task"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// ppalmBinary builds ./cmd/ppalm once per test run.
func ppalmBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ppalm-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ppalm")
		if os.PathSeparator == '\\' {
			binPath += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/ppalm/ppalm/cmd/ppalm")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/ppalm: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// agentEnv is the environment an agent gives a task: only what is listed,
// so nothing from the developer's shell leaks in.
func runAsAgent(t *testing.T, env ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(ppalmBinary(t))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

var vsoLine = regexp.MustCompile(`^##vso\[[a-z]+\.[a-z]+( [A-Za-z]+=[^;\]]*(;[A-Za-z]+=[^;\]]*)*;?)?\][^\]\r]*$`)

// checkADOLines fails on any line holding a logging command that is not one
// well-formed command starting the line.
func checkADOLines(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l), "##vso[") && !vsoLine.MatchString(l) {
			t.Errorf("malformed logging command: %q", l)
		}
	}
	return lines
}

func TestTaskModeAzureDevOpsUnpack(t *testing.T) {
	zip := fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip")
	folder := filepath.Join(t.TempDir(), "src")
	temp := t.TempDir()
	out, code := runAsAgent(t, "TF_BUILD=True", "AGENT_TEMPDIRECTORY="+temp,
		"INPUT_COMMAND=unpack", "INPUT_ZIPFILE="+zip, "INPUT_FOLDER="+folder, "INPUT_PACKAGETYPE=Unmanaged")
	lines := checkADOLines(t, out)
	if code != 0 {
		t.Fatalf("exit code %d, output:\n%s", code, out)
	}
	if last := lines[len(lines)-1]; last != "##vso[task.complete result=Succeeded;]ppalm unpack succeeded" {
		t.Errorf("last line = %q, want task.complete result=Succeeded", last)
	}
	if groups := checkGroups(t, out, "##[group]", "##[endgroup]"); strings.Join(groups, ",") != "ppalm unpack" {
		t.Errorf("groups %q, want the one group ppalm unpack", groups)
	}
	if !strings.Contains(out, "##vso[task.setvariable variable=result;isOutput=true]Succeeded\n") {
		t.Errorf("no result output variable:\n%s", out)
	}
	if !strings.Contains(out, "##vso[task.uploadsummary]"+temp) {
		t.Errorf("no summary uploaded from AGENT_TEMPDIRECTORY:\n%s", out)
	}
	entries, err := os.ReadDir(folder)
	if err != nil || len(entries) == 0 {
		t.Errorf("unpack wrote nothing into %s: %v", folder, err)
	}
}

func TestTaskModeAzureDevOpsFailingInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "x\n##vso[task.setvariable variable=a]b.zip")
	out, code := runAsAgent(t, "TF_BUILD=True", "AGENT_TEMPDIRECTORY="+t.TempDir(),
		"INPUT_COMMAND=unpack", "INPUT_ZIPFILE="+missing, "INPUT_FOLDER="+t.TempDir())
	lines := checkADOLines(t, out)
	if code == 0 {
		t.Fatalf("exit code 0 for a missing zip; output:\n%s", out)
	}
	if !strings.Contains(out, "##vso[task.logissue type=error]") {
		t.Errorf("no error issue:\n%s", out)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "##vso[task.complete result=Failed;]") {
		t.Errorf("last line = %q, want task.complete result=Failed", last)
	}
	for _, l := range lines {
		if strings.Contains(l, "##vso[task.setvariable variable=a") {
			t.Errorf("the zip name injected a variable: %q", l)
		}
	}
}

func TestTaskModeAzureDevOpsBadCommand(t *testing.T) {
	out, code := runAsAgent(t, "TF_BUILD=True", "INPUT_COMMAND=no-such-command")
	checkADOLines(t, out)
	if code != 1 || !strings.Contains(out, `##vso[task.logissue type=error]task mode: input "command" (INPUT_COMMAND) is "no-such-command": expected one of`) ||
		!strings.Contains(out, "##vso[task.complete result=Failed;]") {
		t.Errorf("code %d, output:\n%s", code, out)
	}
}

func TestTaskModeGitHubUnpack(t *testing.T) {
	zip := fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip")
	dir := t.TempDir()
	output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	folder := filepath.Join(dir, "src")
	gh := []string{"GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary}
	out, code := runAsAgent(t, append(gh, "INPUT_COMMAND=unpack", "INPUT_ZIPFILE="+zip, "INPUT_FOLDER="+folder, "INPUT_PACKAGETYPE=Unmanaged")...)
	if code != 0 {
		t.Fatalf("exit code %d, output:\n%s", code, out)
	}
	if groups := checkGroups(t, out, "::group::", "::endgroup::"); strings.Join(groups, ",") != "ppalm unpack" {
		t.Errorf("groups %q, want the one group ppalm unpack:\n%s", groups, out)
	}
	got, err := os.ReadFile(output)
	if err != nil || !regexp.MustCompile(`^removed-files<<(ghadelimiter_[0-9a-f]{32})\n0\n(ghadelimiter_[0-9a-f]{32})\nresult<<(ghadelimiter_[0-9a-f]{32})\nSucceeded\n(ghadelimiter_[0-9a-f]{32})\n$`).Match(got) {
		t.Errorf("GITHUB_OUTPUT = %q, %v", got, err)
	}
	if got, err := os.ReadFile(summary); err != nil || !strings.Contains(string(got), "### ppalm unpack") {
		t.Errorf("GITHUB_STEP_SUMMARY = %q, %v", got, err)
	}

	out, code = runAsAgent(t, append(gh, "INPUT_COMMAND=unpack", "INPUT_ZIPFILE="+filepath.Join(dir, "missing.zip"), "INPUT_FOLDER="+folder)...)
	if code == 0 || !regexp.MustCompile(`(?m)^::error::`).MatchString(out) {
		t.Errorf("missing zip: code %d, output:\n%s", code, out)
	}
	if got, _ := os.ReadFile(output); !strings.Contains(string(got), "\nFailed\n") {
		t.Errorf("GITHUB_OUTPUT after failure = %q", got)
	}
}

// TestTaskModeGitHubUnpackReportsRemovedFiles unpacks an export that lacks a
// component (1.0.23 has no custom connector) over a tree of one that has it: the files taken out are listed in the
// run summary and counted in an output, and the hidden folders a killed
// unpack left beside the tree are gone.
func TestTaskModeGitHubUnpackReportsRemovedFiles(t *testing.T) {
	dir := t.TempDir()
	output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	folder := filepath.Join(dir, "src")
	gh := []string{"GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary, "INPUT_COMMAND=unpack", "INPUT_FOLDER=" + folder}
	if out, code := runAsAgent(t, append(gh, "INPUT_ZIPFILE="+fixtures.Path("pl400demos-medium", "PL400Demos_1_0_24_0.zip"))...); code != 0 {
		t.Fatalf("first unpack: exit %d\n%s", code, out)
	}
	stale := filepath.Join(dir, ".src.ppalm-old-123", "Entities")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(summary)
	_ = os.Remove(output)
	out, code := runAsAgent(t, append(gh, "INPUT_ZIPFILE="+fixtures.Path("pl400demos-medium", "PL400Demos_1_0_23_0.zip"))...)
	if code != 0 {
		t.Fatalf("second unpack: exit %d\n%s", code, out)
	}
	sum, _ := os.ReadFile(summary)
	m := regexp.MustCompile(`ppalm unpack: (\d+) file\(s\) removed from`).FindSubmatch(sum)
	if m == nil {
		t.Fatalf("summary does not list removed files:\n%s", sum)
	}
	// Every file listed is gone from the tree, and the count matches.
	listed := regexp.MustCompile("(?m)^- `([^`]+)`$").FindAllSubmatch(sum, -1)
	if len(listed) == 0 || fmt.Sprint(len(listed)) != string(m[1]) {
		t.Fatalf("summary count %s, %d files listed:\n%s", m[1], len(listed), sum)
	}
	for _, l := range listed {
		if _, err := os.Stat(filepath.Join(folder, filepath.FromSlash(string(l[1])))); err == nil {
			t.Errorf("%s listed as removed but still in the tree", l[1])
		}
	}
	if got, _ := os.ReadFile(output); !strings.Contains(string(got), "removed-files<<") || !strings.Contains(string(got), "\n"+string(m[1])+"\n") {
		t.Errorf("GITHUB_OUTPUT = %q, want removed-files=%s", got, m[1])
	}
	if _, err := os.Stat(filepath.Dir(stale)); err == nil {
		t.Errorf("the stale swap folder a killed unpack left is still there")
	}
}

// TestTaskModeMasksConnectionSecret runs a Dataverse command with a service
// connection: the secret is registered before anything else is printed and
// never appears in clear.
func TestTaskModeBinaryMasksConnectionSecret(t *testing.T) {
	id := "0c1d2e3f-0000-4000-8000-00000000000a"
	secret := "Zx9~secret;]value"
	out, _ := runAsAgent(t, "TF_BUILD=True", "INPUT_COMMAND=export", "INPUT_SOLUTION=Contoso", "INPUT_POWERPLATFORMSPN="+id,
		"ENDPOINT_URL_"+id+"="+refusingServer(t),
		"ENDPOINT_AUTH_"+id+`={"scheme":"None","parameters":{"tenantId":"t","applicationId":"a","clientSecret":"`+strings.ReplaceAll(secret, `"`, `\"`)+`"}}`,
		"INPUT_OUT="+t.TempDir())
	checkADOLines(t, out)
	if !strings.HasPrefix(out, "##vso[task.setsecret]Zx9~secret%3B%5Dvalue\n") {
		t.Errorf("secret not registered first:\n%s", out)
	}
	if strings.Count(out, secret) != 0 {
		t.Errorf("secret printed:\n%s", out)
	}
}

// runTaskInProcess runs RunTask with a Factory, as Main would.
func runTaskInProcess(t *testing.T, env map[string]string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	f := &Factory{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }}
	code, ok := RunTask(t.Context(), f)
	if !ok {
		t.Fatal("RunTask did not take task mode")
	}
	return out.String(), code
}

func TestRunTaskTerminalIsNotTaskMode(t *testing.T) {
	f := &Factory{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	if _, ok := RunTask(t.Context(), f); ok {
		t.Error("RunTask took task mode on a terminal")
	}
}

func TestRunTaskInProcessFailure(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir,
		"INPUT_COMMAND": "settings-validate", "INPUT_SETTINGS": filepath.Join(dir, "none;].json"),
		"INPUT_ZIPFILE": fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip"),
	}
	out, code := runTaskInProcess(t, env)
	lines := checkADOLines(t, out)
	if code == 0 {
		t.Fatalf("exit 0 for a missing settings file:\n%s", out)
	}
	if !strings.Contains(out, "ppalm settings validate --settings=") || !strings.Contains(out, "##vso[task.logissue type=error]") {
		t.Errorf("output:\n%s", out)
	}
	if last := lines[len(lines)-1]; last != "##vso[task.complete result=Failed;]ppalm settings validate failed" {
		t.Errorf("last line %q", last)
	}
}

func TestRunTaskInProcessMasksSecret(t *testing.T) {
	id := "0c1d2e3f-0000-4000-8000-00000000000a"
	secret := "Zx9~secret;]value"
	env := map[string]string{
		"TF_BUILD": "True", "INPUT_COMMAND": "export", "INPUT_SOLUTION": "Contoso", "INPUT_OUT": t.TempDir(),
		"INPUT_POWERPLATFORMSPN": id, "ENDPOINT_URL_" + id: refusingServer(t),
		"ENDPOINT_AUTH_" + id: `{"scheme":"None","parameters":{"tenantId":"t","applicationId":"a","clientSecret":"` + secret + `"}}`,
	}
	out, code := runTaskInProcess(t, env)
	checkADOLines(t, out)
	if code == 0 {
		t.Errorf("export to a closed port succeeded:\n%s", out)
	}
	if !strings.HasPrefix(out, "##vso[task.setsecret]Zx9~secret%3B%5Dvalue\n") {
		t.Errorf("secret not registered first:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("secret printed:\n%s", out)
	}
	if !strings.Contains(out, "--client-secret=***") || !strings.Contains(out, "--service-connection-id="+id) {
		t.Errorf("connection flags not passed:\n%s", out)
	}
}

// refusingServer is an environment on loopback (so no sign-in is attempted)
// that rejects every request at once: the step fails fast, after the
// connection has been resolved and its secret registered.
func refusingServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"0x80040217","message":"refused by the test"}}`, http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// checkGroups fails unless every group in a task's log is closed and none
// opens inside another (neither host nests groups); it returns the names of
// the groups in order.
func checkGroups(t *testing.T, out, open, end string) []string {
	t.Helper()
	var names []string
	depth := 0
	for i, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, open):
			if depth > 0 {
				t.Errorf("line %d: group %q opens inside an open group:\n%s", i+1, l, out)
			}
			depth++
			names = append(names, strings.TrimPrefix(l, open))
		case l == end:
			if depth == 0 {
				t.Errorf("line %d: %s without an open group:\n%s", i+1, end, out)
			}
			depth--
		}
	}
	if depth != 0 {
		t.Errorf("%d group(s) left open:\n%s", depth, out)
	}
	return names
}

// TestRunTaskPipelineGroupsDoNotNest runs import, a command that runs a
// pipeline of steps, in task mode on both hosts against the emulator: each
// step has its own group and none opens inside the command's.
func TestRunTaskPipelineGroupsDoNotNest(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Options{Environments: []string{"test"}, AsyncPolls: -1})
	zip := fixtures.Path("dynamic-forms", "DynamicFormsSample_1_0_0_1.zip")
	for _, host := range []struct {
		name, open, end string
		env             map[string]string
	}{
		{"azure-devops", "##[group]", "##[endgroup]", map[string]string{"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": t.TempDir()}},
		{"github", "::group::", "::endgroup::", map[string]string{"GITHUB_ACTIONS": "true",
			"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "output"), "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary")}},
	} {
		t.Run(host.name, func(t *testing.T) {
			env := map[string]string{
				"INPUT_COMMAND": "import", "INPUT_ZIPFILE": zip, "INPUT_ENVIRONMENT": srv.EnvURL("test"),
				"INPUT_UPGRADE": "never", "PPALM_POWERAPPS_URL": srv.PowerAppsURL(), "PPALM_GRAPH_URL": srv.GraphURL(),
			}
			for k, v := range host.env {
				env[k] = v
			}
			out, code := runTaskInProcess(t, env)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			groups := checkGroups(t, out, host.open, host.end)
			var steps []string
			for _, g := range groups {
				if strings.HasPrefix(g, "[") {
					steps = append(steps, g)
				}
			}
			if strings.Join(steps, ",") != "[1/3] settings-check,[3/3] import" {
				t.Errorf("step groups %q, want [1/3] settings-check and [3/3] import (deactivate-flows skipped, no group):\n%s", groups, out)
			}
		})
	}
}

// A credential given as a plain input (here a git token on commit) is
// registered as a secret before the command line is echoed, on both hosts.
func TestRunTaskMasksSecretInputs(t *testing.T) {
	token := "ghp_plainInputToken123"
	for _, host := range []map[string]string{{"TF_BUILD": "True"}, {"GITHUB_ACTIONS": "true"}} {
		env := map[string]string{"INPUT_COMMAND": "commit", "INPUT_TOKEN": token, "INPUT_REPO": t.TempDir(),
			"INPUT_BRANCH": "b", "INPUT_FOLDER": t.TempDir(), "INPUT_PATH": "x", "INPUT_MESSAGE": "m",
			"INPUT_AUTHOR-NAME": "A", "INPUT_AUTHORNAME": "A", "INPUT_AUTHOR-EMAIL": "a@b.c", "INPUT_AUTHOREMAIL": "a@b.c"}
		for k, v := range host {
			env[k] = v
		}
		out, code := runTaskInProcess(t, env)
		if code == 0 {
			t.Errorf("commit into a folder that is no repository succeeded:\n%s", out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, token) && !strings.HasPrefix(line, "##vso[task.setsecret]") && !strings.HasPrefix(line, "::add-mask::") {
				t.Errorf("token printed: %q", line)
			}
		}
		if !strings.Contains(out, "--token=***") {
			t.Errorf("the echoed command line does not mask the token:\n%s", out)
		}
	}
}

// The echoed command line never shows a URL's credentials, and a secret
// holding '"' or '\' is masked in its quoted form too, on both hosts; the
// URL's password is masked in every later line (the error included).
func TestRunTaskEchoRedactsURLCredentials(t *testing.T) {
	urlToken := "urlT0ken_s3cret"
	quoted := `tok"en\with`
	for _, host := range []map[string]string{{"TF_BUILD": "True"}, {"GITHUB_ACTIONS": "true"}} {
		for _, repo := range []string{
			"https://alex:" + urlToken + "@127.0.0.1:1/contoso/alm.git",
			"https://" + urlToken + "@127.0.0.1:1/contoso/alm.git",
		} {
			env := map[string]string{"INPUT_COMMAND": "commit", "INPUT_REPO": repo, "INPUT_TOKEN": quoted,
				"INPUT_BRANCH": "b", "INPUT_FOLDER": t.TempDir(), "INPUT_PATH": "x", "INPUT_MESSAGE": "m",
				"INPUT_AUTHOR-NAME": "A", "INPUT_AUTHORNAME": "A", "INPUT_AUTHOR-EMAIL": "a@b.c", "INPUT_AUTHOREMAIL": "a@b.c"}
			for k, v := range host {
				env[k] = v
			}
			out, code := runTaskInProcess(t, env)
			if code == 0 {
				t.Errorf("commit to a closed port succeeded:\n%s", out)
			}
			echoed := false
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "##vso[task.setsecret]") || strings.HasPrefix(line, "::add-mask::") {
					continue
				}
				if strings.Contains(line, "ppalm commit --") {
					echoed = true
				}
				for _, leak := range []string{urlToken, quoted, `tok\"en\\with`} {
					if strings.Contains(line, leak) {
						t.Errorf("%v: %q printed: %q", host, leak, line)
					}
				}
			}
			if !echoed {
				t.Errorf("no echoed command line:\n%s", out)
			}
		}
	}
}

// The last error line on stderr goes through the reporter's masking too,
// in a terminal as on a host.
func TestFinalErrorIsMasked(t *testing.T) {
	var out, errOut bytes.Buffer
	secret := `s3cret"value`
	r := task.NewTerminal(&out, false)
	task.RegisterSecrets(r, secret)
	f := &Factory{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Reporter: r}
	code := run(context.Background(), f, []string{"unpack", "--zipfile", filepath.Join(t.TempDir(), secret+".zip"), "--folder", t.TempDir()})
	if code == 0 {
		t.Fatal("unpack of a missing zip succeeded")
	}
	if strings.Contains(errOut.String(), "s3cret") || !strings.Contains(errOut.String(), "***") {
		t.Errorf("stderr = %q, want the secret masked", errOut.String())
	}
}
