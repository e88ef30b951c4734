package settings

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mapLookup(m map[string]string) LookupFunc {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

func TestFillTokensBothSpellings(t *testing.T) {
	data := []byte(`{"ConnectionReferences":[{"LogicalName":"c","ConnectionId":"#{connectionreference.c}#","ConnectorId":"/x"}],` +
		`"EnvironmentVariables":[{"SchemaName":"j","Value":"#{environmentvariable.j}#"},{"SchemaName":"t","Value":"pre-#{team name.x}#-post"}]}`)
	env := mapLookup(map[string]string{
		"connectionreference.c":     "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87", // as written
		"ENVIRONMENTVARIABLE_J":     `{"a":"<b>","c":[1,2]}`,            // Azure DevOps spelling, JSON that needs escaping
		"TEAM_NAME_X":               "Order Clerks",
		"environmentvariable.other": "unused",
	})
	out, err := FillTokens("ds.json", data, env)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := ParseDeploymentSettings("ds.json", out)
	if err != nil {
		t.Fatalf("filled file does not parse: %v\n%s", err, out)
	}
	if ds.ConnectionReferences[0].ConnectionID != "4f2b8c61d0e94a7f9b3e5c2d1a6f0e87" ||
		ds.EnvironmentVariables[0].Value != `{"a":"<b>","c":[1,2]}` || ds.EnvironmentVariables[1].Value != "pre-Order Clerks-post" {
		t.Fatalf("filled %+v", ds)
	}
	if !json.Valid([]byte(ds.EnvironmentVariables[0].Value)) {
		t.Fatal("JSON value lost its shape")
	}
}

func TestFillTokensWrittenNameWinsOverAzureDevOpsSpelling(t *testing.T) {
	out, err := FillTokens("f", []byte(`"#{a.b}#"`), mapLookup(map[string]string{"a.b": "written", "A_B": "ado"}))
	if err != nil || string(out) != `"written"` {
		t.Fatalf("%s %v", out, err)
	}
	// Outside a JSON string the value goes in as it is (a number, say).
	out, err = FillTokens("f", []byte(`{"n": #{n}#}`), mapLookup(map[string]string{"n": "12"}))
	if err != nil || string(out) != `{"n": 12}` {
		t.Fatalf("%s %v", out, err)
	}
	// An escaped quote does not end the string; "#{" without a closing "}#" stays.
	out, err = FillTokens("f", []byte(`"x\"#{n}#" "#{ not a token"`), mapLookup(map[string]string{"n": `"q"`}))
	if err != nil || string(out) != `"x\"\"q\"" "#{ not a token"` {
		t.Fatalf("%s %v", out, err)
	}
}

func TestFillTokensReportsEveryMissingNameOnceWithoutValues(t *testing.T) {
	data := []byte(`["#{b.two}#", "#{a.one}#", "#{b.two}#", "#{set}#"]`)
	_, err := FillTokens("config/Test/customDeploymentSettings.json", data, mapLookup(map[string]string{"set": "s3cr3t-value"}))
	var missing *MissingTokensError
	if !errors.As(err, &missing) {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(missing.Names, ",") != "a.one,b.two" {
		t.Fatalf("names = %v", missing.Names)
	}
	msg := err.Error()
	for _, w := range []string{"config/Test/customDeploymentSettings.json", "a.one, b.two", "A_ONE"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "s3cr3t") {
		t.Fatal("error prints a value")
	}
}

func TestAzureDevOpsName(t *testing.T) {
	if got := AzureDevOpsName("groupTeam.7d2e.Order Clerks"); got != "GROUPTEAM_7D2E_ORDER_CLERKS" {
		t.Fatal(got)
	}
}

func TestTokensOfGeneratedFile(t *testing.T) {
	sol := readFixture(t, "followsites-small", "sharepoint-followsites.zip")
	data, _ := Marshal(NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true}))
	names := Tokens(data)
	// 3 flows × (order, activate, owner, sharing) + app owner + group + role.
	if len(names) != 15 {
		t.Fatalf("%d tokens: %v", len(names), names)
	}
	values := map[string]string{}
	for _, n := range names {
		values[n] = "v"
	}
	if _, err := FillTokens("f", data, mapLookup(values)); err != nil {
		t.Fatal(err)
	}
}

func TestLocateOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string) string {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(env, wantDS, wantCDS string) {
		t.Helper()
		loc, err := Locate(dir, env)
		if err != nil {
			t.Fatal(err)
		}
		if loc.DeploymentSettings != wantDS || loc.CustomDeploymentSettings != wantCDS {
			t.Fatalf("Locate(%q) = %+v, want %q %q", env, loc, wantDS, wantCDS)
		}
	}
	check("Test", "", "")
	root := write("deploymentSettings.json")
	check("Test", root, "")
	envDS := write("test/deploymentSettings.json") // folder spelled in another case
	envCDS := write("test/CustomDeploymentSettings.json")
	check("Test", envDS, envCDS)
	check("", root, "")
	flat := write("deploymentSettings-Test.json")
	check("Test", flat, envCDS)
	check("Prod", root, "")

	if _, err := os.Stat(filepath.Join(dir, "TEST")); err == nil {
		return // case-insensitive file system: two such folders cannot exist
	}
	write("TEST/deploymentSettings.json")
	if err := os.Remove(flat); err != nil {
		t.Fatal(err)
	}
	if _, err := Locate(dir, "Test"); err == nil || !strings.Contains(err.Error(), "match only by letter case") {
		t.Fatalf("ambiguous folders: err = %v", err)
	}
}

func BenchmarkFillTokens(b *testing.B) {
	sol := readFixture(b, "fabrikam-environmental-large", "FabrikamEnvironmental_1_1_11_71.zip")
	data, _ := Marshal(NewCustomDeploymentSettings(sol, CustomOptions{Placeholders: true}))
	values := map[string]string{}
	for _, n := range Tokens(data) {
		values[AzureDevOpsName(n)] = `value "quoted"`
	}
	lookup := mapLookup(values)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := FillTokens("f", data, lookup); err != nil {
			b.Fatal(err)
		}
	}
}

// In valid JSON every token sits inside a string, so filling any value must
// keep it valid JSON.
func FuzzFillTokens(f *testing.F) {
	f.Add([]byte(`{"a":"#{x}#","b":["#{y.z}#-#{x}#"]}`), `{"q":"\"}`)
	f.Add([]byte(`"\"#{x}#\\"`), "\u2028\x00")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		out, err := FillTokens("f", data, func(string) (string, bool) { return value, true })
		if err != nil {
			t.Fatal(err)
		}
		if json.Valid(data) && !json.Valid(out) {
			t.Fatalf("%s filled with %q gave invalid JSON %s", data, value, out)
		}
	})
}

func FuzzParseCustom(f *testing.F) {
	f.Add([]byte(`{"ActivateFlowConfiguration":[{"sortOrder":1}],"X":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = ParseCustomDeploymentSettings("f", data)
		_, _, _ = ParseDeploymentSettings("f", data)
	})
}

func TestGitHubNameAndLookupOrder(t *testing.T) {
	name := "activateflow.order.Find sites.3e587800-9a7c-ee11-8178-002248c6b93d"
	if got := GitHubName(name); got != "ACTIVATEFLOW_ORDER_FIND_SITES_3E587800_9A7C_EE11_8178_002248C6B93D" {
		t.Fatalf("GitHubName = %q", got)
	}
	vars := map[string]string{GitHubName(name): "2"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	if v, ok := Lookup(lookup, name); !ok || v != "2" {
		t.Fatalf("Lookup by GitHub spelling = %q, %v", v, ok)
	}
	// The Azure DevOps spelling keeps dashes and wins over GitHub's.
	vars[AzureDevOpsName(name)] = "1"
	if v, _ := Lookup(lookup, name); v != "1" {
		t.Fatalf("Lookup prefers %q, want the Azure DevOps spelling's 1", v)
	}
	vars[name] = "0"
	if v, _ := Lookup(lookup, name); v != "0" {
		t.Fatalf("Lookup prefers %q, want the name as written", v)
	}
	err := &MissingTokensError{File: "ds.json", Names: []string{"connectionreference.a-b"}}
	if msg := err.Error(); !strings.Contains(msg, "CONNECTIONREFERENCE_A-B") || !strings.Contains(msg, "on GitHub CONNECTIONREFERENCE_A_B") {
		t.Fatalf("missing-token message does not give both spellings: %s", msg)
	}
}

// The Accelerator's replacetokens inserted values as they were, so a JSON
// environment variable's value was escaped by hand; such a value means the
// same after ppalm fills it, and a plain value is escaped.
func TestTokenValuesEscapedForTheAccelerator(t *testing.T) {
	file := []byte(`{"EnvironmentVariables": [{"SchemaName": "j", "Value": "#{v}#"}]}`)
	for value, want := range map[string]string{
		`{\"name\":\"test\"}`: `{"name":"test"}`, // escaped by hand for the Accelerator
		`{"name":"test"}`:     `{"name":"test"}`, // written plainly
		`C:\\temp\\x`:         `C:\temp\x`,       // a backslash the Accelerator needed doubled
		`line\nbreak`:         "line\nbreak",
		`a\qb`:                `a\qb`, // not a valid escape: escaped, kept as typed
		`tab\`:                `tab\`, // a lone trailing backslash
		`\u00e6`:              "æ",
		`\u00zz`:              `\u00zz`,
	} {
		out, err := FillTokens("f.json", file, func(string) (string, bool) { return value, true })
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		var got struct{ EnvironmentVariables []struct{ Value string } }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: filled file is not JSON: %v\n%s", value, err, out)
		}
		if got.EnvironmentVariables[0].Value != want {
			t.Errorf("value %q filled as %q, want %q", value, got.EnvironmentVariables[0].Value, want)
		}
	}
}
