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
// expire. A PerCaller credential (team mode's on-behalf-of credential, which
// acts for the maker the request's context names) gets its tokens cached per
// caller and scope, so one Client serves many makers, each as themselves. A loopback URL (http://127.0.0.1, http://localhost, http://[::1])
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
//     none.
//   - Idempotent calls (GET, PATCH of a known row, DELETE, $ref association,
//     export, PublishAllXml) also retry on other 5xx answers (except 501) and
//     on network errors.
//   - Non-idempotent calls (ImportSolutionAsync, StageAndUpgradeAsync,
//     DeleteAndPromoteAsync, POST creates) are never re-sent after an
//     ambiguous failure (a network error or a 5xx after the body was sent).
//     The caller checks server state first: an import lists the importjobs of
//     the solution and adopts a job that appeared since it started; a create
//     looks the row up by its natural key. Only when the server shows no trace
//     of the first attempt is the request sent again.
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
