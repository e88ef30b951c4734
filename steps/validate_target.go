package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// ValidateAgainstTarget checks settings against the target environment,
// without changing it: each connection exists there for the right
// connector, and the users and Entra groups named exist. When the
// credential may not read the directory (Graph 403) it says so once, as a
// warning, and goes on. ppalm settings validate adds these to the offline
// problems of settings.Validate.
func ValidateAgainstTarget(ctx context.Context, dv *dataverse.Client, sol *solution.Solution, ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) []settings.Problem {
	return ValidateAgainstKnownTarget(ctx, dv, TargetKnown{}, sol, ds, cds)
}

// TargetKnown is what a caller has already read from the target with the
// same calls the checks make, so they are not made again (the maker's
// Configure page lists the connections for its pickers).
type TargetKnown struct {
	EnvironmentID string
	// Connections is the environment's connection list; nil when not read.
	Connections []dataverse.Connection
}

// ValidateAgainstKnownTarget is ValidateAgainstTarget starting from what
// the caller already read.
func ValidateAgainstKnownTarget(ctx context.Context, dv *dataverse.Client, known TargetKnown, sol *solution.Solution, ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) []settings.Problem {
	c := &Context{Dataverse: dv}
	l := c.look()
	l.envID = known.EnvironmentID
	if known.EnvironmentID != "" && known.Connections != nil {
		l.connections, l.connLoaded = known.Connections, true
	}
	return validateTarget(ctx, c, sol, ds, cds)
}

// validateTarget is ValidateAgainstTarget through c's look-ups, so a
// deployment that checks first asks the target once for each connection
// list and user the later steps need too.
func validateTarget(ctx context.Context, c *Context, sol *solution.Solution, ds *settings.DeploymentSettings, cds *settings.CustomDeploymentSettings) []settings.Problem {
	dv := c.Dataverse
	var out []settings.Problem
	add := func(sev settings.Severity, check, file, entry, component, format string, args ...any) {
		out = append(out, settings.Problem{Severity: sev, Check: check, File: file, Entry: entry, Component: component, Message: fmt.Sprintf(format, args...)})
	}
	env := dv.EnvironmentURL()
	if ds != nil {
		file := deploymentFile(ds)
		connectors := map[string]string{}
		if sol != nil {
			for _, cr := range sol.ConnectionReferences {
				connectors[strings.ToLower(cr.LogicalName)] = cr.ConnectorID
			}
		}
		conns, err := connections(ctx, c)
		if err != nil {
			add(settings.SeverityError, checkTargetLookup, file, "ConnectionReferences", "", "cannot list the connections of %s: %v", env, err)
		}
		for i, cr := range ds.ConnectionReferences {
			id := strings.TrimSpace(cr.ConnectionID)
			if id == "" || err != nil {
				continue
			}
			entry := fmt.Sprintf("ConnectionReferences[%d].ConnectionId", i)
			want := cr.ConnectorID
			if w := connectors[strings.ToLower(cr.LogicalName)]; w != "" {
				want = w
			}
			var found *dataverse.Connection
			for k := range conns {
				if strings.EqualFold(conns[k].Name, id) {
					found = &conns[k]
				}
			}
			switch {
			case found == nil:
				add(settings.SeverityError, "target-connection-missing", file, entry, cr.LogicalName,
					"connection %s does not exist in %s: create it there (or share it with the deploying identity) and put its id here", id, env)
			case want != "" && !strings.EqualFold(connectorName(found.ConnectorID), connectorName(want)):
				add(settings.SeverityError, "target-connection-connector", file, entry, cr.LogicalName,
					"connection %s is for %s but %s needs %s: pick a connection of that connector", id, connectorName(found.ConnectorID), cr.LogicalName, connectorName(want))
			}
			if o := strings.TrimSpace(cr.ConnectionOwner); o != "" {
				if check, msg := checkUser(ctx, c, o); msg != "" {
					add(settings.SeverityError, check, file, fmt.Sprintf("ConnectionReferences[%d].ConnectionOwner", i), cr.LogicalName, "%s", msg)
				}
			}
		}
	}
	if cds == nil {
		return out
	}
	file := settingsFile(cds)
	for i, o := range cds.SolutionComponentOwnershipConfiguration {
		if strings.TrimSpace(o.OwnerEmail) == "" {
			continue
		}
		if check, msg := checkUser(ctx, c, o.OwnerEmail); msg != "" {
			add(settings.SeverityError, check, file, fmt.Sprintf("SolutionComponentOwnershipConfiguration[%d].ownerEmail", i), o.SolutionComponentName, "%s", msg)
		}
	}
	for i, a := range cds.ActivateFlowConfiguration {
		if strings.TrimSpace(a.ActivateAsUser) == "" {
			continue
		}
		if check, msg := checkUser(ctx, c, a.ActivateAsUser); msg != "" {
			add(settings.SeverityError, check, file, fmt.Sprintf("ActivateFlowConfiguration[%d].activateAsUser", i), a.SolutionComponentName, "%s", msg)
		}
	}
	forbidden := false
	group := func(entry, component, id string) {
		if forbidden || !guid.Valid(id) {
			return
		}
		_, err := dv.GraphGroup(ctx, strings.Trim(id, "{}"))
		switch {
		case errors.Is(err, dataverse.ErrDirectoryForbidden):
			forbidden = true
			add(settings.SeverityWarning, "target-directory", file, entry, component,
				"cannot read the directory (Microsoft Graph answered 403): Entra groups were not checked; grant Group.Read.All to check them")
		case errors.Is(err, dataverse.ErrNotFound):
			add(settings.SeverityError, "target-group", file, entry, component, "Entra group %s does not exist: fix the group id", id)
		case err != nil:
			add(settings.SeverityError, checkTargetLookup, file, entry, component, "cannot look up Entra group %s: %v", id, err)
		}
	}
	for i, s := range cds.AadGroupCanvasConfiguration {
		group(fmt.Sprintf("AadGroupCanvasConfiguration[%d].aadGroupId", i), s.CanvasNameInSolution, s.AadGroupID)
	}
	for i, tm := range cds.AadGroupTeamConfiguration {
		group(fmt.Sprintf("AadGroupTeamConfiguration[%d].aadSecurityGroupId", i), tm.AadGroupTeamName, tm.AadSecurityGroupID)
	}
	return out
}

// connectorName is the last segment of a connector id (shared_office365).
func connectorName(id string) string {
	return strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])
}

// checkTargetLookup marks a target check that could not be made: the
// service did not answer (throttled, down, a network fault), which says
// nothing about the settings.
const checkTargetLookup = "target-lookup"

// checkUser returns "" when who is a user of the environment, else the
// check id and what to fix (or what could not be checked).
func checkUser(ctx context.Context, c *Context, who string) (string, string) {
	_, err := resolveUser(ctx, c, strings.TrimSpace(who))
	var unknown *unknownUserError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &unknown):
		return "target-user", err.Error()
	}
	return checkTargetLookup, fmt.Sprintf("cannot look up user %q: %v", strings.TrimSpace(who), err)
}
