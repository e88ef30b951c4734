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

// ShareApps shares canvas apps with Entra groups (AadGroupCanvasConfiguration)
// with the configured role, CanView, CanEdit or CanViewWithShare, sent as
// asked. Each share is read back (allowing it time to show) and the role
// the service really granted is reported: the service answers
// CanViewWithShare with CanView (coe-starter-kit #4345, why the
// Accelerator maps it to CanView before sending), and a role other than
// the one asked is a warning naming the app, the group and both roles, not
// a failed deployment, since no call can make the service grant it. A
// share that never shows is an error.
type ShareApps struct{}

func (ShareApps) Name() string { return "share-apps" }

func (ShareApps) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(configuredShares(c.Custom)) == 0 {
		return true, "no AadGroupCanvasConfiguration with a group"
	}
	return false, ""
}

// configuredShares drops entries whose group and role are both empty: the
// settings file lists every app, and an empty entry means "not shared".
func configuredShares(cds *settings.CustomDeploymentSettings) []int {
	var out []int
	for i, s := range cds.AadGroupCanvasConfiguration {
		if strings.TrimSpace(s.AadGroupID) != "" || strings.TrimSpace(s.RoleName) != "" {
			out = append(out, i)
		}
	}
	return out
}

// canvasRole maps a configured role to the Power Apps API spelling.
func canvasRole(s string) (string, bool) {
	for _, r := range []string{settings.RoleCanView, settings.RoleCanEdit, settings.RoleCanViewWithShare} {
		if strings.EqualFold(strings.TrimSpace(s), r) {
			return r, true
		}
	}
	return "", false
}

type sharePlan struct {
	cfg   settings.CanvasAppShare
	where string
	role  string
	app   *dataverse.CanvasApp
	group dataverse.Principal
	// groupName is the group's display name, when the directory told it.
	groupName string
}

func (ShareApps) Run(ctx context.Context, c *Context) error {
	file := settingsFile(c.Custom)
	dv := c.Dataverse
	envID, err := environmentID(ctx, c)
	if err != nil {
		return err
	}
	idx := configuredShares(c.Custom)
	plans := make([]sharePlan, len(idx))
	errs := parallel(len(idx), c.concurrency(), func(k int) error {
		i := idx[k]
		s := c.Custom.AadGroupCanvasConfiguration[i]
		p := sharePlan{cfg: s, where: fmt.Sprintf("AadGroupCanvasConfiguration[%d] (app %s) in %s", i, s.CanvasNameInSolution, file)}
		role, ok := canvasRole(s.RoleName)
		if !ok {
			return fmt.Errorf("%s: roleName %q: expected CanView, CanEdit or CanViewWithShare", p.where, s.RoleName)
		}
		p.role = role
		if !guid.Valid(s.AadGroupID) {
			return fmt.Errorf("%s: aadGroupId %q: expected an Entra group object id", p.where, s.AadGroupID)
		}
		gid := strings.ToLower(strings.Trim(s.AadGroupID, "{}"))
		p.group = dataverse.Principal{ID: gid, Type: "Group"}
		g, err := lookUpGroup(ctx, c, gid, "aadGroupId")
		if err != nil {
			return fmt.Errorf("%s: %w", p.where, err)
		}
		if g != nil {
			p.group.Email = g.Mail
			p.groupName = g.DisplayName
		}
		app, err := canvasAppByName(ctx, c, s.CanvasNameInSolution, "canvasNameInSolution (the app's unique name) or import the solution first")
		if err != nil {
			return fmt.Errorf("%s: %w", p.where, err)
		}
		p.app = app
		plans[k] = p
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	errs = parallel(len(plans), c.concurrency(), func(k int) error {
		p := plans[k]
		if err := dv.ShareCanvasApp(ctx, envID, p.app.AppName(), p.group, p.role); err != nil {
			return fmt.Errorf("%s: %w", p.where, shareHint(err))
		}
		// The admin API has answered "success" for shares that never took
		// (coe-starter-kit#5611, #7519): read the permissions back.
		perm, err := dv.AppPermissionOf(ctx, envID, p.app.AppName(), p.group.ID)
		if errors.Is(err, dataverse.ErrNotFound) {
			return fmt.Errorf("%s: the share was accepted but group %s is not in the app's permissions (%v): check that the deploying identity is a Power Platform management app", p.where, p.group.ID, err)
		}
		if err != nil {
			return fmt.Errorf("%s: read back the share: %w", p.where, err)
		}
		granted := perm.RoleName
		who := p.group.ID
		if p.groupName != "" {
			who = fmt.Sprintf("%q (%s)", p.groupName, p.group.ID)
		}
		if strings.EqualFold(granted, p.role) {
			c.noteSafe("app %q shared with group %s as %s", p.app.DisplayName, who, granted)
			return nil
		}
		why := ""
		if p.role == settings.RoleCanViewWithShare && strings.EqualFold(granted, settings.RoleCanView) {
			why = " (the service no longer grants CanViewWithShare: members can run the app but not share it on)"
		}
		msg := fmt.Sprintf("app %q shared with group %s: asked %s, the service granted %s%s", p.app.DisplayName, who, p.role, granted, why)
		c.Reporter.Warning(msg, settingsFile(c.Custom))
		c.noteSafe("%s", msg)
		return nil
	})
	return joinErrors(errs)
}

func shareHint(err error) error {
	if dataverse.StatusCode(err) == 403 {
		return fmt.Errorf("%w (register the deploying app as a Power Platform management app: pac admin application register)", err)
	}
	return err
}
