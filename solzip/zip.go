package solzip

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Part names of the manifests at the root of every solution zip.
const (
	SolutionPart       = "solution.xml"
	CustomizationsPart = "customizations.xml"
	ContentTypesPart   = "[Content_Types].xml"
)

// DefaultMaxInflated bounds what the entries of one solution zip inflate to
// in all. Dataverse imports solution files of up to 95 MB; their largest
// parts (msapps, assemblies) are already compressed.
const DefaultMaxInflated int64 = 1 << 30

// MaxEntries bounds the entries of one zip. Real exports hold hundreds.
const MaxEntries = 100_000

// MaxXMLElements bounds the tags ('<') of one XML entry read through
// OpenXML or ReadXML, and with it the memory a node tree or a decoder
// spends on it: memory follows the element count, not the byte count (600
// MB of <a/> is 150 million elements from a zip of 637 KB). The largest
// real customizations.xml seen holds well under a million.
const MaxXMLElements = 8 << 20

// DefaultMaxRatio is how many times its compressed size an entry may
// inflate to, past RatioGraceSize: Apache POI's ZipSecureFile default for
// OOXML packages (MIN_INFLATE_RATIO 0.01), the nearest kin of a solution
// zip. Real solution parts compress 3 to 15 times (XML, JSON) or not at all
// (msapps, assemblies); a deflate bomb inflates about a thousand times.
const DefaultMaxRatio = 100

// RatioGraceSize is the inflated size below which the ratio is not
// checked: a small entry cannot exhaust memory however well it compresses.
const RatioGraceSize = 1 << 20

// Options sets the limits of one zip.
type Options struct {
	// MaxInflated overrides DefaultMaxInflated (a budget shared with other
	// zips passes what is left of it).
	MaxInflated int64
	// MaxRatio overrides DefaultMaxRatio.
	MaxRatio uint64
	// ReadManifests has Open keep solution.xml and customizations.xml
	// (Zip.SolutionXML, Zip.CustomizationsXML) as it checks them, for a
	// caller that reads both whole anyway: each is inflated once instead of
	// its head for the check and then all of it.
	ReadManifests bool
}

// Zip is an opened, checked solution zip.
type Zip struct {
	// Files are the file entries in zip order (folders left out), the
	// manifests included.
	Files []*zip.File
	// Solution, Customizations and ContentTypes are the root manifests
	// (ContentTypes may be nil).
	Solution, Customizations, ContentTypes *zip.File
	// SolutionXML and CustomizationsXML are the manifests as ReadXML gives
	// them, read by Open with Options.ReadManifests (nil without).
	SolutionXML, CustomizationsXML []byte

	byLower map[string]*zip.File
	budget  int64  // bytes still allowed to inflate
	ratio   uint64 // most an entry may inflate, in times its compressed size
	closer  io.Closer
}

// Open opens and checks the solution zip at path. The caller closes it.
func Open(path string, opts Options) (*Zip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	z, err := New(f, st.Size(), opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	z.closer = f
	return z, nil
}

// New checks the solution zip read from r (size bytes).
func New(r io.ReaderAt, size int64, opts Options) (*Zip, error) {
	zr, err := zip.NewReader(r, size)
	if errors.Is(err, zip.ErrInsecurePath) && zr != nil {
		err = nil // CheckName names the offending entry below
	}
	if err != nil {
		return nil, fmt.Errorf("not a zip file (%v)", err)
	}
	if len(zr.File) > MaxEntries {
		return nil, fmt.Errorf("%d entries, more than the %d ppalm reads from one solution zip", len(zr.File), MaxEntries)
	}
	budget := opts.MaxInflated
	if budget <= 0 {
		budget = DefaultMaxInflated
	}
	ratio := opts.MaxRatio
	if ratio == 0 {
		ratio = DefaultMaxRatio
	}
	z := &Zip{byLower: make(map[string]*zip.File, len(zr.File)), budget: budget, ratio: ratio}
	if err := z.index(zr.File); err != nil {
		return nil, err
	}
	if err := z.checkManifests(opts.ReadManifests); err != nil {
		return nil, err
	}
	return z, nil
}

// index checks every name and their collisions, and the sizes the headers
// claim (a sound bound: archive/zip fails an entry that inflates past it).
func (z *Zip) index(files []*zip.File) error {
	dirs := map[string]string{} // lower-case folder → spelling
	var claimed uint64
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return err
		}
		name := strings.TrimSuffix(f.Name, "/")
		isDir := strings.HasSuffix(f.Name, "/")
		lower := strings.ToLower(name)
		segs := strings.Split(name, "/")
		last := len(segs) - 1
		if isDir {
			last++
		}
		for i := 1; i <= last; i++ {
			d := strings.Join(segs[:i], "/")
			ld := strings.ToLower(d)
			if prev, ok := dirs[ld]; ok && prev != d {
				return fmt.Errorf("entries put the folder %q and the folder %q in one place: they differ only in letter case, which Windows and macOS do not tell apart", prev, d)
			}
			if file, ok := z.byLower[ld]; ok {
				return fmt.Errorf("%q is both a file and a folder in the zip", file.Name)
			}
			dirs[ld] = d
		}
		if isDir {
			continue
		}
		if prev, ok := z.byLower[lower]; ok {
			if prev.Name == f.Name {
				return fmt.Errorf("entry %q appears twice: tools would disagree on which one the zip holds", f.Name)
			}
			return fmt.Errorf("entries %q and %q differ only in letter case; they would overwrite each other on Windows and macOS", prev.Name, f.Name)
		}
		if d, ok := dirs[lower]; ok {
			return fmt.Errorf("%q is both a file and a folder in the zip", d)
		}
		if err := checkRatio(f, z.ratio); err != nil {
			return err
		}
		z.byLower[lower] = f
		z.Files = append(z.Files, f)
		claimed += f.UncompressedSize64
		if claimed > uint64(z.budget) {
			return fmt.Errorf("entry %s: the zip inflates past %s in all, as its headers say: refusing it as a zip bomb before inflating it", f.Name, mib(z.budget))
		}
	}
	z.Solution = z.byLower[strings.ToLower(SolutionPart)]
	z.Customizations = z.byLower[strings.ToLower(CustomizationsPart)]
	z.ContentTypes = z.byLower[strings.ToLower(ContentTypesPart)]
	return nil
}

// checkManifests requires both manifests and their roots; with read it
// keeps them whole.
func (z *Zip) checkManifests(read bool) error {
	for _, m := range []struct {
		f    *zip.File
		name string
	}{{z.Solution, SolutionPart}, {z.Customizations, CustomizationsPart}} {
		if m.f == nil {
			return fmt.Errorf("no %s at the root: not a Dataverse solution export", m.name)
		}
	}
	for _, m := range []struct {
		f     *zip.File
		name  string
		child string
		keep  *[]byte
	}{{z.Solution, SolutionPart, "SolutionManifest", &z.SolutionXML}, {z.Customizations, CustomizationsPart, "", &z.CustomizationsXML}} {
		if !read {
			if err := z.checkRoot(m.f, m.child); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			continue
		}
		data, err := z.ReadXML(m.f)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if err := checkRootIn(bytes.NewReader(data), m.child); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		*m.keep = data
	}
	return nil
}

// checkRoot reads the start of a manifest: no DOCTYPE, root
// <ImportExportXml>, and, when child is set, that element directly inside
// it. Only what it reads is inflated.
func (z *Zip) checkRoot(f *zip.File, child string) error {
	rc, err := z.OpenXML(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	return checkRootIn(rc, child)
}

// checkRootIn is checkRoot reading the manifest from r.
func checkRootIn(r io.Reader, child string) error {
	d := xml.NewDecoder(r)
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if child != "" {
				return fmt.Errorf("expected <ImportExportXml><%s>, found no <%s>", child, child)
			}
			return errors.New("expected root <ImportExportXml>, found no element")
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errors.New("has a DOCTYPE; solution manifests have none (it is the door to entity-expansion bombs)")
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "ImportExportXml" || t.Name.Space != "" {
					return fmt.Errorf("expected root <ImportExportXml>, found <%s>", qname(t.Name))
				}
				if child == "" {
					return nil
				}
			} else if depth == 2 && t.Name.Local == child && t.Name.Space == "" {
				return nil
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return fmt.Errorf("expected <ImportExportXml><%s>, found no <%s>", child, child)
			}
		}
	}
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// Close closes the file Open opened.
func (z *Zip) Close() error {
	if z.closer == nil {
		return nil
	}
	return z.closer.Close()
}

// Lookup finds a file entry by name, ignoring letter case (names are unique
// that way) and a leading '/'.
func (z *Zip) Lookup(name string) *zip.File {
	return z.byLower[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// Remaining is how many bytes may still be inflated.
func (z *Zip) Remaining() int64 { return z.budget }

// Open streams one entry, counting what it inflates against the budget.
func (z *Zip) Open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	return &counted{rc: rc, z: z, name: f.Name}, nil
}

// OpenXML streams an XML entry without a byte order mark, failing once it
// has passed MaxXMLElements tags.
func (z *Zip) OpenXML(f *zip.File) (io.ReadCloser, error) {
	rc, err := z.Open(f)
	if err != nil {
		return nil, err
	}
	c := rc.(*counted)
	c.xml, c.tags = true, MaxXMLElements
	return c, nil
}

// Read inflates one entry.
func (z *Zip) Read(f *zip.File) ([]byte, error) {
	rc, err := z.Open(f)
	if err != nil {
		return nil, err
	}
	return readAll(rc, f)
}

// ReadXML inflates an XML entry (byte order mark dropped) under the element
// limit of OpenXML.
func (z *Zip) ReadXML(f *zip.File) ([]byte, error) {
	rc, err := z.OpenXML(f)
	if err != nil {
		return nil, err
	}
	return readAll(rc, f)
}

// maxPrealloc is the most readAll allocates before any byte is read.
const maxPrealloc = 16 << 20

func readAll(rc io.ReadCloser, f *zip.File) ([]byte, error) {
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, min(f.UncompressedSize64, maxPrealloc)))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// counted counts inflated bytes against the zip's budget and, for XML,
// drops a byte order mark and counts the tags read against the element
// limit.
type counted struct {
	rc      io.ReadCloser
	z       *Zip
	name    string
	xml     bool
	started bool   // the head of an XML entry was read
	pending []byte // head bytes not yet handed out
	eof     error  // the head read already met the end
	tags    int    // tags still allowed
}

func (c *counted) Read(p []byte) (int, error) {
	if c.xml && !c.started {
		c.started = true
		head := make([]byte, len(bom))
		n, err := io.ReadFull(c.rc, head)
		if err := c.spend(n, err); err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			c.eof = io.EOF
		}
		if c.pending = head[:n]; bytes.Equal(c.pending, bom) {
			c.pending = nil
		}
	}
	var n int
	var err error
	switch {
	case len(c.pending) > 0:
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	case c.eof != nil:
		return 0, c.eof
	default:
		n, err = c.rc.Read(p)
		if serr := c.spend(n, err); serr != nil && serr != err {
			return 0, serr
		}
	}
	if c.xml {
		c.tags -= bytes.Count(p[:n], []byte("<"))
		if c.tags < 0 {
			return 0, fmt.Errorf("entry %s has more than %d tags, more than ppalm reads in one XML file (an element bomb?)", c.name, MaxXMLElements)
		}
	}
	return n, err
}

// spend counts n inflated bytes against the budget and names the entry in
// a read error.
func (c *counted) spend(n int, err error) error {
	c.z.budget -= int64(n)
	if c.z.budget < 0 {
		return fmt.Errorf("entry %s inflates past the limit of the zip (zip bomb?)", c.name)
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("entry %s: %w", c.name, err)
	}
	return err
}

func (c *counted) Close() error { return c.rc.Close() }

// CheckTags applies the element limit of OpenXML to an XML entry already
// held in memory.
func CheckTags(name string, b []byte) error {
	if bytes.Count(b, []byte("<")) > MaxXMLElements {
		return fmt.Errorf("entry %s has more than %d tags, more than ppalm reads in one XML file (an element bomb?)", name, MaxXMLElements)
	}
	return nil
}

// mib renders a size in MiB, or in bytes below one.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

// kib renders a size in KiB, or in bytes below one.
func kib(n uint64) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// CheckRatio refuses an entry past RatioGraceSize that inflates to more
// than DefaultMaxRatio times its compressed size, from its headers; for zips
// read without Open (the msapp inside a solution).
func CheckRatio(f *zip.File) error { return checkRatio(f, DefaultMaxRatio) }

func checkRatio(f *zip.File, ratio uint64) error {
	if f.UncompressedSize64 > RatioGraceSize && f.UncompressedSize64/ratio > f.CompressedSize64 {
		return fmt.Errorf("entry %s inflates past %d times its compressed size (%s from %s): refusing it as a zip bomb before inflating it", f.Name, ratio, mib(int64(f.UncompressedSize64)), kib(f.CompressedSize64))
	}
	return nil
}
