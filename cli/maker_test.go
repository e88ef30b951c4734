package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMakerDemoPrintsURL: `ppalm maker --demo --no-browser` prints its URL
// line once serving, and the app answers there with dev preset by /start.
func TestMakerDemoPrintsURL(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		f := &Factory{Stdout: pw, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		done <- run(ctx, f, []string{"maker", "--demo", "--no-browser"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^maker app on (http://127\.0\.0\.1:\d+/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(m[1] + "start?environment=dev")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Solutions in dev") {
		t.Fatalf("start page:\n%s", body)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("maker did not stop when its context ended")
	}
}

func TestMakerRefusesNonLoopbackListen(t *testing.T) {
	_, stderr, code := runCLI(t, nil, "maker", "--demo", "--no-browser", "--listen", "0.0.0.0:0")
	if code == 0 || !strings.Contains(stderr, "loopback") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
}

// TestMakerLocalModeFlags: local mode's flags are checked before anyone is
// asked to sign in.
func TestMakerLocalModeFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"maker", "--no-browser"}, "pass --demo, or --repo URL"},
		{[]string{"maker", "--demo", "--repo", "https://dev.azure.com/c/p/_git/r"}, "--demo and --repo: choose one"},
		{[]string{"maker", "--repo", "https://dev.azure.com/c/p/_git/r", "--environment", "https://contoso.crm.dynamics.com"}, `expected NAME=URL`},
		{[]string{"maker", "--repo", "https://dev.azure.com/c/p/_git/r", "--sign-in", "password"}, `--sign-in "password": expected browser, device-code or azure-cli`},
	} {
		_, stderr, code := runCLI(t, nil, tt.args...)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
}
