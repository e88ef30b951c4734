// Package teamauth signs makers in to a team-wide `ppalm maker` with
// Microsoft Entra ID and keeps them signed in without server-side state, so
// any number of replicas behind a load balancer serve one team without
// sticky sessions.
//
// # Flow
//
//   - GET /auth/signin?return=/path[&login_hint=upn] starts the
//     authorization code flow with PKCE (S256): a random state, nonce and
//     code verifier go into a short-lived sealed cookie, the browser goes
//     to the tenant's authorization endpoint asking for openid profile
//     offline_access and the app's own API scope (api://CLIENT/…).
//   - GET /auth/callback checks state against that cookie, redeems the code
//     with the verifier and the app's credential (a client secret, a
//     certificate, or a federated assertion such as a managed identity's,
//     see Config), and verifies the ID token (signature through the
//     tenant's keys, iss, aud = the app, exp, tid, nonce) and the access
//     token (the same, aud = the app's API: it is the user assertion of
//     every on-behalf-of call, so a token for another audience is refused
//     here rather than failing later).
//   - POST /auth/signout (with the CSRF token) drops the session and sends
//     the browser to the tenant's end_session_endpoint, which returns to
//     /auth/signedout (register it, like /auth/callback, as a redirect URI
//     of the app).
//
// # Session cookie
//
// The session is the cookie: JSON of the maker's identity (oid, upn, name,
// tid, groups), the session's absolute expiry, the CSRF token, and the
// maker's access and refresh tokens, sealed with AES-256-GCM under a key
// every replica shares (Config.SessionKeys; the first seals, all open, so
// keys rotate by prepending a new one). The cookie's name is the
// additional data, so a sign-in cookie cannot be replayed as a session. It
// is HttpOnly, SameSite=Lax (the callback is a top-level GET from Entra),
// Secure with the __Host- prefix on https, and split into numbered chunks
// below 4 KB each when the tokens make it larger, as ASP.NET Core's
// ChunkingCookieManager does (browsers drop cookies over 4096 bytes). The
// tokens never reach a page: they exist in the browser only inside the
// sealed cookie, and in the server only while a request runs. The access
// token is refreshed with the refresh token five minutes before it
// expires, and the new cookie sent with the answer.
//
// # Guards (Handler)
//
//   - No session, a cookie that does not open, or a session past its
//     expiry: 401 with a page saying so and a sign-in link back to the
//     page (a refresh token Entra no longer honours ends the session too).
//   - A state-changing request (not GET, HEAD or OPTIONS) must carry the
//     session's CSRF token in the form field "csrf" or the X-CSRF-Token
//     header, and, when the browser sends Origin, the app's own origin;
//     otherwise 403 with a page saying nothing was changed.
//
// # Limits
//
// Sign-out cannot revoke a copy of the cookie taken before it (nothing is
// stored server-side): such a copy works until the session's expiry
// (Config.SessionLifetime, 8 hours by default) or until its refresh token
// is revoked in Entra. Group claims arrive in the token only when the app
// registration asks for them (groupMembershipClaims) and the maker is in
// fewer groups than fit; Session.GroupsOverage says when Graph must be
// asked instead.
package teamauth
