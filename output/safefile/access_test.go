package safefile

import (
	"io/fs"
	"testing"
	"time"
)

// TestAccessDecisions: what every kind of path gets, decided the same on
// every OS (the Windows ACL and the Unix mode come from this one table).
func TestAccessDecisions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		folder bool
		mode   fs.FileMode
		secret bool
		want   Access
	}{
		{"folder", true, 0, false, Access{Mode: 0o700, OwnerOnly: true, ChildrenInherit: true}},
		{"folder asked wider", true, 0o755, false, Access{Mode: 0o700, OwnerOnly: true, ChildrenInherit: true}},
		{"secret file", false, 0o600, true, Access{Mode: 0o600, OwnerOnly: true}},
		{"secret file asked 0644", false, 0o644, true, Access{Mode: 0o600, OwnerOnly: true}},
		{"private file", false, 0o600, false, Access{Mode: 0o600, OwnerOnly: true}},
		{"read-only private file", false, 0o400, false, Access{Mode: 0o400, OwnerOnly: true}},
		{"shareable file", false, 0o644, false, Access{Mode: 0o644}},
		{"group-readable file", false, 0o640, false, Access{Mode: 0o640}},
		{"mode bits beyond perm ignored", false, fs.ModeSetuid | 0o600, false, Access{Mode: 0o600, OwnerOnly: true}},
	} {
		if got := AccessFor(tc.folder, tc.mode, tc.secret); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if fileAllAccess != 0x1F01FF {
		t.Errorf("full control mask %#x, want FILE_ALL_ACCESS 0x1F01FF", fileAllAccess)
	}
}

// TestFolderACLDecision: an existing folder full of someone else's files
// keeps its ACL (replacing it would propagate to every child).
func TestFolderACLDecision(t *testing.T) {
	for _, tc := range []struct {
		created bool
		entries []string
		want    bool
	}{
		{true, nil, true},
		{true, []string{"x"}, true},
		{false, nil, true},
		{false, []string{RecordName, "settings.md"}, true},
		{false, []string{LockName}, true},
		{false, []string{"Budget.xlsx", "Photos"}, false},
	} {
		if got := folderACLApplies(tc.created, tc.entries); got != tc.want {
			t.Errorf("created %v entries %v: %v", tc.created, tc.entries, got)
		}
	}
}

// TestReparseDecisions: which Windows reparse points are links (refused)
// and which are the file itself (OneDrive placeholders are written into).
func TestReparseDecisions(t *testing.T) {
	const reparse = 0x400
	for _, tc := range []struct {
		name      string
		attrs     uint32
		tag       uint32
		surrogate bool
	}{
		{"symlink", reparse, 0xA000000C, true},              // IO_REPARSE_TAG_SYMLINK
		{"junction", reparse, 0xA0000003, true},             // IO_REPARSE_TAG_MOUNT_POINT
		{"OneDrive cloud file", reparse, 0x9000301A, false}, // IO_REPARSE_TAG_CLOUD_3
		{"dedup", reparse, 0x80000013, false},               // IO_REPARSE_TAG_DEDUP
		{"plain file", 0x20, 0, false},
		{"tag without the attribute", 0x20, 0xA000000C, false},
	} {
		if got := isNameSurrogate(tc.attrs, tc.tag); got != tc.surrogate {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	type mode = fs.FileMode
	for _, tc := range []struct {
		name            string
		m               mode
		junction, plain bool
	}{
		{"regular", 0o644, false, true},
		{"OneDrive file (irregular, regular otherwise)", fs.ModeIrregular | 0o666, true, true},
		{"OneDrive folder", fs.ModeIrregular | fs.ModeDir | 0o777, false, false},
		{"junction (irregular, not a dir)", fs.ModeIrregular | 0o666, true, true},
		{"folder", fs.ModeDir | 0o700, false, false},
		{"symlink", fs.ModeSymlink | 0o777, false, false},
		{"pipe", fs.ModeNamedPipe | 0o600, false, false},
	} {
		fi := fakeInfo{tc.m}
		if isJunction(fi) != tc.junction || isPlainFile(fi) != tc.plain {
			t.Errorf("%s: junction %v plain %v", tc.name, isJunction(fi), isPlainFile(fi))
		}
	}
}

type fakeInfo struct{ m fs.FileMode }

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.m }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.m.IsDir() }
func (f fakeInfo) Sys() any           { return nil }
