package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is the part of `mailoauth setup --json` the tests read.
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
	Export *struct {
		Dir   string   `json:"dir"`
		Files []string `json:"files"`
	} `json:"export"`
}

// run is one finished command.
type run struct {
	code   int
	stdout []byte
	stderr string
}

// runSetup runs `mailoauth setup` unattended against the simulated tenant.
// Like a person at the keyboard, it opens in a "browser" (an HTTP client
// that trusts the simulator's CA) any address the command asks to open.
func runSetup(t *testing.T, info simInfo, dir string, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	full := append([]string{"setup"}, info.cloudFlags()...)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, binary(t), full...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "MAILOAUTH_NO_BROWSER=1"), env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		browse := browser(t, info)
		open := regexp.MustCompile(`^\s+(https://127\.0\.0\.1:\d+/\S+)$`)
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			stderr.WriteString(line + "\n")
			if m := open.FindStringSubmatch(line); m != nil {
				go browse(m[1])
			}
		}
	}()
	wg.Wait()
	err = cmd.Wait()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return run{code: code, stdout: stdout.Bytes(), stderr: stderr.String()}
}

// browser visits an address as a browser would (following redirects to the
// tool's loopback), trusting the simulator's CA.
func browser(t *testing.T, info simInfo) func(string) {
	pem, err := os.ReadFile(info.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return func(u string) {
		resp, err := hc.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

func writeAnswers(t *testing.T, dir, name, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnattendedEveryProduct runs each product from an answers file, as a
// consultant's script would, against `mailoauth sim` in another process:
// the real command-line path with --cloud custom, nothing in-process.
func TestUnattendedEveryProduct(t *testing.T) {
	info := startSim(t, "--auto-approve", "admin@contoso.onmicrosoft.com")
	ropc := []string{"MAILOAUTH_TEST_PASSWORD=Demo-Mail-2026!"}
	cases := []struct {
		name    string
		answers string
		env     []string
		// wantCode 3: the login test fails for a reason only Exchange
		// PowerShell can fix, and the JSON must say how.
		wantCode  int
		wantFiles []string
		wantFix   string
	}{
		{name: "extraview", answers: "product: extraview\nextraview_url: https://ev.contoso.com/evj\nmailboxes: helpdesk@contoso.com\nprotocols: [imap, smtp]\n",
			wantFiles: []string{"settings.md", "settings.html", "settings.json", ".env", "manifest.json"}},
		{name: "email-this-issue", answers: "product: email-this-issue\ncallback_url: https://jira.contoso.com/plugins/servlet/oauth2/callback\nmailboxes: helpdesk@contoso.com\nprotocols: [imap, smtp, graph-read, graph-send]\n",
			wantFiles: []string{"settings.md", "settings.json"}},
		{name: "genesys", answers: "product: genesys\nmailboxes: helpdesk@contoso.com\nprotocols: [ews, imap, pop, smtp]\n", env: ropc,
			wantFiles: []string{"genesys-javamail.properties", "genesys-options.ini", "exchange-setup.ps1"}},
		{name: "agiloft", answers: "product: agiloft\nmailboxes: helpdesk@contoso.com\nadditional_users: [support@contoso.com]\n",
			wantFiles: []string{"settings.md", "exchange-setup.ps1"}},
		{name: "monitor-erp-user-password", answers: "product: monitor-erp\nmethod: user-password\nmailboxes: helpdesk@contoso.com\n", env: ropc,
			wantFiles: []string{"settings.md"}},
		{name: "monitor-erp-client-secret", answers: "product: monitor-erp\nmethod: client-secret\nmailboxes: helpdesk@contoso.com\n",
			wantFiles: []string{"settings.md", "exchange-setup.ps1"}},
		{name: "generic-client-credentials-imap", answers: "product: generic\nmethod: client-credentials\nmailboxes: helpdesk@contoso.com\nprotocols: [imap]\n",
			wantFiles: []string{"exchange-setup.ps1"}},
		// Left to the script, the app-only login fails with its fix.
		{name: "generic-client-credentials-imap-script", answers: "product: generic\nmethod: client-credentials\nmailboxes: helpdesk@contoso.com\nprotocols: [imap]\nexchange: script\napp_name: script left\n",
			wantCode: 3, wantFix: "New-ServicePrincipal", wantFiles: []string{"exchange-setup.ps1"}},
		{name: "generic-device-code", answers: "product: generic\nmethod: device-code\nmailboxes: helpdesk@contoso.com\nprotocols: [graph-read]\ntest: false\n",
			wantFiles: []string{"settings.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			answers := writeAnswers(t, dir, c.name+".yaml", c.answers)
			out := filepath.Join(dir, "out")
			r := runSetup(t, info, dir, c.env, "--answers", answers, "--yes", "--json", "--out", out)
			if r.code != c.wantCode {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, c.wantCode, r.stderr)
			}
			var o outcome
			if err := json.Unmarshal(r.stdout, &o); err != nil {
				t.Fatalf("stdout is not the JSON result: %v\n%s", err, r.stdout)
			}
			if o.Result.AppID == "" || o.Result.SPObjectID == "" || o.TenantID != info.TenantID {
				t.Fatalf("result lacks the app: %+v", o.Result)
			}
			for _, f := range c.wantFiles {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			if c.wantCode == 0 && o.Test != nil {
				for _, row := range o.Test.Rows {
					if !row.OK {
						t.Errorf("%s login failed: %s", row.Protocol, row.Cause)
					}
				}
			}
			if c.wantFix != "" {
				found := false
				for _, row := range o.Test.Rows {
					if !row.OK && strings.Contains(row.Fix, c.wantFix) && strings.Contains(row.Fix, o.Result.SPObjectID) {
						found = true
					}
				}
				if !found {
					t.Errorf("no failed row's fix names %s with the enterprise app's object id %s: %+v", c.wantFix, o.Result.SPObjectID, o.Test)
				}
			}
			assertNoSecretOutside(t, out, r)
			// A second run changes nothing and makes no duplicate.
			r2 := runSetup(t, info, dir, c.env, "--answers", answers, "--yes", "--json", "--out", out, "--test", "false")
			if r2.code != 0 {
				t.Fatalf("second run: exit %d\n%s", r2.code, r2.stderr)
			}
			var o2 outcome
			if err := json.Unmarshal(r2.stdout, &o2); err != nil {
				t.Fatal(err)
			}
			if o2.Result.AppID != o.Result.AppID {
				t.Errorf("second run made another app: %s then %s", o.Result.AppID, o2.Result.AppID)
			}
		})
	}
}

// assertNoSecretOutside: the secret is in settings.md/html/json and .env
// only (0600), never on stdout, stderr, in the state file or the script.
func assertNoSecretOutside(t *testing.T, out string, r run) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(out, "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var settings map[string]any
	if err := json.Unmarshal(raw, &settings); err != nil {
		t.Fatal(err)
	}
	secret, _ := settings["client_secret"].(string)
	if secret == "" || strings.HasPrefix(secret, "<") {
		return // a public client: no secret
	}
	if bytes.Contains(r.stdout, []byte(secret)) || strings.Contains(r.stderr, secret) {
		t.Error("the secret was printed")
	}
	allowed := map[string]bool{"settings.md": true, "settings.html": true, "settings.json": true, ".env": true}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(out, e.Name()))
		if !bytes.Contains(b, []byte(secret)) {
			continue
		}
		if !allowed[e.Name()] {
			t.Errorf("the secret is in %s", e.Name())
		}
		if fi, _ := os.Stat(filepath.Join(out, e.Name())); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s holds the secret with mode %v", e.Name(), fi.Mode().Perm())
		}
	}
}

// TestResumeTakesEveryAnswerFromTheState: `setup --resume` needs nothing
// but the state file and updates the same app.
func TestResumeTakesEveryAnswerFromTheState(t *testing.T) {
	info := startSim(t, "--auto-approve", "admin@contoso.onmicrosoft.com")
	dir := t.TempDir()
	answers := writeAnswers(t, dir, "a.yaml", "product: extraview\nextraview_url: https://ev.contoso.com/evj\nmailboxes: helpdesk@contoso.com\nprotocols: [imap]\nrequire_assignment: true\n")
	out := filepath.Join(dir, "out")
	first := runSetup(t, info, dir, nil, "--answers", answers, "--yes", "--json", "--out", out, "--test", "false")
	if first.code != 0 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	again := runSetup(t, info, dir, nil, "--resume", "--state", filepath.Join(out, "state.json"), "--yes", "--json", "--test", "false")
	if again.code != 0 {
		t.Fatalf("resume: exit %d\n%s", again.code, again.stderr)
	}
	var a, b outcome
	if err := json.Unmarshal(first.stdout, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again.stdout, &b); err != nil {
		t.Fatal(err)
	}
	if a.Result.AppID == "" || b.Result.AppID != a.Result.AppID || b.Export == nil || b.Export.Dir != out {
		t.Fatalf("resume did not update the same app in the same folder: %+v then %+v", a.Result, b.Result)
	}
	if !strings.Contains(again.stderr, "https://ev.contoso.com/evj/OAuth2?p_action=getTokenReturn") {
		t.Errorf("the resumed run lost the ExtraView URL:\n%s", again.stderr)
	}
}
