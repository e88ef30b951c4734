package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Warning is something in a settings file ppalm does not use: an unknown
// section or field. It is reported, never silently dropped.
type Warning struct {
	File    string
	Path    string // JSON path, e.g. "ActivateFlowConfiguration[0].activateAs"
	Message string
	// Notice marks a line that only says what was done with the file, as
	// the Accelerator would have done it (a token taken as empty, an entry
	// not configured and skipped): a log line, not a warning on the run.
	Notice bool
}

func (w Warning) String() string {
	if w.Path == "" {
		return w.File + ": " + w.Message
	}
	return w.File + ": " + w.Path + ": " + w.Message
}

// FieldError is one wrong value in a settings file.
type FieldError struct {
	Path     string // JSON path, e.g. "ActivateFlowConfiguration[2].sortOrder"
	Expected string
	Got      string
}

// ParseError lists every wrong value of one file.
type ParseError struct {
	File   string
	Fields []FieldError
	// Syntax is set when the file is not JSON at all.
	Syntax string
}

func (e *ParseError) Error() string {
	if e.Syntax != "" {
		return e.File + ": " + e.Syntax
	}
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s: expected %s, got %s", e.File, f.Path, f.Expected, f.Got)
	}
	return b.String()
}

// LoadDeploymentSettings reads and parses deploymentSettings.json at path.
func LoadDeploymentSettings(path string) (*DeploymentSettings, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read deployment settings: %w", err)
	}
	return ParseDeploymentSettings(path, data)
}

// LoadCustomDeploymentSettings reads and parses customDeploymentSettings.json at path.
func LoadCustomDeploymentSettings(path string) (*CustomDeploymentSettings, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read custom deployment settings: %w", err)
	}
	return ParseCustomDeploymentSettings(path, data)
}

// ParseDeploymentSettings parses deploymentSettings.json; file names it in
// errors and warnings. Field names match case-insensitively, as pac's do.
func ParseDeploymentSettings(file string, data []byte) (*DeploymentSettings, []Warning, error) {
	r := &reader{file: file}
	root, err := r.root(data)
	if err != nil {
		return nil, nil, err
	}
	ds := &DeploymentSettings{File: file}
	top := r.fields("", root, deploymentSections...)
	r.wrongFile(root, top, "deploymentSettings.json", "customDeploymentSettings.json", customSections)
	ds.EnvironmentVariables = section(r, top, "EnvironmentVariables", []string{"SchemaName", "Value"},
		func(it item) EnvironmentVariableSetting {
			return EnvironmentVariableSetting{
				SchemaName: it.name("SchemaName"),
				Value:      it.text("Value", "a string (a JSON variable holds its JSON as a string)"),
			}
		})
	ds.ConnectionReferences = section(r, top, "ConnectionReferences", []string{"LogicalName", "ConnectionId", "ConnectorId", "ConnectionOwner"},
		func(it item) ConnectionReferenceSetting {
			return ConnectionReferenceSetting{
				LogicalName:     it.name("LogicalName"),
				ConnectionID:    it.str("ConnectionId"),
				ConnectorID:     it.str("ConnectorId"),
				ConnectionOwner: it.str("ConnectionOwner"),
			}
		})
	if err := r.err(); err != nil {
		return nil, r.warns, err
	}
	return ds, r.warns, nil
}

// ParseCustomDeploymentSettings parses customDeploymentSettings.json.
func ParseCustomDeploymentSettings(file string, data []byte) (*CustomDeploymentSettings, []Warning, error) {
	r := &reader{file: file}
	root, err := r.root(data)
	if err != nil {
		return nil, nil, err
	}
	c := &CustomDeploymentSettings{File: file}
	top := r.fields("", root, customSections...)
	r.wrongFile(root, top, "customDeploymentSettings.json", "deploymentSettings.json", deploymentSections)

	c.ActivateFlowConfiguration = section(r, top, "ActivateFlowConfiguration",
		[]string{"solutionComponentName", "solutionComponentUniqueName", "sortOrder", "activate", "activateAsUser"},
		func(it item) FlowActivation {
			return FlowActivation{
				SolutionComponentName:       it.str("solutionComponentName"),
				SolutionComponentUniqueName: it.str("solutionComponentUniqueName"),
				SortOrder:                   it.text("sortOrder", "a whole number (as a string or a number)"),
				Activate:                    it.text("activate", `"true" or "false"`),
				ActivateAsUser:              it.str("activateAsUser"),
			}
		})
	c.SolutionComponentOwnershipConfiguration = section(r, top, "SolutionComponentOwnershipConfiguration",
		[]string{"solutionComponentType", "solutionComponentName", "solutionComponentUniqueName", "ownerEmail"},
		func(it item) ComponentOwnership {
			return ComponentOwnership{
				SolutionComponentType:       it.integer("solutionComponentType", "29 (flow) or 300 (canvas app)"),
				SolutionComponentName:       it.str("solutionComponentName"),
				SolutionComponentUniqueName: it.str("solutionComponentUniqueName"),
				OwnerEmail:                  it.str("ownerEmail"),
			}
		})
	c.AadGroupCanvasConfiguration = section(r, top, "AadGroupCanvasConfiguration",
		[]string{"aadGroupId", "canvasNameInSolution", "canvasDisplayName", "roleName"},
		func(it item) CanvasAppShare {
			return CanvasAppShare{
				AadGroupID:           it.str("aadGroupId"),
				CanvasNameInSolution: it.str("canvasNameInSolution"),
				CanvasDisplayName:    it.str("canvasDisplayName"),
				RoleName:             it.str("roleName"),
			}
		})
	c.AadGroupTeamConfiguration = section(r, top, "AadGroupTeamConfiguration",
		[]string{"aadGroupTeamName", "aadSecurityGroupId", "aadGroupTeamBusinessUnitId", "dataverseSecurityRoleNames", "skipRolesDeletion"},
		func(it item) GroupTeam {
			return GroupTeam{
				AadGroupTeamName:           it.str("aadGroupTeamName"),
				AadSecurityGroupID:         it.str("aadSecurityGroupId"),
				AadGroupTeamBusinessUnitID: it.str("aadGroupTeamBusinessUnitId"),
				DataverseSecurityRoleNames: it.strings("dataverseSecurityRoleNames"),
				SkipRolesDeletion:          it.text("skipRolesDeletion", `"true" or "false"`),
			}
		})
	shareFields := []string{"solutionComponentName", "solutionComponentUniqueName", "aadGroupTeamName"}
	c.FlowShareWithGroupTeamConfiguration = section(r, top, "FlowShareWithGroupTeamConfiguration", shareFields,
		func(it item) FlowShare {
			return FlowShare{
				SolutionComponentName:       it.str("solutionComponentName"),
				SolutionComponentUniqueName: it.str("solutionComponentUniqueName"),
				AadGroupTeamName:            it.str("aadGroupTeamName"),
			}
		})
	c.ConnectorShareWithGroupTeamConfiguration = section(r, top, "ConnectorShareWithGroupTeamConfiguration", shareFields,
		func(it item) ConnectorShare {
			return ConnectorShare{
				SolutionComponentName:       it.str("solutionComponentName"),
				SolutionComponentUniqueName: it.str("solutionComponentUniqueName"),
				AadGroupTeamName:            it.str("aadGroupTeamName"),
			}
		})
	c.WebhookUrls = section(r, top, "WebhookUrls", []string{"SchemaName", "Value"},
		func(it item) WebhookURL { return WebhookURL{SchemaName: it.name("SchemaName"), Value: it.str("Value")} })
	c.SDKMessages = section(r, top, "SDKMessages", []string{"Config", "Value"},
		func(it item) SDKMessageStepConfig {
			return SDKMessageStepConfig{Config: it.name("Config"), Value: it.str("Value")}
		})
	const sec9 = "DefaultEnvironmentVariables"
	for i, item := range r.array(sec9, top[sec9]) {
		p := index(sec9, i)
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			r.fail(p, `a ["schema name", "value"] pair`, describe(item))
			continue
		}
		c.DefaultEnvironmentVariables = append(c.DefaultEnvironmentVariables, [2]string{
			r.name(p+"[0]", pair[0]), r.text(p+"[1]", pair[1], "a string"),
		})
	}
	if err := r.err(); err != nil {
		return nil, r.warns, err
	}
	return c, r.warns, nil
}

// section reads each object of the array top[name] (warning about fields
// other than known) and builds an entry from it; entries that are not
// objects are errors and are skipped.
func section[T any](r *reader, top map[string]any, name string, known []string, build func(item) T) []T {
	var out []T
	for i, v := range r.array(name, top[name]) {
		p := index(name, i)
		if f := r.object(p, v, known...); f != nil {
			out = append(out, build(item{r: r, path: p, fields: f}))
		}
	}
	return out
}

// item is one object of a section: its fields, read by name, with errors
// reported at path.field.
type item struct {
	r      *reader
	path   string
	fields map[string]any
}

func (it item) str(k string) string  { return it.r.str(it.path+"."+k, it.fields[k]) }
func (it item) name(k string) string { return it.r.name(it.path+"."+k, it.fields[k]) }
func (it item) text(k, expected string) string {
	return it.r.text(it.path+"."+k, it.fields[k], expected)
}
func (it item) integer(k, expected string) int {
	return it.r.integer(it.path+"."+k, it.fields[k], expected)
}
func (it item) strings(k string) []string { return it.r.strings(it.path+"."+k, it.fields[k]) }

// reader turns decoded JSON into typed settings, collecting every error and
// warning with its JSON path.
type reader struct {
	file  string
	errs  []FieldError
	warns []Warning
}

func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return &ParseError{File: r.file, Fields: r.errs}
}

// The top-level sections of each settings file.
var (
	deploymentSections = []string{"EnvironmentVariables", "ConnectionReferences"}
	customSections     = []string{"ActivateFlowConfiguration", "SolutionComponentOwnershipConfiguration",
		"AadGroupCanvasConfiguration", "AadGroupTeamConfiguration", "FlowShareWithGroupTeamConfiguration",
		"ConnectorShareWithGroupTeamConfiguration", "WebhookUrls", "SDKMessages", "DefaultEnvironmentVariables"}
)

// IsCustomOnly says whether data is a settings file with sections of
// customDeploymentSettings.json and none of deploymentSettings.json: a
// custom file given where deploymentSettings.json was asked for. Data that
// is not a JSON object (bad encoding, bad syntax) is not: the parser then
// says what is wrong with it.
func IsCustomOnly(data []byte) bool {
	root, err := (&reader{}).root(data)
	if err != nil {
		return false
	}
	has := func(names []string) bool {
		for k := range root {
			for _, n := range names {
				if strings.EqualFold(k, n) {
					return true
				}
			}
		}
		return false
	}
	return has(customSections) && !has(deploymentSections)
}

// otherFileSection says whether k names a section of either file.
func otherFileSection(k string) bool {
	for _, s := range append(append([]string{}, deploymentSections...), customSections...) {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// wrongFile fails a file that has none of the sections of the kind it is
// read as (top) but some of the other kind: the two files were swapped, and
// reading on would ignore every section and deploy nothing.
func (r *reader) wrongFile(root, top map[string]any, want, other string, otherSections []string) {
	if len(top) > 0 {
		return
	}
	var found []string
	for k := range root {
		for _, o := range otherSections {
			if strings.EqualFold(k, o) {
				found = append(found, k)
			}
		}
	}
	if len(found) == 0 {
		return
	}
	sort.Strings(found)
	r.fail("(top level)", "a "+want, "the sections of a "+other+" ("+strings.Join(found, ", ")+"): was it given in place of the other file?")
}

func (r *reader) fail(path, expected, got string) {
	r.errs = append(r.errs, FieldError{Path: path, Expected: expected, Got: got})
}

func (r *reader) root(data []byte) (map[string]any, error) {
	data, err := CheckEncoding(r.file, data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &ParseError{File: r.file, Syntax: syntaxMessage(data, err)}
	}
	if _, err := dec.Token(); err == nil {
		return nil, &ParseError{File: r.file, Syntax: "not JSON: more data after the top-level object"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &ParseError{File: r.file, Fields: []FieldError{{Path: "(top level)", Expected: "an object", Got: describe(v)}}}
	}
	return m, nil
}

func syntaxMessage(data []byte, err error) string {
	var se *json.SyntaxError
	var off int64 = -1
	if errors.As(err, &se) {
		off = se.Offset - 1 // Offset counts the offending byte
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		off = int64(len(data))
	}
	if off < 0 {
		return "not JSON: " + err.Error()
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("not JSON: line %d column %d: %v", line, col, err)
}

// fields maps obj's keys onto the known names (case-insensitively) and warns
// about the others.
func (r *reader) fields(path string, obj map[string]any, known ...string) map[string]any {
	out := make(map[string]any, len(known))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := ""
		for _, kn := range known {
			if k == kn {
				name = kn
				break
			}
			if name == "" && strings.EqualFold(k, kn) {
				name = kn
			}
		}
		if name == "" {
			what := "field"
			if path == "" {
				what = "section"
				// A misspelt section would deploy without its settings:
				// an error naming the section meant. A section of the
				// other file is wrongFile's to report.
				if near, ok := closestName(k, known); ok && !otherFileSection(k) {
					r.fail(k, fmt.Sprintf("a known section (did you mean %q?)", near), fmt.Sprintf("the unknown section %q", k))
					continue
				}
			}
			r.warns = append(r.warns, Warning{File: r.file, Path: join(path, k),
				Message: fmt.Sprintf("unknown %s %q is ignored (known: %s)", what, k, strings.Join(known, ", "))})
			continue
		}
		if _, dup := out[name]; dup {
			r.fail(join(path, k), "each field once", fmt.Sprintf("%q given twice with different letter case", name))
			continue
		}
		out[name] = obj[k]
	}
	return out
}

func (r *reader) object(path string, v any, known ...string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(path, "an object", describe(v))
		return nil
	}
	return r.fields(path, m, known...)
}

func (r *reader) array(path string, v any) []any {
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		r.fail(path, "an array", describe(v))
		return nil
	}
	return a
}

// str reads a string; null or absent is "".
func (r *reader) str(path string, v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	r.fail(path, "a string", describe(v))
	return ""
}

// name reads a string that identifies something and so must be there.
func (r *reader) name(path string, v any) string {
	s := r.str(path, v)
	if v != nil && strings.TrimSpace(s) == "" {
		if _, ok := v.(string); ok {
			r.fail(path, "a non-empty name", `""`)
		}
	} else if v == nil {
		r.fail(path, "a non-empty name", "nothing")
	}
	return s
}

// text reads a value the Accelerator writes as a string but people write
// as a number or boolean too; it returns the JSON text of those.
func (r *reader) text(path string, v any, expected string) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	r.fail(path, expected, describe(v))
	return ""
}

func (r *reader) integer(path string, v any, expected string) int {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		r.fail(path, expected, describe(v))
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.fail(path, expected, describe(v))
		return 0
	}
	return n
}

func (r *reader) strings(path string, v any) []string {
	var out []string
	for i, item := range r.array(path, v) {
		out = append(out, r.name(index(path, i), item))
	}
	return out
}

func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 40 {
			t = t[:37] + "..."
		}
		return strconv.Quote(t)
	case json.Number:
		return "the number " + t.String()
	case bool:
		return strconv.FormatBool(t)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
