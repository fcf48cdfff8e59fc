package mailcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
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
		return nil, &r
	}
	return w, nil
}
