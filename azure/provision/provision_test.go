package provision

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/sim"
)

func get(t testing.TB, g *graphapi.Client, path string, out any) {
	t.Helper()
	if err := g.Call(context.Background(), graphapi.Request{Method: "GET", Path: path}, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// verify reads the registration back through Graph and checks every part
// against the plan: resource, permission IDs (as the tenant's resource
// service principals publish them) and types, platform, public client flag,
// grants, app role assignments, user assignments and secrets.
func verify(t *testing.T, g *graphapi.Client, p Plan, reg *Registration) {
	t.Helper()
	var app application
	get(t, g, "/applications/"+reg.AppObjectID, &app)
	if app.AppID != reg.ClientID || app.DisplayName != p.DisplayName {
		t.Errorf("app = %s %q, want %s %q", app.AppID, app.DisplayName, reg.ClientID, p.DisplayName)
	}
	if want := p.Audience.SignInAudience(); app.SignInAudience != want {
		t.Errorf("signInAudience = %s, want %s", app.SignInAudience, want)
	}
	if got := app.IsFallbackPublicClient != nil && *app.IsFallbackPublicClient; got != p.PublicClient {
		t.Errorf("isFallbackPublicClient = %v, want %v", got, p.PublicClient)
	}
	var web, pub []string
	if app.Web != nil {
		web = app.Web.RedirectURIs
	}
	if app.PublicClient != nil {
		pub = app.PublicClient.RedirectURIs
	}
	switch p.Platform {
	case catalog.Web:
		if !sameSet(web, p.RedirectURIs) || len(pub) != 0 {
			t.Errorf("web redirects %v public %v, want web %v", web, pub, p.RedirectURIs)
		}
	case catalog.PublicClient:
		if !sameSet(pub, p.RedirectURIs) || len(web) != 0 {
			t.Errorf("public redirects %v web %v, want public %v", pub, web, p.RedirectURIs)
		}
	default:
		if len(web)+len(pub) != 0 {
			t.Errorf("redirect URIs %v %v, want none", web, pub)
		}
	}

	// Expected requiredResourceAccess, IDs from the tenant's resource SPs.
	resSP := map[string]servicePrincipal{}
	for _, perm := range p.Permissions {
		if _, ok := resSP[perm.Resource.AppID]; !ok {
			var sp servicePrincipal
			get(t, g, "/servicePrincipals(appId='"+perm.Resource.AppID+"')", &sp)
			resSP[perm.Resource.AppID] = sp
		}
	}
	want := map[string]bool{}
	for _, perm := range p.Permissions {
		sp := resSP[perm.Resource.AppID]
		id := ""
		if perm.Kind == catalog.Application {
			for _, r := range sp.AppRoles {
				if r.Value == perm.Value {
					id = r.ID
				}
			}
		} else {
			for _, s := range sp.OAuth2PermissionScopes {
				if s.Value == perm.Value {
					id = s.ID
				}
			}
		}
		if id == "" {
			t.Fatalf("tenant publishes no %s", perm)
		}
		want[perm.Resource.AppID+"/"+strings.ToLower(id)+"/"+string(perm.Kind)] = true
	}
	got := map[string]bool{}
	for _, r := range app.RequiredResourceAccess {
		for _, a := range r.ResourceAccess {
			got[r.ResourceAppID+"/"+strings.ToLower(a.ID)+"/"+a.Type] = true
		}
	}
	if !sameKeys(got, want) {
		t.Errorf("requiredResourceAccess = %v, want %v", keys(got), keys(want))
	}

	var sp servicePrincipal
	get(t, g, "/servicePrincipals(appId='"+reg.ClientID+"')", &sp)
	if sp.ID != reg.SPID {
		t.Errorf("service principal %s, registration says %s", sp.ID, reg.SPID)
	}
	if sp.AppRoleAssignmentRequired != p.RequireAssignment {
		t.Errorf("appRoleAssignmentRequired = %v", sp.AppRoleAssignmentRequired)
	}

	// Grants: one AllPrincipals grant per resource with exactly the delegated scopes.
	var grants graphList[permissionGrant]
	get(t, g, "/oauth2PermissionGrants"+graphapi.Query("$filter", "clientId eq '"+sp.ID+"'"), &grants)
	gotGrants := map[string][]string{}
	for _, gr := range grants.Value {
		if gr.ConsentType != "AllPrincipals" {
			t.Errorf("grant %s consentType %s", gr.ID, gr.ConsentType)
		}
		if _, dup := gotGrants[gr.ResourceID]; dup {
			t.Errorf("two grants for resource %s", gr.ResourceID)
		}
		gotGrants[gr.ResourceID] = strings.Fields(gr.Scope)
	}
	wantGrants := map[string][]string{}
	for _, perm := range p.Permissions {
		if perm.Kind == catalog.Delegated {
			id := resSP[perm.Resource.AppID].ID
			wantGrants[id] = append(wantGrants[id], perm.Value)
		}
	}
	if len(gotGrants) != len(wantGrants) {
		t.Errorf("grants %v, want %v", gotGrants, wantGrants)
	}
	for res, scopes := range wantGrants {
		if !sameSet(gotGrants[res], scopes) {
			t.Errorf("grant on %s has scope %v, want %v", res, gotGrants[res], scopes)
		}
	}

	// Application permissions: one appRoleAssignment each, to the right resource.
	var roles graphList[appRoleAssignment]
	get(t, g, "/servicePrincipals/"+sp.ID+"/appRoleAssignments", &roles)
	wantRoles := map[string]bool{}
	for _, perm := range p.Permissions {
		if perm.Kind == catalog.Application {
			for _, r := range resSP[perm.Resource.AppID].AppRoles {
				if r.Value == perm.Value {
					wantRoles[resSP[perm.Resource.AppID].ID+"/"+r.ID] = true
				}
			}
		}
	}
	gotRoles := map[string]bool{}
	for _, a := range roles.Value {
		k := a.ResourceID + "/" + a.AppRoleID
		if gotRoles[k] {
			t.Errorf("duplicate app role assignment %s", k)
		}
		gotRoles[k] = true
	}
	if !sameKeys(gotRoles, wantRoles) {
		t.Errorf("app role assignments %v, want %v", keys(gotRoles), keys(wantRoles))
	}

	// Users assigned with the default role, once each.
	var users graphList[appRoleAssignment]
	get(t, g, "/servicePrincipals/"+sp.ID+"/appRoleAssignedTo", &users)
	wantUsers := 0
	if p.AssignUsers {
		wantUsers = len(p.Mailboxes)
	}
	if len(users.Value) != wantUsers {
		t.Errorf("%d user assignments, want %d", len(users.Value), wantUsers)
	}
	for _, a := range users.Value {
		if a.AppRoleID != catalog.DefaultAppRoleID {
			t.Errorf("user assignment role %s", a.AppRoleID)
		}
	}

	wantSecrets := 0
	if p.Secret.Needed {
		wantSecrets = 1
		if reg.Secret == nil || reg.Secret.Text() == "" || reg.Secret.KeyID == "" {
			t.Errorf("no secret returned: %+v", reg.Secret)
		} else if want := time.Now().AddDate(0, max(p.Secret.Months, 1), 0); p.Secret.Months > 0 && reg.Secret.EndDateTime.Sub(want).Abs() > 48*time.Hour {
			t.Errorf("secret ends %s, want about %s", reg.Secret.EndDateTime, want)
		}
	}
	if len(app.PasswordCredentials) != wantSecrets {
		t.Errorf("%d secrets on the app, want %d", len(app.PasswordCredentials), wantSecrets)
	}
	if reg.RoundTrips > 3 {
		t.Errorf("%d sequential write round trips, want at most 3", reg.RoundTrips)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestProductsRegistrationAndIdempotence provisions each product's plan,
// checks every part through Graph, then runs again with the same state file
// and asserts that the second run sends no write at all.
func TestProductsRegistrationAndIdempotence(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	for _, pr := range products() {
		t.Run(pr.name, func(t *testing.T) {
			p := pr.plan(t, "mailoauth "+pr.name)
			statePath := filepath.Join(e.dir, safe(pr.name), "state.json")
			reg, err := Apply(context.Background(), g, p, Options{StatePath: statePath, CloudName: "custom"})
			if err != nil {
				t.Fatal(err)
			}
			verify(t, g, p, reg)
			if reg.RoundTrips > 3 {
				t.Errorf("round trips = %d", reg.RoundTrips)
			}
			st, err := state.Load(statePath)
			if err != nil {
				t.Fatal(err)
			}
			if st.ClientID != reg.ClientID || st.SPID != reg.SPID || st.Tenant != tenantID || !st.AppCreated {
				t.Errorf("state = %+v", st)
			}
			raw, _ := os.ReadFile(statePath)
			if reg.Secret != nil && bytes.Contains(raw, []byte(reg.Secret.Text())) {
				t.Fatal("the state file holds the secret value")
			}
			if b, _ := json.Marshal(reg); reg.Secret != nil && bytes.Contains(b, []byte(reg.Secret.Text())) {
				t.Fatal("the Registration's JSON holds the secret value")
			}

			// Second run: nothing changes.
			e.s.ResetRequests()
			reg2, err := Apply(context.Background(), g, p, Options{StatePath: statePath, CloudName: "custom"})
			if err != nil {
				t.Fatal(err)
			}
			if w := e.writes(); len(w) != 0 {
				t.Errorf("second run wrote: %+v", w)
			}
			if p.Secret.Needed && (reg2.KeptSecret == nil || reg2.KeptSecret.KeyID != reg.Secret.KeyID) {
				t.Errorf("second run does not report the kept secret: %+v", reg2.KeptSecret)
			}
			if reg2.RoundTrips != 0 || reg2.Secret != nil || reg2.ClientID != reg.ClientID {
				t.Errorf("second run: round trips %d, secret %v, client %s", reg2.RoundTrips, reg2.Secret, reg2.ClientID)
			}
			for _, c := range reg2.Changes {
				if c.Action != model.Keep {
					t.Errorf("second run change: %+v", c)
				}
			}
			verify(t, g, p, reg)
		})
	}
}

// TestResumeAfterKillAtEveryStep cancels the run at each progress event in
// turn, then runs again with the same state file: never a second app,
// secret, grant or assignment.
func TestResumeAfterKillAtEveryStep(t *testing.T) {
	t.Run("no delays", func(t *testing.T) { resumeAfterKills(t, sim.Delays{}) })
	// With replication delays the kills also land on the retry waits.
	t.Run("replication delays", func(t *testing.T) {
		resumeAfterKills(t, sim.Delays{AppToServicePrincipal: 800 * time.Millisecond, ServicePrincipalToGrant: 800 * time.Millisecond})
	})
}

func resumeAfterKills(t *testing.T, delays sim.Delays) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	e.s.SetDelays(delays)
	check := e.client(time.Minute, nil)
	pr := products()[0] // ExtraView: app, SP, secret, grants, user assignment
	for k := 1; ; k++ {
		name := fmt.Sprintf("mailoauth resume %d", k)
		p := pr.plan(t, name)
		statePath := filepath.Join(e.dir, fmt.Sprintf("resume-%d", k), "state.json")
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		var at string
		g := e.client(time.Minute, func(ev graphapi.Event) {
			seen++
			if seen == k {
				at = ev.Action
				cancel()
			}
		})
		killed, err := Apply(ctx, g, p, Options{StatePath: statePath})
		cancel()
		if seen < k {
			if err != nil {
				t.Fatalf("uninterrupted run failed: %v", err)
			}
			if k < 5 {
				t.Fatalf("only %d progress events", seen)
			}
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("kill at event %d (%s): err = %v", k, at, err)
		}
		reg, err := Apply(context.Background(), check, p, Options{StatePath: statePath})
		if err != nil {
			t.Fatalf("resume after event %d (%s): %v", k, at, err)
		}
		// The secret's text is handed back once: by the killed run when it
		// added the secret (Apply returns the partial Registration), else by
		// the resumed run.
		if killed != nil && killed.Secret != nil {
			if reg.Secret != nil {
				t.Fatalf("kill at %q: a second secret was added", at)
			}
			reg.Secret = killed.Secret
		}
		var apps graphList[application]
		get(t, check, "/applications"+graphapi.Query("$filter", "displayName eq '"+name+"'"), &apps)
		if len(apps.Value) != 1 {
			t.Fatalf("after kill at %q: %d apps", at, len(apps.Value))
		}
		verify(t, check, p, reg) // one secret, one grant per resource, one user assignment
		t.Logf("killed at event %d %q: resumed cleanly", k, at)
	}
}

// TestReplicationDelaysSurvived: a new app is not yet visible to the
// service principal endpoint, a new SP not yet to grants and assignments;
// the apply waits them out with progress events.
func TestReplicationDelaysSurvived(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	e.s.SetDelays(sim.Delays{AppToServicePrincipal: 2500 * time.Millisecond, ServicePrincipalToGrant: 2500 * time.Millisecond})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth replication")
	reg, err := Apply(context.Background(), g, p, Options{StatePath: filepath.Join(e.dir, "repl.json")})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, g, p, reg)
	var waits []string
	for _, ev := range e.Events() {
		if ev.Wait > 0 {
			waits = append(waits, ev.String())
		}
	}
	if len(waits) < 2 {
		t.Errorf("expected replication waits, got %v", waits)
	}
	t.Log(strings.Join(waits, "\n"))
}

// TestThrottlingAndOutagesSurvived: 429 with Retry-After and 503s.
func TestThrottlingAndOutagesSurvived(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[3].plan(t, "mailoauth throttled")
	e.s.Throttle(3, time.Second)
	e.s.FailNext(2, 503)
	reg, err := Apply(context.Background(), g, p, Options{StatePath: filepath.Join(e.dir, "thr.json")})
	if err != nil {
		t.Fatal(err)
	}
	verify(t, g, p, reg)
}

// TestReplicationBeyondBoundIsReported: the bound stops the wait and the
// error says what happened and what to do; the state lets a later run resume.
func TestReplicationBeyondBoundIsReported(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	e.s.SetDelays(sim.Delays{AppToServicePrincipal: time.Hour})
	g := e.client(3*time.Second, nil)
	p := products()[2].plan(t, "mailoauth slow")
	statePath := filepath.Join(e.dir, "slow.json")
	start := time.Now()
	_, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
	var ge *graphapi.Error
	if !errors.As(err, &ge) || ge.GaveUp == 0 || !ge.Explanation.Retryable || ge.Explanation.Fix == "" {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("bound overrun: %s", d)
	}
	t.Logf("reported: %v", err)
	st, _ := state.Load(statePath)
	if st == nil || st.AppObjectID == "" || st.Done(state.StepServicePrincipal) {
		t.Fatalf("state after the failure = %+v", st)
	}
	e.s.SetDelays(sim.Delays{})
	reg, err := Apply(context.Background(), e.client(time.Minute, nil), p, Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	if reg.AppObjectID != st.AppObjectID {
		t.Errorf("resume made another app")
	}
	verify(t, g, p, reg)
}

// TestSecretLifetimePolicyShortens: a tenant policy caps secrets at 100
// days; the 12-month request is retried at 90 days and the user is told.
func TestSecretLifetimePolicyShortens(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	e.s.SetMaxSecretLifetime(100 * 24 * time.Hour)
	g := e.client(time.Minute, nil)
	p := products()[3].plan(t, "mailoauth policy")
	p.Secret.Months = 12
	reg, err := Apply(context.Background(), g, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Secret == nil || reg.Secret.Shortened == "" || reg.Secret.EndDateTime.After(time.Now().AddDate(0, 0, 100)) {
		t.Fatalf("secret = %+v", reg.Secret)
	}
	found := false
	for _, w := range reg.Warnings {
		found = found || strings.Contains(w, "policy")
	}
	if !found {
		t.Errorf("warnings %v do not mention the policy", reg.Warnings)
	}
}

// TestCloudAdminToldBeforeAnyChange: a Cloud Application Administrator is
// told in pre-flight that Graph application permissions need Privileged
// Role Administrator or Global Administrator, and nothing is written.
func TestCloudAdminToldBeforeAnyChange(t *testing.T) {
	e := newEnv(t, envOpts{upn: cloudAdminUPN, needs: allNeeds()})
	g := e.client(time.Minute, nil)
	ps := []catalog.Protocol{catalog.GraphRead, catalog.GraphSend}
	p := Plan{Tenant: tenantID, DisplayName: "mailoauth graph app-only", Flow: catalog.ClientCredentials, Protocols: ps,
		Permissions: mustPerms(t, catalog.ClientCredentials, ps), Secret: SecretSpec{Needed: true}}
	in, err := Preflight(context.Background(), g, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var blocker *Finding
	for _, f := range in.Blockers() {
		if f.Code == "role-graph-app-permissions" {
			f := f
			blocker = &f
		}
	}
	if blocker == nil || !strings.Contains(blocker.Text, "Privileged Role Administrator or Global Administrator") || !strings.Contains(blocker.Text, "Cloud Application Administrator") {
		t.Fatalf("findings = %+v", in.Findings)
	}
	_, err = Apply(context.Background(), g, p, Options{})
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("apply err = %v", err)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("writes despite blocker: %+v", w)
	}
	// The same admin may set up an Exchange-only app.
	p2 := products()[3].plan(t, "mailoauth cloud admin exo")
	in2, err := Preflight(context.Background(), g, p2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := in2.Blockers(); len(b) != 0 {
		t.Errorf("unexpected blockers for an Exchange app: %+v", b)
	}
	reg, err := Apply(context.Background(), g, p2, Options{})
	if err != nil {
		t.Fatalf("cloud admin, Exchange-only app: %v", err)
	}
	// Had pre-flight been skipped, Graph's Authorization_RequestDenied is
	// explained with the role that would do it.
	var graphSP servicePrincipal
	get(t, g, "/servicePrincipals(appId='"+catalog.MicrosoftGraph.AppID+"')", &graphSP)
	roleID := ""
	for _, r := range graphSP.AppRoles {
		if r.Value == "Mail.Read" {
			roleID = r.ID
		}
	}
	err = g.Call(context.Background(), graphapi.Request{Method: "POST", Path: "/servicePrincipals/" + graphSP.ID + "/appRoleAssignedTo",
		Body: map[string]any{"principalId": reg.SPID, "resourceId": graphSP.ID, "appRoleId": roleID}, Action: "Granting Mail.Read (application)", Op: "grant-graph-app-role"}, nil)
	var ge *graphapi.Error
	if !errors.As(err, &ge) || ge.Graph.Code != "Authorization_RequestDenied" || !strings.Contains(ge.Explanation.Fix, "Privileged Role Administrator") {
		t.Errorf("direct Graph app role grant as cloud admin: %v", err)
	}
}

// TestPreflightMailboxes: unlicensed users and shared mailboxes are
// warnings, unknown users blockers, unverified domains warnings.
func TestPreflightMailboxes(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth preflight")
	p.Mailboxes = []string{"helpdesk@contoso.com", "unlicensed@contoso.com", "support@contoso.com", "nobody@contoso.com", "x@fabrikam.com"}
	in, err := Preflight(context.Background(), g, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string][]string{}
	for _, f := range in.Findings {
		codes[f.Code] = append(codes[f.Code], f.Text)
	}
	if len(codes["no-exchange-licence"]) != 2 {
		t.Errorf("licence warnings: %v", codes["no-exchange-licence"])
	}
	if len(codes["mailbox-user-missing"]) != 2 {
		t.Errorf("missing users: %v", codes["mailbox-user-missing"])
	}
	if len(codes["domain-not-verified"]) != 1 {
		t.Errorf("domain warnings: %v", codes["domain-not-verified"])
	}
	if in.TenantID != tenantID || len(in.Domains) != 2 || !in.RolesKnown {
		t.Errorf("tenant %s domains %v roles %v", in.TenantID, in.Domains, in.Roles)
	}
	// A tenant-only pre-flight (no permissions, no mailboxes), as the sign-in
	// screen runs it, reads the tenant and the admin's roles.
	bare, err := Preflight(context.Background(), g, Plan{Tenant: tenantID, DisplayName: "mailoauth pre-flight", Flow: catalog.AuthCode}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bare.TenantID != tenantID || len(bare.Roles) == 0 || len(bare.Blockers()) != 0 {
		t.Errorf("bare pre-flight: %+v", bare)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("pre-flight wrote: %+v", w)
	}
}

// TestBadInputRefusedBeforeAnyRequest: nothing reaches the tenant.
func TestBadInputRefusedBeforeAnyRequest(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	base := products()[0].plan(t, "mailoauth bad")
	cases := map[string]func(p *Plan){
		"empty tenant":        func(p *Plan) { p.Tenant = "" },
		"malformed tenant":    func(p *Plan) { p.Tenant = "contoso onmicrosoft" },
		"http redirect":       func(p *Plan) { p.RedirectURIs = []string{"http://ev.contoso.com/evj/OAuth2"} },
		"relative redirect":   func(p *Plan) { p.RedirectURIs = []string{"/evj/OAuth2"} },
		"long display name":   func(p *Plan) { p.DisplayName = strings.Repeat("x", MaxDisplayName+1) },
		"empty display name":  func(p *Plan) { p.DisplayName = "  " },
		"malformed email":     func(p *Plan) { p.Mailboxes = []string{"helpdesk@"} },
		"secret months":       func(p *Plan) { p.Secret.Months = 36 },
		"unknown protocol":    func(p *Plan) { p.Protocols = append(p.Protocols, "nntp") },
		"delegated app-only":  func(p *Plan) { p.Flow = catalog.ClientCredentials },
		"app id not a guid":   func(p *Plan) { p.AppID = "my-app" },
		"redirect on no-plat": func(p *Plan) { p.Platform = catalog.NoPlatform },
	}
	for name, mutate := range cases {
		p := base
		p.Mailboxes = append([]string(nil), base.Mailboxes...)
		p.Protocols = append([]catalog.Protocol(nil), base.Protocols...)
		mutate(&p)
		_, err := Apply(context.Background(), g, p, Options{})
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	if n := len(e.s.Requests()); n != 0 {
		t.Errorf("%d requests reached the simulator", n)
	}
	// localhost http redirects are fine.
	ok := base
	ok.RedirectURIs = []string{"http://localhost:8400/callback", "http://127.0.0.1/cb"}
	if err := ok.Validate(); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

// TestTraceHasNoSecrets: every line of --debug-http is one JSON object,
// and neither the secret, the access token nor any refresh/device code
// value appears in it.
func TestTraceHasNoSecrets(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds(), trace: true})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth traced")
	reg, err := Apply(context.Background(), g, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.sess.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.tracer.Close()
	raw, err := os.ReadFile(e.trace)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(e.trace); fi.Mode().Perm() != 0o600 {
		t.Errorf("trace mode %v", fi.Mode().Perm())
	}
	for name, secret := range map[string]string{"secretText": reg.Secret.Text(), "access token": tok, "token signature": tok[strings.LastIndex(tok, ".")+1:]} {
		if len(secret) < 8 {
			t.Fatalf("%s too short to search: %q", name, secret)
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("trace contains the %s", name)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 8<<20)
	lines, tokenLines := 0, 0
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", lines, err)
		}
		for _, k := range []string{"access_token", "refresh_token", "id_token", "device_code"} {
			if body, ok := m["response_body"].(map[string]any); ok {
				if v, ok := body[k]; ok {
					tokenLines++
					if v != "REDACTED" {
						t.Errorf("%s not redacted: %v", k, v)
					}
				}
			}
		}
	}
	if lines < 10 || tokenLines < 2 {
		t.Errorf("trace has %d lines, %d token fields: the sign-in and the apply should both be traced", lines, tokenLines)
	}
}

// TestDryRunChangesNothing lists the writes and sends none; the offline
// mode sends nothing at all.
func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth dry")
	dr, err := DryRun(context.Background(), g, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote: %+v", w)
	}
	var methods []string
	for _, r := range dr.Requests {
		methods = append(methods, fmt.Sprintf("%d %s %s", r.Round, r.Method, r.URL))
	}
	joined := strings.Join(methods, "\n")
	for _, want := range []string{"1 POST", "/applications", "2 POST", "/servicePrincipals", "/addPassword", "3 POST", "/oauth2PermissionGrants", "appRoleAssignedTo"} {
		if !strings.Contains(joined, want) {
			t.Errorf("dry run lacks %q:\n%s", want, joined)
		}
	}
	if !json.Valid(dr.Manifest) || !strings.Contains(string(dr.Manifest), "requiredResourceAccess") {
		t.Errorf("manifest: %s", dr.Manifest)
	}
	// After a real apply, the dry run plans nothing.
	if _, err := Apply(context.Background(), g, p, Options{StatePath: filepath.Join(e.dir, "dry.json")}); err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(filepath.Join(e.dir, "dry.json"))
	dr2, err := DryRun(context.Background(), g, p, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(dr2.Requests) != 0 {
		t.Errorf("dry run after apply plans %+v", dr2.Requests)
	}

	e.s.ResetRequests()
	off, err := DryRunOffline(p, e.c.GraphV1())
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Requests) != len(dr.Requests) || !off.Offline {
		t.Errorf("offline plans %d requests, online %d", len(off.Requests), len(dr.Requests))
	}
	if n := len(e.s.Requests()); n != 0 {
		t.Errorf("offline dry run made %d requests", n)
	}
}

// TestAmbiguousNameRefused: two apps with the display name and no --app-id.
func TestAmbiguousNameRefused(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	for i := 0; i < 2; i++ {
		if err := g.Call(context.Background(), graphapi.Request{Method: "POST", Path: "/applications", Body: map[string]any{"displayName": "mailoauth twin", "signInAudience": "AzureADMyOrg"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.s.ResetRequests()
	p := products()[2].plan(t, "mailoauth twin")
	_, err := Apply(context.Background(), g, p, Options{})
	var amb *AmbiguousAppError
	if !errors.As(err, &amb) || len(amb.Apps) != 2 {
		t.Fatalf("err = %v", err)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("writes: %+v", w)
	}
	// With --app-id it updates that one.
	p.AppID = amb.Apps[1].ClientID
	reg, err := Apply(context.Background(), g, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID != amb.Apps[1].ClientID {
		t.Errorf("updated %s, want %s", reg.ClientID, amb.Apps[1].ClientID)
	}
	verify(t, g, p, reg)
}

// TestExistingPermissionsKept: permissions the app already has stay, and
// are reported as not needed.
func TestExistingPermissionsKept(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[4].plan(t, "mailoauth merge") // Monitor ERP ROPC: EWS only
	first := p
	first.Permissions = append(append([]catalog.Permission(nil), p.Permissions...), catalog.ExoIMAPUser)
	if _, err := Apply(context.Background(), g, first, Options{}); err != nil {
		t.Fatal(err)
	}
	reg, err := Apply(context.Background(), g, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Unneeded) != 1 || !strings.Contains(reg.Unneeded[0], "IMAP.AccessAsUser.All") {
		t.Errorf("unneeded = %v", reg.Unneeded)
	}
	var app application
	get(t, g, "/applications/"+reg.AppObjectID, &app)
	n := 0
	for _, r := range app.RequiredResourceAccess {
		n += len(r.ResourceAccess)
	}
	if n != len(first.Permissions) {
		t.Errorf("app has %d permissions, want %d (none dropped)", n, len(first.Permissions))
	}
	// Requiring assignment on an existing service principal is a PATCH.
	p.RequireAssignment = true
	e.s.ResetRequests()
	reg, err = Apply(context.Background(), g, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := e.writes(); len(w) != 1 || w[0].Method != "PATCH" {
		t.Errorf("writes = %+v", w)
	}
	var sp servicePrincipal
	get(t, g, "/servicePrincipals/"+reg.SPID, &sp)
	if !sp.AppRoleAssignmentRequired {
		t.Error("appRoleAssignmentRequired not set")
	}
	// Dropping what is not needed happens only when asked.
	reg, err = Apply(context.Background(), g, p, Options{RemoveUnneeded: true})
	if err != nil {
		t.Fatal(err)
	}
	get(t, g, "/applications/"+reg.AppObjectID, &app)
	n = 0
	for _, r := range app.RequiredResourceAccess {
		n += len(r.ResourceAccess)
	}
	if n != len(p.Permissions) {
		t.Errorf("after RemoveUnneeded the app has %d permissions, want %d", n, len(p.Permissions))
	}
}

// TestDeleteRemovesExactlyWhatWasMade.
func TestDeleteRemovesExactlyWhatWasMade(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth delete")
	statePath := filepath.Join(e.dir, "del.json")
	reg, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(statePath)
	res, err := Delete(context.Background(), g, st, statePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) < 5 {
		t.Errorf("deleted %+v", res.Deleted)
	}
	err = g.Call(context.Background(), graphapi.Request{Method: "GET", Path: "/applications/" + reg.AppObjectID}, nil)
	if graphapi.Status(err) != 404 {
		t.Errorf("app still readable: %v", err)
	}
	// A tampered state naming someone else's app is refused.
	other := products()[2].plan(t, "mailoauth not mine")
	reg2, err := Apply(context.Background(), g, other, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fake := state.New(tenantID, "custom")
	fake.AppObjectID, fake.ClientID, fake.AppCreated = reg2.AppObjectID, "11111111-1111-1111-1111-111111111111", true
	e.s.ResetRequests()
	if _, err := Delete(context.Background(), g, fake, ""); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("tampered delete: %v", err)
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("tampered delete wrote %+v", w)
	}
}

func TestManifestShape(t *testing.T) {
	perms, _ := catalog.Permissions(catalog.ClientCredentials, []catalog.Protocol{catalog.EWS})
	b, err := Manifest(FallbackPermissions(perms))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "requiredResourceAccess": [
    {
      "resourceAppId": "00000002-0000-0ff1-ce00-000000000000",
      "resourceAccess": [
        {
          "id": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
          "type": "Role"
        }
      ]
    }
  ]
}`
	if string(b) != want {
		t.Errorf("manifest:\n%s", b)
	}
}

// TestRotateAddsSecretKeepsOld: rotation adds a second secret and never
// removes the first.
func TestRotateAddsSecretKeepsOld(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[3].plan(t, "mailoauth rotate")
	statePath := filepath.Join(e.dir, "rotate.json")
	first, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	p.Secret.Rotate = true
	second, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	if second.Secret == nil || second.Secret.KeyID == first.Secret.KeyID || second.Secret.Text() == first.Secret.Text() {
		t.Fatalf("rotation: %v then %v", first.Secret, second.Secret)
	}
	var app application
	get(t, g, "/applications/"+first.AppObjectID, &app)
	if len(app.PasswordCredentials) != 2 {
		t.Errorf("%d secrets after rotation, want 2 (the old one is kept)", len(app.PasswordCredentials))
	}
	st, _ := state.Load(statePath)
	if st.Secret.KeyID != second.Secret.KeyID {
		t.Errorf("state records key %s, want the new %s", st.Secret.KeyID, second.Secret.KeyID)
	}
}

// TestWrongTenantBlocked: a plan for another tenant is refused before any change.
func TestWrongTenantBlocked(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	for _, other := range []string{"0f0f0f0f-1111-2222-3333-444444444444", "fabrikam.onmicrosoft.com"} {
		p := products()[2].plan(t, "mailoauth wrong tenant")
		p.Tenant = other
		_, err := Apply(context.Background(), g, p, Options{})
		var be *BlockedError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), other) {
			t.Errorf("tenant %s: err = %v", other, err)
		}
	}
	if w := e.writes(); len(w) != 0 {
		t.Errorf("writes: %+v", w)
	}
}

// staleEngine is an apply that works from an inspection taken earlier, as
// when another run (or a lost reply) made objects after pre-flight.
func staleEngine(g *graphapi.Client, p Plan, in *Inspection, st *state.State) *applier {
	p.normalise()
	if st == nil {
		st = state.New(in.TenantID, "custom")
	}
	return &applier{g: g, p: p, in: in, st: st, reg: newRegistration(in)}
}

// TestObjectsAlreadyThereAreAdopted: the service principal, grants, app role
// and user assignments exist although pre-flight did not see them; Graph's
// "already exists" answers are resolved by reading them, with no duplicate
// and no failure.
func TestObjectsAlreadyThereAreAdopted(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[0].plan(t, "mailoauth adopt")
	p.Permissions = append(p.Permissions, catalog.ExoFullAccessApp)
	p.Secret.Needed = false
	statePath := filepath.Join(e.dir, "adopt.json")
	// Make the app only (kill at the service principal's event).
	ctx, cancel := context.WithCancel(context.Background())
	killer := e.client(time.Minute, func(ev graphapi.Event) {
		if strings.HasPrefix(ev.Action, "Creating service principal") {
			cancel()
		}
	})
	if _, err := Apply(ctx, killer, p, Options{StatePath: statePath}); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	st, _ := state.Load(statePath)
	stale, err := Preflight(context.Background(), g, p, st)
	if err != nil || stale.sp != nil || !stale.AppExists() {
		t.Fatalf("stale inspection: %v %+v", err, stale)
	}
	// Another run completes everything.
	full, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	// The stale apply now meets every object already there.
	st, _ = state.Load(statePath)
	eng := staleEngine(g, p, stale, st)
	if err := eng.run(context.Background()); err != nil {
		t.Fatalf("stale apply: %v", err)
	}
	if eng.reg.SPID != full.SPID {
		t.Errorf("adopted SP %s, want %s", eng.reg.SPID, full.SPID)
	}
	for res, id := range full.Grants {
		if eng.reg.Grants[res] != id {
			t.Errorf("grant for %s: %s, want %s", res, eng.reg.Grants[res], id)
		}
	}
	verify(t, g, p, full)
}

// TestAppCreateServerErrorNoDuplicate: a 504 on the create is checked by a
// lookup before the create is sent again; exactly one app results.
func TestAppCreateServerErrorNoDuplicate(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	p := products()[2].plan(t, "mailoauth 504")
	in, err := Preflight(context.Background(), g, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.s.FailNext(1, 504)
	eng := staleEngine(g, p, in, nil)
	if err := eng.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var apps graphList[application]
	get(t, g, "/applications"+graphapi.Query("$filter", "displayName eq 'mailoauth 504'"), &apps)
	if len(apps.Value) != 1 {
		t.Fatalf("%d apps", len(apps.Value))
	}
	verify(t, g, p, eng.reg)
}

// InspectMailboxes checks addresses in two read rounds, with the same
// findings as pre-flight: found and licensed, shared (no licence: a
// warning), unknown (a blocker), unverified domain (a warning).
func TestInspectMailboxes(t *testing.T) {
	e := newEnv(t, envOpts{needs: signin.Needs{ReadUsers: true}})
	g := e.client(time.Minute, nil)
	before := e.graphRequests()
	in, err := InspectMailboxes(context.Background(), g, []string{"contoso.onmicrosoft.com", "contoso.com"},
		[]string{"helpdesk@contoso.com", "support@contoso.com", "nobody@contoso.com", "someone@fabrikam.com"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Mailboxes[0].ExchangePlan == "" || in.Mailboxes[0].LikelyShared() || !in.Mailboxes[1].LikelyShared() || in.Mailboxes[2].Found {
		t.Fatalf("mailboxes: %+v", in.Mailboxes)
	}
	codes := map[string]int{}
	for _, f := range in.Findings {
		codes[f.Code]++
	}
	if codes["no-exchange-licence"] != 1 || codes["mailbox-user-missing"] != 2 || codes["domain-not-verified"] != 1 {
		t.Errorf("findings: %+v", in.Findings)
	}
	// users (+ mail and proxyAddresses filters for the missing ones) then
	// licences: no tenant or API reads.
	if n := e.graphRequests() - before; n > 10 {
		t.Errorf("%d Graph requests for 4 addresses", n)
	}
	// An unlicensed user who may sign in is no shared mailbox: it has no mailbox.
	un, err := InspectMailboxes(context.Background(), g, nil, []string{"unlicensed@contoso.com"})
	if err != nil || !un.Mailboxes[0].Found || un.Mailboxes[0].LikelyShared() {
		t.Errorf("unlicensed user: %+v %v", un, err)
	}
	if _, err := InspectMailboxes(context.Background(), g, nil, []string{"not-an-address"}); err == nil || !strings.Contains(err.Error(), "mailbox") {
		t.Errorf("bad address: %v", err)
	}
}
