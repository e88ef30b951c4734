package unpack

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ppalm/ppalm/internal/safefile"
)

// contentTypes renders [Content_Types].xml the way Dataverse exports it:
// one Default per extension in order of first appearance, one Override per
// part without an extension, all application/octet-stream, one line.
func contentTypes(names []string) []byte {
	var b bytes.Buffer
	b.Write(xmlHeader[:len(xmlHeader)-1])
	b.WriteString(`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`)
	seen := map[string]bool{}
	var overrides []string
	for _, n := range names {
		base := path.Base(n)
		dot := strings.LastIndexByte(base, '.')
		if dot < 0 || dot == len(base)-1 {
			overrides = append(overrides, n)
			continue
		}
		ext := base[dot+1:]
		if seen[strings.ToLower(ext)] {
			continue
		}
		seen[strings.ToLower(ext)] = true
		b.WriteString(`<Default Extension="` + xmlAttrEscape(ext) + `" ContentType="application/octet-stream" />`)
	}
	for _, n := range overrides {
		b.WriteString(`<Override PartName="/` + xmlAttrEscape(n) + `" ContentType="application/octet-stream" />`)
	}
	b.WriteString(`</Types>`)
	return b.Bytes()
}

type zipEntry struct {
	name       string
	data       []byte
	compressed []byte
	crc        uint32
}

// writeZip writes z in the Dataverse-export profile (deflate, flag 0x2,
// made by 4.5/FAT, one timestamp, no directory entries), through a
// temporary file so a failed pack leaves no half-written zip.
func writeZip(ctx context.Context, out string, z *packed, modified time.Time) error {
	if modified.IsZero() {
		modified = time.Now()
	}
	entries := []*zipEntry{
		{name: customizationsPart, data: toCRLF(z.customizations)},
		{name: contentTypesPart},
		{name: solutionPart, data: toCRLF(z.solution)},
	}
	all := append([]string{customizationsPart, solutionPart}, z.names...)
	entries[1].data = contentTypes(all)
	for _, n := range z.names {
		entries = append(entries, &zipEntry{name: n, data: z.parts[n]})
	}
	// Deflate is the expensive part; spread it over the cores.
	var wg sync.WaitGroup
	next := make(chan *zipEntry)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
			for e := range next {
				buf.Reset()
				fw.Reset(&buf)
				// Writing into a bytes.Buffer cannot fail.
				_, _ = fw.Write(e.data)
				_ = fw.Close()
				e.compressed = append([]byte(nil), buf.Bytes()...)
				e.crc = crc32.ChecksumIEEE(e.data)
			}
		}()
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			close(next)
			wg.Wait()
			return err
		}
		next <- e
	}
	close(next)
	wg.Wait()

	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", out, err)
	}
	// 0666 less the umask, as any tool writes a file (os.CreateTemp: 0600).
	tmp, err := safefile.CreateTemp(dir, "."+filepath.Base(out)+".ppalm-")
	if err != nil {
		return fmt.Errorf("write zip %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	dosDate, dosTime := msDosTime(modified)
	for _, e := range entries {
		fh := &zip.FileHeader{
			Name:           e.name,
			Method:         zip.Deflate,
			Flags:          0x2,
			CreatorVersion: 45, // 4.5, FAT (high byte 0)
			ReaderVersion:  20,
			// The DOS fields alone, as Dataverse writes them: Modified
			// would add an extended-timestamp extra field exports lack.
			ModifiedDate:       dosDate, //lint:ignore SA1019 see above
			ModifiedTime:       dosTime, //lint:ignore SA1019 see above
			CRC32:              e.crc,
			CompressedSize64:   uint64(len(e.compressed)),
			UncompressedSize64: uint64(len(e.data)),
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			tmp.Close()
			return fmt.Errorf("write zip %s: entry %s: %w", out, e.name, err)
		}
		if _, err := w.Write(e.compressed); err != nil {
			tmp.Close()
			return fmt.Errorf("write zip %s: entry %s: %w", out, e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return fmt.Errorf("write zip %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write zip %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write zip %s: %w", out, err)
	}
	return nil
}

func msDosTime(t time.Time) (date, tm uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}
