package settings

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrorsNameFilePathAndExpectation(t *testing.T) {
	tests := []struct {
		name, data string
		custom     bool
		want       []string // substrings of the error
	}{
		{"sortOrder object", `{"ActivateFlowConfiguration":[{},{},{"solutionComponentUniqueName":"x","sortOrder":{"n":1}}]}`, true,
			[]string{"cds.json: ActivateFlowConfiguration[2].sortOrder: expected a whole number (as a string or a number), got an object"}},
		{"component type text", `{"SolutionComponentOwnershipConfiguration":[{"solutionComponentType":"flow"}]}`, true,
			[]string{`SolutionComponentOwnershipConfiguration[0].solutionComponentType: expected 29 (flow) or 300 (canvas app), got "flow"`}},
		{"section not array", `{"AadGroupTeamConfiguration":{"aadGroupTeamName":"x"}}`, true,
			[]string{"AadGroupTeamConfiguration: expected an array, got an object"}},
		{"role names not strings", `{"AadGroupTeamConfiguration":[{"dataverseSecurityRoleNames":["Basic User",7]}]}`, true,
			[]string{"AadGroupTeamConfiguration[0].dataverseSecurityRoleNames[1]: expected a string, got the number 7"}},
		{"default pair", `{"DefaultEnvironmentVariables":[["a","b"],["c"]]}`, true,
			[]string{`DefaultEnvironmentVariables[1]: expected a ["schema name", "value"] pair, got an array`}},
		{"every error at once", `{"EnvironmentVariables":[{"SchemaName":"a","Value":[1]}],"ConnectionReferences":[{"LogicalName":"","ConnectionId":5}]}`, false,
			[]string{"ds.json: EnvironmentVariables[0].Value: expected a string (a JSON variable holds its JSON as a string), got an array",
				`ConnectionReferences[0].LogicalName: expected a non-empty name, got ""`,
				"ConnectionReferences[0].ConnectionId: expected a string, got the number 5"}},
		{"entry not object", `{"ConnectionReferences":["x"]}`, false, []string{`ConnectionReferences[0]: expected an object, got "x"`}},
		{"top level array", `[1]`, false, []string{"ds.json: (top level): expected an object, got an array"}},
		{"syntax", "{\n  \"EnvironmentVariables\": [\n    {\"SchemaName\": \"a\",}\n  ]\n}", false, []string{"ds.json: not JSON: line 3 column 24"}},
		{"truncated", `{"EnvironmentVariables": [`, false, []string{"ds.json: not JSON"}},
		{"trailing data", `{} {}`, false, []string{"more data after the top-level object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.custom {
				_, _, err = ParseCustomDeploymentSettings("cds.json", []byte(tt.data))
			} else {
				_, _, err = ParseDeploymentSettings("ds.json", []byte(tt.data))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// A section name close to a known one is a misspelling: an error naming
// the file and the section meant, since its settings would be skipped.
func TestMisspeltSectionIsAnError(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"AadGroupTeamConfigurations": []}`, `cds.json: AadGroupTeamConfigurations: expected a known section (did you mean "AadGroupTeamConfiguration"?)`},
		{`{"ActivateFlowConfigration": []}`, `did you mean "ActivateFlowConfiguration"?`},
	} {
		_, _, err := ParseCustomDeploymentSettings("cds.json", []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.data, err, tc.want)
		}
	}
	_, _, err := ParseDeploymentSettings("ds.json", []byte(`{"EnvironmentVariable":[],"ConnectionReferences":[]}`))
	if err == nil || !strings.Contains(err.Error(), `ds.json: EnvironmentVariable: expected a known section (did you mean "EnvironmentVariables"?)`) {
		t.Errorf("err = %v", err)
	}
}

func TestUnknownSectionsAndFieldsAreWarnings(t *testing.T) {
	data := `{
  "ActivateFlowConfiguration": [{"solutionComponentName":"A","solutionComponentUniqueName":"x","sortOrder":"1","activate":"true","activateAs":"me@contoso.com"}],
  "Comments": [],
  "WebHookUrls": []
}`
	cds, warns, err := ParseCustomDeploymentSettings("cds.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		`cds.json: Comments: unknown section "Comments" is ignored`,
		`cds.json: ActivateFlowConfiguration[0].activateAs: unknown field "activateAs" is ignored`,
	}
	if len(got) != len(want) {
		t.Fatalf("warnings = %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
	// "WebHookUrls" differs only in case: accepted, as pac and the Accelerator's
	// PowerShell match names case-insensitively.
	if cds.WebhookUrls == nil && len(cds.ActivateFlowConfiguration) != 1 {
		t.Fatalf("parsed %+v", cds)
	}
	_, warns, err = ParseDeploymentSettings("ds.json", []byte(`{"EnvironmentVariables":[],"ConnectionReferences":[],"Extra":{"a":1}}`))
	if err != nil || len(warns) != 1 || warns[0].Path != "Extra" || !strings.Contains(warns[0].Message, "known: EnvironmentVariables, ConnectionReferences") {
		t.Fatalf("warnings = %v, err = %v", warns, err)
	}
}

func TestParseAcceptsWhatPeopleWrite(t *testing.T) {
	// Lower-case keys (the Terraform provider), a BOM, CRLF, numbers for
	// numeric texts, booleans for flags and the Accelerator's ConnectionOwner.
	ds, warns, err := ParseDeploymentSettings("ds.json", []byte("\xef\xbb\xbf{\r\n\"environmentvariables\":[{\"schemaname\":\"n\",\"value\":42}],"+
		"\"connectionreferences\":[{\"logicalname\":\"c\",\"connectionid\":\"abc\",\"connectorid\":\"/x\",\"ConnectionOwner\":\"a@b.c\"}]}"))
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if ds.EnvironmentVariables[0] != (EnvironmentVariableSetting{"n", "42"}) ||
		ds.ConnectionReferences[0] != (ConnectionReferenceSetting{"c", "abc", "/x", "a@b.c"}) || ds.File != "ds.json" {
		t.Fatalf("parsed %+v", ds)
	}
	cds, _, err := ParseCustomDeploymentSettings("cds.json", []byte(`{
 "ActivateFlowConfiguration":[{"solutionComponentUniqueName":"x","sortOrder":3,"activate":false}],
 "SolutionComponentOwnershipConfiguration":[{"solutionComponentType":"300","solutionComponentName":"app","ownerEmail":"a@b.c"}],
 "AadGroupTeamConfiguration":[{"aadGroupTeamName":"T","skipRolesDeletion":true,"dataverseSecurityRoleNames":null}],
 "DefaultEnvironmentVariables":[["v","1"]],
 "WebhookUrls":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if a := cds.ActivateFlowConfiguration[0]; a.SortOrder != "3" || a.Activate != "false" {
		t.Fatalf("activation %+v", a)
	}
	if cds.SolutionComponentOwnershipConfiguration[0].SolutionComponentType != 300 || cds.AadGroupTeamConfiguration[0].SkipRolesDeletion != "true" ||
		cds.DefaultEnvironmentVariables[0] != [2]string{"v", "1"} {
		t.Fatalf("parsed %+v", cds)
	}
}

func BenchmarkParseCustom(b *testing.B) {
	sol := readFixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	data, _ := Marshal(NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true}))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := ParseCustomDeploymentSettings("cds.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

// A custom file is told from a deployment one by its sections, whatever
// their case, through the byte order mark PowerShell writes, and with a
// section only the custom file has (DefaultEnvironmentVariables).
func TestIsCustomOnly(t *testing.T) {
	for in, want := range map[string]bool{
		`{"AadGroupTeamConfiguration":[]}`:                           true,
		"\xEF\xBB\xBF" + `{"activateflowconfiguration":[]}`:          true,
		`{"DefaultEnvironmentVariables":[]}`:                         true,
		`{"ConnectionReferences":[],"ActivateFlowConfiguration":[]}`: false,
		`{"EnvironmentVariables":[]}`:                                false,
		`{"Other":1}`:                                                false,
		`{"ActivateFlowConfiguration":[]`:                            false,
		"\xFF\xFE{\x00}\x00":                                         false,
	} {
		if got := IsCustomOnly([]byte(in)); got != want {
			t.Errorf("IsCustomOnly(%q) = %v, want %v", in, got, want)
		}
	}
}
