package dataverse

import (
	"context"
)

// PerCaller is a credential that acts for whoever the request's context
// names rather than for one identity: team mode's on-behalf-of credential,
// which gets each signed-in maker's own token. A Client built with one
// keeps its token cache per caller, so one maker's token never serves
// another's request, and a context that names nobody gets no token.
type PerCaller interface {
	// Caller names who ctx acts for (an Entra object id), or says why
	// nobody.
	Caller(ctx context.Context) (string, error)
}

// maxCachedTokens bounds a per-caller cache; expired tokens go first.
const maxCachedTokens = 2000

// tokenKey is the cache key of scope's token for the caller of ctx.
func (c *Client) tokenKey(ctx context.Context, scope string) (string, error) {
	pc, ok := c.credential.(PerCaller)
	if !ok {
		return scope, nil
	}
	who, err := pc.Caller(ctx)
	if err != nil {
		return "", err
	}
	return who + " " + scope, nil
}

// pruneTokens drops expired tokens once the cache is large, and everything
// when they were all still valid. The caller holds tokenMu.
func (c *Client) pruneTokens() {
	if len(c.tokens) < maxCachedTokens {
		return
	}
	now := c.now()
	for k, t := range c.tokens {
		if !now.Before(t.ExpiresOn) {
			delete(c.tokens, k)
		}
	}
	if len(c.tokens) >= maxCachedTokens {
		clear(c.tokens)
	}
}
