// Package safefile writes mailoauth's output files: a 0700 folder, atomic
// writes (temporary file in the same folder, fsync, rename) with the mode the
// caller asks for, and a record of what was written so that a later run never
// overwrites a file the admin has changed without asking first.
//
// The record (.mailoauth-written.json) holds a SHA-256 per file. A file that
// carries the client secret is hashed with every occurrence of the secret cut
// out and replaced by a fixed marker, and the record keeps only where those
// occurrences were (offset and length): a hash of a short file holding a
// secret could be brute-forced, a hash of the rest cannot reveal it. Cutting by
// recorded position (rather than searching for the secret) lets a later run,
// which may hold a different secret or none, still recognise its own file.
package safefile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RecordName is the file, inside the output folder, that remembers what was written.
const RecordName = ".mailoauth-written.json"

// Status says what Put did with a file.
type Status string

const (
	// Written: the file was created or replaced.
	Written Status = "written"
	// Unchanged: the file already held exactly this content.
	Unchanged Status = "unchanged"
	// SkippedModified: the file was changed by someone else since mailoauth
	// wrote it (or mailoauth never wrote it) and the caller did not agree to
	// overwrite it.
	SkippedModified Status = "skipped-modified"
	// KeptSecret: the file holds the secret mailoauth wrote into it and
	// the new content has none (no secret was given this time). Entra
	// shows a secret only once, so that file may be its only copy: it is
	// kept unless the caller forces the write.
	KeptSecret Status = "kept-secret"
)

// secretMarker replaces each secret occurrence before hashing.
const secretMarker = "\x00mailoauth-secret\x00"

// EnsureDir creates dir (and its parents) and makes dir itself 0700, since
// it will hold files with a client secret. An existing folder that others
// can read is tightened to 0700.
func EnsureDir(dir string) error {
	if dir == "" {
		return errors.New("output folder: empty path; accepted form: a folder path such as ./mailoauth-out/my-app")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("output folder %s: exists and is not a folder", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("output folder %s: cannot make it private (0700): %w", dir, err)
		}
	}
	return nil
}

// WriteAtomic writes data to path with the given mode so that a reader sees
// either the old file or the complete new one, never a partial file, and the
// content is on disk before the rename makes it visible. The temporary file
// never has a wider mode than requested.
func WriteAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	// CreateTemp makes 0600; set the final mode before any byte is written.
	if err = tmp.Chmod(mode.Perm()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable; a failure here is not worth failing the write.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Options decide what happens to a file the admin changed.
type Options struct {
	// Force overwrites changed files without asking.
	Force bool
	// Confirm, when not nil, is asked whether to overwrite a changed file;
	// nil means skip it.
	Confirm func(path string) bool
}

// Folder is an output folder with its record of written files.
type Folder struct {
	dir  string
	opts Options
	rec  record
}

type record struct {
	Version int              `json:"version"`
	Files   map[string]entry `json:"files"`
}

type entry struct {
	// SHA256 is of the content with every secret span replaced by a marker.
	SHA256 string `json:"sha256"`
	// SecretSpans are [offset, length] pairs of the secret in the file as written.
	SecretSpans [][2]int `json:"secret_spans,omitempty"`
}

// Open makes the folder (0700) and reads its record, if any. A damaged record
// is not fatal: every existing file is then treated as possibly changed.
func Open(dir string, o Options) (*Folder, error) {
	if err := EnsureDir(dir); err != nil {
		return nil, err
	}
	f := &Folder{dir: dir, opts: o, rec: record{Version: 1, Files: map[string]entry{}}}
	raw, err := os.ReadFile(filepath.Join(dir, RecordName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, RecordName), err)
	default:
		var r record
		if json.Unmarshal(raw, &r) == nil && r.Files != nil {
			f.rec = r
		}
	}
	return f, nil
}

// Dir is the folder's path.
func (f *Folder) Dir() string { return f.dir }

// Put writes name (a plain file name inside the folder) with data and mode,
// unless the file on disk was changed since mailoauth last wrote it and the
// options do not allow overwriting. secret, when not empty, is the value
// whose occurrences in data are left out of the recorded hash.
func (f *Folder) Put(name string, data []byte, secret string, mode os.FileMode) (Status, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	path := filepath.Join(f.dir, name)
	newEntry := fingerprint(data, secret)

	current, exists, err := readRegular(path)
	if err != nil {
		return "", err
	}
	if exists {
		if bytes.Equal(current, data) {
			// Same bytes: nothing to write, but make sure the mode is right
			// (a secret file someone made readable is tightened again).
			if err := os.Chmod(path, mode.Perm()); err != nil {
				return "", fmt.Errorf("chmod %s: %w", path, err)
			}
			if old, ok := f.rec.Files[name]; ok && sameEntry(old, newEntry) {
				return Unchanged, nil // record already right: no disk write
			}
			f.rec.Files[name] = newEntry
			return Unchanged, f.save()
		}
		if !f.ours(name, current) && !f.opts.Force && (f.opts.Confirm == nil || !f.opts.Confirm(path)) {
			return SkippedModified, nil
		}
		if old, ok := f.rec.Files[name]; ok && len(old.SecretSpans) > 0 && len(newEntry.SecretSpans) == 0 && !f.opts.Force && f.ours(name, current) {
			return KeptSecret, nil
		}
	}
	if err := WriteAtomic(path, data, mode); err != nil {
		return "", err
	}
	f.rec.Files[name] = newEntry
	return Written, f.save()
}

// Modified reports whether the file on disk differs from what mailoauth last
// wrote (true also for a file mailoauth never wrote). A missing file is not modified.
func (f *Folder) Modified(name string) (bool, error) {
	if err := checkName(name); err != nil {
		return false, err
	}
	current, exists, err := readRegular(filepath.Join(f.dir, name))
	if err != nil || !exists {
		return false, err
	}
	return !f.ours(name, current), nil
}

// ours reports whether current is exactly what the record says was written.
func (f *Folder) ours(name string, current []byte) bool {
	e, ok := f.rec.Files[name]
	if !ok {
		return false
	}
	masked, ok := cutSpans(current, e.SecretSpans)
	if !ok {
		return false
	}
	sum := sha256.Sum256(masked)
	return hex.EncodeToString(sum[:]) == e.SHA256
}

func sameEntry(a, b entry) bool {
	if a.SHA256 != b.SHA256 || len(a.SecretSpans) != len(b.SecretSpans) {
		return false
	}
	for i := range a.SecretSpans {
		if a.SecretSpans[i] != b.SecretSpans[i] {
			return false
		}
	}
	return true
}

func (f *Folder) save() error {
	raw, err := json.MarshalIndent(f.rec, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(f.dir, RecordName), append(raw, '\n'), 0o600)
}

// fingerprint hashes data with the secret's occurrences cut out.
func fingerprint(data []byte, secret string) entry {
	var spans [][2]int
	if secret != "" {
		for off := 0; ; {
			i := bytes.Index(data[off:], []byte(secret))
			if i < 0 {
				break
			}
			spans = append(spans, [2]int{off + i, len(secret)})
			off += i + len(secret)
		}
	}
	masked, _ := cutSpans(data, spans)
	sum := sha256.Sum256(masked)
	return entry{SHA256: hex.EncodeToString(sum[:]), SecretSpans: spans}
}

// cutSpans replaces each [offset, length] span with the marker; false if the
// spans do not fit the data (the file was changed).
func cutSpans(data []byte, spans [][2]int) ([]byte, bool) {
	if len(spans) == 0 {
		return data, true
	}
	sorted := append([][2]int(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i][0] < sorted[j][0] })
	var out bytes.Buffer
	prev := 0
	for _, s := range sorted {
		off, n := s[0], s[1]
		if off < prev || n <= 0 || off+n > len(data) {
			return nil, false
		}
		out.Write(data[prev:off])
		out.WriteString(secretMarker)
		prev = off + n
	}
	out.Write(data[prev:])
	return out.Bytes(), true
}

// readRegular reads path if it exists. Anything but a regular file (a
// symlink someone planted, a folder) is refused rather than followed.
func readRegular(path string) ([]byte, bool, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("check %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s exists and is not a regular file (%s); move it away and run again", path, fi.Mode().Type())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return data, true, nil
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || name == RecordName ||
		strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("file name %q: accepted form: a plain file name inside the output folder, not %s", name, RecordName)
	}
	return nil
}
