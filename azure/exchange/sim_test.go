package exchange

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/httptrace"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

// These tests run the real client, MSAL and the simulated tenant's admin
// endpoint over real sockets (127.0.0.1, TLS with the sim's CA).

const (
	admin      = "admin@contoso.onmicrosoft.com"
	exAdmin    = "exadmin@contoso.com"
	cloudAdmin = "cloudadmin@contoso.com"
)

func startSim(t *testing.T) (*sim.Server, cloud.Cloud) {
	t.Helper()
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, simcloud.Must(t, s)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// approveAs answers the device code as upn, as a person would on the page.
func approveAs(t *testing.T, s *sim.Server, upn string) func(signin.DeviceCodePrompt) {
	return func(p signin.DeviceCodePrompt) {
		if err := s.ApproveDeviceCode(p.UserCode, upn); err != nil {
			t.Errorf("approve %s: %v", upn, err)
		}
	}
}

func signInAs(t *testing.T, s *sim.Server, c cloud.Cloud, upn string, hc *http.Client) *Session {
	t.Helper()
	sess, err := SignIn(ctxT(t), signin.Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc, OnDeviceCode: approveAs(t, s, upn)})
	if err != nil {
		t.Fatalf("Exchange sign-in as %s: %v", upn, err)
	}
	return sess
}

func clientFor(t *testing.T, c cloud.Cloud, sess *Session, o Options) *Client {
	t.Helper()
	o.Cloud = c
	cl, err := NewClient(o, sess)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestSignInReadsAndResolvesSecondaryAddress(t *testing.T) {
	s, c := startSim(t)
	sess := signInAs(t, s, c, admin, nil)
	if sess.UPN() != admin || sess.TenantID() != s.Info().TenantID || sess.Method() != signin.MethodDeviceCode {
		t.Fatalf("session %q %q %s", sess.UPN(), sess.TenantID(), sess.Method())
	}
	a := Admin{clientFor(t, c, sess, Options{})}
	ctx := ctxT(t)
	mb, err := a.Mailbox(ctx, "support-desk@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if mb.PrimarySmtpAddress != "helpdesk@contoso.com" || mb.RecipientTypeDetails != "UserMailbox" {
		t.Errorf("secondary address resolved to %+v", mb)
	}
	shared, err := a.Mailbox(ctx, "support@contoso.com")
	if err != nil || !shared.Shared() {
		t.Errorf("support@ %+v %v", shared, err)
	}
	_, err = a.Mailbox(ctx, "nobody@contoso.com")
	var e *Error
	if !Is(err, NotFound) || !errorsAs(err, &e) || e.Status != 404 || !strings.Contains(e.Message, "nobody@contoso.com") {
		t.Errorf("unknown address: %v", err)
	}
	cas, err := a.CASMailbox(ctx, "helpdesk@contoso.com")
	if err != nil || !cas.ImapEnabled.Is(true) || !cas.SmtpClientAuthenticationDisabled.Is(false) {
		t.Errorf("helpdesk CAS %+v %v", cas, err)
	}
	tc, err := a.TransportConfig(ctx)
	if err != nil || !tc.SmtpClientAuthenticationDisabled.Is(true) {
		t.Errorf("transport %+v %v", tc, err)
	}
	oc, err := a.OrganizationConfig(ctx)
	if err != nil || !oc.EwsEnabled.Is(true) || !oc.EwsAllowedAppIDs.Has(sim.SeedEWSAppID) {
		t.Errorf("organization config %+v %v", oc, err)
	}
}

func errorsAs(err error, e **Error) bool {
	for err != nil {
		if x, ok := err.(*Error); ok {
			*e = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestBothErrorShapes: the sim writes details[0].message as a JSON
// exception by default and in the pipe form with a quirk; both parse.
func TestBothErrorShapesAndAllowListForms(t *testing.T) {
	s, c := startSim(t)
	a := Admin{clientFor(t, c, signInAs(t, s, c, admin, nil), Options{})}
	ctx := ctxT(t)
	for _, q := range []sim.ExchangeAdminQuirks{{}, {PipeErrorDetails: true, AllowListAsArray: true}} {
		s.SetExchangeAdminQuirks(q)
		_, err := a.Mailbox(ctx, "nobody@contoso.com")
		var e *Error
		if !errorsAs(err, &e) || e.Kind != NotFound || !strings.HasSuffix(e.Type, "ManagementObjectNotFoundException") || !strings.Contains(e.Message, "couldn't be found") {
			t.Errorf("quirks %+v: %+v", q, e)
		}
		oc, err := a.OrganizationConfig(ctx)
		if err != nil || len(oc.EwsAllowedAppIDs) != 1 || !oc.EwsAllowedAppIDs.Has(sim.SeedEWSAppID) {
			t.Errorf("quirks %+v: allow-list %v %v", q, oc, err)
		}
	}
}

// TestPaging reads every mailbox one per page: each @odata.nextLink is
// POSTed with the same body, and the list equals the unpaged one.
func TestPaging(t *testing.T) {
	s, c := startSim(t)
	sess := signInAs(t, s, c, admin, nil)
	whole, err := Admin{clientFor(t, c, sess, Options{})}.Mailboxes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	paged, err := Admin{clientFor(t, c, sess, Options{PageSize: 1})}.Mailboxes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) < 3 || len(paged) != len(whole) {
		t.Fatalf("paged %d mailboxes, whole %d", len(paged), len(whole))
	}
	for i := range whole {
		if paged[i].PrimarySmtpAddress != whole[i].PrimarySmtpAddress {
			t.Errorf("page order %d: %s vs %s", i, paged[i].PrimarySmtpAddress, whole[i].PrimarySmtpAddress)
		}
	}
	posts := 0
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, "/adminapi/beta/") && r.Method == http.MethodPost {
			posts++
		}
	}
	if posts != len(whole) {
		t.Errorf("%d POSTs for %d one-object pages", posts, len(whole))
	}
	// A capped client refuses a partial list.
	_, err = Admin{clientFor(t, c, sess, Options{PageSize: 1, MaxPages: 2})}.Mailboxes(ctxT(t))
	if !Is(err, Unknown) || !strings.Contains(err.Error(), "more than 2 pages") {
		t.Errorf("page cap: %v", err)
	}
}

// TestThrottlingWaitsRetryAfter: two 429s with Retry-After 1 s are waited
// out with countdown events, then the read succeeds.
func TestThrottlingWaitsRetryAfter(t *testing.T) {
	s, c := startSim(t)
	var mu sync.Mutex
	var waits []model.Event
	cl := clientFor(t, c, signInAs(t, s, c, admin, nil), Options{OnWait: func(e model.Event) { mu.Lock(); waits = append(waits, e); mu.Unlock() }})
	s.ThrottleExchangeAdmin(2, time.Second)
	start := time.Now()
	if _, err := (Admin{cl}).TransportConfig(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("two Retry-After: 1 waited only %s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 2 || waits[0].Code != "429" || waits[0].Wait <= 0 || waits[1].Attempt != 3 || !strings.Contains(waits[0].String(), "throttling") {
		t.Errorf("waits %+v", waits)
	}
}

// TestNoExchangeRole: the Cloud Application Administrator signs in fine
// but has no Exchange role: AccessDenied, explained, naming the user.
func TestNoExchangeRole(t *testing.T) {
	s, c := startSim(t)
	a := Admin{clientFor(t, c, signInAs(t, s, c, cloudAdmin, nil), Options{})}
	_, err := a.ServicePrincipals(ctxT(t), "00000000-0000-0000-0000-000000000001")
	var e *Error
	if !errorsAs(err, &e) || e.Kind != AccessDenied || e.Status != 403 {
		t.Fatalf("no role: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{cloudAdmin, "Exchange Administrator", "Global Administrator", "Organization Management", "Privileged Role Administrator"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// TestExchangeAdministratorOnly: a user with only the Exchange
// Administrator role may run the writes the setup needs.
func TestExchangeAdministratorOnly(t *testing.T) {
	s, c := startSim(t)
	cl := clientFor(t, c, signInAs(t, s, c, exAdmin, nil), Options{})
	ctx := ctxT(t)
	app := "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	sp := "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
	if _, _, err := NewServicePrincipal(app, sp, "Test app").Run(ctx, cl); err != nil {
		t.Fatal(err)
	}
	sps, err := Admin{cl}.ServicePrincipals(ctx, app)
	if err != nil || len(sps) != 1 || sps[0].ObjectID != sp {
		t.Fatalf("registrations %+v %v", sps, err)
	}
	_, _, err = NewServicePrincipal(app, sp, "Test app").Run(ctx, cl)
	if !Is(err, AlreadyExists) {
		t.Errorf("duplicate registration: %v", err)
	}
	_, warns, err := RemoveMailboxPermission("helpdesk@contoso.com", sp).Run(ctx, cl)
	if err != nil || len(warns) == 0 || !strings.Contains(warns[0], "doesn't exist") {
		t.Errorf("removing an absent ACE: %v %v", warns, err)
	}
}

// TestWrongClientSignIn: the Exchange resource asked for with another
// first-party client (Graph's) is refused by the identity platform
// (AADSTS65002): only the module's client is preauthorized. An app-only
// token of another app reaching the admin endpoint is tested in
// azure/exchangesetup (TestRefusals).
func TestWrongClientSignIn(t *testing.T) {
	s, c := startSim(t)
	_, err := signin.SignIn(ctxT(t), signin.Options{Cloud: c, Tenant: s.Info().TenantID, ClientID: signin.DefaultClientID, Scopes: []string{Scope(c)}, OnDeviceCode: approveAs(t, s, admin)})
	if err == nil || !strings.Contains(err.Error(), "AADSTS65002") {
		t.Fatalf("Graph's client for the Exchange resource: %v", err)
	}
}

// TestGraphTokenAndFreshRetry: a Graph token gets a 401 naming the
// audience; the client asks once for a fresh token, and a fresh good one
// succeeds.
func TestGraphTokenAndFreshRetry(t *testing.T) {
	s, c := startSim(t)
	graph, err := signin.SignIn(ctxT(t), signin.Options{Cloud: c, Tenant: s.Info().TenantID, Scopes: signin.Scopes(c, signin.Needs{}), OnDeviceCode: approveAs(t, s, admin)})
	if err != nil {
		t.Fatal(err)
	}
	exo := signInAs(t, s, c, admin, nil)
	var mu sync.Mutex
	var calls []bool
	tokens := func(good bool) TokenFunc {
		return func(ctx context.Context, fresh bool) (string, error) {
			mu.Lock()
			calls = append(calls, fresh)
			mu.Unlock()
			if good && fresh {
				return exo.Token(ctx, fresh)
			}
			return graph.Token(ctx)
		}
	}
	cl, _ := New(Options{Cloud: c, Token: tokens(false), Anchor: admin})
	_, err = Admin{cl}.TransportConfig(ctxT(t))
	var e *Error
	if !errorsAs(err, &e) || e.Kind != Unauthorized || e.Status != 401 || !strings.Contains(e.Token, "graph.microsoft.com") {
		t.Fatalf("graph token: %v", err)
	}
	if len(calls) != 2 || calls[0] || !calls[1] {
		t.Errorf("token calls (fresh?) %v, want [false true]", calls)
	}
	calls = nil
	cl, _ = New(Options{Cloud: c, Token: tokens(true), Anchor: admin})
	if _, err := (Admin{cl}).TransportConfig(ctxT(t)); err != nil {
		t.Fatalf("after a fresh token: %v", err)
	}
	if len(calls) != 2 || !calls[1] {
		t.Errorf("token calls %v", calls)
	}
}

// TestTraceRedactsTokens: --debug-http traces the Exchange calls with the
// Authorization header and every token replaced.
func TestTraceRedactsTokens(t *testing.T) {
	s, c := startSim(t)
	var buf bytes.Buffer
	tr := httptrace.New(&buf)
	hc, err := c.HTTPClient(tr.Wrap)
	if err != nil {
		t.Fatal(err)
	}
	sess := signInAs(t, s, c, admin, hc)
	cl := clientFor(t, c, sess, Options{HTTPClient: hc})
	if _, err := (Admin{cl}).Mailbox(ctxT(t), "helpdesk@contoso.com"); err != nil {
		t.Fatal(err)
	}
	tok, _ := sess.Token(ctxT(t), false)
	trace := buf.String()
	if strings.Contains(trace, tok) || strings.Contains(trace, tok[len(tok)-20:]) {
		t.Fatal("the Exchange token is in the trace")
	}
	found := false
	sc := bufio.NewScanner(strings.NewReader(trace))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var e httptrace.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.URL, "/adminapi/beta/") {
			continue
		}
		found = true
		if e.RequestHeaders["Authorization"] != httptrace.Redacted {
			t.Errorf("Authorization header traced as %q", e.RequestHeaders["Authorization"])
		}
		if e.RequestHeaders["X-Cmdletname"] != "Get-Mailbox" && e.RequestHeaders["X-CmdletName"] != "Get-Mailbox" {
			t.Errorf("cmdlet header missing: %v", e.RequestHeaders)
		}
		if !strings.Contains(e.RequestHeaders["X-Anchormailbox"]+e.RequestHeaders["X-AnchorMailbox"], "UPN:"+admin) {
			t.Errorf("anchor header: %v", e.RequestHeaders)
		}
		b, _ := json.Marshal(e.RequestBody)
		if !strings.Contains(string(b), `"CmdletName":"Get-Mailbox"`) {
			t.Errorf("request body %s", b)
		}
	}
	if !found {
		t.Fatal("no admin API call in the trace")
	}
}

// TestNextLinkOffHostRefused: a nextLink to another host is not followed
// (the token would go there).
func TestNextLinkOffHostRefused(t *testing.T) {
	cl, err := New(Options{Cloud: cloud.Global(), Token: func(context.Context, bool) (string, error) { return "x", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.checkNext("Get-Mailbox", "https://evil.example/adminapi/beta/x/InvokeCommand?$skiptoken=1"); err == nil {
		t.Error("off-host nextLink accepted")
	}
	if _, err := cl.checkNext("Get-Mailbox", "https://outlook.office365.com/adminapi/beta/x/InvokeCommand?$skiptoken=1"); err != nil {
		t.Error(err)
	}
}
