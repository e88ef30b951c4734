package maker

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/gitops"
)

// SolutionState is what the repository keeps about one solution for the app,
// in .ppalm/solutions/<Solution>/solution.yaml on the default branch: its
// profile and its requests. The app itself keeps nothing, so several copies
// serve one team.
type SolutionState struct {
	Profile  string    `yaml:"profile,omitempty"`
	Requests []Request `yaml:"requests,omitempty"`
}

// Request is one commit, deployment, import or delete a maker asked for.
type Request struct {
	Kind        string    `yaml:"kind"` // commit, deploy, import, delete
	Environment string    `yaml:"environment,omitempty"`
	State       string    `yaml:"state"` // succeeded, failed
	Detail      string    `yaml:"detail,omitempty"`
	Link        string    `yaml:"link,omitempty"`
	By          string    `yaml:"by"`
	When        time.Time `yaml:"when"`
}

// Last returns the newest request, or nil.
func (st *SolutionState) Last() *Request {
	if len(st.Requests) == 0 {
		return nil
	}
	return &st.Requests[len(st.Requests)-1]
}

func statePath(solution string) string { return path.Join(".ppalm", "solutions", solution) }

func (s *Server) readState(ctx context.Context, solution string) (*SolutionState, error) {
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.opts.Token, s.opts.DefaultBranch, statePath(solution))
	if err != nil {
		return &SolutionState{}, nil // no state yet: no profile, no requests
	}
	defer os.RemoveAll(filepath.Dir(dir))
	data, err := os.ReadFile(filepath.Join(dir, "solution.yaml"))
	if err != nil {
		return &SolutionState{}, nil
	}
	var st SolutionState
	if err := yaml.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s/solution.yaml: %w", statePath(solution), err)
	}
	return &st, nil
}

// updateState reads the solution's state, applies change and commits it.
// The state commits are serialised: two at once would race on the branch.
func (s *Server) updateState(ctx context.Context, solution, message string, change func(*SolutionState)) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st, err := s.readState(ctx, solution)
	if err != nil {
		return err
	}
	change(st)
	data, err := yaml.Marshal(st)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ppalm-maker-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "solution.yaml"), data, 0o644); err != nil {
		return err
	}
	_, err = gitops.Commit(ctx, gitops.CommitOptions{
		Repo: s.opts.Repo, Branch: s.opts.DefaultBranch, Base: s.opts.DefaultBranch, Folder: dir, Path: statePath(solution),
		Message: message, Author: s.opts.Maker, Push: true, Token: s.opts.Token, Now: s.opts.Now,
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", message, err)
	}
	return nil
}

// profiles reads the profiles file from the default branch.
func (s *Server) profiles(ctx context.Context) (*Profiles, error) {
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.opts.Token, s.opts.DefaultBranch, path.Dir(ProfilesPath))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ProfilesPath, err)
	}
	defer os.RemoveAll(filepath.Dir(dir))
	data, err := os.ReadFile(filepath.Join(dir, path.Base(ProfilesPath)))
	if err != nil {
		return nil, fmt.Errorf("read %s on branch %s: %w", ProfilesPath, s.opts.DefaultBranch, err)
	}
	return ParseProfiles(data)
}
