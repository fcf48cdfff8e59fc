package exchange

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// xoauth2 is a SASL XOAUTH2 client (go-sasl has none): the initial
// response of microsoft.md §10, and an empty answer to any challenge.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

func xoauth2B64(user, token string) string {
	return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"))
}

// rawConn is a line-level client for checking exact server lines.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	tp *textproto.Conn
}

func dialRaw(t testing.TB, addr string, tlsCfg *tls.Config) *rawConn {
	t.Helper()
	var nc net.Conn
	var err error
	if tlsCfg != nil {
		nc, err = tls.Dial("tcp", addr, tlsCfg)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, tp: textproto.NewConn(nc)}
}

func (r *rawConn) line() string {
	r.t.Helper()
	l, err := r.tp.ReadLine()
	if err != nil {
		r.t.Fatalf("reading a line: %v", err)
	}
	return l
}

func (r *rawConn) send(line string) {
	r.t.Helper()
	if err := r.tp.PrintfLine("%s", line); err != nil {
		r.t.Fatal(err)
	}
}

// expect reads one line and checks it exactly.
func (r *rawConn) expect(want string) {
	r.t.Helper()
	if got := r.line(); got != want {
		r.t.Fatalf("got %q, want %q", got, want)
	}
}

// untilTagged reads lines up to and including the one starting with tag.
func (r *rawConn) untilTagged(tag string) (untagged []string, final string) {
	r.t.Helper()
	for {
		l := r.line()
		if strings.HasPrefix(l, tag+" ") {
			return untagged, l
		}
		untagged = append(untagged, l)
	}
}

// expectClosed checks the server hung up.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	if l, err := r.tp.ReadLine(); err == nil {
		r.t.Fatalf("connection still open, read %q", l)
	}
}
