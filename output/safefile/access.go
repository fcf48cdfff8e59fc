package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Access is what a path mailoauth writes is given. Unix enforces Mode; on
// Windows os.Chmod only toggles the read-only bit, so privacy there is the
// ACL: OwnerOnly means a protected DACL (nothing inherited from the parent)
// holding one ACE, full control for the current user's SID.
//
// The decision (AccessFor) is plain data, tested on every OS; acl_windows.go
// and acl_other.go only carry it out.
type Access struct {
	// Mode is the Unix permission bits.
	Mode fs.FileMode
	// OwnerOnly: on Windows, replace the DACL with the current user alone.
	OwnerOnly bool
	// ChildrenInherit: the single ACE of a folder is inherited by what is
	// made inside it, so a file is owner-only from the moment it exists
	// (before its own DACL is set) rather than readable for an instant.
	ChildrenInherit bool
}

// Owner-only full control, as an ACCESS_MASK: FILE_ALL_ACCESS
// (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF), the specific rights that
// GENERIC_ALL maps to for files and folders.
const fileAllAccess = 0x001F01FF

// AccessFor decides what a path gets: a folder mailoauth writes into is
// always 0700 and owner-only (it will hold the secret); a file that holds
// a secret is 0600 and owner-only whatever mode was asked for; any other
// file keeps the asked-for mode and is owner-only when that mode grants
// nothing to group and others.
func AccessFor(folder bool, mode fs.FileMode, secret bool) Access {
	switch {
	case folder:
		return Access{Mode: 0o700, OwnerOnly: true, ChildrenInherit: true}
	case secret:
		return Access{Mode: 0o600, OwnerOnly: true}
	}
	m := mode.Perm()
	return Access{Mode: m, OwnerOnly: m&0o077 == 0}
}

// folderACLApplies decides whether an existing folder's ACL may be replaced
// on Windows. Replacing a DACL propagates to the folder's children, so it is
// done only to a folder made by this run, an empty one, or one mailoauth
// already writes (it holds the record or the lock): never to a folder full
// of the admin's other files that --out happened to name. Files that hold
// a secret get their own owner-only DACL in every case.
func folderACLApplies(created bool, entries []string) bool {
	if created || len(entries) == 0 {
		return true
	}
	for _, e := range entries {
		if e == RecordName || e == LockName {
			return true
		}
	}
	return false
}

// SymlinkError is a path mailoauth refused to write through because it is
// a symbolic link (or another reparse point). Writing through it would
// change the file or folder it points to, which mailoauth did not make.
type SymlinkError struct {
	Path   string
	Target string // "" when it could not be read (a junction, a mount point)
}

func (e *SymlinkError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("refusing to write through %s, a link to another place (junction or mount point); remove it or choose another path", e.Path)
	}
	return fmt.Sprintf("refusing to write through the symbolic link %s -> %s; remove it or choose another path", e.Path, e.Target)
}

// isLink reports whether an Lstat result is a symbolic link.
func isLink(fi fs.FileInfo) bool { return fi.Mode()&fs.ModeSymlink != 0 }

// isJunction reports a folder-like link that is not a symlink: Go reports a
// Windows junction or mount point as irregular and not a directory. A
// OneDrive (cloud files) folder is irregular too, but still a directory, and
// is written into as any folder.
func isJunction(fi fs.FileInfo) bool {
	return fi.Mode()&fs.ModeIrregular != 0 && !fi.IsDir()
}

// isNameSurrogate reports a Windows reparse point that names another place
// (symlink, junction, mount point): the name-surrogate bit of its tag
// (winnt.h IsReparseTagNameSurrogate). Kept here, OS-independent, so the
// rule is tested everywhere.
func isNameSurrogate(attributes, reparseTag uint32) bool {
	const fileAttributeReparsePoint = 0x400
	return attributes&fileAttributeReparsePoint != 0 && reparseTag&0x20000000 != 0
}

// isPlainFile: a regular file, or one Windows reports as irregular because
// of a reparse tag that is not a link (OneDrive placeholders, for one).
// Folders, devices, pipes, sockets and links are not.
func isPlainFile(fi fs.FileInfo) bool { return fi.Mode().Type()&^fs.ModeIrregular == 0 }

func linkError(path string) error {
	target, _ := os.Readlink(path)
	return &SymlinkError{Path: path, Target: target}
}

// checkNotLink refuses path when it is a link; a missing path is fine.
func checkNotLink(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if isLink(fi) {
		return fi, linkError(path)
	}
	return fi, nil
}

// sameAsLstat confirms that an open file is the one at path and that path
// is not a link: it closes the race between a check and an open on systems
// without O_NOFOLLOW (Windows), and turns ELOOP from O_NOFOLLOW into the
// SymlinkError it stands for.
func sameAsLstat(f *os.File, path string) error {
	li, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if isLink(li) {
		return linkError(path)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(li, fi) {
		return fmt.Errorf("%s changed while it was being opened; run again", path)
	}
	return nil
}

// openNoFollow opens path without following a final symbolic link.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|oNoFollow, perm)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && isLink(fi) {
			return nil, linkError(path)
		}
		return nil, err
	}
	if err := sameAsLstat(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
