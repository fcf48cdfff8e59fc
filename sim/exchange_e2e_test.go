package sim

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// xoauth2 is the SASL XOAUTH2 client (go-sasl has none).
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// mailApp is a public tenant app consented for every delegated Exchange
// protocol, as the wizard sets it up.
func mailApp(t *testing.T, s *Server) (testApp, rawGraph) {
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"isFallbackPublicClient": true, "signInAudience": "AzureADMyOrg"})
	grantDelegated(t, g, app, EXOAppID, "IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send EWS.AccessAsUser.All")
	return app, g
}

func delegatedEXO(t *testing.T, s *Server, app testApp, upn, pw string, scopes ...string) string {
	t.Helper()
	res, err := publicClient(t, s, app.appID, "").AcquireTokenByUsernamePassword(ctx(t), scopes, upn, pw)
	if err != nil {
		t.Fatalf("token for %v: %v", scopes, err)
	}
	return res.AccessToken
}

func dialIMAP(t *testing.T, s *Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(s.Info().IMAP, &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestIMAPWithTokensFromTheTokenEndpoint(t *testing.T) {
	s := startSim(t, Options{})
	app, g := mailApp(t, s)
	tok := delegatedEXO(t, s, app, mailUPN, mailPW, "https://outlook.office.com/IMAP.AccessAsUser.All")
	c := dialIMAP(t, s)
	if err := c.Authenticate(&xoauth2{mailUPN, tok}); err != nil {
		t.Fatalf("delegated AUTHENTICATE: %v", err)
	}
	box, err := c.Select("INBOX", nil).Wait()
	if err != nil || box.NumMessages != 3 {
		t.Fatalf("SELECT INBOX: %v %+v", err, box)
	}
	// A Graph token is refused with Exchange's words.
	graphTok := ropcToken(t, s, mailUPN, mailPW, []string{"User.Read"})
	c2 := dialIMAP(t, s)
	if err := c2.Authenticate(&xoauth2{mailUPN, graphTok}); err == nil || !strings.Contains(err.Error(), "AUTHENTICATE failed") {
		t.Errorf("Graph token on IMAP: %v", err)
	}

	// App-only: the token is fine, but Exchange knows nothing of the app
	// until New-ServicePrincipal with the enterprise app's object id and
	// Add-MailboxPermission.
	appOnly := newApp(t, g, map[string]any{})
	grantRole(t, g, appOnly, EXOAppID, roleIMAPApp)
	res, err := confidentialClient(t, s, appOnly.appID, appOnly.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	notConnected := func(wantOK bool) {
		t.Helper()
		c := dialIMAP(t, s)
		if err := c.Authenticate(&xoauth2{mailUPN, res.AccessToken}); err != nil {
			t.Fatalf("app-only AUTHENTICATE: %v", err)
		}
		_, err := c.Select("INBOX", nil).Wait()
		if wantOK && err != nil {
			t.Fatalf("SELECT after the Exchange set-up: %v", err)
		}
		if !wantOK && (err == nil || !strings.Contains(err.Error(), "User is authenticated but not connected.")) {
			t.Fatalf("SELECT before the Exchange set-up: %v", err)
		}
	}
	notConnected(false)
	// The pitfall: the app registration's object id instead of the SP's.
	if _, err := s.RunPowerShell("New-ServicePrincipal -AppId " + appOnly.appID + " -ObjectId " + appOnly.id + "\nAdd-MailboxPermission -Identity helpdesk@contoso.com -User " + appOnly.id + " -AccessRights FullAccess"); err != nil {
		t.Fatal(err)
	}
	notConnected(false)
	s2 := startSim(t, Options{}) // a fresh tenant for the right way round
	app2g := adminGraph(t, s2)
	app2 := newApp(t, app2g, map[string]any{})
	grantRole(t, app2g, app2, EXOAppID, roleIMAPApp)
	res, err = confidentialClient(t, s2, app2.appID, app2.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.RunPowerShell("Connect-ExchangeOnline -Organization " + TenantID + "\nNew-ServicePrincipal -AppId " + app2.appID + " -ObjectId " + app2.spID + " -DisplayName 'Mail app'\nAdd-MailboxPermission -Identity helpdesk@contoso.com -User " + app2.spID + " -AccessRights FullAccess"); err != nil {
		t.Fatal(err)
	}
	s = s2
	notConnected(true)
}

func TestPOP3TwoLineXOAUTH2(t *testing.T) {
	s := startSim(t, Options{})
	app, _ := mailApp(t, s)
	tok := delegatedEXO(t, s, app, mailUPN, mailPW, "https://outlook.office.com/POP.AccessAsUser.All")
	pop := func(user, token string) (string, *textproto.Conn) {
		conn, err := tls.Dial("tcp", s.Info().POP, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		tp := textproto.NewConn(conn)
		t.Cleanup(func() { tp.Close() })
		greet, _ := tp.ReadLine()
		if greet != "+OK The Microsoft Exchange POP3 service is ready." {
			t.Fatalf("greeting %q", greet)
		}
		_ = tp.PrintfLine("AUTH XOAUTH2")
		if l, _ := tp.ReadLine(); !strings.HasPrefix(l, "+") {
			t.Fatalf("AUTH XOAUTH2: %q", l)
		}
		_ = tp.PrintfLine("%s", base64.StdEncoding.EncodeToString([]byte("user="+user+"\x01auth=Bearer "+token+"\x01\x01")))
		l, _ := tp.ReadLine()
		return l, tp
	}
	l, tp := pop(mailUPN, tok)
	if l != "+OK User successfully authenticated." {
		t.Fatalf("auth: %q", l)
	}
	_ = tp.PrintfLine("STAT")
	if l, _ := tp.ReadLine(); !strings.HasPrefix(l, "+OK 3 ") {
		t.Errorf("STAT %q", l)
	}
	// Another user's name with this token.
	if l, _ := pop("admin@contoso.onmicrosoft.com", tok); l != "-ERR Authentication failure: unknown user name or bad password." {
		t.Errorf("wrong user: %q", l)
	}
}

func TestSMTPSubmissionDeliversToTheTenant(t *testing.T) {
	s := startSim(t, Options{})
	app, _ := mailApp(t, s)
	tok := delegatedEXO(t, s, app, mailUPN, mailPW, "https://outlook.office.com/SMTP.Send")
	c, err := smtp.DialStartTLS(s.Info().SMTP, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(&xoauth2{mailUPN, tok}); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	msg := "From: helpdesk@contoso.com\r\nTo: support@contoso.com\r\nSubject: Login test\r\n\r\nHello.\r\n"
	if err := c.SendMail(mailUPN, []string{"support@contoso.com"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	msgs := s.Backend().Messages("support@contoso.com")
	if len(msgs) != 2 || msgs[1].Subject != "Login test" {
		t.Errorf("support@ mailbox: %d messages", len(msgs))
	}
	// The admin's mailbox inherits the tenant's disabled SMTP AUTH.
	adminTok := delegatedEXO(t, s, app, adminUPN, adminPW, "https://outlook.office.com/SMTP.Send")
	c2, err := smtp.DialStartTLS(s.Info().SMTP, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	err = c2.Auth(&xoauth2{adminUPN, adminTok})
	var se *smtp.SMTPError
	if !asSMTP(err, &se) || se.Code != 535 || !strings.Contains(se.Message, "SmtpClientAuthentication is disabled for the Tenant") {
		t.Errorf("tenant SMTP AUTH off: %v", err)
	}
	// Enabling it tenant-wide through PowerShell lets the admin in.
	if _, err := s.RunPowerShell("Set-TransportConfig -SmtpClientAuthenticationDisabled $false"); err != nil {
		t.Fatal(err)
	}
	c3, err := smtp.DialStartTLS(s.Info().SMTP, s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := c3.Auth(&xoauth2{adminUPN, adminTok}); err != nil {
		t.Errorf("after Set-TransportConfig: %v", err)
	}
}

func asSMTP(err error, target **smtp.SMTPError) bool {
	se, ok := err.(*smtp.SMTPError)
	if ok {
		*target = se
	}
	return ok
}

func TestEWSGetFolder(t *testing.T) {
	s := startSim(t, Options{})
	app, _ := mailApp(t, s)
	tok := delegatedEXO(t, s, app, mailUPN, mailPW, "https://outlook.office365.com/EWS.AccessAsUser.All")
	body := `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2013" /></soap:Header>
<soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body>
</soap:Envelope>`
	post := func(token string) (int, string) {
		req, _ := http.NewRequest("POST", s.Info().EWSURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		return resp.StatusCode, string(b)
	}
	// The seed tenant's EWS allow-list holds only its own archiving app:
	// since 2026-10 an unlisted app is refused (EwsEnabled $true + list).
	if st, _ := post(tok); st != 403 {
		t.Fatalf("GetFolder by an app not on the allow-list: %d, want 403", st)
	}
	if _, err := s.RunPowerShell(`Set-OrganizationConfig -EwsAllowedAppIDs "` + SeedEWSAppID + "," + app.appID + `"`); err != nil {
		t.Fatal(err)
	}
	if st, out := post(tok); st != 200 || !strings.Contains(out, `ResponseClass="Success"`) {
		t.Fatalf("GetFolder: %d %s", st, out)
	}
	if st, _ := post(ropcToken(t, s, mailUPN, mailPW, []string{"User.Read"})); st != 401 {
		t.Errorf("Graph token on EWS: %d", st)
	}
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Service != "ews" || last.Status != 401 {
		t.Errorf("EWS request log: %+v", last)
	}
}
