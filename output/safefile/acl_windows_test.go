//go:build windows

package safefile

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// ownerOnlyState reads a path's DACL: whether it is protected, its ACEs'
// SIDs, masks and inheritance flags.
type aceInfo struct {
	sid   *windows.SID
	mask  windows.ACCESS_MASK
	flags uint8
	typ   uint8
}

func readDACL(t *testing.T, path string) (protected bool, aces []aceInfo) {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	ctl, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	for i := uint16(0); dacl != nil && i < dacl.AceCount; i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, uint32(i), &ace); err != nil {
			t.Fatal(err)
		}
		aces = append(aces, aceInfo{sid: (*windows.SID)(unsafe.Pointer(&ace.SidStart)), mask: ace.Mask, flags: ace.Header.AceFlags, typ: ace.Header.AceType})
	}
	return ctl&windows.SE_DACL_PROTECTED != 0, aces
}

func wantOwnerOnly(t *testing.T, path string, inherit bool) {
	t.Helper()
	me, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	protected, aces := readDACL(t, path)
	if !protected {
		t.Errorf("%s: DACL not protected (inherits from its parent)", path)
	}
	if len(aces) != 1 {
		t.Fatalf("%s: %d ACEs, want exactly one (the current user)", path, len(aces))
	}
	a := aces[0]
	if a.typ != windows.ACCESS_ALLOWED_ACE_TYPE || !a.sid.Equals(me) || a.mask != fileAllAccess {
		t.Errorf("%s: ACE type %d sid %v mask %#x; want allow, %v, %#x", path, a.typ, a.sid, a.mask, me, fileAllAccess)
	}
	const inheritFlags = windows.OBJECT_INHERIT_ACE | windows.CONTAINER_INHERIT_ACE
	if got := a.flags&inheritFlags == inheritFlags; got != inherit {
		t.Errorf("%s: inheritable %v, want %v (flags %#x)", path, got, inherit, a.flags)
	}
}

// TestWindowsSecretFilesAreOwnerOnly: the folder, a secret file written by
// Put, the record, a state-style WriteSecret, a trace and the lock file all
// carry a protected DACL with one ACE for the current user.
func TestWindowsSecretFilesAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantOwnerOnly(t, dir, true)
	if _, err := f.Put("settings.env", []byte("CLIENT_SECRET="+secret), secret, 0o644); err != nil {
		t.Fatal(err)
	}
	wantOwnerOnly(t, filepath.Join(dir, "settings.env"), false)
	wantOwnerOnly(t, filepath.Join(dir, RecordName), false)
	state := filepath.Join(dir, "state.json")
	if err := WriteSecret(state, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	wantOwnerOnly(t, state, false)
	tr, err := CreatePrivate(filepath.Join(dir, "trace.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	wantOwnerOnly(t, filepath.Join(dir, "trace.jsonl"), false)
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	wantOwnerOnly(t, filepath.Join(dir, LockName), false)
	// Backslash paths with a drive letter are what the folder is.
	if vol := filepath.VolumeName(dir); vol == "" {
		t.Errorf("temp folder %s has no drive letter", dir)
	}
}

// A folder full of someone else's files keeps its ACL; the secret file
// written into it is still owner-only.
func TestWindowsForeignFolderKeepsItsACL(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Budget.xlsx"), []byte("x"), 0o644)
	before, beforeACEs := readDACL(t, dir)
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	after, afterACEs := readDACL(t, dir)
	if before != after || len(beforeACEs) != len(afterACEs) {
		t.Errorf("the admin's folder ACL changed: protected %v->%v, %d->%d ACEs", before, after, len(beforeACEs), len(afterACEs))
	}
	if _, err := f.Put(".env", []byte("S="+secret), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	wantOwnerOnly(t, filepath.Join(dir, ".env"), false)
}

// A second handle may read the holder's details while the lock is held
// (the lock byte sits beyond the content).
func TestWindowsLockLeavesDetailsReadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	b, err := os.ReadFile(filepath.Join(dir, LockName))
	if err != nil || len(b) == 0 {
		t.Fatalf("lock details unreadable while held: %q %v", b, err)
	}
}
