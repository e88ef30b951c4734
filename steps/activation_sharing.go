package steps

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/solution"
)

// checkSharedWithDeployer is activate-flows' preflight when flows are
// turned on as the deploying identity: the service lets a caller turn a
// flow on only when it may use every connection the flow's references
// bind (ConnectionAuthorizationFailed otherwise), so each connection the
// flows to turn on bind must be the deployer's own or shared with it. All
// that are not come back in one error, each with its owner and how to
// share it, before any flow is switched.
func checkSharedWithDeployer(ctx context.Context, c *Context, items []*flowItem) error {
	// Which connection each reference binds: the deployment settings say,
	// else the target's row (configure without deployment settings).
	flowsByRef := map[string][]string{}
	for _, it := range items {
		if !it.Activate {
			continue
		}
		for _, r := range flowReferences(c, it) {
			key := strings.ToLower(r)
			flowsByRef[key] = append(flowsByRef[key], it.Name)
		}
	}
	if len(flowsByRef) == 0 {
		return nil
	}
	bound := map[string]string{}
	if c.Deployment != nil {
		for _, cr := range c.Deployment.ConnectionReferences {
			if id := strings.TrimSpace(cr.ConnectionID); id != "" {
				bound[strings.ToLower(cr.LogicalName)] = id
			}
		}
	}
	var unknown []string
	for ref := range flowsByRef {
		if bound[ref] == "" {
			unknown = append(unknown, ref)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		rows, err := c.Dataverse.ListConnectionReferences(ctx, unknown...)
		if err != nil {
			return fmt.Errorf("check the flows' connections before turning them on: %w", err)
		}
		for _, r := range rows {
			if r.ConnectionID != "" {
				bound[strings.ToLower(r.LogicalName)] = r.ConnectionID
			}
		}
	}
	flowsByConn := map[string][]string{}
	for ref, flows := range flowsByRef {
		if id := bound[ref]; id != "" {
			flowsByConn[strings.ToLower(id)] = append(flowsByConn[strings.ToLower(id)], flows...)
		}
	}
	if len(flowsByConn) == 0 {
		return nil // unbound references: the activation says which
	}
	conns, err := connections(ctx, c)
	if err != nil {
		return fmt.Errorf("check the flows' connections before turning them on: %w", err)
	}
	envID, err := environmentID(ctx, c)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(flowsByConn))
	for id := range flowsByConn {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var used []*dataverse.Connection
	for _, id := range ids {
		for i := range conns {
			if strings.EqualFold(conns[i].Name, id) {
				used = append(used, &conns[i])
				break
			}
		}
		// A connection not in the list: the settings check or the
		// activation names it.
	}
	// Who the deployer is and whom each connection is shared with are
	// independent reads: ask at once.
	var me *dataverse.SystemUser
	perms := make([][]dataverse.AppPermission, len(used))
	errs := parallel(len(used)+1, c.concurrency(), func(i int) error {
		var err error
		if i == len(used) {
			me, err = deployer(ctx, c)
			return err
		}
		if perms[i], err = c.Dataverse.ConnectionPermissions(ctx, envID, used[i].ConnectorID, used[i].Name); err != nil {
			return fmt.Errorf("check whether connection %s is shared with the deploying identity: %w", used[i].Name, err)
		}
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	var problems []string
	for i, conn := range used {
		shared := strings.EqualFold(conn.CreatedBy.ID, me.ObjectID)
		for _, p := range perms[i] {
			shared = shared || strings.EqualFold(p.Principal.ID, me.ObjectID)
		}
		if shared {
			continue
		}
		owner := conn.CreatedBy.Email
		if owner == "" {
			owner = conn.CreatedBy.ID
		}
		problems = append(problems, fmt.Sprintf("connection %s (%s, owned by %s), used by %s, is not shared with the deploying identity %s: "+
			"have %s share it with %s (Power Apps, Connections, %s, Share, Can use), or bind the connection references to a connection the deploying identity owns",
			conn.Name, connectorName(conn.ConnectorID), owner, flowList(flowsByConn[strings.ToLower(conn.Name)]), deployerName(me),
			owner, deployerName(me), conn.Name))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d connection(s) cannot be used to turn the flows on as the deploying identity, nothing was switched:\n  %s",
			len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// flowReferences are the connection references a flow binds.
func flowReferences(c *Context, it *flowItem) []string {
	if f, ok := solutionFlow(c, it.ID); ok {
		return f.ConnectionReferences
	}
	if it.wf != nil && it.wf.ClientData != "" {
		refs, _, _ := solution.ParseFlowDefinition([]byte(it.wf.ClientData))
		return refs
	}
	return nil
}

func flowList(names []string) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, fmt.Sprintf("%q", n))
		}
	}
	sort.Strings(out)
	if len(out) == 1 {
		return "flow " + out[0]
	}
	return "flows " + strings.Join(out, ", ")
}

func deployerName(me *dataverse.SystemUser) string {
	name := me.FullName
	if name == "" {
		name = me.DomainName
	}
	if me.ApplicationID != "" {
		return fmt.Sprintf("%s (application id %s, object id %s)", name, me.ApplicationID, me.ObjectID)
	}
	return fmt.Sprintf("%s (object id %s)", name, me.ObjectID)
}
