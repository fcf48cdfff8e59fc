package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mailoauth-out", "app")
	path := filepath.Join(dir, "state.json")
	if _, err := Load(path); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load of a missing file = %v, want ErrNotFound", err)
	}
	s := New("tenant-1", "custom")
	s.AppObjectID, s.ClientID = "obj", "client"
	s.Grants["00000002-0000-0ff1-ce00-000000000000"] = Grant{ID: "g1", ResourceID: "r1", Scope: "IMAP.AccessAsUser.All", Created: true}
	s.Secret = &Secret{KeyID: "k", Hint: "abc", EndDateTime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.MarkDone(StepApp)
	s.MarkDone(StepApp)
	if err := Save(path, s); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v, want 0600 / 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "client" || got.Grants["00000002-0000-0ff1-ce00-000000000000"].ID != "g1" || got.Secret.Hint != "abc" {
		t.Errorf("round trip lost data: %+v", got)
	}
	if len(got.Steps) != 1 || !got.Done(StepApp) || got.Done(StepSecret) {
		t.Errorf("steps = %v", got.Steps)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only state.json", len(entries))
	}
}

func TestLoadRejectsGarbageAndFutureVersions(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	if _, err := Load(bad); err == nil {
		t.Fatal("garbage accepted")
	}
	future := filepath.Join(dir, "future.json")
	os.WriteFile(future, []byte(`{"version":99}`), 0o600)
	if _, err := Load(future); err == nil {
		t.Fatal("future version accepted")
	}
}

// The state file's folder and the file itself are never written through a
// symbolic link (issue 10 item 8).
func TestSaveRefusesSymlinks(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	os.Mkdir(target, 0o755)
	link := filepath.Join(base, "out")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symbolic links here: %v", err)
	}
	err := Save(filepath.Join(link, "state.json"), New("t", "global"))
	if err == nil || !strings.Contains(err.Error(), "refusing to write through the symbolic link "+link+" -> "+target) {
		t.Fatalf("symlinked folder: %v", err)
	}
	other := filepath.Join(base, "other.json")
	os.WriteFile(other, []byte("keep"), 0o644)
	dir := filepath.Join(base, "real")
	os.Mkdir(dir, 0o700)
	os.Symlink(other, filepath.Join(dir, "state.json"))
	err = Save(filepath.Join(dir, "state.json"), New("t", "global"))
	if err == nil || !strings.Contains(err.Error(), "refusing to write through the symbolic link") {
		t.Fatalf("symlinked file: %v", err)
	}
	if b, _ := os.ReadFile(other); string(b) != "keep" {
		t.Fatalf("target changed: %q", b)
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Fatalf("written into the link's target: %v", ents)
	}
}
