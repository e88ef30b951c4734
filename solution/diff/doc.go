// Package diff compares two versions of a Dataverse solution component by
// component: what a reviewer wants on a pull request instead of a diff of
// XML files. It reads the solution zips themselves (an unpacked tree is
// packed to a zip by the caller first), so what it reports is what the
// import would see.
//
// # Components and their identity
//
// customizations.xml is split into components by its sections, each keyed by
// what Dataverse keys it by, never by position:
//
//   - Entities/Entity: a table, keyed by its logical name (Name, lower case);
//     inside it, EntityInfo/entity/attributes/attribute are its columns
//     (LogicalName), FormXml/forms/systemform its forms (formid) and
//     SavedQueries/savedqueries/savedquery its views (savedqueryid). A table
//     is "changed" only for what is left once its columns, forms and views
//     are taken out (its own settings, ribbon, charts, ...), each of which
//     is reported on its own.
//   - Workflows/Workflow: cloud flows (Category 5), classic workflows (0),
//     business rules (2), actions (3), business process flows (4), desktop
//     flows (6), keyed by WorkflowId; the definition file it names
//     (JsonFileName, XamlFileName) is part of it.
//   - CanvasApps/CanvasApp (Name), connectionreferences/connectionreference
//     (connectionreferencelogicalname), Roles/Role (id),
//     SdkMessageProcessingSteps/SdkMessageProcessingStep
//     (SdkMessageProcessingStepId), SolutionPluginAssemblies/PluginAssembly
//     (PluginAssemblyId), ServiceEndpoints/ServiceEndpoint, WebResources/
//     WebResource (WebResourceId), Connectors/Connector (name), AppModules/
//     AppModule and AppModuleSiteMaps/AppModuleSiteMap (unique names),
//     EntityRelationships/EntityRelationship and optionsets/optionset (Name),
//     FieldSecurityProfiles/FieldSecurityProfile; any other section's entries
//     by their id or name attribute or child, else their position.
//   - Record folders (environmentvariabledefinitions/<schema>/, customapis/,
//     bots/, botcomponents/, appactions/, fxexpressions/, ...): one component
//     per folder, all its files part of it.
//   - Any other file no component names: one component per file.
//
// # Equality
//
// Two versions of a component are equal when their canonical forms are:
// XML with attributes sorted, white space between elements, comments and
// line endings ignored; JSON decoded and encoded again (key order and
// formatting ignored, numbers kept as written); and every file an element
// names (a text starting with "/" that is a zip entry: flow definitions,
// msapp documents, web resource content, plug-in DLLs, connector
// definitions) replaced by the SHA-256 of its content, so a file renamed by
// the server (canvas blobs get random suffixes) is the same file.
//
// What changes on every export without anyone changing anything is left out
// (shared/spec/solution-format.md, "Noise between two exports"): the
// solution version (reported once, in the header), a canvas app's
// AppVersion, CreatedByClientVersion, MinClientVersion, Tags and embedded
// ConnectionReferences, DatabaseReferences and CdsDependencies JSON (the
// msapp document carries the app itself), and a component's
// IntroducedVersion.
//
// # Output
//
// Changes are sorted by kind (in customizations.xml's section order), then
// by table, name and key. A changed component lists what differs in it: the
// names of its differing child elements or attributes, or "definition" for
// a flow's JSON.
package diff
