package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ppalm/ppalm/dataverse"
)

func init() { register("whoami", newWhoamiCmd) }

// whoamiDoc is whoami's --output json document.
type whoamiDoc struct {
	Environment      string `json:"environment" doc:"the environment URL"`
	EnvironmentName  string `json:"environmentName" doc:"the organization's display name"`
	EnvironmentID    string `json:"environmentId" doc:"the Power Platform environment id"`
	OrganizationID   string `json:"organizationId"`
	UserID           string `json:"userId" doc:"the systemuser ppalm acts as"`
	UserName         string `json:"userName" doc:"its full name"`
	UserPrincipal    string `json:"userPrincipal" doc:"its sign-in name (domainname): an application user's is its client id"`
	ObjectID         string `json:"objectId,omitempty" doc:"its Entra object id"`
	BusinessUnitID   string `json:"businessUnitId"`
	BusinessUnitName string `json:"businessUnitName"`
}

func newWhoamiCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use: "whoami",
		Example: `  ppalm whoami --environment https://contoso-dev.crm.dynamics.com
  # the emulator (ppalm emulator) needs no credentials
  ppalm whoami --environment http://127.0.0.1:8080/dev`,
		Short: "Show who ppalm signs in as and the environment's ids",
		Args:  cobra.NoArgs,
	}
	out := addOutputFlag(cmd, whoamiDoc{})
	return withConnection(f, cmd, func(ctx context.Context, c *dataverse.Client) error {
		who, err := c.WhoAmI(ctx)
		if err != nil {
			return err
		}
		org, err := c.Organization(ctx)
		if err != nil {
			return err
		}
		d := whoamiDoc{Environment: c.EnvironmentURL(), EnvironmentName: org.FriendlyName, EnvironmentID: org.EnvironmentID,
			OrganizationID: who.OrganizationID, UserID: who.UserID, BusinessUnitID: who.BusinessUnitID}
		// Names, not only ids: what a person recognises. Neither look-up
		// may fail the command, which has answered its question.
		if u, err := c.SystemUserByID(ctx, who.UserID); err == nil {
			d.UserName, d.UserPrincipal, d.ObjectID = u.FullName, u.DomainName, u.ObjectID
		} else {
			f.reporter().Warning(fmt.Sprintf("cannot read the user's name: %v", err), "")
		}
		if bu, err := c.BusinessUnitByID(ctx, who.BusinessUnitID); err == nil {
			d.BusinessUnitName = bu.Name
		} else {
			f.reporter().Warning(fmt.Sprintf("cannot read the business unit's name: %v", err), "")
		}
		if out.json() {
			return f.writeJSON(d)
		}
		named := func(name, id string) string {
			if name == "" {
				return id
			}
			return name + " (" + id + ")"
		}
		user := d.UserName
		if d.UserPrincipal != "" && d.UserPrincipal != d.UserName {
			user += " <" + d.UserPrincipal + ">"
		}
		fmt.Fprintf(f.Stdout, "environment:     %s\n", named(d.EnvironmentName, d.Environment))
		fmt.Fprintf(f.Stdout, "environment id:  %s\n", d.EnvironmentID)
		fmt.Fprintf(f.Stdout, "organization id: %s\n", d.OrganizationID)
		fmt.Fprintf(f.Stdout, "user:            %s\n", named(user, d.UserID))
		fmt.Fprintf(f.Stdout, "business unit:   %s\n", named(d.BusinessUnitName, d.BusinessUnitID))
		return nil
	})
}
