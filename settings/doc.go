// Package settings reads, writes, fills and checks the two deployment
// settings files ppalm shares with pac and the ALM Accelerator for Power
// Platform, so a repository moves over unchanged.
//
// # deploymentSettings.json (read by the solution import)
//
// The file `pac solution create-settings` writes: an object with
// "EnvironmentVariables" [{"SchemaName","Value"}] and "ConnectionReferences"
// [{"LogicalName","ConnectionId","ConnectorId"}], in that order, indented with
// two spaces. The Accelerator adds "ConnectionOwner" to a connection reference
// (the connection creator's e-mail or Entra object id); ppalm reads it and
// writes it only when set. Create writes every connection reference and
// environment variable of the solution in solution order with empty values,
// byte for byte as pac does except that lines end in LF and the file ends with
// a newline (friendlier to git; pac's CRLF files parse the same).
//
// # customDeploymentSettings.json (read by ppalm's configure steps)
//
// The Accelerator's sections, with its exact JSON names (ALM templates spec
// §5.7): ActivateFlowConfiguration, SolutionComponentOwnershipConfiguration,
// AadGroupCanvasConfiguration, AadGroupTeamConfiguration,
// FlowShareWithGroupTeamConfiguration, ConnectorShareWithGroupTeamConfiguration,
// WebhookUrls, SDKMessages and the hand-written DefaultEnvironmentVariables
// ([schema, value] pairs). Numbers the Accelerator writes as strings
// (sortOrder, activate, skipRolesDeletion) are read from strings, numbers or
// booleans alike; solutionComponentType from a number or a digit string.
//
// Create fills the custom file with the Accelerator's token placeholders,
// because that is what its export committed by default
// (UseDeploymentSettingsPlaceholders=true) and what a migrating pipeline's
// variables are already named after: for each cloud flow an
// ActivateFlowConfiguration entry (#{activateflow.order.<flow>.<id>}#,
// #{activateflow.activate.<flow>.<id>}#), an owner entry of type 29
// (#{owner.ownerEmail.<flow>.<id>}#) and a FlowShareWithGroupTeamConfiguration
// entry (#{flow.sharing.<flow>.<id>}#); for each canvas app (not custom pages
// or component libraries, which cannot be shared or owned on their own) an
// owner entry of type 300 and an AadGroupCanvasConfiguration entry
// (#{canvasshare.aadGroupId.<app>}#, #{canvasshare.roleName.<app>}#). A
// solution zip does not carry a canvas app's id, so the type 300 entry's
// solutionComponentUniqueName is empty and its token is
// #{canvasowner.ownerEmail.<app>}# (the configure step finds apps by name).
// Entries a pipeline will not configure should be deleted from the file:
// every token left in it must have a value at deploy time. CreateOptions
// Placeholders=false writes empty values instead.
//
// # Where the files are (Locate)
//
// For a config directory P and environment E, first hit wins:
// P/<name>-E.json (the Accelerator's flattened artifact naming), then
// P/E/<name>.json, then P/<name>.json. The environment folder and file names
// are matched case-insensitively, as they were on the Accelerator's Windows
// agents; two entries differing only in case are an error.
//
// # Tokens (FillTokens, FillTokensLenient)
//
// #{name}# is replaced by the variable named as written, else by its Azure
// DevOps spelling (upper case, "." and " " as "_"), else by its GitHub
// spelling; Variables says where variables are read from (the environment,
// SECRET_<NAME> under TF_BUILD, PPALM_VARIABLES and PPALM_SECRETS). With the
// Accelerator's semantics (FillTokensLenient, what deployments use unless
// --strict) a variable that is not set is an empty string, as its
// replacetokens step made it, and what an empty value means is decided per
// entry (SkipNotConfigured, BuildImportParameters); FillTokens makes any
// missing variable an error (one error listing every missing name). A value
// inserted inside a JSON string is JSON-escaped, so JSON environment variable
// values are written plainly, except a value that already is a valid JSON
// string body holding an escape ({\"name\":\"test\"}): the Accelerator
// inserted values as they were, so its users escaped JSON values by hand,
// and such a value is inserted as it is. Values are never printed.
//
// # Import parameters (ComponentParameters)
//
// The import's ComponentParameters array holds one
// Microsoft.Dynamics.CRM.connectionreference per connection reference of the
// solution and one Microsoft.Dynamics.CRM.environmentvariablevalue per
// environment variable with a value. A connection reference without a
// connection id, a value still holding a #{token}#, or an environment
// variable without a value and without a default or shipped value, is an
// error naming each of them and what to set in which file: the Accelerator
// skipped them silently and the import then left flows unbound.
// BuildImportParameters is the one implementation; the JSON array
// (ComponentParameters) and the deploy steps' parameters adapt its result.
//
// # Offline checks (Validate)
//
// Validate returns a Problem per thing to fix, each naming the file, the
// entry (a JSON path such as ActivateFlowConfiguration[2].sortOrder) and what
// to do. A value that is still a #{token}# is accepted as "filled at deploy
// time" and not type-checked. Checks against a target environment
// (connections exist and are shared, users and groups exist) add Problems with
// their own Check ids.
//
// # Encoding (CheckEncoding)
//
// Settings files are UTF-8, with or without a byte order mark (pac and the
// Accelerator's PowerShell write both). Anything else is refused before
// tokens are filled, never guessed at: UTF-16 LE or BE (a byte order mark
// FF FE or FE FF, as Windows PowerShell 5's Out-File writes, or NUL bytes
// without one) and UTF-32 are named as such; bytes that are not UTF-8 (a
// Latin-1 or Windows-1252 file) are refused naming the first one, its
// offset, line and column. The error says to save the file as UTF-8.
//
// # Section names
//
// Section names match without regard to case. An unknown top-level name
// within a third of its letters of a known section (AadGroupTeamConfigurations,
// EnvironmentVariable) is a misspelling and an error naming the section
// meant, because deploying on would skip its settings; other unknown names
// stay warnings.
package settings
