package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/ppalm/ppalm/devops"
	"github.com/ppalm/ppalm/steps"
)

// deployContext is where import, plan and configure start: the settings
// files read with their tokens filled from the environment, the target's
// client, and a steps.Context holding both, whose reporter has shown the
// settings' warnings. The settings are read first, so a missing variable is
// reported before any connection is tried.
func deployContext(ctx context.Context, f *Factory, conn *connectionFlags, deploymentPath, customPath string, strict bool) (*steps.Context, error) {
	ds, cds, warnings, err := steps.LoadSettingsWith(deploymentPath, customPath, lookupEnv(f), steps.LoadOptions{Strict: strict})
	if err != nil {
		return nil, err
	}
	dv, err := conn.client(ctx, f)
	if err != nil {
		return nil, err
	}
	r := f.reporter()
	for _, w := range warnings {
		// The file goes in the file argument (a host links it); the
		// message would otherwise name it twice.
		if w.Path == "" {
			r.Warning(w.Message, w.File)
		} else {
			r.Warning(w.Path+": "+w.Message, w.File)
		}
	}
	return &steps.Context{Reporter: r, Getenv: f.Getenv, Now: time.Now, Dataverse: dv, Deployment: ds, Custom: cds}, nil
}

// zipDeployContext is deployContext for a command that imports (or plans
// to import) a zip: --zipfile is required, --upgrade must parse, and the
// settings flags may name a config folder.
func zipDeployContext(ctx context.Context, f *Factory, conn *connectionFlags, set *settingsFlags, zipfile, upgrade string) (*steps.Context, error) {
	if zipfile == "" {
		return nil, fmt.Errorf("--zipfile is required")
	}
	mode, err := steps.ParseUpgradeMode(upgrade)
	if err != nil {
		return nil, err
	}
	dpath, cpath, err := set.paths()
	if err != nil {
		return nil, err
	}
	sc, err := deployContext(ctx, f, conn, dpath, cpath, set.strict)
	if err != nil {
		return nil, err
	}
	sc.ZipFile, sc.Upgrade = zipfile, mode
	// --upgrade auto follows the pipeline's variables and the pull
	// request's label.
	sc.UpgradeRequested = func(ctx context.Context) (bool, string, error) {
		return devops.UpgradeRequested(ctx, f.Getenv, repoLog(f))
	}
	return sc, nil
}
