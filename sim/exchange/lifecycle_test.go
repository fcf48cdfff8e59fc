package exchange

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestServeNeedsTLSAndBackend(t *testing.T) {
	e := newEnv(t)
	for name, srv := range map[string]server{
		"imap": NewIMAPServer(Config{Backend: e.tenant}),
		"pop3": NewPOP3Server(Config{Backend: e.tenant}),
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Serve(ln); !errors.Is(err, errNoTLS) {
			t.Errorf("%s Serve without TLS = %v", name, err)
		}
		ln.Close()
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if err := NewSMTPServer(Config{}).Serve(ln); err == nil || !strings.Contains(err.Error(), "Backend") {
		t.Errorf("Serve without Backend = %v", err)
	}
}

// Close ends live sessions and makes Serve return nil.
func TestCloseEndsSessions(t *testing.T) {
	e := newEnv(t)
	srv := NewIMAPServer(e.cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	r := dialRaw(t, ln.Addr().String(), e.ca.client)
	r.line()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	r.expectClosed()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after Close", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running after Close")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepting after Close")
	}
}

// Without a certificate the SMTP server offers no STARTTLS and so no AUTH.
func TestSMTPWithoutTLS(t *testing.T) {
	e := newEnv(t)
	e.cfg.TLS = nil
	r := dialRaw(t, start(t, NewSMTPServer(e.cfg)), nil)
	r.line()
	if ext := strings.Join(r.ehlo(), "\n"); strings.Contains(ext, "STARTTLS") || strings.Contains(ext, "AUTH") {
		t.Errorf("EHLO:\n%s", ext)
	}
	r.send("STARTTLS")
	r.expect("503 5.5.2 Already in TLS or TLS not available")
	r.send("AUTH XOAUTH2")
	r.expect("504 5.7.4 Unrecognized authentication type")
}

// A Backend that cannot store the message gets a transient 451, not a 250.
func TestSMTPDeliveryFailure(t *testing.T) {
	e := newEnv(t)
	e.tenant.deliverFail = errors.New("store offline")
	r := dialRaw(t, startSMTP(t, e), nil)
	r.line()
	r.ehlo()
	r.startTLS(e.ca.client)
	r.ehlo()
	r.send("AUTH XOAUTH2 " + xoauth2B64("helpdesk@contoso.com", e.delegated(t, "helpdesk@contoso.com", "SMTP.Send")))
	r.expect("235 2.7.0 Authentication successful")
	r.send("MAIL FROM:<helpdesk@contoso.com>")
	r.expect("250 2.1.0 Sender OK")
	r.send("RCPT TO:<support@contoso.com>")
	r.expect("250 2.1.5 Recipient OK")
	r.send("DATA")
	r.expect("354 Start mail input; end with <CRLF>.<CRLF>")
	r.send("Subject: x")
	r.send("")
	r.send("body")
	r.send(".")
	r.expect("451 4.3.0 Temporary server error. Please try again later")
}

// A client that opens TCP to an implicit-TLS port and never starts the TLS
// handshake is disconnected after the idle timeout.
func TestSilentClientBeforeTLSHandshake(t *testing.T) {
	e := newEnv(t)
	e.cfg.Timeout = 300 * time.Millisecond
	for name, srv := range map[string]server{"imap": NewIMAPServer(e.cfg), "pop3": NewPOP3Server(e.cfg)} {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", start(t, srv))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("read = %v, want the server to hang up", err)
			}
		})
	}
}
