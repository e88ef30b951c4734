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
	// Gaps says, for each item above in solution order, what to set in
	// which file.
	Gaps []string
}

func (e *IncompleteSettingsError) Error() string {
	return fmt.Sprintf("%s: %d setting(s) missing:\n  %s", fileName(e.File, DeploymentSettingsFile), len(e.Gaps), strings.Join(e.Gaps, "\n  "))
}

// ImportParameters are what an import applies from the deployment
// settings, in solution order.
type ImportParameters struct {
	ConnectionReferences []ConnectionReferenceParameter
	EnvironmentVariables []EnvironmentVariableValueParameter
	// KeptInTarget names the environment variables the settings give no
	// value (the Accelerator's export dropped those whose value was empty)
	// that the target already has a value for: the import leaves that
	// value alone, which is what the Accelerator's deployment did.
	KeptInTarget []string
}

// BuildImportParameters is the one place the import's ComponentParameters
// are decided, from the solution and its (token-filled) deployment
// settings: every connection reference of the solution with its connection,
// then every environment variable that has a value. A connection reference
// without a connection id, a value still holding a #{token}#, or an
// environment variable without a value and without a default or shipped
// value is a gap; all gaps come back as one *IncompleteSettingsError, with
// the parameters of the entries that are fine. Entries for components the
// solution does not have are left out (Validate reports them).
func BuildImportParameters(sol *solution.Solution, ds *DeploymentSettings) (*ImportParameters, error) {
	return BuildImportParametersWith(sol, ds, nil)
}

// BuildImportParametersWith is BuildImportParameters where inTarget (may be
// nil) says whether the target environment already holds a value for an
// environment variable; such a variable without a value in the settings is
// kept (ImportParameters.KeptInTarget), not a gap.
func BuildImportParametersWith(sol *solution.Solution, ds *DeploymentSettings, inTarget func(schemaName string) bool) (*ImportParameters, error) {
	if ds == nil {
		ds = &DeploymentSettings{}
	}
	file := fileName(ds.File, DeploymentSettingsFile)
	out := &ImportParameters{}
	missing := &IncompleteSettingsError{File: ds.File}
	gap := func(format string, args ...any) { missing.Gaps = append(missing.Gaps, fmt.Sprintf(format, args...)) }
	for _, cr := range sol.ConnectionReferences {
		s, ok := findConnectionReference(ds, cr.LogicalName)
		switch {
		case !ok || strings.TrimSpace(s.ConnectionID) == "":
			missing.ConnectionReferences = append(missing.ConnectionReferences, cr.LogicalName)
			gap("connection reference %s is not bound: set ConnectionReferences[].ConnectionId for %s in %s", cr.LogicalName, cr.LogicalName, file)
			continue
		case IsToken(s.ConnectionID):
			missing.Unfilled = append(missing.Unfilled, cr.LogicalName)
			gap("connection reference %s still holds a #{token}#: set the variable it names, or put the connection id in ConnectionReferences[].ConnectionId for %s in %s", cr.LogicalName, cr.LogicalName, file)
			continue
		}
		connector := s.ConnectorID
		if connector == "" {
			connector = cr.ConnectorID
		}
		out.ConnectionReferences = append(out.ConnectionReferences, ConnectionReferenceParameter{
			ODataType: ODataConnectionReference, LogicalName: cr.LogicalName,
			ConnectorID: connector, ConnectionID: strings.TrimSpace(s.ConnectionID),
		})
	}
	for _, ev := range sol.EnvironmentVariables {
		s, ok := findEnvironmentVariable(ds, ev.SchemaName)
		switch {
		case ok && IsToken(s.Value):
			missing.Unfilled = append(missing.Unfilled, ev.SchemaName)
			gap("environment variable %s (%s) still holds a #{token}#: set the variable it names, or put the value in EnvironmentVariables[].Value for %s in %s", ev.SchemaName, ev.TypeName(), ev.SchemaName, file)
		case ok && s.Value != "":
			out.EnvironmentVariables = append(out.EnvironmentVariables, EnvironmentVariableValueParameter{
				ODataType: ODataEnvironmentVariableValue, SchemaName: ev.SchemaName, Value: s.Value,
			})
		case hasFallbackValue(ev):
		case inTarget != nil && inTarget(ev.SchemaName):
			out.KeptInTarget = append(out.KeptInTarget, ev.SchemaName)
		default:
			missing.EnvironmentVariables = append(missing.EnvironmentVariables, ev.SchemaName)
			gap("environment variable %s (%s) has no value: set EnvironmentVariables[].Value for %s in %s (Dataverse refuses an empty value)", ev.SchemaName, ev.TypeName(), ev.SchemaName, file)
		}
	}
	if len(missing.Gaps) > 0 {
		return out, missing
	}
	return out, nil
}

// ComponentParameters is BuildImportParameters as the import's JSON array,
// nil when there is nothing to send.
func ComponentParameters(sol *solution.Solution, ds *DeploymentSettings) (json.RawMessage, error) {
	p, err := BuildImportParameters(sol, ds)
	if err != nil {
		return nil, err
	}
	var params []any
	for _, cr := range p.ConnectionReferences {
		params = append(params, cr)
	}
	for _, ev := range p.EnvironmentVariables {
		params = append(params, ev)
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
