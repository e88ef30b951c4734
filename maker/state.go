package maker

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
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
	State       string    `yaml:"state"` // succeeded, failed, queued
	Detail      string    `yaml:"detail,omitempty"`
	Link        string    `yaml:"link,omitempty"`
	By          string    `yaml:"by"`
	When        time.Time `yaml:"when"`
	// Pipeline, RunID and PipelineID name the run a pipeline host queued
	// for the request; the history reads its state from the host.
	Pipeline   string `yaml:"pipeline,omitempty"`
	RunID      int64  `yaml:"runId,omitempty"`
	PipelineID int    `yaml:"pipelineId,omitempty"`
	// PullRequest is the pull request a pull-request step created or
	// reused; the history reads its state from the host.
	PullRequest int `yaml:"pullRequest,omitempty"`
}

// Last returns the newest request, or nil.
func (st *SolutionState) Last() *Request {
	if len(st.Requests) == 0 {
		return nil
	}
	return &st.Requests[len(st.Requests)-1]
}

func statePath(solution string) string { return path.Join(".ppalm", "solutions", solution) }

// snapshot is the .ppalm folder of the default branch, read once per page:
// the profiles file and every solution's state.
type snapshot struct {
	profiles *Profiles
	// profilesErr says why the profiles cannot be used (a page that needs
	// them shows it).
	profilesErr error
	states      map[string]*SolutionState
}

// state returns the solution's state (empty when it has none yet).
func (sn *snapshot) state(solution string) *SolutionState {
	if st, ok := sn.states[strings.ToLower(solution)]; ok {
		return st
	}
	return &SolutionState{}
}

// read fetches the .ppalm folder with one shallow clone. A repository
// without one has no profiles yet and no state.
func (s *Server) read(ctx context.Context) (*snapshot, error) {
	sn := &snapshot{states: map[string]*SolutionState{}}
	dir, err := readRepoFolder(ctx, s.opts.Repo, s.gitToken(ctx), s.opts.DefaultBranch, ".ppalm")
	if err != nil {
		if strings.Contains(err.Error(), `folder ".ppalm" not found`) {
			sn.profilesErr = fmt.Errorf("branch %s has no %s yet: ask your administrator for the team's profiles", s.opts.DefaultBranch, ProfilesPath)
			return sn, nil
		}
		return nil, s.scrub(fmt.Errorf("read the team's profiles and history: %w", err))
	}
	defer os.RemoveAll(filepath.Dir(dir))
	data, err := os.ReadFile(filepath.Join(dir, path.Base(ProfilesPath)))
	if err != nil {
		sn.profilesErr = fmt.Errorf("branch %s has no %s yet: ask your administrator for the team's profiles", s.opts.DefaultBranch, ProfilesPath)
	} else {
		sn.profiles, sn.profilesErr = ParseProfiles(data)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "solutions"))
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, "solutions", e.Name(), "solution.yaml"))
		if err != nil {
			continue
		}
		var st SolutionState
		if err := yaml.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("%s/solution.yaml: %w", statePath(e.Name()), err)
		}
		sn.states[strings.ToLower(e.Name())] = &st
	}
	return sn, nil
}

// updateState reads the solution's state, applies change and commits it.
// The state commits are serialised: two at once would race on the branch.
func (s *Server) updateState(ctx context.Context, solution, message string, change func(*SolutionState)) error {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	sn, err := s.read(ctx)
	if err != nil {
		return err
	}
	st := sn.state(solution)
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
		Message: message, Author: s.opts.Maker, Push: true, Token: s.gitToken(ctx), Now: s.opts.Now,
	})
	if err != nil {
		return s.scrub(fmt.Errorf("record %s: %w", message, err))
	}
	return nil
}
