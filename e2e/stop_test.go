package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestStopInTheTestStepOnACustomCloud runs the wizard on "your tenant"
// (`mailoauth setup` with the custom-cloud flags of a `mailoauth sim` in
// the background) at 80x24, for a generic client whose login test signs
// the mailbox user in through a browser. The sign-in page must be shown
// inside the screen (the browser opener prints, and nothing may be
// written over the screen). Ctrl-C while the test waits for that sign-in
// must stop cleanly: the resume and undo lines keep every --cloud custom
// flag, whole, and the client secret made before the stop is handed over.
func TestStopInTheTestStepOnACustomCloud(t *testing.T) {
	t.Parallel()
	info := startSim(t, "--auto-approve", "admin@contoso.onmicrosoft.com")
	dir := t.TempDir()
	env := []string{"PATH=" + fakeBrowser(t) + ":" + os.Getenv("PATH"), "MAILOAUTH_NO_BROWSER="}
	args := append([]string{"setup"}, info.cloudFlags()...)
	term := newSizedTerminal(t, dir, env, 80, 24, append([]string{binary(t)}, args...)...)
	rec := &recorder{width: 80}
	c := screenCase{product: 5, method: 0, typed: map[string]string{
		"Redirect URI of your client": "https://app.example.com/oauth2/callback",
		"Mailbox address(es)":         "helpdesk@contoso.com",
	}}
	screen := driveWizard(t, term, rec, c, func(s string) bool {
		return strings.Contains(s, "Sign in as the mailbox user in a browser") && strings.Contains(s, "The browser opener said")
	})
	// The page's address is wider than the screen: its lines are cut at
	// the edge, so read them joined.
	main := strings.Join(mainColumn(screen), "")
	if !strings.Contains(main, info.AuthorityHost+"/"+info.TenantID+"/oauth2/v2.0/authorize?") {
		t.Errorf("the mailbox user's sign-in page is not on the screen:\n%s", screen)
	}

	term.send("C-c")
	screen = term.waitFor(`Stopped\.`, 20*time.Second)
	rec.add(screen)
	if !strings.Contains(screen, "A client secret was added before the stop") {
		t.Errorf("the secret made before the stop is not on the first screenful:\n%s", screen)
	}
	text := strings.Join(append(mainColumn(screen), rec.scrollDown(term)...), " ")
	for _, want := range []string{"Resume: mailoauth setup --resume --state", "Undo: mailoauth delete --state"} {
		if !strings.Contains(text, want) {
			t.Errorf("the stop screen lacks %q:\n%s", want, screen)
		}
	}
	flags := info.cloudFlags()
	for i := 0; i+1 < len(flags); i += 2 {
		if pair := flags[i] + " " + flags[i+1]; strings.Count(text, pair) < 2 {
			t.Errorf("the resume and undo lines lack %q:\n%s", pair, screen)
		}
	}
	for _, p := range rec.problems(flags) {
		t.Error(p)
	}
	term.send("Enter")
	end := term.waitFor(`\[exit \d+\]`, 20*time.Second)
	if !strings.Contains(end, "[exit 130]") {
		t.Errorf("exit code after a stop: want 130:\n%s", end)
	}
	if !strings.Contains(term.scrollback(), "mailoauth delete --state") {
		t.Error("the undo line is not left on the terminal")
	}
}

// TestDemoStops: a stop after the review in the demo says its tenant is
// gone (no resume or undo command that would point at a tenant and CA file
// that no longer exist); a second demo in the same folder does not warn
// about the first one's app; Ctrl-C before any change says nothing was
// changed.
func TestDemoStops(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	env := []string{"MAILOAUTH_NO_BROWSER=1"}
	agiloft := screenCase{product: 3, method: -1}

	// In the login test: the demo's replication delays keep it waiting.
	term := newSizedTerminal(t, dir, env, 80, 24, bin, "demo")
	driveWizard(t, term, &recorder{width: 80}, agiloft, func(s string) bool { return strings.Contains(s, "next try in") })
	term.send("C-c")
	screen := term.waitFor(`Stopped\.`, 30*time.Second)
	text := strings.Join(mainColumn(screen), " ")
	if !strings.Contains(text, "The demo's simulated tenant ends when the demo exits") || strings.Contains(text, "--resume") || strings.Contains(text, "mailoauth delete") {
		t.Errorf("the demo's stop screen:\n%s", screen)
	}
	term.send("Enter")
	term.waitFor(`\[exit 130\]`, 20*time.Second)

	// Again in the same folder, up to the review's question; then Ctrl-C.
	term = newSizedTerminal(t, dir, env, 80, 24, bin, "demo", "--no-delay")
	rec := &recorder{width: 80}
	driveWizard(t, term, rec, agiloft, func(s string) bool { return strings.Contains(s, "Make these changes now?") })
	if rec.contains("no longer exists") {
		t.Error("the second demo warns about the first demo's app")
	}
	term.send("C-c")
	end := term.waitFor(`\[exit \d+\]`, 20*time.Second)
	if !strings.Contains(end, "nothing was changed") || !strings.Contains(end, "[exit 130]") {
		t.Errorf("Ctrl-C before the review:\n%s", end)
	}
}
