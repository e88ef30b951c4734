package emulator

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/solution"
)

// importOptions are the ImportSolution parameters the emulator acts on.
type importOptions struct {
	holding  bool // HoldingSolution: import as NAME_Upgrade
	upgrade  bool // StageAndUpgrade: holding then DeleteAndPromote
	params   []map[string]any
	activate bool // try to turn on cloud flows exported as on
	seed     bool // seeding: bind connection references to the environment's connections
}

// componentResult is one per-component line of the import job data.
type componentResult struct {
	section string // entities, workflows, ...
	kind    string // entity, workflow, ...
	id      string
	name    string
	result  string // success, warning, failure
	text    string
}

// importOutcome is what RetrieveSolutionImportResult and the import job
// data report.
type importOutcome struct {
	solutionName string
	version      string
	managed      bool
	failed       bool
	errors       []string
	warnings     []string
	components   []componentResult
	started      time.Time
	finished     time.Time
}

var layerRefusal = "0x80048033"

// validateImport checks everything an import could refuse before anything
// changes, so an import that fails changes nothing.
func (e *Emulator) validateImport(env *environment, sol *solution.Solution, o *importOptions, who *caller) ([]func(), error) {
	existing, hasExisting := env.solutionByName(sol.UniqueName)
	holdingName := sol.UniqueName + "_Upgrade"
	_, hasHolding := env.solutionByName(holdingName)
	if o.upgrade && !hasExisting {
		o.upgrade = false // StageAndUpgrade of a solution not yet installed is a plain install
	}
	if o.holding || o.upgrade {
		if !hasExisting {
			return nil, errf(http.StatusBadRequest, "0x8004F00C", "Cannot import %s as a holding solution: solution %s is not installed in this organization. Import it without HoldingSolution first.", sol.UniqueName, sol.UniqueName)
		}
		if !sol.Managed || existing["ismanaged"] != true {
			return nil, errf(http.StatusBadRequest, layerRefusal, "Cannot upgrade %s: both the installed solution and the package must be managed (installed managed=%v, package managed=%v).", sol.UniqueName, existing["ismanaged"], sol.Managed)
		}
		if hasHolding {
			return nil, errf(http.StatusBadRequest, "0x80048539", "Holding solution %s already exists", holdingName)
		}
	} else {
		if hasHolding {
			return nil, errf(http.StatusBadRequest, "0x8004F00D", "Solution %s has an upgrade pending (%s): apply it with DeleteAndPromote before importing %s again.", sol.UniqueName, holdingName, sol.UniqueName)
		}
		if hasExisting {
			installedManaged := existing["ismanaged"] == true
			if installedManaged && !sol.Managed {
				return nil, errf(http.StatusBadRequest, layerRefusal, "Solution '%s' is already installed on this system as a managed solution and the package to be imported is unmanaged. Both packages should be either managed or unmanaged.", sol.UniqueName)
			}
			if !installedManaged && sol.Managed {
				return nil, errf(http.StatusBadRequest, layerRefusal, "Solution '%s' is already installed on this system as an unmanaged solution and the package to be imported is managed. Both packages should be either managed or unmanaged.", sol.UniqueName)
			}
		}
	}
	if hasExisting && sol.Managed && existing["ismanaged"] == true && solution.CompareVersions(sol.Version, str(existing["version"])) < 0 {
		return nil, errf(http.StatusBadRequest, "0x80048066", "The solution package %s version %s is lower than the installed version %s. Import a higher version or uninstall the installed solution first.", sol.UniqueName, sol.Version, str(existing["version"]))
	}
	return e.validateParameters(env, sol, o.params, who)
}

// validateParameters checks ComponentParameters and returns the changes
// they make, to run after the components exist.
func (e *Emulator) validateParameters(env *environment, sol *solution.Solution, params []map[string]any, who *caller) ([]func(), error) {
	var apply []func()
	for i, p := range params {
		typ := strings.TrimPrefix(str(p["@odata.type"]), "#")
		switch strings.ToLower(typ) {
		case "microsoft.dynamics.crm.connectionreference":
			ln := strings.TrimSpace(str(p["connectionreferencelogicalname"]))
			connectorID := ""
			for _, cr := range sol.ConnectionReferences {
				if strings.EqualFold(cr.LogicalName, ln) {
					connectorID = cr.ConnectorID
				}
			}
			if row, ok := env.t("connectionreferences").find("connectionreferencelogicalname", ln); ok && connectorID == "" {
				connectorID = str(row["connectorid"])
			}
			if ln == "" || connectorID == "" {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: connection reference %q is neither in solution %s nor in this environment", i, ln, sol.UniqueName)
			}
			connID := strings.TrimSpace(str(p["connectionid"]))
			if connID == "" {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: connectionid of connection reference %q is empty: expected the name of a connection in this environment", i, ln)
			}
			conn, ok := env.connection(connID)
			if !ok {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: connection %q for connection reference %q does not exist in environment %s", i, connID, ln, env.id)
			}
			if !strings.EqualFold(connectorName(conn.connectorID), connectorName(connectorID)) {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: connection %q is a %s connection but connection reference %q needs %s", i, connID, connectorName(conn.connectorID), ln, connectorName(connectorID))
			}
			if !conn.canUse(who.effective) {
				return nil, errf(http.StatusForbidden, "0x80040220", "ComponentParameters[%d]: the caller (object id %s) neither owns connection %q nor has it shared, so it cannot bind connection reference %q", i, who.effective.ObjectID, connID, ln)
			}
			apply = append(apply, func() {
				if row, ok := env.t("connectionreferences").find("connectionreferencelogicalname", ln); ok {
					row["connectionid"] = conn.name
				}
			})
		case "microsoft.dynamics.crm.environmentvariablevalue":
			schema := strings.TrimSpace(str(p["schemaname"]))
			varType, known := 0, false
			for _, v := range sol.EnvironmentVariables {
				if strings.EqualFold(v.SchemaName, schema) {
					varType, known = v.Type, true
				}
			}
			if row, ok := env.t("environmentvariabledefinitions").find("schemaname", schema); ok && !known {
				varType, known = int(mustNum(row["type"])), true
			}
			if !known {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: environment variable %q is neither in solution %s nor in this environment", i, schema, sol.UniqueName)
			}
			value, isString := p["value"].(string)
			if !isString || strings.TrimSpace(value) == "" {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: value of environment variable %q is empty: expected a %s value", i, schema, solution.TypeName(varType))
			}
			if err := checkVariableValue(varType, value); err != nil {
				return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: environment variable %q: %v", i, schema, err)
			}
			apply = append(apply, func() { setVariableValue(env, schema, value) })
		default:
			return nil, errf(http.StatusBadRequest, "0x80040203", "ComponentParameters[%d]: @odata.type %q is not supported: expected Microsoft.Dynamics.CRM.connectionreference or Microsoft.Dynamics.CRM.environmentvariablevalue", i, typ)
		}
	}
	return apply, nil
}

func mustNum(v any) float64 { f, _ := num(v); return f }

func checkVariableValue(typ int, v string) error {
	switch typ {
	case solution.TypeNumber:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case solution.TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "false", "yes", "no":
		default:
			return fmt.Errorf("%q is not a Boolean: expected true/false (or yes/no)", v)
		}
	case solution.TypeJSON:
		if !json.Valid([]byte(v)) {
			return fmt.Errorf("%q is not valid JSON", v)
		}
	}
	return nil
}

// setVariableValue creates or updates the current value of a definition.
func setVariableValue(env *environment, schema, value string) {
	def, ok := env.t("environmentvariabledefinitions").find("schemaname", schema)
	if !ok {
		return
	}
	defID := str(def["environmentvariabledefinitionid"])
	vals := env.t("environmentvariablevalues")
	if row, ok := vals.find("_environmentvariabledefinitionid_value", defID); ok {
		row["value"] = value
		return
	}
	vals.put(record{"environmentvariablevalueid": newUUID(), "schemaname": str(def["schemaname"]), "value": value,
		"_environmentvariabledefinitionid_value": defID, "statecode": 0, "statuscode": 1})
}

// importSolution validates then applies an import. A refused import
// returns the refusal and changes nothing.
func (e *Emulator) importSolution(env *environment, sol *solution.Solution, zipData []byte, o importOptions, who *caller) (*importOutcome, error) {
	now := e.now().UTC()
	out := &importOutcome{solutionName: sol.UniqueName, version: sol.Version, managed: sol.Managed, started: now, finished: now}
	apply, err := e.validateImport(env, sol, &o, who)
	if err != nil {
		out.failed = true
		out.errors = append(out.errors, err.Error())
		return out, err
	}
	target := e.applyImport(env, sol, o, who, now, out)
	env.solutionZips[target] = zipData
	for _, f := range apply {
		f()
	}
	if o.seed {
		for _, cr := range sol.ConnectionReferences {
			if row, ok := env.t("connectionreferences").find("connectionreferencelogicalname", cr.LogicalName); ok && str(row["connectionid"]) == "" {
				row["connectionid"] = env.ensureConnection(cr.ConnectorID, Maker, now).name
			}
		}
	}
	if o.activate {
		e.activateImported(env, sol, who, out)
	}
	if o.upgrade {
		_, _ = e.promote(env, sol.UniqueName, now)
	}
	return out, nil
}

// seedSolution imports a seed as an existing development environment has
// it: connection references bound to the environment's connections and
// cloud flows on, owned by Maker.
func (e *Emulator) seedSolution(env *environment, sol *solution.Solution, zipData []byte) (*importOutcome, error) {
	who := &caller{authenticated: ServicePrincipal, effective: Maker}
	return e.importSolution(env, sol, zipData, importOptions{activate: true, seed: true}, who)
}

// applyImport creates or updates the solution row and its components.
func (e *Emulator) applyImport(env *environment, sol *solution.Solution, o importOptions, who *caller, now time.Time, out *importOutcome) string {
	ts := now.Format(time.RFC3339)
	userID := who.effective.SystemUserID(env.name)
	pubs := env.t("publishers")
	pub, ok := pubs.find("uniquename", sol.Publisher.UniqueName)
	if !ok {
		pub = record{"publisherid": nameUUID("publisher:" + env.name + ":" + strings.ToLower(sol.Publisher.UniqueName)),
			"uniquename": sol.Publisher.UniqueName, "friendlyname": sol.Publisher.UniqueName, "customizationprefix": sol.Publisher.Prefix}
		pubs.put(pub)
	}
	name := sol.UniqueName
	if o.holding || o.upgrade {
		name += "_Upgrade"
	}
	sols := env.t("solutions")
	row, exists := sols.find("uniquename", name)
	if !exists {
		row = record{"solutionid": newUUID(), "uniquename": name, "createdon": ts, "isvisible": true,
			"_createdby_value": userID, "_parentsolutionid_value": nil, "description": nil, "versionnumber": 0}
	}
	row["friendlyname"], row["version"], row["ismanaged"] = sol.FriendlyName, sol.Version, sol.Managed
	row["installedon"], row["modifiedon"], row["_modifiedby_value"] = ts, ts, userID
	row["_publisherid_value"] = str(pub["publisherid"])
	row["versionnumber"] = mustInt(row["versionnumber"]) + 1
	sols.put(row)
	solID := str(row["solutionid"])
	env.solutionFiles[solID] = sol

	add := func(typ int, id string) { env.addComponent(solID, typ, id, now) }
	result := func(section, kind, id, name string) {
		out.components = append(out.components, componentResult{section: section, kind: kind, id: id, name: name, result: "success"})
	}
	owned := func(r record) {
		r["modifiedon"], r["_modifiedby_value"], r["ismanaged"] = ts, userID, sol.Managed
		if _, ok := r["createdon"]; !ok {
			r["createdon"], r["_createdby_value"], r["_ownerid_value"] = ts, userID, userID
		}
		r["versionnumber"] = mustInt(r["versionnumber"]) + 1
	}

	for _, ent := range sol.Entities {
		id := nameUUID("entity:" + strings.ToLower(env.name) + ":" + strings.ToLower(ent))
		env.t("entities").put(record{"entityid": id, "name": ent, "logicalname": strings.ToLower(ent),
			"originallocalizedname": ent, "ismanaged": sol.Managed})
		add(typeEntity, id)
		result("entities", "entity", strings.ToLower(ent), ent)
	}
	for _, f := range sol.Flows {
		wf, exists := env.t("workflows").get(f.ID)
		if !exists {
			wf = record{"workflowid": f.ID, "workflowidunique": newUUID(), "type": 1, "primaryentity": "none",
				"statecode": 0, "statuscode": 1, "description": nil, "_solutionid_value": nil}
			if !f.IsCloudFlow() && f.StateCode == 1 {
				wf["statecode"], wf["statuscode"] = 1, 2
			}
		}
		wf["name"], wf["category"] = f.Name, f.Category
		if f.IsCloudFlow() {
			wf["clientdata"], wf["xaml"] = string(bytes.TrimPrefix(f.ClientData, []byte("\xef\xbb\xbf"))), nil
		} else {
			wf["clientdata"], wf["xaml"] = nil, string(sol.Files[f.FileName])
		}
		owned(wf)
		env.t("workflows").put(wf)
		add(typeWorkflow, f.ID)
		result("workflows", "workflow", "{"+f.ID+"}", f.Name)
	}
	for _, cr := range sol.ConnectionReferences {
		row, exists := env.t("connectionreferences").find("connectionreferencelogicalname", cr.LogicalName)
		if !exists {
			row = record{"connectionreferenceid": newUUID(), "connectionreferencelogicalname": cr.LogicalName,
				"connectionid": nil, "statecode": 0, "statuscode": 1, "description": nil}
		}
		row["connectionreferencedisplayname"], row["connectorid"] = cr.DisplayName, cr.ConnectorID
		owned(row)
		env.t("connectionreferences").put(row)
		add(typeConnectionReference, str(row["connectionreferenceid"]))
		result("connectionreferences", "connectionreference", cr.LogicalName, cr.DisplayName)
	}
	for _, v := range sol.EnvironmentVariables {
		row, exists := env.t("environmentvariabledefinitions").find("schemaname", v.SchemaName)
		if !exists {
			row = record{"environmentvariabledefinitionid": newUUID(), "schemaname": v.SchemaName, "statecode": 0, "statuscode": 1,
				"secretstore": 0, "valueschema": nil, "description": nil}
		}
		row["displayname"], row["type"], row["defaultvalue"] = v.DisplayName, v.Type, nilIfEmpty(v.DefaultValue)
		row["isrequired"], row["apiid"], row["parameterkey"] = v.IsRequired, nilIfEmpty(v.ConnectorID), nilIfEmpty(v.ParameterKey)
		owned(row)
		env.t("environmentvariabledefinitions").put(row)
		defID := str(row["environmentvariabledefinitionid"])
		add(typeEnvironmentVariable, defID)
		if v.HasCurrentValue {
			setVariableValue(env, v.SchemaName, v.CurrentValue)
			if val, ok := env.t("environmentvariablevalues").find("_environmentvariabledefinitionid_value", defID); ok {
				owned(val)
				add(typeEnvironmentValue, str(val["environmentvariablevalueid"]))
			}
		}
		result("environmentvariabledefinitions", "environmentvariabledefinition", v.SchemaName, v.DisplayName)
	}
	for _, app := range sol.CanvasApps {
		row, exists := env.t("canvasapps").find("name", app.Name)
		if !exists {
			row = record{"canvasappid": newUUID(), "uniquecanvasappid": newUUID(), "name": app.Name, "status": "Ready", "description": nil}
			env.appPerms[str(row["canvasappid"])] = []*appPermission{{id: who.effective.ObjectID, roleName: "Owner", principalType: "User", email: who.effective.Email}}
		}
		row["displayname"], row["canvasapptype"], row["appversion"] = app.DisplayName, app.AppType, ts
		owned(row)
		env.t("canvasapps").put(row)
		add(typeCanvasApp, str(row["canvasappid"]))
		result("canvasapps", "canvasapp", app.Name, app.DisplayName)
	}
	importRegistrations(env, sol, solID, userID, now)
	for _, rc := range sol.RootComponents {
		switch rc.Type {
		case typeEntity, typeWorkflow, typeCanvasApp, typeEnvironmentVariable, typeEnvironmentValue:
			continue // inventoried from the components themselves
		}
		id := rc.ID
		if id == "" {
			id = nameUUID(fmt.Sprintf("component:%d:%s", rc.Type, strings.ToLower(rc.SchemaName)))
		}
		add(rc.Type, id)
	}
	return solID
}

func mustInt(v any) int { n, _ := v.(int); return n }

// activateImported tries to turn on the cloud flows the package exported
// as on, in passes until no more succeed (children before parents); the
// rest stay off with a warning, as an import by a service principal leaves
// them.
func (e *Emulator) activateImported(env *environment, sol *solution.Solution, who *caller, out *importOutcome) {
	pending := map[string]solution.Flow{}
	for _, f := range sol.CloudFlows() {
		if f.StateCode == 1 {
			if wf, ok := env.t("workflows").get(f.ID); ok && mustNum(wf["statecode"]) != 1 {
				pending[f.ID] = f
			}
		}
	}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		for _, id := range sortedMapKeys(pending) {
			wf, _ := env.t("workflows").get(id)
			if err := checkActivation(env, wf, who.effective); err == nil {
				wf["statecode"], wf["statuscode"] = 1, 2
				delete(pending, id)
				progress = true
			}
		}
	}
	for _, id := range sortedMapKeys(pending) {
		wf, _ := env.t("workflows").get(id)
		err := checkActivation(env, wf, who.effective)
		msg := fmt.Sprintf("Flow %q (%s) was imported turned off: %v", pending[id].Name, id, err)
		out.warnings = append(out.warnings, msg)
		for i := range out.components {
			if out.components[i].id == "{"+id+"}" {
				out.components[i].result, out.components[i].text = "warning", msg
			}
		}
	}
}

// promote applies NAME_Upgrade: components the new version dropped are
// deleted (unless another solution holds them), the old solution row goes
// and the holding solution takes its name.
func (e *Emulator) promote(env *environment, name string, now time.Time) (string, error) {
	base, ok := env.solutionByName(name)
	holding, hok := env.solutionByName(name + "_Upgrade")
	if !ok || !hok {
		return "", errf(http.StatusBadRequest, "0x8004F00E", "The %s solution doesn't have an upgrade that is ready to be applied.", name)
	}
	baseID, holdID := str(base["solutionid"]), str(holding["solutionid"])
	keep := map[string]bool{}
	for _, r := range env.components(holdID) {
		keep[str(r["objectid"])] = true
	}
	for _, r := range env.components(baseID) {
		id := str(r["objectid"])
		if !keep[id] && !env.inOtherSolution(id, baseID, holdID) {
			env.deleteComponent(mustInt(r["componenttype"]), id)
		}
		env.t("solutioncomponents").remove(str(r["solutioncomponentid"]))
	}
	env.t("solutions").remove(baseID)
	delete(env.solutionFiles, baseID)
	delete(env.solutionZips, baseID)
	holding["uniquename"] = name
	holding["modifiedon"] = now.Format(time.RFC3339)
	return holdID, nil
}

// uninstall removes a solution; a managed one takes its components with it.
func (e *Emulator) uninstall(env *environment, row record) {
	id := str(row["solutionid"])
	for _, r := range env.components(id) {
		oid := str(r["objectid"])
		if row["ismanaged"] == true && !env.inOtherSolution(oid, id) {
			env.deleteComponent(mustInt(r["componenttype"]), oid)
		}
		env.t("solutioncomponents").remove(str(r["solutioncomponentid"]))
	}
	env.t("solutions").remove(id)
	delete(env.solutionFiles, id)
	delete(env.solutionZips, id)
}

var (
	manifestVersion = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(<SolutionManifest>[\s\S]*?<Version>)[^<]*(</Version>)`)
	})
	manifestManaged = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(<SolutionManifest>[\s\S]*?<Managed>)[^<]*(</Managed>)`)
	})
)

// exportSolution writes the installed solution as a zip: the imported files
// with solution.xml's Version and Managed rewritten.
func (e *Emulator) exportSolution(env *environment, name string, managed bool) ([]byte, error) {
	row, ok := env.solutionByName(name)
	if !ok {
		return nil, errf(http.StatusNotFound, "0x8004F005", "The solution %s does not exist in this organization.", name)
	}
	if row["ismanaged"] == true {
		return nil, errf(http.StatusBadRequest, "0x80048054", "Cannot export solution %s: it is managed. Managed solutions cannot be exported; export the unmanaged solution from its development environment.", name)
	}
	sol := env.solutionFiles[str(row["solutionid"])]
	if sol == nil {
		return nil, errf(http.StatusInternalServerError, "0x80040216", "solution %s has no files to export", name)
	}
	managedFlag := "0"
	if managed {
		managedFlag = "1"
	}
	rewrite := func(data []byte) []byte {
		s := manifestVersion().ReplaceAllString(string(data), "${1}"+str(row["version"])+"${2}")
		return []byte(manifestManaged().ReplaceAllString(s, "${1}"+managedFlag+"${2}"))
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	write := func(n string, data []byte, modified time.Time) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: modified})
		if err == nil {
			_, err = w.Write(data)
		}
		return err
	}
	now := e.now().UTC()
	if raw := env.solutionZips[str(row["solutionid"])]; raw != nil {
		// Copy the imported entries as they are (no re-compression); only
		// solution.xml changes.
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
		for _, f := range zr.File {
			if strings.EqualFold(f.Name, "solution.xml") {
				err = write(f.Name, rewrite(sol.Files[f.Name]), now)
			} else if !strings.HasSuffix(f.Name, "/") {
				err = zw.Copy(f)
			}
			if err != nil {
				return nil, fmt.Errorf("export %s: %w", name, err)
			}
		}
	} else {
		for _, n := range sol.Order {
			data := sol.Files[n]
			if strings.EqualFold(n, "solution.xml") {
				data = rewrite(data)
			}
			if err := write(n, data, now); err != nil {
				return nil, fmt.Errorf("export %s: %w", name, err)
			}
		}
	}
	for _, f := range addedDefinitions(env, str(row["solutionid"]), sol, str(row["version"])) {
		if err := write(f.name, f.data, now); err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

type exportFile struct {
	name string
	data []byte
}

// addedDefinitions writes the environment variable definitions a maker
// added to the unmanaged solution after it was imported (created through
// the Web API with MSCRM.SolutionUniqueName, as the maker portal does):
// the service exports every component of the solution, so the export
// carries environmentvariabledefinitions/<schema>/environmentvariabledefinition.xml
// for them, in the shape of the service's own exports (the fixtures'
// definitions: elements in alphabetical order, labels for language 1033,
// CRLF line ends). Definitions are not root components in real exports,
// so solution.xml is left alone.
func addedDefinitions(env *environment, solutionID string, sol *solution.Solution, version string) []exportFile {
	have := map[string]bool{}
	for _, v := range sol.EnvironmentVariables {
		have[strings.ToLower(v.SchemaName)] = true
	}
	var out []exportFile
	for _, sc := range env.components(solutionID) {
		if sc["componenttype"] != typeEnvironmentVariable {
			continue
		}
		def, ok := env.t("environmentvariabledefinitions").get(str(sc["objectid"]))
		schema := str(def["schemaname"])
		if !ok || schema == "" || have[strings.ToLower(schema)] {
			continue
		}
		var b strings.Builder
		esc := func(s string) string {
			var e bytes.Buffer
			_ = xml.EscapeText(&e, []byte(s))
			return strings.ReplaceAll(e.String(), `"`, "&quot;")
		}
		line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
		label := func(tag, text string) {
			line(`  <%s default="%s">`, tag, esc(text))
			line(`    <label description="%s" languagecode="1033" />`, esc(text))
			line(`  </%s>`, tag)
		}
		line(`<environmentvariabledefinition schemaname="%s">`, esc(schema))
		if v := str(def["apiid"]); v != "" {
			line(`  <apiid>%s</apiid>`, esc(v))
		}
		if v := str(def["defaultvalue"]); v != "" {
			line(`  <defaultvalue>%s</defaultvalue>`, esc(v))
		}
		if v := str(def["description"]); v != "" {
			label("description", v)
		}
		display := str(def["displayname"])
		if display == "" {
			display = schema
		}
		label("displayname", display)
		line(`  <introducedversion>%s</introducedversion>`, esc(version))
		line(`  <iscustomizable>1</iscustomizable>`)
		line(`  <isrequired>%d</isrequired>`, boolInt(def["isrequired"] == true))
		if v := str(def["parameterkey"]); v != "" {
			line(`  <parameterkey>%s</parameterkey>`, esc(v))
		}
		line(`  <secretstore>%d</secretstore>`, int(mustNum(def["secretstore"])))
		b.WriteString(fmt.Sprintf(`  <type>%d</type>`, int(mustNum(def["type"]))) + "\r\n</environmentvariabledefinition>")
		out = append(out, exportFile{name: "environmentvariabledefinitions/" + schema + "/environmentvariabledefinition.xml", data: []byte(b.String())})
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
