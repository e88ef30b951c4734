// Package solution reads a Dataverse solution export (the .zip Dataverse
// writes and ppalm packs) into a model of what it deploys: the manifest
// (unique name, version, managed, publisher), and the components the later
// steps act on — cloud flows and classic processes, connection references,
// environment variable definitions, canvas apps and entities.
//
// Format rules the reader relies on (see ../shared/spec/solution-format.md):
//   - solution.xml: ImportExportXml/SolutionManifest/{UniqueName,Version,Managed,
//     Publisher/{UniqueName,CustomizationPrefix},LocalizedNames,RootComponents}.
//   - customizations.xml: Workflows/Workflow@WorkflowId@Name with JsonFileName
//     (cloud flow, Category 5) or XamlFileName; connectionreferences/
//     connectionreference@connectionreferencelogicalname with connectorid;
//     CanvasApps/CanvasApp/{Name,DisplayName,DocumentUri,...};
//     Connectors/Connector/{connectorid,name,displayname} (custom connectors);
//     Entities/Entity/Name.
//   - environmentvariabledefinitions/<schema>/environmentvariabledefinition.xml
//     (type codes 100000000 string, …01 number, …02 boolean, …03 JSON,
//     …04 data source, …05 secret) with an optional
//     environmentvariablevalues.json holding the exporting environment's value.
//   - Cloud flow JSON: properties.connectionReferences.<alias>.connection.
//     connectionReferenceLogicalName names the connection references a flow
//     uses; actions of type "Workflow" call a child flow named by
//     inputs.host.workflowReferenceName (the child's workflow id).
//
// The inventory is never derived from RootComponents alone: newer component
// kinds are present only as files and sections.
//
// Zips are opened through package solzip, the reader every ppalm command
// shares, so what unpack refuses is refused here too. ReadModel (what plan,
// import and settings use) keeps only solution.xml, the cloud flows'
// definitions and the environment variables in memory (MaxHeldSize),
// decodes customizations.xml as it inflates and walks flow definitions as a
// stream of JSON tokens; ReadFile and Read also keep every entry in Files.
package solution
