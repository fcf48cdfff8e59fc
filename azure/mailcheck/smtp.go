package mailcheck

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// checkSMTP: greeting, EHLO, STARTTLS, EHLO again, AUTH XOAUTH2 (334, then
// the credentials, an empty line for an error challenge), MAIL FROM and RCPT
// TO, then QUIT (which drops the transaction), or DATA with a real test message when sendTo is given.
func checkSMTP(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration, mailbox, token, sendTo string) result {
	w, fail := connect(ctx, ep, tlsCfg, timeout)
	if fail != nil {
		return *fail
	}
	defer w.close()
	code := 0
	greet, bad := readGreeting(ctx, w, ep, tlsCfg, timeout, func() (string, error) {
		c, reply, err := smtpRead(w)
		code = c
		return reply, err
	})
	if bad != nil {
		return *bad
	}
	if code != 220 {
		return refused("greeting", greet)
	}
	res := checkSMTPAfterGreeting(ctx, w, ep, tlsCfg, mailbox, token, sendTo)
	res.greeting = greet
	return res
}

func checkSMTPAfterGreeting(ctx context.Context, w *wire, ep cloud.Endpoint, tlsCfg *tls.Config, mailbox, token, sendTo string) result {
	var code int
	var reply string
	var err error
	w.step = "ehlo"
	code, ext, err := smtpCommand(w, "EHLO mailoauth.local")
	if err != nil {
		return broken(w, "ehlo", err)
	}
	if code != 250 {
		return refused("ehlo", ext)
	}
	if ep.TLS == cloud.StartTLS {
		w.step = "starttls"
		code, reply, err = smtpCommand(w, "STARTTLS")
		if err != nil {
			return broken(w, "starttls", err)
		}
		if code != 220 {
			return refused("starttls", reply)
		}
		if err := w.startTLS(ctx, tlsFor(tlsCfg, ep.Host)); err != nil {
			return broken(w, "tls", err)
		}
		w.step = "ehlo"
		code, ext, err = smtpCommand(w, "EHLO mailoauth.local")
		if err != nil {
			return broken(w, "ehlo", err)
		}
		if code != 250 {
			return refused("ehlo", ext)
		}
	}
	w.step = "auth"
	// Say so when the server does not offer XOAUTH2, rather than read its
	// refusal of a mechanism it never listed.
	if auth, ok := smtpAuthLine(ext); !ok || !hasWord(strings.ReplaceAll(auth, "=", " "), "XOAUTH2") {
		if !ok {
			auth = "no AUTH in the EHLO reply"
		}
		return refused("auth", explain.NoXOAUTH2Prefix+" XOAUTH2: "+auth)
	}
	code, reply, err = smtpCommand(w, "AUTH XOAUTH2")
	if err != nil {
		return broken(w, "auth", err)
	}
	if code != 334 {
		return refused("auth", reply)
	}
	code, reply, err = smtpCommand(w, xoauth2(mailbox, token))
	if err == nil && code == 334 {
		// Error challenge after the credentials: an empty line ends it.
		code, reply, err = smtpCommand(w, "")
	}
	if err != nil {
		return broken(w, "auth", err)
	}
	if code != 235 {
		return refused("auth", reply)
	}
	w.step = "mail-from"
	if code, reply, err = smtpCommand(w, "MAIL FROM:<"+mailbox+">"); err != nil {
		return broken(w, "mail-from", err)
	}
	if code != 250 {
		return refused("mail-from", reply)
	}
	rcpt := sendTo
	if rcpt == "" {
		rcpt = mailbox
	}
	w.step = "rcpt-to"
	if code, reply, err = smtpCommand(w, "RCPT TO:<"+rcpt+">"); err != nil {
		return broken(w, "rcpt-to", err)
	}
	if code != 250 && code != 251 {
		return refused("rcpt-to", reply)
	}
	detail := "authenticated; MAIL FROM and RCPT TO accepted (no message sent)"
	if sendTo != "" {
		w.step = "data"
		if code, reply, err = smtpCommand(w, "DATA"); err != nil {
			return broken(w, "data", err)
		}
		if code != 354 {
			return refused("data", reply)
		}
		if code, reply, err = smtpCommand(w, testMessage(mailbox, sendTo)); err != nil {
			return broken(w, "data", err)
		}
		if code != 250 {
			return refused("data", reply)
		}
		detail = "test message to " + sendTo + " accepted: " + reply
		_ = w.writeLine("QUIT")
		return result{step: "data", reply: reply, detail: detail}
	}
	// QUIT discards the open transaction (as RSET would); no need to wait.
	_ = w.writeLine("QUIT")
	return result{step: "rcpt-to", reply: reply, detail: detail}
}

// smtpAuthLine is the EHLO reply's AUTH extension line ("AUTH LOGIN
// XOAUTH2"), if it has one.
func smtpAuthLine(ehlo string) (string, bool) {
	for _, l := range strings.Split(ehlo, "\n") {
		if len(l) < 4 {
			continue
		}
		kw := strings.TrimSpace(l[4:])
		if f := strings.Fields(kw); len(f) > 0 && (strings.EqualFold(f[0], "AUTH") || strings.HasPrefix(strings.ToUpper(f[0]), "AUTH=")) {
			return kw, true
		}
	}
	return "", false
}

// testMessage is a short RFC 5322 message ending with the DATA terminator.
func testMessage(from, to string) string {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	now := time.Now().UTC()
	lines := []string{
		"From: <" + from + ">",
		"To: <" + to + ">",
		"Subject: mailoauth login test",
		"Date: " + now.Format(time.RFC1123Z),
		"Message-ID: <" + hex.EncodeToString(id) + "@mailoauth.local>",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"This message was sent by mailoauth to prove that " + from + " can send over SMTP AUTH with OAuth2.",
		".",
	}
	return strings.Join(lines, "\r\n")
}

// smtpCommand sends a line and reads the (possibly multi-line) reply.
func smtpCommand(w *wire, cmd string) (int, string, error) {
	if err := w.writeLine(cmd); err != nil {
		return 0, "", err
	}
	return smtpRead(w)
}

// smtpRead reads a reply: "250-..." lines continue, "250 ..." ends. The
// reply text is the lines joined by "\n", exactly as sent.
func smtpRead(w *wire) (int, string, error) {
	var lines []string
	for {
		line, err := w.readLine()
		if err != nil {
			return 0, strings.Join(lines, "\n"), err
		}
		lines = append(lines, line)
		if len(line) < 3 {
			return 0, strings.Join(lines, "\n"), w.fail(fmt.Errorf("not an SMTP reply: %q", line))
		}
		var code int
		if _, err := fmt.Sscanf(line[:3], "%d", &code); err != nil || code < 200 || code > 599 {
			return 0, strings.Join(lines, "\n"), w.fail(fmt.Errorf("not an SMTP reply: %q", line))
		}
		if len(line) == 3 || line[3] != '-' {
			return code, strings.Join(lines, "\n"), nil
		}
		if len(lines) > 1000 {
			return 0, "", w.fail(fmt.Errorf("SMTP reply longer than 1000 lines"))
		}
	}
}
