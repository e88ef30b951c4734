package devops

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// PipelineVariable is one value a deployment reads through a #{token}# of
// its settings files: Name is the token's name as the settings file spells
// it; the host stores it under VariableName(Name).
type PipelineVariable struct {
	Name   string
	Value  string
	Secret bool
}

// StoredVariable is a variable as the host reports it. A secret's value
// cannot be read back from either host, so Value is empty when Secret.
type StoredVariable struct {
	Name   string // as the host stores it
	Secret bool
	Value  string
}

// VariableGroupName is the Azure DevOps variable group that holds the
// pipeline variables of a deployment environment. The deployment stage of
// that environment links it (variables: - group: ppalm-<environment>).
func VariableGroupName(environment string) string { return "ppalm-" + environment }

// VariableName is the name this host stores token's value under, spelled
// so the pipeline finds it again through settings' token lookup:
//
//   - GitHub keeps letters, digits and "_" and upper-cases names ("Secret
//     names can only contain alphanumeric characters ([a-z], [A-Z], [0-9])
//     or underscores (_)"; names are case-insensitive), so every other
//     character becomes "_": settings.GitHubName, which the lookup tries.
//   - Azure DevOps variable names "can consist of letters, numbers, ., and
//     _" (Azure Pipelines, Variable naming restrictions); every other
//     character becomes "_". The agent exposes the variable upper-cased
//     with "." as "_", which is again the GitHub spelling, or, when only
//     "." and " " were replaced, the Azure DevOps spelling.
func (c *Client) VariableName(token string) string {
	return hostVariableName(c.cfg.Host, token)
}

func hostVariableName(host Host, token string) string {
	keep := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' ||
			(r == '.' && host == HostAzureDevOps)
	}
	name := strings.Map(func(r rune) rune {
		if keep(r) {
			return r
		}
		return '_'
	}, strings.TrimSpace(token))
	if host == HostGitHub {
		name = strings.ToUpper(name)
	}
	return name
}

// checkVariableName says what is wrong with a stored name, or "".
func checkVariableName(host Host, name string) string {
	switch {
	case name == "":
		return "the name is empty"
	case len(name) > 255:
		return "the name is longer than 255 characters"
	}
	switch host {
	case HostGitHub:
		// GitHub: "must not start with the GITHUB_ prefix", "must not start
		// with a number" (Naming conventions for secrets and configuration
		// variables).
		if strings.HasPrefix(strings.ToUpper(name), "GITHUB_") {
			return "GitHub refuses names starting with GITHUB_"
		}
		if name[0] >= '0' && name[0] <= '9' {
			return "GitHub refuses names starting with a digit"
		}
	case HostAzureDevOps:
		// "Don't use variable prefixes reserved by the system: endpoint,
		// input, secret, path, and securefile. Any variable that begins
		// with one of these strings (regardless of capitalization) won't be
		// available to your tasks and scripts."
		for _, p := range []string{"endpoint", "input", "secret", "path", "securefile"} {
			if strings.HasPrefix(strings.ToLower(name), p) {
				return fmt.Sprintf("Azure Pipelines hides variables whose name starts with %q from tasks", p)
			}
		}
	}
	return ""
}

// maxVariableValue is GitHub's limit on a secret or variable ("Secrets
// can be up to 48 KB in size"; configuration variables likewise).
const maxVariableValue = 48 * 1024

// resolvedVariable is a PipelineVariable with its stored name.
type resolvedVariable struct {
	PipelineVariable
	stored string
}

// resolveVariables maps each token to its stored name and checks them all,
// so one error lists every problem and nothing is sent while any remains.
func resolveVariables(host Host, environment string, vars []PipelineVariable) ([]resolvedVariable, error) {
	var problems []string
	if strings.TrimSpace(environment) == "" {
		problems = append(problems, "the environment name is empty")
	}
	seen := map[string]string{} // folded stored name -> token
	out := make([]resolvedVariable, 0, len(vars))
	for _, v := range vars {
		stored := hostVariableName(host, v.Name)
		if msg := checkVariableName(host, stored); msg != "" {
			problems = append(problems, fmt.Sprintf("variable %q (stored as %q): %s", v.Name, stored, msg))
			continue
		}
		// Both hosts compare names case-insensitively.
		key := strings.ToUpper(stored)
		if prev, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("variables %q and %q would both be stored as %q", prev, v.Name, stored))
			continue
		}
		seen[key] = v.Name
		if host == HostGitHub && len(v.Value) > maxVariableValue {
			problems = append(problems, fmt.Sprintf("variable %q: the value is %d bytes; GitHub stores at most 48 KB (%d bytes)", v.Name, len(v.Value), maxVariableValue))
			continue
		}
		out = append(out, resolvedVariable{PipelineVariable: v, stored: stored})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("set pipeline variables of environment %q: %s", environment, strings.Join(problems, "; "))
	}
	return out, nil
}

// variableHost is what each repository host implements for pipeline
// variables.
type variableHost interface {
	setVariables(ctx context.Context, environment string, vars []resolvedVariable) error
	variables(ctx context.Context, environment string) ([]StoredVariable, error)
	deleteVariables(ctx context.Context, environment string, stored []string) error
}

// SetEnvironmentVariables stores vars as the pipeline variables of a
// deployment environment, where its pipeline reads them: on Azure DevOps in
// the variable group VariableGroupName(environment) of the project (created
// when missing; its other variables are kept), on GitHub as variables and
// secrets of the repository environment (created when missing). A secret
// is never stored as a plain variable: on GitHub it is sealed with the
// environment's public key, on Azure DevOps it is marked isSecret. A name
// that changes kind (plain to secret or back) loses its other kind, so the
// pipeline cannot read a stale value. Every name is checked before anything
// is sent.
func (c *Client) SetEnvironmentVariables(ctx context.Context, environment string, vars []PipelineVariable) error {
	resolved, err := resolveVariables(c.cfg.Host, environment, vars)
	if err != nil {
		return err
	}
	vh, ok := c.host.(variableHost)
	if !ok {
		return fmt.Errorf("set pipeline variables of environment %q: not supported on %s", environment, c.cfg.Host)
	}
	if err := vh.setVariables(ctx, environment, resolved); err != nil {
		return fmt.Errorf("set pipeline variables of environment %q: %w", environment, err)
	}
	return nil
}

// DeleteEnvironmentVariables removes the variables (plain or secret) that
// hold tokens' values from a deployment environment, so its pipeline no
// longer reads them: a setting the maker stopped configuring is then empty
// at deploy time, as the Accelerator's token step leaves an undefined
// variable, instead of keeping an old value. Names that are not stored are
// skipped; the environment's other variables are kept.
func (c *Client) DeleteEnvironmentVariables(ctx context.Context, environment string, tokens []string) error {
	if strings.TrimSpace(environment) == "" {
		return fmt.Errorf("delete pipeline variables: the environment name is empty")
	}
	if len(tokens) == 0 {
		return nil
	}
	vh, ok := c.host.(variableHost)
	if !ok {
		return fmt.Errorf("delete pipeline variables of environment %q: not supported on %s", environment, c.cfg.Host)
	}
	stored := make([]string, 0, len(tokens))
	for _, t := range tokens {
		n := hostVariableName(c.cfg.Host, t)
		if msg := checkVariableName(c.cfg.Host, n); msg != "" {
			return fmt.Errorf("delete pipeline variables of environment %q: variable %q (stored as %q): %s", environment, t, n, msg)
		}
		stored = append(stored, n)
	}
	if err := vh.deleteVariables(ctx, environment, stored); err != nil {
		return fmt.Errorf("delete pipeline variables of environment %q: %w", environment, err)
	}
	return nil
}

// EnvironmentVariables lists the pipeline variables a deployment
// environment has, sorted by name; an environment (or variable group) that
// does not exist yet has none.
func (c *Client) EnvironmentVariables(ctx context.Context, environment string) ([]StoredVariable, error) {
	if strings.TrimSpace(environment) == "" {
		return nil, fmt.Errorf("list pipeline variables: the environment name is empty")
	}
	vh, ok := c.host.(variableHost)
	if !ok {
		return nil, fmt.Errorf("list pipeline variables of environment %q: not supported on %s", environment, c.cfg.Host)
	}
	out, err := vh.variables(ctx, environment)
	if err != nil {
		return nil, fmt.Errorf("list pipeline variables of environment %q: %w", environment, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// MissingVariables returns the tokens among want that environment's stored
// variables do not hold (compared as the host compares names): what the
// Configure page shows as "missing".
func (c *Client) MissingVariables(stored []StoredVariable, want []string) []string {
	have := map[string]bool{}
	for _, s := range stored {
		have[strings.ToUpper(s.Name)] = true
	}
	var missing []string
	for _, t := range want {
		if !have[strings.ToUpper(c.VariableName(t))] {
			missing = append(missing, t)
		}
	}
	return missing
}
