package unpack

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// export is one solution zip: the two manifests read into memory, every
// other entry left in the zip until it is written (a tree's files are
// mostly these parts, copied as they are; holding them all in memory first
// costs a fresh page of memory for every 4 KB of them).
type export struct {
	path           string
	file           *os.File // open until the tree is written (close)
	solution       []byte   // solution.xml, BOM stripped, LF
	customizations []byte   // customizations.xml, BOM stripped, LF
	solRoot        *node
	custRoot       *node
	parts          map[string]*zip.File // every other entry
	names          []string             // entry names of parts, in zip order
}

// close releases the zip file.
func (ex *export) close() {
	if ex != nil && ex.file != nil {
		ex.file.Close()
	}
}

// Part names the manifests use at the root of every solution zip.
const (
	solutionPart       = "solution.xml"
	customizationsPart = "customizations.xml"
	contentTypesPart   = "[Content_Types].xml"
)

// checkEntryName refuses names that would escape the unpack folder or that
// cannot be written on every OS.
func checkEntryName(name string) error {
	switch {
	case name == "":
		return errors.New("empty entry name")
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("entry %q uses a backslash; solution zips use '/'", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("entry %q is an absolute path", name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("entry %q starts with a drive letter", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("entry %q contains a NUL byte", name)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("entry %q has a %q path segment (would escape the folder)", name, seg)
		}
		if strings.ContainsAny(seg, `<>:"|?*`) {
			return fmt.Errorf("entry %q has a character Windows cannot store in a file name", name)
		}
	}
	return nil
}

// readExport reads and checks a solution zip. budget is the number of
// inflated bytes still allowed; it is decremented by what this zip's
// manifests used, and must cover what its parts claim. The caller closes
// the export once the tree is written.
func readExport(path string, budget *int64) (_ *export, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read solution zip %s: %w", path, err)
	}
	ex := &export{path: path, file: f}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read solution zip %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("read solution zip %s: not a zip file (a folder)", path)
	}
	zr, err := zip.NewReader(f, st.Size())
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		err = nil // checkEntryName names the offending entry below
	}
	if err != nil {
		return nil, fmt.Errorf("read solution zip %s: not a zip file (%v)", path, err)
	}
	ex.parts = make(map[string]*zip.File, len(zr.File))
	lower := map[string]string{}
	var claimed uint64
	var biggest *zip.File
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			if err := checkEntryName(f.Name); err != nil {
				return nil, fmt.Errorf("read solution zip %s: %w", path, err)
			}
			continue
		}
		if err := checkEntryName(f.Name); err != nil {
			return nil, fmt.Errorf("read solution zip %s: %w", path, err)
		}
		if prev, dup := lower[strings.ToLower(f.Name)]; dup {
			return nil, fmt.Errorf("read solution zip %s: entries %q and %q differ only in letter case; they would overwrite each other on Windows and macOS", path, prev, f.Name)
		}
		lower[strings.ToLower(f.Name)] = f.Name
		switch f.Name {
		case solutionPart, customizationsPart:
			data, err := inflate(f, budget)
			if err != nil {
				return nil, fmt.Errorf("read solution zip %s: entry %s: %w", path, f.Name, err)
			}
			if f.Name == solutionPart {
				ex.solution = normalizeOwnedXML(data)
			} else {
				ex.customizations = normalizeOwnedXML(data)
			}
		case contentTypesPart:
			// regenerated on pack
		default:
			ex.parts[f.Name] = f
			ex.names = append(ex.names, f.Name)
			claimed += f.UncompressedSize64
			if biggest == nil || f.UncompressedSize64 > biggest.UncompressedSize64 {
				biggest = f
			}
		}
	}
	// What the headers claim must fit before anything is written; what the
	// parts really inflate to is counted again as they are written.
	if claimed > uint64(max(*budget, 0)) {
		return nil, fmt.Errorf("read solution zip %s: entry %s: inflates past the limit of %d bytes (zip bomb?): the entries claim %d bytes", path, biggest.Name, *budget, claimed)
	}
	if ex.solution == nil {
		return nil, fmt.Errorf("read solution zip %s: no %s at the root: not a Dataverse solution export", path, solutionPart)
	}
	if ex.customizations == nil {
		return nil, fmt.Errorf("read solution zip %s: no %s at the root: not a Dataverse solution export", path, customizationsPart)
	}
	if ex.solRoot, err = scanXML(ex.solution); err != nil {
		return nil, fmt.Errorf("read solution zip %s: %s is not well-formed XML: %w", path, solutionPart, err)
	}
	if ex.custRoot, err = scanXML(ex.customizations); err != nil {
		return nil, fmt.Errorf("read solution zip %s: %s is not well-formed XML: %w", path, customizationsPart, err)
	}
	if ex.solRoot.name != "ImportExportXml" || ex.solRoot.child("SolutionManifest") == nil {
		return nil, fmt.Errorf("read solution zip %s: %s: expected <ImportExportXml><SolutionManifest>, found <%s>", path, solutionPart, ex.solRoot.name)
	}
	if ex.custRoot.name != "ImportExportXml" {
		return nil, fmt.Errorf("read solution zip %s: %s: expected root <ImportExportXml>, found <%s>", path, customizationsPart, ex.custRoot.name)
	}
	return ex, nil
}

// maxPrealloc is the most inflate allocates before any byte is read.
const maxPrealloc = 16 << 20

// inflate reads an entry, counting actual inflated bytes against budget
// rather than trusting the size in the header.
func inflate(f *zip.File, budget *int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	size := f.UncompressedSize64
	if int64(size) > *budget || size > 1<<40 {
		return nil, fmt.Errorf("inflates past the limit of %d bytes (zip bomb?)", *budget)
	}
	// The header's size is a claim: allocate at most maxPrealloc up front
	// and grow with what really inflates, so a lying header costs nothing.
	buf := make([]byte, 0, min(size, maxPrealloc))
	lr := &io.LimitedReader{R: rc, N: *budget + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > *budget {
			return nil, fmt.Errorf("inflates past the limit of %d bytes (zip bomb?)", *budget)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("inflate: %w", err)
		}
	}
	*budget -= int64(len(buf))
	return buf, nil
}

// manifest reads the facts Summary and Both need from solution.xml.
func (ex *export) manifest() (uniqueName, version, managed string) {
	m := ex.solRoot.child("SolutionManifest")
	return m.childText(ex.solution, "UniqueName"), m.childText(ex.solution, "Version"), m.childText(ex.solution, "Managed")
}

// readPart inflates a part whole, counted against budget (canvas reviews
// read the .msapp).
func (ex *export) readPart(name string, budget *int64) ([]byte, error) {
	f, ok := ex.parts[name]
	if !ok {
		return nil, fmt.Errorf("no zip entry %s", name)
	}
	data, err := inflate(f, budget)
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", name, err)
	}
	return data, nil
}
