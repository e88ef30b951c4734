package unpack

import (
	"archive/zip"
	"fmt"
	"io"

	"github.com/ppalm/ppalm/solzip"
)

// export is one solution zip: the two manifests read into memory, every
// other entry left in the zip until it is written (a tree's files are
// mostly these parts, copied as they are; holding them all in memory first
// costs a fresh page of memory for every 4 KB of them).
type export struct {
	path           string
	zip            *solzip.Zip // open until the tree is written (close)
	solution       []byte      // solution.xml, BOM stripped, LF
	customizations []byte      // customizations.xml, BOM stripped, LF
	solRoot        *node
	custRoot       *node
	parts          map[string]*zip.File // every other entry
	names          []string             // entry names of parts, in zip order
}

// close releases the zip file.
func (ex *export) close() {
	if ex != nil && ex.zip != nil {
		ex.zip.Close()
	}
}

// Part names the manifests use at the root of every solution zip.
const (
	solutionPart       = "solution.xml"
	customizationsPart = "customizations.xml"
	contentTypesPart   = "[Content_Types].xml"
)

// checkEntryName refuses names that would escape the unpack folder or that
// cannot be written on every OS: the rule of every solution zip reader
// (solzip.CheckName).
func checkEntryName(name string) error { return solzip.CheckName(name) }

// readExport reads and checks a solution zip through the reader every ppalm
// command shares (solzip), so unpack refuses what plan, import and settings
// refuse: names, sizes and ratios the headers claim, within budget. It
// reads the manifests (decrementing budget by them; solzip checks their
// roots as it reads them, so each is inflated once) and leaves the other
// parts in the zip, inflated as they are written (writePart counts them
// against budget again). The caller closes the export once the tree is
// written.
//
// opened, when set, is called once the manifests are read, before they are
// scanned.
func readExport(path string, budget *int64, opened func(*export)) (_ *export, err error) {
	z, err := solzip.Open(path, solzip.Options{MaxInflated: *budget, ReadManifests: true})
	if err != nil {
		return nil, fmt.Errorf("read solution zip %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			z.Close()
		}
	}()
	ex := &export{path: path, zip: z, parts: make(map[string]*zip.File, len(z.Files)),
		solution: normalizeOwnedXML(z.SolutionXML), customizations: normalizeOwnedXML(z.CustomizationsXML)}
	for _, f := range z.Files {
		switch f {
		case z.Solution, z.Customizations:
			// read by Open
		case z.ContentTypes:
			// regenerated on pack
		default:
			ex.parts[f.Name] = f
			ex.names = append(ex.names, f.Name)
		}
	}
	*budget = z.Remaining()
	if opened != nil {
		opened(ex)
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
// rather than trusting the size in the header (the solution zip's own
// entries go through solzip; this reads the msapp zips inside it).
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
