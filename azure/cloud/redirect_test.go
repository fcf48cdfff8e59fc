package cloud_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

const (
	testSecret   = "Redirect-Test-Secret~0123456789abcdef"
	testClientID = "5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f"
	mailboxUser  = "helpdesk@contoso.com"
	mailboxPass  = "Demo-Mail-2026!"
)

// recorder is the "other host": a TLS listener on 127.0.0.1 that counts
// every connection and keeps every request body it receives.
type recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	conns int
	body  []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.body = append(r.body, req.Method+" "+req.URL.Path+" "+string(b))
		r.mu.Unlock()
		w.WriteHeader(400)
	}))
	r.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			r.mu.Lock()
			r.conns++
			r.mu.Unlock()
		}
	}
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) seen() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns, append([]string(nil), r.body...)
}

// redirectingSim is the simulated tenant whose token endpoint answers 307 to
// the recorder, and a cloud for it that trusts both (so that a request that
// followed the redirect would really reach the recorder).
func redirectingSim(t *testing.T) (*sim.Server, cloud.Cloud, *recorder, *x509.CertPool) {
	t.Helper()
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec := newRecorder(t)
	s.RedirectTokenEndpoint(rec.srv.URL)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	pool.AddCert(rec.srv.Certificate())
	c := simcloud.Must(t, s)
	c.RootCAs = pool
	return s, c, rec, pool
}

// TestRedirectKnobLeaksWithoutTheGuard is the control: a client with
// net/http's default redirect policy, trusting the same roots, re-posts the
// secret to the other listener. It proves the knob and the recorder work,
// so the tests below cannot pass for want of a reachable target.
func TestRedirectKnobLeaksWithoutTheGuard(t *testing.T) {
	_, c, rec, pool := redirectingSim(t)
	tlsCfg, _ := c.TLSConfig()
	tlsCfg.RootCAs = pool
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := plain.PostForm(c.TokenEndpoint(sim.TenantID), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, bodies := rec.seen(); len(bodies) != 1 || !strings.Contains(bodies[0], testSecret) {
		t.Fatalf("control: the other host got %q; want the re-posted secret", bodies)
	}
}

func assertRedirectRefused(t *testing.T, err error, rec *recorder, credential string) {
	t.Helper()
	t.Logf("refused: %v", err)
	var re *cloud.RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T): want a *cloud.RedirectError", err, err)
	}
	host := strings.TrimPrefix(rec.srv.URL, "https://")
	want := "the token endpoint answered with a redirect to " + host + "; mailoauth never sends credentials to another host"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), credential) {
		t.Errorf("error %q\nwant it to contain %q and %q", err, want, credential)
	}
	if conns, bodies := rec.seen(); conns != 0 || len(bodies) != 0 {
		t.Fatalf("the other host received %d connections, %q", conns, bodies)
	}
}

// TestMSALClientCredentialsNeverFollowRedirect: MSAL's confidential client
// on the cloud's HTTP client posts the secret once, to the token endpoint,
// and stops at the 307.
func TestMSALClientCredentialsNeverFollowRedirect(t *testing.T) {
	_, c, rec, _ := redirectingSim(t)
	hc, err := c.HTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := confidential.NewCredFromSecret(testSecret)
	cc, err := confidential.New(c.Authority(sim.TenantID), testClientID, cred, confidential.WithHTTPClient(hc), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = cc.AcquireTokenByCredential(ctx, []string{c.GraphAppScope()})
	assertRedirectRefused(t, err, rec, "the client secret")
}

// TestMSALROPCNeverFollowsRedirect: MSAL's public client ROPC (the mailbox
// password) stops at the 307 too.
func TestMSALROPCNeverFollowsRedirect(t *testing.T) {
	_, c, rec, _ := redirectingSim(t)
	hc, err := c.HTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := public.New(testClientID, public.WithAuthority(c.Authority(sim.TenantID)), public.WithHTTPClient(hc), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	//lint:ignore SA1019 ROPC is what the products use; the test proves the password stays put
	_, err = pc.AcquireTokenByUsernamePassword(ctx, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailboxUser, mailboxPass)
	assertRedirectRefused(t, err, rec, "the password")
}

// TestProductStyleTokenRequestsNeverFollowRedirect: the login test's own
// token requests (azure/token: client credentials through MSAL, ROPC with
// a client secret posted by hand) inherit the rule from the cloud's client.
func TestProductStyleTokenRequestsNeverFollowRedirect(t *testing.T) {
	_, c, rec, _ := redirectingSim(t)
	a := token.Acquirer{Cloud: c, TenantID: sim.TenantID, ClientID: testClientID, Secret: testSecret, Retry: token.Retry{Budget: -1}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := a.ClientCredentials(ctx, catalog.TokenRequest{Scopes: []string{c.ExchangeAppScope()}})
	assertRedirectRefused(t, err, rec, "the client secret")
	_, err = a.Password(ctx, catalog.TokenRequest{Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}}, mailboxUser, mailboxPass)
	assertRedirectRefused(t, err, rec, "the client secret and the password")
}
