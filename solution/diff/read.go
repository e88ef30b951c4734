package diff

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/ppalm/ppalm/solzip"
)

// Snapshot is one version of a solution, split into components.
type Snapshot struct {
	// Source names where it was read from (a zip or a folder), for
	// headings.
	Source     string
	UniqueName string
	Version    string
	Managed    bool
	components map[string]*component
}

// component is one component of a snapshot.
type component struct {
	Kind   string
	order  int
	Parent string // the table of a column, form or view
	Key    string
	Name   string
	// elem is the component's XML (file references replaced by digests,
	// noise dropped), canon its canonical form; files are the contents of
	// a record folder or a loose file (path → digest).
	elem  *node
	canon string
	files map[string]string
}

func (c *component) id() string { return c.Kind + "\x00" + strings.ToLower(c.Parent) + "\x00" + c.Key }

// ReadFile reads the solution zip at name.
func ReadFile(name string) (*Snapshot, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("read solution %s: %w", name, err)
	}
	s.Source = name
	return s, nil
}

// file is one zip entry as the comparison sees it.
type file struct {
	digest  string
	data    []byte // kept for the manifests only
	claimed bool
}

// Read reads a solution zip of size bytes from r, through solzip: diff
// refuses what every other command refuses.
func Read(r io.ReaderAt, size int64) (*Snapshot, error) {
	z, err := solzip.New(r, size, solzip.Options{})
	if err != nil {
		return nil, err
	}
	files := map[string]*file{} // lower-cased zip path
	names := map[string]string{}
	for _, zf := range z.Files {
		name := zf.Name
		f, err := readEntry(z, zf, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files[strings.ToLower(name)] = f
		names[strings.ToLower(name)] = name
	}
	s := &Snapshot{components: map[string]*component{}}
	man := files[strings.ToLower(z.Solution.Name)]
	root, err := parseXML(man.data)
	if err != nil {
		return nil, fmt.Errorf("solution.xml: malformed XML: %w", err)
	}
	m := root.child("SolutionManifest")
	s.UniqueName, s.Version = m.childText("UniqueName"), m.childText("Version")
	s.Managed = m.childText("Managed") == "1" || m.childText("Managed") == "2"
	cust := files[strings.ToLower(z.Customizations.Name)]
	croot, err := parseXML(cust.data)
	if err != nil {
		return nil, fmt.Errorf("customizations.xml: malformed XML: %w", err)
	}
	man.claimed, cust.claimed = true, true
	if ct := files["[content_types].xml"]; ct != nil {
		ct.claimed = true
	}
	s.readCustomizations(croot, files)
	s.readFolders(files, names)
	return s, nil
}

// textExt are extensions compared as text (line endings ignored).
var textExt = map[string]bool{".json": true, ".xml": true, ".xaml": true, ".yaml": true, ".yml": true, ".js": true, ".html": true,
	".htm": true, ".css": true, ".txt": true, ".resx": true, ".svg": true, ".csv": true, ".md": true, ".ts": true}

// readEntry reads one zip entry: text and manifests in full, anything else
// streamed into its digest.
func readEntry(z *solzip.Zip, zf *zip.File, name string) (*file, error) {
	ext := strings.ToLower(path.Ext(name))
	if !textExt[ext] {
		rc, err := z.Open(zf)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return nil, err
		}
		return &file{digest: sum(h)}, nil
	}
	var data []byte
	var err error
	if ext == ".xml" {
		data, err = z.ReadXML(zf)
	} else {
		data, err = z.Read(zf)
	}
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(name) {
	case "solution.xml", "customizations.xml", "[content_types].xml":
		// Read as components, never compared whole: no digest.
		return &file{data: data}, nil
	}
	return &file{digest: textDigest(ext, data)}, nil
}

func sum(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// textDigest is the digest of a text file's canonical form: JSON decoded and
// encoded again, XML canonical, other text with LF line endings; a file that
// does not parse is taken as written.
func textDigest(ext string, data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	switch ext {
	case ".json":
		if c, ok := canonicalJSON(data); ok {
			data = c
		}
	case ".xml", ".xaml", ".resx", ".svg":
		if n, err := parseXML(data); err == nil {
			data = []byte(n.canonical())
		}
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	h := sha256.New()
	h.Write(data)
	return sum(h)
}

// canonicalJSON decodes and encodes data: object keys sorted, no white
// space, numbers as written.
func canonicalJSON(data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	out, err := json.Marshal(v)
	return out, err == nil
}

// section describes how a customizations.xml section splits into
// components.
type section struct {
	section, element string
	kind             string
	key, name        func(*node) string
	// drop are children left out as noise.
	drop []string
}

func attrKey(name string) func(*node) string {
	return func(n *node) string { return normID(n.attr(name)) }
}

func childKey(name string) func(*node) string {
	return func(n *node) string { return normID(n.childText(name)) }
}

func attrName(name string) func(*node) string { return func(n *node) string { return n.attr(name) } }

func childName(name string) func(*node) string {
	return func(n *node) string { return n.childText(name) }
}

// normID lower-cases an identity and drops GUID braces.
func normID(s string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}")) }

// canvasNoise are the CanvasApp children that change on every save or
// export without the app changing (the msapp document holds the app).
var canvasNoise = []string{"AppVersion", "CreatedByClientVersion", "MinClientVersion", "Tags", "ConnectionReferences", "DatabaseReferences", "CdsDependencies"}

// sections are the sections with a known shape, in customizations.xml's
// order; Workflows and Entities are read on their own.
var sections = []section{
	{section: "Roles", element: "Role", kind: "security role", key: attrKey("id"), name: attrName("name")},
	{section: "FieldSecurityProfiles", element: "FieldSecurityProfile", kind: "column security profile", key: attrKey("fieldsecurityprofileid"), name: attrName("name")},
	{section: "EntityRelationships", element: "EntityRelationship", kind: "relationship", key: attrKey("Name"), name: attrName("Name")},
	{section: "optionsets", element: "optionset", kind: "choice", key: attrKey("Name"), name: func(n *node) string { return firstOf(n.attr("localizedName"), n.attr("Name")) }},
	{section: "WebResources", element: "WebResource", kind: "web resource", key: childKey("WebResourceId"), name: childName("Name")},
	{section: "SolutionPluginAssemblies", element: "PluginAssembly", kind: "plug-in assembly", key: attrKey("PluginAssemblyId"), name: func(n *node) string { a, _, _ := strings.Cut(n.attr("FullName"), ","); return a }},
	{section: "SdkMessageProcessingSteps", element: "SdkMessageProcessingStep", kind: "plug-in step", key: attrKey("SdkMessageProcessingStepId"), name: attrName("Name")},
	{section: "ServiceEndpoints", element: "ServiceEndpoint", kind: "service endpoint", key: attrKey("ServiceEndpointId"), name: attrName("Name")},
	{section: "AppModuleSiteMaps", element: "AppModuleSiteMap", kind: "site map", key: childKey("SiteMapUniqueName"), name: childName("SiteMapUniqueName")},
	{section: "AppModules", element: "AppModule", kind: "model-driven app", key: childKey("UniqueName"), name: childName("UniqueName")},
	{section: "CanvasApps", element: "CanvasApp", kind: "canvas app", key: childKey("Name"), name: func(n *node) string { return firstOf(n.childText("DisplayName"), n.childText("Name")) }, drop: canvasNoise},
	{section: "Connectors", element: "Connector", kind: "custom connector", key: childKey("name"), name: func(n *node) string { return firstOf(n.childText("displayname"), n.childText("name")) }},
	{section: "connectionreferences", element: "connectionreference", kind: "connection reference", key: attrKey("connectionreferencelogicalname"), name: func(n *node) string {
		return firstOf(n.childText("connectionreferencedisplayname"), n.attr("connectionreferencelogicalname"))
	}},
}

// workflowKinds name processes by Category.
var workflowKinds = map[string]string{"0": "workflow", "1": "dialog", "2": "business rule", "3": "action", "4": "business process flow", "5": "cloud flow", "6": "desktop flow"}

// kindOrder is the order changes are listed in.
var kindOrder = []string{"table", "column", "form", "view", "security role", "cloud flow", "workflow", "business rule", "action",
	"business process flow", "desktop flow", "dialog", "process", "column security profile", "relationship", "choice", "web resource",
	"plug-in assembly", "plug-in step", "service endpoint", "site map", "model-driven app", "canvas app", "custom connector",
	"connection reference", "environment variable"}

func orderOf(kind string) int {
	for i, k := range kindOrder {
		if k == kind {
			return i
		}
	}
	return len(kindOrder)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// add records a component from its element.
func (s *Snapshot) add(kind, parent, key, name string, elem *node, files map[string]*file) {
	elem = claimFiles(elem, files)
	c := &component{Kind: kind, order: orderOf(kind), Parent: parent, Key: key, Name: firstOf(name, key), elem: elem, canon: elem.canonical()}
	id := c.id()
	for i := 2; s.components[id] != nil; i++ {
		// Two entries with one identity: keep both, in order.
		c.Key = key + "#" + strconv.Itoa(i)
		id = c.id()
	}
	s.components[id] = c
}

// claimFiles returns a copy of n in which every leaf whose text names a zip
// entry ("/Workflows/x.json") holds that entry's digest instead, and marks
// the entry as part of this component. IntroducedVersion is dropped.
func claimFiles(n *node, files map[string]*file) *node {
	cp := *n
	cp.Children = nil
	if len(n.Children) == 0 && strings.HasPrefix(n.Text, "/") {
		if f := files[strings.ToLower(strings.TrimPrefix(n.Text, "/"))]; f != nil {
			f.claimed = true
			cp.Text = f.digest
		}
	}
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, "IntroducedVersion") {
			continue
		}
		cp.Children = append(cp.Children, claimFiles(c, files))
	}
	return &cp
}

func (s *Snapshot) readCustomizations(root *node, files map[string]*file) {
	known := map[string]bool{"entities": true, "workflows": true, "languages": true}
	for _, e := range root.path("Entities").all("Entity") {
		s.readEntity(e, files)
	}
	for _, w := range root.path("Workflows").all("Workflow") {
		kind := workflowKinds[w.childText("Category")]
		if kind == "" {
			kind = "process"
		}
		s.add(kind, "", normID(w.attr("WorkflowId")), w.attr("Name"), w, files)
	}
	for _, sec := range sections {
		known[strings.ToLower(sec.section)] = true
		for _, e := range root.path(sec.section).all(sec.element) {
			s.add(sec.kind, "", sec.key(e), sec.name(e), e.without(sec.drop...), files)
		}
	}
	// Any other section: each entry by its id or name, else its position.
	for _, sec := range root.Children {
		if known[strings.ToLower(sec.Name)] {
			continue
		}
		for i, e := range sec.Children {
			key, name := genericIdentity(e)
			if key == "" {
				key = strconv.Itoa(i)
			}
			s.add(sec.Name, "", key, name, e, files)
		}
	}
}

// genericIdentity finds an entry's id and name: an attribute or child named
// like an id (…id) or a name.
func genericIdentity(e *node) (key, name string) {
	for _, a := range e.Attr {
		l := strings.ToLower(a.Name.Local)
		switch {
		case strings.HasSuffix(l, "id") && key == "":
			key = normID(a.Value)
		case (l == "name" || l == "uniquename") && name == "":
			name = a.Value
		}
	}
	for _, c := range e.Children {
		l := strings.ToLower(c.Name)
		switch {
		case strings.HasSuffix(l, "id") && key == "" && len(c.Children) == 0:
			key = normID(c.Text)
		case (l == "name" || l == "uniquename") && name == "" && len(c.Children) == 0:
			name = c.Text
		}
	}
	if key == "" {
		key = normID(name)
	}
	return key, name
}

// readEntity splits a table into the table itself, its columns, forms and
// views.
func (s *Snapshot) readEntity(e *node, files map[string]*file) {
	nameNode := e.child("Name")
	logical := strings.ToLower(strings.TrimSpace(nameNode.Text))
	if info := e.path("EntityInfo", "entity"); info != nil && info.attr("Name") != "" {
		logical = strings.ToLower(info.attr("Name"))
	}
	display := firstOf(nameNode.attr("LocalizedName"), nameNode.Text)
	s.add("table", "", logical, display, e.without("EntityInfo/entity/attributes", "FormXml", "SavedQueries"), files)
	for _, a := range e.path("EntityInfo", "entity", "attributes").all("attribute") {
		key := strings.ToLower(firstOf(a.childText("LogicalName"), a.attr("PhysicalName")))
		s.add("column", logical, key, firstOf(localized(a.child("displaynames"), "displayname"), key), a, files)
	}
	for _, forms := range e.path("FormXml").all("forms") {
		for _, f := range forms.all("systemform") {
			name := localized(f.child("LocalizedNames"), "LocalizedName")
			if t := forms.attr("type"); t != "" {
				name = strings.TrimSpace(name + " (" + t + ")")
			}
			s.add("form", logical, normID(f.childText("formid")), name, f, files)
		}
	}
	for _, v := range e.path("SavedQueries", "savedqueries").all("savedquery") {
		s.add("view", logical, normID(v.childText("savedqueryid")), localized(v.child("LocalizedNames"), "LocalizedName"), v, files)
	}
}

// localized is the English (1033) description among n's children named
// name, else the first.
func localized(n *node, name string) string {
	var first string
	for _, c := range n.all(name) {
		d := c.attr("description")
		if c.attr("languagecode") == "1033" && d != "" {
			return d
		}
		if first == "" {
			first = d
		}
	}
	return first
}

// recordKinds name the record folders: one component per subfolder.
var recordKinds = map[string]string{
	"environmentvariabledefinitions": "environment variable", "customapis": "custom API", "bots": "agent",
	"botcomponents": "agent component", "botcomponentcollections": "agent component collection", "appactions": "app action",
	"fxexpressions": "Power Fx function", "pluginpackages": "plug-in package", "controls": "code component",
	"aipluginoperations": "AI plug-in operation", "aiplugins": "AI plug-in", "maskingrules": "masking rule",
}

// readFolders turns the files no element named into components: a record
// folder's files together, any other file on its own.
func (s *Snapshot) readFolders(files map[string]*file, names map[string]string) {
	records := map[string]*component{}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := files[p]
		if f.claimed {
			continue
		}
		segs := strings.Split(names[p], "/")
		if kind, ok := recordKinds[strings.ToLower(segs[0])]; ok && len(segs) >= 3 {
			key := strings.ToLower(segs[1])
			c := records[kind+"\x00"+key]
			if c == nil {
				c = &component{Kind: kind, order: orderOf(kind), Key: key, Name: segs[1], files: map[string]string{}}
				records[kind+"\x00"+key] = c
				s.components[c.id()] = c
			}
			c.files[strings.ToLower(strings.Join(segs[2:], "/"))] = f.digest
			continue
		}
		c := &component{Kind: "file", order: orderOf("file"), Key: p, Name: names[p], files: map[string]string{"": f.digest}}
		s.components[c.id()] = c
	}
	for _, c := range records {
		var b strings.Builder
		for _, k := range sortedKeys(c.files) {
			b.WriteString(k + "=" + c.files[k] + "\n")
		}
		c.canon = b.String()
	}
	for _, c := range s.components {
		if c.Kind == "file" {
			c.canon = c.files[""]
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
