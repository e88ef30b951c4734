package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// server starts an emulator on a loopback listener.
func server(t testing.TB, opts Options) (*Emulator, string) {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return e, srv.URL
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", a.status, err, a.body)
	}
	return m
}

func (a answer) values(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range a.json(t)["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (a answer) errorCode(t testing.TB) (string, string) {
	t.Helper()
	e, ok := a.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer %d has no error envelope: %s", a.status, a.body)
	}
	return e["code"].(string), e["message"].(string)
}

// call makes a plain net/http request; body is JSON-encoded unless it is a
// string. headers are name, value pairs.
func call(t testing.TB, method, url string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, strings.ReplaceAll(url, " ", "%20"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, data}
}

func must(t testing.TB, a answer, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

func fixture(t testing.TB, elem ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixtures.Path(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// importBody is an ImportSolution body for zip.
func importBody(zip []byte, extra map[string]any) map[string]any {
	b := map[string]any{"CustomizationFile": base64.StdEncoding.EncodeToString(zip),
		"OverwriteUnmanagedCustomizations": true, "PublishWorkflows": true}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func api(base, env string) string { return base + "/" + env + "/api/data/v9.2/" }

func exportZip(t testing.TB, base, env, name string, managed bool) []byte {
	t.Helper()
	a := must(t, call(t, "POST", api(base, env)+"ExportSolution", map[string]any{"SolutionName": name, "Managed": managed}), 200)
	data, err := base64.StdEncoding.DecodeString(a.json(t)["ExportSolutionFile"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func solutionRow(t testing.TB, base, env, name string) map[string]any {
	t.Helper()
	rows := must(t, call(t, "GET", api(base, env)+"solutions?$select=solutionid,uniquename,version,ismanaged&$filter=uniquename eq '"+name+"'", nil), 200).values(t)
	if len(rows) != 1 {
		return nil
	}
	return rows[0]
}

func countRows(t testing.TB, base, env, query string) int {
	t.Helper()
	return len(must(t, call(t, "GET", api(base, env)+query, nil), 200).values(t))
}
