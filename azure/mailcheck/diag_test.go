package mailcheck

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/sim"
)

// popServer is a POP3 server over TLS that greets with greeting and
// refuses every XOAUTH2 login with refusal.
func popServer(t *testing.T, srvTLS *tls.Config, greeting, refusal string) *rawServer {
	return startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte(greeting + "\r\n"))
		if l, ok := readLn(rd, rec); !ok || !strings.HasPrefix(l, "AUTH XOAUTH2") {
			return
		}
		c.Write([]byte("+ \r\n"))
		readLn(rd, rec)
		c.Write([]byte(refusal + "\r\n"))
		readLn(rd, rec)
	})
}

// Right after an app-only setup a refusal from a server that is not
// Exchange Online is reported at once, never waited on as Microsoft's
// replication; the same words from Exchange Online are waited on.
func TestNotExchangeServerIsNotWaitedOn(t *testing.T) {
	t.Parallel() // the control case waits out its budget
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.POP}, exchange: true})
	srvTLS, clientTLS := testTLS(t)
	const exchangeRefusal = "-ERR Authentication failure: unknown user name or bad password."
	for _, tc := range []struct {
		name, greeting, refusal, code, cause string
		waited                               bool
	}{
		{"dovecot temporary failure", "+OK Dovecot (Ubuntu) ready.", "-ERR [SYS/TEMP] Temporary authentication failure.", explain.CodeStdTemporary, "Dovecot", false},
		{"dovecot standard refusal", "+OK Dovecot (Ubuntu) ready.", "-ERR [AUTH] Authentication failed.", explain.CodeStdAuthFailed, "not Exchange Online", false},
		{"Exchange's words from another server", "+OK POP3 server ready", exchangeRefusal, explain.CodeStdAuthFailed, "not Exchange Online", false},
		{"Exchange Online itself (control)", "+OK The Microsoft Exchange POP3 service is ready.", exchangeRefusal, explain.CodePOPAuthFailed, "New-ServicePrincipal", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := popServer(t, srvTLS, tc.greeting, tc.refusal)
			c := simCloud(t, s)
			c.POP = srv.endpoint(cloud.ImplicitTLS)
			c.RootCAs = clientTLS.RootCAs
			cfg := config(s, c, ap, catalog.ClientCredentials, catalog.POP)
			cfg.ChangedAt = time.Now()
			cfg.Retry = token.Retry{Budget: 2 * time.Second, Interval: 200 * time.Millisecond}
			ch := only(t, Run(ctxT(t, time.Minute), cfg))
			expectFail(t, ch, "auth", tc.refusal, tc.code, []string{tc.cause}, nil)
			if ch.Greeting != tc.greeting {
				t.Errorf("greeting %q", ch.Greeting)
			}
			if waited := ch.Attempts > 1; waited != tc.waited {
				t.Fatalf("attempts %d, waited %v; want waited %v", ch.Attempts, waited, tc.waited)
			}
		})
	}
}

// SMTP pointed at a port that speaks another TLS mode gets a hint, not a
// bare timeout.
func TestSMTPWrongTLSMode(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.SMTP}, exchange: true})
	srvTLS, clientTLS := testTLS(t)
	// An SMTPS (implicit TLS) server: it waits for a ClientHello.
	smtps := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("220 smtps.example.org ESMTP ready\r\n"))
		readLn(rd, rec)
	})
	// A server that answers with a TLS alert at once.
	alert := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32})
		time.Sleep(2 * time.Second)
	})
	// A plain-text (STARTTLS) server reached with implicit TLS.
	plain := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("220 mail.example.org ESMTP Postfix\r\n"))
		time.Sleep(2 * time.Second)
	})
	for _, tc := range []struct {
		name  string
		ep    cloud.Endpoint
		step  string
		cause string
		fix   string
	}{
		{"implicit TLS where STARTTLS was expected", smtps.endpoint(cloud.StartTLS), "greeting", "a TLS handshake on the same port was answered", "587"},
		{"a TLS alert for a greeting", alert.endpoint(cloud.StartTLS), "greeting", "an alert record, bytes 15 03 03", "587"},
		{"plain text where implicit TLS was expected", plain.endpoint(cloud.ImplicitTLS), "tls", `"220 m"`, "STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := simCloud(t, s)
			c.SMTP, c.RootCAs = tc.ep, clientTLS.RootCAs
			cfg := config(s, c, ap, catalog.ClientCredentials, catalog.SMTP)
			cfg.Timeout = time.Second
			start := time.Now()
			ch := only(t, Run(ctxT(t, time.Minute), cfg))
			if took := time.Since(start); took > 2*cfg.Timeout+time.Second {
				t.Fatalf("took %v", took)
			}
			expectFail(t, ch, tc.step, "", explain.CodeTLSMode, []string{tc.cause}, []string{tc.fix})
		})
	}
}

// A server whose EHLO lists no XOAUTH2 is named, and not asked for it.
func TestSMTPNoXOAUTH2(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.SMTP}, exchange: true})
	srvTLS, clientTLS := testTLS(t)
	postfix := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("220 mail.example.org ESMTP Postfix (Ubuntu)\r\n"))
		readLn(rd, rec)
		c.Write([]byte("250-mail.example.org\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"))
		readLn(rd, rec)
	})
	c := simCloud(t, s)
	c.SMTP, c.RootCAs = postfix.endpoint(cloud.ImplicitTLS), clientTLS.RootCAs
	ch := only(t, Run(ctxT(t, time.Minute), config(s, c, ap, catalog.ClientCredentials, catalog.SMTP)))
	expectFail(t, ch, "auth", "server does not offer AUTH XOAUTH2: AUTH PLAIN LOGIN", explain.CodeNoXOAUTH2, []string{"Postfix", "not Exchange Online"}, []string{"smtp.office365.com:587"})
	for _, l := range postfix.sent() {
		if strings.HasPrefix(l, "AUTH") {
			t.Fatalf("sent %q to a server that does not offer XOAUTH2", l)
		}
	}
}

// With Exchange's state read, the login test states the cause as a fact,
// does not wait on a fact waiting cannot cure, and waits when the state is
// right (a change still replicating).
func TestSimExchangeFactsInTheDiagnosis(t *testing.T) {
	t.Parallel() // the second case waits
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	facts := func(imap bool) *explain.ExchangeFacts {
		return &explain.ExchangeFacts{ReadAt: time.Now(), Registration: explain.RegistrationRight, RegisteredObjectIDs: []string{ap.spID}, ExpectedObjectID: ap.spID,
			Mailboxes: []explain.MailboxFacts{{Address: helpdesk, Read: true, Found: true, Type: "UserMailbox", CASRead: true, ImapEnabled: ptr(imap), FullAccess: ptr(true)}}}
	}
	if err := s.SetIMAPEnabled(helpdesk, false); err != nil {
		t.Fatal(err)
	}
	cfg := config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)
	cfg.ChangedAt = time.Now()
	cfg.Retry = token.Retry{Budget: 20 * time.Second, Interval: 300 * time.Millisecond}

	t.Run("a fact is final", func(t *testing.T) {
		cfg := cfg
		cfg.Exchange = facts(false)
		start := time.Now()
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		x := expectFail(t, ch, "select", "BAD User is authenticated but not connected.", explain.CodeIMAPNotConnected,
			[]string{"IMAP is off for this mailbox (ImapEnabled False)"}, []string{"Set-CASMailbox -Identity 'helpdesk@contoso.com' -ImapEnabled $true"})
		if ch.Attempts != 1 || time.Since(start) > 5*time.Second || len(x.Facts) == 0 || strings.Contains(x.FixCommand, "New-ServicePrincipal") {
			t.Fatalf("attempts %d in %v: %s", ch.Attempts, time.Since(start), x)
		}
		applyFix(t, s, x)
		if rep := Run(ctxT(t, time.Minute), cfg); !rep.OK() {
			dump(t, rep)
			t.Fatal("fix did not work")
		}
	})

	t.Run("right settings are waited on", func(t *testing.T) {
		if err := s.SetIMAPEnabled(helpdesk, false); err != nil {
			t.Fatal(err)
		}
		// Exchange "replicates" the switch read as on 2 s later.
		time.AfterFunc(2*time.Second, func() { _ = s.SetIMAPEnabled(helpdesk, true) })
		cfg := cfg
		cfg.ChangedAt = time.Now()
		cfg.Exchange = facts(true)
		ch := only(t, Run(ctxT(t, time.Minute), cfg))
		if !ch.OK || ch.Attempts < 2 {
			t.Fatalf("%+v", ch)
		}
	})
}

// A client-credentials app without a service principal: AADSTS7000229,
// with the fix that creates it.
func TestSimAppWithoutServicePrincipal(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	created := a.must("POST", "/applications", map[string]any{"displayName": "mailoauth test no sp", "signInAudience": "AzureADMyOrg"}, 201)
	objectID, appID := created["id"].(string), created["appId"].(string)
	pw := a.must("POST", "/applications/"+objectID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "test"}}, 200)
	ap := app{appID: appID, objectID: objectID, secret: pw["secretText"].(string)}
	ch := only(t, Run(ctxT(t, time.Minute), config(s, simCloud(t, s), ap, catalog.ClientCredentials, catalog.IMAP)))
	x := expectFail(t, ch, "token", "AADSTS7000229", "AADSTS7000229", []string{"service principal"}, []string{appID, simTenant})
	if x.FixAction != explain.ActionCreateSP {
		t.Errorf("action %q", x.FixAction)
	}
}

// A named permission as a client-credentials scope: AADSTS1002012. The
// product sends it (azure/token refuses to), so the request is the
// product's: a plain form post to the token endpoint.
func TestSimClientCredentialsNamedScope(t *testing.T) {
	s := startSim(t, sim.Options{AutoApprove: adminUPN})
	a := signInAdmin(t, s)
	ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
	resp, err := s.HTTPClient().PostForm(s.Info().Authority+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {ap.appID}, "client_secret": {ap.secret},
		"scope": {"https://outlook.office365.com/IMAP.AccessAsApp"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ae, ok := explain.ParseAADBody(body)
	if !ok || ae.Code() != 1002012 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	x := explain.AADSTSFor(ae.Code(), explain.MailContext{Flow: catalog.ClientCredentials, AppID: ap.appID})
	if !strings.Contains(x.Fix, "https://outlook.office365.com/.default") {
		t.Fatalf("%+v", x)
	}
	// The same error body pasted into mailoauth explain, ids kept.
	it := explain.Text(string(body)).Items[0]
	if it.Explanation.Code != "AADSTS1002012" || !it.Recognised || it.TraceID != ae.TraceID || it.TraceID == "" {
		t.Fatalf("%+v", it)
	}
	if strings.Contains(it.Text, ap.secret) {
		t.Fatal("secret echoed")
	}
}
