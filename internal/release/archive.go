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
	"path/filepath"
	"sort"
	"time"
)

// ArchiveName is the archive of one target: mailoauth_1.2.0_linux_amd64.tar.gz,
// mailoauth_1.2.0_windows_amd64.zip (GoReleaser's default naming).
func ArchiveName(t Target, s Stamp) string {
	base := archiveBase(t, s)
	if t.OS == "windows" {
		return base + ".zip"
	}
	return base + ".tar.gz"
}

// archiveBase is the archive's name without extension: also the folder
// its files are in, so unpacking two versions never mixes them.
func archiveBase(t Target, s Stamp) string {
	return fmt.Sprintf("mailoauth_%s_%s_%s", s.Version, t.OS, t.Arch)
}

// ChecksumsName is the checksums file of a release.
func ChecksumsName(s Stamp) string { return fmt.Sprintf("mailoauth_%s_checksums.txt", s.Version) }

// entry is one file in an archive.
type entry struct {
	name string
	mode os.FileMode
	data []byte
}

// Archive packs a target's binary and the README into a folder named
// after the archive. Entries, their order, modes, owners and times are
// fixed (the commit's date), so the bytes depend only on the inputs.
func Archive(t Target, s Stamp, binary, readme []byte) (name string, data []byte, err error) {
	name, dir := ArchiveName(t, s), archiveBase(t, s)
	entries := []entry{
		{dir + "/" + binaryName(t), 0o755, binary},
		{dir + "/README.md", 0o644, readme},
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if t.OS == "windows" {
		data, err = zipOf(dir, entries, s.Date)
	} else {
		data, err = tarGzOf(dir, entries, s.Date)
	}
	return name, data, err
}

func tarGzOf(dir string, entries []entry, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	gz.ModTime = date // no file name, the fixed time, OS "unknown"
	tw := tar.NewWriter(gz)
	hdr := func(name string, mode os.FileMode, size int64, typ byte) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: int64(mode), Size: size, ModTime: date, Format: tar.FormatUSTAR}
	}
	if err := tw.WriteHeader(hdr(dir+"/", 0o755, 0, tar.TypeDir)); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := tw.WriteHeader(hdr(e.name, e.mode, int64(len(e.data)), tar.TypeReg)); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipOf(dir string, entries []entry, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	d := &zip.FileHeader{Name: dir + "/", Method: zip.Store, Modified: date}
	d.SetMode(os.ModeDir | 0o755)
	if _, err := zw.CreateHeader(d); err != nil {
		return nil, err
	}
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: date}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Checksums is the checksums file for the archives: one
// "<sha256>  <file name>" line each, sorted by name (sha256sum's format:
// `sha256sum -c --ignore-missing` checks a download against it).
func Checksums(paths []string) ([]byte, error) {
	sorted := append([]string(nil), paths...)
	sort.Slice(sorted, func(i, j int) bool { return filepath.Base(sorted[i]) < filepath.Base(sorted[j]) })
	var buf bytes.Buffer
	for _, p := range sorted {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(p))
	}
	return buf.Bytes(), nil
}
