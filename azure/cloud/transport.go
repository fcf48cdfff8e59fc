package cloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// This file keeps credentials inside the cloud. Every HTTP client mailoauth
// builds for a cloud (HTTPClient) enforces two rules, so that MSAL, the
// product-style token requests, the mail checks and Graph inherit them:
//
//  1. A request that carried a credential (a client secret, password,
//     authorization code, refresh token, device code or an Authorization
//     header) never follows a redirect, and no request follows a redirect
//     to an origin outside the cloud (CheckRedirect). net/http would
//     otherwise re-post the form on a 307/308, secret and all.
//  2. The transport refuses to send a credential to any origin outside the
//     cloud at all (guard), whatever led there: a redirect followed by a
//     middleware that bypasses CheckRedirect (kiota's redirect handler),
//     or a token_endpoint in discovery metadata that points elsewhere.
//
// An origin is scheme://host:port: the simulator and a lab run every
// service on 127.0.0.1 with different ports, and another port on the same
// address is another server.

// Origins are the scheme://host:port of the cloud's HTTP endpoints (the
// identity platform, Graph and EWS), sorted. Only they receive credentials.
func (c Cloud) Origins() []string {
	seen := map[string]bool{}
	for _, raw := range []string{c.AuthorityHost, c.GraphURL, c.EWSURL} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			seen[origin(u)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for o := range seen {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// Owns reports whether u is on one of the cloud's origins.
func (c Cloud) Owns(u *url.URL) bool {
	if u == nil {
		return false
	}
	o := origin(u)
	for _, x := range c.Origins() {
		if x == o {
			return true
		}
	}
	return false
}

// origin is scheme://host:port in lower case, with the scheme's default port.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// ServiceName names what a URL of this cloud is, for messages: "the token
// endpoint", "the device code endpoint", "the identity platform",
// "Microsoft Graph", "Exchange Web Services"; u's host when it is none of them.
func (c Cloud) ServiceName(u *url.URL) string {
	if u == nil {
		return "the server"
	}
	o := origin(u)
	same := func(raw string) bool {
		v, err := url.Parse(raw)
		return err == nil && v.Host != "" && origin(v) == o
	}
	switch {
	case same(c.AuthorityHost):
		switch p := strings.ToLower(u.Path); {
		case strings.HasSuffix(p, "/oauth2/v2.0/token"), strings.HasSuffix(p, "/oauth2/token"):
			return "the token endpoint"
		case strings.HasSuffix(p, "/oauth2/v2.0/devicecode"), strings.HasSuffix(p, "/oauth2/devicecode"):
			return "the device code endpoint"
		case strings.HasSuffix(p, "/oauth2/v2.0/authorize"):
			return "the authorization endpoint"
		}
		return "the identity platform"
	case same(c.GraphURL):
		return "Microsoft Graph"
	case same(c.EWSURL):
		return "Exchange Web Services"
	}
	return u.Host
}

// RedirectError is a redirect mailoauth refused to follow.
type RedirectError struct {
	// From names the service that answered with the redirect ("the token endpoint").
	From string
	// To is where the redirect pointed.
	To *url.URL
	// Credential is what the original request carried ("the client
	// secret"); empty when it carried none.
	Credential string
	// Outside is true when To is not one of the cloud's origins.
	Outside bool
	// Origins are the cloud's own, for the message.
	Origins []string
}

func (e *RedirectError) Error() string {
	to := e.To.Host
	switch {
	case e.Credential != "" && e.Outside:
		return fmt.Sprintf("%s answered with a redirect to %s; mailoauth never sends credentials to another host (%s: not sent there)", e.From, to, e.Credential)
	case e.Credential != "":
		return fmt.Sprintf("%s answered with a redirect to %s; mailoauth never sends credentials again after a redirect (%s: not re-sent)", e.From, e.To.Redacted(), e.Credential)
	}
	return fmt.Sprintf("%s answered with a redirect to %s, which is not one of this cloud's hosts (%s); mailoauth follows redirects only within the cloud", e.From, to, strings.Join(e.Origins, ", "))
}

// CredentialHostError is a request carrying a credential to a host outside
// the cloud, refused before anything was sent.
type CredentialHostError struct {
	To         *url.URL
	Credential string
	Origins    []string
}

func (e *CredentialHostError) Error() string {
	return fmt.Sprintf("refusing to send %s to %s: it is not one of this cloud's hosts (%s); mailoauth never sends credentials to another host", e.Credential, e.To.Host, strings.Join(e.Origins, ", "))
}

// maxRedirects matches net/http's own limit.
const maxRedirects = 10

// CheckRedirect is the http.Client.CheckRedirect of the cloud's clients:
// no redirect after a request that carried a credential, none to an origin
// outside the cloud, at most ten. A client made by hand (Graph's adapter)
// should copy it from HTTPClient's client.
func (c Cloud) CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	prev := via[len(via)-1]
	e := &RedirectError{From: c.ServiceName(prev.URL), To: req.URL, Outside: !c.Owns(req.URL), Origins: c.Origins()}
	for _, r := range via {
		if cred, bearer := credential(r); cred != "" && (!bearer || e.Outside) {
			// A bearer token may follow a redirect within the cloud (net/http
			// keeps it only for the same domain); nothing else ever does.
			e.Credential = cred
			return e
		}
	}
	if e.Outside {
		return e
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("%s: stopped after %d redirects", e.From, maxRedirects)
	}
	return nil
}

// credentialFields are the form fields of OAuth token requests that hold a
// credential, and how a message names them.
var credentialFields = []struct{ field, name string }{
	{"client_secret", "the client secret"},
	{"client_assertion", "the client assertion"},
	{"password", "the password"},
	{"refresh_token", "a refresh token"},
	{"code", "an authorization code"},
	{"device_code", "a device code"},
	{"assertion", "an assertion"},
}

// Credential says what credential a request carries ("the client secret"),
// or "" when it carries none: an Authorization header, an OAuth form field,
// or a SOAP body with a password (MSAL's WS-Trust call for federated users).
// The body is read through GetBody, so the request stays untouched; a form
// body that cannot be read again is taken to hold a credential.
func Credential(r *http.Request) string {
	name, _ := credential(r)
	return name
}

// credential is Credential, and whether it is only a bearer token.
func credential(r *http.Request) (name string, bearer bool) {
	if r == nil {
		return "", false
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if scheme, _, _ := strings.Cut(a, " "); strings.EqualFold(scheme, "basic") {
			return "the client secret (basic authentication)", false
		}
		return "a bearer token", true
	}
	if (r.Body == nil || r.Body == http.NoBody) && r.GetBody == nil {
		return "", false
	}
	return bodyCredential(r), false
}

// bodyCredential looks for a credential in a form or SOAP body.
func bodyCredential(r *http.Request) string {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isForm := ct == "application/x-www-form-urlencoded"
	isSOAP := strings.Contains(ct, "soap") || ct == "text/xml"
	if !isForm && !isSOAP {
		return ""
	}
	body, ok := peekBody(r)
	if !ok {
		if isForm {
			return "a form that may hold a credential"
		}
		return ""
	}
	if isSOAP {
		if bytes.Contains(body, []byte("Password>")) || bytes.Contains(body, []byte("Password ")) {
			return "the password"
		}
		return ""
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return "a form that may hold a credential"
	}
	var names []string
	for _, f := range credentialFields {
		if q.Get(f.field) != "" {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, " and ")
}

// peekBody reads a copy of the request body through GetBody.
func peekBody(r *http.Request) ([]byte, bool) {
	if r.GetBody == nil {
		return nil, r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody)
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	return b, err == nil
}

// guard is the transport under every cloud client: it refuses credentials
// to origins outside the cloud, and marks errors of requests that went
// through a proxy, so a failure can be explained as the proxy's.
type guard struct {
	base  http.RoundTripper
	cloud Cloud
	proxy func(*http.Request) (*url.URL, error)
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !g.cloud.Owns(req.URL) {
		r := req
		if req.GetBody == nil && req.Body != nil && req.Body != http.NoBody {
			// Read the body once so it can be both inspected and sent.
			b, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
		if cred := Credential(r); cred != "" {
			return nil, &CredentialHostError{To: req.URL, Credential: cred, Origins: g.cloud.Origins()}
		}
		req = r
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil && g.proxy != nil && !errors.Is(err, context.Canceled) {
		if p, perr := g.proxy(req); perr == nil && p != nil {
			return resp, &ProxiedError{Proxy: p.Host, Err: err}
		}
	}
	return resp, err
}

// ProxiedError marks the failure of a request sent through a proxy
// (HTTPS_PROXY). Its text is the underlying error's.
type ProxiedError struct {
	// Proxy is the proxy's host:port (never its credentials).
	Proxy string
	Err   error
}

func (e *ProxiedError) Error() string { return e.Err.Error() }
func (e *ProxiedError) Unwrap() error { return e.Err }

// ProxyStatusError is a proxy's refusal of the CONNECT tunnel: 407 (it
// wants credentials), 403 (policy), 502 (it could not reach the host).
type ProxyStatusError struct {
	Proxy      string
	StatusCode int
	Status     string // "407 Proxy Authentication Required"
}

func (e *ProxyStatusError) Error() string {
	return fmt.Sprintf("the proxy %s answered %s", e.Proxy, e.Status)
}

// proxyConnectResponse turns a refused CONNECT into a ProxyStatusError
// (net/http alone returns only the status text).
func proxyConnectResponse(_ context.Context, proxy *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &ProxyStatusError{Proxy: proxy.Host, StatusCode: resp.StatusCode, Status: resp.Status}
}
