package provision

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/httptrace"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

const (
	adminUPN      = "admin@contoso.onmicrosoft.com"
	cloudAdminUPN = "cloudadmin@contoso.com"
	tenantID      = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
)

// env is one simulated tenant with a signed-in admin: real MSAL, real
// msgraph-sdk-go, real sockets on 127.0.0.1.
type env struct {
	t      testing.TB
	s      *sim.Server
	c      cloud.Cloud
	sess   *signin.Session
	hc     *http.Client
	trace  string
	tracer *httptrace.Tracer
	dir    string
	mu     sync.Mutex
	events []graphapi.Event
}

type envOpts struct {
	upn     string
	latency time.Duration
	needs   signin.Needs
	trace   bool
}

func allNeeds() signin.Needs {
	return signin.Needs{AppRoles: true, AssignUsers: true, DelegatedConsent: true, ReadUsers: true}
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.upn == "" {
		o.upn = adminUPN
	}
	s, err := sim.Start(sim.Options{AutoApprove: o.upn, Latency: o.latency})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, s: s, c: simCloud(t, s), dir: t.TempDir()}
	var wrap func(http.RoundTripper) http.RoundTripper
	if o.trace {
		e.trace = filepath.Join(e.dir, "trace.jsonl")
		if e.tracer, err = httptrace.Open(e.trace); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.tracer.Close() })
		wrap = e.tracer.Wrap
	}
	if e.hc, err = e.c.HTTPClient(wrap); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e.sess, err = signin.SignIn(ctx, signin.Options{Cloud: e.c, Tenant: "contoso.onmicrosoft.com", Scopes: signin.Scopes(e.c, o.needs), HTTPClient: e.hc, OnDeviceCode: func(signin.DeviceCodePrompt) {}})
	if err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	return e
}

func simCloud(t testing.TB, s *sim.Server) cloud.Cloud { return simcloud.Must(t, s) }

// client is a Graph client whose events are recorded and passed to onEvent.
func (e *env) client(bound time.Duration, onEvent func(graphapi.Event)) *graphapi.Client {
	g, err := graphapi.New(e.c, e.sess.Token, e.hc, graphapi.Options{RetryBound: bound, OnEvent: func(ev graphapi.Event) {
		// Events come from concurrent requests; the test callbacks run one at a time.
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
		if onEvent != nil {
			onEvent(ev)
		}
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *env) Events() []graphapi.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]graphapi.Event(nil), e.events...)
}

// writes are the Graph requests that change something.
func (e *env) writes() []sim.Request {
	var out []sim.Request
	for _, r := range e.s.Requests() {
		if r.Service == "graph" && r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) graphRequests() int {
	n := 0
	for _, r := range e.s.Requests() {
		if r.Service == "graph" {
			n++
		}
	}
	return n
}

// ---- product-shaped plans (the product layer passes the same values) ----

func mustPerms(t testing.TB, f catalog.Flow, ps []catalog.Protocol, extras ...catalog.Permission) []catalog.Permission {
	perms, err := catalog.Permissions(f, ps, extras...)
	if err != nil {
		t.Fatal(err)
	}
	return perms
}

type product struct {
	name string
	plan func(t testing.TB, displayName string) Plan
}

var extraViewRedirect = "https://ev.contoso.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"

func products() []product {
	return []product{
		{"ExtraView", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS}
			return Plan{Tenant: tenantID, DisplayName: n, Audience: catalog.SingleTenant, Flow: catalog.AuthCode, Protocols: ps,
				Permissions: mustPerms(t, catalog.AuthCode, ps), Platform: catalog.Web, RedirectURIs: []string{extraViewRedirect},
				Secret: SecretSpec{Needed: true, Months: 12}, Mailboxes: []string{"helpdesk@contoso.com"}, AssignUsers: true, RequireAssignment: true, Product: "extraview"}
		}},
		{"EmailThisIssue", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.GraphRead, catalog.GraphSend}
			return Plan{Tenant: "contoso.onmicrosoft.com", DisplayName: n, Audience: catalog.SingleTenant, Flow: catalog.AuthCode, Protocols: ps,
				Permissions: mustPerms(t, catalog.AuthCode, ps, catalog.GraphOpenID, catalog.GraphUserRead), Platform: catalog.Web,
				RedirectURIs: []string{"https://jira.contoso.com/plugins/servlet/eti/oauth2/callback"}, Secret: SecretSpec{Needed: true, Months: 6},
				Mailboxes: []string{"helpdesk@contoso.com"}, Product: "email-this-issue"}
		}},
		{"Genesys", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.EWS, catalog.IMAP, catalog.POP, catalog.SMTP}
			return Plan{Tenant: tenantID, DisplayName: n, Audience: catalog.MultiTenant, Flow: catalog.ROPC, Protocols: ps,
				Permissions: mustPerms(t, catalog.ROPC, ps, catalog.GraphUserRead), Platform: catalog.NoPlatform, PublicClient: true,
				Mailboxes: []string{"helpdesk@contoso.com"}, Product: "genesys"}
		}},
		{"Agiloft", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.EWS}
			return Plan{Tenant: tenantID, DisplayName: n, Audience: catalog.SingleTenant, Flow: catalog.ClientCredentials, Protocols: ps,
				Permissions: mustPerms(t, catalog.ClientCredentials, ps), Platform: catalog.NoPlatform, Secret: SecretSpec{Needed: true, Months: 24},
				Mailboxes: []string{"helpdesk@contoso.com", "support@contoso.com"}, Product: "agiloft"}
		}},
		{"MonitorERP-ROPC", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.EWS}
			return Plan{Tenant: tenantID, DisplayName: n, Audience: catalog.SingleTenant, Flow: catalog.ROPC, Protocols: ps,
				Permissions: mustPerms(t, catalog.ROPC, ps), Platform: catalog.NoPlatform, PublicClient: true,
				Mailboxes: []string{"helpdesk@contoso.com"}, Product: "monitor-erp"}
		}},
		{"MonitorERP-Secret", func(t testing.TB, n string) Plan {
			ps := []catalog.Protocol{catalog.EWS}
			return Plan{Tenant: tenantID, DisplayName: n, Audience: catalog.SingleTenant, Flow: catalog.ClientCredentials, Protocols: ps,
				Permissions: mustPerms(t, catalog.ClientCredentials, ps), Platform: catalog.PublicClient,
				RedirectURIs: []string{"https://login.microsoftonline.com/common/oauth2/nativeclient"}, PublicClient: false,
				Secret: SecretSpec{Needed: true}, Mailboxes: []string{"helpdesk@contoso.com"}, Product: "monitor-erp"}
		}},
	}
}

func safe(s string) string { return strings.ReplaceAll(s, " ", "-") }
