// Package unpack is ppalm's solution packager: it turns a Dataverse
// solution zip into the source tree Microsoft's SolutionPackager
// (`pac solution unpack`) writes, and packs such a tree back into a zip that
// imports as the original export would. Everything is driven by the zip's
// content and the generic rules below, never by a list of known solutions.
//
// # The zip (input of Unpack, output of Pack)
//
// A Dataverse export holds solution.xml, customizations.xml,
// [Content_Types].xml and component files under forward-slash paths. Unpack
// refuses entries that are absolute, contain "..", backslashes or a drive
// letter, or differ from another entry only in letter case. The sizes the
// entries claim must fit UnpackOptions.MaxInflatedBytes (2 GiB by default)
// before anything is written, and the bytes actually inflated are counted
// against it again as they are written, whatever the headers claim. XML
// parts must be well-formed UTF-8 without a DOCTYPE.
//
// Pack writes the Dataverse-export profile: deflate, general-purpose flag
// 0x2, made by 4.5/FAT, version needed 2.0, no directory entries, one
// timestamp (PackOptions.Modified). Entry order is customizations.xml,
// [Content_Types].xml, solution.xml, then the parts by path. The two
// manifests have no BOM, no declaration and CRLF line ends.
// [Content_Types].xml is regenerated: BOM and declaration, one line, one
// Default per extension in order of first appearance and one Override per
// part without an extension, all application/octet-stream.
//
// # The tree
//
//	Other/Solution.xml          solution.xml (Managed becomes 2 for Both)
//	Other/Customizations.xml    customizations.xml, split-out and empty sections as <X />
//	Other/Relationships.xml     <EntityRelationship Name=".."/> in export order
//	Other/Relationships/<E>.xml relationships grouped by ReferencedEntityName (1:N)
//	                            or FirstEntityName (N:N)
//	Other/{FieldSecurityProfiles,EntityMaps,ConnectionRoles}.xml   whole sections, when not empty
//	Entities/<Name>/Entity.xml  <Entity> with <FormXml />, <SavedQueries />,
//	                            <Visualizations />, <RibbonDiffXml /> left as placeholders
//	Entities/<Name>/FormXml/<type>/<formid>.xml   <forms><systemform>
//	Entities/<Name>/SavedQueries/<savedqueryid>.xml <savedqueries><savedquery>
//	Entities/<Name>/Visualizations/<id>.xml       <Visualizations><visualization>
//	Entities/<Name>/RibbonDiff.xml
//	Entities/<Name>/Formulas/<file>  a formula column's definition (.xaml, or the
//	                            table's FormulaDefinitions.yaml): each Formulas/<file>
//	                            that a <FormulaDefinitionFileName> inside exactly one
//	                            entity names, byte for byte; the attribute keeps the
//	                            /Formulas/ path, and pack puts the file back at the
//	                            zip path it names (Formulas/<file> when none does).
//	                            Formulas/ files no entity, or two, name stay at the top
//	Workflows/<file>.data.xml   the <Workflow>, beside the verbatim .json/.xaml
//	CanvasApps/<Name>.meta.xml  the <CanvasApp>, beside the verbatim blobs
//	WebResources/<Name>(.data.xml)  the blob renamed to its logical name; <FileName>
//	                            keeps the zip name for pack
//	PluginAssemblies/<A>-<ID>/<A>.dll.data.xml, Roles/<name>.xml, OptionSets/<Name>.xml,
//	Dashboards/<FormId>.xml, SdkMessageProcessingSteps/<id>.xml,
//	Controls/<Name>/ControlManifest.xml.data.xml,
//	AppModules/<UniqueName>/AppModule.xml, AppModuleSiteMaps/<UniqueName>/AppModuleSiteMap.xml
//	Connectors/<name>.xml       the custom <Connector>, named by its <name>; the
//	                            files it names under /Connector/ (OpenAPI
//	                            definition, connection parameters, policy
//	                            templates, icon) move to Connectors/<file>, while
//	                            the XML keeps the /Connector/ paths for pack
//	Dialogs/<FormId>.xml, EntityDataSources/<EntityDataSourceId>.xml,
//	EntityDataProviders/<EntityDataProviderId>.xml   one <Dialog>,
//	                            <EntityDataSource>, <EntityDataProvider> each
//	Templates/EmailTemplates.xml    <EmailTemplates>, each template's <body>,
//	                            <subject>, <presentationxml> and
//	                            <subjectpresentationxml> left empty (<body></body>);
//	                            Templates/ContractTemplates.xml likewise, whole
//	Templates/EmailDocuments/<languagecode>/<templateid>/body.xsl, subject.xsl
//	                            the XSL text after a BOM
//	Templates/EmailDocuments/<languagecode>/<templateid>/presentationxml.xml,
//	subjectpresentationxml.xml  the presentation XML as SolutionPackager
//	                            re-serialises it: header, whitespace-only text
//	                            dropped, <x/> as <x />, elements holding only
//	                            elements indented. Pack writes it back without
//	                            the indentation; the template editor reads no
//	                            whitespace between elements, so the export's
//	                            own is not kept. <Templates> stays inline when it
//	                            holds anything else (KB article or mail merge
//	                            templates) or a document is not plain text/XML.
//	Reports/ReportSignatureIdMappings.xml, Reports/ReportLinks.xml   bare roots
//	Reports/<languagecode>/<reportid>/<filename>.data.xml   the bare <Report>
//	Reports/<languagecode>/<reportid>/<filename>   the zip part its
//	                            <ExportedFileName> names (the .wdl), moved;
//	                            <ExportedFileName> keeps the zip path for pack
//	everything else             copied verbatim under its zip path, when it is
//	                            placeable (below)
//
// Part names are OPC part names: the braces a placeholder holds are
// percent-encoded in the zip (appactions/…%7B!EntityLogicalName%7D…) and
// decoded in the tree, as SolutionPackager writes them; pack encodes them
// again. A segment is decoded only when encoding it again gives the zip's
// bytes, so every other name keeps its zip spelling.
//
// The entity folder is the text of Entity/Name. A component that can differ
// in a managed package (forms, AppModule, AppModuleSiteMap) is written as
// <file>_managed.xml when it comes from a managed zip; Both writes both
// variants and Pack picks the variant asked for, falling back to the other.
//
// Generated XML starts with a UTF-8 BOM and <?xml version="1.0"
// encoding="utf-8"?>, has no trailing newline, and uses LF (or CRLF with
// LineEndings "crlf"). A fragment's root gets xmlns:xsi appended (except
// AppModule); its content is the exact slice of customizations.xml with the
// indentation of whitespace-only text shifted, so attribute order, escaping
// and <X></X> versus <X /> survive. Pack strips xmlns:xsi and shifts the
// indentation back. Verbatim files keep their bytes and line endings.
//
// A rule applies only when the section has exactly the expected shape
// (only the expected children, the ids the file names need, names that are
// safe file names on Windows, macOS and Linux). Otherwise the section stays
// inline in Other/Customizations.xml, which round-trips just as well.
// File names that collide on a case-insensitive file system are an error.
//
// Order: entities are packed in case-insensitive name order (the export
// order) and relationships in the order of Other/Relationships.xml. The
// export order of workflows, forms, views, roles, reports and other items
// is the server's and is not recorded in a SolutionPackager tree; Pack
// writes them sorted by file name. Dataverse import does not depend on that
// order.
//
// Unpack sorts three lists as SolutionPackager 1.20 and later does (seen on
// real trees beside their exports): RootComponents in Other/Solution.xml by
// type compared as text (1, 183, 20, 300, 9), the export order kept within a
// type; MissingDependencies by the type and then the schemaName of
// <Required>, compared as .NET compares culture-aware text (punctuation,
// digits, letters regardless of case); AppModuleComponents by type as text
// and schemaName, id-only components keeping their order within a type and
// AppModuleRoleMaps untouched. Pack writes RootComponents back in the
// export's order, by type as a number (stable, so trees in either order,
// older numeric ones included, give the export's list); the other two stay
// as the tree has them.
//
// Pack also accepts two files found in some trees that hold nothing to
// pack: an Other/Relationships.xml whose <EntityRelationships />
// is empty when Other/Relationships/ holds no file (no relationships), and
// Other/[Content_Types].xml ([Content_Types].xml is always regenerated).
// Any other file it does not know in Other/, Entities/ or a component
// folder is refused, naming it.
//
// No component is lost on pack. A file no split rule reads is packed under
// its own path only when an export holds such files itself: a component
// folder of an export (Workflows/, CanvasApps/, WebResources/, bots/, ...,
// solution-format.md §1.5), a record-style folder <things>/<record>/ that
// holds its <thing>.xml or .json (so new component kinds pack), a path
// Other/Customizations.xml names as a part, or a path PackOptions.AllowExtra
// matches. Files under Templates/ and Reports/ that no rule reads (KB article
// or mail merge template documents, which ppalm does not join) are refused
// with the section named while it is empty in Other/Customizations.xml, since
// loose parts would import as nothing. Every other file fails the pack too,
// all named in one error. Refused as well, naming the file: a component whose
// metadata names a part the tree lacks (<JsonFileName>, <XamlFileName>,
// <DocumentUri>, <BackgroundImageUri>, <ExportedFileName>), split files whose
// section is missing from (or not empty in) Other/Customizations.xml, and a
// file where the tree keeps split components that no component claims (an
// email document whose template is gone). No zip is written.
//
// # Writing the folder
//
// Unpack reads and checks the zip(s) first, then decides the files of the
// tree (names, collisions, the shape of every section) while writers
// already write the files decided: the two manifests are held in memory,
// generated XML is rendered as each file is written, and the other parts
// are inflated straight from the zip into their files (touching fresh
// memory is what an unpack process spends most on after the files
// themselves). It writes into a temporary folder beside the target, which
// a tree that turns out bad (a collision, a file it cannot place) never
// leaves: the folder is deleted and the target is not touched. Only a
// whole tree is swapped in: the top-level folders the
// packager owns (the new tree's folders and the known component folders)
// are replaced, so files of removed components disappear, while other files
// and folders (README.md, config/) stay. The swap renames one folder at a
// time (exchanging old and new in one call where Linux and macOS can) under
// a journal, .<folder>.ppalm-swap beside the folder: an unpack killed
// mid-swap is finished by the next unpack into that folder before it reads
// its zip, and the hidden .ppalm-new-*/.ppalm-old-* folders a killed run
// left are deleted (swap.go). Pack ignores files at the top of
// the folder, hidden folders, config/, deploymentSettings/ and
// CanvasApps/src/ (pac --processCanvasApps sources) and CanvasApps/*_msapp_src/
// (the old pac canvas unpack folders the ALM Accelerator committed beside
// each .msapp), and refuses the YAML
// source-control layout (solutions/*/solution.yml).
//
// # Canvas app review copies (UnpackOptions.ProcessCanvasApps)
//
// The .msapp stays the source of truth and is written verbatim. With
// ProcessCanvasApps, each CanvasApps/<blob>_DocumentUri.msapp also gets a
// read-only review folder CanvasApps/src/<App>/, where <App> is the Name of
// the CanvasApp whose DocumentUri names the blob (the blob prefix when the
// section is not split out): blob names of long app names carry a random
// suffix that changes on every export. CanvasApps/src/README.md says so.
//
//   - MSAppStructureVersion 2.4.0 or later with Src\*.pa.yaml entries: those
//     entries (Src/**/*.pa.yaml, _EditorState included) byte for byte.
//   - Older apps: JSON with sorted keys, 2-space indent, no HTML escaping and
//     numbers as written: Header.json without LastSavedDateTimeUTC;
//     Properties.json without DeserializationLoadTime, AnalysisLoadTime,
//     ControlCount, ParserErrorCount, BindingErrorCount, its
//     LocalDatabaseReferences and LibraryDependencies strings decoded and its
//     LocalConnectionReferences moved, decoded, to Connections/Connections.json;
//     Controls/<n>.json and Components/<n>.json without PublishOrderIndex;
//     DataSources/<Name>.json per entry of References\DataSources.json
//     (TableDefinition and CdsFCBContext decoded; names made file-safe, a
//     case-insensitive repeat gets _1, _2, ...); References/Resources.json
//     without http(s) RootPath values (signed blob URLs).
//
// The msapp is a zip in the zip and gets the same guards: its backslash
// names are read as '/' and refused when they would escape, collide in
// letter case or not be storable on every OS; the entries read count
// against MaxInflatedBytes. A bad msapp fails the unpack, naming the app,
// the blob and the entry, before anything is written.
package unpack
