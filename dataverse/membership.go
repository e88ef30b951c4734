package dataverse

import (
	"context"
	"fmt"
	"net/http"
)

// MemberGroups lists the object ids of the security groups the signed-in
// caller is in, directly or through other groups: Graph's
// POST /me/getMemberGroups {"securityEnabledOnly": true} (user:
// getMemberGroups; delegated permissions User.ReadBasic.All and
// GroupMember.Read.All, or Directory.Read.All). It is how an app learns a
// maker's groups when the token could not carry them (the groups overage:
// more than 200 in a JWT). The call reads and changes nothing, so it is
// retried like a read. A 403 wraps ErrDirectoryForbidden.
func (c *Client) MemberGroups(ctx context.Context) ([]string, error) {
	var out struct {
		Value []string `json:"value"`
	}
	_, err := c.postJSON(ctx, c.graphURL.String()+"/v1.0/me/getMemberGroups", true, map[string]bool{"securityEnabledOnly": true}, &out)
	if StatusCode(err) == http.StatusForbidden {
		err = fmt.Errorf("%w: %w", ErrDirectoryForbidden, err)
	}
	if err != nil {
		return nil, fmt.Errorf("list the signed-in user's groups in Graph: %w", err)
	}
	return out.Value, nil
}
