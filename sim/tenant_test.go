package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	tailspinAdmin   = "admin@tailspintoys.onmicrosoft.com"
	tailspinAdminPW = "Demo-Tailspin-2026!"
	tailspinOrders  = "orders@tailspintoys.com"
)

// A multi-tenant app registered in Contoso is consented in the second
// tenant (Tailspin Toys): admin consent on /{tenant}/adminconsent, a
// service principal for a foreign appId over Graph, tokens with the second
// tenant's tid, and the Exchange side in the second tenant's organization.
func TestSecondTenantConsent(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	vendor := g.must(201, "POST", "/applications", map[string]any{"displayName": "Vendor app", "signInAudience": "AzureADMultipleOrgs",
		"web":                    map[string]any{"redirectUris": []string{"https://vendor.example/consent"}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": EXOAppID, "resourceAccess": []any{map[string]any{"id": roleIMAPApp, "type": "Role"}}}}})
	vendorID := vendor["appId"].(string)
	g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": vendorID})
	secret := g.must(200, "POST", "/applications/"+vendor["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "vendor"}})["secretText"].(string)
	single := newApp(t, g, map[string]any{"signInAudience": "AzureADMyOrg"})

	second := s.Info().OtherTenants
	if len(second) != 1 || second[0].TenantID != SecondTenantID || second[0].Users[0].UPN != tailspinAdmin {
		t.Fatalf("other tenants: %+v", second)
	}
	tokenIn := func(appID, sec string) (string, error) {
		res, err := confidentialClient(t, s, appID, sec, SecondTenantID).AcquireTokenByCredential(ctx(t), []string{exoScope})
		return res.AccessToken, err
	}
	// Before consent: no service principal in the second tenant.
	_, err := tokenIn(vendorID, secret)
	wantAAD(t, err, 7000229)
	_, err = tokenIn(single.appID, single.secret)
	wantAAD(t, err, 700016)
	if !strings.Contains(err.Error(), "was not found in the directory 'Tailspin Toys'") {
		t.Errorf("700016 names the tenant: %v", err)
	}

	// The second tenant's admin consents on its own adminconsent endpoint.
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.PostForm(s.Info().AuthorityHost+"/"+SecondTenantID+"/adminconsent", url.Values{"client_id": {vendorID},
		"redirect_uri": {"https://vendor.example/consent"}, "upn": {adminUPN}, "password": {adminPW}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Errorf("Contoso's admin consented in Tailspin Toys: %s", resp.Header.Get("Location"))
	}
	resp, err = hc.PostForm(s.Info().AuthorityHost+"/"+SecondTenantDefaultDomain+"/adminconsent", url.Values{"client_id": {vendorID},
		"redirect_uri": {"https://vendor.example/consent"}, "upn": {tailspinAdmin}, "password": {tailspinAdminPW}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("tenant") != SecondTenantID || loc.Query().Get("admin_consent") != "True" {
		t.Fatalf("consent in the second tenant: %d %s", resp.StatusCode, loc)
	}
	tok, err := tokenIn(vendorID, secret)
	if err != nil {
		t.Fatal(err)
	}
	_, c := claimsOf(t, tok)
	if c["tid"] != SecondTenantID || c["iss"] != "https://sts.windows.net/"+SecondTenantID+"/" || c["roles"].([]any)[0] != "IMAP.AccessAsApp" {
		t.Errorf("second-tenant token: %v", c)
	}

	// Graph in the second tenant: its own directory only.
	g2 := rawGraph{t: t, s: s, token: tailspinGraph(t, s)}
	sp := g2.must(200, "GET", "/servicePrincipals(appId='"+vendorID+"')", nil)
	if sp["appOwnerOrganizationId"] != TenantID {
		t.Errorf("foreign service principal: %v", sp)
	}
	if v := g2.must(200, "GET", "/applications", nil)["value"].([]any); len(v) != 0 {
		t.Errorf("Contoso's apps seen from Tailspin Toys: %v", v)
	}
	if st, _, _ := g2.do("GET", "/applications(appId='"+vendorID+"')", nil); st != 404 {
		t.Errorf("a foreign app registration by appId: %d", st)
	}
	if v := g2.must(200, "GET", "/users", nil)["value"].([]any); len(v) != 2 {
		t.Errorf("Tailspin Toys users: %v", v)
	}
	if org := g2.must(200, "GET", "/organization", nil)["value"].([]any)[0].(map[string]any); org["id"] != SecondTenantID {
		t.Errorf("organization: %v", org)
	}
	if st, body, _ := g2.do("POST", "/servicePrincipals", map[string]any{"appId": single.appID}); st != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "does not reference a valid application object") {
		t.Errorf("a service principal for another tenant's single-tenant app: %d %v", st, body)
	}

	// Exchange in the second tenant's organization, over its admin API.
	api := exoCall{t: t, s: s, token: exoTokenIn(t, s, SecondTenantID, tailspinAdmin, tailspinAdminPW), anchor: "UPN:" + tailspinAdmin, tenant: SecondTenantID}
	api.must("New-ServicePrincipal", map[string]any{"AppId": vendorID, "ObjectId": sp["id"]})
	api.must("Add-MailboxPermission", map[string]any{"Identity": tailspinOrders, "User": sp["id"], "AccessRights": []string{"FullAccess"}})
	if r := api.must("Get-OrganizationConfig", map[string]any{"RetrieveEwsOperationAccessPolicy": true}); r.values()[0]["EwsEnabled"] != nil || r.values()[0]["Name"] != SecondTenantInitialDomain {
		t.Errorf("second tenant's organization: %s", r.raw)
	}
	ic := dialIMAP(t, s)
	if err := ic.Authenticate(&xoauth2{tailspinOrders, tok}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Errorf("the vendor's app on orders@: %v", err)
	}
	// Contoso's admin token is not for Tailspin Toys' organization.
	other := exoCall{t: t, s: s, token: exoToken(t, s, adminUPN, adminPW), anchor: "UPN:" + adminUPN, tenant: SecondTenantID}
	if r := other.run("Get-TransportConfig", nil); !isBodyless403(r) {
		t.Errorf("Contoso's token on Tailspin Toys' admin API: %d", r.status)
	}
	// A Contoso token does not open a Tailspin Toys mailbox.
	ic2 := dialIMAP(t, s)
	home, err := confidentialClient(t, s, vendorID, secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
	if err != nil {
		t.Fatal(err)
	}
	if err := ic2.Authenticate(&xoauth2{tailspinOrders, home.AccessToken}); err == nil {
		t.Error("a Contoso token logged in to a Tailspin Toys mailbox")
	}
}

func tailspinGraph(t testing.TB, s *Server) string {
	t.Helper()
	res, err := publicClient(t, s, GraphCLIClientID, SecondTenantID).AcquireTokenByUsernamePassword(ctx(t), adminScopes, tailspinAdmin, tailspinAdminPW)
	if err != nil {
		t.Fatal(err)
	}
	return res.AccessToken
}

func exoTokenIn(t testing.TB, s *Server, tenant, upn, pw string) string {
	t.Helper()
	res, err := publicClient(t, s, ExchangePowerShellClientID, tenant).AcquireTokenByUsernamePassword(ctx(t), []string{exoScope}, upn, pw)
	if err != nil {
		t.Fatalf("Exchange token for %s: %v", upn, err)
	}
	return res.AccessToken
}

// organizations: the user's own tenant decides (device code approved by
// the second tenant's admin gives that tenant's token).
func TestOrganizationsEndpointFollowsTheUser(t *testing.T) {
	s := startSim(t, Options{})
	res, err := publicClient(t, s, GraphCLIClientID, "organizations").AcquireTokenByUsernamePassword(ctx(t), []string{"User.Read"}, tailspinAdmin, tailspinAdminPW)
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claimsOf(t, res.AccessToken); c["tid"] != SecondTenantID || c["upn"] != tailspinAdmin {
		t.Errorf("claims %v", c)
	}
	// On Contoso's own endpoint a Tailspin Toys user does not exist.
	_, err = publicClient(t, s, GraphCLIClientID, TenantID).AcquireTokenByUsernamePassword(ctx(t), []string{"User.Read"}, tailspinAdmin, tailspinAdminPW)
	wantAAD(t, err, 50034)
}
