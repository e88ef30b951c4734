//go:build !linux && !darwin

package unpack

import "errors"

// exchange is not available here: a swap renames twice.
func exchange(a, b string) error { return errors.ErrUnsupported }
