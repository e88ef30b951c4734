// Package entra speaks the parts of Microsoft Entra ID's OpenID Connect
// and OAuth 2.0 endpoints (the v2.0 endpoints of one tenant) that ppalm's
// team mode needs and azidentity does not cover: discovery, the signing
// keys, verifying the ID and access tokens Entra issues, and the web app's
// own token requests (redeeming an authorization code with its PKCE
// verifier, refreshing). Getting tokens for Dataverse, Graph and Azure
// DevOps on behalf of a signed-in maker stays with azidentity's
// OnBehalfOfCredential.
//
// # Endpoints (per tenant, under the authority host)
//
//	GET  {host}/{tenant}/v2.0/.well-known/openid-configuration  issuer, authorization_endpoint, token_endpoint, jwks_uri, end_session_endpoint
//	GET  jwks_uri                                             {"keys": [{kty: RSA, kid, n, e, …}]}
//	POST token_endpoint                                       form: grant_type=authorization_code|refresh_token, client_id,
//	                                                          client_secret or client_assertion(_type), code, redirect_uri, code_verifier, scope
//
// # Token checks (Verifier)
//
// A token is three base64url parts; the header's alg must be RS256 (Entra
// signs ID and access tokens with RS256) and its kid a key of the tenant's
// key set, fetched again when an unknown kid appears (Entra rolls its keys)
// but at most once a minute. Then: iss equals the tenant's issuer
// (https://login.microsoftonline.com/{tid}/v2.0), aud holds one of the
// expected audiences, exp is in the future and nbf in the past (five
// minutes of clock skew either way). Each failure is an *Error whose Reason
// says which check failed, so a sign-in page can say what went wrong.
//
// # Retries
//
// Discovery and key fetches retry 429, 5xx and network errors; token
// requests retry only 429 and 503 (the request was refused, not run: an
// authorization code is good once). Retry-After is honoured, through
// go-retryablehttp.
package entra
