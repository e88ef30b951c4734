package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
)

// teamShare is one entry of FlowShareWithGroupTeamConfiguration or
// ConnectorShareWithGroupTeamConfiguration: a record to share read-only
// with a group team.
type teamShare struct {
	where    string // section[i] (flow "x") in file
	name     string // solutionComponentName, for messages
	uniqueID string // solutionComponentUniqueName: the record id
	team     string // aadGroupTeamName
}

// shareKind is what differs between sharing flows and custom connectors.
type shareKind struct {
	entity string // workflow or connector
	noun   string // flow or custom connector
	// exists reads the record; an error wrapping dataverse.ErrNotFound
	// means it is not in the environment.
	exists func(ctx context.Context, dv *dataverse.Client, id string) error
}

// configuredTeamShares drops entries without a team: settings create writes
// an entry per flow, and an empty team means "not shared".
func configuredTeamShares(section, noun, file string, n int, entry func(i int) (name, uniqueID, team string)) []teamShare {
	var out []teamShare
	for i := 0; i < n; i++ {
		name, id, team := entry(i)
		if strings.TrimSpace(team) == "" {
			continue
		}
		out = append(out, teamShare{where: fmt.Sprintf("%s[%d] (%s %q) in %s", section, i, noun, name, file),
			name: name, uniqueID: id, team: strings.TrimSpace(team)})
	}
	return out
}

// shareWithTeams looks up every team and record first, so a typo changes
// nothing, then grants each team read access with GrantAccess. Every
// failure names the entry, the team or record, and what to fix (the
// Accelerator swallowed flow-share errors).
func shareWithTeams(ctx context.Context, c *Context, kind shareKind, shares []teamShare) error {
	dv := c.Dataverse
	var mu sync.Mutex
	teams := map[string]*dataverse.Team{}
	teamIDs := make([]string, len(shares))
	recordIDs := make([]string, len(shares))
	errs := parallel(len(shares), c.concurrency(), func(i int) error {
		s := shares[i]
		id, _ := guid.Leading(s.uniqueID)
		if id == "" {
			return fmt.Errorf("%s: solutionComponentUniqueName %q: expected the %s's id (a GUID)", s.where, s.uniqueID, kind.noun)
		}
		key := strings.ToLower(s.team)
		mu.Lock()
		team, known := teams[key]
		mu.Unlock()
		if !known {
			t, err := dv.TeamByName(ctx, s.team)
			if errors.Is(err, dataverse.ErrNotFound) {
				return fmt.Errorf("%s: team %q does not exist in %s: fix aadGroupTeamName or create the team (AadGroupTeamConfiguration, step teams)", s.where, s.team, dv.EnvironmentURL())
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.where, err)
			}
			mu.Lock()
			teams[key] = t
			mu.Unlock()
			team = t
		}
		err := kind.exists(ctx, dv, id)
		if errors.Is(err, dataverse.ErrNotFound) {
			return fmt.Errorf("%s: %s %q (%s) is not in %s: fix solutionComponentUniqueName or import the solution first", s.where, kind.noun, s.name, id, dv.EnvironmentURL())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.where, err)
		}
		teamIDs[i], recordIDs[i] = team.ID, id
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	errs = parallel(len(shares), c.concurrency(), func(i int) error {
		s := shares[i]
		err := dv.GrantAccess(ctx, dataverse.EntityRef{Entity: kind.entity, ID: recordIDs[i]},
			dataverse.EntityRef{Entity: "team", ID: teamIDs[i]}, dataverse.AccessReadAccess)
		if err != nil {
			return fmt.Errorf("%s: share %s %q with team %q: %w", s.where, kind.noun, s.name, s.team, err)
		}
		c.noteSafe("%s %q shared with team %q (read)", kind.noun, s.name, s.team)
		return nil
	})
	return joinErrors(errs)
}
