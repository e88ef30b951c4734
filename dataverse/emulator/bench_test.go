package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// BenchmarkImportFabrikam imports the 1.9 MB managed Fabrikam zip over
// loopback HTTP with ImportSolution (base64 body, as a client sends it).
func BenchmarkImportFabrikam(b *testing.B) {
	_, base := server(b, Options{Environments: []string{"test"}})
	data := fixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71_managed.zip")
	body, _ := json.Marshal(map[string]any{"CustomizationFile": base64.StdEncoding.EncodeToString(data),
		"OverwriteUnmanagedCustomizations": true, "PublishWorkflows": true})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Post(api(base, "test")+"ImportSolution", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 204 {
			b.Fatalf("import: %v %v", err, resp)
		}
		resp.Body.Close()
	}
}

// BenchmarkExportFabrikam exports the seeded unmanaged Fabrikam solution.
func BenchmarkExportFabrikam(b *testing.B) {
	_, base := server(b, Options{Environments: []string{"dev"},
		SeedZips: map[string][][]byte{"dev": {fixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")}}})
	body := []byte(`{"SolutionName":"FabrikamEnvironmental","Managed":true}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Post(api(base, "dev")+"ExportSolution", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("export: %v %v", err, resp)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.SetBytes(n)
	}
}

// BenchmarkQueryWorkflows is a filtered, projected query over a seeded
// environment.
func BenchmarkQueryWorkflows(b *testing.B) {
	_, base := server(b, Options{Environments: []string{"dev"},
		SeedZips: map[string][][]byte{"dev": {fixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")}}})
	for i := 0; i < b.N; i++ {
		must(b, call(b, "GET", api(base, "dev")+"workflows?$select=workflowid,name,statecode&$filter=category eq 5 and statecode eq 1", nil), 200)
	}
}
