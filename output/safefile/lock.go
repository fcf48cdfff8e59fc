package safefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LockName is the lock file inside a setup folder.
const LockName = ".mailoauth.lock"

// Holder describes the run that holds (or held) a folder's lock; it is the
// lock file's content.
type Holder struct {
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Host      string    `json:"host,omitempty"`
}

func (h *Holder) describe() string {
	if h == nil || h.PID == 0 {
		return "pid unknown"
	}
	return "pid " + strconv.Itoa(h.PID) + ", started at " + h.StartedAt.Local().Format("2006-01-02 15:04:05 MST")
}

// LockedError is the refusal of a second run on one folder.
type LockedError struct {
	Dir    string
	Holder *Holder // nil when the holder has not written its details yet
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another mailoauth run is using this folder (%s): wait for it to finish, or choose another --out", e.Holder.describe())
}

// Lock is an exclusive lock on a setup folder, held until Unlock or until
// the process ends (the operating system releases it then, also on kill -9).
type Lock struct {
	f      *os.File
	dir    string
	stale  *Holder
	closed bool
}

// LockDir makes dir private (EnsureDir) and takes the exclusive lock on
// its lock file (flock on Unix, LockFileEx on Windows) without waiting. A
// second holder, in this or another process, gets a *LockedError naming
// the first one's pid and start time. A lock whose holder ended without
// releasing it (killed, crashed) is free at the OS level and is taken
// over; TookOver says whose it was, so the caller can say so.
//
// A run holds one Lock per folder for its whole length: a second LockDir
// on the same folder in the same process is refused like any other.
func LockDir(dir string) (*Lock, error) {
	if err := EnsureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockName)
	if _, err := checkNotLink(path); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := openNoFollow(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := applyAccess(f, AccessFor(false, 0o600, true)); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		h := readHolder(f)
		f.Close()
		return nil, &LockedError{Dir: dir, Holder: h}
	}
	l := &Lock{f: f, dir: dir}
	// A clean Unlock empties the file; content left means its writer ended
	// while holding the lock.
	l.stale = readHolder(f)
	host, _ := os.Hostname()
	me, _ := json.Marshal(Holder{PID: os.Getpid(), StartedAt: time.Now().UTC().Truncate(time.Second), Host: host})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(me, '\n'), 0)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			l.Unlock()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	} else {
		l.Unlock()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return l, nil
}

// TookOver is the earlier holder whose lock was left behind (its process
// is gone), or nil.
func (l *Lock) TookOver() *Holder { return l.stale }

// TookOverMessage is the sentence to show when TookOver is not nil.
func (l *Lock) TookOverMessage() string {
	if l.stale == nil {
		return ""
	}
	return fmt.Sprintf("took over the lock of an earlier mailoauth run on %s (%s) that ended without releasing it", l.dir, l.stale.describe())
}

// Unlock releases the lock and empties the lock file (the mark of a clean
// end). The file itself stays: deleting it would let a run that opened it
// just before lock a file no one else can find. Safe to call twice.
func (l *Lock) Unlock() error {
	if l == nil || l.closed {
		return nil
	}
	l.closed = true
	terr := l.f.Truncate(0)
	uerr := unlock(l.f)
	cerr := l.f.Close()
	return errors.Join(terr, uerr, cerr)
}

// readHolder reads the holder's details; nil when empty or unreadable.
func readHolder(f *os.File) *Holder {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil || len(b) == 0 {
		return nil
	}
	var h Holder
	if json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return &Holder{}
	}
	return &h
}
