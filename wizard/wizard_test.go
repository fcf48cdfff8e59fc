package wizard

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/steps/stepstest"
)

const mailbox = "helpdesk@contoso.com"

var (
	registerQs = []qa{{"App registration name", ""}, {"Who may sign in?", ""}}
	infoQs     = []qa{{"Platform and redirect", ""}, {"API permissions", ""}}
	secretQs   = []qa{{"Client secret lifetime (months)", ""}}
	reviewQs   = []qa{{"What will be created or changed", ""}, {"Make these changes now?", ""}}
	testQs     = []qa{{"Test the login now?", ""}}
	exchangeQs = []qa{{"Make the Exchange Online changes now?", ""}}
	// app-only EWS also asks whether to scope the app to its mailboxes.
	appOnlyEWSQs  = cat(exchangeQs, []qa{{"Limit the app to its mailboxes?", ""}})
	passwordQs    = []qa{{"Mailbox password (for this test only)", "Demo-Mail-2026!"}}
	protocolsQ    = qa{"Which protocols will it use?", ""}
	productScript = map[string][]qa{}
)

func cat(parts ...[]qa) []qa {
	var out []qa
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func init() {
	productScript["extraview"] = cat(
		script("ExtraView", "", qa{"ExtraView instance URL", "https://ev.example.com/evj"}, protocolsQ),
		registerQs, infoQs, secretQs, exchangeQs,
		[]qa{{"EVMail address; BatchMail address if different", mailbox}, {"Only assigned users may sign in?", ""}},
		reviewQs, testQs)
	productScript["email-this-issue"] = cat(
		script("Email This Issue", "", qa{"Callback URL from Email This Issue", "https://jira.example.com/plugins/servlet/oauth2/callback"}, protocolsQ),
		registerQs, infoQs, secretQs, exchangeQs,
		[]qa{{"Mailbox address(es) Email This Issue will use", mailbox}},
		reviewQs, testQs)
	productScript["genesys"] = cat(
		script("Genesys", "", protocolsQ),
		registerQs, infoQs, exchangeQs,
		[]qa{{"Mailbox address(es) E-mail Server will use", mailbox}},
		reviewQs, testQs, passwordQs)
	productScript["agiloft"] = cat(
		script("Agiloft", ""),
		registerQs, infoQs, secretQs, appOnlyEWSQs,
		[]qa{{"Inbound account's full email address", mailbox}, {"Additional mailboxes this account reads (optional)", ""}},
		reviewQs, testQs)
	productScript["monitor-erp/user-password"] = cat(
		script("Monitor ERP", "User name & password"),
		registerQs, infoQs, exchangeQs,
		[]qa{{"E-mail account address(es)", mailbox}},
		reviewQs, testQs, passwordQs)
	productScript["monitor-erp/client-secret"] = cat(
		script("Monitor ERP", "Client secret"),
		registerQs, infoQs, secretQs, appOnlyEWSQs,
		[]qa{{"E-mail account address(es)", mailbox}},
		reviewQs, testQs)
	productScript["generic/auth-code"] = cat(
		script("Generic", "Authorization code", qa{"Redirect URI of your client", "https://app.example.com/callback"}, protocolsQ),
		registerQs, infoQs, secretQs, exchangeQs,
		[]qa{{"Mailbox address(es)", mailbox}},
		reviewQs, testQs)
	productScript["generic/ropc"] = cat(
		script("Generic", "Resource owner password", protocolsQ),
		registerQs, infoQs, exchangeQs,
		[]qa{{"Mailbox address(es)", mailbox}},
		reviewQs, testQs, passwordQs)
	productScript["generic/device-code"] = cat(
		script("Generic", "Device code", protocolsQ),
		registerQs, infoQs, exchangeQs,
		[]qa{{"Mailbox address(es)", mailbox}},
		reviewQs, testQs)
	productScript["generic/client-credentials"] = cat(
		script("Generic", "Client credentials", protocolsQ),
		registerQs, infoQs, secretQs, exchangeQs,
		[]qa{{"Mailbox address(es)", mailbox}},
		reviewQs, testQs)
}

// run drives a script through to the end screen.
func (d *driver) run(s []qa) {
	d.t.Helper()
	d.signIn()
	for _, q := range s {
		d.answer(q.title, q.value)
	}
}

func TestWizardEveryProductToTheEnd(t *testing.T) {
	for name, s := range productScript {
		t.Run(name, func(t *testing.T) {
			e := newTestEngine()
			d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
			d.run(s)
			screen := d.waitText("Press Enter to finish.")
			m := d.finish()
			out, err := m.Outcome()
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Applied) != 1 || len(e.Tested) != 1 || len(e.Exported) != 1 {
				t.Fatalf("applied %d tested %d exported %d", len(e.Applied), len(e.Tested), len(e.Exported))
			}
			typed := 0
			for _, q := range s {
				if q.value != "" && !strings.HasPrefix(q.value, "select:") && q.title != passwordQs[0].title {
					typed++
				}
			}
			if typed > 3 {
				t.Errorf("%d typed answers; a typical product needs at most 3", typed)
			}
			dr := e.Applied[0]
			if dr.Product != strings.Split(name, "/")[0] || len(dr.Permissions) == 0 || dr.Mailboxes[0] != mailbox {
				t.Errorf("draft %+v", dr)
			}
			if dr.Flow == catalog.ROPC && e.Tested[0].Password != "Demo-Mail-2026!" {
				t.Error("the typed password did not reach the test")
			}
			if !out.Test.OK() || out.Export == nil {
				t.Errorf("outcome %+v", out)
			}
			for _, want := range []string{"Protocol", "ok", "Application (client) ID", "Still to do by hand", "exchange-setup.ps1"} {
				if !strings.Contains(screen, want) {
					t.Errorf("end screen lacks %q:\n%s", want, screen)
				}
			}
			if dr.NeedsSecret != strings.Contains(screen, "s3cr3t~VALUE") {
				t.Errorf("secret shown = %v, needs secret = %v", strings.Contains(screen, "s3cr3t~VALUE"), dr.NeedsSecret)
			}
			if dr.NeedsSecret && !strings.Contains(screen, "/tmp/mailoauth/out/client-secret.txt") {
				t.Error("the secret's file is not named")
			}
			if strings.Contains(m.finalText(), "s3cr3t~VALUE") || strings.Contains(screen, "Demo-Mail-2026!") {
				t.Error("a secret is shown more than once, or the password is on screen")
			}
			if !strings.Contains(screen, "✓ Export") {
				t.Errorf("side panel does not mark Export done:\n%s", screen)
			}
		})
	}
}

func TestWizardSidePanelAndHelp(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	s := d.waitText("W X Y Z - 1 2 3 4")
	for _, want := range []string{"› Sign in", "· Product", "· Export", "Step 1 of 11", "https://microsoft.com/devicelogin", "a: approve here"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	d.runes("a")
	s = d.waitQuestion("Which product will read or send the mail?")
	for _, want := range []string{"✓ Sign in", "admin@contoso.onmicrosoft.com", "· Contoso", "Contoso · 4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50 · contoso.com", "SMTP AUTH is off for the tenant", "› Product", "Chooses the product"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	d.ctrlC()
	m := d.tm.FinalModel(t).(*Model)
	if _, err := m.Outcome(); !errors.Is(err, ErrAborted) {
		t.Errorf("Ctrl-C before the review: %v, want ErrAborted", err)
	}
}

func TestWizardEnterOpensBrowser(t *testing.T) {
	e := newTestEngine()
	opened := make(chan string, 1)
	d := startWizard(t, e, Options{OpenURL: func(u string) error { opened <- u; return nil }, ApproveInTerminal: e.Approve})
	d.waitText("Enter: open the browser")
	d.enter()
	if u := <-opened; u != "https://microsoft.com/devicelogin" {
		t.Errorf("opened %q", u)
	}
	d.waitText("Browser opened")
	d.ctrlC()
	d.tm.FinalModel(t)
}

func TestWizardValidatesWhereTyped(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.signIn()
	d.answer("Which product will read or send the mail?", "select:ExtraView")
	d.answer("ExtraView instance URL", "ftp://ev.example.com")
	s := d.waitText("must use https")
	if !strings.Contains(s, "https://ev.example.com/evj") {
		t.Errorf("the error does not show the accepted form:\n%s", s)
	}
	// Still on the same question: fix it.
	d.answer("ExtraView instance URL", "clear:https://ev.example.com/evj")
	d.answer("Which protocols will it use?", "")
	for _, q := range cat(registerQs, infoQs, secretQs, exchangeQs) {
		d.answer(q.title, q.value)
	}
	d.answer("EVMail address; BatchMail address if different", "helpdesk.contoso.com")
	d.waitText("is not an email address")
	d.answer("EVMail address; BatchMail address if different", "clear:nobody@contoso.com")
	d.answer("Only assigned users may sign in?", "")
	// The tenant has no such mailbox: the step says so and offers a retry.
	s = d.waitText("nobody@contoso.com is not a user")
	if !strings.Contains(s, "Esc: back") {
		t.Errorf("no way back shown:\n%s", s)
	}
	// The admin's words: the field's label, not the flag and key.
	if !strings.Contains(s, "✗ EVMail address; BatchMail address if different: nobody@contoso.com") || strings.Contains(s, "--mailboxes") {
		t.Errorf("the error does not name the field by its label:\n%s", s)
	}
	d.enter()
	d.answer("EVMail address; BatchMail address if different", "clear:"+mailbox)
	d.answer("Only assigned users may sign in?", "")
	d.waitQuestion("What will be created or changed")
	if len(e.Applied) != 0 {
		t.Fatal("changes applied before the review")
	}
	if got := strings.Join(e.Checked, ","); got != "nobody@contoso.com,"+mailbox {
		t.Errorf("checked mailboxes %s", got)
	}
	d.ctrlC()
	d.tm.FinalModel(t)
}

func TestWizardEscGoesBack(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.signIn()
	d.answer("Which product will read or send the mail?", "select:Agiloft")
	d.answer("App registration name", "")
	d.waitQuestion("Who may sign in?")
	d.esc()
	d.waitQuestion("App registration name")
	d.esc()
	d.answer("Which product will read or send the mail?", "select:Genesys")
	d.answer("Which protocols will it use?", "")
	// The app name follows the newly chosen product.
	d.waitQuestion("App registration name")
	d.waitText("Genesys E-mail Server mail (OAuth2)") // the default follows the product
	d.answer("App registration name", "")
	d.answer("Who may sign in?", "")
	d.answer("Platform and redirect", "")
	d.waitQuestion("API permissions")
	d.esc()
	d.waitQuestion("Platform and redirect")
	d.esc()
	d.esc()
	d.esc()
	d.esc()
	// Esc on the first question stays there.
	d.esc()
	d.waitQuestion("Which product will read or send the mail?")
	d.esc()
	d.waitQuestion("Which product will read or send the mail?")
	d.ctrlC()
	if _, err := d.tm.FinalModel(t).(*Model).Outcome(); !errors.Is(err, ErrAborted) {
		t.Errorf("err %v", err)
	}
}

func TestWizardCtrlCAfterReviewStopsCleanly(t *testing.T) {
	e := newTestEngine()
	e.HoldApply = true
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.run(productScript["agiloft"][:len(productScript["agiloft"])-1]) // up to the review's confirmation
	<-e.ApplyHeld
	s := d.waitText("✓ Create app registration")
	if !strings.Contains(s, "ctrl+c stop after the action in hand") {
		t.Errorf("footer does not say what Ctrl-C does now:\n%s", s)
	}
	d.esc() // no going back after the review
	d.ctrlC()
	s = d.waitText("Stopped.")
	for _, want := range []string{"mailoauth setup --resume", `"Agiloft mail (OAuth2)"`, "mailoauth delete --state /tmp/mailoauth/state-agiloft.json"} {
		if !strings.Contains(s, want) {
			t.Errorf("stop screen lacks %q:\n%s", want, s)
		}
	}
	d.enter()
	m := d.tm.FinalModel(t).(*Model)
	_, err := m.Outcome()
	var st *Stopped
	if !errors.As(err, &st) || !errors.Is(err, ErrAborted) {
		t.Fatalf("err %v, want *Stopped matching ErrAborted", err)
	}
	if st.Apply.StateFile != "/tmp/mailoauth/state-agiloft.json" {
		t.Errorf("state file %q", st.Apply.StateFile)
	}
}

func TestWizardResumeUpdatesExistingApp(t *testing.T) {
	// A second run (mailoauth setup --resume, or the same app name) finds
	// the app made by the first and updates it.
	e := newTestEngine()
	e.Apps = []steps.ExistingApp{{AppID: "99999999-8888-7777-6666-555555555555", DisplayName: "Agiloft mail (OAuth2)"}}
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.signIn()
	d.answer("Which product will read or send the mail?", "select:Agiloft")
	d.answer("App registration name", "")
	d.answer("Who may sign in?", "")
	s := d.waitQuestion("already exist")
	if cursorLine(s) == "" || !strings.Contains(cursorLine(s), "Update it (99999999") {
		t.Errorf("update not offered first:\n%s", s)
	}
	d.enter()
	for _, q := range cat(infoQs, secretQs, appOnlyEWSQs, []qa{{"Inbound account's full email address", mailbox}, {"Additional mailboxes this account reads (optional)", ""}}) {
		d.answer(q.title, q.value)
	}
	s = d.waitQuestion("What will be created or changed")
	if !strings.Contains(s, "update  app registration") {
		t.Errorf("review does not say update:\n%s", s)
	}
	d.answer("What will be created or changed", "")
	d.answer("Make these changes now?", "")
	d.answer("Test the login now?", "key:n")
	m := d.finish()
	out, err := m.Outcome()
	if err != nil {
		t.Fatal(err)
	}
	if e.Applied[0].AppID != "99999999-8888-7777-6666-555555555555" || out.Result.Created {
		t.Errorf("app not updated: %+v", e.Applied[0])
	}
	if len(e.Tested) != 0 || out.Test != nil {
		t.Error("the test ran although declined")
	}
}

func TestWizardAnswersPrefill(t *testing.T) {
	// Answers given ahead are the initial values: a consultant only
	// presses Enter.
	e := newTestEngine()
	var a steps.Answers
	for k, v := range map[string]string{"product": "agiloft", "mailboxes": mailbox, "secret_months": "6", "test": "false"} {
		if err := a.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve, Answers: a})
	d.signIn()
	s := d.waitQuestion("Which product will read or send the mail?")
	if !strings.Contains(cursorLine(s), "Agiloft") {
		t.Errorf("product not preselected: %q", cursorLine(s))
	}
	d.enter()
	for _, q := range cat(registerQs, infoQs, secretQs, appOnlyEWSQs, []qa{{"Inbound account's full email address", ""}, {"Additional mailboxes this account reads (optional)", ""}}, reviewQs, testQs) {
		d.answer(q.title, q.value)
	}
	d.finish()
	if dr := e.Applied[0]; dr.SecretMonths != 6 || dr.Mailboxes[0] != mailbox {
		t.Errorf("answers not used: %+v", dr)
	}
	if len(e.Tested) != 0 {
		t.Error("test: false ignored")
	}
}

func TestAccessibleMode(t *testing.T) {
	e := newTestEngine()
	e.ApproveAll()
	in := strings.NewReader(strings.Join([]string{
		"4",     // product: Agiloft (4th)
		"",      // app name
		"",      // audience
		"",      // secret months
		"",      // Exchange Online: apply
		"",      // limit to its mailboxes: no
		mailbox, // mailbox
		"",      // additional users
		"y",     // apply
		"n",     // no test
	}, "\n") + "\n")
	var out strings.Builder
	o, err := Run(context.Background(), e, Options{Accessible: true, In: in, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if o.Draft.Product != "agiloft" || len(e.Applied) != 1 {
		t.Errorf("outcome %+v", o.Draft)
	}
	text := out.String()
	for _, want := range []string{"== Sign in ==", "enter the code WXYZ-1234", "✓ Review: created", "Files written"} {
		if !strings.Contains(text, want) {
			t.Errorf("accessible output lacks %q", want)
		}
	}
	if strings.Contains(text, "\x1b[?1049h") {
		t.Error("accessible mode switched to the alt-screen")
	}
}

func TestAccessibleModeEndOfInputAborts(t *testing.T) {
	e := newTestEngine()
	e.ApproveAll()
	var out strings.Builder
	_, err := Run(context.Background(), e, Options{Accessible: true, In: strings.NewReader("4\n"), Out: &out})
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("err %v, want ErrAborted", err)
	}
	if len(e.Applied) != 0 {
		t.Error("applied without answers")
	}
}

func TestWizardCountdownAndFailedLogin(t *testing.T) {
	e := newTestEngine()
	e.FailTest = map[catalog.Protocol]stepstest.Failure{catalog.SMTP: {
		Cause: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant",
		Fix:   "Set-CASMailbox -Identity helpdesk@contoso.com -SmtpClientAuthenticationDisabled $false",
	}}
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.run(productScript["extraview"])
	s := d.waitText("Waiting for Microsoft to replicate")
	if !strings.Contains(s, "next try in 3s") && !strings.Contains(s, "next try in 2s") {
		t.Errorf("no countdown:\n%s", s)
	}
	s = d.waitText("Press Enter to finish.")
	for _, want := range []string{"failed", "SmtpClientAuthentication is disabled", "Fix: Set-CASMailbox -Identity helpdesk@contoso.com"} {
		if !strings.Contains(s, want) {
			t.Errorf("result table lacks %q:\n%s", want, s)
		}
	}
	out, err := d.finish().Outcome()
	if err != nil || !out.LoginFailed() {
		t.Errorf("err %v, LoginFailed %v; want nil, true (exit code 3)", err, out.LoginFailed())
	}
}

func TestWizardBlockerStopsAtReview(t *testing.T) {
	e := newTestEngine()
	e.Blocker = &steps.Finding{Severity: steps.Blocker, Text: "Casey Cloud cannot grant application permissions", Fix: "sign in as a Privileged Role Administrator"}
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	s := productScript["agiloft"]
	d.run(s[:len(s)-3]) // up to the review
	screen := d.waitText("cannot succeed yet")
	for _, want := range []string{"blocker: Casey Cloud cannot grant", "Fix: sign in as a Privileged Role Administrator", "Esc: back"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	d.esc()
	d.waitQuestion("Additional mailboxes this account reads (optional)")
	d.ctrlC()
	if _, err := d.tm.FinalModel(t).(*Model).Outcome(); !errors.Is(err, ErrAborted) {
		t.Errorf("err %v", err)
	}
	if len(e.Applied) != 0 {
		t.Error("applied despite the blocker")
	}
}

func TestNoColor(t *testing.T) {
	e := newTestEngine()
	for _, noColor := range []bool{true, false} {
		var out strings.Builder
		m := New(context.Background(), e, Options{Out: &out, NoColor: noColor})
		m.c.Width = 120
		v := m.View()
		if hasColor := strings.Contains(v, "\x1b["); noColor && hasColor {
			t.Errorf("NoColor view has escape codes: %q", v)
		}
		if !strings.Contains(v, "Sign in") {
			t.Errorf("view lacks the step list: %q", v)
		}
	}
}

func TestRunDrawsOnOutAndAbortsOnCtrlC(t *testing.T) {
	e := newTestEngine()
	r, w := io.Pipe()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), e, Options{In: r, Out: &out, NoColor: true, ApproveInTerminal: e.Approve})
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "W X Y Z") {
		if time.Now().After(deadline) {
			t.Fatalf("no device code drawn on Out:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := w.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrAborted) {
			t.Errorf("err %v, want ErrAborted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Ctrl-C")
	}
	if !strings.Contains(out.String(), "\x1b[?1049h") {
		t.Error("the full-screen wizard did not use the alt-screen")
	}
}

// lockedBuffer is a strings.Builder safe for the program's writer
// goroutine and the test's reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A short select shows every option, also when its default is not the
// first (Genesys' audience is multi).
func TestWizardShortSelectShowsEveryOption(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.signIn()
	d.answer("Which product will read or send the mail?", "select:Genesys")
	d.answer("Which protocols will it use?", "")
	d.answer("App registration name", "")
	s := d.waitQuestion("Who may sign in?")
	for _, want := range []string{"(single tenant)", "> Accounts in any organizational directory (multitenant)"} {
		if !strings.Contains(s, want) {
			t.Errorf("audience question lacks %q:\n%s", want, s)
		}
	}
	d.ctrlC()
	d.tm.FinalModel(t)
}

// After Esc back, a multi-select's cursor is where it was, not on top.
func TestWizardEscBackKeepsTheCursor(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.signIn()
	d.answer("Which product will read or send the mail?", "select:Genesys")
	d.waitQuestion("Which protocols will it use?")
	d.selectOption("POP3")
	d.enter()
	d.waitQuestion("App registration name")
	d.esc()
	s := d.waitQuestion("Which protocols will it use?")
	if cur := cursorLine(s); !strings.Contains(cur, "POP3") {
		t.Errorf("cursor on %q after Esc back, want POP3:\n%s", cur, s)
	}
	d.ctrlC()
	d.tm.FinalModel(t)
}

// At 80x24 the end screen's first screenful holds the test result and the
// secret; the rest (what to do by hand) is reached by scrolling. The
// secret's own setting does not repeat its placeholder.
func TestWizardSmallTerminalEndScreen(t *testing.T) {
	e := newTestEngine()
	e.FailTest = map[catalog.Protocol]stepstest.Failure{catalog.EWS: {Cause: "Exchange does not know the app", FixedBy: "New-ServicePrincipal, run in Exchange Online"}}
	d := startWizardSized(t, e, Options{ApproveInTerminal: e.Approve}, 80, 24)
	d.run(productScript["agiloft"])
	s := d.waitText("Press Enter to finish.")
	for _, want := range []string{"Login test: 1 of 1 logins worked (helpdesk@contoso.com)", "Client secret value (shown only this once", stepstest.Secret} {
		if !strings.Contains(s, want) {
			t.Errorf("first screenful lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "│") {
		t.Errorf("the step list takes room at 80 columns:\n%s", s)
	}
	seen := s
	for i := 0; i < 10 && strings.Contains(d.m.Screen(), "more below"); i++ {
		before := d.m.Screen()
		d.key(tea.KeyPgDown)
		seen += d.waitFor("the next page", func(x string) bool { return x != before })
	}
	for _, want := range []string{"How the test went, attempt by attempt:", "failed: Exchange does not know the app", "then applied: New-ServicePrincipal", "Still to do by hand:"} {
		if !strings.Contains(seen, want) {
			t.Errorf("scrolling never shows %q:\n%s", want, seen)
		}
	}
	if strings.Contains(seen, "(the client secret: see") {
		t.Errorf("the secret's placeholder is shown beside its value:\n%s", seen)
	}
	for _, line := range strings.Split(seen, "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("line wider than the terminal: %q", line)
		}
	}
	d.finish()
}

// The mailbox user's browser sign-in page in the login test is shown
// inside the screen (and opened), never printed over it.
func TestWizardShowsTheTestSignInPage(t *testing.T) {
	e := newTestEngine()
	const page = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?client_id=1"
	e.OnTest = func(in steps.TestInput) {
		if in.OpenURL != nil {
			_ = in.OpenURL(page)
		}
	}
	e.TestDelay = 2 * time.Second
	opened := make(chan string, 4)
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve, OpenURL: func(u string) error { opened <- u; return nil }})
	d.run(productScript["generic/auth-code"])
	s := d.waitText("Sign in as the mailbox user in a browser on this computer, at:")
	if !strings.Contains(s, page) {
		t.Errorf("the page is not on the screen:\n%s", s)
	}
	if got := <-opened; got != page {
		t.Errorf("opened %q", got)
	}
	d.finish()
}

// Without colour, the chosen button of a Yes/No question is marked in text.
func TestNoColorConfirmButtons(t *testing.T) {
	e := newTestEngine()
	d := startWizard(t, e, Options{ApproveInTerminal: e.Approve})
	d.run(productScript["agiloft"][:len(productScript["agiloft"])-2])
	s := d.waitQuestion("Make these changes now?")
	if !strings.Contains(s, "[Yes]") || strings.Contains(s, "[No]") {
		t.Errorf("Yes is not marked as chosen:\n%s", s)
	}
	d.key(tea.KeyRight)
	s = d.waitText("[No]")
	if strings.Contains(s, "[Yes]") {
		t.Errorf("both buttons marked:\n%s", s)
	}
	d.ctrlC()
	d.tm.FinalModel(t)
}
