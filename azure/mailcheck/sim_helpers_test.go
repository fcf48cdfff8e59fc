package mailcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

// The seed tenant (docs/architecture.md).
const (
	simTenant   = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	adminUPN    = "admin@contoso.onmicrosoft.com"
	helpdesk    = "helpdesk@contoso.com"
	helpdeskPW  = "Demo-Mail-2026!"
	mfaUser     = "mfa.user@contoso.com"
	mfaPW       = "Demo-Mfa-2026!"
	graphCLI    = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
	exoAppID    = "00000002-0000-0ff1-ce00-000000000000"
	graphAppID  = "00000003-0000-0000-c000-000000000000"
	testTimeout = 5 * time.Second
)

func startSim(t testing.TB, opts sim.Options) *sim.Server {
	t.Helper()
	s, err := sim.Start(opts)
	if err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// simCloud is a cloud.Cloud whose endpoints point at the simulator and whose
// token resources stay Microsoft's (docs/architecture.md).
func simCloud(t testing.TB, s *sim.Server) cloud.Cloud { return simcloud.Must(t, s) }

// admin is a Graph client signed in as the seed Global Administrator by
// device code through MSAL, approving the code as the admin would.
type admin struct {
	t     testing.TB
	s     *sim.Server
	graph string
	token string
}

func signInAdmin(t testing.TB, s *sim.Server) *admin {
	t.Helper()
	info := s.Info()
	pc, err := public.New(graphCLI, public.WithAuthority(info.Authority), public.WithHTTPClient(s.HTTPClient()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scopes := []string{"https://graph.microsoft.com/Application.ReadWrite.All", "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
		"https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All", "https://graph.microsoft.com/User.Read.All"}
	dc, err := pc.AcquireTokenByDeviceCode(ctx, scopes)
	if err != nil {
		t.Fatalf("admin device code: %v", err)
	}
	// With AutoApprove the code is approved already; otherwise approve it.
	_ = s.ApproveDeviceCode(dc.Result.UserCode, adminUPN)
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	return &admin{t: t, s: s, graph: info.GraphURL + "/v1.0", token: res.AccessToken}
}

// call is one Graph request with plain net/http and JSON.
func (a *admin) call(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.graph+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.s.HTTPClient().Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (a *admin) must(method, path string, body any, want int) map[string]any {
	a.t.Helper()
	st, out := a.call(method, path, body)
	if st != want {
		a.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

// resourceSP is a resource service principal's id and permission ids by value.
type resourceSP struct {
	id     string
	roles  map[string]string
	scopes map[string]string
}

func (a *admin) resource(appID string) resourceSP {
	out := a.must("GET", "/servicePrincipals(appId='"+appID+"')", nil, 200)
	r := resourceSP{id: out["id"].(string), roles: map[string]string{}, scopes: map[string]string{}}
	for _, x := range asList(out["appRoles"]) {
		m := x.(map[string]any)
		r.roles[m["value"].(string)] = m["id"].(string)
	}
	for _, x := range asList(out["oauth2PermissionScopes"]) {
		m := x.(map[string]any)
		r.scopes[m["value"].(string)] = m["id"].(string)
	}
	return r
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// app is a registration made for a test.
type app struct {
	appID, objectID, spID, secret string
	secretAt                      time.Time
}

// appOptions say how to register and configure the app.
type appOptions struct {
	flow      catalog.Flow
	protocols []catalog.Protocol
	noConsent bool
	// exchange: run New-ServicePrincipal + FullAccess + SendAs (app-only)
	exchange bool
	// wrongObjectID: New-ServicePrincipal with the app registration's id
	wrongObjectID bool
	// spOnly: New-ServicePrincipal only, no FullAccess and no SendAs
	spOnly bool
}

// register creates the app through Graph as the wizard would: app, service
// principal, permissions, consent, secret, and for app-only the Exchange
// PowerShell steps.
func (a *admin) register(o appOptions) app {
	a.t.Helper()
	exo, graph := a.resource(exoAppID), a.resource(graphAppID)
	perms, err := catalog.Permissions(o.flow, o.protocols)
	if err != nil {
		a.t.Fatal(err)
	}
	var exoAccess, graphAccess []map[string]string
	var exoNames, graphNames []string
	for _, p := range perms {
		res := exo
		if p.Resource.AppID == graphAppID {
			res = graph
		}
		id := res.scopes[p.Value]
		if p.Kind == catalog.Application {
			id = res.roles[p.Value]
		}
		if id == "" {
			a.t.Fatalf("%s not published by the sim's %s", p.Value, p.Resource.Name)
		}
		entry := map[string]string{"id": id, "type": string(p.Kind)}
		if res.id == exo.id {
			exoAccess, exoNames = append(exoAccess, entry), append(exoNames, p.Value)
		} else {
			graphAccess, graphNames = append(graphAccess, entry), append(graphNames, p.Value)
		}
	}
	var rra []any
	if len(exoAccess) > 0 {
		rra = append(rra, map[string]any{"resourceAppId": exoAppID, "resourceAccess": exoAccess})
	}
	if len(graphAccess) > 0 {
		rra = append(rra, map[string]any{"resourceAppId": graphAppID, "resourceAccess": graphAccess})
	}
	body := map[string]any{
		"displayName":            "mailoauth test " + strconv.FormatInt(time.Now().UnixNano(), 36),
		"signInAudience":         "AzureADMyOrg",
		"requiredResourceAccess": rra,
	}
	if !o.flow.AppOnly() {
		body["isFallbackPublicClient"] = true
		body["publicClient"] = map[string]any{"redirectUris": []string{"http://localhost"}}
	}
	created := a.must("POST", "/applications", body, 201)
	ap := app{appID: created["appId"].(string), objectID: created["id"].(string)}
	sp := a.must("POST", "/servicePrincipals", map[string]any{"appId": ap.appID}, 201)
	ap.spID = sp["id"].(string)
	if !o.noConsent {
		for _, grant := range []struct {
			res   resourceSP
			names []string
		}{{exo, exoNames}, {graph, graphNames}} {
			if len(grant.names) == 0 {
				continue
			}
			if o.flow.AppOnly() {
				for _, n := range grant.names {
					a.must("POST", "/servicePrincipals/"+grant.res.id+"/appRoleAssignedTo",
						map[string]any{"principalId": ap.spID, "resourceId": grant.res.id, "appRoleId": grant.res.roles[n]}, 201)
				}
			} else {
				a.must("POST", "/oauth2PermissionGrants", map[string]any{"clientId": ap.spID, "consentType": "AllPrincipals",
					"resourceId": grant.res.id, "scope": strings.Join(grant.names, " ")}, 201)
			}
		}
	}
	pw := a.must("POST", "/applications/"+ap.objectID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "test"}}, 200)
	ap.secret, ap.secretAt = pw["secretText"].(string), time.Now()
	if slices.Contains(o.protocols, catalog.EWS) {
		// Since 2026-10 EWS serves only the organisation's allow-listed
		// apps (the seed lists another one): the list keeps it and adds this.
		if _, err := a.s.RunPowerShell(fmt.Sprintf(`Set-OrganizationConfig -EwsAllowedAppIDs "%s,%s"`, sim.SeedEWSAppID, ap.appID)); err != nil {
			a.t.Fatalf("PowerShell: %v", err)
		}
	}
	if o.exchange {
		obj := ap.spID
		if o.wrongObjectID {
			obj = ap.objectID
		}
		script := fmt.Sprintf("Connect-ExchangeOnline -Organization %s\nNew-ServicePrincipal -AppId %s -ObjectId %s\nAdd-MailboxPermission -Identity %s -User %s -AccessRights FullAccess",
			simTenant, ap.appID, obj, helpdesk, ap.spID)
		if o.spOnly {
			script = fmt.Sprintf("New-ServicePrincipal -AppId %s -ObjectId %s", ap.appID, obj)
		} else {
			script += fmt.Sprintf("\nAdd-RecipientPermission -Identity %s -AccessRights SendAs -Trustee %s -Confirm:$false", helpdesk, ap.spID)
		}
		if _, err := a.s.RunPowerShell(script); err != nil && !o.wrongObjectID {
			a.t.Fatalf("PowerShell: %v", err)
		}
	}
	return ap
}

// config is a login-test Config for an app in the sim.
func config(s *sim.Server, c cloud.Cloud, ap app, flow catalog.Flow, protocols ...catalog.Protocol) Config {
	cfg := Config{
		Cloud: c, Flow: flow, Protocols: protocols, Mailboxes: []string{helpdesk},
		TenantID: simTenant, ClientID: ap.appID, ServicePrincipalID: ap.spID, AppObjectID: ap.objectID,
		Timeout: testTimeout, HTTPClient: s.HTTPClient(),
	}
	switch flow {
	case catalog.ClientCredentials:
		cfg.Secret = ap.secret
	case catalog.ROPC:
		cfg.Passwords = map[string]string{helpdesk: helpdeskPW, mfaUser: mfaPW}
	case catalog.DeviceCode:
		cfg.DeviceCode.OnCode = func(p tokenPrompt) { _ = s.ApproveDeviceCode(p.UserCode, helpdesk) }
	}
	return cfg
}

type tokenPrompt = token.DeviceCodePrompt
