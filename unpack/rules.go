package unpack

import (
	"path"
	"strings"
)

// itemRule splits each child of a customizations.xml section into its own
// file, the SolutionPackager way.
type itemRule struct {
	section string // element under ImportExportXml
	item    string // each child element
	// file returns the tree path of an item's XML ("" when the item does
	// not carry what the name needs: the section then stays inline).
	file func(src []byte, n *node) string
	// owns reports whether a tree path is such an item file (pack side).
	owns func(p string) bool
	// managedVariant: the component differs in managed packages, so a
	// managed unpack writes <file>_managed.xml.
	managedVariant bool
	// bare: the fragment root gets no xmlns:xsi (observed for AppModule).
	bare bool
	// blobs lists the zip parts an item names that SolutionPackager moves
	// to another tree path (web resource content, custom connector files);
	// ok false keeps the section inline.
	blobs func(src []byte, n *node) (moves []blobMove, ok bool)
	// orders sorts lists inside the item on unpack, as pac does.
	orders map[string]childOrder
}

// blobMove is one zip part that lives elsewhere in the tree.
type blobMove struct{ zip, tree string }

func trimSlash(s string) string { return strings.TrimPrefix(s, "/") }

func under(dir, suffix string) func(string) bool {
	return func(p string) bool {
		return strings.HasPrefix(p, dir+"/") && strings.HasSuffix(p, suffix) && len(p) > len(dir)+1+len(suffix)
	}
}

// directlyUnder matches dir/<name><suffix> with no deeper folders.
func directlyUnder(dir, suffix string) func(string) bool {
	return func(p string) bool {
		return path.Dir(p) == dir && strings.HasSuffix(p, suffix) && len(path.Base(p)) > len(suffix)
	}
}

// inSubfolder matches dir/<name>/<base> and dir/<name>/<base minus .xml>_managed.xml.
func inSubfolder(dir, base string) func(string) bool {
	managed := strings.TrimSuffix(base, ".xml") + "_managed.xml"
	return func(p string) bool {
		parts := strings.Split(p, "/")
		return len(parts) == 3 && parts[0] == dir && (parts[2] == base || parts[2] == managed)
	}
}

var itemRules = []itemRule{
	{
		section: "Workflows", item: "Workflow",
		file: func(src []byte, n *node) string {
			f := n.childText(src, "JsonFileName")
			if f == "" {
				f = n.childText(src, "XamlFileName")
			}
			f = trimSlash(f)
			if !strings.HasPrefix(f, "Workflows/") {
				return ""
			}
			return f + ".data.xml"
		},
		owns: under("Workflows", ".data.xml"),
	},
	flatRule("CanvasApps", "CanvasApp", "CanvasApps", ".meta.xml", childKey("Name")),
	flatRule("Roles", "Role", "Roles", ".xml", attrKey("name")),
	flatRule("optionsets", "optionset", "OptionSets", ".xml", attrKey("Name")),
	flatRule("Dashboards", "Dashboard", "Dashboards", ".xml", childKey("FormId")),
	{
		section: "WebResources", item: "WebResource",
		file: func(src []byte, n *node) string {
			name := n.childText(src, "Name")
			if !safeRelPath(name) || strings.HasSuffix(name, ".data.xml") {
				return ""
			}
			return "WebResources/" + name + ".data.xml"
		},
		owns:  under("WebResources", ".data.xml"),
		blobs: webResourceBlobs,
	},
	{
		section: "SolutionPluginAssemblies", item: "PluginAssembly",
		file: func(src []byte, n *node) string {
			f := trimSlash(n.childText(src, "FileName"))
			if !strings.HasPrefix(f, "PluginAssemblies/") {
				return ""
			}
			return f + ".data.xml"
		},
		owns: under("PluginAssemblies", ".data.xml"),
	},
	flatRule("SdkMessageProcessingSteps", "SdkMessageProcessingStep", "SdkMessageProcessingSteps", ".xml", attrKey("SdkMessageProcessingStepId")),
	{
		section: "CustomControls", item: "CustomControl",
		file: func(src []byte, n *node) string {
			return segPath("Controls/", n.childText(src, "Name"), "/ControlManifest.xml.data.xml")
		},
		owns: under("Controls", "/ControlManifest.xml.data.xml"),
	},
	withBlobs(flatRule("Connectors", "Connector", "Connectors", ".xml", childKey("name")), connectorBlobs),
	flatRule("Dialogs", "Dialog", "Dialogs", ".xml", childKey("FormId")),
	flatRule("EntityDataSources", "EntityDataSource", "EntityDataSources", ".xml", attrKey("EntityDataSourceId")),
	flatRule("EntityDataProviders", "EntityDataProvider", "EntityDataProviders", ".xml", childKey("EntityDataProviderId")),
	// Model-driven apps and their site maps differ in managed packages.
	withOrders(bareRule(managedRule(folderRule("AppModules", "AppModule", "AppModules", "AppModule.xml", childKey("UniqueName")))),
		map[string]childOrder{"AppModuleComponents": appModuleComponents}),
	managedRule(folderRule("AppModuleSiteMaps", "AppModuleSiteMap", "AppModuleSiteMaps", "AppModuleSiteMap.xml", childKey("SiteMapUniqueName"))),
}

// itemKey reads the value an item's file is named by.
type itemKey func(src []byte, n *node) string

func attrKey(name string) itemKey {
	return func(src []byte, n *node) string { v, _ := n.attr(src, name); return v }
}

func childKey(name string) itemKey {
	return func(src []byte, n *node) string { return n.childText(src, name) }
}

// flatRule writes each item as dir/<key><suffix>.
func flatRule(section, item, dir, suffix string, key itemKey) itemRule {
	return itemRule{section: section, item: item,
		file: func(src []byte, n *node) string { return segPath(dir+"/", key(src, n), suffix) },
		owns: directlyUnder(dir, suffix)}
}

// folderRule writes each item as dir/<key>/<base>.
func folderRule(section, item, dir, base string, key itemKey) itemRule {
	return itemRule{section: section, item: item,
		file: func(src []byte, n *node) string { return segPath(dir+"/", key(src, n), "/"+base) },
		owns: inSubfolder(dir, base)}
}

func managedRule(r itemRule) itemRule { r.managedVariant = true; return r }
func bareRule(r itemRule) itemRule    { r.bare = true; return r }
func withOrders(r itemRule, orders map[string]childOrder) itemRule {
	r.orders = orders
	return r
}
func withBlobs(r itemRule, blobs func(src []byte, n *node) ([]blobMove, bool)) itemRule {
	r.blobs = blobs
	return r
}

// webResourceBlobs: the content, zip name in <FileName>, is written under
// the web resource's logical name. (An empty <FileName> is kept as the zip
// name "", which pack refuses when the tree has the content.)
func webResourceBlobs(src []byte, n *node) ([]blobMove, bool) {
	zipName := trimSlash(n.childText(src, "FileName"))
	return []blobMove{{zip: zipName, tree: "WebResources/" + n.childText(src, "Name")}}, true
}

// connectorBlobs: every file a custom connector names under /Connector/
// (OpenAPI definition, connection parameters, policy templates, icon,
// script) moves to Connectors/ beside the connector's XML; the XML keeps
// the /Connector/ paths. A name that is not one safe segment, or that ends
// in .xml like the connector files themselves, keeps the section inline.
func connectorBlobs(src []byte, n *node) ([]blobMove, bool) {
	var moves []blobMove
	for _, c := range n.children {
		base, ok := strings.CutPrefix(trimSlash(c.text(src)), connectorZipDir)
		if !ok {
			continue
		}
		if !safeSegment(base) || strings.HasSuffix(strings.ToLower(base), ".xml") {
			return nil, false
		}
		moves = append(moves, blobMove{zip: connectorZipDir + base, tree: "Connectors/" + base})
	}
	return moves, true
}

// connectorZipDir is where an export keeps custom connector files.
const connectorZipDir = "Connector/"

// segPath is prefix+name+suffix when name is a safe single path segment.
func segPath(prefix, name, suffix string) string {
	if !safeSegment(name) {
		return ""
	}
	return prefix + name + suffix
}

// wholeSections are written, when not empty, as one file under Other/.
var wholeSections = []string{"FieldSecurityProfiles", "EntityMaps", "ConnectionRoles"}

// managedName inserts "_managed" before the ".xml" of p.
func managedName(p string) string {
	return strings.TrimSuffix(p, ".xml") + "_managed.xml"
}

// ownedByPacker reports whether a tree path is read by pack as a split-out
// component (as opposed to a part copied verbatim into the zip).
func ownedByPacker(p string) bool {
	if strings.HasPrefix(p, "Other/") || strings.HasPrefix(p, "Entities/") {
		return true
	}
	for _, r := range itemRules {
		if r.owns(p) {
			return true
		}
	}
	for _, r := range sectionRules {
		if r.owns(p) {
			return true
		}
	}
	return false
}

// treeFolders are the top-level folders an unpack owns in the target folder
// (besides whatever folders the new tree has). Unpack replaces them; every
// other file and folder beside the tree is left alone.
var treeFolders = []string{
	"Other", "Entities", "Workflows", "CanvasApps", "WebResources", "Roles", "OptionSets",
	"Dashboards", "PluginAssemblies", "SdkMessageProcessingSteps", "Controls", "AppModules",
	"AppModuleSiteMaps", "Formulas", "environmentvariabledefinitions", "bots", "botcomponents",
	"botcomponentcollections", "Assets", "customapis", "appactions", "pluginpackages",
	"Connector", "Connectors", "fxexpressions", "maskingrules", "aipluginoperations",
	"Resources", "Templates", "Reports", "dvtablesearchs", "dvtablesearchentities",
	"Dialogs", "EntityDataSources", "EntityDataProviders",
}
