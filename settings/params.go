package settings

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/solution"
)

// ConnectionReferenceParameter is a connection reference element of the
// import's ComponentParameters.
type ConnectionReferenceParameter struct {
	ODataType   string `json:"@odata.type"`
	LogicalName string `json:"connectionreferencelogicalname"`
	DisplayName string `json:"connectionreferencedisplayname"`
	Description string `json:"description"`
	ConnectorID string `json:"connectorid"`
	// ConnectionID is the connection's name in the Power Apps resource provider.
	ConnectionID string `json:"connectionid"`
}

// EnvironmentVariableValueParameter is an environment variable value
// element of the import's ComponentParameters.
type EnvironmentVariableValueParameter struct {
	ODataType  string `json:"@odata.type"`
	SchemaName string `json:"schemaname"`
	Value      string `json:"value"`
}

// OData types of ComponentParameters elements.
const (
	ODataConnectionReference      = "Microsoft.Dynamics.CRM.connectionreference"
	ODataEnvironmentVariableValue = "Microsoft.Dynamics.CRM.environmentvariablevalue"
)

// IncompleteSettingsError names every connection reference and environment
// variable of the solution the settings leave without a value.
type IncompleteSettingsError struct {
	File                 string
	ConnectionReferences []string
	EnvironmentVariables []string
	// Unfilled lists values that still hold a #{token}#.
	Unfilled []string
}

func (e *IncompleteSettingsError) Error() string {
	file := e.File
	if file == "" {
		file = DeploymentSettingsFile
	}
	var parts []string
	if len(e.ConnectionReferences) > 0 {
		parts = append(parts, "connection references without a ConnectionId: "+strings.Join(e.ConnectionReferences, ", "))
	}
	if len(e.EnvironmentVariables) > 0 {
		parts = append(parts, "environment variables without a Value (and no default): "+strings.Join(e.EnvironmentVariables, ", "))
	}
	if len(e.Unfilled) > 0 {
		parts = append(parts, "values still holding a #{token}#: "+strings.Join(e.Unfilled, ", "))
	}
	return file + ": " + strings.Join(parts, "; ")
}

// ComponentParameters builds the import's ComponentParameters array from
// the solution and its (token-filled) deployment settings: every connection
// reference of the solution with its connection, then every environment
// variable that has a value. It returns nil when there is nothing to send.
// Entries for components the solution does not have are left out (Validate
// reports them).
func ComponentParameters(sol *solution.Solution, ds *DeploymentSettings) (json.RawMessage, error) {
	if ds == nil {
		ds = &DeploymentSettings{}
	}
	var params []any
	missing := &IncompleteSettingsError{File: ds.File}
	for _, cr := range sol.ConnectionReferences {
		s, ok := findConnectionReference(ds, cr.LogicalName)
		switch {
		case !ok || strings.TrimSpace(s.ConnectionID) == "":
			missing.ConnectionReferences = append(missing.ConnectionReferences, cr.LogicalName)
			continue
		case IsToken(s.ConnectionID):
			missing.Unfilled = append(missing.Unfilled, cr.LogicalName)
			continue
		}
		connector := s.ConnectorID
		if connector == "" {
			connector = cr.ConnectorID
		}
		params = append(params, ConnectionReferenceParameter{
			ODataType: ODataConnectionReference, LogicalName: cr.LogicalName,
			ConnectorID: connector, ConnectionID: strings.TrimSpace(s.ConnectionID),
		})
	}
	for _, ev := range sol.EnvironmentVariables {
		s, ok := findEnvironmentVariable(ds, ev.SchemaName)
		switch {
		case ok && IsToken(s.Value):
			missing.Unfilled = append(missing.Unfilled, ev.SchemaName)
		case ok && s.Value != "":
			params = append(params, EnvironmentVariableValueParameter{
				ODataType: ODataEnvironmentVariableValue, SchemaName: ev.SchemaName, Value: s.Value,
			})
		case !hasFallbackValue(ev):
			missing.EnvironmentVariables = append(missing.EnvironmentVariables, ev.SchemaName)
		}
	}
	if len(missing.ConnectionReferences)+len(missing.EnvironmentVariables)+len(missing.Unfilled) > 0 {
		return nil, missing
	}
	if len(params) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode component parameters: %w", err)
	}
	return b, nil
}

// hasFallbackValue says whether the variable keeps a value when the
// settings give none: its default, or a current value the solution ships.
func hasFallbackValue(ev solution.EnvironmentVariable) bool {
	return ev.DefaultValue != "" || (ev.HasCurrentValue && ev.CurrentValue != "")
}

func findConnectionReference(ds *DeploymentSettings, logicalName string) (ConnectionReferenceSetting, bool) {
	var fold *ConnectionReferenceSetting
	for i, s := range ds.ConnectionReferences {
		if s.LogicalName == logicalName {
			return s, true
		}
		if fold == nil && strings.EqualFold(s.LogicalName, logicalName) {
			fold = &ds.ConnectionReferences[i]
		}
	}
	if fold != nil {
		return *fold, true
	}
	return ConnectionReferenceSetting{}, false
}

func findEnvironmentVariable(ds *DeploymentSettings, schemaName string) (EnvironmentVariableSetting, bool) {
	var fold *EnvironmentVariableSetting
	for i, s := range ds.EnvironmentVariables {
		if s.SchemaName == schemaName {
			return s, true
		}
		if fold == nil && strings.EqualFold(s.SchemaName, schemaName) {
			fold = &ds.EnvironmentVariables[i]
		}
	}
	if fold != nil {
		return *fold, true
	}
	return EnvironmentVariableSetting{}, false
}
