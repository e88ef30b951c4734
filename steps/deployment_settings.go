package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// DeploymentSettingsFiles writes config/<env>/deploymentSettings.json and
// customDeploymentSettings.json for every environment of the profile. Values
// are #{...}# tokens in the Accelerator's grammar, so the pipeline fills
// them from its variables and no secret lands in git. A file that exists is
// kept: only entries for components it does not list yet are added.
type DeploymentSettingsFiles struct{}

func (DeploymentSettingsFiles) Name() string { return "deployment-settings" }
func (DeploymentSettingsFiles) Skip(c *Context) (bool, string) {
	if len(c.Source.Environments) == 0 {
		return true, "no environments named (--environments)"
	}
	return false, ""
}
func (DeploymentSettingsFiles) Run(_ context.Context, c *Context) error {
	s := c.Source
	sol, err := solution.ReadModel(s.UnmanagedZip)
	if err != nil {
		return err
	}
	for _, env := range s.Environments {
		dir := filepath.Join(s.Stage, ConfigFolder, env)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		added, err := mergeDeploymentSettings(filepath.Join(dir, settings.DeploymentSettingsFile), TokenizedDeploymentSettings(sol))
		if err != nil {
			return err
		}
		addedCustom, err := mergeCustomSettings(filepath.Join(dir, settings.CustomDeploymentSettingsFile),
			settings.NewCustomDeploymentSettings(sol, settings.CustomOptions{Placeholders: true}))
		if err != nil {
			return err
		}
		c.Note("config/%s: %s, %s", env, describeAdded(settings.DeploymentSettingsFile, added), describeAdded(settings.CustomDeploymentSettingsFile, addedCustom))
	}
	return nil
}

func describeAdded(file string, n int) string {
	switch n {
	case -1:
		return file + " written"
	case 0:
		return file + " kept"
	}
	return fmt.Sprintf("%s: %d entries added for new components", file, n)
}

// TokenizedDeploymentSettings lists every connection reference and
// environment variable of sol with the Accelerator's tokens as values:
// #{connectionreference.<logical name>}#, #{connectionreference.user.<logical
// name>}# and #{environmentvariable.<schema name>}#.
func TokenizedDeploymentSettings(sol *solution.Solution) *settings.DeploymentSettings {
	ds := settings.NewDeploymentSettings(sol)
	for i := range ds.EnvironmentVariables {
		v := &ds.EnvironmentVariables[i]
		v.Value = "#{environmentvariable." + v.SchemaName + "}#"
	}
	for i := range ds.ConnectionReferences {
		r := &ds.ConnectionReferences[i]
		r.ConnectionID = "#{connectionreference." + r.LogicalName + "}#"
		r.ConnectionOwner = "#{connectionreference.user." + r.LogicalName + "}#"
	}
	return ds
}

// mergeDeploymentSettings writes fresh to path when it is missing (and
// returns -1), else adds the entries of fresh that the file lacks and
// returns how many.
func mergeDeploymentSettings(path string, fresh *settings.DeploymentSettings) (int, error) {
	cur, _, err := settings.LoadDeploymentSettings(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, writeSettingsFile(path, fresh)
	}
	if err != nil {
		return 0, err
	}
	added := appendMissing(&cur.EnvironmentVariables, fresh.EnvironmentVariables,
		func(v settings.EnvironmentVariableSetting) string { return v.SchemaName })
	added += appendMissing(&cur.ConnectionReferences, fresh.ConnectionReferences,
		func(r settings.ConnectionReferenceSetting) string { return r.LogicalName })
	if added == 0 {
		return 0, nil
	}
	return added, writeSettingsFile(path, cur)
}

// mergeCustomSettings does the same for customDeploymentSettings.json, by
// flow id (activation, ownership) and canvas app name (sharing).
func mergeCustomSettings(path string, fresh *settings.CustomDeploymentSettings) (int, error) {
	cur, _, err := settings.LoadCustomDeploymentSettings(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, writeSettingsFile(path, fresh)
	}
	if err != nil {
		return 0, err
	}
	added := appendMissing(&cur.ActivateFlowConfiguration, fresh.ActivateFlowConfiguration,
		func(f settings.FlowActivation) string { return solution.NormalizeID(f.SolutionComponentUniqueName) })
	added += appendMissing(&cur.SolutionComponentOwnershipConfiguration, fresh.SolutionComponentOwnershipConfiguration,
		func(o settings.ComponentOwnership) string { return o.SolutionComponentName })
	added += appendMissing(&cur.AadGroupCanvasConfiguration, fresh.AadGroupCanvasConfiguration,
		func(a settings.CanvasAppShare) string { return a.CanvasNameInSolution })
	if added == 0 {
		return 0, nil
	}
	return added, writeSettingsFile(path, cur)
}

// appendMissing appends to *cur the entries of fresh whose key no entry of
// *cur has, keeping the user's entries as they are, and counts them.
func appendMissing[T any](cur *[]T, fresh []T, key func(T) string) int {
	have := map[string]bool{}
	for _, e := range *cur {
		have[key(e)] = true
	}
	added := 0
	for _, e := range fresh {
		if !have[key(e)] {
			*cur = append(*cur, e)
			added++
		}
	}
	return added
}

func writeSettingsFile(path string, v any) error {
	b, err := settings.Marshal(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
