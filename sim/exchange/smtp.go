package exchange

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// SMTPServer is Exchange Online's client submission front end
// (smtp.office365.com:587): plain TCP, STARTTLS, then AUTH XOAUTH2.
type SMTPServer struct{ s *connServer }

// NewSMTPServer returns an SMTP submission server for cfg. Call Serve to
// start it. Without Config.TLS it offers no STARTTLS and so no AUTH.
func NewSMTPServer(cfg Config) *SMTPServer {
	srv := &SMTPServer{}
	srv.s = newConnServer(cfg, "smtp", false, srv.handle)
	return srv
}

// Serve answers SMTP on the plain listener ln until Close.
func (s *SMTPServer) Serve(ln net.Listener) error { return s.s.serve(ln) }

// Close stops the listeners and ends every session.
func (s *SMTPServer) Close() error { return s.s.close() }

const (
	smtpMaxLine        = 2048
	smtpMaxMessage     = 25 << 20 // the sim keeps mail in memory; Exchange's own limit is 35 MB
	smtpMaxRecipients  = 500
	smtpSendAsDenied   = "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
	smtpTenantDisabled = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
	smtpMailboxDisable = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."
)

type smtpSession struct {
	srv   *connServer
	c     *lineConn
	host  string
	tls   bool
	hello bool
	authd bool
	grant grant
	from  string
	to    []string
	mail  bool // MAIL FROM accepted
}

func (s *SMTPServer) handle(c *lineConn) {
	sess := &smtpSession{srv: s.s, c: c, host: s.s.cfg.hostname()}
	greeting := "220 " + sess.host + " Microsoft ESMTP MAIL Service ready at " + time.Now().UTC().Format(time.RFC1123Z)
	if c.reply(greeting) != nil {
		return
	}
	for {
		line, err := c.readLine(smtpMaxLine)
		switch {
		case err == nil:
		case errors.Is(err, errLineTooLong):
			if c.reply("500 5.5.2 Line too long") != nil {
				return
			}
			continue
		case isTimeout(err):
			c.reply("451 4.7.0 Timeout waiting for client input [" + sess.host + "]")
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

func (sess *smtpSession) reset() {
	sess.from, sess.to, sess.mail = "", nil, false
}

// command runs one line; false ends the connection.
func (sess *smtpSession) command(line string) bool {
	c := sess.c
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	switch verb {
	case "EHLO", "HELO":
		sess.hello = true
		sess.reset()
		first := sess.host + " Hello [" + hostOnly(c.RemoteAddr()) + "]"
		if verb == "HELO" {
			return c.reply("250 "+first) == nil
		}
		lines := []string{first, "SIZE 37748736", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"}
		if !sess.tls && sess.srv.cfg.TLS != nil {
			lines = append(lines, "STARTTLS")
		}
		if sess.tls {
			lines = append(lines, "AUTH LOGIN XOAUTH2")
		}
		lines = append(lines, "8BITMIME", "SMTPUTF8")
		for i := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			lines[i] = "250" + sep + lines[i]
		}
		return c.reply(lines...) == nil
	case "STARTTLS":
		if sess.tls || sess.srv.cfg.TLS == nil {
			return c.reply("503 5.5.2 Already in TLS or TLS not available") == nil
		}
		if c.reply("220 2.0.0 SMTP server ready") != nil {
			return false
		}
		tc := tls.Server(c.Conn, sess.srv.cfg.TLS)
		tc.SetDeadline(time.Now().Add(c.timeout))
		if err := tc.Handshake(); err != nil {
			sess.srv.logf("%s STARTTLS handshake: %v", c.RemoteAddr(), err)
			return false
		}
		c.replace(tc)
		// RFC 3207: forget everything learnt before TLS.
		sess.tls, sess.hello, sess.authd = true, false, false
		sess.reset()
		return true
	case "AUTH":
		return sess.auth(arg)
	case "MAIL":
		return c.reply(sess.mailFrom(arg)) == nil
	case "RCPT":
		return c.reply(sess.rcptTo(arg)) == nil
	case "DATA":
		return sess.data()
	case "RSET":
		sess.reset()
		return c.reply("250 2.0.0 Resetting") == nil
	case "NOOP":
		return c.reply("250 2.0.0 OK") == nil
	case "QUIT":
		c.reply("221 2.0.0 Service closing transmission channel")
		return false
	}
	return c.reply("500 5.3.3 Unrecognized command") == nil
}

func hostOnly(a net.Addr) string {
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

func (sess *smtpSession) auth(arg string) bool {
	c := sess.c
	fail := "535 5.7.3 Authentication unsuccessful [" + sess.host + "]"
	if !sess.tls {
		return c.reply("504 5.7.4 Unrecognized authentication type") == nil
	}
	if !sess.hello {
		return c.reply("503 5.5.2 Send hello first") == nil
	}
	if sess.authd {
		return c.reply("503 5.5.2 Already authenticated") == nil
	}
	mech, initial, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(mech) {
	case "LOGIN":
		// Basic authentication is off: take the two prompts, then refuse.
		for _, prompt := range []string{"334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"} {
			if initial != "" && prompt == "334 VXNlcm5hbWU6" {
				continue
			}
			if c.reply(prompt) != nil {
				return false
			}
			if _, err := c.readLine(maxSASLLine); err != nil && !errors.Is(err, errLineTooLong) {
				return false
			}
		}
		sess.srv.logf("%s AUTH LOGIN refused: basic authentication is disabled", c.RemoteAddr())
		return c.reply("535 5.7.139 Authentication unsuccessful, basic authentication is disabled. ["+sess.host+"]") == nil
	case "XOAUTH2":
	default:
		return c.reply("504 5.7.4 Unrecognized authentication type") == nil
	}
	resp := initial
	if resp == "" {
		if c.reply("334 ") != nil {
			return false
		}
		line, err := c.readLine(maxSASLLine)
		if err != nil && !errors.Is(err, errLineTooLong) {
			return false
		}
		// Office 365 answers a "*" cancel with 535, not RFC 4954's 501 (§10).
		resp = line
	}
	user, token, err := parseXOAUTH2(resp)
	if err != nil {
		sess.srv.logf("%s AUTH XOAUTH2 failed: %v", c.RemoteAddr(), err)
		return c.reply(fail) == nil
	}
	g, d := authorizeSASL(sess.srv.cfg.Backend, user, token, serviceSMTP)
	if d != nil {
		sess.srv.logf("%s AUTH XOAUTH2 user=%s: %s", c.RemoteAddr(), user, d.reason)
		switch d.kind {
		case denySMTPTenantOff:
			return c.reply(smtpTenantDisabled) == nil
		case denySMTPMailboxOff:
			return c.reply(smtpMailboxDisable) == nil
		}
		return c.reply(fail) == nil
	}
	sess.authd, sess.grant = true, g
	return c.reply("235 2.7.0 Authentication successful") == nil
}

// pathArg extracts the address from "FROM:<a@b> PARAMS" or "TO:<a@b>".
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (sess *smtpSession) mailFrom(arg string) string {
	if !sess.authd {
		return "530 5.7.57 Client not authenticated to send mail. [" + sess.host + "]"
	}
	if sess.mail {
		return "503 5.5.2 Sender already specified"
	}
	from, ok := pathArg(arg, "FROM:")
	if !ok {
		return "501 5.5.4 Invalid arguments"
	}
	if !sess.maySendAs(from) {
		sess.srv.logf("%s MAIL FROM:<%s> refused: no send-as permission", sess.c.RemoteAddr(), from)
		return smtpSendAsDenied
	}
	sess.from, sess.mail = from, true
	return "250 2.1.0 Sender OK"
}

// maySendAs applies Exchange's sender check at MAIL FROM. The mailbox that
// logged in may send as its primary address (sending from a secondary
// address needs SendFromAliasEnabled, which the sim keeps off). Another
// mailbox needs SendAs: for a delegated login the user's own SendAs, for
// an app-only login the app's SendAs, or on the RBAC-only path the
// 'Application SMTP.SendAsApp' role in scope for that mailbox.
func (sess *smtpSession) maySendAs(from string) bool {
	b := sess.srv.cfg.Backend
	mb, ok := b.Mailbox(from)
	if !ok || !mb.Enabled {
		return false
	}
	if strings.EqualFold(mb.Address, sess.grant.mailbox.Address) {
		return strings.EqualFold(from, mb.Address)
	}
	if !strings.EqualFold(from, mb.Address) {
		return false
	}
	if !sess.grant.claims.AppOnly() {
		_, sendAs := b.UserAccess(sess.grant.claims.UPN, mb.Address)
		return sendAs
	}
	acc := b.AppAccess(sess.grant.claims.AppID, mb.Address)
	if sess.grant.viaRBAC {
		return slices.Contains(acc.RBAC, serviceSMTP.rbacPermission())
	}
	return acc.Registered && acc.SendAs
}

func (sess *smtpSession) rcptTo(arg string) string {
	if !sess.mail {
		return "503 5.5.2 Need mail command"
	}
	to, ok := pathArg(arg, "TO:")
	if !ok || to == "" {
		return "501 5.5.4 Invalid arguments"
	}
	if _, err := mail.ParseAddress(to); err != nil {
		return "501 5.1.3 Invalid address"
	}
	if len(sess.to) >= smtpMaxRecipients {
		return "452 4.5.3 Too many recipients"
	}
	sess.to = append(sess.to, to)
	return "250 2.1.5 Recipient OK"
}

func (sess *smtpSession) data() bool {
	c := sess.c
	if !sess.mail || len(sess.to) == 0 {
		return c.reply("503 5.5.2 Need rcpt command") == nil
	}
	if c.reply("354 Start mail input; end with <CRLF>.<CRLF>") != nil {
		return false
	}
	var msg bytes.Buffer
	tooBig := false
	for {
		line, err := c.readLine(smtpMaxLine * 512)
		if errors.Is(err, errLineTooLong) {
			tooBig = true
			continue
		}
		if err != nil {
			return false
		}
		if line == "." {
			break
		}
		line = strings.TrimPrefix(line, ".")
		if msg.Len()+len(line)+2 > smtpMaxMessage {
			tooBig = true
		}
		if !tooBig {
			msg.WriteString(line)
			msg.WriteString("\r\n")
		}
	}
	from, to := sess.from, sess.to
	sess.reset()
	if tooBig {
		return c.reply("552 5.3.4 Message size exceeds fixed maximum message size") == nil
	}
	if err := sess.srv.cfg.Backend.Deliver(from, to, msg.Bytes()); err != nil {
		sess.srv.logf("%s delivery failed: %v", c.RemoteAddr(), err)
		return c.reply("451 4.3.0 Temporary server error. Please try again later") == nil
	}
	sess.srv.logf("%s delivered %d bytes from %s to %d recipient(s)", c.RemoteAddr(), msg.Len(), from, len(to))
	return c.reply("250 2.0.0 OK [Hostname="+sess.host+"]") == nil
}
