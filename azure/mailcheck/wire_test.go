package mailcheck

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// testTLS makes a self-signed certificate for 127.0.0.1 and a client config
// trusting it.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// rawServer accepts connections on 127.0.0.1 and hands each to serve,
// wrapped in TLS when srvTLS is set. It records the lines clients sent.
type rawServer struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startRaw(t *testing.T, srvTLS *tls.Config, serve func(c net.Conn, rd *bufio.Reader, rec func(string))) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, done: make(chan struct{})}
	var conns []net.Conn
	var cmu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
			go func() {
				if srvTLS != nil {
					c = tls.Server(c, srvTLS)
				}
				serve(c, bufio.NewReader(c), func(l string) { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() })
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
	})
	return s
}

func (s *rawServer) endpoint(mode cloud.TLSMode) cloud.Endpoint {
	_, p, _ := net.SplitHostPort(s.ln.Addr().String())
	port, _ := strconv.Atoi(p)
	return cloud.Endpoint{Host: "127.0.0.1", Port: port, TLS: mode}
}

func (s *rawServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func readLn(rd *bufio.Reader, rec func(string)) (string, bool) {
	l, err := rd.ReadString('\n')
	if err != nil {
		return "", false
	}
	l = strings.TrimRight(l, "\r\n")
	rec(l)
	return l, true
}

const timeout = 400 * time.Millisecond

func TestServerNeverAnswers(t *testing.T) {
	t.Parallel()
	_, clientTLS := testTLS(t)
	// Accepts, then says nothing: no TLS handshake, no greeting.
	silent := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) { time.Sleep(10 * time.Second) })
	for _, tc := range []struct {
		p    catalog.Protocol
		mode cloud.TLSMode
		step string
		run  func(ep cloud.Endpoint) result
	}{
		{catalog.IMAP, cloud.ImplicitTLS, "tls", func(ep cloud.Endpoint) result {
			return checkIMAP(context.Background(), ep, clientTLS, timeout, "a@b.c", "tok")
		}},
		{catalog.POP, cloud.ImplicitTLS, "tls", func(ep cloud.Endpoint) result {
			return checkPOP(context.Background(), ep, clientTLS, timeout, "a@b.c", "tok")
		}},
		{catalog.SMTP, cloud.StartTLS, "greeting", func(ep cloud.Endpoint) result {
			return checkSMTP(context.Background(), ep, clientTLS, timeout, "a@b.c", "tok", "")
		}},
	} {
		start := time.Now()
		res := tc.run(silent.endpoint(tc.mode))
		took := time.Since(start)
		if res.err == nil || took > timeout+time.Second {
			t.Fatalf("%s: err %v after %v", tc.p, res.err, took)
		}
		x := explain.Network(tc.p.Label(), "127.0.0.1", stepOf(res), res.err)
		if x.Code != explain.CodeTimeout || stepOf(res) != tc.step || !strings.Contains(x.Cause, "during "+tc.step) {
			t.Errorf("%s: step %q explanation %+v", tc.p, stepOf(res), x)
		}
	}
}

func stepOf(r result) string {
	if se, ok := r.err.(*stepError); ok {
		return se.step
	}
	return r.step
}

func TestServerClosesMidDialogue(t *testing.T) {
	srvTLS, clientTLS := testTLS(t)
	imap := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("* OK The Microsoft Exchange IMAP4 service is ready.\r\n"))
		readLn(rd, rec) // CAPABILITY
		c.Close()
	})
	start := time.Now()
	res := checkIMAP(context.Background(), imap.endpoint(cloud.ImplicitTLS), clientTLS, 5*time.Second, "a@b.c", "tok")
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	x := explain.Network("IMAP", "x", stepOf(res), res.err)
	if stepOf(res) != "capability" || x.Code != explain.CodeClosed {
		t.Fatalf("step %q %+v (%v)", stepOf(res), x, res.err)
	}
	smtp := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("220 127.0.0.1 Microsoft ESMTP MAIL Service ready\r\n"))
		readLn(rd, rec)
		c.Write([]byte("250-127.0.0.1 Hello\r\n250-SIZE 157286400\r\n"))
		c.Close() // in the middle of a multi-line reply
	})
	res = checkSMTP(context.Background(), smtp.endpoint(cloud.StartTLS), clientTLS, 5*time.Second, "a@b.c", "tok", "")
	if x := explain.Network("SMTP", "x", stepOf(res), res.err); stepOf(res) != "ehlo" || x.Code != explain.CodeClosed {
		t.Fatalf("smtp: step %q %+v", stepOf(res), x)
	}
}

// A scripted Exchange-like IMAP server: it checks the XOAUTH2 string, sends
// Google's style error challenge, and expects an empty line before NO.
func TestIMAPAnswersChallengeWithEmptyLine(t *testing.T) {
	srvTLS, clientTLS := testTLS(t)
	want := base64.StdEncoding.EncodeToString([]byte("user=helpdesk@contoso.com\x01auth=Bearer tok-123\x01\x01"))
	srv := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("* OK The Microsoft Exchange IMAP4 service is ready.\r\n"))
		l, _ := readLn(rd, rec)
		tag := strings.Fields(l)[0]
		c.Write([]byte("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS\r\n" + tag + " OK CAPABILITY completed.\r\n"))
		l, _ = readLn(rd, rec)
		f := strings.Fields(l)
		if len(f) != 4 || f[1] != "AUTHENTICATE" || f[2] != "XOAUTH2" || f[3] != want {
			c.Write([]byte(f[0] + " BAD unexpected\r\n"))
			return
		}
		c.Write([]byte("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"))
		if l, _ := readLn(rd, rec); l != "" {
			c.Write([]byte(f[0] + " BAD expected an empty line\r\n"))
			return
		}
		c.Write([]byte(f[0] + " NO AUTHENTICATE failed.\r\n"))
	})
	res := checkIMAP(context.Background(), srv.endpoint(cloud.ImplicitTLS), clientTLS, 2*time.Second, "helpdesk@contoso.com", "tok-123")
	if !res.refused || res.step != "auth" || !strings.HasSuffix(res.reply, " NO AUTHENTICATE failed.") {
		t.Fatalf("got %+v (client sent %q)", res, srv.sent())
	}
}

// POP3 uses the two-line form: AUTH XOAUTH2, "+", then the credentials.
func TestPOPTwoLineAuthAndStat(t *testing.T) {
	srvTLS, clientTLS := testTLS(t)
	srv := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("+OK The Microsoft Exchange POP3 service is ready.\r\n"))
		if l, _ := readLn(rd, rec); l != "AUTH XOAUTH2" {
			c.Write([]byte("-ERR Protocol error. Connection is closed. 10\r\n"))
			return
		}
		c.Write([]byte("+ \r\n"))
		readLn(rd, rec)
		c.Write([]byte("+OK User successfully authenticated.\r\n"))
		readLn(rd, rec)
		c.Write([]byte("+OK 3 4521\r\n"))
		readLn(rd, rec)
		c.Write([]byte("+OK Microsoft Exchange Server POP3 server signing off.\r\n"))
	})
	res := checkPOP(context.Background(), srv.endpoint(cloud.ImplicitTLS), clientTLS, 2*time.Second, "helpdesk@contoso.com", "tok")
	if res.err != nil || res.refused || res.detail != "STAT: 3 messages, 4521 bytes" || res.reply != "+OK 3 4521" {
		t.Fatalf("got %+v", res)
	}
	if s := srv.sent(); len(s) < 3 || s[2] != "STAT" {
		t.Fatalf("client sent %q", s)
	}
}

func TestContextCancelStopsCheck(t *testing.T) {
	srvTLS, clientTLS := testTLS(t)
	srv := startRaw(t, srvTLS, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("* OK ready\r\n"))
		time.Sleep(10 * time.Second)
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	res := checkIMAP(ctx, srv.endpoint(cloud.ImplicitTLS), clientTLS, 30*time.Second, "a@b.c", "t")
	if res.err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("cancel: %v after %v", res.err, time.Since(start))
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Cloud: cloud.Global(), Flow: catalog.ClientCredentials, Protocols: []catalog.Protocol{catalog.IMAP}, Mailboxes: []string{"helpdesk@contoso.com"}, Secret: "s"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mut := range map[string]func(*Config){
		"flow":          func(c *Config) { c.Flow = "magic" },
		"protocols":     func(c *Config) { c.Protocols = nil },
		"mailboxes":     func(c *Config) { c.Mailboxes = []string{"helpdesk"} },
		"send-to":       func(c *Config) { c.SendTo = "x y@z" },
		"client secret": func(c *Config) { c.Secret = "" },
		"password":      func(c *Config) { c.Flow = catalog.ROPC },
		"device code":   func(c *Config) { c.Flow = catalog.DeviceCode },
		"--imap TLS":    func(c *Config) { c.Cloud.IMAP.TLS = "" },
		"--imap":        func(c *Config) { c.Cloud.IMAP.Port = 0 },
	} {
		c := ok
		mut(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
		rep := Run(context.Background(), c)
		if rep.OK() || len(rep.Checks) != 1 || rep.Checks[0].Step != "config" {
			t.Errorf("%s: Run = %+v", field, rep)
		}
	}
}

// IMAP on a lab server with STARTTLS: CAPABILITY, STARTTLS, handshake,
// CAPABILITY again, then XOAUTH2 without SASL-IR (wait for "+").
func TestIMAPStartTLSWithoutSASLIR(t *testing.T) {
	srvTLS, clientTLS := testTLS(t)
	srv := startRaw(t, nil, func(c net.Conn, rd *bufio.Reader, rec func(string)) {
		c.Write([]byte("* OK lab IMAP ready\r\n"))
		l, _ := readLn(rd, rec)
		c.Write([]byte("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n" + strings.Fields(l)[0] + " OK done\r\n"))
		l, _ = readLn(rd, rec)
		c.Write([]byte(strings.Fields(l)[0] + " OK Begin TLS negotiation now\r\n"))
		tc := tls.Server(c, srvTLS)
		rd = bufio.NewReader(tc)
		l, _ = readLn(rd, rec)
		tc.Write([]byte("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2\r\n" + strings.Fields(l)[0] + " OK done\r\n"))
		l, _ = readLn(rd, rec)
		tag := strings.Fields(l)[0]
		tc.Write([]byte("+ \r\n"))
		readLn(rd, rec)
		tc.Write([]byte(tag + " OK AUTHENTICATE completed.\r\n"))
		l, _ = readLn(rd, rec)
		tc.Write([]byte("* 7 EXISTS\r\n" + strings.Fields(l)[0] + " OK [READ-WRITE] SELECT completed.\r\n"))
		readLn(rd, rec)
	})
	res := checkIMAP(context.Background(), srv.endpoint(cloud.StartTLS), clientTLS, 2*time.Second, "a@b.c", "tok")
	if res.err != nil || res.refused || res.detail != "INBOX selected: 7 messages" {
		t.Fatalf("got %+v, client sent %q", res, srv.sent())
	}
	sent := srv.sent()
	if len(sent) < 5 || sent[1] != "A2 STARTTLS" || sent[3] != "A4 AUTHENTICATE XOAUTH2" {
		t.Fatalf("client sent %q", sent)
	}
}
