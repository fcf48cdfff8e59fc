package steps_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/azure/cloud"
	. "github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/steps/stepstest"
)

// A refused answer names its flag and key for an unattended run's author,
// and its field's label on the screen.
func TestFieldErrorWords(t *testing.T) {
	e := stepstest.NewSignedIn()
	_, _, err := runAnswers(t, e, "product: agiloft\nmailboxes: nobody@contoso.com\n")
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a FieldError", err)
	}
	if !strings.Contains(err.Error(), "--mailboxes / mailboxes: nobody@contoso.com is not a user") {
		t.Errorf("unattended words: %q", err.Error())
	}
	screen := AdminText(err)
	if strings.Contains(screen, "--mailboxes") || strings.Contains(screen, "mailboxes:") || !strings.Contains(screen, "Inbound account's full email address: nobody@contoso.com is not a user") {
		t.Errorf("screen words: %q", screen)
	}
	_, _, err = runAnswers(t, stepstest.NewSignedIn(), "product: agiloft\nmailboxes: helpdesk@contoso.com\nadditional_users: unlicensed@contoso.com\n")
	if !strings.Contains(err.Error(), "--additional-users / additional_users:") || !strings.Contains(AdminText(err), "Additional mailboxes") {
		t.Errorf("an additional user's error names the mailboxes field: %q / %q", err, AdminText(err))
	}
}

// The review shows the changes, then only what applies and is new: the
// sign-in's tenant notes are not repeated, vendor-document corrections
// and product notes stay on the settings sheet, warnings are marked as
// warnings.
func TestReviewShowsWhatApplies(t *testing.T) {
	e := stepstest.NewSignedIn()
	e.Findings = []Finding{stepstest.TenantFinding}
	s := NewState(mustAnswers(t, "product: genesys\nmailboxes: helpdesk@contoso.com\ntest: false\n"))
	if _, err := Drive(context.Background(), s, e, Shell{Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	body := ReviewBody(s)
	kinds := map[LineKind]int{}
	for _, l := range body {
		kinds[l.Kind]++
		for _, no := range []string{"Vendor document", "POP3.AccessAsUser.All", stepstest.TenantFinding.Text, "note:"} {
			if strings.Contains(l.Text, no) {
				t.Errorf("review line %q shows %q", l.Text, no)
			}
		}
	}
	if kinds[LineChange] == 0 || kinds[LineCaution] != 1 {
		t.Errorf("review kinds %v (want changes and one warning, ROPC's MFA caution):\n%v", kinds, body)
	}
	if !strings.Contains(strings.Join(s.Draft.Notes, "\n"), "Vendor document fix") {
		t.Error("the draft's notes (--json, settings sheet) lost the vendor-document corrections")
	}
}

// guidedEngine is the test double with a demo's guide.
type guidedEngine struct{ *stepstest.Engine }

var demoPasswords = map[string]string{"helpdesk@contoso.com": "Demo-Mail-2026!", "mfa.user@contoso.com": "Demo-Mfa-2026!"}

func (guidedEngine) Guide() Guide {
	return Guide{
		SignIn: "Demo: sign in as admin", Mailbox: "helpdesk@contoso.com", MailboxHelp: "Demo: seeded users",
		Password: func(m string) string { return demoPasswords[m] }, Ephemeral: true,
	}
}

// The demo's guide offers its mailbox, fills in the seeded password of the
// mailbox chosen (not the default one's), and every mailbox is tested.
func TestGuideFillsTheChosenUsersPassword(t *testing.T) {
	e := stepstest.NewSignedIn()
	s := NewState(mustAnswers(t, "product: genesys\nmailboxes: mfa.user@contoso.com, helpdesk@contoso.com\n"))
	if _, err := Drive(context.Background(), s, guidedEngine{e}, Shell{Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if len(e.Tested) != 2 {
		t.Fatalf("tested %d mailboxes, want 2", len(e.Tested))
	}
	for _, in := range e.Tested {
		if in.Password != demoPasswords[in.Mailbox] {
			t.Errorf("%s was tested with the password of another user", in.Mailbox)
		}
	}

	// Unattended without mailboxes, the guide's mailbox is the default.
	e = stepstest.NewSignedIn()
	s = NewState(mustAnswers(t, "product: agiloft\n"))
	if _, err := Drive(context.Background(), s, guidedEngine{e}, Shell{Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if got := e.Applied[0].Mailboxes; len(got) != 1 || got[0] != "helpdesk@contoso.com" {
		t.Errorf("mailboxes %v, want the guide's", got)
	}
}

// A stop after the review keeps the cloud's flags; in the demo its tenant
// is gone, so there is nothing to resume.
func TestStopErrorWords(t *testing.T) {
	base, err := cloud.Lookup("custom")
	if err != nil {
		t.Fatal(err)
	}
	c, err := base.Apply(cloud.Overrides{Authority: "https://login.lab.example", GraphURL: "https://graph.lab.example", IMAP: "imap.lab.example:993", POP: "pop.lab.example:995", SMTP: "smtp.lab.example:587", EWSURL: "https://ews.lab.example/EWS/Exchange.asmx"})
	if err != nil {
		t.Fatal(err)
	}
	s := NewState(Answers{})
	s.Tenant.Cloud = c
	s.Draft.AppName = "X"
	s.Result.StateFile = "out/state.json"
	help := strings.Join(s.StopError(context.Canceled).ResumeHelp(), "\n")
	for _, want := range []string{"--resume --state out/state.json --cloud custom --authority https://login.lab.example", "delete --state out/state.json --cloud custom"} {
		if !strings.Contains(help, want) {
			t.Errorf("resume help lacks %q:\n%s", want, help)
		}
	}
	s.Guide = &Guide{Ephemeral: true}
	help = strings.Join(s.StopError(context.Canceled).ResumeHelp(), "\n")
	if strings.Contains(help, "--resume") || !strings.Contains(help, "demo") {
		t.Errorf("the demo's resume help: %s", help)
	}
}

func mustAnswers(t *testing.T, y string) Answers {
	t.Helper()
	a, err := ParseAnswers([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
