package exchange

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func startPOP(t *testing.T, e *env) string { return start(t, NewPOP3Server(e.cfg)) }

// popLogin runs the two-line AUTH XOAUTH2 and returns the server's answer.
func popLogin(r *rawConn, user, token string) string {
	r.send("AUTH XOAUTH2")
	r.expect("+ ")
	r.send(xoauth2B64(user, token))
	return r.line()
}

func TestPOP3GreetingCapaAndBasicAuth(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startPOP(t, e), e.ca.client)
	r.expect("+OK The Microsoft Exchange POP3 service is ready.")
	r.send("CAPA")
	r.expect("+OK")
	lines, err := r.tp.ReadDotLines()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"USER", "UIDL", "SASL XOAUTH2"} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf("CAPA %q lacks %q", lines, want)
		}
	}
	r.send("STAT")
	r.expect("-ERR Command is not valid in this state.")
	r.send("USER helpdesk@contoso.com")
	r.expect("+OK")
	r.send("PASS Demo-Mail-2026!")
	r.expect("-ERR Logon failure: unknown user name or bad password.")
	r.send("XYZZY")
	r.expect("-ERR Protocol error. 14")
	r.send("QUIT")
	r.expect("+OK Microsoft Exchange Server POP3 server signing off.")
	r.expectClosed()
	if strings.Contains(e.log.text(), "Demo-Mail-2026!") {
		t.Error("password in the log")
	}
}

func TestPOP3OneLineAuthClosesConnection(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startPOP(t, e), e.ca.client)
	r.line()
	tok := e.delegated(t, "helpdesk@contoso.com", "POP.AccessAsUser.All")
	r.send("AUTH XOAUTH2 " + xoauth2B64("helpdesk@contoso.com", tok))
	r.expect("-ERR Protocol error. Connection is closed. 10")
	r.expectClosed()
}

// Success row: +OK User successfully authenticated., then STAT/LIST/UIDL/
// RETR/TOP/DELE/RSET.
func TestPOP3Success(t *testing.T) {
	e := newEnv(t)
	addr := startPOP(t, e)
	msgs := e.tenant.Messages("helpdesk@contoso.com")
	total := 0
	for _, m := range msgs {
		total += len(m.Raw)
	}
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"delegated", e.delegated(t, "helpdesk@contoso.com", "POP.AccessAsUser.All")},
		{"app-only", e.appOnly(t, "POP.AccessAsApp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.tenant.setAccess(testAppID, "helpdesk@contoso.com", AppAccess{Registered: true, FullAccess: true})
			r := dialRaw(t, addr, e.ca.client)
			r.line()
			if got := popLogin(r, "helpdesk@contoso.com", tc.token); got != "+OK User successfully authenticated." {
				t.Fatalf("login: %q", got)
			}
			r.send("STAT")
			r.expect(fmt.Sprintf("+OK 3 %d", total))
			r.send("LIST")
			r.expect("+OK")
			list, _ := r.tp.ReadDotLines()
			if len(list) != 3 || list[1] != fmt.Sprintf("2 %d", len(msgs[1].Raw)) {
				t.Errorf("LIST = %q", list)
			}
			r.send("UIDL 3")
			r.expect("+OK 3 " + msgs[2].ID)
			r.send("RETR 2")
			r.expect("+OK")
			body, err := r.tp.ReadDotBytes()
			if err != nil {
				t.Fatal(err)
			}
			// ReadDotBytes undoes dot-stuffing and turns CRLF into LF.
			if want := strings.ReplaceAll(string(msgs[1].Raw), "\r\n", "\n"); string(body) != want {
				t.Errorf("RETR 2 = %q, want %q", body, want)
			}
			r.send("TOP 1 1")
			r.expect("+OK")
			top, _ := r.tp.ReadDotLines()
			if last := top[len(top)-1]; last != "Hello helpdesk," {
				t.Errorf("TOP 1 1 ends with %q", last)
			}
			r.send("DELE 1")
			r.expect("+OK")
			r.send("STAT")
			r.expect(fmt.Sprintf("+OK 2 %d", total-len(msgs[0].Raw)))
			r.send("RETR 1")
			r.expect("-ERR The specified message is out of range.")
			r.send("RSET")
			r.expect("+OK")
			r.send("NOOP")
			r.expect("+OK")
			r.send("QUIT")
			r.expect("+OK Microsoft Exchange Server POP3 server signing off.")
			e.checkNoToken(t, tc.token)
		})
	}
	if n := len(e.tenant.Messages("helpdesk@contoso.com")); n != 3 {
		t.Errorf("DELE removed mail: %d messages left", n)
	}
}

// Every failure row is the same -ERR for POP3.
func TestPOP3Failures(t *testing.T) {
	e := newEnv(t)
	addr := startPOP(t, e)
	helpdesk := "helpdesk@contoso.com"
	const scope = "POP.AccessAsUser.All"
	app := e.appOnly(t, "POP.AccessAsApp")
	cases := []struct {
		name, user, token string
		setup             func()
	}{
		{"expired", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: scope, exp: -time.Minute}), nil},
		{"wrong audience", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: helpdesk, scp: scope}), nil},
		{"other tenant", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: scope, tid: "00000000-0000-0000-0000-000000000001"}), nil},
		{"IMAP scope only", helpdesk, e.delegated(t, helpdesk, "IMAP.AccessAsUser.All"), nil},
		{"user= another mailbox", "support@contoso.com", e.delegated(t, helpdesk, scope), nil},
		{"no mailbox", "unlicensed@contoso.com", e.delegated(t, "unlicensed@contoso.com", scope), nil},
		{"app-only, no service principal", helpdesk, app, func() { e.tenant.setAccess(testAppID, helpdesk, AppAccess{FullAccess: true}) }},
		{"app-only, no FullAccess", helpdesk, app, func() { e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true}) }},
		{"POP disabled", helpdesk, e.delegated(t, helpdesk, scope), func() { e.tenant.update(helpdesk, func(m *Mailbox) { m.POPEnabled = false }) }},
		{"garbage response", helpdesk, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			r := dialRaw(t, addr, e.ca.client)
			r.line()
			var got string
			if tc.token == "" {
				r.send("AUTH XOAUTH2")
				r.expect("+ ")
				r.send("%%%not base64%%%")
				got = r.line()
			} else {
				got = popLogin(r, tc.user, tc.token)
			}
			if got != "-ERR Authentication failure: unknown user name or bad password." {
				t.Errorf("got %q", got)
			}
			r.send("STAT")
			r.expect("-ERR Command is not valid in this state.")
		})
	}
}

func TestPOP3IdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.cfg.Timeout = 300 * time.Millisecond
	r := dialRaw(t, startPOP(t, e), e.ca.client)
	r.line()
	r.expectClosed()
}
