package explain

import (
	"fmt"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// CodeTLSMode: the port speaks another TLS mode than the check used, e.g.
// SMTP pointed at 465 (implicit TLS) where STARTTLS was expected.
const CodeTLSMode = "tls-mode-mismatch"

// TLSEvidence is what a mail check saw of a port's TLS mode.
type TLSEvidence string

const (
	// TLSRecordForGreeting: a TLS record (a handshake or an alert) arrived
	// where a plain-text greeting was expected.
	TLSRecordForGreeting TLSEvidence = "tls-record"
	// TLSProbeHandshake: no greeting came in time, and a TLS handshake on a
	// second connection to the same port got a server hello.
	TLSProbeHandshake TLSEvidence = "tls-probe"
	// ImplicitTLSPort: no greeting came in time on a port assigned to
	// implicit TLS (465 SMTPS, 993 IMAPS, 995 POP3S); the probe could not
	// tell.
	ImplicitTLSPort TLSEvidence = "implicit-tls-port"
	// PlainTextForHandshake: a TLS handshake was expected and the server
	// sent plain text (seen holds its first bytes).
	PlainTextForHandshake TLSEvidence = "plain-text"
)

// ImplicitTLSPorts are the ports assigned to mail over implicit TLS.
var ImplicitTLSPorts = map[int]string{465: "SMTP submission over implicit TLS (SMTPS)", 993: "IMAP over implicit TLS", 995: "POP3 over implicit TLS"}

// TLSMode explains a TLS-mode mismatch a mail check found at addr (port)
// during step; seen is what the server sent, when it sent anything.
func TLSMode(p catalog.Protocol, addr string, port int, step string, ev TLSEvidence, seen string) Explanation {
	where := fmt.Sprintf("%s at %s during %s", p.Label(), addr, step)
	x := Explanation{Code: CodeTLSMode, Title: "Wrong TLS mode for this port"}
	var what string
	switch ev {
	case TLSRecordForGreeting:
		what = "the server sent a TLS record (" + seen + ") where a plain-text greeting was expected: the port speaks implicit TLS"
	case TLSProbeHandshake:
		what = "no plain-text greeting came, and a TLS handshake on the same port was answered: the port speaks implicit TLS"
	case ImplicitTLSPort:
		what = fmt.Sprintf("no plain-text greeting came in time, and port %d is the port for %s, where the server waits for the client to start TLS", port, ImplicitTLSPorts[port])
	case PlainTextForHandshake:
		what = fmt.Sprintf("the server answered the TLS handshake in plain text (%q): the port expects STARTTLS or no TLS", seen)
	}
	x.Cause = capitalize(what) + " (" + where + ")."
	switch {
	case ev == PlainTextForHandshake && p == catalog.SMTP:
		x.Fix = "Use STARTTLS on this port (smtp.office365.com:587 for Exchange Online), not implicit TLS."
	case ev == PlainTextForHandshake:
		x.Fix = fmt.Sprintf("Use the implicit-TLS port: %s for Exchange Online.", exchangeEndpoint(p))
	case p == catalog.SMTP && (port == 993 || port == 995):
		x.Fix = fmt.Sprintf("Port %d is for %s, not SMTP: Exchange Online takes SMTP submission on smtp.office365.com:587 with STARTTLS.", port, ImplicitTLSPorts[port])
	case p == catalog.SMTP:
		x.Fix = "Exchange Online takes SMTP submission on smtp.office365.com:587 with STARTTLS, not implicit TLS on 465: use port 587."
	default:
		x.Fix = fmt.Sprintf("Use implicit TLS for this port (%s for Exchange Online).", exchangeEndpoint(p))
	}
	return x
}
