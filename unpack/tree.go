package unpack

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"

	"github.com/ppalm/ppalm/solzip"
)

// xmlHeader starts every XML file ppalm generates, as SolutionPackager does.
var xmlHeader = []byte("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")

const xsiDecl = ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`

// treeFile is one file of an unpacked tree, path relative with '/'.
type treeFile struct {
	path string
	data []byte
	// part, when data is nil, is the zip entry whose bytes the file holds,
	// inflated as it is written.
	part *zip.File
	// gen, when data is nil, appends the file's XML to dst: fragments of
	// customizations.xml are rendered as they are written, into a buffer
	// each writer reuses, rather than all held in memory at once.
	gen func(dst []byte) []byte
	// size is about what gen appends (the bytes of the elements it
	// renders), so a writer sizes its buffer once.
	size int
	// xml marks generated XML (LF inside); line endings are applied on write.
	xml bool
}

// tree collects the files of an unpacked solution and refuses paths that
// collide on a case-insensitive file system.
type tree struct {
	files []treeFile
	index map[string]string // lower-case path → path
	// dirs maps every lower-case directory to its spelling, so Foo/a and foo/b
	// are caught too.
	dirs map[string]string
	// written, when set, is handed each file once it is added (checked).
	written func(treeFile)
}

func newTree() *tree {
	return &tree{index: map[string]string{}, dirs: map[string]string{}}
}

func (t *tree) add(path string, data []byte, xml bool) error {
	return t.addFile(treeFile{path: path, data: data, xml: xml})
}

// genFile is a generated XML file rendered when it is written, from the
// elements of src spanning about size bytes.
func genFile(path string, size int, gen func(dst []byte) []byte) treeFile {
	return treeFile{path: path, gen: gen, size: size, xml: true}
}

// span is the number of bytes the elements take in their document.
func span(ns ...*node) int {
	n := 0
	for _, e := range ns {
		n += int(e.end - e.start)
	}
	return n
}

// content returns the file's bytes (rendering a generated file).
func (f *treeFile) content() []byte {
	if f.gen != nil {
		return f.gen(nil)
	}
	return f.data
}

// addPart adds a file that holds a zip entry as it is.
func (t *tree) addPart(path string, part *zip.File) error {
	return t.addFile(treeFile{path: path, part: part})
}

func (t *tree) addFile(f treeFile) error {
	path := f.path
	lp := strings.ToLower(path)
	if prev, ok := t.index[lp]; ok {
		if prev == path {
			return fmt.Errorf("two components both want the file %s", path)
		}
		return fmt.Errorf("files %s and %s differ only in letter case; one would overwrite the other on Windows and macOS", prev, path)
	}
	segs := strings.Split(path, "/")
	for i := 1; i < len(segs); i++ {
		d := strings.Join(segs[:i], "/")
		ld := strings.ToLower(d)
		if prev, ok := t.dirs[ld]; ok && prev != d {
			return fmt.Errorf("folders %s and %s differ only in letter case; their files would mix on Windows and macOS", prev, d)
		}
		t.dirs[ld] = d
	}
	if prev, ok := t.dirs[lp]; ok {
		return fmt.Errorf("%s is both a file and the folder %s", path, prev)
	}
	t.index[lp] = path
	t.files = append(t.files, f)
	if t.written != nil {
		t.written(f)
	}
	return nil
}

// safeSegment reports whether s can be used as one file or folder name on
// every OS ppalm runs on (solzip.CheckSegment: also no reserved device
// name such as CON), in at most 200 bytes.
func safeSegment(s string) bool {
	return len(s) <= 200 && solzip.CheckSegment(s) == nil
}

// safeRelPath checks a '/'-separated relative path segment by segment.
func safeRelPath(p string) bool {
	if p == "" {
		return false
	}
	for _, s := range strings.Split(p, "/") {
		if !safeSegment(s) {
			return false
		}
	}
	return true
}

// startTagWithXsi returns n's start tag with the xsi namespace declaration
// appended, the way SolutionPackager roots split-out fragments.
func startTagWithXsi(src []byte, n *node) []byte {
	tag := src[n.start:n.openEnd]
	if bytes.Contains(tag, []byte("xmlns:xsi=")) {
		return tag
	}
	out := make([]byte, 0, len(tag)+len(xsiDecl)+2)
	if n.self() {
		body := bytes.TrimRight(tag[:len(tag)-2], " \t\n")
		out = append(out, body...)
		out = append(out, xsiDecl...)
		return append(out, " />"...)
	}
	out = append(out, tag[:len(tag)-1]...)
	out = append(out, xsiDecl...)
	return append(out, '>')
}

// fragmentFile renders n as a standalone file: header, root with xsi
// declaration (unless bare), content re-indented to start at column 0.
func fragmentFile(src []byte, n *node, bare bool, replace func([]byte, *node) ([]byte, bool)) []byte {
	// Sized up front: every page a growing buffer leaves behind is a fresh
	// page of memory, and touching fresh memory is what an unpack spends
	// most on after writing the files.
	return appendFragment(make([]byte, 0, len(xmlHeader)+len(xsiDecl)+2+int(n.end-n.start)), src, n, bare, replace)
}

// appendFragment is fragmentFile appending to out.
func appendFragment(out, src []byte, n *node, bare bool, replace func([]byte, *node) ([]byte, bool)) []byte {
	out = append(out, xmlHeader...)
	if bare {
		out = append(out, src[n.start:n.openEnd]...)
	} else {
		out = append(out, startTagWithXsi(src, n)...)
	}
	if n.self() {
		return out
	}
	out = emitInner(out, src, n, -max(column(src, n), 0), replace)
	return append(out, src[n.closeStart:n.end]...)
}

// appendWrapped renders items inside a fresh root element
// <wrapper xmlns:xsi>, each item indented by two spaces, appending to out.
func appendWrapped(out, src []byte, wrapper string, items []*node) []byte {
	out = append(out, xmlHeader...)
	out = append(out, '<')
	out = append(out, wrapper...)
	out = append(out, xsiDecl...)
	out = append(out, '>')
	for _, it := range items {
		out = append(out, "\n  "...)
		out = emitElement(out, src, it, 2-max(column(src, it), 0))
	}
	out = append(out, "\n</"...)
	out = append(out, wrapper...)
	return append(out, '>')
}

// emptyTag is the placeholder SolutionPackager leaves for a split-out section.
func emptyTag(dst []byte, name string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	return append(dst, " />"...)
}

// hasOnlyChildren reports whether every child of n is called name and no
// text or comment sits between them, so splitting n loses nothing.
func hasOnlyChildren(src []byte, n *node, name string) bool {
	if n.self() {
		return true
	}
	p := n.openEnd
	for _, c := range n.children {
		if c.name != name || !isBlank(src[p:c.start]) {
			return false
		}
		p = c.end
	}
	return isBlank(src[p:n.closeStart])
}

// isEmptyElement reports an element with no children and only whitespace.
func isEmptyElement(src []byte, n *node) bool {
	return n.self() || (len(n.children) == 0 && isBlank(src[n.openEnd:n.closeStart]))
}
