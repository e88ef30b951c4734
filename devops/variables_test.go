package devops_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/devops/devopstest"
	"golang.org/x/crypto/nacl/box"
)

const clientSecret = "s3cr3t-Value-4-prod!"

func stored(list []devops.StoredVariable) map[string]devops.StoredVariable {
	m := map[string]devops.StoredVariable{}
	for _, v := range list {
		m[v.Name] = v
	}
	return m
}

func TestGitHubEnvironmentVariablesPerEnvironment(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s, devops.WithRetries(0))
	ctx := context.Background()
	test := []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://test.contoso.com"},
		{Name: "connectionreference.cat_sharedsql", Value: "conn-test-1"},
		{Name: "environmentvariable.cat_ClientSecret", Value: "test-only-secret", Secret: true},
	}
	prod := []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://contoso.com"},
		{Name: "connectionreference.cat_sharedsql", Value: "conn-prod-7"},
		{Name: "environmentvariable.cat_ClientSecret", Value: clientSecret, Secret: true},
	}
	if err := c.SetEnvironmentVariables(ctx, "test", test); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnvironmentVariables(ctx, "prod", prod); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Environments(), ","); got != "prod,test" {
		t.Fatalf("environments = %s, want both created", got)
	}
	// What a workflow job on each environment reads.
	for env, want := range map[string]string{"test": "https://test.contoso.com", "prod": "https://contoso.com"} {
		if v, ok := s.EnvironmentVariable(env, "ENVIRONMENTVARIABLE_CAT_APIURL"); !ok || v != want {
			t.Errorf("%s vars.ENVIRONMENTVARIABLE_CAT_APIURL = %q, %v; want %q", env, v, ok, want)
		}
	}
	if v, ok := s.EnvironmentSecret("prod", "ENVIRONMENTVARIABLE_CAT_CLIENTSECRET"); !ok || v != clientSecret {
		t.Errorf("prod secret opens to %q, %v; want the value set", v, ok)
	}
	if _, ok := s.EnvironmentVariable("prod", "ENVIRONMENTVARIABLE_CAT_CLIENTSECRET"); ok {
		t.Error("the secret is also a plain variable")
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, clientSecret) || strings.Contains(r.Body, "test-only-secret") {
			t.Errorf("%s %s carried a secret in plain text", r.Method, r.Path)
		}
	}

	got, err := c.EnvironmentVariables(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	m := stored(got)
	if v := m["ENVIRONMENTVARIABLE_CAT_APIURL"]; v.Secret || v.Value != "https://contoso.com" {
		t.Errorf("listed variable = %+v", v)
	}
	if v, ok := m["ENVIRONMENTVARIABLE_CAT_CLIENTSECRET"]; !ok || !v.Secret || v.Value != "" {
		t.Errorf("listed secret = %+v, %v; want a secret without value", v, ok)
	}
	missing := c.MissingVariables(got, []string{"environmentvariable.cat_ApiUrl", "environmentvariable.cat_Other"})
	if strings.Join(missing, ",") != "environmentvariable.cat_Other" {
		t.Errorf("missing = %v", missing)
	}
	if list, err := c.EnvironmentVariables(ctx, "staging"); err != nil || len(list) != 0 {
		t.Errorf("an environment that does not exist: %v, %v; want none and no error", list, err)
	}
}

func TestGitHubEnvironmentVariableChangesKind(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s, devops.WithRetries(0))
	ctx := context.Background()
	name := "environmentvariable.cat_Key"
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: name, Value: "plain"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: name, Value: "now-secret", Secret: true}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.EnvironmentVariable("prod", "ENVIRONMENTVARIABLE_CAT_KEY"); ok {
		t.Error("the old plain variable is still there: the workflow would read it first")
	}
	if v, _ := s.EnvironmentSecret("prod", "ENVIRONMENTVARIABLE_CAT_KEY"); v != "now-secret" {
		t.Errorf("secret = %q", v)
	}
	// The key rotates: the next save fetches the current key.
	s.RotateEnvironmentKey("prod")
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: name, Value: "plain-again"}, {Name: "x.y", Value: "z", Secret: true}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.EnvironmentSecret("prod", "ENVIRONMENTVARIABLE_CAT_KEY"); ok {
		t.Error("the old secret is still there")
	}
	if v, _ := s.EnvironmentVariable("prod", "ENVIRONMENTVARIABLE_CAT_KEY"); v != "plain-again" {
		t.Errorf("variable = %q", v)
	}
	if v, _ := s.EnvironmentSecret("prod", "X_Y"); v != "z" {
		t.Errorf("secret after key rotation = %q", v)
	}
	// The environment is created once; later saves need no admin rights.
	if n := countRequests(s.Requests(), "PUT", "/environments/prod"); n != 1 {
		t.Errorf("%d PUTs of the environment for three saves, want 1", n)
	}
}

func TestSetEnvironmentVariablesRefusesBadNamesBeforeSending(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s, devops.WithRetries(0))
	err := c.SetEnvironmentVariables(context.Background(), "prod", []devops.PipelineVariable{
		{Name: "ok.name", Value: "1"},
		{Name: "github_token", Value: "2"},
		{Name: "9lives", Value: "3"},
		{Name: "a.b", Value: "4"}, {Name: "a-b", Value: "5"},
		{Name: "big", Value: strings.Repeat("x", 49*1024)},
	})
	if err == nil {
		t.Fatal("bad names were accepted")
	}
	for _, want := range []string{`"github_token"`, "GITHUB_", `"9lives"`, "digit", `"a.b" and "a-b" would both be stored as "A_B"`, "48"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests were sent for a refused save", n)
	}
	if got := c.VariableName("activateflow.order.Sync (daily).8f3c"); got != "ACTIVATEFLOW_ORDER_SYNC__DAILY__8F3C" {
		t.Errorf("GitHub name = %s", got)
	}
}

// ghCall sends one request to the GitHub fake and returns status and body.
func ghCall(t *testing.T, s *devopstest.GitHub, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, s.APIURL()+"/repos/"+s.Repository()+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGitHubFakeRefusesWhatGitHubRefuses(t *testing.T) {
	s := devopstest.NewGitHub(t)
	s.AddEnvironment("prod")
	if code, _ := ghCall(t, s, "GET", "/environments/nope/variables", nil); code != 404 {
		t.Errorf("variables of an unknown environment: %d, want 404", code)
	}
	if code, _ := ghCall(t, s, "PUT", "/environments/nope/secrets/X", map[string]string{"encrypted_value": "AA==", "key_id": "1"}); code != 404 {
		t.Errorf("secret of an unknown environment: %d, want 404", code)
	}
	code, body := ghCall(t, s, "GET", "/environments/prod/secrets/public-key", nil)
	if code != 200 {
		t.Fatal(code, body)
	}
	var pk struct{ KeyID, Key string }
	pk.KeyID = jsonField(body, "key_id")
	pk.Key = jsonField(body, "key")
	raw, _ := base64.StdEncoding.DecodeString(pk.Key)
	var key [32]byte
	copy(key[:], raw)
	seal := func(v string, k *[32]byte) string {
		b, err := box.SealAnonymous(nil, []byte(v), k, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	otherPub, _, _ := box.GenerateKey(rand.Reader)
	cases := []struct {
		name, path string
		body       map[string]string
		want       int
	}{
		{"sealed with the current key", "/environments/prod/secrets/GOOD", map[string]string{"encrypted_value": seal("v", &key), "key_id": pk.KeyID}, 201},
		{"a stale key id", "/environments/prod/secrets/STALE", map[string]string{"encrypted_value": seal("v", &key), "key_id": "1234"}, 422},
		{"sealed with another key", "/environments/prod/secrets/OTHER", map[string]string{"encrypted_value": seal("v", otherPub), "key_id": pk.KeyID}, 422},
		{"not sealed at all", "/environments/prod/secrets/PLAIN", map[string]string{"encrypted_value": base64.StdEncoding.EncodeToString([]byte("v")), "key_id": pk.KeyID}, 422},
		{"a name GitHub refuses", "/environments/prod/secrets/GITHUB_X", map[string]string{"encrypted_value": seal("v", &key), "key_id": pk.KeyID}, 422},
	}
	for _, tc := range cases {
		if code, body := ghCall(t, s, "PUT", tc.path, tc.body); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	if code, _ := ghCall(t, s, "POST", "/environments/prod/variables", map[string]string{"name": "has-dash", "value": "1"}); code != 422 {
		t.Errorf("variable with a dash: %d, want 422", code)
	}
	if code, _ := ghCall(t, s, "POST", "/environments/prod/variables", map[string]string{"name": "A", "value": "1"}); code != 201 {
		t.Errorf("variable: %d, want 201", code)
	}
	if code, _ := ghCall(t, s, "POST", "/environments/prod/variables", map[string]string{"name": "a", "value": "2"}); code != 409 {
		t.Errorf("same variable in another case: %d, want 409", code)
	}
	// The list never shows a secret's value.
	if _, body := ghCall(t, s, "GET", "/environments/prod/secrets", nil); strings.Contains(body, `"value"`) || !strings.Contains(body, "GOOD") {
		t.Errorf("secret list = %s", body)
	}
}

func jsonField(body, field string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	return fmt.Sprint(m[field])
}

func TestAzureVariableGroupPerEnvironment(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	c := newAzureClient(t, s, devops.WithRetries(0))
	ctx := context.Background()
	if err := c.SetEnvironmentVariables(ctx, "test", []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://test.contoso.com"},
		{Name: "environmentvariable.cat_ClientSecret", Value: "test-only-secret", Secret: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{
		{Name: "environmentvariable.cat_ApiUrl", Value: "https://contoso.com"},
		{Name: "environmentvariable.cat_ClientSecret", Value: clientSecret, Secret: true},
		{Name: "activateflow.order.Sync (daily).8f3c", Value: "1"},
	}); err != nil {
		t.Fatal(err)
	}
	g, ok := s.VariableGroup("ppalm-prod")
	if !ok {
		t.Fatalf("no variable group ppalm-prod; groups: %v", s.VariableGroups())
	}
	if v := g.Variables["environmentvariable.cat_ClientSecret"]; !v.IsSecret || v.Value != clientSecret {
		t.Errorf("secret = %+v; want isSecret with the value", v)
	}
	if v := g.Variables["activateflow.order.Sync__daily_.8f3c"]; v.Value != "1" {
		t.Errorf("variables = %v; want the flow token with spaces and parentheses as _", g.Variables)
	}
	if tg, _ := s.VariableGroup("ppalm-test"); tg.Variables["environmentvariable.cat_ApiUrl"].Value != "https://test.contoso.com" {
		t.Errorf("test group = %+v", tg)
	}

	// An administrator adds a variable by hand; a later save keeps it and
	// the stored secret, and changes only what it names.
	g.Variables["AdminNote"] = devopstest.AzureVariable{Value: "keep me"}
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: "environmentvariable.cat_ApiUrl", Value: "https://www.contoso.com"}}); err != nil {
		t.Fatal(err)
	}
	g, _ = s.VariableGroup("ppalm-prod")
	if v := g.Variables["environmentvariable.cat_ClientSecret"]; !v.IsSecret || v.Value != clientSecret {
		t.Errorf("after an update the secret is %+v; it must keep its value", v)
	}
	if v := g.Variables["environmentvariable.cat_ApiUrl"]; v.Value != "https://www.contoso.com" {
		t.Errorf("updated variable = %+v", v)
	}
	list, err := c.EnvironmentVariables(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	m := stored(list)
	if v := m["environmentvariable.cat_ClientSecret"]; !v.Secret || v.Value != "" {
		t.Errorf("listed secret = %+v", v)
	}
	if len(list) != 3 {
		t.Errorf("listed %d variables, want 3: %v", len(list), list)
	}
	for _, r := range s.Requests() {
		if r.Method == "GET" && strings.Contains(r.Body, clientSecret) {
			t.Errorf("a read carried the secret")
		}
	}
	if list, err := c.EnvironmentVariables(ctx, "staging"); err != nil || len(list) != 0 {
		t.Errorf("a group that does not exist: %v, %v", list, err)
	}
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: "secret.value", Value: "x"}}); err == nil || !strings.Contains(err.Error(), "hides") {
		t.Errorf("a reserved prefix: %v", err)
	}
}

func TestAzureFakeRefusesAGroupWithoutProject(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	post := func(body string) (int, string) {
		req, _ := http.NewRequest("POST", s.OrganizationURL()+"_apis/distributedtask/variablegroups?api-version=7.1-preview.2", strings.NewReader(body))
		req.SetBasicAuth("", s.Token)
		req.Header.Set("Accept", "application/json;api-version=7.1-preview.2")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(`{"name":"g","variables":{"a":{"value":"1"}}}`); code != 400 || !strings.Contains(body, "At least one variable group project reference is required") {
		t.Errorf("no project reference: %d %s", code, body)
	}
	ok := `{"name":"g","variables":{"a":{"value":"1"}},"variableGroupProjectReferences":[{"name":"g","projectReference":{"id":"c1f0c8a2-9a56-4bd6-8d41-3c5c0b0d9a11"}}]}`
	if code, body := post(ok); code != 200 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := post(ok); code != 400 || !strings.Contains(body, "Variable group 'g' already exists.") {
		t.Errorf("duplicate: %d %s", code, body)
	}
}

// A setting the maker stops configuring loses its variable on both hosts,
// plain or secret; the other variables, secrets included, stay.
func TestDeleteEnvironmentVariables(t *testing.T) {
	ctx := context.Background()
	vars := []devops.PipelineVariable{
		{Name: "canvasshare.aadGroupId.cat_app_1a2b", Value: "6a0b1c2d-0000-4000-8000-0000000000a1"},
		{Name: "environmentvariable.cat_ClientSecret", Value: clientSecret, Secret: true},
		{Name: "environmentvariable.cat_ApiKey", Value: "k3y", Secret: true},
		{Name: "activateflow.order.Sync (daily).8f3c", Value: "1"},
	}
	gone := []string{"canvasshare.aadGroupId.cat_app_1a2b", "environmentvariable.cat_ApiKey", "never.set"}
	names := func(list []devops.StoredVariable) string {
		var out []string
		for _, v := range list {
			out = append(out, strings.ToLower(v.Name))
		}
		return strings.Join(out, ",")
	}

	gh := devopstest.NewGitHub(t)
	c := newGitHubClient(t, gh, devops.WithRetries(0))
	if err := c.SetEnvironmentVariables(ctx, "prod", vars); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEnvironmentVariables(ctx, "prod", gone); err != nil {
		t.Fatal(err)
	}
	list, err := c.EnvironmentVariables(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(list); got != "activateflow_order_sync__daily__8f3c,environmentvariable_cat_clientsecret" {
		t.Errorf("GitHub keeps %s", got)
	}
	if v, ok := gh.EnvironmentSecret("prod", "ENVIRONMENTVARIABLE_CAT_CLIENTSECRET"); !ok || v != clientSecret {
		t.Errorf("the kept secret opens to %q, %v", v, ok)
	}
	if err := c.DeleteEnvironmentVariables(ctx, "staging", gone); err != nil {
		t.Errorf("an environment that does not exist: %v", err)
	}

	ado := devopstest.NewAzureDevOps(t)
	a := newAzureClient(t, ado, devops.WithRetries(0))
	if err := a.SetEnvironmentVariables(ctx, "prod", vars); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteEnvironmentVariables(ctx, "prod", gone); err != nil {
		t.Fatal(err)
	}
	g, _ := ado.VariableGroup("ppalm-prod")
	if len(g.Variables) != 2 || g.Variables["environmentvariable.cat_ClientSecret"].Value != clientSecret || !g.Variables["environmentvariable.cat_ClientSecret"].IsSecret {
		t.Errorf("Azure DevOps keeps %+v", g.Variables)
	}
	if err := a.DeleteEnvironmentVariables(ctx, "staging", gone); err != nil {
		t.Errorf("a group that does not exist: %v", err)
	}
}

// A save sends no request whose answer it already has: on an existing
// environment it lists variables and secrets once and writes each value; on
// a new one the 404 of its variables list says to create it, and a new
// environment has nothing more to list.
func TestGitHubSaveRequestCount(t *testing.T) {
	s := devopstest.NewGitHub(t)
	c := newGitHubClient(t, s, devops.WithRetries(0))
	ctx := context.Background()
	one := []devops.PipelineVariable{{Name: "environmentvariable.cat_ApiUrl", Value: "https://contoso.com"}}
	if err := c.SetEnvironmentVariables(ctx, "prod", one); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("first save sent %d requests, want 3 (list variables: 404, create the environment, create the variable): %v", n, s.Requests())
	}
	before := len(s.Requests())
	one[0].Value = "https://www.contoso.com"
	if err := c.SetEnvironmentVariables(ctx, "prod", one); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Requests()) - before; n != 3 {
		t.Errorf("second save sent %d requests, want 3 (list variables, list secrets, update the variable): %v", n, s.Requests()[before:])
	}
	if v, _ := s.EnvironmentVariable("prod", "ENVIRONMENTVARIABLE_CAT_APIURL"); v != "https://www.contoso.com" {
		t.Errorf("variable = %q", v)
	}
}

// Azure DevOps compares variable names without case: a save replaces any
// spelling of a name, and a delete of names the group lacks sends no update.
func TestAzureVariableGroupNamesWithoutCase(t *testing.T) {
	s := devopstest.NewAzureDevOps(t)
	c := newAzureClient(t, s, devops.WithRetries(0))
	ctx := context.Background()
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: "environmentvariable.cat_ApiUrl", Value: "old"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetEnvironmentVariables(ctx, "prod", []devops.PipelineVariable{{Name: "environmentvariable.cat_APIURL", Value: "new"}}); err != nil {
		t.Fatal(err)
	}
	g, _ := s.VariableGroup("ppalm-prod")
	if len(g.Variables) != 1 || g.Variables["environmentvariable.cat_APIURL"].Value != "new" {
		t.Errorf("variables = %+v; want the one name in its new spelling", g.Variables)
	}
	puts := countRequests(s.Requests(), "PUT", "/variablegroups/1")
	if err := c.DeleteEnvironmentVariables(ctx, "prod", []string{"never.set"}); err != nil {
		t.Fatal(err)
	}
	if n := countRequests(s.Requests(), "PUT", "/variablegroups/1") - puts; n != 0 {
		t.Errorf("deleting a name the group lacks sent %d updates", n)
	}
}
