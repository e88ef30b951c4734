package unpack

import "golang.org/x/sys/unix"

// exchange swaps two paths in one call (renameat2 RENAME_EXCHANGE), so
// neither is ever missing. It fails where the file system cannot.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
