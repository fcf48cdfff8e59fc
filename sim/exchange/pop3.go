package exchange

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// POP3Server is Exchange Online's POP3 front end (outlook.office365.com:995):
// implicit TLS, two-line AUTH XOAUTH2 only.
type POP3Server struct{ s *connServer }

// NewPOP3Server returns a POP3 server for cfg. Call Serve to start it.
func NewPOP3Server(cfg Config) *POP3Server {
	srv := &POP3Server{}
	srv.s = newConnServer(cfg, "pop3", true, srv.handle)
	return srv
}

// Serve wraps ln in TLS (Config.TLS) and answers POP3 on it until Close.
func (s *POP3Server) Serve(ln net.Listener) error { return s.s.serve(ln) }

// Close stops the listeners and ends every session.
func (s *POP3Server) Close() error { return s.s.close() }

// Exchange's POP3 texts (microsoft.md §10, architecture.md).
const (
	popGreeting      = "+OK The Microsoft Exchange POP3 service is ready."
	popAuthFailed    = "-ERR Authentication failure: unknown user name or bad password."
	popAuthOK        = "+OK User successfully authenticated."
	popOneLineAuth   = "-ERR Protocol error. Connection is closed. 10"
	popLogonFailure  = "-ERR Logon failure: unknown user name or bad password."
	popInvalidState  = "-ERR Command is not valid in this state."
	popProtocolError = "-ERR Protocol error. 14"
	popNoSuchMessage = "-ERR The specified message is out of range."
	popMaxLine       = maxSASLLine // the one-line AUTH form carries a whole token
)

type popSession struct {
	srv   *connServer
	c     *lineConn
	user  string // from USER, only to answer PASS in order
	authd bool
	msgs  []Message
	del   []bool
}

func (s *POP3Server) handle(c *lineConn) {
	sess := &popSession{srv: s.s, c: c}
	if c.reply(popGreeting) != nil {
		return
	}
	for {
		line, err := c.readLine(popMaxLine)
		switch {
		case err == nil:
		case errors.Is(err, errLineTooLong):
			if c.reply(popProtocolError) != nil {
				return
			}
			continue
		case isTimeout(err):
			s.s.logf("%s idle timeout", c.RemoteAddr())
			return
		default:
			return
		}
		if !sess.command(line) {
			return
		}
	}
}

// command runs one line; false ends the connection.
func (sess *popSession) command(line string) bool {
	c := sess.c
	name, arg, _ := strings.Cut(line, " ")
	name = strings.ToUpper(name)
	switch name {
	case "CAPA":
		return c.reply("+OK", "TOP", "UIDL", "SASL XOAUTH2", "USER", ".") == nil
	case "NOOP":
		return c.reply("+OK") == nil
	case "QUIT":
		// DELE only marks: Backend has no delete, so nothing is removed.
		c.reply("+OK Microsoft Exchange Server POP3 server signing off.")
		return false
	case "USER", "PASS", "AUTH":
		if sess.authd {
			return c.reply(popInvalidState) == nil
		}
		return sess.login(name, arg)
	case "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET":
		if !sess.authd {
			return c.reply(popInvalidState) == nil
		}
		return c.reply(sess.transaction(name, arg)...) == nil
	}
	return c.reply(popProtocolError) == nil
}

func (sess *popSession) login(name, arg string) bool {
	c := sess.c
	switch name {
	case "USER":
		sess.user = arg
		return c.reply("+OK") == nil
	case "PASS":
		// Basic authentication is off in Exchange Online.
		sess.srv.logf("%s PASS refused: basic authentication is disabled", c.RemoteAddr())
		return c.reply(popLogonFailure) == nil
	}
	mech, initial, hasInitial := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "XOAUTH2") {
		return c.reply(popAuthFailed) == nil
	}
	if hasInitial && initial != "" {
		// Exchange Online requires the two-line form and hangs up on the
		// one-line one (3rd-party report, microsoft.md §10).
		sess.srv.logf("%s one-line AUTH XOAUTH2 refused", c.RemoteAddr())
		c.reply(popOneLineAuth)
		return false
	}
	if c.reply("+ ") != nil {
		return false
	}
	resp, err := c.readLine(maxSASLLine)
	if err != nil && !errors.Is(err, errLineTooLong) {
		return false
	}
	user, token, perr := parseXOAUTH2(resp)
	if err != nil || resp == "*" || perr != nil {
		sess.srv.logf("%s AUTH XOAUTH2 failed: %v", c.RemoteAddr(), errXOAUTH2Format)
		return c.reply(popAuthFailed) == nil
	}
	g, d := authorizeSASL(sess.srv.cfg.Backend, user, token, servicePOP)
	if d != nil {
		sess.srv.logf("%s AUTH XOAUTH2 user=%s: %s", c.RemoteAddr(), user, d.reason)
		return c.reply(popAuthFailed) == nil
	}
	sess.authd = true
	sess.msgs = sess.srv.cfg.Backend.Messages(g.mailbox.Address)
	sess.del = make([]bool, len(sess.msgs))
	return c.reply(popAuthOK) == nil
}

// message resolves a message-number argument.
func (sess *popSession) message(arg string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 1 || n > len(sess.msgs) || sess.del[n-1] {
		return 0, false
	}
	return n - 1, true
}

func (sess *popSession) transaction(name, arg string) []string {
	arg = strings.TrimSpace(arg)
	switch name {
	case "STAT":
		n, size := 0, 0
		for i, m := range sess.msgs {
			if !sess.del[i] {
				n++
				size += len(m.Raw)
			}
		}
		return []string{fmt.Sprintf("+OK %d %d", n, size)}
	case "LIST", "UIDL":
		show := func(i int) string {
			if name == "LIST" {
				return fmt.Sprintf("%d %d", i+1, len(sess.msgs[i].Raw))
			}
			return fmt.Sprintf("%d %s", i+1, popUID(sess.msgs[i].ID))
		}
		if arg != "" {
			i, ok := sess.message(arg)
			if !ok {
				return []string{popNoSuchMessage}
			}
			return []string{"+OK " + show(i)}
		}
		lines := []string{"+OK"}
		for i := range sess.msgs {
			if !sess.del[i] {
				lines = append(lines, show(i))
			}
		}
		return append(lines, ".")
	case "RETR", "TOP":
		num, rest, _ := strings.Cut(arg, " ")
		i, ok := sess.message(num)
		if !ok {
			return []string{popNoSuchMessage}
		}
		raw := sess.msgs[i].Raw
		if name == "TOP" {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || n < 0 {
				return []string{popProtocolError}
			}
			raw = topLines(raw, n)
		}
		return append([]string{"+OK"}, dotStuff(raw)...)
	case "DELE":
		i, ok := sess.message(arg)
		if !ok {
			return []string{popNoSuchMessage}
		}
		sess.del[i] = true
		return []string{"+OK"}
	case "RSET":
		clear(sess.del)
		return []string{"+OK"}
	}
	return []string{popProtocolError}
}

// popUID is the UIDL value: the message ID when it is a valid one
// (1-70 printable characters, RFC 1939 §7), else a digest of it.
func popUID(id string) string {
	ok := id != "" && len(id) <= 70
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] >= 0x21 && id[i] <= 0x7e
	}
	if ok {
		return id
	}
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:])
}

// topLines returns the header and the first n body lines.
func topLines(raw []byte, n int) []byte {
	header, body := splitMessage(raw)
	lines := strings.SplitAfter(string(body), "\n")
	if n < len(lines) {
		lines = lines[:n]
	}
	return append(append([]byte{}, header...), strings.Join(lines, "")...)
}

// dotStuff renders a message as POP3/SMTP multi-line data ending in ".".
func dotStuff(raw []byte) []string {
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	var out []string
	if text != "" {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, ".") {
				l = "." + l
			}
			out = append(out, l)
		}
	}
	return append(out, ".")
}
