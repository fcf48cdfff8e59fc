package state

import (
	"errors"
	"os"
	"path/filepath"
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
