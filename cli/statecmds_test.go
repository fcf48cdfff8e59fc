package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/sim"
)

// setupDone runs an unattended setup that must exit 0 and returns its
// outcome.
func setupDone(t *testing.T, s *sim.Server, e env, out string, answers ...string) outcome {
	t.Helper()
	r := runMain(t, testCtx(t), s, e, "", setupArgs(s, out, append([]string{"--json"}, answers...)...)...)
	if r.code != ExitOK {
		t.Fatalf("setup: exit %d\nstderr:\n%s", r.code, r.err)
	}
	var o outcome
	decodeJSON(t, r.out, &o)
	return o
}

// testReport is the part of `mailoauth test --json` the tests read.
type testReport struct {
	Checks []struct {
		Protocol    string `json:"protocol"`
		Mailbox     string `json:"mailbox"`
		OK          bool   `json:"ok"`
		Reply       string `json:"reply"`
		Explanation *struct {
			Cause      string `json:"cause"`
			Fix        string `json:"fix"`
			FixCommand string `json:"fix_command"`
		} `json:"explanation"`
	} `json:"checks"`
}

// TestExportFromState: export re-renders the files from the state file;
// the secret comes only from MAILOAUTH_CLIENT_SECRET (no prompt when not
// interactive, a placeholder instead), and a file the admin edited is
// kept unless --force.
func TestExportFromState(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	out := filepath.Join(t.TempDir(), "out")
	setupDone(t, s, nil, out, "--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)
	secret := secretOf(t, out)
	statePath := filepath.Join(out, "state.json")
	if b, _ := os.ReadFile(statePath); strings.Contains(string(b), secret) {
		t.Fatal("the state file holds the secret")
	}
	ctx := testCtx(t)

	// Without the secret: a placeholder, and no prompt (stdin would answer it).
	r := runMain(t, ctx, nil, env{}, "typed-secret\n", exportArgs(s, "--state", statePath, "--json")...)
	if r.code != ExitOK {
		t.Fatalf("export: exit %d\n%s", r.code, r.err)
	}
	var res map[string]any
	decodeJSON(t, r.out, &res)
	// The files that hold the secret are its only copy: they are kept.
	if got := secretOf(t, out); got != secret {
		t.Errorf("settings.json client_secret %q, want the secret kept", got)
	}
	if !strings.Contains(r.out, "kept: it holds the client secret") {
		t.Errorf("export did not say it kept the secret files:\n%s", r.out)
	}
	// Into a new folder, the files get the placeholder.
	fresh := filepath.Join(t.TempDir(), "fresh")
	r = runMain(t, ctx, nil, env{}, "", exportArgs(s, "--state", statePath, "--out", fresh)...)
	if r.code != ExitOK {
		t.Fatalf("export to a new folder: exit %d\n%s", r.code, r.err)
	}
	if got := secretOf(t, fresh); got != export.SecretPlaceholder {
		t.Errorf("new folder: settings.json client_secret %q, want the placeholder", got)
	}
	if strings.Contains(r.err, "Client secret value") || strings.Contains(string(mustRead(t, filepath.Join(out, "settings.json"))), "typed-secret") {
		t.Errorf("export prompted for the secret when not interactive:\n%s", r.err)
	}
	if !strings.Contains(r.err, "placeholder") {
		t.Errorf("export did not say the secret was left out:\n%s", r.err)
	}

	// With MAILOAUTH_CLIENT_SECRET: the secret is written, 0600, never printed.
	r = runMain(t, ctx, nil, env{"MAILOAUTH_CLIENT_SECRET": secret}, "", exportArgs(s, "--state", statePath, "--json")...)
	if r.code != ExitOK {
		t.Fatalf("export with secret --json: exit %d\n%s", r.code, r.err)
	}
	decodeJSON(t, r.out, &res)
	if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
		t.Error("export --json printed the secret")
	}
	r = runMain(t, ctx, nil, env{"MAILOAUTH_CLIENT_SECRET": secret}, "", exportArgs(s, "--state", statePath)...)
	if r.code != ExitOK {
		t.Fatalf("export with secret: exit %d\n%s", r.code, r.err)
	}
	if got := secretOf(t, out); got != secret {
		t.Errorf("settings.json client_secret %q, want the secret", got)
	}
	if m := mode(t, filepath.Join(out, "settings.json")); m != 0o600 {
		t.Errorf("settings.json mode %v", m)
	}
	if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) {
		t.Error("export printed the secret")
	}
	if !strings.Contains(r.out, "settings.json") {
		t.Errorf("export did not list what it wrote:\n%s", r.out)
	}

	// An admin's edit is kept unless --force.
	md := filepath.Join(out, "settings.md")
	edited := append(mustRead(t, md), []byte("\nEdited by the admin.\n")...)
	if err := os.WriteFile(md, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runMain(t, ctx, nil, env{"MAILOAUTH_CLIENT_SECRET": secret}, "", exportArgs(s, "--state", statePath)...)
	if r.code != ExitOK {
		t.Fatalf("export over an edit: exit %d\n%s", r.code, r.err)
	}
	if got := mustRead(t, md); string(got) != string(edited) {
		t.Error("export overwrote settings.md the admin edited, without --force")
	}
	// At a terminal, the secret is asked for (hidden), then the overwrite:
	// both answers come from one piped stdin, each prompt taking its line.
	r = interactive(t, ctx, nil, env{}, secret+"\ny\n", exportArgs(s, "--state", statePath)...)
	if r.code != ExitOK || !strings.Contains(r.err, "Client secret value") || !strings.Contains(r.err, "Overwrite? [y/N]") {
		t.Fatalf("interactive export: exit %d\n%s", r.code, r.err)
	}
	if got := secretOf(t, out); got != secret {
		t.Errorf("interactive export wrote client_secret %q, want the typed secret", got)
	}
	if got := mustRead(t, md); strings.Contains(string(got), "Edited by the admin.") {
		t.Error("the admin answered y to overwrite, but the edit was kept (the answer was swallowed by the secret prompt)")
	}
	if err := os.WriteFile(md, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runMain(t, ctx, nil, env{"MAILOAUTH_CLIENT_SECRET": secret}, "", exportArgs(s, "--state", statePath, "--force")...)
	if r.code != ExitOK {
		t.Fatalf("export --force: exit %d\n%s", r.code, r.err)
	}
	if got := mustRead(t, md); strings.Contains(string(got), "Edited by the admin.") {
		t.Error("export --force kept the admin's edit")
	}
}

// TestTestCommandFromState: `mailoauth test --state … --json` exits 0 when
// the logins work and 3 when they do not, naming cause and fix, with no
// password or secret in the report.
func TestTestCommandFromState(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	ctx := testCtx(t)

	// Delegated ROPC over IMAP: the mailbox's IMAP switch decides.
	ropcOut := filepath.Join(t.TempDir(), "ropc")
	pw := env{"MAILOAUTH_TEST_PASSWORD": testPassword}
	setupDone(t, s, pw, ropcOut, "--product", "generic", "--method", "ropc", "--protocols", "imap", "--mailboxes", testMailbox)
	state := filepath.Join(ropcOut, "state.json")
	r := runMain(t, ctx, s, pw, "", cmdArgs(s, "test", "--state", state, "--json")...)
	if r.code != ExitOK {
		t.Fatalf("test: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	var rep testReport
	decodeJSON(t, r.out, &rep)
	if len(rep.Checks) != 1 || !rep.Checks[0].OK || rep.Checks[0].Protocol != "imap" {
		t.Fatalf("want one passed IMAP check: %s", r.out)
	}
	// An hour later (no replication delay left to wait out), an Exchange
	// admin turns IMAP off for the mailbox.
	ageState(t, state, time.Hour)
	if err := s.SetIMAPEnabled(testMailbox, false); err != nil {
		t.Fatal(err)
	}
	r = runMain(t, ctx, s, pw, "", cmdArgs(s, "test", "--state", state, "--json")...)
	if r.code != ExitTestFailed {
		t.Fatalf("test with IMAP off: exit %d, want 3\n%s\n%s", r.code, r.out, r.err)
	}
	rep = testReport{}
	decodeJSON(t, r.out, &rep)
	if len(rep.Checks) != 1 || rep.Checks[0].OK || rep.Checks[0].Explanation == nil ||
		rep.Checks[0].Explanation.Cause == "" || rep.Checks[0].Explanation.Fix == "" ||
		!strings.Contains(rep.Checks[0].Explanation.FixCommand, "Set-CASMailbox -Identity '"+testMailbox+"' -ImapEnabled $true") {
		t.Errorf("failed check must name the cause and the Set-CASMailbox ... -ImapEnabled fix: %s", r.out)
	}
	for _, leak := range []string{testPassword} {
		if strings.Contains(r.out, leak) || strings.Contains(r.err, leak) {
			t.Error("the report holds the password")
		}
	}
	if jwtLike.MatchString(r.out) {
		t.Error("the report holds a token")
	}
	// Not interactive and no password: a usage error naming the variable.
	r = runMain(t, ctx, s, env{}, "", cmdArgs(s, "test", "--state", state, "--json")...)
	if r.code != ExitUsage || !strings.Contains(r.err, "MAILOAUTH_TEST_PASSWORD") {
		t.Errorf("test without the password: exit %d, want 2 naming MAILOAUTH_TEST_PASSWORD\n%s", r.code, r.err)
	}

	// App-only EWS: the secret comes from the environment, else from the
	// setup's own settings.json (matched by key ID); nowhere: a usage error.
	ccOut := filepath.Join(t.TempDir(), "cc")
	setupDone(t, s, nil, ccOut, "--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox)
	secret := secretOf(t, ccOut)
	state = filepath.Join(ccOut, "state.json")
	r = runMain(t, ctx, s, env{}, "", cmdArgs(s, "test", "--state", state, "--json")...)
	if r.code != ExitOK {
		t.Errorf("test with the secret in the setup's settings.json: exit %d\n%s", r.code, r.err)
	}
	noSecretOut := filepath.Join(t.TempDir(), "cc-nosecret")
	setupDone(t, s, nil, noSecretOut, "--product", "generic", "--method", "client-credentials", "--protocols", "ews", "--mailboxes", testMailbox, "--app-name", "no secret kept", "--no-secret")
	// --no-secret keeps the value out of the settings files, but never
	// loses it: the custody file holds it, and test finds it there.
	r = runMain(t, ctx, s, env{}, "", cmdArgs(s, "test", "--state", filepath.Join(noSecretOut, "state.json"), "--json")...)
	if r.code != ExitOK {
		t.Errorf("test with the secret in the custody file: exit %d\n%s", r.code, r.err)
	}
	if err := os.Remove(filepath.Join(noSecretOut, engine.SecretFileName)); err != nil {
		t.Fatalf("--no-secret left no custody file: %v", err)
	}
	r = runMain(t, ctx, s, env{}, "", cmdArgs(s, "test", "--state", filepath.Join(noSecretOut, "state.json"), "--json")...)
	if r.code != ExitUsage || !strings.Contains(r.err, "MAILOAUTH_CLIENT_SECRET") {
		t.Errorf("test without the secret anywhere: exit %d, want 2 naming MAILOAUTH_CLIENT_SECRET\n%s", r.code, r.err)
	}
	sec := env{"MAILOAUTH_CLIENT_SECRET": secret}
	r = runMain(t, ctx, s, sec, "", cmdArgs(s, "test", "--state", state, "--json")...)
	if r.code != ExitOK {
		t.Fatalf("app-only test: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// IMAP was never granted to this app: exit 3 with an explanation, at
	// once with --wait 0 although the setup is a second old (otherwise the
	// refusal would be waited out as replication delay for minutes).
	start := time.Now()
	r = runMain(t, ctx, s, sec, "", cmdArgs(s, "test", "--state", state, "--json", "--protocols", "imap", "--wait", "0")...)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("--wait 0 still waited %v", d)
	}
	if r.code != ExitTestFailed {
		t.Fatalf("app-only IMAP test: exit %d, want 3\n%s\n%s", r.code, r.out, r.err)
	}
	rep = testReport{}
	decodeJSON(t, r.out, &rep)
	if len(rep.Checks) == 0 || rep.Checks[0].OK || rep.Checks[0].Explanation == nil || rep.Checks[0].Explanation.Fix == "" {
		t.Errorf("failed check lacks cause and fix: %s", r.out)
	}
	if strings.Contains(r.out, secret) || strings.Contains(r.err, secret) || jwtLike.MatchString(r.out) {
		t.Error("the test report holds the secret or a token")
	}
}

// TestDeleteFromState: delete refuses without --yes when not interactive,
// then removes exactly the objects the state file says mailoauth created.
func TestDeleteFromState(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	ctx := testCtx(t)
	out := filepath.Join(t.TempDir(), "out")
	o := setupDone(t, s, nil, out, "--product", "generic", "--method", "client-credentials", "--protocols", "imap,smtp", "--mailboxes", testMailbox, "--test", "false")
	state := filepath.Join(out, "state.json")
	var st struct {
		Grants map[string]struct {
			ID string `json:"id"`
		} `json:"grants"`
		AppRoleAssignments []struct {
			ID string `json:"id"`
		} `json:"app_role_assignments"`
	}
	if err := json.Unmarshal(mustRead(t, state), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.AppRoleAssignments) != 2 {
		t.Fatalf("state records %d app role assignments, want IMAP and SMTP", len(st.AppRoleAssignments))
	}

	s.ResetRequests()
	// At a terminal, "n" (or just Enter) keeps everything: exit 130.
	r := interactive(t, ctx, s, env{}, "n\n", cmdArgs(s, "delete", "--state", state)...)
	if r.code != ExitAborted || !strings.Contains(r.err, "Delete them? [y/N]") {
		t.Fatalf("delete answered n: exit %d, want 130\n%s", r.code, r.err)
	}
	r = runMain(t, ctx, s, nil, "", cmdArgs(s, "delete", "--state", state)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Fatalf("delete without --yes: exit %d, want 2 naming --yes\n%s", r.code, r.err)
	}
	if len(s.Requests()) != 0 {
		t.Fatalf("delete without --yes talked to the tenant: %+v", s.Requests())
	}

	r = runMain(t, ctx, s, nil, "", cmdArgs(s, "delete", "--state", state, "--yes", "--json")...)
	if r.code != ExitOK {
		t.Fatalf("delete: exit %d\n%s", r.code, r.err)
	}
	var delOut struct {
		Entra struct {
			Deleted []struct {
				Object string `json:"object"`
			} `json:"deleted"`
		} `json:"entra"`
		FilesRemoved []string `json:"files_removed"`
	}
	decodeJSON(t, r.out, &delOut)
	res := delOut.Entra
	if len(delOut.FilesRemoved) == 0 {
		t.Errorf("delete kept the local files that hold the secret: %s", r.out)
	}
	var deletes []string
	for _, q := range s.Requests() {
		if q.Service == "graph" && q.Method == "DELETE" {
			deletes = append(deletes, q.Path)
			if q.Status >= 300 {
				t.Errorf("DELETE %s: %d", q.Path, q.Status)
			}
		}
		if q.Service == "graph" && (q.Method == "POST" || q.Method == "PATCH") {
			t.Errorf("delete changed something else: %s %s", q.Method, q.Path)
		}
	}
	// Every DELETE names an object of this setup; the app and its service
	// principal are among them.
	mine := []string{o.Result.ObjectID, o.Result.SPObjectID}
	for _, a := range st.AppRoleAssignments {
		mine = append(mine, a.ID)
	}
	for _, g := range st.Grants {
		mine = append(mine, g.ID)
	}
	for _, d := range deletes {
		ok := false
		for _, id := range mine {
			if strings.Contains(d, id) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("DELETE %s is not an object this setup created", d)
		}
	}
	for _, id := range mine {
		found := false
		for _, d := range deletes {
			if strings.HasSuffix(d, "/"+id) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s was not deleted; DELETEs: %v", id, deletes)
		}
	}
	if len(res.Deleted) < 2 {
		t.Errorf("--json lists %d deleted objects: %s", len(res.Deleted), r.out)
	}
	// The app and its enterprise application are gone from Graph.
	if apps := graphCount(t, s, "/v1.0/applications?$filter=appId%20eq%20'"+o.Result.AppID+"'"); apps != 0 {
		t.Errorf("the app is still in the tenant (%d)", apps)
	}
	if sps := graphCount(t, s, "/v1.0/servicePrincipals?$filter=appId%20eq%20'"+o.Result.AppID+"'"); sps != 0 {
		t.Errorf("the service principal is still in the tenant (%d)", sps)
	}
	// A second delete (the state is now empty) deletes nothing, needs no
	// sign-in, and is not an error.
	s.ResetRequests()
	r = runMain(t, ctx, s, nil, "", cmdArgs(s, "delete", "--state", state, "--yes", "--json")...)
	for _, q := range s.Requests() {
		if q.Method == "DELETE" {
			t.Errorf("a second delete deleted again: %s", q.Path)
		}
	}
	if r.code != ExitOK || len(s.Requests()) != 0 {
		t.Errorf("second delete: exit %d, %d requests\n%s", r.code, len(s.Requests()), r.err)
	}
}

// interactive runs Main as at a terminal, with stdin piped.
func interactive(t *testing.T, ctx context.Context, s *sim.Server, e env, stdin string, args ...string) result {
	t.Helper()
	e["MAILOAUTH_NO_BROWSER"] = "1"
	var out bytes.Buffer
	be := &browserErr{}
	code := Main(ctx, args, IO{In: strings.NewReader(stdin), Out: &out, Err: be, Interactive: true, Getenv: e.get})
	return result{code: code, out: out.String(), err: be.String()}
}

// ageState moves the state's updated_at into the past: a later run, with
// no replication delay left to wait out.
func ageState(t *testing.T, path string, by time.Duration) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustRead(t, path), &m); err != nil {
		t.Fatal(err)
	}
	m["updated_at"] = time.Now().Add(-by).UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cmdArgs is `<cmd> <cloud flags> args...`.
func cmdArgs(s *sim.Server, cmd string, args ...string) []string {
	return append(append([]string{cmd}, cloudArgs(s)...), args...)
}

func exportArgs(s *sim.Server, args ...string) []string { return cmdArgs(s, "export", args...) }

// TestStateCommandsNeedTheStatesCloud: a state written for the custom
// (simulated) cloud is refused without --cloud custom, instead of the
// command silently testing, exporting or deleting against the global
// cloud's endpoints.
func TestStateCommandsNeedTheStatesCloud(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(state, []byte(`{"version":1,"tenant":"4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50","cloud":"custom","plan":{"display_name":"x","flow":"client-credentials","protocols":["ews"]},"app_object_id":"a","client_id":"b","users":["helpdesk@contoso.com"],"setup":{"method":"client-credentials","mailboxes":["helpdesk@contoso.com"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"test", "--state", state},
		{"export", "--state", state},
		{"delete", "--state", state, "--yes"},
	} {
		r := runMain(t, testCtx(t), nil, env{"MAILOAUTH_CLIENT_SECRET": "x"}, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.err, "--cloud custom") {
			t.Errorf("%v: exit %d, want 2 naming --cloud custom\n%s", args, r.code, r.err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "settings.json")); err == nil {
		t.Error("export wrote settings for the wrong cloud")
	}
}

// graphCount counts a Graph collection as the admin sees it: a real
// device-code sign-in (auto-approved by the sim) and a real Graph read.
func graphCount(t *testing.T, s *sim.Server, path string) int {
	t.Helper()
	ctx := testCtx(t)
	c := simcloud.Must(t, s)
	hc, err := c.HTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := signin.SignIn(ctx, signin.Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc,
		Scopes: signin.Scopes(c, signin.Needs{}), OnDeviceCode: func(signin.DeviceCodePrompt) {}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphapi.New(c, sess.TokenSource(), hc, graphapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := g.Call(ctx, graphapi.Request{Method: "GET", Path: strings.TrimPrefix(path, "/v1.0"), Action: "reading back"}, &list); err != nil {
		t.Fatal(err)
	}
	return len(list.Value)
}
