//go:build windows

package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// applyAccess gives an open file its access. os.Chmod on Windows only sets
// or clears the read-only attribute, so an owner-only file also gets a
// protected DACL with a single ACE: the current user, full control.
func applyAccess(f *os.File, a Access) error {
	if err := f.Chmod(a.Mode.Perm()); err != nil {
		return err
	}
	if !a.OwnerOnly {
		return nil
	}
	return setOwnerOnly(f.Name(), a.ChildrenInherit)
}

// applyFolderMode does nothing on Windows: a folder's mode bits there are
// only the read-only attribute, which does not protect it; the ACL does.
func applyFolderMode(*os.File, fs.FileInfo, Access) error { return nil }

// applyFolderACL makes a folder owner-only (see folderACLApplies for when).
func applyFolderACL(path string, a Access) error {
	if !a.OwnerOnly {
		return nil
	}
	return setOwnerOnly(path, a.ChildrenInherit)
}

// currentUserSID is the SID of the user this process runs as.
func currentUserSID() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("reading the current user's SID: %w", err)
	}
	return u.User.Sid.Copy()
}

// ownerOnlyACL is a DACL with one ACE: full control for the current user,
// inherited by children when inherit (folders).
func ownerOnlyACL(inherit bool) (*windows.ACL, error) {
	sid, err := currentUserSID()
	if err != nil {
		return nil, err
	}
	inh := uint32(windows.NO_INHERITANCE)
	if inherit {
		inh = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
	}
	return windows.ACLFromEntries([]windows.EXPLICIT_ACCESS{{
		AccessPermissions: fileAllAccess,
		AccessMode:        windows.SET_ACCESS,
		Inheritance:       inh,
		Trustee: windows.TRUSTEE{
			TrusteeForm:  windows.TRUSTEE_IS_SID,
			TrusteeType:  windows.TRUSTEE_IS_USER,
			TrusteeValue: windows.TrusteeValueFromSID(sid),
		},
	}}, nil)
}

// setOwnerOnly replaces path's DACL with ownerOnlyACL, protected so that
// nothing is inherited from the parent. The handle is opened without
// following a reparse point, and a reparse point is refused, so a link
// planted at path never has its target's ACL changed.
func setOwnerOnly(path string, inherit bool) error {
	acl, err := ownerOnlyACL(inherit)
	if err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.WRITE_DAC|windows.READ_CONTROL|windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	defer windows.CloseHandle(h)
	// FILE_ATTRIBUTE_TAG_INFO: a name-surrogate reparse point (symlink,
	// junction, mount point) points elsewhere and is refused; other tags
	// (OneDrive's cloud files, dedup) are the file itself.
	var tag struct {
		FileAttributes uint32
		ReparseTag     uint32
	}
	if err := windows.GetFileInformationByHandleEx(h, windows.FileAttributeTagInfo, (*byte)(unsafe.Pointer(&tag)), uint32(unsafe.Sizeof(tag))); err != nil {
		return fmt.Errorf("making %s private: %w", path, err)
	}
	if isNameSurrogate(tag.FileAttributes, tag.ReparseTag) {
		return linkError(path)
	}
	if err := windows.SetSecurityInfo(h, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil); err != nil {
		return fmt.Errorf("making %s private (owner-only ACL): %w", path, err)
	}
	return nil
}
