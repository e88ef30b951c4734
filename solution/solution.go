package solution

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/ppalm/ppalm/solzip"
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

	// Files holds the zip entries' content by their slash-separated names:
	// every entry, or with ReadModel only those the model was read from.
	Files map[string][]byte
	// Order is the zip's entry order.
	Order []string

	zip  *solzip.Zip // while reading
	held int64       // bytes read into Files
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

// MaxHeldSize bounds what ReadModel keeps in memory from one zip: the
// manifest, the cloud flows' definitions and the environment variables.
// customizations.xml is decoded as it inflates and never held; the other
// entries (apps, assemblies, web resources) are not inflated at all.
const MaxHeldSize = 256 << 20

// ReadFile reads the solution zip at path through the reader every ppalm
// command shares (package solzip): it refuses what unpack refuses. Files
// holds every entry.
func ReadFile(name string) (*Solution, error) {
	return readFile(name, true)
}

// ReadModel reads the solution zip at path as ReadFile does, but keeps in
// memory only what the model is read from: Files holds solution.xml, the
// cloud flows' definitions and the environment variables (at most
// MaxHeldSize), customizations.xml is decoded as it inflates, and no other
// entry is inflated. plan, import and settings read a zip this way.
func ReadModel(name string) (*Solution, error) {
	return readFile(name, false)
}

func readFile(name string, all bool) (*Solution, error) {
	z, err := solzip.Open(name, solzip.Options{})
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", name, err)
	}
	defer z.Close()
	s, err := read(z, all)
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", name, err)
	}
	return s, nil
}

// Read parses a solution zip held in memory, with the checks of ReadFile.
// Files holds every entry.
func Read(data []byte) (*Solution, error) {
	z, err := solzip.New(bytes.NewReader(data), int64(len(data)), solzip.Options{})
	if err != nil {
		return nil, err
	}
	return read(z, true)
}

func read(z *solzip.Zip, all bool) (*Solution, error) {
	s := &Solution{Files: make(map[string][]byte), zip: z}
	for _, f := range z.Files {
		s.Order = append(s.Order, f.Name)
		if all {
			b, err := z.Read(f)
			if err != nil {
				return nil, err
			}
			s.Files[f.Name] = b
		}
	}
	manifest, err := s.hold(z.Solution, true)
	if err != nil {
		return nil, err
	}
	if err := s.readManifest(manifest); err != nil {
		return nil, fmt.Errorf("solution.xml: %w", err)
	}
	if err := s.readCustomizations(); err != nil {
		return nil, fmt.Errorf("customizations.xml: %w", err)
	}
	if err := s.readEnvironmentVariables(); err != nil {
		return nil, err
	}
	s.zip = nil
	return s, nil
}

// hold returns an entry's bytes and keeps them in Files, within MaxHeldSize.
func (s *Solution) hold(f *zip.File, isXML bool) ([]byte, error) {
	if b, ok := s.Files[f.Name]; ok {
		return b, nil
	}
	if s.held+int64(f.UncompressedSize64) > MaxHeldSize {
		return nil, fmt.Errorf("zip entry %s: the manifest, flows and variables of the solution take more than %d MiB: refusing it as a zip bomb", f.Name, MaxHeldSize>>20)
	}
	var b []byte
	var err error
	if isXML {
		b, err = s.zip.ReadXML(f)
	} else {
		b, err = s.zip.Read(f)
	}
	if err != nil {
		return nil, err
	}
	s.held += int64(len(b))
	s.Files[f.Name] = b
	return b, nil
}

// file reads an entry by name, ignoring letter case (exports write the
// manifests in lower case; packers sometimes do not) and a leading '/'.
func (s *Solution) file(name string) ([]byte, bool, error) {
	f := s.zip.Lookup(name)
	if f == nil {
		return nil, false, nil
	}
	b, err := s.hold(f, false)
	return b, err == nil, err
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

// readCustomizations decodes customizations.xml as it inflates: only the
// sections the model needs are kept, never the file.
func (s *Solution) readCustomizations() error {
	var r io.Reader
	if b, ok := s.Files[s.zip.Customizations.Name]; ok {
		if err := solzip.CheckTags(s.zip.Customizations.Name, b); err != nil {
			return err
		}
		r = bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	} else {
		rc, err := s.zip.OpenXML(s.zip.Customizations)
		if err != nil {
			return err
		}
		defer rc.Close()
		r = rc
	}
	var c customizationsXML
	if err := xml.NewDecoder(r).Decode(&c); err != nil {
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
			data, ok, err := s.file(file)
			if err != nil {
				return fmt.Errorf("Workflows/Workflow %q: %w", w.Name, err)
			}
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

// MaxFlowReferences bounds the distinct connection references and child
// flows one flow definition may name; a real flow names a handful.
const MaxFlowReferences = 10_000

// maxJSONDepth is the nesting encoding/json itself accepts.
const maxJSONDepth = 10_000

// ParseFlowDefinition reads a cloud flow's JSON and returns the connection
// reference logical names it uses
// (properties.connectionReferences.<alias>.connection.connectionReferenceLogicalName)
// and the workflow ids of the child flows it calls (actions of type
// "Workflow", "Run a child flow", name the child in
// inputs.host.workflowReferenceName), both sorted and without duplicates.
// It walks the JSON as a stream of tokens: memory follows the nesting
// depth and the names found, not the size of the definition.
func ParseFlowDefinition(data []byte) (connectionReferences, childFlows []string, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	refs, children := map[string]bool{}, map[string]bool{}
	// frame is one open object or array; key is the name it has in its
	// parent object ("" in an array or at the top).
	type frame struct {
		object    bool
		key       string
		expectKey bool   // object: the next token is a key
		nextKey   string // object: the key of the value that comes next
		typ       string // object: its "type", when a string
		ref       string // object: its inputs.host.workflowReferenceName
	}
	var stack []frame
	// at reports whether the open containers are the objects named by
	// path from the top object ("" matches any key).
	at := func(path ...string) bool {
		if len(stack) != len(path)+1 || !stack[0].object {
			return false
		}
		for i, k := range path {
			if !stack[i+1].object || (k != "" && stack[i+1].key != k) {
				return false
			}
		}
		return true
	}
	// objectField names the fields the model reads that must hold an
	// object (or null), as decoding into a struct requires.
	objectField := func(key string) string {
		switch {
		case key == "properties" && at():
			return "properties"
		case key == "connectionReferences" && at("properties"):
			return "properties.connectionReferences"
		case at("properties", "connectionReferences"):
			return "properties.connectionReferences." + key
		case key == "connection" && at("properties", "connectionReferences", ""):
			return "properties.connectionReferences.*.connection"
		}
		return ""
	}
	add := func(set map[string]bool, v, what string) error {
		if !set[v] && len(set) == MaxFlowReferences {
			return fmt.Errorf("the flow names more than %d %s: not a real flow", MaxFlowReferences, what)
		}
		set[v] = true
		return nil
	}
	// inDefinition reports whether the open containers lie inside
	// properties.definition, where the actions are.
	inDefinition := func() bool {
		return len(stack) >= 3 && stack[0].object && stack[1].object && stack[1].key == "properties" && stack[2].key == "definition"
	}
	done := false // the top-level value is complete
	for first := true; ; first = false {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("malformed flow JSON: %w", err)
		}
		if done {
			return nil, nil, errors.New("malformed flow JSON: more than one value at the top")
		}
		if d, ok := tok.(json.Delim); first && tok != nil && (!ok || d != '{') {
			return nil, nil, errors.New("malformed flow JSON: expected an object at the top")
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			f := stack[len(stack)-1]
			isAction := inDefinition()
			stack = stack[:len(stack)-1]
			done = len(stack) == 0
			if isAction && f.object && strings.EqualFold(f.typ, "Workflow") && f.ref != "" {
				if err := add(children, NormalizeID(f.ref), "child flows"); err != nil {
					return nil, nil, err
				}
			}
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
			continue
		}
		n := len(stack)
		var parent *frame
		if n > 0 && stack[n-1].object {
			parent = &stack[n-1]
			if parent.expectKey {
				parent.nextKey, _ = tok.(string)
				parent.expectKey = false
				continue
			}
		}
		key := ""
		if parent != nil {
			key = parent.nextKey
			if field := objectField(key); field != "" && tok != nil {
				if d, ok := tok.(json.Delim); !ok || d != '{' {
					return nil, nil, fmt.Errorf("malformed flow JSON: %s: expected an object", field)
				}
			}
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) == maxJSONDepth {
				return nil, nil, fmt.Errorf("malformed flow JSON: nested deeper than %d", maxJSONDepth)
			}
			stack = append(stack, frame{object: d == '{', key: key, expectKey: d == '{'})
			continue
		}
		if parent == nil {
			done = n == 0
			continue
		}
		parent.expectKey = true
		v, isString := tok.(string)
		switch {
		case key == "type" && isString:
			parent.typ = v
		case key == "workflowReferenceName" && isString && v != "" && n >= 3 &&
			parent.key == "host" && stack[n-2].object && stack[n-2].key == "inputs" && stack[n-3].object:
			stack[n-3].ref = v
		case key == "connectionReferenceLogicalName" && at("properties", "connectionReferences", "", "connection"):
			if !isString && tok != nil {
				return nil, nil, errors.New("malformed flow JSON: properties.connectionReferences.*.connection.connectionReferenceLogicalName: expected a string")
			}
			if v != "" {
				if err := add(refs, v, "connection references"); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return sortedKeys(refs), sortedKeys(children), nil
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
		def, err := s.hold(s.zip.Lookup(name), true)
		if err != nil {
			return err
		}
		var x envVarXML
		if err := xml.Unmarshal(def, &x); err != nil {
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
		vb, ok, err := s.file(dir + "environmentvariablevalues.json")
		if err != nil {
			return err
		}
		if ok {
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
