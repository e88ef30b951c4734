package guid

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c":        true,
		"6E4A1C2B-0D3E-4F5A-8B9C-0D1E2F3A4B5C":        true,
		"{6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c}":      true,
		"  6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c\n":    true,
		"6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5":         false, // 35 characters
		"6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c_1":      false,
		"6e4a1c2b0d3e-4f5a-8b9c-0d1e2f3a4b5c-":        false, // dash misplaced
		"6g4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c":        false, // not hex
		"{6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c":       false, // unbalanced
		"#{groupTeam.6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f}": false,
		"": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLeading(t *testing.T) {
	for s, want := range map[string]string{
		"6E4A1C2B-0D3E-4F5A-8B9C-0D1E2F3A4B5C_1":    "6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c",
		"{6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c}":    "6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c",
		" 6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c ":    "6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c",
		"6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5":       "",
		"flow_6e4a1c2b-0d3e-4f5a-8b9c-0d1e2f3a4b5c": "",
		"": "",
	} {
		got, ok := Leading(s)
		if got != want || ok != (want != "") {
			t.Errorf("Leading(%q) = %q, %v; want %q", s, got, ok, want)
		}
	}
}
