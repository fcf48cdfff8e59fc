package exchange

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testTenant is a test double of the tenant (not of any client): tokens are
// JWTs signed with its own key and verified for real, mailboxes and
// Exchange's app state live in maps. Entra signs with RS256; the double uses
// ES256 because RSA key generation is slow under fuzzing instrumentation,
// and this package never sees the algorithm (Backend.VerifyToken does).
type testTenant struct {
	key    *ecdsa.PrivateKey
	tenant string
	issuer string

	mu          sync.Mutex
	mailboxes   map[string]*Mailbox // by lower-case address
	messages    map[string][]Message
	access      map[string]AppAccess // appID + "|" + mailbox
	userAccess  map[string][2]bool   // upn + "|" + mailbox: FullAccess, SendAs
	smtpOff     bool
	ewsBlocked  map[string]bool
	nextID      int
	deliverFail error
}

const (
	testTenantID = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	testAppID    = "11111111-2222-3333-4444-555555555555"
)

var (
	tenantKeyOnce sync.Once
	tenantKey     *ecdsa.PrivateKey
	otherKey      *ecdsa.PrivateKey
)

func newTestTenant(t testing.TB) *testTenant {
	tenantKeyOnce.Do(func() {
		var err error
		if tenantKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if otherKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	tt := &testTenant{
		key:        tenantKey,
		tenant:     testTenantID,
		issuer:     "https://sts.windows.net/" + testTenantID + "/",
		mailboxes:  map[string]*Mailbox{},
		messages:   map[string][]Message{},
		access:     map[string]AppAccess{},
		userAccess: map[string][2]bool{},
		smtpOff:    true,
		ewsBlocked: map[string]bool{},
	}
	// The seed tenant's mailboxes (architecture.md "The seed tenant").
	tt.addMailbox(Mailbox{Address: "helpdesk@contoso.com", UPN: "helpdesk@contoso.com", UserID: "a1000000-0000-0000-0000-000000000003",
		DisplayName: "Help Desk", Enabled: true, IMAPEnabled: true, POPEnabled: true, EWSEnabled: true, SMTPAuth: SMTPAuthEnabled})
	tt.addMailbox(Mailbox{Address: "mfa.user@contoso.com", UPN: "mfa.user@contoso.com", UserID: "a1000000-0000-0000-0000-000000000004",
		DisplayName: "Morgan Mfa", Enabled: true, IMAPEnabled: true, POPEnabled: true, EWSEnabled: true})
	tt.addMailbox(Mailbox{Address: "unlicensed@contoso.com", UPN: "unlicensed@contoso.com", UserID: "a1000000-0000-0000-0000-000000000005",
		DisplayName: "Uma Unlicensed", Enabled: false})
	tt.addMailbox(Mailbox{Address: "support@contoso.com", UPN: "support@contoso.com", UserID: "a1000000-0000-0000-0000-000000000006",
		DisplayName: "Support", Shared: true, Enabled: true, IMAPEnabled: true, POPEnabled: true, EWSEnabled: true})
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i, subj := range []string{"Printer on 3rd floor", "VPN access", "Password reset"} {
		tt.store("helpdesk@contoso.com", Message{Received: base.Add(time.Duration(i) * time.Hour), From: "user@fabrikam.com",
			To: []string{"helpdesk@contoso.com"}, Subject: subj, Read: i == 0,
			Raw: []byte(fmt.Sprintf("From: Pat User <user@fabrikam.com>\r\nTo: helpdesk@contoso.com\r\nSubject: %s\r\nDate: %s\r\nMessage-Id: <m%d@fabrikam.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello helpdesk,\r\nmessage %d.\r\n.dotted line\r\n", subj, base.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z), i, i))})
	}
	tt.store("support@contoso.com", Message{Received: base, From: "customer@fabrikam.com", To: []string{"support@contoso.com"},
		Subject: "Order 1234", Raw: []byte("From: customer@fabrikam.com\r\nTo: support@contoso.com\r\nSubject: Order 1234\r\n\r\nWhere is it?\r\n")})
	return tt
}

func (tt *testTenant) addMailbox(m Mailbox) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if m.TenantID == "" {
		m.TenantID = tt.tenant
	}
	tt.mailboxes[strings.ToLower(m.Address)] = &m
}

func (tt *testTenant) update(address string, f func(*Mailbox)) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	f(tt.mailboxes[strings.ToLower(address)])
}

func (tt *testTenant) setAccess(appID, mailbox string, a AppAccess) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.access[appID+"|"+strings.ToLower(mailbox)] = a
}

func (tt *testTenant) store(mailbox string, m Message) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.nextID++
	m.ID = fmt.Sprintf("AAMkAG%06d", tt.nextID)
	k := strings.ToLower(mailbox)
	tt.messages[k] = append(tt.messages[k], m)
}

// tokenSpec describes a token the tenant's identity platform would issue.
type tokenSpec struct {
	aud    string
	tid    string
	upn    string // empty: app-only
	oid    string
	scp    string
	roles  []string
	appID  string
	exp    time.Duration // from now; 0 = 1 hour
	badKey bool          // signed with a key the tenant does not own
}

func (tt *testTenant) token(t testing.TB, s tokenSpec) string {
	t.Helper()
	if s.tid == "" {
		s.tid = tt.tenant
	}
	if s.appID == "" {
		s.appID = testAppID
	}
	if s.exp == 0 {
		s.exp = time.Hour
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"aud": s.aud, "iss": tt.issuer, "tid": s.tid, "appid": s.appID, "ver": "1.0",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(s.exp).Unix(),
		"oid": s.oid,
	}
	if s.upn != "" {
		claims["upn"] = s.upn
		claims["scp"] = s.scp
	}
	if len(s.roles) > 0 {
		claims["roles"] = s.roles
	}
	key := tt.key
	if s.badKey {
		key = otherKey
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Backend implementation.

func (tt *testTenant) VerifyToken(raw string) (Claims, error) {
	var mc jwt.MapClaims
	_, err := jwt.ParseWithClaims(raw, &mc, func(*jwt.Token) (any, error) { return &tt.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(tt.issuer), jwt.WithExpirationRequired())
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, errors.New("token is expired")
		}
		return Claims{}, fmt.Errorf("token rejected: %w", err)
	}
	str := func(k string) string { s, _ := mc[k].(string); return s }
	c := Claims{Audience: str("aud"), Version: str("ver"), TenantID: str("tid"), AppID: str("appid"),
		ObjectID: str("oid"), UPN: str("upn")}
	if scp := str("scp"); scp != "" {
		c.Scopes = strings.Fields(scp)
	}
	if roles, ok := mc["roles"].([]any); ok {
		for _, r := range roles {
			if s, ok := r.(string); ok {
				c.Roles = append(c.Roles, s)
			}
		}
	}
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		c.Expiry = exp.Time
	}
	return c, nil
}

func (tt *testTenant) Mailbox(address string) (Mailbox, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	m, ok := tt.mailboxes[strings.ToLower(address)]
	if !ok {
		for _, mb := range tt.mailboxes {
			if strings.EqualFold(mb.UPN, address) {
				m, ok = mb, true
			}
		}
		if !ok {
			return Mailbox{}, false
		}
	}
	out := *m
	out.OrgSMTPAuthDisabled = tt.smtpOff
	return out, true
}

func (tt *testTenant) AppAccess(appID, mailbox string) AppAccess {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.access[appID+"|"+strings.ToLower(mailbox)]
}

func (tt *testTenant) UserAccess(upn, mailbox string) (bool, bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	r := tt.userAccess[strings.ToLower(upn)+"|"+strings.ToLower(mailbox)]
	return r[0], r[1]
}

func (tt *testTenant) setUserAccess(upn, mailbox string, full, sendAs bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.userAccess[strings.ToLower(upn)+"|"+strings.ToLower(mailbox)] = [2]bool{full, sendAs}
}

func (tt *testTenant) KnownTenant(tid string) bool { return strings.EqualFold(tid, tt.tenant) }

func (tt *testTenant) EWSAllowed(tenantID, appID string) bool {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return !tt.ewsBlocked[appID]
}

func (tt *testTenant) Messages(mailbox string) []Message {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return append([]Message(nil), tt.messages[strings.ToLower(mailbox)]...)
}

func (tt *testTenant) Deliver(from string, to []string, raw []byte) error {
	if tt.deliverFail != nil {
		return tt.deliverFail
	}
	for _, rcpt := range to {
		mb, ok := tt.Mailbox(rcpt)
		if !ok || !mb.Enabled {
			continue
		}
		subject := ""
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.ToLower(line), "subject:") {
				subject = strings.TrimSpace(line[len("subject:"):])
				break
			}
		}
		tt.store(mb.Address, Message{Received: time.Now(), From: from, To: to, Subject: subject, Raw: raw})
	}
	return nil
}

func (tt *testTenant) MarkRead(mailbox, id string, read bool) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	msgs := tt.messages[strings.ToLower(mailbox)]
	for i := range msgs {
		if msgs[i].ID == id {
			msgs[i].Read = read
		}
	}
}

var _ Backend = (*testTenant)(nil)

// testCA is a throwaway CA and server certificate for 127.0.0.1.
type testCA struct {
	server *tls.Config
	client *tls.Config
}

var (
	caOnce sync.Once
	ca     testCA
)

func testTLS(t testing.TB) testCA {
	caOnce.Do(func() {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		caCert, _ := x509.ParseCertificate(caDER)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "outlook.office365.com"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(caCert)
		ca.server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
		ca.client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	})
	return ca
}

// testLog collects log lines so tests can check no token leaks into them.
type testLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *testLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// env is one tenant with all front ends running on 127.0.0.1.
type env struct {
	tenant *testTenant
	log    *testLog
	cfg    Config
	ca     testCA
}

const testHost = "SN6PR01CA0001.outlook.office365.com"

func newEnv(t testing.TB) *env {
	e := &env{tenant: newTestTenant(t), log: &testLog{}, ca: testTLS(t)}
	e.cfg = Config{Backend: e.tenant, TLS: e.ca.server, Hostname: testHost, Logf: e.log.logf, Timeout: 10 * time.Second}
	return e
}

type server interface {
	Serve(net.Listener) error
	Close() error
}

// start runs srv on a random 127.0.0.1 port and returns its address.
func start(t testing.TB, srv server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// Standard tokens of the seed tenant.
func (e *env) delegated(t testing.TB, upn, scope string) string {
	return e.tenant.token(t, tokenSpec{aud: "https://outlook.office.com", upn: upn, oid: "a1000000-0000-0000-0000-000000000003", scp: scope})
}

func (e *env) appOnly(t testing.TB, roles ...string) string {
	return e.tenant.token(t, tokenSpec{aud: "https://outlook.office365.com", oid: "b2000000-0000-0000-0000-000000000001", roles: roles})
}

// checkNoToken fails if any log line carries a token.
func (e *env) checkNoToken(t testing.TB, tokens ...string) {
	t.Helper()
	logs := e.log.text()
	for _, tok := range tokens {
		if strings.Contains(logs, tok) || (len(tok) > 40 && strings.Contains(logs, tok[len(tok)-20:])) {
			t.Errorf("a token appears in the log:\n%s", logs)
		}
	}
}
