// Package cloud describes where a Microsoft 365 cloud lives: the identity
// platform, Microsoft Graph, Exchange Online's protocol endpoints and token
// resources, the portal and the Exchange PowerShell environment.
//
// The real code path and the demo differ only in this value: a Cloud for the
// simulated tenant points every endpoint at 127.0.0.1 and carries the
// simulator's CA; everything else in mailoauth is the same code.
package cloud

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how a mail protocol connection is secured.
type TLSMode string

const (
	// ImplicitTLS starts TLS as soon as the TCP connection opens (IMAP 993, POP3 995).
	ImplicitTLS TLSMode = "tls"
	// StartTLS upgrades a plain connection with STARTTLS (SMTP submission 587).
	StartTLS TLSMode = "starttls"
)

// Endpoint is a mail server's address and how to secure it.
type Endpoint struct {
	Host string  `json:"host"`
	Port int     `json:"port"`
	TLS  TLSMode `json:"tls"`
}

// Addr is host:port, ready for net.Dial.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

func (e Endpoint) String() string { return e.Addr() + " (" + string(e.TLS) + ")" }

// Cloud is one Microsoft 365 national cloud, or a custom one (the simulated
// tenant, a test lab).
type Cloud struct {
	// Name is the --cloud value: global, usgov-high, usgov-dod, china, custom.
	Name string `json:"name"`
	// AuthorityHost is the identity platform's base URL, without a tenant:
	// https://login.microsoftonline.com
	AuthorityHost string `json:"authority_host"`
	// GraphURL is Microsoft Graph's base URL without the version:
	// https://graph.microsoft.com
	GraphURL string `json:"graph_url"`
	// GraphResource is Graph's token resource (audience), which stays
	// https://graph.microsoft.com even when GraphURL points at a lab.
	GraphResource string `json:"graph_resource"`
	// ExchangeDelegatedResource prefixes delegated IMAP/POP/SMTP scopes
	// (https://outlook.office.com/IMAP.AccessAsUser.All).
	ExchangeDelegatedResource string `json:"exchange_delegated_resource"`
	// ExchangeAppResource is the resource for app-only tokens
	// (https://outlook.office365.com/.default) and for delegated EWS.
	ExchangeAppResource string   `json:"exchange_app_resource"`
	IMAP                Endpoint `json:"imap"`
	POP                 Endpoint `json:"pop"`
	SMTP                Endpoint `json:"smtp"`
	// EWSURL is the Exchange Web Services SOAP endpoint.
	EWSURL string `json:"ews_url"`
	// PortalURL is the Azure portal, for links in the settings sheet.
	PortalURL string `json:"portal_url"`
	// ExchangeEnvironment is Connect-ExchangeOnline's -ExchangeEnvironmentName;
	// empty for the global cloud, where the parameter is omitted.
	ExchangeEnvironment string `json:"exchange_environment,omitempty"`
	// Unverified lists the endpoints of this cloud that no Microsoft source
	// confirms (microsoft.md §12), so the UI can say so.
	Unverified []string `json:"unverified,omitempty"`
	// CAFile is a PEM bundle of extra roots to trust (a private CA, the simulator's).
	CAFile string `json:"ca_file,omitempty"`
	// RootCAs, when set, replaces the system roots (in-process simulator).
	RootCAs *x509.CertPool `json:"-"`
}

// Names lists the accepted --cloud values.
var Names = []string{"global", "usgov-high", "usgov-dod", "china", "custom"}

// Lookup returns the preset for a --cloud value.
func Lookup(name string) (Cloud, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "global", "public", "gcc":
		return Global(), nil
	case "usgov-high", "gcc-high", "usgovhigh":
		return USGovHigh(), nil
	case "usgov-dod", "dod", "usgovdod":
		return USGovDoD(), nil
	case "china", "21vianet":
		return China(), nil
	case "custom":
		// A custom cloud starts from the global shape; every endpoint is then
		// overridden by flags.
		c := Global()
		c.Name = "custom"
		return c, nil
	}
	return Cloud{}, fmt.Errorf("--cloud: unknown cloud %q; accepted: %s", name, strings.Join(Names, ", "))
}

// Global is the worldwide cloud (also GCC, which keeps worldwide endpoints).
func Global() Cloud {
	return Cloud{
		Name:                      "global",
		AuthorityHost:             "https://login.microsoftonline.com",
		GraphURL:                  "https://graph.microsoft.com",
		GraphResource:             "https://graph.microsoft.com",
		ExchangeDelegatedResource: "https://outlook.office.com",
		ExchangeAppResource:       "https://outlook.office365.com",
		IMAP:                      Endpoint{"outlook.office365.com", 993, ImplicitTLS},
		POP:                       Endpoint{"outlook.office365.com", 995, ImplicitTLS},
		SMTP:                      Endpoint{"smtp.office365.com", 587, StartTLS},
		EWSURL:                    "https://outlook.office365.com/EWS/Exchange.asmx",
		PortalURL:                 "https://portal.azure.com",
	}
}

// USGovHigh is US Government GCC High (L4).
func USGovHigh() Cloud {
	return Cloud{
		Name:                      "usgov-high",
		AuthorityHost:             "https://login.microsoftonline.us",
		GraphURL:                  "https://graph.microsoft.us",
		GraphResource:             "https://graph.microsoft.us",
		ExchangeDelegatedResource: "https://outlook.office365.us",
		ExchangeAppResource:       "https://outlook.office365.us",
		IMAP:                      Endpoint{"outlook.office365.us", 993, ImplicitTLS},
		POP:                       Endpoint{"outlook.office365.us", 995, ImplicitTLS},
		SMTP:                      Endpoint{"smtp.office365.us", 587, StartTLS},
		EWSURL:                    "https://outlook.office365.us/EWS/Exchange.asmx",
		PortalURL:                 "https://portal.azure.us",
		ExchangeEnvironment:       "O365USGovGCCHigh",
		Unverified:                []string{"exchange token resource", "smtp host"},
	}
}

// USGovDoD is US Government DoD (L5).
func USGovDoD() Cloud {
	return Cloud{
		Name:                      "usgov-dod",
		AuthorityHost:             "https://login.microsoftonline.us",
		GraphURL:                  "https://dod-graph.microsoft.us",
		GraphResource:             "https://dod-graph.microsoft.us",
		ExchangeDelegatedResource: "https://outlook-dod.office365.us",
		ExchangeAppResource:       "https://outlook-dod.office365.us",
		IMAP:                      Endpoint{"outlook-dod.office365.us", 993, ImplicitTLS},
		POP:                       Endpoint{"outlook-dod.office365.us", 995, ImplicitTLS},
		SMTP:                      Endpoint{"outlook-dod.office365.us", 587, StartTLS},
		EWSURL:                    "https://outlook-dod.office365.us/EWS/Exchange.asmx",
		PortalURL:                 "https://portal.azure.us",
		ExchangeEnvironment:       "O365USGovDoD",
		Unverified:                []string{"exchange token resource", "imap/pop/smtp hosts", "ews url"},
	}
}

// China is Microsoft 365 operated by 21Vianet.
func China() Cloud {
	return Cloud{
		Name:                      "china",
		AuthorityHost:             "https://login.partner.microsoftonline.cn",
		GraphURL:                  "https://microsoftgraph.chinacloudapi.cn",
		GraphResource:             "https://microsoftgraph.chinacloudapi.cn",
		ExchangeDelegatedResource: "https://partner.outlook.cn",
		ExchangeAppResource:       "https://partner.outlook.cn",
		IMAP:                      Endpoint{"partner.outlook.cn", 993, ImplicitTLS},
		POP:                       Endpoint{"partner.outlook.cn", 995, ImplicitTLS},
		SMTP:                      Endpoint{"smtp.partner.outlook.cn", 587, StartTLS},
		EWSURL:                    "https://partner.outlook.cn/EWS/Exchange.asmx",
		PortalURL:                 "https://portal.azure.cn",
		ExchangeEnvironment:       "O365China",
		Unverified:                []string{"exchange token resource", "smtp host"},
	}
}

// Authority is the tenant-specific authority URL MSAL wants:
// https://login.microsoftonline.com/<tenant>.
func (c Cloud) Authority(tenant string) string {
	return strings.TrimRight(c.AuthorityHost, "/") + "/" + tenant
}

// TokenEndpoint is the v2.0 token endpoint for a tenant (or organizations/common).
func (c Cloud) TokenEndpoint(tenant string) string {
	return c.Authority(tenant) + "/oauth2/v2.0/token"
}

// AuthorizeEndpoint is the v2.0 authorization endpoint for a tenant.
func (c Cloud) AuthorizeEndpoint(tenant string) string {
	return c.Authority(tenant) + "/oauth2/v2.0/authorize"
}

// GraphV1 is Graph's v1.0 base URL: https://graph.microsoft.com/v1.0
func (c Cloud) GraphV1() string { return strings.TrimRight(c.GraphURL, "/") + "/v1.0" }

// GraphScope turns a Graph permission into a fully qualified scope:
// GraphScope("Mail.Read") = https://graph.microsoft.com/Mail.Read.
func (c Cloud) GraphScope(permission string) string {
	return strings.TrimRight(c.GraphResource, "/") + "/" + permission
}

// ExchangeAppScope is the only scope app-only Exchange tokens may use.
func (c Cloud) ExchangeAppScope() string {
	return strings.TrimRight(c.ExchangeAppResource, "/") + "/.default"
}

// GraphAppScope is Graph's app-only scope.
func (c Cloud) GraphAppScope() string { return strings.TrimRight(c.GraphResource, "/") + "/.default" }

// ExchangeDelegatedScope qualifies a delegated Exchange permission. EWS uses
// the app resource's host (https://outlook.office365.com/EWS.AccessAsUser.All,
// as Microsoft's EWS sample does); IMAP, POP and SMTP use the delegated one
// (https://outlook.office.com/IMAP.AccessAsUser.All).
func (c Cloud) ExchangeDelegatedScope(permission string) string {
	if permission == "EWS.AccessAsUser.All" {
		return strings.TrimRight(c.ExchangeAppResource, "/") + "/" + permission
	}
	return strings.TrimRight(c.ExchangeDelegatedResource, "/") + "/" + permission
}

// Hosts is every host this cloud's HTTP endpoints live on; the Graph client
// refuses to send a token anywhere else.
func (c Cloud) Hosts() []string {
	seen := map[string]bool{}
	for _, raw := range []string{c.AuthorityHost, c.GraphURL, c.EWSURL} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			seen[u.Hostname()] = true
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// TLSConfig trusts the system roots plus CAFile, or exactly RootCAs when set.
func (c Cloud) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case c.RootCAs != nil:
		cfg.RootCAs = c.RootCAs
	case c.CAFile != "":
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file: %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// HTTPClient is the client every HTTPS call to this cloud uses: proxies from
// the standard environment variables, the cloud's trust roots, a timeout so
// nothing hangs, and the credential rules of transport.go (no credential
// follows a redirect or leaves the cloud's origins). wrap, when not nil,
// wraps the transport (the HTTP trace), above the guard so that a refused
// request is traced too.
func (c Cloud) HTTPClient(wrap func(http.RoundTripper) http.RoundTripper) (*http.Client, error) {
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.OnProxyConnectResponse = proxyConnectResponse
	tr.TLSClientConfig = tlsCfg
	var rt http.RoundTripper = &guard{base: tr, cloud: c, proxy: tr.Proxy}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{Transport: rt, Timeout: 60 * time.Second, CheckRedirect: c.CheckRedirect}, nil
}

// Overrides are the per-endpoint flags; empty fields keep the preset.
type Overrides struct {
	Authority string // --authority
	GraphURL  string // --graph-url
	IMAP      string // --imap host:port
	POP       string // --pop host:port
	SMTP      string // --smtp host:port
	EWSURL    string // --ews-url
	CAFile    string // --ca-file
}

// Apply validates the overrides and returns the cloud with them applied.
// Every error names its flag and the accepted form.
func (c Cloud) Apply(o Overrides) (Cloud, error) {
	if o.Authority != "" {
		u, err := httpsURL("--authority", o.Authority)
		if err != nil {
			return c, err
		}
		c.AuthorityHost = u
	}
	if o.GraphURL != "" {
		u, err := httpsURL("--graph-url", o.GraphURL)
		if err != nil {
			return c, err
		}
		c.GraphURL = strings.TrimSuffix(u, "/v1.0")
	}
	if o.EWSURL != "" {
		u, err := httpsURL("--ews-url", o.EWSURL)
		if err != nil {
			return c, err
		}
		c.EWSURL = u
	}
	for _, ov := range []struct {
		flag string
		val  string
		ep   *Endpoint
	}{{"--imap", o.IMAP, &c.IMAP}, {"--pop", o.POP, &c.POP}, {"--smtp", o.SMTP, &c.SMTP}} {
		if ov.val == "" {
			continue
		}
		host, port, err := ParseHostPort(ov.val)
		if err != nil {
			return c, fmt.Errorf("%s: %v; accepted form: host:port, e.g. outlook.office365.com:993", ov.flag, err)
		}
		ov.ep.Host, ov.ep.Port = host, port
	}
	if o.CAFile != "" {
		if _, err := os.Stat(o.CAFile); err != nil {
			return c, fmt.Errorf("--ca-file: %v; accepted form: a PEM file of CA certificates", err)
		}
		c.CAFile = o.CAFile
	}
	return c, nil
}

// Flags are the command-line flags that select this cloud again, for the
// commands mailoauth prints (resume, delete): none for the global cloud,
// --cloud NAME for a national one, every endpoint for a custom one.
func (c Cloud) Flags() []string {
	switch c.Name {
	case "", "global":
		return nil
	case "custom":
		out := []string{"--cloud", "custom", "--authority", c.AuthorityHost, "--graph-url", c.GraphURL,
			"--imap", c.IMAP.Addr(), "--pop", c.POP.Addr(), "--smtp", c.SMTP.Addr(), "--ews-url", c.EWSURL}
		if c.CAFile != "" {
			out = append(out, "--ca-file", c.CAFile)
		}
		return out
	}
	return []string{"--cloud", c.Name}
}

// ParseHostPort splits host:port and checks the port.
func ParseHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", s)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has no host", s)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port must be 1 to 65535", s)
	}
	return host, port, nil
}

// httpsURL accepts an absolute https URL (http only for loopback labs) and
// returns it without a trailing slash.
func httpsURL(flag, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%s: %q is not an absolute URL; accepted form: https://host[:port][/path]", flag, raw)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("%s: %q uses http; accepted form: https://host[:port][/path] (http only for localhost)", flag, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
