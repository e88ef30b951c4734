package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/solution"
)

// FlowResult is one line of the activate-flows report.
type FlowResult struct {
	ID   string
	Name string
	// On is the state asked for.
	On bool
	// As is who switched it: the e-mail or object id of the impersonated
	// user, "" for the deploying identity.
	As string
	// Passes is the pass that switched it (0: it already was in that state).
	Passes int
	Err    error
}

func (r FlowResult) String() string {
	state := "off"
	if r.On {
		state = "on"
	}
	as := r.As
	if as == "" {
		as = "the deploying identity"
	}
	switch {
	case r.Err != nil:
		return fmt.Sprintf("✗ %s → %s as %s: %v", r.Name, state, as, r.Err)
	case r.Passes == 0:
		return fmt.Sprintf("= %s already %s", r.Name, state)
	}
	return fmt.Sprintf("✓ %s → %s as %s (pass %d)", r.Name, state, as, r.Passes)
}

// Who turns flows on (--activate-as).
const (
	// ActivateAsServicePrincipal turns flows on as the deploying identity,
	// after checking that every connection the flows bind is shared with
	// it: the way the service supports, and the Accelerator's since 2023
	// (coe-alm-accelerator-templates PR #306, coe-starter-kit #5772).
	ActivateAsServicePrincipal = "service-principal"
	// ActivateAsConnectionOwner impersonates the connections' owner
	// (CallerObjectId), as the Accelerator did before 2023. The service no
	// longer supports it (coe-starter-kit #3306, #5772); kept for tenants
	// where it still works.
	ActivateAsConnectionOwner = "connection-owner"
)

// ParseActivateAs reads --activate-as ("" is service-principal).
func ParseActivateAs(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", ActivateAsServicePrincipal:
		return ActivateAsServicePrincipal, nil
	case ActivateAsConnectionOwner:
		return v, nil
	}
	return "", fmt.Errorf("--activate-as %q: expected %s or %s", s, ActivateAsServicePrincipal, ActivateAsConnectionOwner)
}

// ActivateFlows turns the solution's flows on or off: those in
// ActivateFlowConfiguration, the flows given an owner, and the flows whose
// connection references are all bound. Flows are turned on as the
// deploying identity, once every connection they bind is shared with it
// (checked before any flow is switched; a connection that is not fails the
// step naming it, its owner and how to share it). With --activate-as
// connection-owner a flow is instead switched as the user configured for
// it (activateAsUser, then its connections' owner, then its configured
// owner) through CallerObjectId, which the service no longer supports.
//
// Order. The serial switching order is sortOrder (none: after every
// numbered flow), then name, moved only where a dependency demands it: a
// child flow goes on before the parents that call it, a parent goes off
// before its children (orderFlows). Up to Context.Concurrency flows are
// switched at once, and a flow starts only once these have finished:
//   - its children being turned on (its parents being turned off);
//   - every flow ahead of it with a different sortOrder: flows of different
//     sort orders never overlap and keep the serial order between them;
//     flows of one sortOrder (or all without one) go together.
//
// With Concurrency 1 the flows go one by one in the serial order.
//
// Passes repeat until one changes nothing; a flow that failed is retried in
// the next pass. Any flow still failing fails the step. The per-flow report
// follows the serial order, whatever order the calls finished in.
type ActivateFlows struct{}

func (ActivateFlows) Name() string { return "activate-flows" }

func (ActivateFlows) Skip(c *Context) (bool, string) {
	if c.SkipActivation {
		return true, c.accelerated("EnableFlows", "flow activation was asked to be skipped")
	}
	if c.Custom == nil && c.Deployment == nil {
		return true, "no settings"
	}
	return false, ""
}

type flowItem struct {
	flowWork
	as       string // who, as configured
	asObject string // their Entra object id
	ownerCfg string
	where    string
	wf       *dataverse.Workflow
}

func (ActivateFlows) Run(ctx context.Context, c *Context) error {
	items, err := flowWorkList(ctx, c)
	if err != nil {
		return err
	}
	dv := c.Dataverse
	impersonate := c.ActivateAs == ActivateAsConnectionOwner
	if !impersonate {
		var ignored []string
		for _, it := range items {
			if it.as != "" {
				ignored = append(ignored, it.where)
				it.as = ""
			}
		}
		if len(ignored) > 0 {
			c.warnOnce(fmt.Sprintf("activateAsUser is ignored (%s): flows are turned on as the deploying identity, since the service no longer supports turning them on as another user; --activate-as connection-owner tries it anyway",
				strings.Join(ignored, "; ")))
		}
	}
	// Read every flow (state, definition) and resolve who switches it,
	// concurrently: these are independent reads.
	errs := parallel(len(items), c.concurrency(), func(i int) error {
		it := items[i]
		w, err := getFlow(ctx, c, it.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", it.where, err)
		}
		it.wf = w
		if it.Name == "" {
			it.Name = w.Name
		}
		if it.Children == nil {
			if f, ok := solutionFlow(c, it.ID); ok {
				it.Children = f.ChildFlows
			} else if w.ClientData != "" {
				_, it.Children, _ = solution.ParseFlowDefinition([]byte(w.ClientData))
			}
		}
		if impersonate && it.Activate && it.as == "" {
			it.as, err = connectionOwner(ctx, c, it, w)
			if err != nil {
				return fmt.Errorf("%s: %w", it.where, err)
			}
			if it.as == "" {
				it.as = it.ownerCfg
			}
		}
		if it.Activate && it.as != "" {
			if guid.Valid(it.as) {
				it.asObject = strings.ToLower(strings.Trim(it.as, "{}"))
				// The report names the user, not the object id, when the
				// target knows them; it is only a name, so a failed
				// look-up keeps the id.
				if u, err := resolveUser(ctx, c, it.asObject); err == nil {
					if name := firstNonEmpty(u.DomainName, u.Email, u.FullName); name != "" {
						it.as = name
					}
				}
			} else {
				u, err := resolveUser(ctx, c, it.as)
				if err != nil {
					return fmt.Errorf("%s: activate as: %w", it.where, err)
				}
				if u.ObjectID == "" {
					return fmt.Errorf("%s: user %q has no Entra object id to act as", it.where, it.as)
				}
				it.asObject = u.ObjectID
			}
		}
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}

	works := make([]flowWork, len(items))
	byID := map[string]*flowItem{}
	for i, it := range items {
		works[i] = it.flowWork
		byID[it.ID] = it
	}
	results := map[string]*FlowResult{}
	var pending []*flowItem
	var order []string
	for _, w := range orderFlows(works) {
		it := byID[w.ID]
		order = append(order, w.ID)
		r := &FlowResult{ID: it.ID, Name: it.Name, On: it.Activate}
		if it.Activate {
			r.As = it.as
		}
		results[it.ID] = r
		if it.wf.On() != it.Activate {
			pending = append(pending, it)
		}
	}
	if !impersonate {
		if err := checkSharedWithDeployer(ctx, c, pending); err != nil {
			return err
		}
	}
	for pass := 1; len(pending) > 0; pass++ {
		// pending keeps the switching order; each call writes only its
		// own result and failed slot.
		failed := make([]bool, len(pending))
		work := make([]flowWork, len(pending))
		for i, it := range pending {
			work[i] = it.flowWork
		}
		switchInOrder(work, c.concurrency(), func(i int) {
			it := pending[i]
			client := dv
			if impersonate && it.Activate && it.asObject != "" {
				client = dv.Impersonate(it.asObject)
			}
			r := results[it.ID]
			if err := client.SetWorkflowState(ctx, it.ID, it.Activate); err != nil {
				r.Err, failed[i] = activationHint(err, c), true
				return
			}
			r.Err, r.Passes = nil, pass
		})
		var next []*flowItem
		for i, it := range pending {
			var perm *permanentError
			if failed[i] && !errors.As(results[it.ID].Err, &perm) {
				next = append(next, it)
			}
		}
		if len(next) == len(pending) {
			break // a pass that changes nothing ends the loop
		}
		pending = next
	}
	var failed []string
	for _, id := range order {
		r := results[id]
		c.Flows = append(c.Flows, *r)
		c.Note("%s", r)
		if r.Err != nil {
			failed = append(failed, r.String())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d flow(s) could not be switched:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// solutionFlow finds a flow in the zip's model, when there is one.
func solutionFlow(c *Context, id string) (solution.Flow, bool) {
	if c.Solution == nil {
		return solution.Flow{}, false
	}
	return c.Solution.Flow(id)
}

// flowWorkList builds the flows to switch, first match per flow wins:
// ActivateFlowConfiguration, then the owned flows, then the flows whose
// connection references are all bound by the deployment settings.
func flowWorkList(ctx context.Context, c *Context) ([]*flowItem, error) {
	file := settingsFile(c.Custom)
	var items []*flowItem
	seen := map[string]*flowItem{}
	var problems []error
	owners := map[string]string{}
	if c.Custom != nil {
		for _, o := range c.Custom.SolutionComponentOwnershipConfiguration {
			if id, ok := guid.Leading(o.SolutionComponentUniqueName); ok && o.SolutionComponentType == 29 && strings.TrimSpace(o.OwnerEmail) != "" {
				owners[id] = strings.TrimSpace(o.OwnerEmail)
			}
		}
		for i, a := range c.Custom.ActivateFlowConfiguration {
			where := fmt.Sprintf("ActivateFlowConfiguration[%d] (%s) in %s", i, a.SolutionComponentName, file)
			id, _ := guid.Leading(a.SolutionComponentUniqueName)
			if id == "" {
				problems = append(problems, fmt.Errorf("%s: solutionComponentUniqueName %q: expected the flow's workflow id", where, a.SolutionComponentUniqueName))
				continue
			}
			on := true
			switch strings.ToLower(strings.TrimSpace(a.Activate)) {
			case "", "true":
			case "false":
				on = false
			default:
				problems = append(problems, fmt.Errorf("%s: activate %q: expected true or false", where, a.Activate))
				continue
			}
			order := noSortOrder
			if s := strings.TrimSpace(a.SortOrder); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					problems = append(problems, fmt.Errorf("%s: sortOrder %q: expected a whole number", where, a.SortOrder))
					continue
				}
				order = n
			}
			if seen[id] != nil {
				continue
			}
			it := &flowItem{flowWork: flowWork{ID: id, Name: a.SolutionComponentName, Activate: on, SortOrder: order},
				as: strings.TrimSpace(a.ActivateAsUser), ownerCfg: owners[id], where: where}
			seen[id] = it
			items = append(items, it)
		}
		for i, o := range c.Custom.SolutionComponentOwnershipConfiguration {
			id, _ := guid.Leading(o.SolutionComponentUniqueName)
			if o.SolutionComponentType != 29 || id == "" || owners[id] == "" || seen[id] != nil {
				continue
			}
			it := &flowItem{flowWork: flowWork{ID: id, Name: o.SolutionComponentName, Activate: true, SortOrder: noSortOrder},
				ownerCfg: owners[id], where: fmt.Sprintf("SolutionComponentOwnershipConfiguration[%d] (%s) in %s", i, o.SolutionComponentName, file)}
			seen[id] = it
			items = append(items, it)
		}
	}
	if err := joinErrors(problems); err != nil {
		return nil, err
	}
	if c.Deployment != nil && c.Solution != nil {
		bound := map[string]bool{}
		for _, cr := range c.Deployment.ConnectionReferences {
			if strings.TrimSpace(cr.ConnectionID) != "" {
				bound[strings.ToLower(cr.LogicalName)] = true
			}
		}
		for _, f := range c.Solution.CloudFlows() {
			if seen[f.ID] != nil || len(f.ConnectionReferences) == 0 {
				continue
			}
			all := true
			for _, r := range f.ConnectionReferences {
				all = all && bound[strings.ToLower(r)]
			}
			if !all {
				continue
			}
			it := &flowItem{flowWork: flowWork{ID: f.ID, Name: f.Name, Activate: true, SortOrder: noSortOrder, Children: f.ChildFlows},
				where: fmt.Sprintf("flow %q (its connection references are bound in %s)", f.Name, deploymentFile(c.Deployment))}
			seen[f.ID] = it
			items = append(items, it)
		}
	}
	return items, nil
}

// connectionOwner picks who can use a flow's connections: the
// ConnectionOwner of its first connection reference that has one, else the
// creator of the bound connection (Power Apps API).
func connectionOwner(ctx context.Context, c *Context, it *flowItem, w *dataverse.Workflow) (string, error) {
	if c.Deployment == nil {
		return "", nil
	}
	var refs []string
	if f, ok := solutionFlow(c, it.ID); ok {
		refs = f.ConnectionReferences
	} else if w.ClientData != "" {
		refs, _, _ = solution.ParseFlowDefinition([]byte(w.ClientData))
	}
	byName := map[string]int{}
	for i, cr := range c.Deployment.ConnectionReferences {
		byName[strings.ToLower(cr.LogicalName)] = i
	}
	var connIDs []string
	for _, r := range refs {
		i, ok := byName[strings.ToLower(r)]
		if !ok {
			continue
		}
		cr := c.Deployment.ConnectionReferences[i]
		if o := strings.TrimSpace(cr.ConnectionOwner); o != "" {
			return o, nil
		}
		if id := strings.TrimSpace(cr.ConnectionID); id != "" {
			connIDs = append(connIDs, id)
		}
	}
	if len(connIDs) == 0 {
		return "", nil
	}
	conns, err := connections(ctx, c)
	if err != nil {
		return "", fmt.Errorf("find the creator of connection %s: %w", connIDs[0], err)
	}
	for _, id := range connIDs {
		for _, cn := range conns {
			if strings.EqualFold(cn.Name, id) && cn.CreatedBy.ID != "" {
				return cn.CreatedBy.ID, nil
			}
		}
	}
	return "", nil
}

var missingConnRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`logical name '([^']+)'`) })

// activationHint adds what to do to the service's activation errors.
func activationHint(err error, c *Context) error {
	msg := err.Error()
	file := deploymentFile(c.Deployment)
	switch {
	case strings.Contains(msg, "XrmConnectionReferenceMissingConnection"):
		name := "its connection reference"
		if m := missingConnRE().FindStringSubmatch(msg); m != nil {
			name = m[1]
		}
		return fmt.Errorf("connection reference %s is not bound: set ConnectionReferences[].ConnectionId for %s in %s (%w)", name, name, file, err)
	case strings.Contains(msg, "ImpersonatedActivationNotSupported"):
		return &permanentError{fmt.Errorf("the service does not turn flows on as another user: drop --activate-as connection-owner, share the flow's connections with the deploying identity and deploy again (%w)", err)}
	case strings.Contains(msg, "ConnectionAuthorizationFailed") && c.ActivateAs == ActivateAsConnectionOwner:
		return fmt.Errorf("the user it was turned on as may not use the flow's connections: set ConnectionOwner of its connection references in %s, or share the connections with the deploying identity and drop --activate-as connection-owner (%w)", file, err)
	case strings.Contains(msg, "ConnectionAuthorizationFailed"):
		return fmt.Errorf("the deploying identity may not use the flow's connections: have each connection's owner share it with the deploying identity (Power Apps, Connections, Share), or bind the connection references in %s to connections it owns (%w)", file, err)
	case strings.Contains(msg, "ChildFlowUnsupportedForInvokerConnections"):
		return &permanentError{fmt.Errorf("a child flow it calls takes its connections from the run-only user, and child flows run with embedded connections only: in the child flow's Run only users settings, set each connection to a specific connection instead of \"Provided by run-only user\", export the solution again, and redeploy; retrying does not help (%w)", err)}
	case strings.Contains(msg, "ChildFlowNeverPublished"), strings.Contains(msg, "ChildFlowUnpublished"):
		return fmt.Errorf("a child flow it calls has never been turned on: turn the child on first (list it before its parent in ActivateFlowConfiguration) (%w)", err)
	}
	return err
}

// permanentError is an activation failure another pass cannot fix.
type permanentError struct{ error }

func (e *permanentError) Unwrap() error { return e.error }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
