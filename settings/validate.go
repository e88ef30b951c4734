package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/solution"
)

// Severity says whether a Problem stops a deployment.
type Severity int

const (
	// SeverityError is the zero value: a problem must be fixed.
	SeverityError Severity = iota
	// SeverityWarning is reported but does not fail validation.
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Check ids of the offline checks; target checks add their own.
const (
	CheckMissingEntry     = "missing-entry"     // a component of the solution has no entry
	CheckMissingValue     = "missing-value"     // an entry has no value
	CheckValueType        = "value-type"        // a value does not match the variable's type
	CheckUnknownComponent = "unknown-component" // an entry names something the solution lacks
	CheckDuplicate        = "duplicate-entry"   // the same component twice
	CheckConnectorID      = "connector-id"      // ConnectorId differs from the solution's
	CheckSortOrder        = "sort-order"
	CheckActivate         = "activate"
	CheckRoleName         = "role-name"
	CheckGUID             = "guid"
	CheckComponentType    = "component-type"
	CheckOwner            = "owner"
	CheckName             = "name-mismatch"
	CheckFormat           = "format"
)

// Problem is one thing to fix in the settings, named precisely enough to
// find it: the file, the entry (a JSON path) and the component concerned.
type Problem struct {
	Severity  Severity
	Check     string // stable id, e.g. "missing-value"
	File      string
	Entry     string // JSON path, e.g. "ActivateFlowConfiguration[2].sortOrder"
	Component string // the connection reference, variable, flow, app or group concerned
	Message   string // what is wrong and what to do; never a secret value
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Entry != "" {
		b.WriteString(": " + p.Entry)
	}
	b.WriteString(": " + p.Message)
	return b.String()
}

// HasErrors reports whether any problem has error severity.
func HasErrors(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Checker adds checks beyond the files, such as against the target
// environment (connections exist and are shared, users and groups exist).
type Checker interface {
	Check(ctx context.Context, sol *solution.Solution, ds *DeploymentSettings, cds *CustomDeploymentSettings) ([]Problem, error)
}

// Validate runs the offline checks of ds and cds against sol; either file
// may be nil. It never contacts anything.
func Validate(sol *solution.Solution, ds *DeploymentSettings, cds *CustomDeploymentSettings) []Problem {
	v := &validator{sol: sol}
	if ds != nil {
		v.file = fileName(ds.File, DeploymentSettingsFile)
		v.connectionReferences(ds)
		v.environmentVariables(ds)
	}
	if cds != nil {
		v.file = fileName(cds.File, CustomDeploymentSettingsFile)
		v.custom(cds)
	}
	return v.problems
}

func fileName(file, def string) string {
	if file == "" {
		return def
	}
	return file
}

type validator struct {
	sol      *solution.Solution
	file     string
	problems []Problem
}

func (v *validator) add(check, entry, component, format string, args ...any) {
	v.problems = append(v.problems, Problem{Check: check, File: v.file, Entry: entry, Component: component, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(check, entry, component, format string, args ...any) {
	v.add(check, entry, component, format, args...)
	v.problems[len(v.problems)-1].Severity = SeverityWarning
}

// firstEntry records name as the entry at section[i]; a later entry for
// the same name (in any letter case) is reported as a duplicate and false.
func (v *validator) firstEntry(seen map[string]int, section string, i int, name, kind string) bool {
	key := strings.ToLower(name)
	if j, dup := seen[key]; dup {
		v.add(CheckDuplicate, index(section, i), name, "%s %q is also at %s[%d]; keep one entry", kind, name, section, j)
		return false
	}
	seen[key] = i
	return true
}

func (v *validator) connectionReferences(ds *DeploymentSettings) {
	byName := map[string]int{}
	for i, s := range ds.ConnectionReferences {
		p := index("ConnectionReferences", i)
		if !v.firstEntry(byName, "ConnectionReferences", i, s.LogicalName, "connection reference") {
			continue
		}
		cr, ok := v.connectionReference(s.LogicalName)
		if !ok {
			v.add(CheckUnknownComponent, p+".LogicalName", s.LogicalName, "the solution has no connection reference %q; remove the entry or fix the name", s.LogicalName)
			continue
		}
		switch {
		case strings.TrimSpace(s.ConnectionID) == "":
			v.add(CheckMissingValue, p+".ConnectionId", s.LogicalName, "connection reference %q has no ConnectionId; set the id of a connection in the target environment (connector %s)", s.LogicalName, cr.ConnectorID)
		case !IsToken(s.ConnectionID) && strings.ContainsAny(strings.TrimSpace(s.ConnectionID), "/ "):
			v.add(CheckFormat, p+".ConnectionId", s.LogicalName, "ConnectionId of %q is not a connection name: expected the id from the connection's URL (e.g. 4f2b8c61d0e94a7f9b3e5c2d1a6f0e87), not a path or text with spaces", s.LogicalName)
		}
		if s.ConnectorID != "" && !IsToken(s.ConnectorID) && !strings.EqualFold(s.ConnectorID, cr.ConnectorID) {
			v.add(CheckConnectorID, p+".ConnectorId", s.LogicalName, "ConnectorId %q differs from the solution's %q; set it to %q", s.ConnectorID, cr.ConnectorID, cr.ConnectorID)
		}
		if o := strings.TrimSpace(s.ConnectionOwner); o != "" && !IsToken(o) && !strings.Contains(o, "@") && !guid.Valid(o) {
			v.add(CheckOwner, p+".ConnectionOwner", s.LogicalName, "ConnectionOwner of %q must be an e-mail address or an Entra object id (GUID)", s.LogicalName)
		}
	}
	for _, cr := range v.sol.ConnectionReferences {
		if _, ok := byName[strings.ToLower(cr.LogicalName)]; !ok {
			v.add(CheckMissingEntry, "ConnectionReferences", cr.LogicalName,
				`connection reference %q of the solution has no entry; add {"LogicalName": %q, "ConnectionId": "<connection id>", "ConnectorId": %q}`, cr.LogicalName, cr.LogicalName, cr.ConnectorID)
		}
	}
}

func (v *validator) connectionReference(name string) (solution.ConnectionReference, bool) {
	for _, cr := range v.sol.ConnectionReferences {
		if strings.EqualFold(cr.LogicalName, name) {
			return cr, true
		}
	}
	return solution.ConnectionReference{}, false
}

func (v *validator) environmentVariable(name string) (solution.EnvironmentVariable, bool) {
	for _, ev := range v.sol.EnvironmentVariables {
		if strings.EqualFold(ev.SchemaName, name) {
			return ev, true
		}
	}
	return solution.EnvironmentVariable{}, false
}

func (v *validator) environmentVariables(ds *DeploymentSettings) {
	byName := map[string]int{}
	for i, s := range ds.EnvironmentVariables {
		p := index("EnvironmentVariables", i)
		if !v.firstEntry(byName, "EnvironmentVariables", i, s.SchemaName, "environment variable") {
			continue
		}
		ev, ok := v.environmentVariable(s.SchemaName)
		if !ok {
			v.add(CheckUnknownComponent, p+".SchemaName", s.SchemaName, "the solution has no environment variable %q; remove the entry or fix the name", s.SchemaName)
			continue
		}
		if s.Value == "" {
			if !hasFallbackValue(ev) {
				v.add(CheckMissingValue, p+".Value", s.SchemaName, "environment variable %q (%s) has no Value and no default value; set one (the import rejects empty values)", s.SchemaName, ev.TypeName())
			}
			continue
		}
		if IsToken(s.Value) {
			continue
		}
		if msg := checkValueType(ev, s.Value); msg != "" {
			v.add(CheckValueType, p+".Value", s.SchemaName, "environment variable %q is a %s variable: %s", s.SchemaName, ev.TypeName(), msg)
		}
	}
	for _, ev := range v.sol.EnvironmentVariables {
		if _, ok := byName[strings.ToLower(ev.SchemaName)]; !ok && !hasFallbackValue(ev) {
			v.add(CheckMissingEntry, "EnvironmentVariables", ev.SchemaName,
				`environment variable %q (%s) of the solution has no entry and no default value; add {"SchemaName": %q, "Value": "<value>"}`, ev.SchemaName, ev.TypeName(), ev.SchemaName)
		}
	}
}

var keyVaultSecret = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/resourceGroups/[^/\s]+/providers/Microsoft\.KeyVault/vaults/[A-Za-z0-9-]{3,24}/secrets/[A-Za-z0-9-]{1,127}$`)
})

// IsKeyVaultSecretRef says whether s is the value a Key Vault secret
// environment variable takes, as the maker portal builds it (Microsoft
// Learn, "Use environment variables for Azure Key Vault secrets"): /subscriptions/{subscription id}/resourceGroups/
// {group}/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{secret}, with
// a vault name of 3-24 and a secret name of 1-127 letters, digits and
// dashes (Azure's naming rules for both).
func IsKeyVaultSecretRef(s string) bool { return keyVaultSecret().MatchString(s) }

// checkValueType returns what is wrong with value for ev's type, or "".
func checkValueType(ev solution.EnvironmentVariable, value string) string {
	switch ev.Type {
	case solution.TypeNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "the Value is not a number; write digits such as 42 or 3.5"
		}
	case solution.TypeBoolean:
		if t := strings.ToLower(strings.TrimSpace(value)); t != "true" && t != "false" {
			return `the Value must be "true" or "false"`
		}
	case solution.TypeJSON:
		if !json.Valid([]byte(value)) {
			return fmt.Sprintf("the Value is not valid JSON (%s); write the JSON text as a string (a #{token}# value is inserted escaped, or as it is when it already is escaped JSON string text, as the Accelerator needed it)", jsonErrorPlace(value))
		}
	case solution.TypeDataSource:
		if strings.TrimSpace(value) == "" {
			return "the Value is blank; set the data source (e.g. the SharePoint site URL or list id)"
		}
	case solution.TypeSecret:
		if !keyVaultSecret().MatchString(strings.TrimSpace(value)) {
			return "the Value must be an Azure Key Vault secret reference: /subscriptions/{subscription id}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}, where a vault name has 3-24 and a secret name 1-127 letters, digits and dashes"
		}
	}
	return ""
}

// flow finds the process an entry names, by workflow id if given, else by name.
func (v *validator) flow(entry, name, uniqueName string) (solution.Flow, bool) {
	uniqueName = strings.TrimSpace(uniqueName)
	if uniqueName == "" {
		if strings.TrimSpace(name) == "" {
			v.add(CheckMissingValue, entry, "", "the entry names no flow; set solutionComponentUniqueName to the workflow id")
			return solution.Flow{}, false
		}
		for _, f := range v.sol.Flows {
			if f.Name == name {
				return f, true
			}
		}
		v.add(CheckUnknownComponent, entry+".solutionComponentName", name, "the solution has no flow named %q; fix the name or remove the entry", name)
		return solution.Flow{}, false
	}
	// The Accelerator tolerates a suffix after the workflow id ("_1").
	id, ok := guid.Leading(uniqueName)
	if !ok {
		v.add(CheckGUID, entry+".solutionComponentUniqueName", name, "solutionComponentUniqueName %q is not a workflow id: expected a GUID", uniqueName)
		return solution.Flow{}, false
	}
	f, ok := v.sol.Flow(id)
	if !ok {
		v.add(CheckUnknownComponent, entry+".solutionComponentUniqueName", name, "the solution has no flow with id %s (%q); fix the id or remove the entry", id, name)
		return solution.Flow{}, false
	}
	if name != "" && !IsToken(name) && name != f.Name {
		v.warn(CheckName, entry+".solutionComponentName", f.Name, "solutionComponentName %q differs from the flow's name %q in the solution; update it", name, f.Name)
	}
	return f, true
}

func (v *validator) canvasApp(name string) (solution.CanvasApp, bool) {
	for _, a := range v.sol.CanvasApps {
		if strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return solution.CanvasApp{}, false
}

func (v *validator) custom(c *CustomDeploymentSettings) {
	seen := map[string]int{}
	for i, a := range c.ActivateFlowConfiguration {
		p := index("ActivateFlowConfiguration", i)
		f, ok := v.flow(p, a.SolutionComponentName, a.SolutionComponentUniqueName)
		if ok {
			if j, dup := seen[f.ID]; dup {
				v.add(CheckDuplicate, p, f.Name, "flow %q is also at ActivateFlowConfiguration[%d]; keep one entry", f.Name, j)
			}
			seen[f.ID] = i
		}
		if s := strings.TrimSpace(a.SortOrder); s != "" && !IsToken(s) {
			if _, err := strconv.Atoi(s); err != nil {
				v.add(CheckSortOrder, p+".sortOrder", a.SolutionComponentName, "sortOrder %q is not a whole number; write e.g. \"1\" (lower numbers are activated first, child flows before parents)", s)
			}
		}
		if s := strings.ToLower(strings.TrimSpace(a.Activate)); s != "" && !IsToken(s) && s != "true" && s != "false" {
			v.add(CheckActivate, p+".activate", a.SolutionComponentName, "activate %q must be \"true\" or \"false\"", a.Activate)
		}
	}
	for i, o := range c.SolutionComponentOwnershipConfiguration {
		p := index("SolutionComponentOwnershipConfiguration", i)
		switch o.SolutionComponentType {
		case ComponentTypeWorkflow:
			v.flow(p, o.SolutionComponentName, o.SolutionComponentUniqueName)
		case ComponentTypeCanvasApp:
			if _, ok := v.canvasApp(o.SolutionComponentName); !ok {
				v.add(CheckUnknownComponent, p+".solutionComponentName", o.SolutionComponentName, "the solution has no canvas app %q; use the app's unique name (e.g. prefix_appname_1a2b3)", o.SolutionComponentName)
			}
		default:
			v.add(CheckComponentType, p+".solutionComponentType", o.SolutionComponentName, "solutionComponentType %d is not supported: expected 29 (flow) or 300 (canvas app)", o.SolutionComponentType)
		}
		if e := strings.TrimSpace(o.OwnerEmail); e == "" {
			v.add(CheckMissingValue, p+".ownerEmail", o.SolutionComponentName, "ownerEmail is empty; set the new owner's e-mail or user principal name, or remove the entry")
		} else if !IsToken(e) && !strings.Contains(e, "@") {
			v.add(CheckOwner, p+".ownerEmail", o.SolutionComponentName, "ownerEmail %q is not an e-mail address or user principal name", e)
		}
	}
	for i, s := range c.AadGroupCanvasConfiguration {
		p := index("AadGroupCanvasConfiguration", i)
		if a, ok := v.canvasApp(s.CanvasNameInSolution); !ok {
			v.add(CheckUnknownComponent, p+".canvasNameInSolution", s.CanvasNameInSolution, "the solution has no canvas app %q; use the app's unique name", s.CanvasNameInSolution)
		} else if a.AppType != 0 {
			v.add(CheckComponentType, p+".canvasNameInSolution", s.CanvasNameInSolution, "%q is a %s, which cannot be shared on its own; share the app that uses it", s.CanvasNameInSolution, appKind(a.AppType))
		}
		v.guid(p+".aadGroupId", s.CanvasNameInSolution, s.AadGroupID, "the Entra group's object id", true)
		switch r := strings.TrimSpace(s.RoleName); {
		case IsToken(r):
		case r == RoleCanView || r == RoleCanEdit || r == RoleCanViewWithShare:
		default:
			v.add(CheckRoleName, p+".roleName", s.CanvasNameInSolution, "roleName %q must be CanView, CanEdit or CanViewWithShare", s.RoleName)
		}
	}
	for i, t := range c.AadGroupTeamConfiguration {
		p := index("AadGroupTeamConfiguration", i)
		if strings.TrimSpace(t.AadGroupTeamName) == "" {
			v.add(CheckMissingValue, p+".aadGroupTeamName", "", "aadGroupTeamName is empty; set the Dataverse team's name")
		}
		v.guid(p+".aadSecurityGroupId", t.AadGroupTeamName, t.AadSecurityGroupID, "the Entra security group's object id", true)
		v.guid(p+".aadGroupTeamBusinessUnitId", t.AadGroupTeamName, t.AadGroupTeamBusinessUnitID, "the business unit id", false)
		for j, r := range t.DataverseSecurityRoleNames {
			if strings.TrimSpace(r) == "" {
				v.add(CheckMissingValue, index(p+".dataverseSecurityRoleNames", j), t.AadGroupTeamName, "security role name is empty")
			}
		}
		if s := strings.ToLower(strings.TrimSpace(t.SkipRolesDeletion)); s != "" && !IsToken(s) && s != "true" && s != "false" {
			v.add(CheckFormat, p+".skipRolesDeletion", t.AadGroupTeamName, "skipRolesDeletion %q must be \"true\" or \"false\"", t.SkipRolesDeletion)
		}
	}
	for i, s := range c.FlowShareWithGroupTeamConfiguration {
		p := index("FlowShareWithGroupTeamConfiguration", i)
		v.flow(p, s.SolutionComponentName, s.SolutionComponentUniqueName)
		if strings.TrimSpace(s.AadGroupTeamName) == "" {
			v.add(CheckMissingValue, p+".aadGroupTeamName", s.SolutionComponentName, "aadGroupTeamName is empty; set the team to share the flow with, or remove the entry")
		}
	}
	for i, s := range c.ConnectorShareWithGroupTeamConfiguration {
		p := index("ConnectorShareWithGroupTeamConfiguration", i)
		if strings.TrimSpace(s.SolutionComponentUniqueName) == "" {
			v.add(CheckMissingValue, p+".solutionComponentUniqueName", s.SolutionComponentName, "solutionComponentUniqueName is empty; set the custom connector's id")
		}
		if strings.TrimSpace(s.AadGroupTeamName) == "" {
			v.add(CheckMissingValue, p+".aadGroupTeamName", s.SolutionComponentName, "aadGroupTeamName is empty; set the team to share the connector with, or remove the entry")
		}
	}
	for i, w := range c.WebhookUrls {
		p := index("WebhookUrls", i)
		if IsToken(w.Value) {
			continue
		}
		if u, err := url.Parse(strings.TrimSpace(w.Value)); err != nil || !u.IsAbs() || u.Host == "" {
			v.add(CheckFormat, p+".Value", w.SchemaName, "the webhook URL of %q must be an absolute URL such as https://example.com/hook", w.SchemaName)
		}
	}
	for i, m := range c.SDKMessages {
		p := index("SDKMessages", i)
		kind, id, _ := strings.Cut(m.Config, ".")
		if (kind != "unsec" && kind != "sec") || !guid.Valid(id) {
			v.add(CheckFormat, p+".Config", m.Config, "Config %q must be unsec.<step id> or sec.<step id> with the plug-in step's GUID", m.Config)
		}
	}
	for i, d := range c.DefaultEnvironmentVariables {
		p := index("DefaultEnvironmentVariables", i)
		if _, ok := v.environmentVariable(d[0]); !ok {
			v.add(CheckUnknownComponent, p+"[0]", d[0], "the solution has no environment variable %q; remove the pair or fix the name", d[0])
		}
	}
}

func (v *validator) guid(entry, component, value, what string, required bool) {
	value = strings.TrimSpace(value)
	switch {
	case IsToken(value):
	case value == "":
		if required {
			v.add(CheckMissingValue, entry, component, "%s is empty; set %s", entry[strings.LastIndex(entry, ".")+1:], what)
		}
	case !guid.Valid(value):
		v.add(CheckGUID, entry, component, "%q is not a GUID: expected %s, e.g. 7d2e4f10-3b8c-4a51-9e2d-6c1f0a9b8e37", value, what)
	}
}

func appKind(t int) string {
	switch t {
	case 1:
		return "component library"
	case 2:
		return "custom page"
	}
	return "canvas app"
}

// jsonErrorPlace says where value stops being JSON without quoting it (the
// value may be a secret).
func jsonErrorPlace(value string) string {
	var x any
	err := json.Unmarshal([]byte(value), &x)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("error at character %d", se.Offset)
	}
	return "incomplete"
}
