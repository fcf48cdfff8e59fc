package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// symlinkOrSkip makes a symbolic link; Windows without the privilege (or
// developer mode) cannot, which is then the only reason to skip.
func symlinkOrSkip(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
		t.Fatal(err)
	}
}

func wantSymlinkError(t *testing.T, err error, link, target string) {
	t.Helper()
	var se *SymlinkError
	if !errors.As(err, &se) {
		t.Fatalf("error %v: want a *SymlinkError", err)
	}
	want := "refusing to write through the symbolic link " + link + " -> " + target + "; remove it or choose another path"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q\nwant %q", err, want)
	}
}

// Issue 10 item 8: a symlinked output folder was written into and its
// target made 0700. Now it is refused, and the target is untouched.
func TestSymlinkedOutputFolderRefused(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "out")
	symlinkOrSkip(t, target, link)
	if _, err := Open(link, Options{}); err == nil {
		t.Fatal("Open on a symlinked folder: no error")
	} else {
		wantSymlinkError(t, err, link, target)
	}
	if err := EnsureDir(link); err == nil {
		t.Fatal("EnsureDir on a symlinked folder: no error")
	}
	if _, err := LockDir(link); err == nil {
		t.Fatal("LockDir on a symlinked folder: no error")
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, target); m != 0o755 {
			t.Fatalf("target folder mode %v, want it left 0755", m)
		}
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Fatalf("files written into the link's target: %v", ents)
	}
}

// A symlink at a file's place: WriteAtomic, WriteSecret and Put refuse it
// and leave the target as it was.
func TestSymlinkedFilesRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "state.json")
	symlinkOrSkip(t, target, link)
	for name, write := range map[string]func() error{
		"WriteAtomic": func() error { return WriteAtomic(link, []byte("x"), 0o600) },
		"WriteSecret": func() error { return WriteSecret(link, []byte("x")) },
		"Put": func() error {
			f, err := Open(dir, Options{Force: true})
			if err != nil {
				return err
			}
			_, err = f.Put("state.json", []byte("x"), "", 0o600)
			return err
		},
		"CreatePrivate": func() error {
			f, err := CreatePrivate(link)
			if err == nil {
				f.Close()
			}
			return err
		},
	} {
		err := write()
		if err == nil {
			t.Fatalf("%s through a symlink: no error", name)
		}
		wantSymlinkError(t, err, link, target)
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Fatalf("target changed: %q", got)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, target); m != 0o644 {
			t.Fatalf("target mode %v, want 0644", m)
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced; the rule is to refuse, not replace")
	}
}

// The race: a link planted between the check and the rename is replaced
// by the new file (rename does not follow), never written through.
func TestRenameReplacesRacingLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	path := filepath.Join(dir, "settings.env")
	tmp, err := os.CreateTemp(dir, ".x-*")
	if err != nil {
		t.Fatal(err)
	}
	tmp.WriteString("new")
	tmp.Close()
	symlinkOrSkip(t, target, path) // planted after the check
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Fatalf("target changed: %q", got)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("path holds %q", got)
	}
}

// openNoFollow refuses a final link even when the caller skipped the check.
func TestOpenNoFollowRefusesLink(t *testing.T) {
	target := filepath.Join(t.TempDir(), "t")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(t.TempDir(), "l")
	symlinkOrSkip(t, target, link)
	if f, err := openNoFollow(link, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatal("opened through a link")
	} else {
		wantSymlinkError(t, err, link, target)
	}
}

func TestCreatePrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := CreatePrivate(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("one\n")
	f.Close()
	if runtime.GOOS != "windows" {
		os.Chmod(p, 0o644)
	}
	f, err = CreatePrivate(p) // existing: truncated and tightened
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := os.ReadFile(p); len(got) != 0 {
		t.Fatalf("not truncated: %q", got)
	}
	if runtime.GOOS != "windows" && mode(t, p) != 0o600 {
		t.Fatalf("mode %v", mode(t, p))
	}
	if _, err := CreatePrivate(t.TempDir()); err == nil {
		t.Fatal("a folder accepted as a trace file")
	}
}
