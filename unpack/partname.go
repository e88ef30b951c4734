package unpack

import (
	"net/url"
	"strings"
)

// Zip part names of a solution are OPC part names, URIs, so the braces of a
// placeholder are percent-encoded (appactions/…%7B!EntityLogicalName%7D…/
// appaction.xml). SolutionPackager writes the decoded name as the file
// name, and pack encodes it again.

// decodePartName turns a zip part name into its tree path, segment by
// segment. A segment that does not decode to a plain, storable file name
// ('/' or '\' inside, a NUL, not valid escapes) keeps its zip spelling.
func decodePartName(zipName string) string {
	if !strings.Contains(zipName, "%") {
		return zipName
	}
	segs := strings.Split(zipName, "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil || d == "" || strings.ContainsAny(d, "/\\\x00") || encodeSegment(d) != seg {
			continue
		}
		segs[i] = d
	}
	return strings.Join(segs, "/")
}

// encodePartName turns a tree path into its zip part name.
func encodePartName(treePath string) string {
	segs := strings.Split(treePath, "/")
	for i, seg := range segs {
		segs[i] = encodeSegment(seg)
	}
	return strings.Join(segs, "/")
}

// encodeSegment percent-encodes the characters exports are seen to encode
// in part names, the braces of {!EntityLogicalName} placeholders. The set
// is kept to what is observed so that every zip name round-trips exactly:
// a segment is decoded only when encoding it again gives the same bytes,
// so "%20" or a literal "%" stay as they are in the tree and in the zip.
func encodeSegment(seg string) string {
	if !strings.ContainsAny(seg, "{}") {
		return seg
	}
	return strings.NewReplacer("{", "%7B", "}", "%7D").Replace(seg)
}
