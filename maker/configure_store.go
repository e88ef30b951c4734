package maker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/localvars"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
)

// variableStore is where a profile's deployment reads an environment's
// values: the repository host's pipeline variables (an Azure DevOps
// variable group ppalm-<env>, a GitHub environment's variables and
// secrets) or, for a local profile, the maker's local variable store.
type variableStore struct {
	// Where says it in a maker's words.
	Where string
	// key is how the store compares a token's name with what it holds.
	key  func(token string) string
	list func(ctx context.Context) ([]devops.StoredVariable, error)
	set  func(ctx context.Context, vars []devops.PipelineVariable) error
	del  func(ctx context.Context, tokens []string) error
}

// storedValues lists what the store holds, by key.
func (v *variableStore) storedValues(ctx context.Context) (map[string]devops.StoredVariable, error) {
	list, err := v.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]devops.StoredVariable, len(list))
	for _, sv := range list {
		out[strings.ToUpper(sv.Name)] = sv
	}
	return out, nil
}

// localScope names the repository in the local store: its URL without
// user information, so every copy of the app on the machine finds the same
// values.
func (s *Server) localScope() string { return displayRepo(s.opts.Repo) }

// variables opens the store of profile p's environment env.
func (s *Server) variables(ctx context.Context, p Profile, env string) (*variableStore, error) {
	if p.Host == HostLocal {
		if s.opts.LocalVariables == nil {
			return nil, errors.New("this app has no local variable store for profile " + p.Name)
		}
		st, err := s.opts.LocalVariables()
		if err != nil {
			return nil, fmt.Errorf("open the local variable store: %w", err)
		}
		scope := s.localScope()
		return &variableStore{
			Where: fmt.Sprintf("your variable store on this machine (%s)", st.Path()),
			key:   strings.ToUpper,
			list:  func(context.Context) ([]devops.StoredVariable, error) { return st.Variables(scope, env) },
			set: func(_ context.Context, vars []devops.PipelineVariable) error {
				return st.Set(scope, env, vars)
			},
			del: func(_ context.Context, tokens []string) error { return st.Delete(scope, env, tokens...) },
		}, nil
	}
	c, err := s.repoHost(ctx, p)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("the variables and secrets of GitHub environment %s in %s", env, p.Repository)
	if p.Host == HostAzureDevOps {
		where = fmt.Sprintf("Azure DevOps variable group %s of project %s", devops.VariableGroupName(env), p.Project)
	}
	return &variableStore{
		Where: where,
		key:   func(t string) string { return strings.ToUpper(c.VariableName(t)) },
		list:  func(ctx context.Context) ([]devops.StoredVariable, error) { return c.EnvironmentVariables(ctx, env) },
		set: func(ctx context.Context, vars []devops.PipelineVariable) error {
			return c.SetEnvironmentVariables(ctx, env, vars)
		},
		del: func(ctx context.Context, tokens []string) error {
			return c.DeleteEnvironmentVariables(ctx, env, tokens)
		},
	}, nil
}

// lookup is the #{token}# lookup a deployment of profile p to environment
// env gets when the app runs it: a local profile's values come from the
// local store (its secrets are never printed: the app's deployment log is
// not shown), the others from Options.Variables, what the pipeline would
// have.
func (s *Server) lookup(ctx context.Context, p Profile, env string, sol *solution.Solution) (settings.LookupFunc, error) {
	if p.Host == HostLocal && s.opts.LocalVariables != nil {
		st, err := s.opts.LocalVariables()
		if err != nil {
			return nil, fmt.Errorf("open the local variable store: %w", err)
		}
		l, _, err := st.Lookup(s.localScope(), env)
		return l, err
	}
	if s.opts.Variables == nil {
		return func(string) (string, bool) { return "", false }, nil
	}
	return s.opts.Variables(ctx, env, sol)
}

// openLocalVariables opens the store at path when first asked.
func openLocalVariables(path func() (string, error)) func() (*localvars.Store, error) {
	return func() (*localvars.Store, error) {
		p, err := path()
		if err != nil {
			return nil, err
		}
		return localvars.Open(p)
	}
}
