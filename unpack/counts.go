package unpack

import "strings"

// sectionKinds names the components counted from customizations.xml.
var sectionKinds = []struct{ section, item, kind string }{
	{"Entities", "Entity", "Entities"},
	{"Roles", "Role", "Security roles"},
	{"optionsets", "optionset", "Option sets"},
	{"Dashboards", "Dashboard", "Dashboards"},
	{"WebResources", "WebResource", "Web resources"},
	{"CustomControls", "CustomControl", "Custom controls"},
	{"SolutionPluginAssemblies", "PluginAssembly", "Plug-in assemblies"},
	{"SdkMessageProcessingSteps", "SdkMessageProcessingStep", "Plug-in steps"},
	{"AppModules", "AppModule", "Model-driven apps"},
	{"CanvasApps", "CanvasApp", "Canvas apps"},
	{"Connectors", "Connector", "Custom connectors"},
	{"connectionreferences", "connectionreference", "Connection references"},
	{"EntityRelationships", "EntityRelationship", "Relationships"},
	{"Reports", "Report", "Reports"},
	{"Dialogs", "Dialog", "Dialogs"},
	{"EntityDataSources", "EntityDataSource", "Virtual table data sources"},
	{"EntityDataProviders", "EntityDataProvider", "Virtual table data providers"},
}

// folderKinds names record-style components counted by their folders.
var folderKinds = map[string]string{
	"environmentvariabledefinitions": "Environment variables",
	"bots":                           "Agents",
	"botcomponents":                  "Agent components",
	"customapis":                     "Custom APIs",
	"appactions":                     "App actions",
	"fxexpressions":                  "Power Fx functions",
}

// countComponents counts components by kind for Summary.
func countComponents(src []byte, root *node, parts []string) map[string]int {
	c := map[string]int{}
	for _, sec := range root.children {
		if sec.name == "Templates" {
			if et := sec.child("EmailTemplates"); et != nil {
				c["Email templates"] += len(et.children)
			}
			continue
		}
		if sec.name == "Workflows" {
			for _, w := range sec.children {
				if w.childText(src, "Category") == "5" {
					c["Cloud flows"]++
				} else {
					c["Processes"]++
				}
			}
			continue
		}
		for _, k := range sectionKinds {
			if sec.name != k.section {
				continue
			}
			for _, it := range sec.children {
				if it.name == k.item {
					c[k.kind]++
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range parts {
		segs := strings.SplitN(p, "/", 3)
		if len(segs) < 3 || seen[segs[0]+"/"+segs[1]] {
			continue
		}
		if kind, ok := folderKinds[segs[0]]; ok {
			seen[segs[0]+"/"+segs[1]] = true
			c[kind]++
		}
	}
	return c
}
