// Package dataverse is ppalm's client for the Dataverse Web API (v9.2), the
// Power Apps admin API and the Microsoft Graph lookups an ALM pipeline needs.
//
// # Environments and tokens
//
// A Client talks to one environment (https://org.crm.dynamics.com). Each API
// host gets its own bearer token from the injected azcore.TokenCredential
// (scope "<host>/.default" for Dataverse, https://service.powerapps.com/.default
// for the Power Apps admin API, https://graph.microsoft.com/.default for
// Graph); tokens are cached per scope and refreshed five minutes before they
// expire. A loopback URL (http://127.0.0.1, http://localhost, http://[::1])
// needs no token so the emulator can run without Entra (one is still sent
// when a credential is configured); every other URL must be https.
//
// # Retry policy
//
// Every request goes through go-retryablehttp with one policy, chosen per call:
//
//   - 429 and 503 are service-protection refusals: the server did not run the
//     request, so every call is retried after the Retry-After the server sent
//     (seconds or an HTTP date), or after an exponential back-off if it sent
//     none. A Retry-After longer than WithMaxRetryAfter (5 minutes, the
//     service-protection window) fails the call at once, naming the host and
//     the wait. Every wait is told to WithLogger.
//   - Idempotent calls (GET, PATCH of a known row, DELETE, $ref association,
//     export, PublishAllXml) also retry on other 5xx answers (except 501) and
//     on network errors.
//   - Each attempt has a deadline suited to the call (Deadlines: WhoAmI and
//     Graph 30 s, rows 2 min, an import's upload 2 min plus 10 s a megabyte,
//     synchronous export, import and publish 20 min); an attempt that runs
//     out is tried once more, then the call fails naming the host.
//   - Non-idempotent calls (ImportSolutionAsync, StageAndUpgradeAsync,
//     DeleteAndPromoteAsync, UninstallSolutionAsync, POST creates) are never
//     re-sent blindly after an ambiguous failure (a network error, a deadline
//     or a 5xx after the body was sent). The caller checks server state
//     first: an asynchronous action looks for the system job it created, the
//     asyncoperations row of its operation type (203 import, 211 stage and
//     upgrade, 207 promotion, 208 uninstall) owned by the caller and created
//     since the request by the service's clock, which the service writes at
//     submission (the import
//     job appears only when the job starts, and its id cannot be chosen up
//     front), and adopts it; a create looks the row up by its natural key.
//     Only when the server shows no trace of the first attempt is the request
//     sent again, once. Imports first wait for any solution operation still
//     running (WaitSolutionOperations), so a second import never races one.
//   - Polling an operation survives failed polls (throttling, server
//     errors, dropped connections) until the poll timeout; giving up names
//     the operation, which goes on in the environment.
//
// Concurrency is bounded per host by a semaphore (default 4) well under the
// 52 concurrent requests Dataverse allows per user. Waiting (Retry-After,
// back-off and polling) goes through an injectable sleep function so tests
// never sleep.
//
// # Errors
//
// A non-2xx answer becomes *APIError (status, Dataverse error code such as
// 0x80072322, message, Retry-After); use errors.As. A lookup that finds no row
// wraps ErrNotFound. A 403 from Graph wraps ErrDirectoryForbidden so callers can
// report "cannot read the directory" and carry on. A failed import is an
// *ImportError carrying the messages of RetrieveSolutionImportResult.
// Error strings never contain tokens or request bodies.
package dataverse
