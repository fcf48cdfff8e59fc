package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/sim"
)

// outcome is the part of `setup --json` the tests read.
type outcome struct {
	TenantID string `json:"tenant_id"`
	Result   struct {
		AppID      string `json:"app_id"`
		ObjectID   string `json:"object_id"`
		SPObjectID string `json:"service_principal_id"`
		StateFile  string `json:"state_file"`
	} `json:"result"`
	Test *struct {
		Rows []struct {
			Protocol string `json:"protocol"`
			OK       bool   `json:"ok"`
			Cause    string `json:"cause"`
			Fix      string `json:"fix"`
		} `json:"rows"`
	} `json:"test"`
}

var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.`)

// TestSetupJSONAndDebugHTTP: a finished unattended setup exits 0, prints
// only valid JSON on stdout (progress on stderr), and neither stdout,
// stderr nor the --debug-http trace (JSON Lines, 0600) holds the client
// secret or a token.
func TestSetupJSONAndDebugHTTP(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	trace := filepath.Join(dir, "trace.jsonl")
	r := runMain(t, testCtx(t), s, nil, "", setupArgs(s, out, "--json", "--debug-http", trace,
		"--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.err)
	}
	var o outcome
	decodeJSON(t, r.out, &o)
	if o.Result.AppID == "" || o.TenantID != s.Info().TenantID || o.Test == nil || len(o.Test.Rows) != 1 || !o.Test.Rows[0].OK {
		t.Fatalf("JSON lacks the app or a passed test: %s", r.out)
	}
	for _, progress := range []string{"Sign in", "✓ Created app registration", "Test: 1 of 1"} {
		if !strings.Contains(r.err, progress) {
			t.Errorf("progress %q not on stderr:\n%s", progress, r.err)
		}
		if strings.Contains(r.out, progress) {
			t.Errorf("progress %q on stdout", progress)
		}
	}
	secret := secretOf(t, out)
	if secret == "" || strings.HasPrefix(secret, "<") {
		t.Fatalf("settings.json has no secret: %q", secret)
	}
	// The unattended run ends with a short summary on stderr: what was
	// made, the test, the files and where the secret is (not its value).
	summary := r.err[strings.LastIndex(r.err, "\nSummary:"):]
	for _, w := range []string{"Created app registration", o.Result.AppID, "Changed: create app registration", "Login test: 1 of 1 logins worked",
		"Files in " + out + ": settings.md", "Client secret: in " + filepath.Join(out, "settings."), "Still to do: "} {
		if !strings.Contains(summary, w) {
			t.Errorf("the summary lacks %q:\n%s", w, summary)
		}
	}
	if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
		t.Error("the client secret was printed")
	}
	if m := mode(t, trace); m != 0o600 {
		t.Errorf("--debug-http file mode %v, want 0600", m)
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Error("the client secret is in the --debug-http file")
	}
	if jwtLike.Match(raw) {
		t.Errorf("a token is in the --debug-http file: %s", jwtLike.Find(raw))
	}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", lines, err, sc.Text())
		}
	}
	if lines < 5 {
		t.Errorf("--debug-http holds %d exchanges; want every Graph and token request", lines)
	}
	if !strings.Contains(string(raw), "/applications") || !strings.Contains(string(raw), "/oauth2/v2.0/token") {
		t.Error("--debug-http lacks the Graph or token exchanges")
	}
}

// TestSetupLoginFails: app-only IMAP with the Exchange side left to the
// script (--exchange script) exits 3, and the JSON names the cause and the
// PowerShell fix.
func TestSetupLoginFails(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runMain(t, testCtx(t), s, nil, "", setupArgs(s, out, "--json",
		"--product", "generic", "--method", "client-credentials", "--protocols", "imap", "--mailboxes", testMailbox, "--exchange", "script")...)
	if r.code != ExitTestFailed {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, ExitTestFailed, r.err)
	}
	var o outcome
	decodeJSON(t, r.out, &o)
	if o.Test == nil || len(o.Test.Rows) == 0 {
		t.Fatalf("no test rows: %s", r.out)
	}
	row := o.Test.Rows[0]
	if row.OK || row.Cause == "" || !strings.Contains(row.Fix, "New-ServicePrincipal") || !strings.Contains(row.Fix, o.Result.SPObjectID) {
		t.Errorf("failed row lacks cause or the New-ServicePrincipal fix with the SP id %s: %+v", o.Result.SPObjectID, row)
	}
	if secret := secretOf(t, out); strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
		t.Error("the client secret was printed")
	}
}

// TestSetupMissingAnswer: unattended, a question without a default names
// both its flag and its answers-file key, exit 2, and nothing is created.
func TestSetupMissingAnswer(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	out := filepath.Join(t.TempDir(), "out")
	r := runMain(t, testCtx(t), s, nil, "", setupArgs(s, out, "--product", "extraview", "--mailboxes", testMailbox)...)
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want 2\nstderr:\n%s", r.code, r.err)
	}
	for _, w := range []string{"--extraview-url", "extraview_url"} {
		if !strings.Contains(r.err, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.err)
		}
	}
	assertNoWrites(t, s.Requests())
}

// TestSetupAborted: a cancelled context (Ctrl-C) exits 130.
func TestSetupAborted(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runMain(t, ctx, s, nil, "", setupArgs(s, filepath.Join(t.TempDir(), "out"),
		"--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)...)
	if r.code != ExitAborted {
		t.Fatalf("exit %d, want 130\nstderr:\n%s", r.code, r.err)
	}
	assertNoWrites(t, s.Requests())
}

// TestSetupAbortedWhileSigningIn: Ctrl-C while the device-code sign-in
// waits for the admin exits 130 and changes nothing.
func TestSetupAbortedWhileSigningIn(t *testing.T) {
	t.Parallel()
	s, err := sim.Start(sim.Options{CACertFile: filepath.Join(t.TempDir(), "ca.pem")}) // nobody approves
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	go func() {
		for len(s.PendingDeviceCodes()) == 0 {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	r := runMain(t, ctx, nil, nil, "", setupArgs(s, filepath.Join(t.TempDir(), "out"),
		"--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)...)
	if r.code != ExitAborted {
		t.Fatalf("exit %d, want 130\nstderr:\n%s", r.code, r.err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v to stop", time.Since(start))
	}
	assertNoWrites(t, s.Requests())
}

// TestSetupOutRefusesFolder: --out with someone else's files is a usage
// error naming --out; the files are untouched.
func TestSetupOutRefusesFolder(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	out := t.TempDir()
	other := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runMain(t, testCtx(t), s, nil, "", setupArgs(s, out,
		"--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--out") || !strings.Contains(r.err, "accepted") {
		t.Fatalf("exit %d, want 2 naming --out and the accepted folder\nstderr:\n%s", r.code, r.err)
	}
	if m := mode(t, other); m != 0o644 {
		t.Errorf("notes.txt mode changed to %v", m)
	}
	assertNoWrites(t, s.Requests())
}
