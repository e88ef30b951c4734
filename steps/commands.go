package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/settings"
	"github.com/ppalm/ppalm/solution"
	"github.com/ppalm/ppalm/task"
	"github.com/ppalm/ppalm/unpack"
)

// This file holds the entry points the CLI and the maker app share: each
// runs one user-facing action (export-to-git, build, settings create) from
// an already-parsed configuration, so a command only parses flags and prints
// and the app calls the same function. The pipelines themselves stay in
// pipelines.go.

// Services are what every entry point is given rather than reaching for:
// the host reporter, the environment look-up and the clock.
type Services struct {
	Reporter task.Reporter
	Getenv   func(string) string
	Now      func() time.Time
}

func (s Services) context() *Context {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Context{Reporter: s.Reporter, Getenv: getenv, Now: now}
}

// ExportToGit runs the export-to-git pipeline for src in a temporary work
// folder of its own (src.WorkDir is set for the run and removed after). The
// returned Context carries the outcomes, also when err is not nil, and
// src.Commit says what was committed.
func ExportToGit(ctx context.Context, svc Services, src *Source) (*Context, error) {
	c := svc.context()
	c.Source = src
	if src.Solution == "" {
		return c, fmt.Errorf("export-to-git: the unique name of the solution to export is required")
	}
	if src.Token != "" && svc.Reporter != nil {
		svc.Reporter.SetSecret(src.Token)
	}
	work, err := os.MkdirTemp("", "ppalm-export-")
	if err != nil {
		return c, fmt.Errorf("export-to-git: %w", err)
	}
	defer os.RemoveAll(work)
	src.WorkDir = work
	err = Runner{Reporter: svc.Reporter}.Run(ctx, c, ExportToGitPipeline())
	return c, err
}

// RunBuild runs the build pipeline (version, pack) for b after checking its
// version and package type.
func RunBuild(ctx context.Context, svc Services, b *Build) (*Context, error) {
	c := svc.context()
	c.Build = b
	if b.Version != "" {
		if err := unpack.CheckVersion(b.Version); err != nil {
			return c, fmt.Errorf("--version: %w", err)
		}
	}
	err := Runner{Reporter: svc.Reporter}.Run(ctx, c, BuildPipeline())
	return c, err
}

// DefaultAuthor fills the commit author from the CI host when none was
// given: the person who queued the run.
func DefaultAuthor(getenv func(string) string, a *gitops.Signature) error {
	return DefaultAuthorFor(getenv, "", a)
}

// DefaultAuthorFor fills what --author-name and --author-email left empty:
// from the CI host (the person who queued the run), else from git's own
// configuration for repo (user.name and user.email of the working copy,
// the user, the system), as `git commit` would.
func DefaultAuthorFor(getenv func(string) string, repo string, a *gitops.Signature) error {
	if a.Name == "" {
		a.Name = firstEnv(getenv, "BUILD_REQUESTEDFOR", "GITHUB_ACTOR")
	}
	if a.Email == "" {
		a.Email = getenv("BUILD_REQUESTEDFOREMAIL")
		if a.Email == "" && getenv("GITHUB_ACTOR") != "" {
			a.Email = getenv("GITHUB_ACTOR") + "@users.noreply.github.com"
		}
	}
	if a.Name == "" || a.Email == "" {
		git := gitops.ConfiguredAuthor(repo)
		if a.Name == "" {
			a.Name = git.Name
		}
		if a.Email == "" {
			a.Email = git.Email
		}
	}
	if a.Name == "" || a.Email == "" {
		return fmt.Errorf("no commit author: pass --author-name and --author-email, or set git's user.name and user.email (git config --global user.name ...); in Azure DevOps and GitHub Actions the person who queued the run is used")
	}
	return nil
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ReadSolution reads a solution from a zip or, when zipFile is empty, from an
// unpacked tree (packed to a temporary zip first; the package type is left
// to the tree, so a managed tree reads too).
func ReadSolution(ctx context.Context, zipFile, folder string) (*solution.Solution, error) {
	if zipFile != "" {
		return solution.ReadModel(zipFile)
	}
	tmp, err := os.MkdirTemp("", "ppalm-settings-")
	if err != nil {
		return nil, fmt.Errorf("read solution folder %s: %w", folder, err)
	}
	defer os.RemoveAll(tmp)
	zip := filepath.Join(tmp, "solution.zip")
	if _, err := unpack.Pack(ctx, unpack.PackOptions{Folder: folder, ZipFile: zip}); err != nil {
		return nil, fmt.Errorf("read solution folder %s: %w", folder, err)
	}
	sol, err := solution.ReadModel(zip)
	if err != nil {
		return nil, fmt.Errorf("read solution folder %s: %w", folder, err)
	}
	return sol, nil
}

// SettingsFiles are the two settings files `settings create` writes.
type SettingsFiles struct {
	Deployment *settings.DeploymentSettings
	Custom     *settings.CustomDeploymentSettings // nil when no custom file was asked for
	// DeploymentAdded and CustomAdded are -1 when the file was written
	// new, else how many entries were added to the file that was there.
	DeploymentAdded, CustomAdded int
}

// CreateSettings writes deploymentSettings.json to out and, when customOut is
// not empty, customDeploymentSettings.json (with #{token}# placeholders when
// placeholders is true) for sol. A file that exists is kept, values and
// all, and gets only the entries it lacks (as export-to-git does), unless
// overwrite: then it is written afresh.
func CreateSettings(sol *solution.Solution, out, customOut string, placeholders, overwrite bool) (SettingsFiles, error) {
	files := SettingsFiles{DeploymentAdded: -1, CustomAdded: -1}
	files.Deployment = settings.NewDeploymentSettings(sol)
	if dir := filepath.Dir(out); dir != "." {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return files, fmt.Errorf("write settings %s: %w", out, err)
		}
	}
	var err error
	if overwrite {
		err = WriteSettings(out, files.Deployment)
	} else {
		files.DeploymentAdded, err = mergeDeploymentSettings(out, files.Deployment)
	}
	if err != nil {
		return files, err
	}
	if customOut != "" {
		files.Custom = settings.NewCustomDeploymentSettings(sol, settings.CustomOptions{Placeholders: placeholders})
		if dir := filepath.Dir(customOut); dir != "." {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return files, fmt.Errorf("write settings %s: %w", customOut, err)
			}
		}
		if overwrite {
			err = WriteSettings(customOut, files.Custom)
		} else {
			files.CustomAdded, err = mergeCustomSettings(customOut, files.Custom)
		}
		if err != nil {
			return files, err
		}
	}
	// What the files hold now: a merge kept the user's entries.
	if files.DeploymentAdded >= 0 {
		if cur, _, err := settings.LoadDeploymentSettings(out); err == nil {
			files.Deployment = cur
		}
	}
	if files.Custom != nil && files.CustomAdded >= 0 {
		if cur, _, err := settings.LoadCustomDeploymentSettings(customOut); err == nil {
			files.Custom = cur
		}
	}
	return files, nil
}

// WriteSettings writes one settings file in the Accelerator's format,
// creating its folder.
func WriteSettings(path string, v any) error {
	data, err := settings.Marshal(v)
	if err != nil {
		return fmt.Errorf("write settings %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write settings %s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write settings %s: %w", path, err)
	}
	return nil
}
