package explain

import (
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Server is the mail server that answered, as its greeting and host name
// tell. Exchange Online greets with fixed words (docs/architecture.md
// "Exchange behaviour"): IMAP "* OK The Microsoft Exchange IMAP4 service is
// ready.", POP3 "+OK The Microsoft Exchange POP3 service is ready.", SMTP
// "220 <host> Microsoft ESMTP MAIL Service ready at <date>". A greeting
// without them is another server's, and its replies are never explained
// with Exchange's causes.
type Server struct {
	// Family is "exchange", a known other server ("gmail", "dovecot",
	// "postfix", "exim", "courier", "cyrus", "zimbra"), "other" for a
	// greeting that names none of them, or "" when nothing is known (no
	// greeting, no host: a pasted line).
	Family string `json:"family,omitempty"`
	// Name is the server's name for sentences ("Exchange Online",
	// "Dovecot", "a server that does not identify itself as Exchange").
	Name string `json:"name,omitempty"`
	// Greeting is the greeting it was told from.
	Greeting string `json:"greeting,omitempty"`
}

// Exchange reports whether the server is Exchange Online (or Exchange).
func (s Server) Exchange() bool { return s.Family == "exchange" }

// Known reports whether anything identifies the server.
func (s Server) Known() bool { return s.Family != "" }

// NotExchange reports whether the server is known not to be Exchange.
func (s Server) NotExchange() bool { return s.Known() && !s.Exchange() }

// exchangeHosts are the mail hosts of Exchange Online in every cloud.
var exchangeHosts = []string{"outlook.office365.com", "smtp.office365.com", "outlook.office.com", "outlook.office365.us", "smtp.office365.us",
	"outlook-dod.office365.us", "partner.outlook.cn", "smtp.partner.outlook.cn", "outlook.com"}

func exchangeHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	for _, x := range exchangeHosts {
		if h == x || strings.HasSuffix(h, "."+x) {
			return true
		}
	}
	return false
}

// others are servers recognised by a word in their greeting.
var others = []struct{ family, name, word string }{
	{"gmail", "Gmail", "gimap ready"},
	{"gmail", "Gmail", "gpop ready"},
	{"gmail", "Gmail", "gsmtp"},
	{"gmail", "Gmail", "smtp.gmail.com"},
	{"dovecot", "Dovecot", "dovecot"},
	{"postfix", "Postfix", "esmtp postfix"},
	{"exim", "Exim", "esmtp exim"},
	{"courier", "Courier", "courier"},
	{"cyrus", "Cyrus IMAP", "cyrus"},
	{"zimbra", "Zimbra", "zimbra"},
}

// IdentifyServer tells Exchange Online from other servers by the greeting
// (IMAP, POP3, SMTP) and the host name. EWS and Graph are Microsoft's own
// protocols: any server of theirs is Exchange's (Graph's) own.
func IdentifyServer(p catalog.Protocol, greeting, host string) Server {
	g := strings.TrimSpace(firstLine(greeting))
	low := strings.ToLower(g)
	s := Server{Greeting: g}
	switch {
	case p == catalog.EWS || p == catalog.GraphRead || p == catalog.GraphSend:
		s.Family, s.Name = "exchange", "Exchange Online"
		return s
	case g != "" && exchangeGreeting(p, low):
		s.Family, s.Name = "exchange", "Exchange Online"
		return s
	case g != "":
		for _, o := range others {
			if strings.Contains(low, o.word) {
				s.Family, s.Name = o.family, o.name
				return s
			}
		}
		s.Family, s.Name = "other", "a server that does not identify itself as Exchange Online"
		return s
	case exchangeHost(host):
		s.Family, s.Name = "exchange", "Exchange Online"
	}
	return s
}

func exchangeGreeting(p catalog.Protocol, low string) bool {
	switch p {
	case catalog.IMAP:
		return strings.HasPrefix(low, "* ok the microsoft exchange imap4 service is ready")
	case catalog.POP:
		return strings.HasPrefix(low, "+ok the microsoft exchange pop3 service is ready")
	case catalog.SMTP:
		f := strings.Fields(low)
		return len(f) >= 6 && f[0] == "220" && strings.Join(f[2:6], " ") == "microsoft esmtp mail service"
	}
	return false
}
