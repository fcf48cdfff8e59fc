//go:build !windows

package safefile

import (
	"io/fs"
	"os"
)

// applyAccess gives an open file its access: the mode, through the
// descriptor, so a path swapped for a link meanwhile is not touched.
// Ownership by the current user is Unix's default for what it creates.
func applyAccess(f *os.File, a Access) error { return f.Chmod(a.Mode.Perm()) }

// applyFolderMode tightens an open folder's mode when it differs.
func applyFolderMode(d *os.File, fi fs.FileInfo, a Access) error {
	if fi.Mode().Perm() == a.Mode.Perm() {
		return nil
	}
	return d.Chmod(a.Mode.Perm())
}

// applyFolderACL: Unix folders need nothing beyond their mode.
func applyFolderACL(string, Access) error { return nil }
