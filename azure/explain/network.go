package explain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// Codes of network explanations.
const (
	CodeTimeout       = "timeout"
	CodeClosed        = "connection-closed"
	CodeRefused       = "connection-refused"
	CodeDNS           = "host-not-found"
	CodeDNSFailed     = "dns-failed"
	CodeOffline       = "no-network"
	CodeProxyRefused  = "proxy-refused"
	CodeProxyAuth     = "proxy-auth"
	CodeProxyDenied   = "proxy-denied"
	CodeTLSUntrusted  = "tls-untrusted"
	CodeTLSHostname   = "tls-hostname"
	CodeTLSHandshake  = "tls-handshake"
	CodeNetwork       = "network-error"
	CodeCanceled      = "canceled"
	CodeProtocolError = "protocol-error"
)

// The HTTP services Connection names.
const (
	ServiceIdentity      = "the identity platform"
	ServiceGraph         = "Microsoft Graph"
	ServiceExchangeAdmin = "Exchange Online's admin service"
	ServiceEWS           = "Exchange Web Services"
)

// proxyHint is the fix for an HTTPS service reached without a proxy.
const proxyHint = "if this computer reaches the internet only through a proxy, set HTTPS_PROXY=http://proxy:port (and NO_PROXY for hosts to reach directly)"

// failure is one classified connection failure, as clauses that Network
// and Connection put into their own sentences.
type failure struct {
	code, title string
	what        string // what failed: "the name X does not resolve in DNS"
	fix         string // what to do: "check the network connection; ..."
	retryable   bool
}

// target is what was being reached.
type target struct {
	host string
	// direct: IMAP, POP3 and SMTP connect straight to the server;
	// HTTPS_PROXY does not apply to them.
	direct bool
	// timeoutFlag: the caller has a --timeout to raise (the login test).
	timeoutFlag bool
}

// classify sorts a connection-level error; false when err is not one (an
// HTTP status, an AADSTS reply, a refused setting), or is a cancellation.
func classify(err error, t target) (failure, bool) {
	var (
		proxyStatus *cloud.ProxyStatusError
		proxied     *cloud.ProxiedError
		op          *net.OpError
		dnsErr      *net.DNSError
		unknown     x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certInv     x509.CertificateInvalidError
		recErr      tls.RecordHeaderError
		netErr      net.Error
	)
	proxy := ""
	if errors.As(err, &proxied) {
		proxy = proxied.Proxy
	}
	h := t.host
	if h == "" {
		h = "the server"
	}
	via := func() string {
		if proxy != "" {
			return "the proxy " + proxy + " (HTTPS_PROXY)"
		}
		return "the proxy in HTTPS_PROXY"
	}
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		return failure{}, false

	case errors.As(err, &proxyStatus):
		p := "the proxy " + proxyStatus.Proxy + " (HTTPS_PROXY)"
		if proxyStatus.StatusCode == 407 {
			return failure{code: CodeProxyAuth, title: "Proxy wants a login",
				what: fmt.Sprintf("%s answered %s, asking for a login before it connects to %s", p, proxyStatus.Status, h),
				fix:  "put the proxy's user name and password in HTTPS_PROXY (http://user:password@" + proxyStatus.Proxy + "; mailoauth can answer Basic authentication only), or ask for " + h + " to be allowed without a proxy login"}, true
		}
		return failure{code: CodeProxyDenied, title: "Proxy refused the host",
			what: fmt.Sprintf("%s answered %s when asked to connect to %s", p, proxyStatus.Status, h),
			fix:  "ask the proxy's administrator to allow " + h + ", or, if it can be reached directly, add it to NO_PROXY"}, true

	case errors.As(err, &op) && op.Op == "proxyconnect":
		p := via()
		if proxy == "" {
			var inner *net.OpError
			if errors.As(op.Err, &inner) && inner.Addr != nil {
				p = "the proxy " + inner.Addr.String() + " (HTTPS_PROXY)"
			}
		}
		var innerDNS *net.DNSError
		switch {
		case errors.As(op.Err, &innerDNS):
			return failure{code: CodeProxyRefused, title: "Proxy not found",
				what: fmt.Sprintf("the name of %s does not resolve (%s)", p, innerDNS.Name),
				fix:  "correct the proxy's host name in HTTPS_PROXY, or unset HTTPS_PROXY if this network needs no proxy"}, true
		case errors.As(op.Err, &unknown):
			return failure{code: CodeTLSUntrusted, title: "Proxy certificate not trusted",
				what: fmt.Sprintf("the certificate of %s itself is not signed by an authority this computer trusts", p),
				fix:  "pass the proxy's CA certificate (PEM) with --ca-file"}, true
		case isTimeout(op.Err):
			return failure{code: CodeProxyRefused, title: "Proxy does not answer",
				what: p + " did not answer", fix: "check the proxy's host and port in HTTPS_PROXY", retryable: true}, true
		}
		return failure{code: CodeProxyRefused, title: "Proxy refused the connection",
			what: fmt.Sprintf("%s refused the connection (%v)", p, rootCause(op.Err)),
			fix:  "check the proxy's host and port in HTTPS_PROXY, or unset HTTPS_PROXY if this network needs no proxy"}, true

	case errors.As(err, &unknown):
		if proxy != "" {
			return failure{code: CodeTLSUntrusted, title: "Proxy certificate not trusted",
				what: fmt.Sprintf("the certificate presented for %s is not signed by an authority this computer trusts: %s inspects TLS and signs with its own CA", h, via()),
				fix:  "pass the proxy's CA certificate (PEM) with --ca-file, or ask for " + h + " to be exempted from TLS inspection"}, true
		}
		w := "a proxy or firewall that inspects TLS, or a lab with its own CA"
		if t.direct {
			w = "a firewall that inspects TLS, or a lab with its own CA"
		}
		return failure{code: CodeTLSUntrusted, title: "Certificate not trusted",
			what: fmt.Sprintf("the certificate presented for %s is not signed by an authority this computer trusts (%s does this)", h, w),
			fix:  "pass that CA's certificate (PEM) with --ca-file"}, true

	case errors.As(err, &hostErr):
		return failure{code: CodeTLSHostname, title: "Certificate for another host",
			what: fmt.Sprintf("the certificate presented for %s names another host (%v)", h, hostErr.Error()),
			fix:  "connect with the host name on the certificate; behind a TLS-inspecting proxy, pass its CA certificate with --ca-file"}, true

	case errors.As(err, &certInv):
		return failure{code: CodeTLSUntrusted, title: "Certificate invalid",
			what: fmt.Sprintf("the certificate presented for %s is invalid (%s)", h, certInv.Error()),
			fix:  "check this computer's date and time, and the server's certificate (expiry, usage)"}, true

	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound || dnsErr.Err == "no such host" {
			fix := "check the host name and the network connection"
			if !t.direct {
				fix += "; " + proxyHint
			}
			return failure{code: CodeDNS, title: "Host not found",
				what: fmt.Sprintf("the name %s does not resolve in DNS", dnsErr.Name), fix: fix}, true
		}
		fix := "connect this computer to the network (or VPN) and try again"
		if !t.direct {
			fix += "; " + proxyHint
		}
		return failure{code: CodeDNSFailed, title: "DNS not answering",
			what:      fmt.Sprintf("the name %s could not be looked up (%s), so this computer seems to be offline or without DNS", dnsErr.Name, dnsErr.Err),
			fix:       fix,
			retryable: true}, true

	case isErrno(err, refusedErrnos):
		fix := "check the address and port, and the firewall"
		if t.direct {
			fix = "check the address and port (--imap/--pop/--smtp host:port) and the firewall; these protocols connect directly, not through HTTPS_PROXY"
		} else {
			fix += "; " + proxyHint
		}
		return failure{code: CodeRefused, title: "Connection refused",
			what: fmt.Sprintf("%s refused the connection (nothing accepts connections there, or a firewall rejects them)", h), fix: fix}, true

	case isErrno(err, unreachableErrnos):
		fix := "connect this computer to the network (or VPN) and try again"
		if !t.direct {
			fix += "; " + proxyHint
		}
		return failure{code: CodeOffline, title: "No network",
			what: fmt.Sprintf("there is no network route to %s, so this computer seems to be offline", h), fix: fix, retryable: true}, true

	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) || isErrno(err, timeoutErrnos):
		fix := "check the network path and firewalls between here and " + h
		switch {
		case t.direct:
			fix += " (these protocols connect directly, not through HTTPS_PROXY)"
		case proxy != "":
			fix += ", and the proxy " + proxy
		default:
			fix += "; " + proxyHint
		}
		if t.timeoutFlag {
			fix += "; raise --timeout on a slow link"
		}
		return failure{code: CodeTimeout, title: "No answer", what: h + " did not answer in time", fix: fix, retryable: true}, true

	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isErrno(err, closedErrnos):
		if proxy != "" {
			return failure{code: CodeClosed, title: "Connection closed",
				what: fmt.Sprintf("the connection to %s through %s was closed", h, via()),
				fix:  "the proxy may block " + h + ": ask for it to be allowed, or check HTTPS_PROXY", retryable: true}, true
		}
		fix := "check that the address belongs to the expected server; a firewall or proxy may also cut the connection"
		if t.direct {
			fix = "check that the host and port belong to a server speaking the expected TLS mode (IMAP 993 and POP3 995 implicit TLS, SMTP 587 STARTTLS); a firewall may also cut the connection"
		}
		return failure{code: CodeClosed, title: "Connection closed", what: h + " closed the connection", fix: fix, retryable: true}, true

	case errors.As(err, &recErr) || strings.Contains(err.Error(), "tls:"):
		fix := "something between here and " + h + " does not speak TLS"
		if t.direct {
			fix = "check the TLS mode: IMAP 993 and POP3 995 use implicit TLS, SMTP 587 uses STARTTLS"
		} else {
			fix += "; " + proxyHint
		}
		return failure{code: CodeTLSHandshake, title: "TLS handshake failed",
			what: fmt.Sprintf("the TLS handshake with %s failed (%v)", h, rootCause(err)), fix: fix}, true
	}
	return failure{}, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || isErrno(err, timeoutErrnos)
}

func isErrno(err error, set []syscall.Errno) bool {
	var no syscall.Errno
	if !errors.As(err, &no) {
		return false
	}
	for _, x := range set {
		if no == x {
			return true
		}
	}
	return false
}

// rootCause is the innermost error's text ("connection refused").
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// hostOf is the host[:port] of a URL or address, for messages.
func hostOf(addr string) string {
	if strings.Contains(addr, "://") {
		if u, err := url.Parse(addr); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return addr
}

// directProtocol reports whether a protocol label names a mail protocol
// that connects without HTTP (no HTTPS_PROXY).
func directProtocol(label string) bool {
	switch strings.ToUpper(strings.TrimSpace(label)) {
	case "IMAP", "POP", "POP3", "SMTP":
		return true
	}
	return false
}

// Network explains a connection-level failure of a protocol check at a step
// (connect, tls, greeting, auth, ...) against addr. It shares Connection's
// classifier, so the mail checks and the HTTP services name the same
// failure in the same words.
func Network(protocol, addr, step string, err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	where := fmt.Sprintf("%s at %s during %s", protocol, addr, step)
	if errors.Is(err, context.Canceled) {
		return Explanation{Code: CodeCanceled, Title: "Canceled", Cause: "The check was canceled (" + where + ").", Fix: "Run the test again."}
	}
	f, ok := classify(err, target{host: hostOf(addr), direct: directProtocol(protocol), timeoutFlag: true})
	if !ok {
		return Explanation{Code: CodeNetwork, Title: "Network error", Cause: fmt.Sprintf("%s: %v", where, err), Fix: "Check the host, port and network path.", Retryable: true}
	}
	return Explanation{Code: f.code, Title: f.title, Cause: capitalize(f.what) + " (" + where + ").", Fix: capitalize(f.fix) + ".", Retryable: f.retryable}
}

// ConnectionError is an HTTP service that could not be reached. Its text
// is one sentence: what failed and the fix.
type ConnectionError struct {
	Service     string // ServiceIdentity, ServiceGraph, ...
	URL         string
	Explanation Explanation
	Err         error
	sentence    string
}

func (e *ConnectionError) Error() string { return e.sentence }
func (e *ConnectionError) Unwrap() error { return e.Err }

// Connection explains a failure to reach an HTTP service (the identity
// platform, Graph, Exchange's admin service, EWS) at rawURL: when err is a
// connection-level failure — no network, DNS, a proxy that refused or
// wants a login, an untrusted (TLS-inspecting) certificate, a timeout — it
// returns a *ConnectionError whose text says in one sentence what failed
// and the fix, and which unwraps to err. Anything else (nil, an HTTP or
// AADSTS answer, a cancellation) is returned unchanged.
func Connection(service, rawURL string, err error) error {
	if err == nil {
		return nil
	}
	var ce *ConnectionError
	if errors.As(err, &ce) {
		return err
	}
	host := hostOf(rawURL)
	f, ok := classify(err, target{host: host})
	if !ok {
		return err
	}
	if service == "" {
		service = host
	}
	return &ConnectionError{
		Service: service, URL: rawURL, Err: err,
		Explanation: Explanation{Code: f.code, Title: f.title, Cause: capitalize(f.what) + ".", Fix: capitalize(f.fix) + ".", Retryable: f.retryable},
		sentence:    "Cannot reach " + service + ": " + f.what + "; " + f.fix + ".",
	}
}
