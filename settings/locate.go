package settings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Location is where an environment's settings files are; a field is ""
// when no file was found.
type Location struct {
	DeploymentSettings       string
	CustomDeploymentSettings string
}

// Locate finds deploymentSettings.json and customDeploymentSettings.json for
// environment in configDir with the Accelerator's look-up order (first hit
// wins): <name>-<env>.json, <env>/<name>.json, <name>.json. Names are matched
// case-insensitively; environment may be "" to use only the shared files.
func Locate(configDir, environment string) (Location, error) {
	var loc Location
	var err error
	if loc.DeploymentSettings, err = locate(configDir, environment, "deploymentSettings"); err != nil {
		return Location{}, err
	}
	if loc.CustomDeploymentSettings, err = locate(configDir, environment, "customDeploymentSettings"); err != nil {
		return Location{}, err
	}
	return loc, nil
}

func locate(dir, env, base string) (string, error) {
	if env != "" {
		if p, err := findEntry(dir, base+"-"+env+".json", false); p != "" || err != nil {
			return p, err
		}
		envDir, err := findEntry(dir, env, true)
		if err != nil {
			return "", err
		}
		if envDir != "" {
			if p, err := findEntry(envDir, base+".json", false); p != "" || err != nil {
				return p, err
			}
		}
	}
	return findEntry(dir, base+".json", false)
}

// findEntry returns dir/name, preferring the exact spelling, else the one
// entry whose name differs only in case; "" when there is none.
func findEntry(dir, name string, wantDir bool) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look for %s in %s: %w", name, dir, err)
	}
	var matches []string
	for _, e := range entries {
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir != wantDir {
			continue
		}
		if e.Name() == name {
			return filepath.Join(dir, name), nil
		}
		if strings.EqualFold(e.Name(), name) {
			matches = append(matches, e.Name())
		}
	}
	switch len(matches) {
	case 0:
		return "", nil
	case 1:
		return filepath.Join(dir, matches[0]), nil
	}
	return "", fmt.Errorf("look for %s in %s: %s match only by letter case; rename all but one", name, dir, strings.Join(matches, " and "))
}
