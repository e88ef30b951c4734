package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
	"github.com/ppalm/ppalm/internal/safefile"
	"github.com/ppalm/ppalm/task"
)

// ExportRequest says what ExportZips exports where.
type ExportRequest struct {
	Solution string
	// OutDir receives NAME.zip and NAME_managed.zip; Path instead names the
	// one zip to write (pac's --path), the managed one with Managed.
	OutDir, Path string
	// Managed and Unmanaged pick the kinds; neither (or both) is both.
	Managed, Unmanaged bool
	// Async uses ExportSolutionAsync (a synchronous export that times out
	// is retried asynchronously anyway).
	Async bool
	// Overwrite replaces zips that exist; without it an existing zip is an
	// error, before anything is exported (as pac solution export).
	Overwrite bool
}

// ExportedFile is one zip ExportZips wrote.
type ExportedFile struct {
	Path     string
	Managed  bool
	Bytes    int
	Replaced bool // a file was there before
}

// ExportZips exports a solution from the environment dv talks to and writes
// its zips, each all at once, 0666 less the umask.
func ExportZips(ctx context.Context, dv *dataverse.Client, r task.Reporter, req ExportRequest) ([]ExportedFile, error) {
	if req.Solution == "" {
		return nil, fmt.Errorf("--solution is required: the unique name of the solution to export")
	}
	type target struct {
		managed bool
		path    string
	}
	var targets []target
	switch {
	case req.Path != "":
		if !strings.EqualFold(filepath.Ext(req.Path), ".zip") {
			return nil, fmt.Errorf("--path %s: expected the zip file to write (NAME.zip); --out names a folder", req.Path)
		}
		targets = []target{{req.Managed && !req.Unmanaged, req.Path}}
	default:
		out := req.OutDir
		if out == "" {
			out = "."
		}
		name := filepath.Join(out, req.Solution+".zip")
		both := []target{{false, name}, {true, strings.TrimSuffix(name, ".zip") + "_managed.zip"}}
		switch {
		case req.Managed && !req.Unmanaged:
			targets = both[1:]
		case req.Unmanaged && !req.Managed:
			targets = both[:1]
		default:
			targets = both
		}
	}
	var files []ExportedFile
	for _, t := range targets {
		f := ExportedFile{Path: t.path, Managed: t.managed}
		if st, err := os.Stat(t.path); err == nil {
			if st.IsDir() {
				return nil, fmt.Errorf("%s is a folder: expected a zip file's path", t.path)
			}
			if !req.Overwrite {
				return nil, fmt.Errorf("%s exists: pass --overwrite to replace it (nothing was exported)", t.path)
			}
			f.Replaced = true
		}
		files = append(files, f)
	}
	// Every zip is exported before any is written: a run that fails
	// halfway leaves none, never one of the pair beside an old other.
	zips := make([][]byte, len(files))
	for i, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o777); err != nil {
			return nil, fmt.Errorf("create output folder: %w", err)
		}
		kind := "unmanaged"
		if f.Managed {
			kind = "managed"
		}
		task.Status(r, fmt.Sprintf("exporting %s %s from %s", kind, req.Solution, dv.EnvironmentURL()))
		opts := dataverse.ExportOptions{Managed: f.Managed, Async: req.Async, Progress: func(op dataverse.AsyncOperation) {
			task.Status(r, fmt.Sprintf("export %s %s: %s", kind, req.Solution, asyncState(op.StateCode)))
		}}
		zip, err := dv.Export(ctx, req.Solution, opts)
		if !opts.Async && timedOut(err) {
			r.Info("the synchronous export timed out; exporting asynchronously")
			opts.Async = true
			zip, err = dv.Export(ctx, req.Solution, opts)
		}
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("export %s %s: %w (nothing was written: %s was exported but is written only with its pair)", kind, req.Solution, err, filepath.Base(files[0].Path))
			}
			return nil, fmt.Errorf("export %s %s: %w", kind, req.Solution, err)
		}
		zips[i] = zip
	}
	for i, f := range files {
		if err := safefile.WriteFile(f.Path, zips[i]); err != nil {
			return files[:i], err
		}
		files[i].Bytes = len(zips[i])
	}
	return files, nil
}

// timedOut reports a gateway or request timeout of a synchronous export,
// or the client's own deadline running out.
func timedOut(err error) bool {
	var apiErr *dataverse.APIError
	var netErr net.Error
	return (errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusGatewayTimeout || apiErr.StatusCode == http.StatusRequestTimeout)) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}
