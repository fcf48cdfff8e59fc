package safefile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The second holder is a real process: this test binary run again with
// lockChildEnv set, which takes the lock, prints LOCKED and waits for its
// stdin to close (then releases cleanly) or to be killed.
const lockChildEnv = "MAILOAUTH_SAFEFILE_LOCK_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		lockHolderChild(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func lockHolderChild(dir string) {
	l, err := LockDir(dir)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	fmt.Println("LOCKED", os.Getpid(), l.TookOverMessage())
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	if err := l.Unlock(); err != nil {
		fmt.Println("ERROR", err)
	}
	fmt.Println("RELEASED")
}

type child struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	out   *bufio.Reader
	pid   int
}

// startHolder runs a child that locks dir and returns once it holds it.
func startHolder(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), pid: cmd.Process.Pid}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	line := c.expect(t, "LOCKED")
	if f := strings.Fields(line); len(f) < 2 || f[1] != strconv.Itoa(c.pid) {
		t.Fatalf("child line %q, pid %d", line, c.pid)
	}
	return c
}

func (c *child) expect(t *testing.T, prefix string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		for {
			line, err := c.out.ReadString('\n')
			if strings.HasPrefix(line, prefix) || strings.HasPrefix(line, "ERROR") || err != nil {
				done <- strings.TrimSpace(line)
				return
			}
		}
	}()
	select {
	case line := <-done:
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("child: %q, want %s", line, prefix)
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not print %s", prefix)
	}
	return ""
}

// Issue 10: four concurrent runs on one folder mixed two apps' files. A
// second run is now refused, naming the first one's pid and start.
func TestLockRefusesSecondProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	holder := startHolder(t, dir)

	_, err := LockDir(dir)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second LockDir: %v, want a *LockedError", err)
	}
	want := fmt.Sprintf("another mailoauth run is using this folder (pid %d, started at ", holder.pid)
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "): wait for it to finish, or choose another --out") {
		t.Fatalf("message %q\nwant it to start %q", err, want)
	}
	if le.Holder == nil || le.Holder.PID != holder.pid || time.Since(le.Holder.StartedAt) > time.Minute {
		t.Fatalf("holder %+v", le.Holder)
	}

	// The holder ends cleanly: the folder is free, and nothing was stale.
	holder.stdin.Close()
	holder.expect(t, "RELEASED")
	holder.cmd.Wait()
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if l.TookOver() != nil {
		t.Fatalf("clean release reported as stale: %s", l.TookOverMessage())
	}
}

// A holder killed with SIGKILL cannot release: the OS frees the lock, the
// next run takes it over and says whose it was.
func TestLockTakesOverFromKilledProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	holder := startHolder(t, dir)
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	holder.cmd.Wait()
	var l *Lock
	var err error
	// Windows releases a dead process's locks "not necessarily immediately".
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if l, err = LockDir(dir); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if l.TookOver() == nil || l.TookOver().PID != holder.pid {
		t.Fatalf("took over %+v, want pid %d", l.TookOver(), holder.pid)
	}
	msg := l.TookOverMessage()
	if !strings.Contains(msg, "took over the lock of an earlier mailoauth run") || !strings.Contains(msg, "pid "+strconv.Itoa(holder.pid)) {
		t.Fatalf("message %q", msg)
	}
	// And now this process holds it: a child is refused.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
	out, _ := cmd.Output()
	if !strings.Contains(string(out), fmt.Sprintf("ERROR another mailoauth run is using this folder (pid %d,", os.Getpid())) {
		t.Fatalf("child got %q", out)
	}
}

func TestLockSameProcessAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	l, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDir(dir); err == nil {
		t.Fatal("a second lock in the same process was granted")
	}
	p := filepath.Join(dir, LockName)
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), fmt.Sprintf(`"pid":%d`, os.Getpid())) {
		t.Fatalf("lock file %q", b)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal("second Unlock:", err)
	}
	if b, err := os.ReadFile(p); err != nil || len(b) != 0 {
		t.Fatalf("after Unlock the file holds %q (%v); want it kept and empty", b, err)
	}
	f, _ := Open(dir, Options{Force: true})
	if _, err := f.Put(LockName, nil, "", 0o600); err == nil {
		t.Fatal("Put may not write the lock file")
	}
}
