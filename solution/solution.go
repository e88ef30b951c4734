package solution

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Solution is what a solution zip deploys.
type Solution struct {
	UniqueName   string
	FriendlyName string
	Version      string
	Managed      bool
	Publisher    Publisher

	Flows                []Flow // every process in Workflows/, cloud flows and classic
	ConnectionReferences []ConnectionReference
	EnvironmentVariables []EnvironmentVariable
	CanvasApps           []CanvasApp
	CustomConnectors     []CustomConnector
	Entities             []string // schema names, in export order
	RootComponents       []RootComponent

	// Files holds every zip entry's content by its slash-separated name.
	Files map[string][]byte
	// Order is the zip's entry order.
	Order []string
}

// Publisher is the solution's publisher.
type Publisher struct {
	UniqueName string
	Prefix     string
}

// RootComponent is one RootComponents/RootComponent of solution.xml.
type RootComponent struct {
	Type       int
	SchemaName string
	ID         string
	Behavior   int
}

// Process categories (workflow.category).
const (
	CategoryWorkflow            = 0
	CategoryDialog              = 1
	CategoryBusinessRule        = 2
	CategoryAction              = 3
	CategoryBusinessProcessFlow = 4
	CategoryModernFlow          = 5
)

// Flow is a process from Workflows/.
type Flow struct {
	ID       string // lower-case GUID without braces
	Name     string
	Category int
	// StateCode is the state recorded in the export: 1 activated, 0 draft.
	StateCode int
	// FileName is the zip entry holding the definition (JSON or XAML).
	FileName string
	// ConnectionReferences lists the logical names of the connection
	// references a cloud flow uses, sorted.
	ConnectionReferences []string
	// ChildFlows lists the workflow ids of the child flows a cloud flow
	// calls, sorted.
	ChildFlows []string
	// ClientData is the cloud flow's JSON definition as exported.
	ClientData []byte
}

// IsCloudFlow says whether the process is a Power Automate cloud flow.
func (f Flow) IsCloudFlow() bool { return f.Category == CategoryModernFlow }

// ConnectionReference is a connectionreference of customizations.xml.
type ConnectionReference struct {
	LogicalName string
	DisplayName string
	ConnectorID string // /providers/Microsoft.PowerApps/apis/shared_x
}

// Environment variable type codes.
const (
	TypeString     = 100000000
	TypeNumber     = 100000001
	TypeBoolean    = 100000002
	TypeJSON       = 100000003
	TypeDataSource = 100000004
	TypeSecret     = 100000005
)

// EnvironmentVariable is an environment variable definition.
type EnvironmentVariable struct {
	SchemaName   string
	DisplayName  string
	Type         int
	DefaultValue string
	// CurrentValue is the value the export carried
	// (environmentvariablevalues.json); HasCurrentValue says whether it had one.
	CurrentValue    string
	HasCurrentValue bool
	// ConnectorID is the connector of a data source variable.
	ConnectorID string
	// ParameterKey is the data source parameter (e.g. "dataset").
	ParameterKey string
	IsRequired   bool
}

// TypeName returns the maker-facing name of the variable's type.
func (v EnvironmentVariable) TypeName() string { return TypeName(v.Type) }

// TypeName returns the maker-facing name of an environment variable type code.
func TypeName(code int) string {
	switch code {
	case TypeString:
		return "String"
	case TypeNumber:
		return "Number"
	case TypeBoolean:
		return "Boolean"
	case TypeJSON:
		return "JSON"
	case TypeDataSource:
		return "Data source"
	case TypeSecret:
		return "Secret"
	}
	return fmt.Sprintf("type %d", code)
}

// CanvasApp is a CanvasApps/CanvasApp of customizations.xml.
type CanvasApp struct {
	Name        string // unique name, e.g. alexmsft_followsites_7d504
	DisplayName string
	// AppType: 0 app, 1 component library, 2 custom page.
	AppType     int
	DocumentURI string
}

// CustomConnector is a Connectors/Connector of customizations.xml: a custom
// connector the solution carries, which group teams can be given read
// access to (ConnectorShareWithGroupTeamConfiguration).
type CustomConnector struct {
	ID          string // connectorid, lower case without braces
	Name        string // e.g. dem_inventorymanager
	DisplayName string
}

// MaxEntrySize bounds one inflated zip entry (a zip bomb guard). The largest
// real component seen is a few MB of msapp.
const MaxEntrySize = 512 << 20

// MaxTotalSize bounds what one solution zip inflates to in all: a zip read
// into memory must not cost more than this, however many entries share it.
const MaxTotalSize = 1 << 30

// ReadFile reads the solution zip at path.
func ReadFile(name string) (*Solution, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", name, err)
	}
	s, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", name, err)
	}
	return s, nil
}

// Read parses a solution zip held in memory.
func Read(data []byte) (*Solution, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip file: %w", err)
	}
	// Headers first: a zip that claims more than the budget is refused
	// before anything is inflated. readEntry then counts what really
	// inflates, for headers that lie.
	var claimed uint64
	for _, f := range zr.File {
		claimed += f.UncompressedSize64
	}
	if claimed > MaxTotalSize {
		return nil, fmt.Errorf("the zip's entries inflate to %d MiB in all, more than the %d MiB ppalm reads from one solution: refusing it as a zip bomb", claimed>>20, MaxTotalSize>>20)
	}
	budget := int64(MaxTotalSize)
	s := &Solution{Files: make(map[string][]byte, len(zr.File))}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		b, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		if budget -= int64(len(b)); budget < 0 {
			return nil, fmt.Errorf("the zip's entries inflate past the %d MiB ppalm reads from one solution: refusing it as a zip bomb", MaxTotalSize>>20)
		}
		s.Files[f.Name] = b
		s.Order = append(s.Order, f.Name)
	}
	manifest, ok := s.file("solution.xml")
	if !ok {
		return nil, errors.New("solution.xml is missing: this zip is not a Dataverse solution export")
	}
	if err := s.readManifest(manifest); err != nil {
		return nil, fmt.Errorf("solution.xml: %w", err)
	}
	custom, ok := s.file("customizations.xml")
	if !ok {
		return nil, errors.New("customizations.xml is missing: this zip is not a Dataverse solution export")
	}
	if err := s.readCustomizations(custom); err != nil {
		return nil, fmt.Errorf("customizations.xml: %w", err)
	}
	if err := s.readEnvironmentVariables(); err != nil {
		return nil, err
	}
	return s, nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxEntrySize+1))
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", f.Name, err)
	}
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("zip entry %s inflates past %d MiB: refusing it as a zip bomb", f.Name, MaxEntrySize>>20)
	}
	return b, nil
}

// file finds an entry by name, case-insensitively (exports write the
// manifests in lower case; packers sometimes do not).
func (s *Solution) file(name string) ([]byte, bool) {
	if b, ok := s.Files[name]; ok {
		return b, true
	}
	for k, b := range s.Files {
		if strings.EqualFold(k, name) {
			return b, true
		}
	}
	return nil, false
}

// Flow returns the process with the given id (any GUID spelling).
func (s *Solution) Flow(id string) (Flow, bool) {
	id = NormalizeID(id)
	for _, f := range s.Flows {
		if f.ID == id {
			return f, true
		}
	}
	return Flow{}, false
}

// CloudFlows returns the cloud flows only.
func (s *Solution) CloudFlows() []Flow {
	var out []Flow
	for _, f := range s.Flows {
		if f.IsCloudFlow() {
			out = append(out, f)
		}
	}
	return out
}

// NormalizeID lower-cases a GUID and strips braces.
func NormalizeID(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "{}"))
}

type manifestXML struct {
	Manifest struct {
		UniqueName     string `xml:"UniqueName"`
		Version        string `xml:"Version"`
		Managed        string `xml:"Managed"`
		LocalizedNames struct {
			Names []struct {
				Description  string `xml:"description,attr"`
				LanguageCode string `xml:"languagecode,attr"`
			} `xml:"LocalizedName"`
		} `xml:"LocalizedNames"`
		Publisher struct {
			UniqueName string `xml:"UniqueName"`
			Prefix     string `xml:"CustomizationPrefix"`
		} `xml:"Publisher"`
		RootComponents struct {
			Items []struct {
				Type       int    `xml:"type,attr"`
				SchemaName string `xml:"schemaName,attr"`
				ID         string `xml:"id,attr"`
				Behavior   int    `xml:"behavior,attr"`
			} `xml:"RootComponent"`
		} `xml:"RootComponents"`
	} `xml:"SolutionManifest"`
}

func (s *Solution) readManifest(b []byte) error {
	var m manifestXML
	if err := xml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("malformed XML: %w", err)
	}
	man := m.Manifest
	s.UniqueName = strings.TrimSpace(man.UniqueName)
	if s.UniqueName == "" {
		return errors.New("SolutionManifest/UniqueName is empty: expected the solution's unique name")
	}
	s.Version = strings.TrimSpace(man.Version)
	if err := CheckVersion(s.Version); err != nil {
		return fmt.Errorf("SolutionManifest/Version: %w", err)
	}
	switch strings.TrimSpace(man.Managed) {
	case "0":
	case "1":
		s.Managed = true
	default:
		return fmt.Errorf("SolutionManifest/Managed is %q: expected 0 (unmanaged) or 1 (managed)", man.Managed)
	}
	s.FriendlyName = s.UniqueName
	for _, n := range man.LocalizedNames.Names {
		if n.Description != "" {
			s.FriendlyName = n.Description
			if n.LanguageCode == "1033" {
				break
			}
		}
	}
	s.Publisher = Publisher{UniqueName: strings.TrimSpace(man.Publisher.UniqueName), Prefix: strings.TrimSpace(man.Publisher.Prefix)}
	for _, rc := range man.RootComponents.Items {
		s.RootComponents = append(s.RootComponents, RootComponent{Type: rc.Type, SchemaName: rc.SchemaName, ID: NormalizeID(rc.ID), Behavior: rc.Behavior})
	}
	return nil
}

// CheckVersion accepts a Dataverse solution version: two to four dot-separated
// non-negative integers.
func CheckVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return fmt.Errorf("%q is not a solution version: expected major.minor.build.revision, e.g. 1.0.0.0", v)
	}
	for _, p := range parts {
		if p == "" || len(p) > 9 || strings.TrimLeft(p, "0123456789") != "" {
			return fmt.Errorf("%q is not a solution version: expected major.minor.build.revision, e.g. 1.0.0.0", v)
		}
	}
	return nil
}

// CompareVersions compares two solution versions numerically, part by part;
// missing parts count as 0.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 4; i++ {
		x, y := versionPart(pa, i), versionPart(pb, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n := 0
	for _, c := range parts[i] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

type customizationsXML struct {
	Entities struct {
		Items []struct {
			Name string `xml:"Name"`
		} `xml:"Entity"`
	} `xml:"Entities"`
	Workflows struct {
		Items []struct {
			ID           string `xml:"WorkflowId,attr"`
			Name         string `xml:"Name,attr"`
			JSONFileName string `xml:"JsonFileName"`
			XamlFileName string `xml:"XamlFileName"`
			Category     int    `xml:"Category"`
			StateCode    int    `xml:"StateCode"`
		} `xml:"Workflow"`
	} `xml:"Workflows"`
	CanvasApps struct {
		Items []struct {
			Name        string `xml:"Name"`
			DisplayName string `xml:"DisplayName"`
			AppType     int    `xml:"CanvasAppType"`
			DocumentURI string `xml:"DocumentUri"`
		} `xml:"CanvasApp"`
	} `xml:"CanvasApps"`
	Connectors struct {
		Items []struct {
			ID          string `xml:"connectorid"`
			Name        string `xml:"name"`
			DisplayName string `xml:"displayname"`
		} `xml:"Connector"`
	} `xml:"Connectors"`
	ConnectionReferences struct {
		Items []struct {
			LogicalName string `xml:"connectionreferencelogicalname,attr"`
			DisplayName string `xml:"connectionreferencedisplayname"`
			ConnectorID string `xml:"connectorid"`
		} `xml:"connectionreference"`
	} `xml:"connectionreferences"`
}

func (s *Solution) readCustomizations(b []byte) error {
	var c customizationsXML
	if err := xml.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("malformed XML: %w", err)
	}
	for _, e := range c.Entities.Items {
		s.Entities = append(s.Entities, strings.TrimSpace(e.Name))
	}
	for _, w := range c.Workflows.Items {
		f := Flow{ID: NormalizeID(w.ID), Name: w.Name, Category: w.Category, StateCode: w.StateCode}
		if f.ID == "" {
			return fmt.Errorf("Workflows/Workflow %q has no WorkflowId: expected the process GUID", w.Name)
		}
		file := strings.TrimPrefix(strings.TrimSpace(w.JSONFileName), "/")
		if file == "" {
			file = strings.TrimPrefix(strings.TrimSpace(w.XamlFileName), "/")
		}
		f.FileName = file
		if strings.TrimSpace(w.JSONFileName) != "" {
			data, ok := s.file(file)
			if !ok {
				return fmt.Errorf("Workflows/Workflow %q names %s, which is not in the zip", w.Name, file)
			}
			f.ClientData = data
			refs, children, err := ParseFlowDefinition(data)
			if err != nil {
				return fmt.Errorf("flow %q (%s): %w", w.Name, file, err)
			}
			f.ConnectionReferences, f.ChildFlows = refs, children
		}
		s.Flows = append(s.Flows, f)
	}
	for _, a := range c.CanvasApps.Items {
		s.CanvasApps = append(s.CanvasApps, CanvasApp{
			Name: strings.TrimSpace(a.Name), DisplayName: strings.TrimSpace(a.DisplayName),
			AppType: a.AppType, DocumentURI: strings.TrimSpace(a.DocumentURI),
		})
	}
	for _, cn := range c.Connectors.Items {
		s.CustomConnectors = append(s.CustomConnectors, CustomConnector{ID: NormalizeID(strings.TrimSpace(cn.ID)),
			Name: strings.TrimSpace(cn.Name), DisplayName: strings.TrimSpace(cn.DisplayName)})
	}
	for _, r := range c.ConnectionReferences.Items {
		s.ConnectionReferences = append(s.ConnectionReferences, ConnectionReference{
			LogicalName: strings.TrimSpace(r.LogicalName), DisplayName: strings.TrimSpace(r.DisplayName),
			ConnectorID: strings.TrimSpace(r.ConnectorID),
		})
	}
	return nil
}

// ParseFlowDefinition reads a cloud flow's JSON and returns the connection
// reference logical names it uses and the workflow ids of the child flows it
// calls, both sorted and without duplicates.
func ParseFlowDefinition(data []byte) (connectionReferences, childFlows []string, err error) {
	var doc struct {
		Properties struct {
			ConnectionReferences map[string]struct {
				Connection struct {
					LogicalName string `json:"connectionReferenceLogicalName"`
				} `json:"connection"`
			} `json:"connectionReferences"`
			Definition json.RawMessage `json:"definition"`
		} `json:"properties"`
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("malformed flow JSON: %w", err)
	}
	refs := map[string]bool{}
	for _, r := range doc.Properties.ConnectionReferences {
		if r.Connection.LogicalName != "" {
			refs[r.Connection.LogicalName] = true
		}
	}
	children := map[string]bool{}
	if len(doc.Properties.Definition) > 0 {
		var def any
		if err := json.Unmarshal(doc.Properties.Definition, &def); err != nil {
			return nil, nil, fmt.Errorf("malformed flow definition: %w", err)
		}
		findChildFlows(def, children)
	}
	return sortedKeys(refs), sortedKeys(children), nil
}

// findChildFlows walks a definition for actions of type Workflow ("Run a
// child flow") and records inputs.host.workflowReferenceName.
func findChildFlows(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		if typ, _ := t["type"].(string); strings.EqualFold(typ, "Workflow") {
			if in, ok := t["inputs"].(map[string]any); ok {
				if host, ok := in["host"].(map[string]any); ok {
					if id, ok := host["workflowReferenceName"].(string); ok && id != "" {
						into[NormalizeID(id)] = true
					}
				}
			}
		}
		for _, child := range t {
			findChildFlows(child, into)
		}
	case []any:
		for _, child := range t {
			findChildFlows(child, into)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type envVarXML struct {
	SchemaName  string `xml:"schemaname,attr"`
	APIID       string `xml:"apiid"`
	Default     string `xml:"defaultvalue"`
	DisplayName struct {
		Default string `xml:"default,attr"`
	} `xml:"displayname"`
	IsRequired   string `xml:"isrequired"`
	ParameterKey string `xml:"parameterkey"`
	Type         int    `xml:"type"`
}

func (s *Solution) readEnvironmentVariables() error {
	for _, name := range s.Order {
		dir, base := path.Split(name)
		if !strings.EqualFold(base, "environmentvariabledefinition.xml") ||
			!strings.HasPrefix(strings.ToLower(dir), "environmentvariabledefinitions/") {
			continue
		}
		var x envVarXML
		if err := xml.Unmarshal(s.Files[name], &x); err != nil {
			return fmt.Errorf("%s: malformed XML: %w", name, err)
		}
		v := EnvironmentVariable{
			SchemaName: strings.TrimSpace(x.SchemaName), DisplayName: x.DisplayName.Default,
			Type: x.Type, DefaultValue: x.Default, ConnectorID: strings.TrimSpace(x.APIID),
			ParameterKey: strings.TrimSpace(x.ParameterKey), IsRequired: strings.TrimSpace(x.IsRequired) == "1",
		}
		if v.SchemaName == "" {
			return fmt.Errorf("%s: schemaname attribute is empty: expected the variable's schema name", name)
		}
		if vb, ok := s.Files[dir+"environmentvariablevalues.json"]; ok {
			var val struct {
				Values struct {
					Value struct {
						Value *string `json:"value"`
					} `json:"environmentvariablevalue"`
				} `json:"environmentvariablevalues"`
			}
			if err := json.Unmarshal(bytes.TrimPrefix(vb, []byte("\xef\xbb\xbf")), &val); err != nil {
				return fmt.Errorf("%senvironmentvariablevalues.json: malformed JSON: %w", dir, err)
			}
			if val.Values.Value.Value != nil {
				v.CurrentValue, v.HasCurrentValue = *val.Values.Value.Value, true
			}
		}
		s.EnvironmentVariables = append(s.EnvironmentVariables, v)
	}
	sort.Slice(s.EnvironmentVariables, func(i, j int) bool {
		return s.EnvironmentVariables[i].SchemaName < s.EnvironmentVariables[j].SchemaName
	})
	return nil
}
