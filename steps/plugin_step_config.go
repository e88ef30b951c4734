package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/guid"
)

// PluginStepConfig sets the configuration of plug-in steps (SDKMessages:
// Config "unsec.<step id>" sets the unsecure configuration, "sec.<step
// id>" the secure one). An import writes the configuration the package
// carries, so this runs after every import. Secure values are masked on
// the host and never reported.
type PluginStepConfig struct{}

func (PluginStepConfig) Name() string { return "plugin-step-config" }

func (PluginStepConfig) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(configuredStepConfigs(c)) == 0 {
		return true, "no SDKMessages with a value"
	}
	return false, ""
}

func configuredStepConfigs(c *Context) []int {
	var out []int
	for i, m := range c.Custom.SDKMessages {
		if strings.TrimSpace(m.Value) != "" {
			out = append(out, i)
		}
	}
	return out
}

type stepConfigPlan struct {
	where  string
	secure bool
	value  string
	step   *dataverse.PluginStep
}

func (PluginStepConfig) Run(ctx context.Context, c *Context) error {
	file := settingsFile(c.Custom)
	dv := c.Dataverse
	idx := configuredStepConfigs(c)
	plans := make([]stepConfigPlan, len(idx))
	errs := parallel(len(idx), c.concurrency(), func(k int) error {
		m := c.Custom.SDKMessages[idx[k]]
		p := stepConfigPlan{where: fmt.Sprintf("SDKMessages[%d] (Config %q) in %s", idx[k], m.Config, file), value: m.Value}
		kind, id, _ := strings.Cut(strings.TrimSpace(m.Config), ".")
		switch strings.ToLower(kind) {
		case "sec":
			p.secure = true
			c.Reporter.SetSecret(m.Value)
		case "unsec":
		default:
			return fmt.Errorf("%s: expected unsec.<plug-in step id> or sec.<plug-in step id>", p.where)
		}
		if !guid.Valid(id) {
			return fmt.Errorf("%s: %q is not a plug-in step id (a GUID)", p.where, id)
		}
		step, err := dv.GetPluginStep(ctx, strings.Trim(id, "{}"))
		if errors.Is(err, dataverse.ErrNotFound) {
			return fmt.Errorf("%s: plug-in step %s does not exist in %s: fix the id in Config or import the solution that registers the step", p.where, id, dv.EnvironmentURL())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p.where, err)
		}
		p.step = step
		plans[k] = p
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	// Serial: an unsec and a sec entry may name the same step, and the
	// secure configuration's link is read from the step.
	for _, p := range plans {
		if p.secure {
			if err := dv.SetPluginStepSecureConfiguration(ctx, p.step, p.value); err != nil {
				return fmt.Errorf("%s: %w", p.where, err)
			}
			c.Note("plug-in step %q: secure configuration set (value not shown)", p.step.Name)
			continue
		}
		if p.step.Configuration == p.value {
			c.Note("plug-in step %q: configuration already set", p.step.Name)
			continue
		}
		if err := dv.SetPluginStepConfiguration(ctx, p.step.ID, p.value); err != nil {
			return fmt.Errorf("%s: %w", p.where, err)
		}
		c.Note("plug-in step %q: configuration set", p.step.Name)
	}
	return nil
}
