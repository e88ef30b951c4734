// Package emulator is an in-memory Dataverse, Power Apps admin API and
// Microsoft Graph, served over plain HTTP, for testing ALM pipelines — ppalm's
// own and yours — without a tenant. It is driven by real solution zips:
// importing one creates the rows its contents name, exporting writes a real
// zip back.
//
// # Running it
//
//	ppalm emulator --listen 127.0.0.1:8080 --environments dev,test,prod \
//	    --seed dev=MySolution_1_0_0_1.zip [--faults "429=0.2,503=0.05,reset=0.02,latency=30ms,seed=7"]
//
// The first line printed is "listening on http://ADDR" (port 0 picks a free
// port). Point a pipeline at http://ADDR/dev as its environment URL. In Go
// tests, package emulatortest starts one for the test and builds clients:
// srv := emulatortest.Start(t, emulator.Options{...}); dv := srv.Client(t, "dev").
//
// # Routes
//
//   - /NAME/api/data/v9.2/ (v9.0, v9.1 too): the Dataverse Web API of
//     environment NAME: entity sets solutions, solutioncomponents,
//     msdyn_solutioncomponentsummaries (filter on msdyn_solutionid),
//     solutioncomponentdefinitions, publishers, asyncoperations, importjobs,
//     workflows, connectionreferences, environmentvariabledefinitions,
//     environmentvariablevalues, systemusers, canvasapps, teams (with
//     teamroles_association and its $ref forms), businessunits, roles,
//     entities, serviceendpoints, sdkmessageprocessingsteps,
//     sdkmessageprocessingstepsecureconfigs, connectors,
//     principalobjectaccessset (read only); functions WhoAmI, RetrieveCurrentOrganization (Detail.EnvironmentId),
//     RetrieveSolutionImportResult(ImportJobId=…); actions ImportSolution(Async),
//     StageSolution, StageAndUpgrade(Async), DeleteAndPromote(Async),
//     ExportSolution(Async), DownloadSolutionExportData, UninstallSolutionAsync,
//     GrantAccess, PublishAllXml, PublishXml.
//   - /powerapps/providers/Microsoft.PowerApps/scopes/admin/environments/{envId}/
//     connections, apis/{connector}/connections/{connection}/permissions,
//     apps, apps/{app}, apps/{app}/permissions,
//     apps/{app}/modifyPermissions, apps/{app}/modifyAppOwner,
//     apps/{app}/setPowerAppConnectionDirectConsentBypass (consent.go: the
//     action behind Set-AdminPowerAppApisToBypassConsent and the CLI for
//     Microsoft 365's `pa app consent set`); and
//     /powerapps/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments[/{envId}].
//     api-version is required, as on the real service. {app} may be the
//     uniquecanvasappid (what the list returns as name), the canvasappid or
//     the app's unique name.
//   - /graph/v1.0/users/{id or upn}, /users, /groups/{id}, /groups
//     ($filter=displayName eq '…'): the documented Users (people only) and Groups;
//     POST /graph/v1.0/me/getMemberGroups and users/{id}/getMemberGroups:
//     GroupMembers (membership.go; Microsoft Graph v1.0 "user:
//     getMemberGroups", /me refused to application tokens as Graph does).
//   - The maker app's routes (maker.go, which details each): the non-admin
//     /powerapps/providers/Microsoft.BusinessAppPlatform/environments list
//     (the BAP environment resource the maker portal and `pac env list`
//     read; filtered to environments the caller holds a role in); Graph
//     /groups and /users with $search="displayName:…", 400
//     Request_UnsupportedQuery without ConsistencyLevel: eventual
//     (microsoftgraph/microsoft-graph-docs-contrib#3495);
//     /powerapps/providers/Microsoft.PowerApps/apis/{api} (the connector's
//     properties.primaryRuntimeUrl); and
//     /apim/sharepointonline/{connection}/datasets[/{site}/tables], the
//     SharePoint connector's GetDataSets and GetTables in the shapes of
//     Azure/Connectors-NodeJS-SDK's SharepointonlineExtensions.ts.
//   - /_emulator/stats (request counts by route and status, faults by kind),
//     /_emulator/audit (who changed what, see AuditEntry),
//     /_emulator/environments (names, ids, URLs), and
//     POST /_emulator/environments/ENV/connections
//     {"connectorId","owner","sharedWith":[…]} to add a connection. These
//     control routes never see faults, budgets or auth.
//
// # OData subset
//
// $select (unknown columns are refused as the service refuses them, and the
// primary key is always returned), $filter with eq ne gt ge lt le and or not,
// parentheses, contains/startswith/endswith, 'text' literals (a quote doubled inside),
// GUIDs quoted or not, null/true/false/numbers, Edm.DateTimeOffset literals
// (createdon ge 2025-01-01T10:00:00Z) (string comparisons ignore
// case, like Dataverse); $orderby, $top, $count; alternate keys such as
// systemusers(azureactivedirectoryobjectid=…); paging with
// Prefer: odata.maxpagesize=N, answered with Preference-Applied and an
// @odata.nextLink to follow verbatim. Create answers 204 with OData-EntityId
// (201 and the row with Prefer: return=representation); lookups are set
// with nav@odata.bind, where nav is the single-valued navigation property
// as $metadata declares it, case-sensitive: environmentvariablevalues bind
// EnvironmentVariableDefinitionId (the Web API reference's
// environmentvariablevalue EntityType; Microsoft's Power Platform Terraform
// provider and the Accelerator's scripts send that spelling), teams and
// systemusers businessunitid, workflows and canvasapps ownerid,
// sdkmessageprocessingsteps sdkmessageprocessingstepsecureconfigid. Any other
// name, such as the lookup column's lower-case environmentvariabledefinitionid,
// is refused 400 0x80048d19 "An undeclared property …" as the service refuses
// it; a bind to another entity set than the property's is refused too.
// Update and delete answer 204; a missing row is 404
// {"error":{"code":"0x80040217","message":"… Does Not Exist"}}. PATCH of a
// row that does not exist is an upsert: it creates the row with the URL's
// id, unless If-Match: * makes it update-only (404 then); If-None-Match: *
// makes it create-only (412 for a row that exists) (the Web API's "Upsert
// a table row" and conditional operations pages). Request bodies naming a
// column the table lacks, or an action parameter the action lacks, are
// refused with 400. Every answer's Date header is the emulator's clock, the
// one its rows' createdon use.
//
// # Power Apps and BAP lists page with nextLink
//
// The Power Apps and BAP admin APIs are ARM-style: a list answers
// {"value": [...], "nextLink": "…$skiptoken=…"} and the client must follow
// nextLink, not @odata.nextLink. Microsoft's own clients do
// (Microsoft.PowerApps.Administration.PowerShell's RestClientModule loops
// on nextLink; the coe-starter-kit and coe-alm-accelerator-templates
// scripts list connections through it). The emulator pages the connections
// and apps lists at Options.PowerAppsPageSize items (250 by default, as the
// service's size is not documented; `ppalm emulator --powerapps-page-size`),
// so a client that reads one page misses connections that exist.
//
// # Identity: how to test 401 and 403
//
// Any bearer token, or none, calls as the documented application user
// ServicePrincipal ("ppalm-spn": System Administrator with the Delegate
// privilege). The token value "invalid" (InvalidToken) is answered 401 with
// WWW-Authenticate. A token equal to a documented user's object id, e-mail or
// application id calls as that user, and so does a JWT-shaped token whose oid
// claim is that user's object id (Dataverse identifies the caller by the
// access token's oid claim, "Microsoft identity platform access tokens:
// claims"; a signed-in maker's azidentity token looks like that; the
// signature is not checked); NoAccess holds no security role, so
// every Dataverse and Power Apps call as (or impersonating) that user is 403.
// CallerObjectId (Entra object id) or MSCRMCallerID (systemuserid) makes a
// Web API call act as that user; the caller needs the Delegate privilege
// (Maker lacks it: 403). Options.NotManagementApp makes the Power Apps admin
// routes answer ServicePrincipal 403 BusinessAppPlatformRequestFailed.
// Options.GraphForbidden (ppalm emulator --graph-forbidden) makes every Graph
// call answer 403 Authorization_RequestDenied, as for a credential without
// directory read permission.
// systemuserids are derived: User.SystemUserID(env).
//
// # Environments
//
// Every environment has an environment id (EnvironmentID, also in
// RetrieveCurrentOrganization and the BAP routes), a root business unit, the
// StandardRoles, every documented user as a systemuser, and one connection per
// connector that any seeded solution uses plus the CommonConnectors
// (SharePoint, Office 365 Outlook, Office 365 Users, Dataverse, Teams). Each
// connection is created by Maker and shared with ServicePrincipal; the admin
// connections API lists it with createdBy. Seeded solutions are installed as
// a development environment has them: connection references bound to the
// environment's connections, cloud flows exported as on turned on, owned by
// Maker.
//
// # Solutions
//
//   - Import creates or updates the solution and publisher rows and the
//     components the zip contains: workflows from Workflows/ (clientdata is
//     the flow JSON, xaml the classic process), canvas apps, connection
//     references (unbound unless ComponentParameters bind them),
//     environment variable definitions and the current values the zip
//     carries, entities listed in customizations.xml, and solutioncomponents
//     rows for all of them and for the other root components. Connection
//     references have component type 10132, an environment-specific code as on
//     the real service: resolve it through solutioncomponentdefinitions.
//   - Layering: importing unmanaged over managed of the same name, or managed
//     over unmanaged, is refused; a managed package with a lower version than
//     the installed one is refused. An import with HoldingSolution creates
//     NAME_Upgrade (a second one is refused with 0x80048539; a plain import
//     while it is pending is refused). DeleteAndPromote(Async) and
//     StageAndUpgrade(Async) delete the components the new version dropped
//     (unless another solution holds them) and leave one solution NAME at the
//     new version. StageAndUpgrade of a solution not yet installed is a plain
//     install. A plain managed update keeps dropped components, as the service
//     does.
//   - ComponentParameters bind connection references and set environment
//     variable values. Refused (400, nothing changes): an empty connectionid,
//     a connection that does not exist in the environment, a connection of
//     another connector, an empty or ill-typed value (Number, Boolean, JSON),
//     an unknown schema or logical name, another @odata.type; a connection the
//     caller neither created nor has shared is refused 403.
//   - An import that fails changes nothing except its import job and async
//     operation records. The importjobs row's data holds an importexportxml
//     result with succeeded="success|failure" and per-component results;
//     RetrieveSolutionImportResult answers Passed/Failed with ErrorMessages
//     and WarningMessages (one warning per flow left off).
//   - Import tries to turn on the cloud flows the zip exported as on, as the
//     caller; flows whose connection references are unbound or unusable stay
//     off with a warning.
//   - Export writes the imported files (entries copied as imported) with
//     solution.xml's Version (as installed, PATCH solutions(id) {version}
//     changes it for unmanaged solutions) and Managed rewritten. Exporting a
//     managed solution is refused, managed or unmanaged. An environment
//     variable definition a maker added to the unmanaged solution through
//     the Web API (POST environmentvariabledefinitions with the
//     MSCRM.SolutionUniqueName header, as the maker portal adds one; a type
//     outside environmentvariabledefinition.type's option set 100000000 to
//     100000005 is refused 400) is exported too, as
//     environmentvariabledefinitions/<schema>/environmentvariabledefinition.xml
//     in the shape of the service's own exports (the fixtures'): the service
//     exports every component of a solution, and definitions are not root
//     components there.
//   - Asynchronous actions (ImportSolutionAsync, StageAndUpgradeAsync,
//     ExportSolutionAsync, DeleteAndPromoteAsync, UninstallSolutionAsync)
//     are system jobs. Submitting one writes its asyncoperations row at
//     once, queued (0/0), owned by the caller, with the operation type the
//     System Job (AsyncOperation) table reference lists: 202 export, 203
//     import, 207 DeleteAndPromote, 208 uninstall, 211 StageAndUpgrade. The
//     job starts at the first GET of that row, or Options.JobTime (2 s)
//     after submission, and only then does its work: an import creates its
//     importjobs row when it starts, not at the POST (so a client that
//     lost the POST's answer finds no import job yet, only the system job),
//     and a jobfail fault fails a job before it starts, leaving no import
//     job at all. Running, it answers 2/20 for Options.AsyncPolls polls
//     (default 2) or Options.JobTime, then 3/30, or 3/31 with message. The
//     import job's progress follows. ImportJobId is a declared parameter of
//     all four import actions (their Web API reference), so it is accepted,
//     but on ImportSolutionAsync and StageAndUpgradeAsync the service picks
//     the job's id itself: the emulator ignores the one given, as
//     Microsoft's Dataverse ServiceClient strips it from those requests as
//     unsupported (DeploymentExtensions.ImportSolutionToImpl) and reads the
//     answer's ImportJobKey. OverwriteUnmanagedCustomizations and
//     PublishWorkflows may be left out of ImportSolution(Async) (false; the
//     ImportSolutionAsyncRequest sample of the "Solution staging, with
//     asynchronous import and export" page sets neither) but are required
//     by StageAndUpgrade(Async) (its reference marks them Required).
//     UninstallSolutionAsync uninstalls as DELETE solutions(id) does, in a
//     system job (its reference; Microsoft's PowerDataOps module uses it
//     "to avoid timeout issues").
//
// # Flows
//
// PATCH workflows(id) {"statecode":1,"statuscode":2} turns a cloud flow on
// only as the authenticated caller, and only when every connection reference
// in clientdata is bound to an existing connection the caller created or has
// shared, and every child flow it calls is on. Turning a cloud flow on for
// an impersonated user (CallerObjectId or MSCRMCallerID) is refused: the
// Accelerator's maintainers state that impersonation is no longer supported
// for flow activation (coe-starter-kit #3306, "now that impersonation is no
// longer supported in the platform"; #5772) and removed it
// (coe-alm-accelerator-templates PR #306, commit 66b0861), activating as the
// service principal with the connections shared with it. What the service
// answers is not documented, so the refusal's inner code,
// ImpersonatedActivationNotSupported, is the emulator's own name, inside
// the 0x80060467 envelope below. Turning a flow off, and every other call,
// may still be impersonated. Failures answer 400 with a message embedding the Flow
// service error: XrmConnectionReferenceMissingConnection,
// ConnectionAuthorizationFailed (with "The caller object id is '…'"),
// ConnectionNotFound, ChildFlowNeverPublished (a child flow that is off) or
// ChildFlowUnsupportedForInvokerConnections (a child flow whose definition
// takes a connection from the run-only user, "runtimeSource": "invoker";
// the service calls child flows with embedded connections only). The outer
// code of these is 0x80060467 "Flow client error returned with status code
// … and details {"error":{"code":…}}", as users of the CoE Starter Kit and
// of Dataverse's API report them verbatim in their issue threads and notes;
// the service may also wrap several in MultipleErrorsOccurred. ownerid@odata.bind must name an existing systemuser or
// team. Activations, owner changes and bindings are recorded in the audit
// with the effective caller and, when impersonated, the authenticated one
// (ImpersonatedBy).
//
// # Sharing and teams
//
// modifyPermissions accepts roleName CanView, CanViewWithShare or CanEdit
// for User and Group principals of the directory (unknown ids are refused
// 400 PrincipalNotFound) and Tenant (CanView only); permissions lists the
// owner and the shares. CanViewWithShare is accepted and granted as CanView,
// as the service does (coe-starter-kit #4345: the role read back with
// Get-AdminPowerAppRoleAssignment is CanView; the Accelerator has mapped it
// to CanView since, "no longer works", canvas-unpack-pack.ps1); the audit
// notes the role asked. With a share-delay=D fault a share shows in the
// permissions only D after it was made (the read-back must look again: the
// admin API has answered shares that did not show, coe-starter-kit #5611,
// #7519; the delay itself is a test knob, not a measured figure).
// apis/{connector}/connections/{name}/permissions lists a connection's
// creator (roleName Owner) and whom it is shared with, as
// Get-AdminPowerAppConnectionRoleAssignment reads it (api-version
// 2017-06-01); Emulator.ShareConnection shares one as its owner would. POST teams with azureactivedirectoryobjectid needs an
// existing group; a second team for the same group and membershiptype is
// refused 400 0x80040237 (duplicate key). Roles associate only within the
// team's business unit. GrantAccess shares a user-owned row (workflow,
// connector, ...) with a team or systemuser: AccessMask is AccessRights
// flag names ("ReadAccess, WriteAccess") or their number, granted rights add
// to what the principal has, and the grants are principalobjectaccessset
// rows (Emulator.SharedAccess for tests); an unknown row or principal is
// 404, an organization-owned target 400.
//
// Import creates serviceendpoints, sdkmessageprocessingsteps (configuration
// from CustomConfiguration; a linked secure configuration survives
// re-import) and connectors from customizations.xml's ServiceEndpoints,
// SdkMessageProcessingSteps and Connectors. A PATCH of a service endpoint's
// url must carry an absolute http(s) URL. A managed import takes over the
// matching components an unmanaged solution left behind whatever
// ConvertToManaged says (documented: the parameter is obsolete), so
// deleting that managed solution removes them.
//
// # Service protection and faults
//
// Faults also include jobfail=P (a system job fails before it starts: no
// work done, no import job, 3/31) and share-delay=D (see Sharing);
// Options.FaultScript injects one fault at the Nth request of a route, or
// fails the Nth system job of an action, for tests that need one exact
// fault.
//
// Each user has a request budget (Options.RequestBudget per
// Options.BudgetWindow, default 6000 per 300 s, a fixed window on the
// Options.Now clock); past it calls are answered 429 0x80072322 with
// Retry-After in seconds. --faults injects, per request, 429 (Retry-After: 1),
// 503, reset (the connection is dropped without an answer) and a fixed
// latency. The draw for a request depends only on the seed, the route and
// how many requests that route has seen, so the same calls in the same order
// meet the same faults. A reset of a POST (an import, an export, a create)
// happens half of the time AFTER the work was done — the client must check
// state (importjobs, the solution's version, the row) instead of re-sending;
// resets of other methods always happen before the work. Stats counts
// dropped connections under status 0 and faults by kind (429, 503,
// reset-before, reset-after, jobfail, share-delay, latency, budget).
package emulator
