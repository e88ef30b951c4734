// Package solzip is the one reader of solution zips in ppalm: unpack, plan,
// import, settings and the emulator all open a zip through it, so they
// refuse the same zips and agree on which entry is the zip's solution.xml.
//
// # What Open refuses (before inflating anything)
//
//   - an entry name that would escape a folder or that Windows, macOS or
//     Linux cannot store as a file (CheckName): empty, absolute ("/x",
//     "C:x"), a backslash, an empty, "." or ".." segment, invalid UTF-8, a
//     control character (U+0000 to U+001F), one of <>:"|?*, a segment ending
//     in a dot or a space, a reserved device name (CON, PRN, AUX, NUL,
//     COM0-9, LPT0-9 and their superscript-digit forms, CONIN$, CONOUT$,
//     with or without an extension), a segment longer than 255 bytes;
//   - two entries whose names are equal ignoring letter case (a repeated
//     name, solution.xml beside Solution.xml), a name that is both a file and
//     a folder, and one folder spelt in two letter cases: each would overwrite
//     or mix with the other on Windows and macOS;
//   - more than MaxEntries entries, entries whose sizes add up to more
//     than Options.MaxInflated (DefaultMaxInflated), and an entry past
//     RatioGraceSize that inflates to more than Options.MaxRatio
//     (DefaultMaxRatio, Apache POI's limit for OOXML) times its compressed
//     size. archive/zip fails an entry that inflates past the size its
//     header claims, so the headers are a sound bound and a zip bomb is
//     refused from them;
//   - a zip without a solution.xml and a customizations.xml at its root
//     (found ignoring letter case, so there is exactly one of each), a
//     solution.xml whose root is not <ImportExportXml> holding
//     <SolutionManifest>, a customizations.xml whose root is not
//     <ImportExportXml>, and either of them with a DOCTYPE or an encoding
//     other than UTF-8.
//
// # Memory
//
// Nothing is inflated until asked for: Open reads only the head of each
// manifest to check it, or, with Options.ReadManifests, both manifests
// whole (as ReadXML, under the same limits) for a caller that needs them.
// Read holds one entry; OpenXML streams one XML entry and fails once it has
// passed MaxXMLElements tags, so a reader that decodes the stream holds
// neither the bytes nor more than the limit's worth of elements; ReadXML
// holds an XML entry under the same limit. Every byte inflated counts
// against MaxInflated, whatever the headers say.
package solzip
