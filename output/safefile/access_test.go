package safefile

import (
	"io/fs"
	"testing"
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
