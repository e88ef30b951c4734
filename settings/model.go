package settings

import (
	"bytes"
	"encoding/json"
)

// Conventional file names inside a config directory.
const (
	DeploymentSettingsFile       = "deploymentSettings.json"
	CustomDeploymentSettingsFile = "customDeploymentSettings.json"
)

// DeploymentSettings is deploymentSettings.json: the values the import binds.
type DeploymentSettings struct {
	// File is where the settings were read from ("" when built in memory);
	// problems and errors name it.
	File string `json:"-"`

	EnvironmentVariables []EnvironmentVariableSetting `json:"EnvironmentVariables"`
	ConnectionReferences []ConnectionReferenceSetting `json:"ConnectionReferences"`
}

// EnvironmentVariableSetting is the value of one environment variable.
type EnvironmentVariableSetting struct {
	SchemaName string `json:"SchemaName"`
	Value      string `json:"Value"`
}

// ConnectionReferenceSetting binds one connection reference to a connection.
type ConnectionReferenceSetting struct {
	LogicalName  string `json:"LogicalName"`
	ConnectionID string `json:"ConnectionId"`
	ConnectorID  string `json:"ConnectorId"`
	// ConnectionOwner is the Accelerator's addition: the e-mail or Entra
	// object id of the connection's creator.
	ConnectionOwner string `json:"ConnectionOwner,omitempty"`
}

// CustomDeploymentSettings is customDeploymentSettings.json: what the
// configure steps do after the import.
type CustomDeploymentSettings struct {
	File string `json:"-"`

	ActivateFlowConfiguration                []FlowActivation       `json:"ActivateFlowConfiguration"`
	SolutionComponentOwnershipConfiguration  []ComponentOwnership   `json:"SolutionComponentOwnershipConfiguration"`
	AadGroupCanvasConfiguration              []CanvasAppShare       `json:"AadGroupCanvasConfiguration"`
	AadGroupTeamConfiguration                []GroupTeam            `json:"AadGroupTeamConfiguration"`
	FlowShareWithGroupTeamConfiguration      []FlowShare            `json:"FlowShareWithGroupTeamConfiguration"`
	ConnectorShareWithGroupTeamConfiguration []ConnectorShare       `json:"ConnectorShareWithGroupTeamConfiguration"`
	WebhookUrls                              []WebhookURL           `json:"WebhookUrls"`
	SDKMessages                              []SDKMessageStepConfig `json:"SDKMessages"`
	// DefaultEnvironmentVariables holds hand-written [schema, value] pairs.
	DefaultEnvironmentVariables [][2]string `json:"DefaultEnvironmentVariables,omitempty"`
}

// FlowActivation turns one flow on or off, in sortOrder.
type FlowActivation struct {
	SolutionComponentName string `json:"solutionComponentName"`
	// SolutionComponentUniqueName is the workflow id; the Accelerator
	// tolerates suffixes such as "_1" after it.
	SolutionComponentUniqueName string `json:"solutionComponentUniqueName"`
	// SortOrder is a whole number as text; empty means "after the ordered ones".
	SortOrder string `json:"sortOrder"`
	// Activate is "true" or "false"; empty means true.
	Activate string `json:"activate"`
	// ActivateAsUser is legacy and unused since the Accelerator dropped
	// impersonation; kept so files round-trip.
	ActivateAsUser string `json:"activateAsUser,omitempty"`
}

// Solution component types used by SolutionComponentOwnershipConfiguration.
const (
	ComponentTypeWorkflow  = 29
	ComponentTypeCanvasApp = 300
)

// ComponentOwnership assigns an owner to a flow (29) or canvas app (300).
type ComponentOwnership struct {
	SolutionComponentType       int    `json:"solutionComponentType"`
	SolutionComponentName       string `json:"solutionComponentName"`
	SolutionComponentUniqueName string `json:"solutionComponentUniqueName"`
	OwnerEmail                  string `json:"ownerEmail"`
}

// Canvas app roles a group can be given.
const (
	RoleCanView          = "CanView"
	RoleCanEdit          = "CanEdit"
	RoleCanViewWithShare = "CanViewWithShare"
)

// CanvasAppShare shares a canvas app with an Entra group.
type CanvasAppShare struct {
	AadGroupID           string `json:"aadGroupId"`
	CanvasNameInSolution string `json:"canvasNameInSolution"`
	CanvasDisplayName    string `json:"canvasDisplayName"`
	RoleName             string `json:"roleName"`
}

// GroupTeam is a Dataverse team backed by an Entra security group.
type GroupTeam struct {
	AadGroupTeamName           string   `json:"aadGroupTeamName"`
	AadSecurityGroupID         string   `json:"aadSecurityGroupId"`
	AadGroupTeamBusinessUnitID string   `json:"aadGroupTeamBusinessUnitId"`
	DataverseSecurityRoleNames []string `json:"dataverseSecurityRoleNames"`
	// SkipRolesDeletion is "true" or "false"; only "false" removes roles
	// that are not configured.
	SkipRolesDeletion string `json:"skipRolesDeletion"`
}

// FlowShare grants a group team read access to a flow.
type FlowShare struct {
	SolutionComponentName       string `json:"solutionComponentName"`
	SolutionComponentUniqueName string `json:"solutionComponentUniqueName"`
	AadGroupTeamName            string `json:"aadGroupTeamName"`
}

// ConnectorShare grants a group team read access to a custom connector.
type ConnectorShare struct {
	SolutionComponentName       string `json:"solutionComponentName"`
	SolutionComponentUniqueName string `json:"solutionComponentUniqueName"`
	AadGroupTeamName            string `json:"aadGroupTeamName"`
}

// WebhookURL sets the url of the service endpoint named SchemaName.
type WebhookURL struct {
	SchemaName string `json:"SchemaName"`
	Value      string `json:"Value"`
}

// SDKMessageStepConfig sets a plug-in step's configuration: Config is
// "unsec.<step id>" or "sec.<step id>".
type SDKMessageStepConfig struct {
	Config string `json:"Config"`
	Value  string `json:"Value"`
}

// Marshal writes settings the way the files are committed: two-space
// indentation, no HTML escaping, a final newline. Nil sections are written
// as empty arrays, as pac and the Accelerator do.
func Marshal(v any) ([]byte, error) {
	switch s := v.(type) {
	case *DeploymentSettings:
		c := *s
		c.EnvironmentVariables = nonNil(c.EnvironmentVariables)
		c.ConnectionReferences = nonNil(c.ConnectionReferences)
		v = &c
	case *CustomDeploymentSettings:
		c := *s
		c.ActivateFlowConfiguration = nonNil(c.ActivateFlowConfiguration)
		c.SolutionComponentOwnershipConfiguration = nonNil(c.SolutionComponentOwnershipConfiguration)
		c.AadGroupCanvasConfiguration = nonNil(c.AadGroupCanvasConfiguration)
		c.AadGroupTeamConfiguration = nonNil(c.AadGroupTeamConfiguration)
		for i := range c.AadGroupTeamConfiguration {
			t := &c.AadGroupTeamConfiguration[i]
			t.DataverseSecurityRoleNames = nonNil(t.DataverseSecurityRoleNames)
		}
		c.FlowShareWithGroupTeamConfiguration = nonNil(c.FlowShareWithGroupTeamConfiguration)
		c.ConnectorShareWithGroupTeamConfiguration = nonNil(c.ConnectorShareWithGroupTeamConfiguration)
		c.WebhookUrls = nonNil(c.WebhookUrls)
		c.SDKMessages = nonNil(c.SDKMessages)
		v = &c
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
