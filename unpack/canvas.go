package unpack

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/ppalm/ppalm/solzip"
)

// canvasReadme explains the review folder to whoever opens it in a pull
// request; Pack never reads the folder.
const canvasReadme = `# Canvas app sources for review (read-only)

This folder is a read-only review copy, regenerated on every export
(` + "`ppalm unpack|export-to-git --process-canvas-apps`" + `) from the .msapp files
beside it, so that pull requests show what changed in each canvas app:

- the .msapp in CanvasApps/ is what is packed and imported; editing files here
  changes nothing, and the next export overwrites them;
- for apps saved with MSAppStructureVersion 2.4.0 or later, <App>/Src/ holds
  the app's own *.pa.yaml files as Power Apps Studio wrote them;
- for older apps, <App>/ holds the control trees (Controls/, Components/),
  Header.json, Properties.json, Connections/, DataSources/ and
  References/Resources.json as JSON with sorted keys and 2-space indent, with
  what changes on every save removed (LastSavedDateTimeUTC, load times and
  counters, PublishOrderIndex, signed blob URLs).

Make changes in Power Apps Studio and export again.
`

// msappSuffix ends the blob name of a canvas app's document in a solution.
const msappSuffix = "_DocumentUri.msapp"

// canvasReviewFile is one file of an app's review folder, path relative to
// CanvasApps/src/<App>/.
type canvasReviewFile struct {
	path string
	data []byte
}

// addCanvasReviews adds CanvasApps/src/<App>/ review copies of every canvas
// app document in t, and the folder's README. Nothing is written to disk
// here: a bad msapp fails the unpack before the tree is swapped in.
func addCanvasReviews(t *tree, budget *int64) error {
	var docs []treeFile
	for i := range t.files {
		f := &t.files[i]
		dir, base := path.Split(f.path)
		if dir != "CanvasApps/" || !strings.HasSuffix(base, msappSuffix) {
			continue
		}
		if f.part != nil {
			// The review reads the app whole; the file is then written
			// from these bytes, not inflated a second time.
			data, err := inflate(f.part, budget)
			if err != nil {
				return fmt.Errorf("%s: %w", f.part.Name, err)
			}
			f.data, f.part = data, nil
		}
		docs = append(docs, *f)
	}
	if len(docs) == 0 {
		return nil
	}
	names := canvasAppNames(t)
	for _, d := range docs {
		app := names[strings.ToLower("/"+d.path)]
		if app == "" {
			app = strings.TrimSuffix(path.Base(d.path), msappSuffix)
		}
		if !safeSegment(app) {
			return fmt.Errorf("canvas app %q (%s): the name cannot be a folder name on every OS", app, d.path)
		}
		files, err := canvasReview(d.data, budget)
		if err != nil {
			return fmt.Errorf("canvas app %s (%s): %w", app, d.path, err)
		}
		for _, rf := range files {
			if err := t.add(canvasSourcePrefix+app+"/"+rf.path, rf.data, false); err != nil {
				return fmt.Errorf("canvas app %s (%s): %w", app, d.path, err)
			}
		}
	}
	return t.add(canvasSourcePrefix+"README.md", []byte(canvasReadme), false)
}

// canvasAppNames maps the lower-cased DocumentUri of each split-out
// CanvasApps/<Name>.meta.xml to the app's Name. The review folder is named
// after the app, not the blob: blob names of long app names carry a random
// suffix that changes on every export (solution-format §5 point 3).
func canvasAppNames(t *tree) map[string]string {
	out := map[string]string{}
	for i := range t.files {
		f := &t.files[i]
		dir, base := path.Split(f.path)
		if dir != "CanvasApps/" || !strings.HasSuffix(base, ".meta.xml") {
			continue
		}
		src := normalizeXML(f.content())
		root, err := scanXML(src)
		if err != nil || root.name != "CanvasApp" {
			continue
		}
		name, uri := root.childText(src, "Name"), root.childText(src, "DocumentUri")
		if name != "" && uri != "" {
			out[strings.ToLower(uri)] = name
		}
	}
	return out
}

// msappEntry is one file of an msapp, its backslash name turned into '/'.
type msappEntry struct {
	name string // as stored
	path string // '/'-separated
	file *zip.File
}

// readMsapp lists an msapp's entries with the outer zip's guards: no name
// may escape the folder or collide with another in letter case.
func readMsapp(data []byte) (map[string]*msappEntry, []*msappEntry, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		err = nil // checkEntryName names the offending entry below
	}
	if err != nil {
		return nil, nil, fmt.Errorf("not a zip file (%v)", err)
	}
	byLower := map[string]*msappEntry{}
	var list []*msappEntry
	for _, f := range zr.File {
		p := strings.ReplaceAll(f.Name, `\`, "/")
		if err := checkEntryName(p); err != nil {
			return nil, nil, fmt.Errorf("msapp entry %q: %w", f.Name, err)
		}
		if err := solzip.CheckRatio(f); err != nil {
			return nil, nil, fmt.Errorf("msapp: %w", err)
		}
		if strings.HasSuffix(p, "/") {
			continue
		}
		lp := strings.ToLower(p)
		if prev, dup := byLower[lp]; dup {
			return nil, nil, fmt.Errorf("msapp entries %q and %q differ only in letter case; they would overwrite each other on Windows and macOS", prev.name, f.Name)
		}
		e := &msappEntry{name: f.Name, path: p, file: f}
		byLower[lp] = e
		list = append(list, e)
	}
	return byLower, list, nil
}

// canvasReview computes an app's review files from its msapp. Only the
// entries it reads are inflated, against the unpack's budget.
func canvasReview(data []byte, budget *int64) ([]canvasReviewFile, error) {
	byLower, list, err := readMsapp(data)
	if err != nil {
		return nil, err
	}
	read := func(e *msappEntry) ([]byte, error) {
		b, err := inflate(e.file, budget)
		if err != nil {
			return nil, fmt.Errorf("msapp entry %s: %w", e.name, err)
		}
		return b, nil
	}
	header, ok := byLower["header.json"]
	if !ok {
		return nil, errors.New("no Header.json: not a canvas app package")
	}
	hdata, err := read(header)
	if err != nil {
		return nil, err
	}
	hv, err := decodeJSON(hdata)
	if err != nil {
		return nil, fmt.Errorf("msapp entry %s: %w", header.name, err)
	}
	yamlApp, err := savesYAML(hv)
	if err != nil {
		return nil, fmt.Errorf("msapp entry %s: %w", header.name, err)
	}
	var out []canvasReviewFile
	if yamlApp {
		for _, e := range list {
			if !strings.HasPrefix(strings.ToLower(e.path), "src/") || !strings.HasSuffix(strings.ToLower(e.path), ".pa.yaml") {
				continue
			}
			if !safeRelPath(e.path) {
				return nil, fmt.Errorf("msapp entry %q: not a file name every OS can store", e.name)
			}
			b, err := read(e)
			if err != nil {
				return nil, err
			}
			out = append(out, canvasReviewFile{path: e.path, data: b})
		}
		if len(out) > 0 {
			return out, nil
		}
		// A 2.4.0 header without YAML: show the JSON as for older apps.
	}

	// canonical renders one entry's JSON after edit (nil: none).
	canonical := func(e *msappEntry, edit func(any) any) (any, error) {
		b, err := read(e)
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON(b)
		if err != nil {
			return nil, fmt.Errorf("msapp entry %s: %w", e.name, err)
		}
		if edit != nil {
			v = edit(v)
		}
		return v, nil
	}
	emit := func(p string, v any) error {
		b, err := encodeJSON(v)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, canvasReviewFile{path: p, data: b})
		return nil
	}

	if err := emit("Header.json", dropKeys(hv, "LastSavedDateTimeUTC")); err != nil {
		return nil, err
	}
	if e, ok := byLower["properties.json"]; ok {
		v, err := canonical(e, nil)
		if err != nil {
			return nil, err
		}
		props, conns := reviewProperties(v)
		if err := emit("Properties.json", props); err != nil {
			return nil, err
		}
		if conns != nil {
			if err := emit("Connections/Connections.json", conns); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range list {
		dir, base := path.Split(e.path)
		if (dir != "Controls/" && dir != "Components/") || !strings.HasSuffix(strings.ToLower(base), ".json") {
			continue
		}
		if !safeSegment(base) {
			return nil, fmt.Errorf("msapp entry %q: not a file name every OS can store", e.name)
		}
		v, err := canonical(e, func(v any) any { return dropKeysDeep(v, "PublishOrderIndex") })
		if err != nil {
			return nil, err
		}
		if err := emit(e.path, v); err != nil {
			return nil, err
		}
	}
	if e, ok := byLower["references/datasources.json"]; ok {
		v, err := canonical(e, nil)
		if err != nil {
			return nil, err
		}
		files, ok := splitDataSources(v)
		if !ok {
			files = []canvasReviewFile{{path: "References/DataSources.json"}}
			files[0].data, err = encodeJSON(v)
			if err != nil {
				return nil, fmt.Errorf("msapp entry %s: %w", e.name, err)
			}
		}
		out = append(out, files...)
	}
	if e, ok := byLower["references/resources.json"]; ok {
		v, err := canonical(e, dropSignedRootPaths)
		if err != nil {
			return nil, err
		}
		if err := emit("References/Resources.json", v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// savesYAML reports whether Header.json's MSAppStructureVersion is 2.4.0
// or later, where Studio saves the app as Src/*.pa.yaml.
func savesYAML(header any) (bool, error) {
	h, ok := header.(map[string]any)
	if !ok {
		return false, errors.New("expected a JSON object")
	}
	raw, ok := h["MSAppStructureVersion"]
	if !ok {
		return false, nil
	}
	s, ok := raw.(string)
	if !ok {
		return false, fmt.Errorf("MSAppStructureVersion is %v, expected a version string like \"2.4.0\"", raw)
	}
	var parts [2]int
	for i, seg := range strings.SplitN(s, ".", 3) {
		if i == 2 {
			break
		}
		n, err := strconv.Atoi(seg)
		if err != nil || n < 0 {
			return false, fmt.Errorf("MSAppStructureVersion %q: expected a version like \"2.4.0\"", s)
		}
		parts[i] = n
	}
	return parts[0] > 2 || (parts[0] == 2 && parts[1] >= 4), nil
}

// propertiesNoise are the Properties.json values that change whenever the
// app is opened and saved (PASopa keeps them in Entropy).
var propertiesNoise = []string{"DeserializationLoadTime", "AnalysisLoadTime", "ControlCount", "ParserErrorCount", "BindingErrorCount"}

// reviewProperties drops the noise, decodes the JSON-in-a-string values
// so they read as JSON, and moves the connections to their own file.
func reviewProperties(v any) (props, conns any) {
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	props = dropKeys(m, propertiesNoise...)
	m = props.(map[string]any)
	for _, k := range []string{"LocalDatabaseReferences", "LibraryDependencies"} {
		if d, ok := embeddedJSON(m[k]); ok {
			m[k] = d
		}
	}
	if d, ok := embeddedJSON(m["LocalConnectionReferences"]); ok {
		delete(m, "LocalConnectionReferences")
		conns = d
	}
	return props, conns
}

// dataSourceEmbedded are data source values holding JSON in a string.
var dataSourceEmbedded = []string{"TableDefinition", "CdsFCBContext"}

// splitDataSources writes one DataSources/<Name>.json per data source, as
// PASopa does; false when the file does not have the usual shape.
func splitDataSources(v any) ([]canvasReviewFile, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, false
	}
	list, ok := m["DataSources"].([]any)
	if !ok {
		return nil, false
	}
	var out []canvasReviewFile
	used := map[string]bool{}
	for _, item := range list {
		ds, ok := item.(map[string]any)
		if !ok {
			return nil, false
		}
		name, _ := ds["Name"].(string)
		base := fileSafeName(name)
		file := base
		for i := 1; used[strings.ToLower(file)]; i++ {
			file = base + "_" + strconv.Itoa(i)
		}
		used[strings.ToLower(file)] = true
		for _, k := range dataSourceEmbedded {
			if d, ok := embeddedJSON(ds[k]); ok {
				ds[k] = d
			}
		}
		b, err := encodeJSON(ds)
		if err != nil {
			return nil, false
		}
		out = append(out, canvasReviewFile{path: "DataSources/" + file + ".json", data: b})
	}
	return out, true
}

// fileSafeName turns a data source name into a file name every OS stores.
func fileSafeName(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r < 0x20 || strings.ContainsRune(`/\<>:"|?*`, r) {
			b[i] = '_'
		}
	}
	s = strings.TrimRight(string(b), ". ")
	if len(s) > 120 {
		s = s[:120]
	}
	if !safeSegment(s + ".json") {
		return "DataSource"
	}
	return s
}

// dropSignedRootPaths removes the blob URLs of local resources: they carry
// a SAS signature, an expiry and a container id that change on every save.
func dropSignedRootPaths(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	list, _ := m["Resources"].([]any)
	for _, item := range list {
		r, ok := item.(map[string]any)
		if !ok {
			continue
		}
		if s, ok := r["RootPath"].(string); ok && (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) {
			delete(r, "RootPath")
		}
	}
	return v
}

// embeddedJSON decodes a string that holds a JSON object or array.
func embeddedJSON(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return nil, false
	}
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	d, err := decodeJSON([]byte(t))
	if err != nil {
		return nil, false
	}
	return d, true
}

func dropKeys(v any, keys ...string) any {
	if m, ok := v.(map[string]any); ok {
		for _, k := range keys {
			delete(m, k)
		}
	}
	return v
}

func dropKeysDeep(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, key)
		for _, c := range x {
			dropKeysDeep(c, key)
		}
	case []any:
		for _, c := range x {
			dropKeysDeep(c, key)
		}
	}
	return v
}

// decodeJSON reads one JSON value, keeping numbers as written.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, bom)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the value")
	}
	return v, nil
}

// encodeJSON writes the canonical review form: keys sorted, 2-space
// indent, no HTML escaping (formulas are full of < > &), final newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
