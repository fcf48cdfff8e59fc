package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoInARealTerminal completes `mailoauth demo` in tmux as a new user
// would: approve the sign-in in the terminal, pick Genesys, accept every
// default, type one mailbox, confirm the review, run the login test (the
// demo mailbox's password is filled in) and finish. The screen must show
// real logins, and the files must be on disk.
func TestDemoInARealTerminal(t *testing.T) {
	dir := t.TempDir()
	term := newTerminal(t, dir, []string{"MAILOAUTH_NO_BROWSER=1"}, binary(t), "demo", "--no-delay")

	term.waitFor(`enter the code`, 30*time.Second)
	term.waitFor(`a: approve here`, 5*time.Second)
	term.send("a")

	term.waitFor(`Which product`, 30*time.Second)
	term.send("Down", "Down", "Enter") // ExtraView, Email This Issue, Genesys
	term.waitFor(`Which protocols`, 10*time.Second)

	// Accept every default (protocols, app name, audience, platform,
	// permissions) until the one typed answer: the mailbox.
	for i := 0; i < 12 && !strings.Contains(term.screen(), "Mailbox address"); i++ {
		term.send("Enter")
		time.Sleep(700 * time.Millisecond)
	}
	term.waitFor(`Mailbox address`, 10*time.Second)
	term.typeText("helpdesk@contoso.com")
	term.send("Enter")

	term.waitFor(`What will be created or changed`, 30*time.Second)
	screen := term.screen()
	for _, want := range []string{`create\s+app registration "Genesys E-mail Server mail \(OAuth2\)"`, `grant\s+admin consent for Office 365 Exchange Online`} {
		if !matches(want, screen) {
			t.Errorf("review lacks %q:\n%s", want, screen)
		}
	}
	term.send("Enter")
	term.waitFor(`Make these changes now\?`, 10*time.Second)
	term.send("y")

	term.waitFor(`Test the login now\?`, 60*time.Second)
	term.send("y")
	term.waitFor(`Mailbox password`, 30*time.Second)
	term.send("Enter") // the demo filled in the demo mailbox's password

	screen = term.waitFor(`Press Enter to finish`, 90*time.Second)
	if !matches(`2 of 2 logins worked`, screen) {
		t.Errorf("the logins did not all work:\n%s", screen)
	}
	if strings.Contains(screen, "Demo-Mail-2026!") {
		t.Error("the password is on screen")
	}
	term.send("Enter")
	screen = term.waitFor(`\[exit \d+\]`, 20*time.Second)
	if !strings.Contains(screen, "[exit 0]") {
		t.Fatalf("exit code:\n%s", screen)
	}

	out := filepath.Join(dir, "mailoauth-demo", "genesys-e-mail-server-mail-oauth2")
	for _, f := range []string{"settings.md", "settings.json", "genesys-javamail.properties", "genesys-options.ini", "state.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	props, _ := os.ReadFile(filepath.Join(out, "genesys-javamail.properties"))
	if !strings.Contains(string(props), "mail.imap.auth.mechanisms=XOAUTH2") {
		t.Errorf("JavaMail properties:\n%s", props)
	}
}
