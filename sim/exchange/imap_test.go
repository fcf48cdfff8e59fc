package exchange

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func startIMAP(t *testing.T, e *env) string {
	return start(t, NewIMAPServer(e.cfg))
}

func dialIMAP(t *testing.T, e *env, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: e.ca.client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIMAPGreetingAndCapability(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startIMAP(t, e), e.ca.client)
	r.expect("* OK The Microsoft Exchange IMAP4 service is ready.")
	r.send("a1 CAPABILITY")
	un, fin := r.untilTagged("a1")
	if len(un) != 1 || !strings.Contains(un[0], " AUTH=XOAUTH2") || !strings.Contains(un[0], " SASL-IR") || !strings.Contains(un[0], "IMAP4rev1") {
		t.Errorf("CAPABILITY = %q", un)
	}
	if fin != "a1 OK CAPABILITY completed." {
		t.Errorf("final = %q", fin)
	}
	r.send("a2 SELECT INBOX")
	r.expect("a2 BAD Command received in Invalid state.")
	r.send("a3 FROB")
	r.expect("a3 BAD Command Error. 12")
	r.send(`a4 LOGIN helpdesk@contoso.com "Demo-Mail-2026!"`)
	r.expect("a4 NO LOGIN failed.")
	r.send("a5 LOGOUT")
	r.expect("* BYE Microsoft Exchange Server IMAP4 server signing off.")
	r.expect("a5 OK LOGOUT completed.")
	r.expectClosed()
}

// Success row, with emersion's imapclient: AUTHENTICATE (SASL-IR), SELECT,
// FETCH, UID FETCH, SEARCH, STORE, STATUS, LIST.
func TestIMAPDelegatedSuccess(t *testing.T) {
	e := newEnv(t)
	c := dialIMAP(t, e, startIMAP(t, e))
	tok := e.delegated(t, "helpdesk@contoso.com", "IMAP.AccessAsUser.All offline_access")
	if err := c.Authenticate(&xoauth2{"helpdesk@contoso.com", tok}); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if sel.NumMessages != 3 || sel.UIDNext != 4 || sel.UIDValidity == 0 {
		t.Errorf("SELECT data = %+v", sel)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{
		Envelope: true, Flags: true, UID: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(msgs) != 3 {
		t.Fatalf("fetched %d messages", len(msgs))
	}
	raw := e.tenant.Messages("helpdesk@contoso.com")
	for i, m := range msgs {
		if m.Envelope == nil || m.Envelope.Subject != raw[i].Subject {
			t.Errorf("message %d envelope = %+v", i+1, m.Envelope)
		}
		if len(m.Envelope.From) != 1 || m.Envelope.From[0].Addr() != "user@fabrikam.com" || m.Envelope.From[0].Name != "Pat User" {
			t.Errorf("message %d from = %+v", i+1, m.Envelope.From)
		}
		if m.UID != imap.UID(i+1) || m.RFC822Size != int64(len(raw[i].Raw)) {
			t.Errorf("message %d UID %d size %d", i+1, m.UID, m.RFC822Size)
		}
		if body := m.FindBodySection(&imap.FetchItemBodySection{}); !bytes.Equal(body, raw[i].Raw) {
			t.Errorf("message %d body = %q", i+1, body)
		}
		seen := false
		for _, f := range m.Flags {
			seen = seen || f == imap.FlagSeen
		}
		if seen != (i == 0) {
			t.Errorf("message %d flags = %v", i+1, m.Flags)
		}
	}
	// UID FETCH of a header field.
	hdr := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject"}, Peek: true}
	um, err := c.Fetch(imap.UIDSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{hdr}}).Collect()
	if err != nil || len(um) != 1 {
		t.Fatalf("UID FETCH: %v %d", err, len(um))
	}
	if got := string(um[0].FindBodySection(hdr)); got != "Subject: VPN access\r\n\r\n" {
		t.Errorf("UID FETCH header = %q", got)
	}
	// SEARCH UNSEEN, then STORE +FLAGS \Seen reaches the mailbox.
	sr, err := c.Search(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got := sr.AllSeqNums(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("SEARCH UNSEEN = %v", got)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatalf("Store: %v", err)
	}
	if !e.tenant.Messages("helpdesk@contoso.com")[1].Read {
		t.Error("STORE +FLAGS \\Seen did not mark the message read")
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if *st.NumMessages != 3 || *st.NumUnseen != 1 || st.UIDNext != 4 {
		t.Errorf("STATUS = %+v", st)
	}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil || len(boxes) != 1 || boxes[0].Mailbox != "INBOX" {
		t.Errorf("LIST = %v, %v", boxes, err)
	}
	if err := c.UnselectAndExpunge().Wait(); err != nil {
		t.Errorf("CLOSE: %v", err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Errorf("Logout: %v", err)
	}
	e.checkNoToken(t, tok)
}

// The continuation form: AUTHENTICATE XOAUTH2, "+ ", then the response.
func TestIMAPAuthenticateContinuation(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startIMAP(t, e), e.ca.client)
	r.line()
	tok := e.delegated(t, "helpdesk@contoso.com", "IMAP.AccessAsUser.All")
	r.send("A01 AUTHENTICATE XOAUTH2")
	r.expect("+ ")
	r.send(xoauth2B64("helpdesk@contoso.com", tok))
	r.expect("A01 OK AUTHENTICATE completed.")
	r.send("A02 EXAMINE INBOX")
	un, fin := r.untilTagged("A02")
	if fin != "A02 OK [READ-ONLY] EXAMINE completed." || un[0] != "* 3 EXISTS" {
		t.Errorf("EXAMINE: %q %q", un, fin)
	}
	// A read-only FETCH of BODY[] must not mark the message read.
	r.send("A03 FETCH 2 (BODY[])")
	un, fin = r.untilTagged("A03")
	if fin != "A03 OK FETCH completed." || !strings.HasPrefix(un[0], "* 2 FETCH (BODY[] {") {
		t.Errorf("FETCH: %q %q", un, fin)
	}
	if e.tenant.Messages("helpdesk@contoso.com")[1].Read {
		t.Error("EXAMINE session marked a message read")
	}
	r.send("A04 AUTHENTICATE XOAUTH2")
	r.expect("A04 BAD Command received in Invalid state.")
}

// Row "Token bad, expired, wrong tenant, wrong audience, no permission,
// user= not the token's user" and row "User has no mailbox": NO.
func TestIMAPAuthenticateFailures(t *testing.T) {
	e := newEnv(t)
	addr := startIMAP(t, e)
	const scope = "IMAP.AccessAsUser.All"
	helpdesk := "helpdesk@contoso.com"
	cases := []struct {
		name, user, token string
	}{
		{"bad signature", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: scope, badKey: true})},
		{"expired", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: scope, exp: -time.Minute})},
		{"other tenant", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: helpdesk, scp: scope, tid: "72f988bf-86f1-41af-91ab-2d7cd011db47"})},
		{"graph audience", helpdesk, e.tenant.token(t, tokenSpec{aud: "https://graph.microsoft.com", upn: helpdesk, scp: scope})},
		{"no IMAP scope", helpdesk, e.delegated(t, helpdesk, "SMTP.Send POP.AccessAsUser.All")},
		{"user= another mailbox", "support@contoso.com", e.delegated(t, helpdesk, scope)},
		{"app-only without IMAP.AccessAsApp", helpdesk, e.appOnly(t, "full_access_as_app")},
		{"no mailbox (unlicensed)", "unlicensed@contoso.com", e.delegated(t, "unlicensed@contoso.com", scope)},
		{"unknown mailbox (app-only)", "nobody@contoso.com", e.appOnly(t, "IMAP.AccessAsApp")},
		{"not a token", helpdesk, "not-a-jwt-at-all"},
	}
	e.tenant.setAccess(testAppID, "nobody@contoso.com", AppAccess{Registered: true, FullAccess: true})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr, e.ca.client)
			r.line()
			r.send("A01 AUTHENTICATE XOAUTH2 " + xoauth2B64(tc.user, tc.token))
			r.expect("A01 NO AUTHENTICATE failed.")
			r.send("A02 SELECT INBOX")
			r.expect("A02 BAD Command received in Invalid state.")
			e.checkNoToken(t, tc.token)
		})
	}
	// And the library sees the failure as an error carrying Exchange's text.
	c := dialIMAP(t, e, addr)
	err := c.Authenticate(&xoauth2{helpdesk, cases[0].token})
	if err == nil || !strings.Contains(err.Error(), "AUTHENTICATE failed.") {
		t.Errorf("imapclient Authenticate error = %v", err)
	}
}

// Rows "App-only token fine, but no service principal / no FullAccess" and
// "Protocol disabled on the mailbox": AUTHENTICATE OK, then BAD on every
// mailbox command.
func TestIMAPAuthenticatedButNotConnected(t *testing.T) {
	e := newEnv(t)
	addr := startIMAP(t, e)
	helpdesk := "helpdesk@contoso.com"
	app := e.appOnly(t, "IMAP.AccessAsApp")
	cases := []struct {
		name  string
		setup func()
		token string
	}{
		{"app-only, no service principal", func() { e.tenant.setAccess(testAppID, helpdesk, AppAccess{FullAccess: true}) }, app},
		{"app-only, no FullAccess", func() { e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true}) }, app},
		{"IMAP disabled on the mailbox", func() { e.tenant.update(helpdesk, func(m *Mailbox) { m.IMAPEnabled = false }) },
			e.delegated(t, helpdesk, "IMAP.AccessAsUser.All")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			r := dialRaw(t, addr, e.ca.client)
			r.line()
			r.send("A01 AUTHENTICATE XOAUTH2 " + xoauth2B64(helpdesk, tc.token))
			r.expect("A01 OK AUTHENTICATE completed.")
			for i, cmd := range []string{"SELECT INBOX", "EXAMINE INBOX", `LIST "" "*"`, "STATUS INBOX (MESSAGES)", "FETCH 1 FLAGS"} {
				tag := string(rune('B' + i))
				r.send(tag + " " + cmd)
				r.expect(tag + " BAD User is authenticated but not connected.")
			}
			// imapclient sees the same reply as an error on SELECT.
			c := dialIMAP(t, e, addr)
			if err := c.Authenticate(&xoauth2{helpdesk, tc.token}); err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if _, err := c.Select("INBOX", nil).Wait(); err == nil || !strings.Contains(err.Error(), "User is authenticated but not connected.") {
				t.Errorf("Select error = %v", err)
			}
		})
	}
	e.tenant.update(helpdesk, func(m *Mailbox) { m.IMAPEnabled = true })
	e.tenant.setAccess(testAppID, helpdesk, AppAccess{Registered: true, FullAccess: true})
	t.Run("app-only with service principal and FullAccess", func(t *testing.T) {
		c := dialIMAP(t, e, addr)
		if err := c.Authenticate(&xoauth2{helpdesk, app}); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil || sel.NumMessages != 3 {
			t.Fatalf("Select = %+v, %v", sel, err)
		}
	})
}

func TestIMAPIdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.cfg.Timeout = 300 * time.Millisecond
	r := dialRaw(t, startIMAP(t, e), e.ca.client)
	r.line()
	began := time.Now()
	r.expect("* BYE Connection is closed. 13")
	r.expectClosed()
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// Literals (synchronizing and LITERAL+) are read, not mistaken for commands.
func TestIMAPLiterals(t *testing.T) {
	e := newEnv(t)
	r := dialRaw(t, startIMAP(t, e), e.ca.client)
	r.line()
	r.send("a1 LOGIN {20}")
	r.expect("+ Ready for additional command text.")
	if _, err := io.WriteString(r.nc, "helpdesk@contoso.com {3+}\r\nabc\r\n"); err != nil {
		t.Fatal(err)
	}
	r.expect("a1 NO LOGIN failed.")
	r.send("a2 NOOP")
	r.expect("a2 OK NOOP completed.")
	r.send("a3 LOGIN {99999999}")
	r.expect("a3 BAD Command Error. 12")
}

// The less common commands, on the wire: flags beyond \Seen, FLAGS
// replacement, BODYSTRUCTURE, partial fetches, SEARCH keys, multipart mail.
func TestIMAPFetchStoreSearchDetails(t *testing.T) {
	e := newEnv(t)
	helpdesk := "helpdesk@contoso.com"
	e.tenant.store(helpdesk, Message{Received: time.Now(), From: "a@fabrikam.com", Subject: "multi",
		Raw: []byte("From: a@fabrikam.com\r\nSubject: multi\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nplain part\r\n--b1--\r\n")})
	r := dialRaw(t, startIMAP(t, e), e.ca.client)
	r.line()
	r.send("a AUTHENTICATE XOAUTH2 " + xoauth2B64(helpdesk, e.delegated(t, helpdesk, "IMAP.AccessAsUser.All")))
	r.expect("a OK AUTHENTICATE completed.")
	r.send("b SELECT inbox")
	if _, fin := r.untilTagged("b"); fin != "b OK [READ-WRITE] SELECT completed." {
		t.Fatal(fin)
	}
	steps := []struct{ cmd, want string }{
		{`c STORE 1 +FLAGS (\Flagged)`, `* 1 FETCH (FLAGS (\Seen \Flagged))`},
		{`d STORE 1 FLAGS (\Deleted)`, `* 1 FETCH (FLAGS (\Deleted))`},
		{`e UID STORE 3 -FLAGS.SILENT (\Seen)`, ``},
		{`f FETCH 2 BODYSTRUCTURE`, `* 2 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 43 3))`},
		{`g FETCH 2 (BODY.PEEK[TEXT]<6.9>)`, `* 2 FETCH (BODY[TEXT]<6> {9}`},
		{`h UID SEARCH SEEN`, `* SEARCH`},
		{`i SEARCH UNSEEN UID 2:*`, `* SEARCH 2 3 4`},
		{`j FETCH 4 BODYSTRUCTURE`, `j BAD Command Argument Error. 11`},
		{`k FETCH 1 (FROB)`, `k BAD Command Argument Error. 11`},
		{`l SELECT Drafts`, `l NO [NONEXISTENT] Mailbox doesn't exist.`},
	}
	for _, s := range steps {
		tag, _, _ := strings.Cut(s.cmd, " ")
		r.send(s.cmd)
		un, fin := r.untilTagged(tag)
		got := fin
		if len(un) > 0 {
			got = un[0]
		}
		if s.want == "" {
			if len(un) != 0 || !strings.Contains(fin, " OK ") {
				t.Errorf("%s: %q %q", s.cmd, un, fin)
			}
			continue
		}
		if got != s.want {
			t.Errorf("%s: got %q, want %q", s.cmd, got, s.want)
		}
	}
	msgs := e.tenant.Messages(helpdesk)
	if msgs[0].Read || msgs[2].Read {
		t.Errorf("FLAGS (\\Deleted) / -FLAGS \\Seen left read flags: %v %v", msgs[0].Read, msgs[2].Read)
	}
	if len(msgs) != 4 {
		t.Errorf("\\Deleted removed mail: %d left", len(msgs))
	}
}
