package graphapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

const admin = "admin@contoso.onmicrosoft.com"

type env struct {
	s      *sim.Server
	c      cloud.Cloud
	g      *Client
	mu     sync.Mutex
	events []Event
}

func (e *env) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.events...)
}

func newEnv(t *testing.T, bound time.Duration) *env {
	t.Helper()
	s, err := sim.Start(sim.Options{AutoApprove: admin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	info := s.Info()
	c := simcloud.Must(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := signin.SignIn(ctx, signin.Options{Cloud: c, Tenant: info.TenantID, Scopes: signin.Scopes(c, signin.Needs{ReadUsers: true}), OnDeviceCode: func(signin.DeviceCodePrompt) {}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{s: s, c: c}
	g, err := New(c, sess.Token, nil, Options{RetryBound: bound, OnEvent: func(ev Event) {
		e.mu.Lock()
		e.events = append(e.events, ev)
		e.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	return e
}

func TestCallReadsThroughSDKAdapter(t *testing.T) {
	e := newEnv(t, time.Minute)
	var org struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/organization" + Query("$select", "id,verifiedDomains")}, &org); err != nil {
		t.Fatal(err)
	}
	if len(org.Value) != 1 || org.Value[0].ID != e.s.Info().TenantID {
		t.Fatalf("organization = %+v", org)
	}
	var me struct {
		UPN string `json:"userPrincipalName"`
	}
	// /me goes through msgraph-sdk-go-core's URL-replace middleware too.
	if err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/me"}, &me); err != nil {
		t.Fatal(err)
	}
	if me.UPN != admin {
		t.Errorf("me = %q", me.UPN)
	}
}

// TestErrorReadThroughODataModel reads a 404 through msgraph-sdk-go's
// odataerrors model, nil-safely.
func TestErrorReadThroughODataModel(t *testing.T) {
	e := newEnv(t, time.Minute)
	err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/applications/00000000-0000-0000-0000-00000000dead"}, nil)
	ge, ok := GraphError(err)
	if !ok || ge.Status != 404 || ge.Code != "Request_ResourceNotFound" || ge.Message == "" || ge.RequestID == "" {
		t.Fatalf("GraphError(%v) = %+v, %v", err, ge, ok)
	}
	// An ODataError without a body must not panic (ODataError.Error() would).
	empty := odataerrors.NewODataError()
	empty.ResponseStatusCode = 502
	ge, ok = GraphError(empty)
	if !ok || ge.Status != 502 || ge.Code != http.StatusText(502) {
		t.Errorf("empty ODataError = %+v %v", ge, ok)
	}
	// What the model cannot read keeps the status (a proxy's HTML page).
	if ge := errorFromBody(502, []byte("<html>Bad gateway</html>")); ge.Status != 502 || ge.Code != http.StatusText(502) {
		t.Errorf("HTML body = %+v", ge)
	}
	// Graph's zone-less innerError.date is kept as sent; details[0].code is read.
	body := `{"error":{"code":"Request_BadRequest","message":"m","details":[{"code":"NoBackingApplicationObject","message":"x"}],"innerError":{"date":"2026-12-02T06:00:00","request-id":"r1"}}}`
	if ge := errorFromBody(400, []byte(body)); ge.Code != "Request_BadRequest" || ge.DetailCode != "NoBackingApplicationObject" || ge.Date != "2026-12-02T06:00:00" || ge.RequestID != "r1" {
		t.Errorf("detail body = %+v", ge)
	}
}

// TestRetryThrottleAndFailures: 429 with Retry-After and 503s are waited
// out within the bound, with progress events; msgraph's own retry is off, so
// every attempt is visible in the simulator's log.
func TestRetryThrottleAndFailures(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.s.ResetRequests()
	e.s.Throttle(2, time.Second)
	start := time.Now()
	if err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/organization", Action: "Reading the tenant"}, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("Retry-After not honoured: took %s", d)
	}
	if n := countGraph(e.s); n != 3 {
		t.Errorf("graph requests = %d, want 3 (2 throttled + 1)", n)
	}
	evs := e.Events()
	if len(evs) != 2 || evs[0].Attempt != 2 || evs[0].Wait != time.Second || !strings.Contains(evs[0].String(), "throttling") {
		t.Errorf("events = %+v", evs)
	}

	e.s.ResetRequests()
	e.s.FailNext(2, 503)
	if err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/organization", Action: "Reading the tenant"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := countGraph(e.s); n != 3 {
		t.Errorf("graph requests after 503s = %d, want 3", n)
	}
}

// TestRetryBoundReportsFix: past the bound the last error comes back with
// its explanation.
func TestRetryBoundReportsFix(t *testing.T) {
	e := newEnv(t, 2500*time.Millisecond)
	e.s.FailNext(100, 504)
	start := time.Now()
	err := e.g.Call(context.Background(), Request{Method: "GET", Path: "/organization", Action: "Reading the tenant"}, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.GaveUp == 0 || ge.Graph.Status != 504 || !ge.Explanation.Retryable {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("bound overrun: %s", d)
	}
	var gx *explain.GraphError
	if !errors.As(err, &gx) {
		t.Error("*explain.GraphError not reachable with errors.As")
	}
	e.s.FailNext(0, 504)
}

// TestRetryCancelled stops waiting when the context ends.
func TestRetryCancelled(t *testing.T) {
	e := newEnv(t, time.Minute)
	e.s.Throttle(5, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := e.g.Call(ctx, Request{Method: "GET", Path: "/organization", Action: "Reading"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// TestTokenNeverLeavesTheCloud: a request to a host outside the cloud's
// list is refused before any token is sent.
func TestTokenNeverLeavesTheCloud(t *testing.T) {
	calls := 0
	c := cloud.Global()
	g, err := New(c, func(context.Context) (string, error) { calls++; return "tok", nil }, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.base = "https://evil.example.net/v1.0"
	_, err = g.Do(context.Background(), Request{Method: "GET", Path: "/me"})
	if err == nil || !strings.Contains(err.Error(), "refusing") || calls != 0 {
		t.Fatalf("err = %v, token calls = %d", err, calls)
	}
	g.base = "http://graph.microsoft.com/v1.0"
	if _, err = g.Do(context.Background(), Request{Method: "GET", Path: "/me"}); err == nil || calls != 0 {
		t.Fatalf("plain http accepted: %v", err)
	}
}

func TestQuery(t *testing.T) {
	if got := Query("$filter", "displayName eq 'a b'", "$select", "id"); got != "?%24filter=displayName%20eq%20%27a%20b%27&%24select=id" {
		t.Errorf("Query = %s", got)
	}
	if QuoteOData("O'Brien") != "O''Brien" {
		t.Error("QuoteOData")
	}
}

func countGraph(s *sim.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Service == "graph" {
			n++
		}
	}
	return n
}
