//go:build !unix

package unpack

// fileID is not recorded where there is no inode; a swap there never
// exchanges, so whether a folder still waits in the new tree says enough.
type fileID struct{}

func (fileID) known() bool { return false }

func idOf(string) (fileID, bool) { return fileID{}, false }
