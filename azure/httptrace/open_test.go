package httptrace

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Issue 10 item 8: a symlinked --debug-http path had its target truncated
// and made 0600. Open now refuses the link and leaves the target alone.
func TestOpenRefusesSymlink(t *testing.T) {
	target := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(target, []byte("the admin's notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "trace.jsonl")
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("cannot make symbolic links here: %v", err)
		}
		t.Fatal(err)
	}
	tr, err := Open(link)
	if err == nil {
		tr.Close()
		t.Fatal("Open through a symlink: no error")
	}
	want := "--debug-http: refusing to write through the symbolic link " + link + " -> " + target + "; remove it or choose another path"
	if err.Error() != want {
		t.Fatalf("error %q\nwant  %q", err, want)
	}
	if b, _ := os.ReadFile(target); string(b) != "the admin's notes" {
		t.Fatalf("target truncated: %q", b)
	}
	if fi, _ := os.Stat(target); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Fatalf("target mode changed to %v", fi.Mode().Perm())
	}
}

// An existing trace file is truncated and tightened to 0600; a new one's
// missing folder is made private.
func TestOpenTruncatesAndTightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "traces")
	path := filepath.Join(dir, "t.jsonl")
	tr, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tr.w.Write([]byte("old line\n"))
	tr.Close()
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Fatalf("new folder mode %v", fi.Mode().Perm())
		}
		os.Chmod(path, 0o644)
	}
	tr, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if len(b) != 0 || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("content %q mode %v", b, fi.Mode().Perm())
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a folder as the trace file: %v", err)
	}
}
