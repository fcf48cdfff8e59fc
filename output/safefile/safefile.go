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
//
// Nothing is written through a symbolic link: a folder, file or trace path
// that is a link is refused with a SymlinkError (never replaced), files are
// opened with O_NOFOLLOW where the OS has it and checked against Lstat
// where it does not, new files are made with O_EXCL, and replacements are
// an atomic rename, which replaces a link planted in a race instead of
// following it. Privacy on Windows is an owner-only ACL (access.go).
package safefile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// EnsureDir creates dir (and its parents) and makes dir itself private
// (0700; owner-only ACL on Windows), since it will hold files with a client
// secret. An existing folder that others can read is tightened. A dir that
// is a symbolic link is refused, never followed (its target is not ours).
// Only the last element is checked: parents such as macOS's /tmp -> /private/tmp
// are the system's.
func EnsureDir(dir string) error {
	if dir == "" {
		return errors.New("output folder: empty path; accepted form: a folder path such as ./mailoauth-out/my-app")
	}
	fi, err := checkNotLink(dir)
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if fi != nil && isJunction(fi) {
		return fmt.Errorf("output folder: %w", linkError(dir))
	}
	created := fi == nil
	if created {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("output folder %s: %w", dir, err)
		}
	}
	d, err := openNoFollow(dir, os.O_RDONLY, 0)
	if err != nil {
		var se *SymlinkError
		if errors.As(err, &se) {
			return fmt.Errorf("output folder: %w", err)
		}
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	defer d.Close()
	if fi, err = d.Stat(); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("output folder %s: exists and is not a folder", dir)
	}
	a := AccessFor(true, 0, false)
	if err := applyFolderMode(d, fi, a); err != nil {
		return fmt.Errorf("output folder %s: cannot make it private (0700): %w", dir, err)
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	if folderACLApplies(created, names) {
		if err := applyFolderACL(dir, a); err != nil {
			return fmt.Errorf("output folder %s: %w", dir, err)
		}
	}
	return nil
}

// WriteAtomic writes data to path with the given mode so that a reader sees
// either the old file or the complete new one, never a partial file, and the
// content is on disk before the rename makes it visible. The temporary file
// never has a wider mode than requested (on Windows: an owner-only ACL when
// the mode grants nothing to others; see AccessFor). A path that is a
// symbolic link is refused.
func WriteAtomic(path string, data []byte, mode os.FileMode) error {
	return writeAtomic(path, data, AccessFor(false, mode, false))
}

// WriteSecret is WriteAtomic for a file that holds a secret: 0600 and
// owner-only on every OS.
func WriteSecret(path string, data []byte) error {
	return writeAtomic(path, data, AccessFor(false, 0o600, true))
}

func writeAtomic(path string, data []byte, a Access) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if fi, err := checkNotLink(path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	} else if fi != nil && !isPlainFile(fi) {
		return fmt.Errorf("write %s: exists and is not a regular file (%s); move it away and run again", path, fi.Mode().Type())
	}
	// CreateTemp opens with O_EXCL under a random name: never a link.
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
	// CreateTemp makes 0600; set the final access before any byte is written.
	if err = applyAccess(tmp, a); err != nil {
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
	// rename replaces whatever is at path, a link planted since the check
	// included, without following it.
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
	access := AccessFor(false, mode, len(newEntry.SecretSpans) > 0)

	current, exists, err := readRegular(path)
	if err != nil {
		return "", err
	}
	if exists {
		if bytes.Equal(current, data) {
			// Same bytes: nothing to write, but make sure the mode is right
			// (a secret file someone made readable is tightened again).
			if err := tighten(path, access); err != nil {
				return "", err
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
	if err := writeAtomic(path, data, access); err != nil {
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
	fi, err := checkNotLink(path)
	if err != nil {
		return nil, false, err
	}
	if fi == nil {
		return nil, false, nil
	}
	if !isPlainFile(fi) {
		return nil, false, fmt.Errorf("%s exists and is not a regular file (%s); move it away and run again", path, fi.Mode().Type())
	}
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return data, true, nil
}

// tighten gives an existing regular file its access through a descriptor
// opened without following links.
func tighten(path string, a Access) error {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	defer f.Close()
	if err := applyAccess(f, a); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// CreatePrivate opens path for writing from the start, as a private file
// (0600, owner-only on Windows): created exclusively when missing,
// truncated when it is an existing regular file, refused when it is a
// symbolic link or anything else. For --debug-http traces.
func CreatePrivate(path string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		fi, err := checkNotLink(path)
		if err != nil {
			return nil, err
		}
		var f *os.File
		if fi == nil {
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
			if errors.Is(err, fs.ErrExist) && attempt == 0 {
				continue // made by someone else meanwhile: check it again
			}
			if err == nil {
				err = sameAsLstat(f, path)
			}
		} else {
			if !isPlainFile(fi) {
				return nil, fmt.Errorf("%s exists and is not a regular file (%s); choose another path", path, fi.Mode().Type())
			}
			f, err = openNoFollow(path, os.O_WRONLY, 0)
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			if fi, lerr := os.Lstat(path); lerr == nil && isLink(fi) {
				return nil, linkError(path)
			}
			return nil, err
		}
		// An existing file keeps its old mode and ACL on open; the content
		// may be personal data, so tighten before truncating.
		if err := applyAccess(f, AccessFor(false, 0o600, true)); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || name == RecordName || name == LockName ||
		strings.ContainsAny(name, `/\:`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("file name %q: accepted form: a plain file name inside the output folder, not %s or %s", name, RecordName, LockName)
	}
	return nil
}
