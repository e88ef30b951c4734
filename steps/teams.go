package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
	"github.com/ppalm/ppalm/settings"
)

// Teams creates or updates the Dataverse teams of Entra security groups
// (AadGroupTeamConfiguration) and gives them their security roles: a team is
// found by group id, then by name, else created; missing roles are added;
// with skipRolesDeletion "false" roles not configured are taken away. Every
// role and group is looked up before anything changes, so an unknown role
// changes nothing.
type Teams struct{}

func (Teams) Name() string { return "teams" }

func (Teams) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(c.Custom.AadGroupTeamConfiguration) == 0 {
		return true, "no AadGroupTeamConfiguration"
	}
	return false, ""
}

type teamPlan struct {
	cfg   settings.GroupTeam
	buID  string
	roles []dataverse.Role
}

func (Teams) Run(ctx context.Context, c *Context) error {
	file := settingsFile(c.Custom)
	dv := c.Dataverse
	cfgs := c.Custom.AadGroupTeamConfiguration
	plans := make([]teamPlan, len(cfgs))
	var root string
	errs := parallel(len(cfgs), c.concurrency(), func(i int) error {
		t := cfgs[i]
		where := fmt.Sprintf("AadGroupTeamConfiguration[%d] (team %q)", i, t.AadGroupTeamName)
		if strings.TrimSpace(t.AadGroupTeamName) == "" || !guid.Valid(t.AadSecurityGroupID) {
			return fmt.Errorf("%s in %s: needs aadGroupTeamName and aadSecurityGroupId (an Entra group object id), got %q", where, file, t.AadSecurityGroupID)
		}
		if err := checkGroup(ctx, c, t.AadSecurityGroupID); err != nil {
			return fmt.Errorf("%s in %s: %w", where, file, err)
		}
		bu := strings.TrimSpace(t.AadGroupTeamBusinessUnitID)
		if bu == "" {
			id, err := rootBusinessUnit(ctx, c, &root)
			if err != nil {
				return err
			}
			bu = id
		}
		plans[i] = teamPlan{cfg: t, buID: bu}
		roles := make([]dataverse.Role, len(t.DataverseSecurityRoleNames))
		rerrs := parallel(len(roles), c.concurrency(), func(j int) error {
			name := t.DataverseSecurityRoleNames[j]
			r, err := dv.RoleByName(ctx, name, bu)
			if errors.Is(err, dataverse.ErrNotFound) {
				return fmt.Errorf("%s in %s: security role %q does not exist in business unit %s of %s: fix dataverseSecurityRoleNames or create the role", where, file, name, bu, dv.EnvironmentURL())
			}
			if err != nil {
				return err
			}
			roles[j] = *r
			return nil
		})
		plans[i].roles = roles
		return joinErrors(rerrs)
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	errs = parallel(len(plans), c.concurrency(), func(i int) error {
		msg, err := applyTeam(ctx, c, plans[i])
		if err != nil {
			return fmt.Errorf("team %q: %w", plans[i].cfg.AadGroupTeamName, err)
		}
		c.noteSafe("team %q: %s", plans[i].cfg.AadGroupTeamName, msg)
		return nil
	})
	return joinErrors(errs)
}

// rootBusinessUnit caches the root business unit id in *root (callers run
// concurrently, so it goes through the lookups lock).
func rootBusinessUnit(ctx context.Context, c *Context, root *string) (string, error) {
	l := c.look()
	l.mu.Lock()
	defer l.mu.Unlock()
	if *root == "" {
		bu, err := c.Dataverse.RootBusinessUnit(ctx)
		if err != nil {
			return "", err
		}
		*root = bu.ID
	}
	return *root, nil
}

// checkGroup confirms an Entra group exists (see lookUpGroup: a directory
// the credential may not read is a warning).
func checkGroup(ctx context.Context, c *Context, id string) error {
	_, err := lookUpGroup(ctx, c, id, "the group id")
	return err
}

func applyTeam(ctx context.Context, c *Context, p teamPlan) (string, error) {
	dv := c.Dataverse
	gid := strings.Trim(strings.ToLower(p.cfg.AadSecurityGroupID), "{}")
	var what string
	team, err := dv.TeamByGroupID(ctx, gid)
	existed := err == nil
	if errors.Is(err, dataverse.ErrNotFound) {
		team, err = dv.TeamByName(ctx, p.cfg.AadGroupTeamName)
		existed = err == nil
	}
	switch {
	case existed:
		if team.Name != p.cfg.AadGroupTeamName || !strings.EqualFold(team.BusinessUnitID, p.buID) || team.TeamType != dataverse.TeamTypeEntraGroup {
			if err := dv.UpdateGroupTeam(ctx, team.ID, p.cfg.AadGroupTeamName, gid, p.buID); err != nil {
				return "", err
			}
			what = "updated"
		} else {
			what = "found"
		}
	case errors.Is(err, dataverse.ErrNotFound):
		id, err := dv.CreateGroupTeam(ctx, p.cfg.AadGroupTeamName, gid, p.buID)
		if err != nil {
			return "", err
		}
		team = &dataverse.Team{ID: id, Name: p.cfg.AadGroupTeamName}
		what = "created"
	default:
		return "", err
	}
	have := map[string]bool{}
	var current []dataverse.Role
	if existed {
		if current, err = dv.TeamRoles(ctx, team.ID); err != nil {
			return "", err
		}
		for _, r := range current {
			have[strings.ToLower(r.ID)] = true
		}
	}
	want := map[string]bool{}
	var add []dataverse.Role
	for _, r := range p.roles {
		want[strings.ToLower(r.ID)] = true
		if !have[strings.ToLower(r.ID)] {
			add = append(add, r)
		}
	}
	var remove []dataverse.Role
	if existed && strings.TrimSpace(strings.ToLower(p.cfg.SkipRolesDeletion)) == "false" {
		for _, r := range current {
			if !want[strings.ToLower(r.ID)] {
				remove = append(remove, r)
			}
		}
	}
	errs := parallel(len(add)+len(remove), c.concurrency(), func(i int) error {
		if i < len(add) {
			return dv.AssociateTeamRole(ctx, team.ID, add[i].ID)
		}
		return dv.DisassociateTeamRole(ctx, team.ID, remove[i-len(add)].ID)
	})
	if err := joinErrors(errs); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s; %d role(s) added, %d removed", what, len(add), len(remove)), nil
}
