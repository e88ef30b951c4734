package unpack

import "golang.org/x/sys/unix"

// exchange swaps two paths in one call (renamex_np RENAME_SWAP), so
// neither is ever missing. It fails where the file system cannot.
func exchange(a, b string) error {
	return unix.RenamexNp(a, b, unix.RENAME_SWAP)
}
