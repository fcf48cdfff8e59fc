package mailcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// result is what one protocol dialogue found.
type result struct {
	step    string // the last step reached
	reply   string // the server's exact reply that decided the outcome
	detail  string // what was verified, on success
	refused bool   // the server refused; reply says why
	err     error  // connection-level failure (timeout, closed, TLS)
	// greeting is the server's first line, which tells Exchange Online
	// from other servers (explain.IdentifyServer).
	greeting string
	// tlsMode is set when err is a TLS-mode mismatch (SMTP on 465, ...).
	tlsMode *tlsFinding
}

// tlsFinding is what a check saw of a port's TLS mode.
type tlsFinding struct {
	evidence explain.TLSEvidence
	seen     string
}

func refused(step, reply string) result { return result{step: step, reply: reply, refused: true} }

func broken(w *wire, step string, err error) result {
	if w != nil && w.step != "" {
		step = w.step
	}
	return result{step: step, err: err}
}

// checkIMAP: TLS, greeting, CAPABILITY, AUTHENTICATE XOAUTH2 (SASL-IR when
// offered), an empty line for any continuation after the credentials, then
// SELECT INBOX, because a login can succeed and still be unusable
// ("BAD User is authenticated but not connected.").
func checkIMAP(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration, mailbox, token string) result {
	w, fail := connect(ctx, ep, tlsCfg, timeout)
	if fail != nil {
		return *fail
	}
	defer w.close()
	greet, bad := readGreeting(ctx, w, ep, tlsCfg, timeout, w.readLine)
	if bad != nil {
		return *bad
	}
	if !strings.HasPrefix(greet, "* OK") && !strings.HasPrefix(greet, "* PREAUTH") {
		return refused("greeting", greet)
	}
	res := checkIMAPAfterGreeting(ctx, w, ep, tlsCfg, mailbox, token)
	res.greeting = greet
	return res
}

func checkIMAPAfterGreeting(ctx context.Context, w *wire, ep cloud.Endpoint, tlsCfg *tls.Config, mailbox, token string) result {
	w.step = "capability"
	caps, tagged, err := imapCommand(w, "A1", "CAPABILITY")
	if err != nil {
		return broken(w, "capability", err)
	}
	if !imapOK(tagged, "A1") {
		return refused("capability", tagged)
	}
	if ep.TLS == cloud.StartTLS {
		w.step = "starttls"
		if !hasWord(caps, "STARTTLS") {
			return refused("starttls", caps)
		}
		if _, tagged, err = imapCommand(w, "A2", "STARTTLS"); err != nil {
			return broken(w, "starttls", err)
		}
		if !imapOK(tagged, "A2") {
			return refused("starttls", tagged)
		}
		if err := w.startTLS(ctx, tlsFor(tlsCfg, ep.Host)); err != nil {
			return broken(w, "tls", err)
		}
		if caps, tagged, err = imapCommand(w, "A3", "CAPABILITY"); err != nil {
			return broken(w, "capability", err)
		}
		if !imapOK(tagged, "A3") {
			return refused("capability", tagged)
		}
	}
	w.step = "auth"
	if !hasWord(caps, "AUTH=XOAUTH2") {
		return refused("auth", "server does not offer AUTH=XOAUTH2: "+caps)
	}
	ir := xoauth2(mailbox, token)
	if hasWord(caps, "SASL-IR") {
		err = w.writeLine("A4 AUTHENTICATE XOAUTH2 " + ir)
	} else {
		if err = w.writeLine("A4 AUTHENTICATE XOAUTH2"); err == nil {
			var line string
			if line, err = w.readLine(); err == nil && !strings.HasPrefix(line, "+") {
				return refused("auth", line)
			}
			if err == nil {
				err = w.writeLine(ir)
			}
		}
	}
	if err != nil {
		return broken(w, "auth", err)
	}
	var line string
	for {
		if line, err = w.readLine(); err != nil {
			return broken(w, "auth", err)
		}
		if strings.HasPrefix(line, "+") {
			// An error challenge after the credentials: answer with an
			// empty line so the server sends its final reply.
			if err = w.writeLine(""); err != nil {
				return broken(w, "auth", err)
			}
			continue
		}
		if strings.HasPrefix(line, "A4 ") {
			break
		}
	}
	if !imapOK(line, "A4") {
		return refused("auth", line)
	}
	w.step = "select"
	untagged, tagged, err := imapCommand(w, "A5", "SELECT INBOX")
	if err != nil {
		return broken(w, "select", err)
	}
	if !imapOK(tagged, "A5") {
		return refused("select", tagged)
	}
	exists := "?"
	for _, u := range strings.Split(untagged, "\n") {
		f := strings.Fields(u)
		if len(f) == 3 && f[0] == "*" && strings.EqualFold(f[2], "EXISTS") {
			exists = f[1]
		}
	}
	// Say goodbye without waiting: the result is already known.
	_ = w.writeLine("A6 LOGOUT")
	return result{step: "select", reply: tagged, detail: fmt.Sprintf("INBOX selected: %s messages", exists)}
}

// imapCommand sends a tagged command and reads to its tagged reply; the
// untagged lines come back joined by "\n".
func imapCommand(w *wire, tag, cmd string) (untagged, tagged string, err error) {
	if err = w.writeLine(tag + " " + cmd); err != nil {
		return "", "", err
	}
	var lines []string
	for {
		line, err := w.readLine()
		if err != nil {
			return strings.Join(lines, "\n"), "", err
		}
		if strings.HasPrefix(line, tag+" ") {
			return strings.Join(lines, "\n"), line, nil
		}
		lines = append(lines, line)
	}
}

func imapOK(line, tag string) bool { return strings.HasPrefix(line, tag+" OK") }
