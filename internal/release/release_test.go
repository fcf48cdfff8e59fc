package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/cli"
)

var testStamp = Stamp{Version: "1.2.0", Commit: "77bb923f00000000000000000000000000000000", Date: time.Date(2026, 12, 2, 7, 17, 37, 0, time.UTC)}

// TestArchivesAreReproducible: the same inputs give the same bytes, and
// nothing of the machine gets in: entries in a fixed order under one
// folder, modes 0755/0644, owner 0, every time the commit's date.
func TestArchivesAreReproducible(t *testing.T) {
	bin, readme := []byte("\x7fELF pretend binary"), []byte("# mailoauth\n")
	for _, tg := range Targets {
		name, a, err := Archive(tg, testStamp, bin, readme)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond / time.Duration(len(Targets))) // the clock moves on; the bytes must not
		_, b, err := Archive(tg, testStamp, bin, readme)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two archives of the same inputs differ", tg)
		}
		dir := "mailoauth_1.2.0_" + tg.OS + "_" + tg.Arch + "/"
		exe := "mailoauth"
		if tg.OS == "windows" {
			exe += ".exe"
			if name != "mailoauth_1.2.0_"+tg.OS+"_"+tg.Arch+".zip" {
				t.Errorf("name %s", name)
			}
		} else if name != "mailoauth_1.2.0_"+tg.OS+"_"+tg.Arch+".tar.gz" {
			t.Errorf("name %s", name)
		}
		got := list(t, name, a)
		want := []string{dir + " 755", dir + "README.md 644", dir + exe + " 755"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s entries %q, want %q", name, got, want)
		}
	}
}

// list reads an archive back as the tools an admin uses would, checking
// every entry's time and owner, and returns "name mode" per entry.
func list(t *testing.T, name string, data []byte) []string {
	t.Helper()
	var out []string
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !f.Modified.Equal(testStamp.Date) {
				t.Errorf("%s: %s dated %v", name, f.Name, f.Modified)
			}
			out = append(out, f.Name+" "+fmtMode(f.Mode()))
		}
		return out
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !gz.ModTime.Equal(testStamp.Date) || gz.Name != "" {
		t.Errorf("%s: gzip header %v %q", name, gz.ModTime, gz.Name)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(testStamp.Date) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: %s has time %v, owner %d:%d %q:%q", name, h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		out = append(out, h.Name+" "+fmtMode(os.FileMode(h.Mode)))
	}
	return out
}

func fmtMode(m os.FileMode) string { return fmt.Sprintf("%o", m.Perm()) }

// TestChecksumsFile: the format sha256sum -c reads, sorted, with only the
// file names; and sha256sum itself agrees.
func TestChecksumsFile(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"mailoauth_1.2.0_windows_amd64.zip", "mailoauth_1.2.0_darwin_arm64.tar.gz"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	sums, err := Checksums(paths)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "  mailoauth_1.2.0_darwin_arm64.tar.gz") {
		t.Fatalf("checksums:\n%s", sums)
	}
	h := sha256.Sum256([]byte("mailoauth_1.2.0_darwin_arm64.tar.gz"))
	if !strings.HasPrefix(lines[0], hex.EncodeToString(h[:])+"  ") {
		t.Errorf("wrong sum: %s", lines[0])
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		file := filepath.Join(dir, ChecksumsName(testStamp))
		if err := os.WriteFile(file, sums, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sha, "-c", filepath.Base(file))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
}

// TestStampNamesTheCLIVariables: the -X flags set variables that exist
// (a rename in cli breaks this test's compilation, not a release).
func TestStampNamesTheCLIVariables(t *testing.T) {
	_ = []*string{&cli.Version, &cli.Commit, &cli.Date}
	ld := testStamp.LDFlags()
	for _, w := range []string{"-s -w", "-X github.com/mailoauth/mailoauth/cli.Version=1.2.0", "-X github.com/mailoauth/mailoauth/cli.Commit=77bb923f", "-X github.com/mailoauth/mailoauth/cli.Date=2026-12-02T07:17:37Z"} {
		if !strings.Contains(ld, w) {
			t.Errorf("ldflags %q lack %q", ld, w)
		}
	}
	if _, err := pickTargets("linux/amd64,plan9/386"); err == nil || !strings.Contains(err.Error(), "darwin/arm64") {
		t.Errorf("a bad target: %v", err)
	}
}
