package exchange

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// Each benchmark is one whole client check as mailoauth's login test makes
// it: connect (TLS), authenticate, one mailbox operation, disconnect.

func BenchmarkIMAPLoginSelectFetch(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	addr := start(b, NewIMAPServer(e.cfg))
	tok := e.delegated(b, "helpdesk@contoso.com", "IMAP.AccessAsUser.All")
	for b.Loop() {
		c, err := dialIMAPB(e, addr)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Authenticate(&xoauth2{"helpdesk@contoso.com", tok}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, Flags: true}).Collect(); err != nil {
			b.Fatal(err)
		}
		c.Logout().Wait()
		c.Close()
	}
}

// BenchmarkIMAPFetchAll is FETCH 1:* (ENVELOPE FLAGS BODY.PEEK[]) on an open session.
func BenchmarkIMAPFetchAll(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	addr := start(b, NewIMAPServer(e.cfg))
	c, err := dialIMAPB(e, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Authenticate(&xoauth2{"helpdesk@contoso.com", e.delegated(b, "helpdesk@contoso.com", "IMAP.AccessAsUser.All")}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	opts := &imap.FetchOptions{Envelope: true, Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	for b.Loop() {
		if _, err := c.Fetch(imap.SeqSetNum(1, 2, 3), opts).Collect(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPOP3LoginStat(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	addr := start(b, NewPOP3Server(e.cfg))
	tok := e.delegated(b, "helpdesk@contoso.com", "POP.AccessAsUser.All")
	for b.Loop() {
		r := dialRaw(b, addr, e.ca.client)
		r.line()
		if got := popLogin(r, "helpdesk@contoso.com", tok); got != popAuthOK {
			b.Fatal(got)
		}
		r.send("STAT")
		r.line()
		r.send("QUIT")
		r.line()
		r.nc.Close()
	}
}

func BenchmarkSMTPStartTLSAuthSend(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	addr := start(b, NewSMTPServer(e.cfg))
	tok := e.delegated(b, "helpdesk@contoso.com", "SMTP.Send")
	msg := "Subject: bench\r\n\r\nhello\r\n"
	for b.Loop() {
		c, err := smtp.DialStartTLS(addr, e.ca.client)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Auth(&xoauth2{"helpdesk@contoso.com", tok}); err != nil {
			b.Fatal(err)
		}
		// To an outside address: Backend drops it, so the store does not grow.
		if err := c.SendMail("helpdesk@contoso.com", []string{"someone@fabrikam.com"}, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
		c.Quit()
	}
}

func BenchmarkEWSGetFolder(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	url, client := startHTTPSB(b, e, NewEWSHandler(e.cfg))
	tok := e.tenant.token(b, tokenSpec{aud: "https://outlook.office365.com", upn: "helpdesk@contoso.com", scp: "EWS.AccessAsUser.All"})
	body := ewsBody("GetFolder", "", "")
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url+"/EWS/Exchange.asmx", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp)
		}
		drain(resp)
	}
}

func BenchmarkGraphMessagesTop1(b *testing.B) {
	e := newEnv(b)
	e.cfg.Logf = nil
	url, client := startHTTPSB(b, e, NewGraphMailHandler(e.cfg))
	tok := e.tenant.token(b, tokenSpec{aud: "https://graph.microsoft.com", upn: "helpdesk@contoso.com", scp: "Mail.Read"})
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, url+"/v1.0/me/messages?$top=1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp)
		}
		drain(resp)
	}
}

func BenchmarkParseXOAUTH2(b *testing.B) {
	in := xoauth2B64("helpdesk@contoso.com", strings.Repeat("eyJ0eXAiOiJKV1QifQ", 80))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseXOAUTH2(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIMAPFetchArgs(b *testing.B) {
	in := `1:* (UID FLAGS ENVELOPE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)]<0.512>)`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseIMAPArgs(in); err != nil {
			b.Fatal(err)
		}
	}
}

func dialIMAPB(e *env, addr string) (*imapclient.Client, error) {
	return imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: e.ca.client})
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
