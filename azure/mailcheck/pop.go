package mailcheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// checkPOP: TLS, greeting, the two-line AUTH XOAUTH2 Exchange Online
// requires (the one-line form gets "-ERR Protocol error"), then STAT.
func checkPOP(ctx context.Context, ep cloud.Endpoint, tlsCfg *tls.Config, timeout time.Duration, mailbox, token string) result {
	w, fail := connect(ctx, ep, tlsCfg, timeout)
	if fail != nil {
		return *fail
	}
	defer w.close()
	greet, bad := readGreeting(ctx, w, ep, tlsCfg, timeout, w.readLine)
	if bad != nil {
		return *bad
	}
	if !strings.HasPrefix(greet, "+OK") {
		return refused("greeting", greet)
	}
	res := checkPOPAfterGreeting(ctx, w, ep, tlsCfg, mailbox, token)
	res.greeting = greet
	return res
}

func checkPOPAfterGreeting(ctx context.Context, w *wire, ep cloud.Endpoint, tlsCfg *tls.Config, mailbox, token string) result {
	var line string
	var err error
	if ep.TLS == cloud.StartTLS {
		w.step = "starttls"
		if line, err = popCommand(w, "STLS"); err != nil {
			return broken(w, "starttls", err)
		}
		if !strings.HasPrefix(line, "+OK") {
			return refused("starttls", line)
		}
		if err := w.startTLS(ctx, tlsFor(tlsCfg, ep.Host)); err != nil {
			return broken(w, "tls", err)
		}
	}
	w.step = "auth"
	if line, err = popCommand(w, "AUTH XOAUTH2"); err != nil {
		return broken(w, "auth", err)
	}
	if !strings.HasPrefix(line, "+") || strings.HasPrefix(line, "+OK") {
		return refused("auth", line)
	}
	if line, err = popCommand(w, xoauth2(mailbox, token)); err != nil {
		return broken(w, "auth", err)
	}
	if strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+OK") {
		// Error challenge after the credentials: an empty line ends it.
		if line, err = popCommand(w, ""); err != nil {
			return broken(w, "auth", err)
		}
	}
	if !strings.HasPrefix(line, "+OK") {
		return refused("auth", line)
	}
	w.step = "stat"
	if line, err = popCommand(w, "STAT"); err != nil {
		return broken(w, "stat", err)
	}
	if !strings.HasPrefix(line, "+OK") {
		return refused("stat", line)
	}
	detail := "STAT: " + strings.TrimSpace(strings.TrimPrefix(line, "+OK"))
	if f := strings.Fields(line); len(f) >= 3 {
		detail = fmt.Sprintf("STAT: %s messages, %s bytes", f[1], f[2])
	}
	_ = w.writeLine("QUIT") // the result is known; do not wait for the goodbye
	return result{step: "stat", reply: line, detail: detail}
}

func popCommand(w *wire, cmd string) (string, error) {
	if err := w.writeLine(cmd); err != nil {
		return "", err
	}
	return w.readLine()
}
