package exchange

import (
	"crypto/tls"
	"strings"
	"time"
)

// Config is what every front end of this package needs. One Config may be
// shared by all of them.
type Config struct {
	Backend  Backend
	TLS      *tls.Config // server certificate from the sim's CA
	Hostname string      // shown in greetings and 535 replies, e.g. "SN6PR01CA0001.outlook.office365.com"
	// Logf receives one line per notable event (a login refused, a message
	// delivered). nil = silent. Tokens are never passed to it.
	Logf func(format string, args ...any)
	// Timeout is the idle timeout per connection: a client silent for this
	// long is disconnected. 0 = 2 minutes.
	Timeout time.Duration
	// Latency is added before every reply of the IMAP, POP3 and SMTP
	// servers (one network round trip per command), as sim.Options.Latency
	// is for HTTP; 0 = none.
	Latency time.Duration
}

// defaultTimeout matches the order of Exchange Online's own idle limits.
const defaultTimeout = 2 * time.Minute

// defaultHostname is used when Config.Hostname is empty: a name shaped like
// an Exchange Online front-end server.
const defaultHostname = "SN6PR01CA0001.outlook.office365.com"

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return defaultTimeout
	}
	return c.Timeout
}

func (c Config) hostname() string {
	if c.Hostname == "" {
		return defaultHostname
	}
	return c.Hostname
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// redact removes a token from text that may quote it (an error from the
// Backend, say) before the text reaches a log line or a reply.
func redact(text, token string) string {
	if len(token) >= 8 {
		text = strings.ReplaceAll(text, token, "[token]")
	}
	return text
}
