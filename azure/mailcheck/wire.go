package mailcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// errClearText refuses a connection that would carry a token without TLS.
var errClearText = errors.New("refusing to send a token without TLS: the endpoint's TLS mode must be tls or starttls")

// maxLine bounds one server line; a server that sends more is broken.
const maxLine = 64 << 10

// wire is one line-oriented mail protocol connection with a deadline on
// every step, so nothing hangs.
type wire struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	step    string // the step in progress, for errors
	stop    func() bool
}

// stepError is a connection-level failure (no server reply to explain).
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func (w *wire) fail(err error) error {
	var se *stepError
	if errors.As(err, &se) {
		return err
	}
	return &stepError{step: w.step, err: err}
}

// dial opens TCP (and TLS when implicit) within the timeout. A canceled ctx
// closes the connection at any later point too.
func dial(ctx context.Context, addr string, tlsCfg *tls.Config, implicitTLS bool, timeout time.Duration) (*wire, error) {
	d := net.Dialer{Timeout: timeout}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, &stepError{step: "connect", err: err}
	}
	w := &wire{conn: conn, r: bufio.NewReaderSize(conn, 4096), timeout: timeout}
	w.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	if implicitTLS {
		if err := w.startTLS(ctx, tlsCfg); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

// startTLS upgrades the connection (implicit TLS, or after STARTTLS/STLS).
func (w *wire) startTLS(ctx context.Context, cfg *tls.Config) error {
	w.step = "tls"
	tc := tls.Client(w.conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return w.fail(err)
	}
	w.conn = tc
	w.r = bufio.NewReaderSize(tc, 4096)
	return nil
}

func (w *wire) close() {
	if w.stop != nil {
		w.stop()
	}
	_ = w.conn.Close()
}

// readLine reads one CRLF line within the timeout.
func (w *wire) readLine() (string, error) {
	_ = w.conn.SetReadDeadline(time.Now().Add(w.timeout))
	var b []byte
	for {
		chunk, isPrefix, err := w.r.ReadLine()
		if err != nil {
			return "", w.fail(err)
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", w.fail(fmt.Errorf("server line longer than %d bytes", maxLine))
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// writeLine sends one line plus CRLF within the timeout. Callers never log
// what they send: it may carry a token.
func (w *wire) writeLine(s string) error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	if _, err := w.conn.Write([]byte(s + "\r\n")); err != nil {
		return w.fail(err)
	}
	return nil
}

// xoauth2 is the SASL XOAUTH2 initial response (microsoft.md §10).
func xoauth2(user, token string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
}

// tlsFor is the TLS config for a host: the cloud's roots and the server name.
func tlsFor(base *tls.Config, host string) *tls.Config {
	c := base.Clone()
	if c.ServerName == "" {
		c.ServerName = host
	}
	return c
}

// hasWord reports whether a capability line lists word (case-insensitive).
func hasWord(line, word string) bool {
	for _, f := range strings.Fields(line) {
		if strings.EqualFold(f, word) {
			return true
		}
	}
	return false
}

// peekGreeting looks at the first bytes of a plain-text greeting before it
// is read as a line: a TLS record header (content type 21 alert or 22
// handshake, version 3.x) means the port speaks implicit TLS where a
// plain-text greeting (and STARTTLS) was expected. A read error (no answer
// in time, closed) is returned as the greeting's error, so nothing waits
// twice.
func (w *wire) peekGreeting() (tlsRecord string, err error) {
	_ = w.conn.SetReadDeadline(time.Now().Add(w.timeout))
	b, err := w.r.Peek(3)
	if err != nil {
		return "", w.fail(err)
	}
	if (b[0] == 21 || b[0] == 22) && b[1] == 3 && b[2] <= 4 {
		kind := "an alert"
		if b[0] == 22 {
			kind = "a handshake"
		}
		return fmt.Sprintf("%s record, bytes % x", kind, b), nil
	}
	return "", nil
}

// probeTLS reports whether the endpoint answers a TLS handshake: after a
// plain-text greeting did not come, it tells an implicit-TLS port (SMTP on
// 465, or 993/995 by mistake) from a silent server. It sends only a
// ClientHello, never a credential; a certificate the client does not
// trust still proves the port speaks TLS.
func probeTLS(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration) bool {
	d := net.Dialer{Timeout: timeout}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.DialContext(pctx, "tcp", ep.Addr())
	if err != nil {
		return false
	}
	defer conn.Close()
	tc := tls.Client(conn, tlsFor(tlsCfg, ep.Host))
	err = tc.HandshakeContext(pctx)
	if err == nil {
		return true
	}
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// plainTextReply reports whether a failed TLS handshake met a plain-text
// server (its greeting "220 ...", "* OK", "+OK"): the port expects STARTTLS
// or no TLS where implicit TLS was used.
func plainTextReply(err error) (string, bool) {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) {
		return "", false
	}
	h := rh.RecordHeader[:]
	for _, c := range h {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	return string(h), true
}

// greetingTimedOut reports whether a greeting's error is "no answer in time".
func greetingTimedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// tlsModeAtGreeting turns a plain-text greeting that did not come into
// what is known of the port's TLS mode: a TLS record seen, or no answer in
// time from a port that answers a TLS handshake, or from a port assigned
// to implicit TLS. nil when none applies.
func tlsModeAtGreeting(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration, record string, err error) *tlsFinding {
	switch {
	case record != "":
		return &tlsFinding{explain.TLSRecordForGreeting, record}
	case err == nil || !greetingTimedOut(err) || ctx.Err() != nil:
		return nil
	case probeTLS(ctx, ep, tlsCfg, timeout):
		return &tlsFinding{explain.TLSProbeHandshake, ""}
	case explain.ImplicitTLSPorts[ep.Port] != "":
		return &tlsFinding{explain.ImplicitTLSPort, ""}
	}
	return nil
}

// readGreeting reads a plain-text greeting (STARTTLS endpoints) or, for
// implicit TLS, the first line after the handshake; a TLS-mode mismatch
// comes back as a result.
func readGreeting(ctx context.Context, w *wire, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration, read func() (string, error)) (string, *result) {
	w.step = "greeting"
	if ep.TLS == cloud.StartTLS {
		record, err := w.peekGreeting()
		if m := tlsModeAtGreeting(ctx, ep, tlsCfg, timeout, record, err); m != nil {
			e := err
			if e == nil {
				e = w.fail(errors.New("a TLS record where a plain-text greeting was expected"))
			}
			return "", &result{step: "greeting", err: e, tlsMode: m}
		}
		if err != nil {
			r := broken(w, "greeting", err)
			return "", &r
		}
	}
	line, err := read()
	if err != nil {
		r := broken(w, "greeting", err)
		return "", &r
	}
	return line, nil
}

// connect opens a check's connection: a clear-text endpoint is refused
// (a token must never cross the network unencrypted), implicit TLS starts
// at once, STARTTLS is the caller's after the greeting.
func connect(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration) (*wire, *result) {
	if ep.TLS != cloud.ImplicitTLS && ep.TLS != cloud.StartTLS {
		return nil, &result{step: "connect", err: errClearText}
	}
	w, err := dial(ctx, ep.Addr(), tlsFor(tlsCfg, ep.Host), ep.TLS == cloud.ImplicitTLS, timeout)
	if err != nil {
		r := broken(nil, "connect", err)
		if seen, ok := plainTextReply(err); ok && ep.TLS == cloud.ImplicitTLS {
			r.tlsMode = &tlsFinding{explain.PlainTextForHandshake, seen}
		}
		return nil, &r
	}
	return w, nil
}
