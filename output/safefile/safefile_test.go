package safefile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secret = "Xy7~Q8.golden-fixture-only_0"

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestEnsureDirCreatesAndTightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Fatalf("new folder mode %v, want 0700", m)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Fatalf("existing folder mode %v, want tightened to 0700", m)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	if err := EnsureDir(file); err == nil {
		t.Fatal("EnsureDir on a file: want an error")
	}
}

func TestWriteAtomicModeAndNoLeftovers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.json")
	if err := WriteAtomic(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "two" || mode(t, p) != 0o644 {
		t.Fatalf("got %q mode %v", got, mode(t, p))
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}

func TestPutProtectsModifiedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	f, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v1 := []byte("client_secret=" + secret + "\nclient_id=1\n")
	if st, err := f.Put("s.env", v1, secret, 0o600); err != nil || st != Written {
		t.Fatalf("first write: %v %v", st, err)
	}
	// The record must not contain the secret, and its hash is not of the raw file.
	rec, _ := os.ReadFile(filepath.Join(dir, RecordName))
	if bytes.Contains(rec, []byte(secret)) {
		t.Fatal("record holds the secret")
	}
	if mode(t, filepath.Join(dir, RecordName)) != 0o600 {
		t.Fatal("record is not 0600")
	}

	// A re-run with the same content: unchanged.
	if st, _ := f.Put("s.env", v1, secret, 0o600); st != Unchanged {
		t.Fatalf("same content: %v, want unchanged", st)
	}
	// A re-run with a new secret and no edits by the admin: overwritten, even
	// from a fresh Folder (the record is read back from disk).
	f2, _ := Open(dir, Options{})
	newSecret := strings.Repeat("z", 40)
	v2 := []byte("client_secret=" + newSecret + "\nclient_id=1\n")
	if st, err := f2.Put("s.env", v2, newSecret, 0o600); err != nil || st != Written {
		t.Fatalf("rewrite with new secret: %v %v", st, err)
	}

	// The admin edits the file: skipped, and the edit survives.
	edited := append(append([]byte(nil), v2...), []byte("# my note\n")...)
	os.WriteFile(filepath.Join(dir, "s.env"), edited, 0o600)
	f3, _ := Open(dir, Options{})
	if m, _ := f3.Modified("s.env"); !m {
		t.Fatal("Modified: want true after an edit")
	}
	if st, _ := f3.Put("s.env", v1, secret, 0o600); st != SkippedModified {
		t.Fatalf("edited file: %v, want skipped-modified", st)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "s.env")); !bytes.Equal(got, edited) {
		t.Fatal("the admin's edit was overwritten")
	}
	// Confirm is asked with the path; "no" skips, "yes" writes.
	var asked string
	f4, _ := Open(dir, Options{Confirm: func(p string) bool { asked = p; return false }})
	if st, _ := f4.Put("s.env", v1, secret, 0o600); st != SkippedModified || asked != filepath.Join(dir, "s.env") {
		t.Fatalf("confirm no: %v asked %q", st, asked)
	}
	f5, _ := Open(dir, Options{Confirm: func(string) bool { return true }})
	if st, _ := f5.Put("s.env", v1, secret, 0o600); st != Written {
		t.Fatalf("confirm yes: %v", st)
	}
	// Force overwrites without asking.
	os.WriteFile(filepath.Join(dir, "s.env"), []byte("changed"), 0o600)
	f6, _ := Open(dir, Options{Force: true, Confirm: func(string) bool { t.Fatal("Force must not ask"); return false }})
	if st, _ := f6.Put("s.env", v1, secret, 0o600); st != Written {
		t.Fatalf("force: %v", st)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "s.env")); !bytes.Equal(got, v1) {
		t.Fatal("force did not overwrite")
	}
}

func TestPutForeignFileIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "settings.md"), []byte("the admin's own notes"), 0o644)
	f, _ := Open(dir, Options{})
	if st, _ := f.Put("settings.md", []byte("ours"), "", 0o600); st != SkippedModified {
		t.Fatalf("a file mailoauth never wrote: %v, want skipped-modified", st)
	}
}

func TestUnchangedTightensMode(t *testing.T) {
	dir := t.TempDir()
	f, _ := Open(dir, Options{})
	f.Put(".env", []byte("S="+secret), secret, 0o600)
	os.Chmod(filepath.Join(dir, ".env"), 0o644)
	if st, _ := f.Put(".env", []byte("S="+secret), secret, 0o600); st != Unchanged {
		t.Fatalf("%v", st)
	}
	if m := mode(t, filepath.Join(dir, ".env")); m != 0o600 {
		t.Fatalf("mode %v, want 0600", m)
	}
}

func TestDamagedRecordTreatsFilesAsModified(t *testing.T) {
	dir := t.TempDir()
	f, _ := Open(dir, Options{})
	f.Put("a.txt", []byte("a"), "", 0o644)
	os.WriteFile(filepath.Join(dir, RecordName), []byte("{not json"), 0o600)
	f2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := f2.Put("a.txt", []byte("b"), "", 0o644); st != SkippedModified {
		t.Fatalf("%v", st)
	}
}

func TestSpansOutOfRangeMeanModified(t *testing.T) {
	dir := t.TempDir()
	f, _ := Open(dir, Options{})
	f.Put("s", []byte("x"+secret), secret, 0o600)
	os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o600) // truncated
	if m, _ := f.Modified("s"); !m {
		t.Fatal("truncated file: want modified")
	}
	var r record
	raw, _ := os.ReadFile(filepath.Join(dir, RecordName))
	json.Unmarshal(raw, &r)
	if got := r.Files["s"].SecretSpans; len(got) != 1 || got[0] != [2]int{1, len(secret)} {
		t.Fatalf("spans %v", got)
	}
}

func TestBadNamesAndSymlinks(t *testing.T) {
	dir := t.TempDir()
	f, _ := Open(dir, Options{Force: true})
	for _, n := range []string{"", "..", "a/b", RecordName, `a\b`} {
		if _, err := f.Put(n, nil, "", 0o600); err == nil || !strings.Contains(err.Error(), "accepted form") {
			t.Errorf("Put(%q): %v", n, err)
		}
	}
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	os.Symlink(target, filepath.Join(dir, "link"))
	if _, err := f.Put("link", []byte("x"), "", 0o600); err == nil {
		t.Fatal("a symlink in the output folder must be refused")
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Fatal("symlink target was changed")
	}
}
