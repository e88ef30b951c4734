package steps

import (
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// This file holds what the maker app's Configure Deployment Settings screen
// saves: one environment's two settings files with a #{token}# for every
// value (the Accelerator's grammar, so its pipelines and ppalm's fill them
// from that environment's pipeline variables), committed to the solution's
// branch like any other change.

// GroupTeamSettings is one Entra group team of an environment's
// customDeploymentSettings.json as the Configure screen writes it: the
// team's name, roles and whether roles it does not list are taken away are
// written as they are; its group and business unit are the tokens
// #{groupTeam.<Key>.<Name>}# and #{businessUnit.<Key>.<Name>}#, the
// Accelerator's (Key is a GUID naming the team's configuration, so a
// renamed team keeps its variables apart from another's).
type GroupTeamSettings struct {
	Key               string
	Name              string
	Roles             []string
	SkipRolesDeletion bool
}

// GroupTeamTokens are the tokens of a group team's Entra group and business
// unit.
func GroupTeamTokens(key, name string) (group, businessUnit string) {
	return "groupTeam." + key + "." + name, "businessUnit." + key + "." + name
}

// ConnectorShareToken is the token of the group team a custom connector is
// shared with (the Accelerator's connector.teamname.<name>.<id>).
func ConnectorShareToken(c solution.CustomConnector) string {
	return "connector.teamname." + c.Name + "." + c.ID
}

func token(name string) string { return "#{" + name + "}#" }

// TokenizedEnvironmentSettings returns the two settings files of one
// environment for sol with a token for every value: the entries
// TokenizedDeploymentSettings and `settings create` write (connection
// references and their owners, environment variables, flow activation,
// owners of flows and canvas apps, canvas app shares, flow shares), plus a
// share with a group team for each custom connector and the group teams
// given. The sections the screen does not edit (webhook URLs, plug-in step
// configuration, DefaultEnvironmentVariables) are kept from keep, the
// file as it was.
func TokenizedEnvironmentSettings(sol *solution.Solution, teams []GroupTeamSettings, keep *settings.CustomDeploymentSettings) (*settings.DeploymentSettings, *settings.CustomDeploymentSettings) {
	ds := TokenizedDeploymentSettings(sol)
	cds := settings.NewCustomDeploymentSettings(sol, settings.CustomOptions{Placeholders: true})
	for _, c := range sol.CustomConnectors {
		cds.ConnectorShareWithGroupTeamConfiguration = append(cds.ConnectorShareWithGroupTeamConfiguration, settings.ConnectorShare{
			SolutionComponentName: c.Name, SolutionComponentUniqueName: c.ID, AadGroupTeamName: token(ConnectorShareToken(c)),
		})
	}
	for _, t := range teams {
		group, bu := GroupTeamTokens(t.Key, t.Name)
		roles := append([]string{}, t.Roles...)
		cds.AadGroupTeamConfiguration = append(cds.AadGroupTeamConfiguration, settings.GroupTeam{
			AadGroupTeamName: t.Name, AadSecurityGroupID: token(group), AadGroupTeamBusinessUnitID: token(bu),
			DataverseSecurityRoleNames: roles, SkipRolesDeletion: fmt.Sprint(t.SkipRolesDeletion),
		})
	}
	if keep != nil {
		cds.WebhookUrls, cds.SDKMessages, cds.DefaultEnvironmentVariables = keep.WebhookUrls, keep.SDKMessages, keep.DefaultEnvironmentVariables
	}
	return ds, cds
}

// ActivationOrder returns flows in the order activate-flows turns them on
// when all of them are on: by sortOrder (order gives each flow's, by
// workflow id; a flow without one comes after those with one), except that
// every child flow comes before the flows that call it; then by name. It is
// the order the Configure screen shows.
func ActivationOrder(flows []solution.Flow, order map[string]int) []solution.Flow {
	items := make([]flowWork, len(flows))
	byID := make(map[string]solution.Flow, len(flows))
	for i, f := range flows {
		sort, ok := order[f.ID]
		if !ok {
			sort = math.MaxInt
		}
		items[i] = flowWork{ID: f.ID, Name: f.Name, Activate: true, SortOrder: sort, Children: f.ChildFlows}
		byID[f.ID] = f
	}
	out := make([]solution.Flow, 0, len(flows))
	for _, w := range orderFlows(items) {
		out = append(out, byID[w.ID])
	}
	return out
}

// EnvironmentSettingsCommit says where an environment's settings files go:
// the solution's config folder as read from Branch (ConfigDir, a local
// copy the files are written into), committed and pushed back as
// <Solution>/config.
type EnvironmentSettingsCommit struct {
	Repo, Branch, Base, Token string
	Author                    gitops.Signature
	Message                   string
	Solution, Environment     string
	ConfigDir                 string
	Deployment                *settings.DeploymentSettings
	Custom                    *settings.CustomDeploymentSettings
	Now                       func() time.Time
}

// CommitEnvironmentSettings writes the environment's two settings files
// where the deployment looks them up (settings.Locate: an existing
// deploymentSettings-<env>.json or <env>/deploymentSettings.json keeps its
// place; otherwise config/<env>/), then commits the config folder to the
// branch with gitops.Commit, as `ppalm commit` does: the other files of
// config/ stay as they are.
func CommitEnvironmentSettings(ctx context.Context, c EnvironmentSettingsCommit) (*gitops.CommitResult, error) {
	if err := os.MkdirAll(c.ConfigDir, 0o755); err != nil {
		return nil, err
	}
	loc, err := settings.Locate(c.ConfigDir, c.Environment)
	if err != nil {
		return nil, err
	}
	envDir := filepath.Join(c.ConfigDir, c.Environment)
	place := func(found, name string) string {
		// A shared file (config/<name>.json) serves every environment:
		// this environment gets its own beside it, which Locate finds
		// first, instead of changing the others'.
		shared := strings.EqualFold(filepath.Dir(found), filepath.Clean(c.ConfigDir)) && strings.EqualFold(filepath.Base(found), name)
		if found == "" || shared {
			return filepath.Join(envDir, name)
		}
		return found
	}
	if err := WriteSettings(place(loc.DeploymentSettings, settings.DeploymentSettingsFile), c.Deployment); err != nil {
		return nil, err
	}
	if err := WriteSettings(place(loc.CustomDeploymentSettings, settings.CustomDeploymentSettingsFile), c.Custom); err != nil {
		return nil, err
	}
	res, err := gitops.Commit(ctx, gitops.CommitOptions{
		Repo: c.Repo, Branch: c.Branch, Base: c.Base, Folder: c.ConfigDir, Path: path.Join(c.Solution, ConfigFolder),
		Message: c.Message, Author: c.Author, Push: true, Token: c.Token, Now: c.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("commit the %s settings of %s to %s: %w", c.Environment, c.Solution, c.Branch, err)
	}
	return res, nil
}
