// Package e2e tests the built mailoauth binary as a person and as a script
// would use it: in a real terminal (tmux: send keys, read the screen) and
// unattended from answers files, against the simulated tenant served by the
// binary itself (`mailoauth sim`).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds mailoauth once per test run.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mailoauth-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mailoauth")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		_, file, _, _ := runtime.Caller(0)
		cmd.Dir = filepath.Dir(filepath.Dir(file))
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// simInfo is the part of `mailoauth sim --info` the tests read.
type simInfo struct {
	TenantID      string `json:"tenant_id"`
	AuthorityHost string `json:"authority_host"`
	GraphURL      string `json:"graph_url"`
	IMAP          string `json:"imap"`
	POP           string `json:"pop"`
	SMTP          string `json:"smtp"`
	EWSURL        string `json:"ews_url"`
	CACertFile    string `json:"ca_cert_file"`
}

// cloudFlags point the real code path at the simulated tenant.
func (s simInfo) cloudFlags() []string {
	return []string{"--cloud", "custom", "--authority", s.AuthorityHost, "--graph-url", s.GraphURL,
		"--imap", s.IMAP, "--pop", s.POP, "--smtp", s.SMTP, "--ews-url", s.EWSURL, "--ca-file", s.CACertFile}
}

// startSim runs `mailoauth sim` in the background until the test ends.
func startSim(t *testing.T, extra ...string) simInfo {
	t.Helper()
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "sim.json")
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"sim", "--info", infoPath}, extra...)
	cmd := exec.CommandContext(ctx, binary(t), args...)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(infoPath); err == nil && len(b) > 0 {
			var info simInfo
			if err := json.Unmarshal(b, &info); err == nil && info.AuthorityHost != "" {
				return info
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("mailoauth sim did not write %s within 30s; stderr:\n%s", infoPath, errBuf.String())
	return simInfo{}
}

// terminal is one tmux session running a command.
type terminal struct {
	t             *testing.T
	name          string
	width, height int
}

var sessionSeq atomic.Int64

// newTerminal starts command in dir, in a detached 120x40 tmux session,
// with env (NAME=value) added. tmux is required: ./test.sh installs it (CI
// runs that script).
func newTerminal(t *testing.T, dir string, env []string, command ...string) *terminal {
	t.Helper()
	return newSizedTerminal(t, dir, env, 120, 40, command...)
}

// newSizedTerminal is newTerminal with a width and height.
func newSizedTerminal(t *testing.T, dir string, env []string, width, height int, command ...string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: run ./test.sh, which installs it")
	}
	name := fmt.Sprintf("mailoauth-e2e-%d-%d", os.Getpid(), sessionSeq.Add(1))
	var quoted []string
	for _, c := range command {
		quoted = append(quoted, shellQuote(c))
	}
	// remain-on-exit keeps the last screen readable after the program ends.
	var assigns []string
	for _, e := range env {
		assigns = append(assigns, shellQuote(e))
	}
	script := "cd " + shellQuote(dir) + " && env " + strings.Join(assigns, " ") + " " + strings.Join(quoted, " ") + "; rc=$?; echo; echo \"[exit $rc]\"; sleep 600"
	args := []string{"new-session", "-d", "-s", name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "bash", "-c", script}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	term := &terminal{t: t, name: name, width: width, height: height}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return term
}

// screen is what the terminal shows now.
func (term *terminal) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", term.name).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return string(out)
}

// scrollback is the whole terminal, its history included (what stays
// after the program ended).
func (term *terminal) scrollback() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-S", "-", "-t", term.name).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return string(out)
}

// send types keys (tmux key names: Enter, Escape, C-c, Down, Tab, BSpace ...).
func (term *terminal) send(keys ...string) {
	term.t.Helper()
	args := append([]string{"send-keys", "-t", term.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		term.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// typeText types literal text.
func (term *terminal) typeText(s string) {
	term.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", term.name, "-l", s).CombinedOutput(); err != nil {
		term.t.Fatalf("tmux send-keys -l: %v\n%s", err, out)
	}
}

// waitFor waits until the screen matches pattern, and returns the screen.
func (term *terminal) waitFor(pattern string, timeout time.Duration) string {
	term.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		last = term.screen()
		if re.MatchString(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	term.t.Fatalf("screen never matched %q within %s; last screen:\n%s", pattern, timeout, last)
	return ""
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func matches(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
