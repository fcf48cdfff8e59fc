package explain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Codes of network explanations.
const (
	CodeTimeout       = "timeout"
	CodeClosed        = "connection-closed"
	CodeRefused       = "connection-refused"
	CodeDNS           = "host-not-found"
	CodeTLSUntrusted  = "tls-untrusted"
	CodeTLSHostname   = "tls-hostname"
	CodeTLSHandshake  = "tls-handshake"
	CodeNetwork       = "network-error"
	CodeCanceled      = "canceled"
	CodeProtocolError = "protocol-error"
)

// Network explains a connection-level failure of a protocol check at a step
// (connect, tls, greeting, auth, ...) against addr.
func Network(protocol, addr, step string, err error) Explanation {
	where := fmt.Sprintf("%s at %s during %s", protocol, addr, step)
	var (
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		certInv x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case err == nil:
		return Explanation{}
	case errors.Is(err, context.Canceled):
		return Explanation{Code: CodeCanceled, Title: "Canceled", Cause: "The check was canceled (" + where + ").", Fix: "Run the test again."}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return Explanation{Code: CodeTimeout, Title: "No answer", Cause: "The server did not answer in time (" + where + ").", Fix: "Check the host and port, firewalls and proxies between here and the server; raise --timeout on a slow link.", Retryable: true}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return Explanation{Code: CodeClosed, Title: "Connection closed", Cause: "The server closed the connection (" + where + ").", Fix: "Check that the host and port belong to a " + protocol + " server speaking the expected TLS mode; a firewall or proxy may also cut the connection.", Retryable: true}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Explanation{Code: CodeRefused, Title: "Connection refused", Cause: "Nothing accepts connections at " + addr + ".", Fix: "Check the host and port (--imap/--pop/--smtp host:port) and firewalls."}
	case errors.As(err, &dnsErr):
		return Explanation{Code: CodeDNS, Title: "Host not found", Cause: fmt.Sprintf("The name %s does not resolve.", dnsErr.Name), Fix: "Check the host name and DNS; for a national cloud choose it with --cloud."}
	case errors.As(err, &unknown):
		return Explanation{Code: CodeTLSUntrusted, Title: "Certificate not trusted", Cause: "The server's certificate is signed by an authority this computer does not trust (" + where + ").", Fix: "For a lab or proxy with its own CA, pass the CA's PEM file with --ca-file."}
	case errors.As(err, &host):
		return Explanation{Code: CodeTLSHostname, Title: "Certificate for another host", Cause: "The server's certificate does not name " + addr + ".", Fix: "Connect with the host name on the certificate."}
	case errors.As(err, &certInv):
		return Explanation{Code: CodeTLSUntrusted, Title: "Certificate invalid", Cause: certInv.Error(), Fix: "Check the server's certificate (expiry, usage) and the computer's clock."}
	case errors.As(err, &recErr) || strings.Contains(err.Error(), "tls:"):
		return Explanation{Code: CodeTLSHandshake, Title: "TLS handshake failed", Cause: fmt.Sprintf("TLS failed (%s): %v.", where, err), Fix: "Check the TLS mode: IMAP 993 and POP3 995 use implicit TLS, SMTP 587 uses STARTTLS."}
	}
	return Explanation{Code: CodeNetwork, Title: "Network error", Cause: fmt.Sprintf("%s: %v", where, err), Fix: "Check the host, port and network path.", Retryable: true}
}
