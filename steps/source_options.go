package steps

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/ppalm/ppalm/accelerator"
	"github.com/ppalm/ppalm/settings"
)

// The Accelerator's source layouts and export-time source options, as
// ppalm reads and writes them (see package accelerator for the sources).

// dropLegacyTree removes a legacy tree from dir (everything but src/ and
// the .cdsproj) before the export unpacks into dir/src, as the
// Accelerator's export replaced a legacy SolutionPackage/ with a fresh
// clone. It returns how many entries it removed; 0 when dir holds no
// legacy tree.
func dropLegacyTree(dir string) (int, error) {
	if !accelerator.LegacyTree(dir) {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if strings.EqualFold(e.Name(), "src") || strings.HasSuffix(strings.ToLower(e.Name()), ".cdsproj") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

var (
	stateCodeRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<StateCode>\s*\d+\s*</StateCode>`) })
	statusCodeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<StatusCode>\s*\d+\s*</StatusCode>`) })
)

// disableFlowsInSource sets every process of the tree to off (StateCode 0,
// StatusCode 1) in its Workflows/*.xml metadata, as the Accelerator's
// Set-EnableDisableSolutionFlows did for DisableFlows=true; it returns how
// many files it changed.
func disableFlowsInSource(tree string) (int, error) {
	files, err := filepath.Glob(filepath.Join(tree, "Workflows", "*.xml"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return n, err
		}
		out := replaceFirst(stateCodeRE(), data, []byte("<StateCode>0</StateCode>"))
		out = replaceFirst(statusCodeRE(), out, []byte("<StatusCode>1</StatusCode>"))
		if bytes.Equal(out, data) {
			continue
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func replaceFirst(re *regexp.Regexp, data, with []byte) []byte {
	loc := re.FindIndex(data)
	if loc == nil {
		return data
	}
	out := append([]byte{}, data[:loc[0]]...)
	out = append(out, with...)
	return append(out, data[loc[1]:]...)
}

var defaultValueRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)<defaultvalue>.*?</defaultvalue>|<defaultvalue\s*/>`)
})

// applyDefaultEnvironmentVariables writes the DefaultEnvironmentVariables
// pairs of the shared customDeploymentSettings.json in configDir into the
// <defaultvalue> of each variable's definition in the tree, replacing or
// adding it, as the Accelerator's Invoke-Verify-Default-Environment-
// Variables-Are-Set meant to (its step read the file through a PowerShell
// sub-expression and never ran). A pair naming a variable the tree does not
// have is an error naming the file and the pair. It returns the names set.
func applyDefaultEnvironmentVariables(tree, configDir string) ([]string, error) {
	loc, err := settings.Locate(configDir, "")
	if err != nil {
		return nil, err
	}
	if loc.CustomDeploymentSettings == "" {
		return nil, nil
	}
	cds, _, err := settings.LoadCustomDeploymentSettings(loc.CustomDeploymentSettings)
	if err != nil {
		return nil, err
	}
	var names []string
	for i, pair := range cds.DefaultEnvironmentVariables {
		name, value := strings.TrimSpace(pair[0]), pair[1]
		p := filepath.Join(tree, "environmentvariabledefinitions", name, "environmentvariabledefinition.xml")
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return names, fmt.Errorf("%s: DefaultEnvironmentVariables[%d] names %q, which the solution has no definition of (%s)", loc.CustomDeploymentSettings, i, name, filepath.ToSlash(filepath.Join("environmentvariabledefinitions", name)))
		}
		if err != nil {
			return names, err
		}
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, []byte(value))
		elem := []byte("<defaultvalue>" + esc.String() + "</defaultvalue>")
		var out []byte
		if loc := defaultValueRE().FindIndex(data); loc != nil {
			out = append(append(append([]byte{}, data[:loc[0]]...), elem...), data[loc[1]:]...)
		} else {
			// pac writes the elements in name order: defaultvalue after
			// apiid, before description and displayname.
			at := bytes.Index(data, []byte(">"))
			for _, next := range []string{"<description", "<displayname", "<introducedversion", "</environmentvariabledefinition>"} {
				if k := bytes.Index(data, []byte(next)); k >= 0 {
					at = k
					break
				}
			}
			indent := []byte("\n  ")
			out = append(append(append(append([]byte{}, data[:at]...), elem...), indent...), data[at:]...)
		}
		if err := os.WriteFile(p, out, 0o644); err != nil {
			return names, err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
