package exchange

import (
	"crypto/tls"
	"errors"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
)

func startSMTP(t *testing.T, e *env) string { return start(t, NewSMTPServer(e.cfg)) }

// ehlo sends EHLO and returns the extension lines without "250-".
func (r *rawConn) ehlo() []string {
	r.t.Helper()
	r.send("EHLO client.example")
	var ext []string
	for {
		l := r.line()
		if len(l) < 4 || l[:3] != "250" {
			r.t.Fatalf("EHLO reply %q", l)
		}
		ext = append(ext, l[4:])
		if l[3] == ' ' {
			return ext
		}
	}
}

func (r *rawConn) startTLS(cfg *tls.Config) {
	r.t.Helper()
	r.send("STARTTLS")
	r.expect("220 2.0.0 SMTP server ready")
	tc := tls.Client(r.nc, cfg)
	if err := tc.Handshake(); err != nil {
		r.t.Fatal(err)
	}
	r.nc, r.tp = tc, textproto.NewConn(tc)
}

func TestSMTPGreetingEHLOAndSTARTTLS(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startSMTP(t, e), nil)
	greeting := r.line()
	re := regexp.MustCompile(`^220 ` + regexp.QuoteMeta(testHost) + ` Microsoft ESMTP MAIL Service ready at (.+)$`)
	m := re.FindStringSubmatch(greeting)
	if m == nil {
		t.Fatalf("greeting %q", greeting)
	}
	if _, err := time.Parse(time.RFC1123Z, m[1]); err != nil {
		t.Errorf("greeting date %q: %v", m[1], err)
	}
	ext := strings.Join(r.ehlo(), "\n")
	if !strings.Contains(ext, "STARTTLS") || strings.Contains(ext, "AUTH") {
		t.Errorf("EHLO before TLS:\n%s", ext)
	}
	tok := e.delegated(t, "helpdesk@contoso.com", "SMTP.Send")
	r.send("AUTH XOAUTH2 " + xoauth2B64("helpdesk@contoso.com", tok))
	r.expect("504 5.7.4 Unrecognized authentication type")
	r.send("MAIL FROM:<helpdesk@contoso.com>")
	r.expect("530 5.7.57 Client not authenticated to send mail. [" + testHost + "]")
	r.startTLS(e.ca.client)
	ext = strings.Join(r.ehlo(), "\n")
	if strings.Contains(ext, "STARTTLS") || !strings.Contains(ext, "AUTH LOGIN XOAUTH2") {
		t.Errorf("EHLO after TLS:\n%s", ext)
	}
	// Two-step form: AUTH XOAUTH2, 334, response.
	r.send("AUTH XOAUTH2")
	r.expect("334 ")
	r.send(xoauth2B64("helpdesk@contoso.com", tok))
	r.expect("235 2.7.0 Authentication successful")
	r.send("MAIL FROM:<support@contoso.com>")
	r.expect("550 5.7.60 SMTP; Client does not have permissions to send as this sender")
	r.send("MAIL FROM:<helpdesk@contoso.com> BODY=8BITMIME")
	r.expect("250 2.1.0 Sender OK")
	r.send("DATA")
	r.expect("503 5.5.2 Need rcpt command")
	r.send("FROB")
	r.expect("500 5.3.3 Unrecognized command")
	r.send("QUIT")
	r.expect("221 2.0.0 Service closing transmission channel")
	e.checkNoToken(t, tok)
}

func TestSMTPBasicAuthRefused(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startSMTP(t, e), nil)
	r.line()
	r.ehlo()
	r.startTLS(e.ca.client)
	r.ehlo()
	r.send("AUTH LOGIN")
	r.expect("334 VXNlcm5hbWU6")
	r.send("aGVscGRlc2tAY29udG9zby5jb20=")
	r.expect("334 UGFzc3dvcmQ6")
	r.send("RGVtby1NYWlsLTIwMjYh")
	r.expect("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [" + testHost + "]")
}

// smtpLogin dials with go-smtp, upgrades with STARTTLS and authenticates.
func smtpLogin(t *testing.T, e *env, addr, user, token string) (*smtp.Client, error) {
	t.Helper()
	c, err := smtp.DialStartTLS(addr, e.ca.client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.Auth(&xoauth2{user, token})
}

func wantSMTPError(t *testing.T, err error, code int, enh smtp.EnhancedCode, msg string) {
	t.Helper()
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an SMTP reply", err)
	}
	if se.Code != code || se.EnhancedCode != enh || se.Message != msg {
		t.Errorf("reply %d %v %q, want %d %v %q", se.Code, se.EnhancedCode, se.Message, code, enh, msg)
	}
}

// Failure rows of the behaviour table, through go-smtp's client.
func TestSMTPAuthFailures(t *testing.T) {
	e := newEnv(t)
	addr := startSMTP(t, e)
	helpdesk := "helpdesk@contoso.com"
	unsuccessful := "Authentication unsuccessful [" + testHost + "]"
	app := e.appOnly(t, "SMTP.SendAsApp")
	cases := []struct {
		name, user, token string
		setup             func()
		code              int
		enh               smtp.EnhancedCode
		msg               string
	}{
		{"expired", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: "SMTP.Send", exp: -time.Minute}), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"bad signature", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: "SMTP.Send", badKey: true}), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"graph audience", helpdesk, e.tenant.token(t, tokenSpec{aud: "00000003-0000-0000-c000-000000000000", upn: helpdesk, scp: "SMTP.Send"}), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"no SMTP.Send", helpdesk, e.delegated(t, helpdesk, "IMAP.AccessAsUser.All"), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"user= another mailbox", "support@contoso.com", e.delegated(t, helpdesk, "SMTP.Send"), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"no mailbox", "unlicensed@contoso.com", e.delegated(t, "unlicensed@contoso.com", "SMTP.Send"), nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"app-only, no service principal", helpdesk, app, nil, 535, smtp.EnhancedCode{5, 7, 3}, unsuccessful},
		{"tenant SMTP AUTH off, mailbox inherits", "mfa.user@contoso.com", e.delegated(t, "mfa.user@contoso.com", "SMTP.Send"), nil, 535, smtp.EnhancedCode{5, 7, 139},
			"Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."},
		{"SMTP AUTH off on the mailbox", helpdesk, e.delegated(t, helpdesk, "SMTP.Send"),
			func() { e.tenant.update(helpdesk, func(m *Mailbox) { m.SMTPAuth = SMTPAuthDisabled }) }, 535, smtp.EnhancedCode{5, 7, 139},
			"Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := smtpLogin(t, e, addr, tc.user, tc.token)
			wantSMTPError(t, err, tc.code, tc.enh, tc.msg)
			e.checkNoToken(t, tc.token)
		})
	}
	// The tenant switch: with org-wide SMTP AUTH on, the inheriting mailbox may log in.
	e.tenant.mu.Lock()
	e.tenant.smtpOff = false
	e.tenant.mu.Unlock()
	if _, err := smtpLogin(t, e, addr, "mfa.user@contoso.com", e.delegated(t, "mfa.user@contoso.com", "SMTP.Send")); err != nil {
		t.Errorf("tenant SMTP AUTH on: %v", err)
	}
}

// App-only SMTP needs FullAccess on the user= mailbox at AUTH (535 5.7.3
// without it, SendAs alone included); sending as another address needs
// SendAs on it (550 5.7.60 at MAIL FROM). The RBAC-only path (no
// SMTP.SendAsApp in the token) needs the role in scope instead.
func TestSMTPSendAs(t *testing.T) {
	e := newEnv(t)
	addr := startSMTP(t, e)
	helpdesk, support := "helpdesk@contoso.com", "support@contoso.com"
	app := e.appOnly(t, "SMTP.SendAsApp")
	denied := "SMTP; Client does not have permissions to send as this sender"
	authFail := "Authentication unsuccessful [SN6PR01CA0001.outlook.office365.com]"

	for _, acc := range []AppAccess{{Registered: true}, {Registered: true, SendAs: true}, {FullAccess: true}} {
		e.tenant.setAccess(testAppID, helpdesk, acc)
		_, err := smtpLogin(t, e, addr, helpdesk, app)
		wantSMTPError(t, err, 535, smtp.EnhancedCode{5, 7, 3}, authFail)
	}

	e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true, FullAccess: true})
	c, err := smtpLogin(t, e, addr, helpdesk, app)
	if err != nil {
		t.Fatalf("app-only AUTH with FullAccess: %v", err)
	}
	if err := c.Mail(helpdesk, nil); err != nil {
		t.Errorf("MAIL FROM the logged-in mailbox: %v", err)
	}
	c.Reset()
	wantSMTPError(t, c.Mail(support, nil), 550, smtp.EnhancedCode{5, 7, 60}, denied)
	e.tenant.setAccess(testAppID, support, AppAccess{Registered: true, FullAccess: true})
	c.Reset()
	wantSMTPError(t, c.Mail(support, nil), 550, smtp.EnhancedCode{5, 7, 60}, denied) // FullAccess is not SendAs
	e.tenant.setAccess(testAppID, support, AppAccess{Registered: true, SendAs: true})
	c.Reset()
	if err := c.Mail(support, nil); err != nil {
		t.Errorf("MAIL FROM with SendAs on it: %v", err)
	}

	// The RBAC-only path: no API permission, a role assignment in scope.
	bare := e.appOnly(t)
	e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true, FullAccess: true})
	_, err = smtpLogin(t, e, addr, helpdesk, bare)
	wantSMTPError(t, err, 535, smtp.EnhancedCode{5, 7, 3}, authFail)
	e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true, RBAC: []string{"SMTP.SendAsApp"}})
	if c, err = smtpLogin(t, e, addr, helpdesk, bare); err != nil {
		t.Fatalf("RBAC-only AUTH: %v", err)
	}
	if err := c.Mail(helpdesk, nil); err != nil {
		t.Errorf("RBAC-only MAIL FROM: %v", err)
	}

	// Delegated: the user's own mailbox, or SendAs on another.
	c, err = smtpLogin(t, e, addr, helpdesk, e.delegated(t, helpdesk, "SMTP.Send"))
	if err != nil {
		t.Fatal(err)
	}
	wantSMTPError(t, c.Mail(support, nil), 550, smtp.EnhancedCode{5, 7, 60}, denied)
	e.tenant.setUserAccess(helpdesk, support, true, true)
	c.Reset()
	if err := c.Mail(support, nil); err != nil {
		t.Errorf("delegated MAIL FROM with the user's SendAs: %v", err)
	}
	c.Reset()
	wantSMTPError(t, c.Mail("HELPDESK-alias@contoso.com", nil), 550, smtp.EnhancedCode{5, 7, 60}, denied)
}

// A message submitted over SMTP lands in the recipients' mailboxes and is
// visible over IMAP and POP3.
func TestSMTPDeliveryVisibleOverIMAPAndPOP(t *testing.T) {
	e := newEnv(t)
	smtpAddr, imapAddr, popAddr := startSMTP(t, e), startIMAP(t, e), startPOP(t, e)
	helpdesk := "helpdesk@contoso.com"

	// An IMAP session already watching the INBOX learns of the new mail on NOOP.
	ic := dialIMAP(t, e, imapAddr)
	if err := ic.Authenticate(&xoauth2{helpdesk, e.delegated(t, helpdesk, "IMAP.AccessAsUser.All")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	c, err := smtpLogin(t, e, smtpAddr, helpdesk, e.delegated(t, helpdesk, "SMTP.Send"))
	if err != nil {
		t.Fatal(err)
	}
	body := "From: helpdesk@contoso.com\r\nTo: support@contoso.com, helpdesk@contoso.com\r\nSubject: Test from the wizard\r\n\r\n.leading dot\r\nIt works.\r\n"
	if err := c.SendMail(helpdesk, []string{"support@contoso.com", helpdesk, "someone@fabrikam.com"}, strings.NewReader(body)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	c.Quit()

	for _, mbx := range []string{"support@contoso.com", helpdesk} {
		msgs := e.tenant.Messages(mbx)
		last := msgs[len(msgs)-1]
		if string(last.Raw) != body || last.From != helpdesk {
			t.Errorf("%s got %q from %q", mbx, last.Raw, last.From)
		}
	}

	if err := ic.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if n := ic.Mailbox().NumMessages; n != 4 {
		t.Errorf("IMAP sees %d messages after NOOP, want 4", n)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(4), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].Envelope.Subject != "Test from the wizard" {
		t.Errorf("IMAP FETCH 4: %v %+v", err, msgs)
	}

	r := dialRaw(t, popAddr, e.ca.client)
	r.line()
	if got := popLogin(r, helpdesk, e.delegated(t, helpdesk, "POP.AccessAsUser.All")); !strings.HasPrefix(got, "+OK") {
		t.Fatal(got)
	}
	r.send("RETR 4")
	r.expect("+OK")
	got, _ := r.tp.ReadDotBytes()
	if want := strings.ReplaceAll(body, "\r\n", "\n"); string(got) != want {
		t.Errorf("POP RETR 4 = %q", got)
	}
}

func TestSMTPIdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.cfg.Timeout = 300 * time.Millisecond
	r := dialRaw(t, startSMTP(t, e), nil)
	r.line()
	r.expect("451 4.7.0 Timeout waiting for client input [" + testHost + "]")
	r.expectClosed()
}
