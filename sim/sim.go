// Package sim is a simulated Microsoft 365 tenant: Entra ID's identity
// platform, a Microsoft Graph v1.0 subset, a device-login page and Exchange
// Online's admin state, all on 127.0.0.1 with TLS from a CA made at start.
// Exchange's protocol front ends live in sim/exchange and reach the tenant
// through Backend.
//
// The package is an independent model of Microsoft written from
// /work/shared/reference/microsoft.md; it imports nothing of the tool, so the
// tool cannot pass its tests by agreeing with itself.
package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator.
type Options struct {
	AutoApprove string                           // UPN: approve every device-code and browser sign-in as this user
	Delays      Delays                           // replication delays; zero = none
	Latency     time.Duration                    // added to every HTTP request (benchmarks)
	Logf        func(format string, args ...any) // nil = silent; never logs secrets or tokens
	CACertFile  string                           // where the CA PEM is written; "" = a file in a temp dir
	// Demo marks a sim started for the demo: the sign-in pages list the
	// seeded accounts with their passwords (never otherwise).
	Demo bool
}

// Delays are replication delays: for this long after an object is made,
// the parts of the service named below do not see it yet.
type Delays struct {
	AppToServicePrincipal   time.Duration // POST /servicePrincipals for a new app: 400 Request_BadRequest / NoBackingApplicationObject
	ServicePrincipalToGrant time.Duration // a new SP named in grants/appRoleAssignedTo: 404 Request_ResourceNotFound
	SecretToToken           time.Duration // token endpoint: AADSTS7000215 for a new secret
	AppToToken              time.Duration // token endpoint: AADSTS700016 for a new app
	Consent                 time.Duration // a new grant / app role assignment: delegated AADSTS65001, app-only tokens without the role
	MailboxPermission       time.Duration // FullAccess/SendAs take effect this long after Add-MailboxPermission/Add-RecipientPermission
}

// DemoDelays are a few seconds each, so the demo looks like the real thing.
func DemoDelays() Delays {
	return Delays{
		AppToServicePrincipal:   3 * time.Second,
		ServicePrincipalToGrant: 2 * time.Second,
		SecretToToken:           4 * time.Second,
		AppToToken:              3 * time.Second,
		Consent:                 3 * time.Second,
		MailboxPermission:       3 * time.Second,
	}
}

// DefaultDeviceCodeLifetime is Entra's device code lifetime (expires_in 900).
const DefaultDeviceCodeLifetime = 15 * time.Minute

// deviceCodeInterval is the polling interval announced to clients.
const deviceCodeInterval = 5

// Info describes a running simulator; it is also the JSON of
// `mailoauth sim --info FILE`.
type Info struct {
	TenantID       string     `json:"tenant_id"`
	TenantName     string     `json:"tenant_name"`
	Domains        []string   `json:"domains"`
	AuthorityHost  string     `json:"authority_host"`
	Authority      string     `json:"authority"`
	GraphURL       string     `json:"graph_url"`
	IMAP           string     `json:"imap"`
	POP            string     `json:"pop"`
	SMTP           string     `json:"smtp"`
	EWSURL         string     `json:"ews_url"`
	ExchangeURL    string     `json:"exchange_url"`
	DeviceLoginURL string     `json:"device_login_url"`
	CACertFile     string     `json:"ca_cert_file"`
	Users          []UserInfo `json:"users"`
	// OtherTenants are the further tenants (a second customer for
	// multi-tenant consent); the services above serve them too.
	OtherTenants []TenantInfo `json:"other_tenants"`
}

// TenantInfo is a further tenant as Info shows it.
type TenantInfo struct {
	TenantID   string     `json:"tenant_id"`
	TenantName string     `json:"tenant_name"`
	Domains    []string   `json:"domains"`
	Authority  string     `json:"authority"`
	Users      []UserInfo `json:"users"`
}

// UserInfo is one seeded user as Info shows it (passwords: demo only).
type UserInfo struct {
	UPN           string   `json:"upn"`
	DisplayName   string   `json:"display_name"`
	Password      string   `json:"password"`
	Roles         []string `json:"roles"`
	Licence       string   `json:"licence"`
	MFA           bool     `json:"mfa"`
	SharedMailbox bool     `json:"shared_mailbox"`
	Mailbox       bool     `json:"mailbox"`
}

// Request is one HTTP request the simulator answered.
type Request struct {
	Time    time.Time
	Service string // "login" | "graph" | "ews"
	Method  string
	Path    string
	Status  int
}

// PendingDeviceCode is a device-code sign-in waiting for the user.
type PendingDeviceCode struct {
	UserCode  string
	ClientID  string
	Scopes    []string
	ExpiresAt time.Time
}

// Server is a running simulated tenant.
type Server struct {
	opts    Options
	ca      *authority
	signKey *rsa.PrivateKey
	kid     string
	started time.Time

	mu      sync.Mutex
	tenants []*tenant                // the seed tenant first (tenant.go)
	apps    map[string]*application  // by object id, every tenant's
	devices map[string]*deviceCode   // by device_code
	codes   map[string]*authCode     // by code
	refresh map[string]*refreshGrant // by refresh token

	delays             Delays
	throttleN          int
	throttleRetry      time.Duration
	failN              int
	failStatus         int
	maxSecretLifetime  time.Duration
	secretPolicyID     string
	deviceCodeLifetime time.Duration
	pageSize           int // Graph directory page size; 0 = DefaultGraphPageSize
	// deviceCodeBlocked models a Conditional Access policy that blocks the
	// device code flow (Authentication flows → Device code flow).
	deviceCodeBlocked bool

	// The Exchange admin API's shared state (exo_rest.go); each tenant's
	// Exchange organization is in tenant.exo.
	exoPages         exoPager // admin API result pages (@odata.nextLink)
	exoThrottleN     int
	exoThrottleRetry time.Duration
	exoQuirks        ExchangeAdminQuirks

	reqMu    sync.Mutex
	requests []Request

	loginURL, graphURL, ewsURL  string
	imapAddr, popAddr, smtpAddr string
	caFile                      string
	tempDir                     string

	mailOnce    sync.Once
	mailHandler http.Handler

	httpServers []*http.Server
	closers     []func() error
	closeOnce   sync.Once
}

// Start builds the seed tenant and starts every service on 127.0.0.1 with
// random ports.
func Start(opts Options) (*Server, error) {
	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sim token signing key: %w", err)
	}
	s := &Server{
		opts: opts, ca: ca, signKey: key, kid: opaqueID()[:27], started: time.Now(),
		apps:    map[string]*application{},
		devices: map[string]*deviceCode{}, codes: map[string]*authCode{}, refresh: map[string]*refreshGrant{},
		delays: opts.Delays, deviceCodeLifetime: DefaultDeviceCodeLifetime,
	}
	s.seed()
	if u, _ := s.userAnywhere(opts.AutoApprove); opts.AutoApprove != "" && u == nil {
		return nil, fmt.Errorf("sim: AutoApprove %q is not a user of the seed tenant (e.g. admin@%s)", opts.AutoApprove, InitialDomain)
	}
	if err := s.writeCA(); err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) writeCA() error {
	path := s.opts.CACertFile
	if path == "" {
		dir, err := os.MkdirTemp("", "mailoauth-sim-")
		if err != nil {
			return fmt.Errorf("sim: temp folder for the CA certificate: %w", err)
		}
		s.tempDir = dir
		path = filepath.Join(dir, "sim-ca.pem")
	}
	// A CA certificate is public; 0644 lets other tools read it.
	if err := os.WriteFile(path, s.ca.certPEM, 0o644); err != nil {
		return fmt.Errorf("sim: writing the CA certificate to %s: %w", path, err)
	}
	s.caFile = path
	return nil
}

func listenLocal() (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:0")
}

// listen opens the HTTP services, then Exchange's protocol servers.
func (s *Server) listen() error {
	type svc struct {
		name string
		h    http.Handler
		url  *string
	}
	services := []svc{
		{"login", s.loginHandler(), &s.loginURL},
		{"graph", s.graphHandler(), &s.graphURL},
		{"ews", s.ewsHandler(), &s.ewsURL},
	}
	for _, v := range services {
		ln, err := listenLocal()
		if err != nil {
			return fmt.Errorf("sim: listening for %s: %w", v.name, err)
		}
		*v.url = "https://" + ln.Addr().String()
		hs := &http.Server{
			Handler:           s.middleware(v.name, v.h),
			ReadHeaderTimeout: 10 * time.Second,
			// TLS handshake noise goes to Logf, not stderr (no secrets in it).
			ErrorLog: log.New(logWriter{s}, "sim "+v.name+": ", 0),
		}
		s.httpServers = append(s.httpServers, hs)
		// Close the socket ourselves too: Serve may not have started yet.
		s.closers = append(s.closers, ln.Close)
		tl := tls.NewListener(ln, s.ca.serverTLS())
		go func() { _ = hs.Serve(tl) }()
	}
	s.ewsURL += "/EWS/Exchange.asmx"
	return s.startExchange()
}

// Close stops every service and removes temporary files.
func (s *Server) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for _, hs := range s.httpServers {
			if err := hs.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		for _, c := range s.closers {
			if err := c(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		if s.tempDir != "" {
			if err := os.RemoveAll(s.tempDir); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// Info describes the running simulator.
func (s *Server) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := Info{
		TenantID: TenantID, TenantName: TenantName, Domains: []string{InitialDomain, DefaultDomain},
		AuthorityHost: s.loginURL, Authority: s.loginURL + "/" + TenantID, GraphURL: s.graphURL,
		IMAP: s.imapAddr, POP: s.popAddr, SMTP: s.smtpAddr, EWSURL: s.ewsURL, ExchangeURL: strings.TrimSuffix(s.ewsURL, "/EWS/Exchange.asmx"),
		DeviceLoginURL: s.loginURL + "/devicelogin", CACertFile: s.caFile,
	}
	info.Users = usersInfo(s.tenants[0].users)
	for _, t := range s.tenants[1:] {
		info.OtherTenants = append(info.OtherTenants, TenantInfo{TenantID: t.ID, TenantName: t.Name, Domains: []string{t.InitialDomain, t.DefaultDomain},
			Authority: s.loginURL + "/" + t.ID, Users: usersInfo(t.users)})
	}
	return info
}

func usersInfo(users []*user) []UserInfo {
	var out []UserInfo
	for _, u := range users {
		ui := UserInfo{UPN: u.UPN, DisplayName: u.DisplayName, Password: u.Password, Roles: []string{},
			Licence: licenceName(u), MFA: u.MFA, SharedMailbox: u.Shared, Mailbox: u.HasMailbox}
		for _, r := range u.RoleIDs {
			ui.Roles = append(ui.Roles, roleNames[r])
		}
		out = append(out, ui)
	}
	return out
}

func licenceName(u *user) string {
	for _, p := range u.Plans {
		switch p.ServicePlanName {
		case "EXCHANGE_S_ENTERPRISE":
			return "Microsoft 365 E3 (EXCHANGE_S_ENTERPRISE)"
		case "EXCHANGE_S_STANDARD":
			return "Exchange Online (Plan 1) (EXCHANGE_S_STANDARD)"
		}
	}
	if len(u.Plans) > 0 {
		return "none (only EXCHANGE_S_FOUNDATION)"
	}
	return "none"
}

// CertPool holds the simulator's CA.
func (s *Server) CertPool() *x509.CertPool { return s.ca.pool }

// CACertPEM is the CA certificate in PEM.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.ca.certPEM...) }

// HTTPClient is a new HTTP client that trusts the simulator's CA (and only
// it); redirects are followed as net/http does.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: s.ca.pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 16,
		},
	}
}

// TLSConfig is a client TLS configuration trusting the simulator's CA, for
// IMAP, POP3 and SMTP clients.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.ca.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// logWriter adapts Logf for http.Server's ErrorLog.
type logWriter struct{ s *Server }

func (l logWriter) Write(p []byte) (int, error) {
	l.s.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ---- knobs ----

// SetDelays replaces the replication delays.
func (s *Server) SetDelays(d Delays) {
	s.mu.Lock()
	s.delays = d
	s.mu.Unlock()
}

// Throttle makes the next n Graph requests answer 429 with Retry-After.
func (s *Server) Throttle(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.throttleN, s.throttleRetry = n, retryAfter
	s.mu.Unlock()
}

// FailNext makes the next n Graph requests answer status (503 or 504).
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	s.failN, s.failStatus = n, status
	s.mu.Unlock()
}

// ExpireSecrets puts every secret of the app past its endDateTime.
func (s *Server) ExpireSecrets(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for _, a := range s.apps {
		if strings.EqualFold(a.AppID, appID) {
			for i := range a.PasswordCredentials {
				a.PasswordCredentials[i].EndDateTime = past
				if a.PasswordCredentials[i].StartDateTime.After(past) {
					a.PasswordCredentials[i].StartDateTime = past.Add(-time.Hour)
				}
			}
		}
	}
}

// SetMFARequired turns MFA on or off for a user (ROPC then gets
// AADSTS50076). An unknown user is ignored (and logged).
func (s *Server) SetMFARequired(upn string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, _ := s.userAnywhere(upn)
	if u == nil {
		s.logf("sim: SetMFARequired: no user %q in the tenants", upn)
		return
	}
	u.MFA = on
}

// SetDeviceCodeBlocked turns on a Conditional Access policy that blocks the
// device code flow: approved device codes are refused with AADSTS53003.
func (s *Server) SetDeviceCodeBlocked(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceCodeBlocked = on
}

// SetMaxSecretLifetime applies a tenant app-management policy: addPassword
// with an endDateTime further than d from now is refused. 0 = no policy.
func (s *Server) SetMaxSecretLifetime(d time.Duration) {
	s.mu.Lock()
	s.maxSecretLifetime = d
	s.secretPolicyID = seedID("policy/tenantAppManagementPolicy")
	s.mu.Unlock()
}

// SetDeviceCodeLifetime changes how long new device codes live (default 900 s).
func (s *Server) SetDeviceCodeLifetime(d time.Duration) {
	s.mu.Lock()
	s.deviceCodeLifetime = d
	s.mu.Unlock()
}

// ---- observation ----

// Requests returns the HTTP requests answered so far.
func (s *Server) Requests() []Request {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the request log.
func (s *Server) ResetRequests() {
	s.reqMu.Lock()
	s.requests = nil
	s.reqMu.Unlock()
}

// maxRequests bounds the request log of a long-running simulator: past it,
// the older half is dropped.
const maxRequests = 100_000

func (s *Server) record(r Request) {
	s.reqMu.Lock()
	if len(s.requests) >= maxRequests {
		s.requests = append(s.requests[:0:0], s.requests[maxRequests/2:]...)
	}
	s.requests = append(s.requests, r)
	s.reqMu.Unlock()
}

// ---- lookups (caller holds s.mu) ----

func (s *view) userByName(name string) *user {
	name = strings.TrimSpace(name)
	for _, u := range s.users {
		if strings.EqualFold(u.UPN, name) || strings.EqualFold(u.ID, name) {
			return u
		}
	}
	return nil
}

func (s *view) userByID(id string) *user {
	for _, u := range s.users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	return nil
}

func (s *Server) appByAppID(appID string) *application {
	for _, a := range s.apps {
		if !a.deleted && strings.EqualFold(a.AppID, appID) {
			return a
		}
	}
	return nil
}

func (s *view) spByAppID(appID string) *servicePrincipal {
	for _, sp := range s.sps {
		if strings.EqualFold(sp.AppID, appID) {
			return sp
		}
	}
	return nil
}

func (s *view) hasRole(u *user, roles ...string) bool {
	for _, have := range u.RoleIDs {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
