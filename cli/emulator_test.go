package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// `ppalm emulator` prints its address first, serves seeded environments and
// stops when its context is cancelled.
func TestEmulatorCommandServesUntilCancelled(t *testing.T) {
	pr, pw := io.Pipe()
	f := &Factory{Stdout: pw, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, f, []string{"emulator", "--listen", "127.0.0.1:0", "--environments", "dev,test",
			"--seed", "dev=" + fixtures.Path("followsites-small", "sharepoint-followsites.zip")})
		pw.Close()
	}()
	lines := bufio.NewReader(pr)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("no first line: %v", err)
	}
	go io.Copy(io.Discard, lines)
	base, ok := strings.CutPrefix(strings.TrimSpace(first), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("first line %q", first)
	}
	resp, err := http.Get(base + "/dev/api/data/v9.2/solutions?$filter=uniquename%20eq%20'" + fixtures.DemoSolutionName + "'")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Value []map[string]any }
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if len(got.Value) != 1 {
		t.Errorf("seeded solution not served: %v", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d after cancel", code)
	}
	if code := run(context.Background(), &Factory{Stdout: io.Discard, Stderr: io.Discard}, []string{"emulator", "--seed", "nonsense"}); code == 0 {
		t.Error("a malformed --seed was accepted")
	}
}
