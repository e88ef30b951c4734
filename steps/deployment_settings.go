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
	sol, err := solution.ReadFile(s.UnmanagedZip)
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
	added := 0
	haveVar := map[string]bool{}
	for _, v := range cur.EnvironmentVariables {
		haveVar[v.SchemaName] = true
	}
	for _, v := range fresh.EnvironmentVariables {
		if !haveVar[v.SchemaName] {
			cur.EnvironmentVariables = append(cur.EnvironmentVariables, v)
			added++
		}
	}
	haveRef := map[string]bool{}
	for _, r := range cur.ConnectionReferences {
		haveRef[r.LogicalName] = true
	}
	for _, r := range fresh.ConnectionReferences {
		if !haveRef[r.LogicalName] {
			cur.ConnectionReferences = append(cur.ConnectionReferences, r)
			added++
		}
	}
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
	added := 0
	have := map[string]bool{}
	for _, f := range cur.ActivateFlowConfiguration {
		have[solution.NormalizeID(f.SolutionComponentUniqueName)] = true
	}
	for _, f := range fresh.ActivateFlowConfiguration {
		if !have[solution.NormalizeID(f.SolutionComponentUniqueName)] {
			cur.ActivateFlowConfiguration = append(cur.ActivateFlowConfiguration, f)
			added++
		}
	}
	owned := map[string]bool{}
	for _, o := range cur.SolutionComponentOwnershipConfiguration {
		owned[o.SolutionComponentName] = true
	}
	for _, o := range fresh.SolutionComponentOwnershipConfiguration {
		if !owned[o.SolutionComponentName] {
			cur.SolutionComponentOwnershipConfiguration = append(cur.SolutionComponentOwnershipConfiguration, o)
			added++
		}
	}
	shared := map[string]bool{}
	for _, a := range cur.AadGroupCanvasConfiguration {
		shared[a.CanvasNameInSolution] = true
	}
	for _, a := range fresh.AadGroupCanvasConfiguration {
		if !shared[a.CanvasNameInSolution] {
			cur.AadGroupCanvasConfiguration = append(cur.AadGroupCanvasConfiguration, a)
			added++
		}
	}
	if added == 0 {
		return 0, nil
	}
	return added, writeSettingsFile(path, cur)
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
