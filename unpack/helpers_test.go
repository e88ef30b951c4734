package unpack

import (
	"archive/zip"
	"time"
)

type zipHeader struct {
	Name           string
	Method         uint16
	Flags          uint16
	CreatorVersion uint16
	ReaderVersion  uint16
	ExternalAttrs  uint32
	Modified       time.Time
}

func openZip(p string) (*zip.ReadCloser, error) { return zip.OpenReader(p) }
