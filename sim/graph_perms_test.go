package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every call the sim serves takes exactly the permissions Microsoft
// documents: the least one passes alone, a plausible wrong one is refused
// with 403 Authorization_RequestDenied.
func TestGraphLeastPermissions(t *testing.T) {
	s := startSim(t, Options{})
	admin := adminGraph(t, s)
	app := newApp(t, admin, map[string]any{})
	graphSP := resourceSPID(t, admin, GraphAppID)
	grantDelegated(t, admin, app, GraphAppID, "User.Read")
	as := func(scopes ...string) rawGraph {
		var full []string
		for _, sc := range scopes {
			full = append(full, "https://graph.microsoft.com/"+sc)
		}
		return rawGraph{t: t, s: s, token: ropcToken(t, s, adminUPN, adminPW, full)}
	}
	cases := []struct {
		name, method, path string
		body               any
		ok, denied         []string // scope sets
	}{
		{"organization", "GET", "/organization", nil, []string{"User.Read"}, []string{"User.Read.All"}},
		{"list grants", "GET", "/oauth2PermissionGrants?$filter=" + url.QueryEscape("clientId eq '"+app.spID+"'"), nil, []string{"Directory.Read.All"}, []string{"Application.ReadWrite.All"}},
		{"list grants (DPG)", "GET", "/oauth2PermissionGrants", nil, []string{"DelegatedPermissionGrant.ReadWrite.All"}, []string{"AppRoleAssignment.ReadWrite.All"}},
		{"list apps", "GET", "/applications", nil, []string{"Application.Read.All"}, []string{"User.Read.All"}},
		{"read SP", "GET", "/servicePrincipals(appId='" + GraphAppID + "')", nil, []string{"Application.Read.All"}, []string{"User.Read"}},
		{"assignments", "GET", "/servicePrincipals/" + graphSP + "/appRoleAssignedTo", nil, []string{"Application.Read.All"}, []string{"AppRoleAssignment.ReadWrite.All"}},
		{"user", "GET", "/users/" + mailUPN, nil, []string{"User.ReadBasic.All"}, []string{"User.Read"}},
		{"licences", "GET", "/users/" + mailUPN + "/licenseDetails", nil, []string{"User.Read.All"}, []string{"User.ReadBasic.All"}},
		{"create app", "POST", "/applications", map[string]any{"displayName": "least"}, []string{"Application.ReadWrite.All"}, []string{"Directory.ReadWrite.All"}},
		{"grant role", "POST", "/servicePrincipals/" + graphSP + "/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": graphSP, "appRoleId": roleMailRead},
			[]string{"AppRoleAssignment.ReadWrite.All", "Application.Read.All"}, []string{"AppRoleAssignment.ReadWrite.All"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, body, _ := as(tc.denied...).do(tc.method, tc.path, tc.body)
			if st != 403 || graphCode(body) != "Authorization_RequestDenied" {
				t.Errorf("with %v: %d %v", tc.denied, st, body)
			}
			if st, body, _ := as(tc.ok...).do(tc.method, tc.path, tc.body); st >= 300 {
				t.Errorf("with %v: %d %v", tc.ok, st, body)
			}
		})
	}
	// User.ReadBasic.All reads the basic profile only.
	u := as("User.ReadBasic.All").must(200, "GET", "/users/"+mailUPN, nil)
	if u["displayName"] != "Help Desk" || u["accountEnabled"] != nil {
		t.Errorf("basic profile: %v", u)
	}
	// User.Read only: the organization's id, name and domains, nothing else.
	org := as("User.Read").must(200, "GET", "/organization", nil)["value"].([]any)[0].(map[string]any)
	if org["id"] != TenantID || org["verifiedDomains"] == nil || org["countryLetterCode"] != nil {
		t.Errorf("organization with User.Read: %v", org)
	}
}

// An app-only re-run that reads grants with Application.ReadWrite.All is
// refused; Directory.Read.All reads them (microsoft.md §15.3).
func TestGraphAppOnlyGrantRead(t *testing.T) {
	s := startSim(t, Options{})
	admin := adminGraph(t, s)
	app := newApp(t, admin, map[string]any{})
	grantRole(t, admin, app, GraphAppID, "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9") // Application.ReadWrite.All
	token := func() string {
		res, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://graph.microsoft.com/.default"})
		if err != nil {
			t.Fatal(err)
		}
		return res.AccessToken
	}
	g := rawGraph{t: t, s: s, token: token()}
	if st, body, _ := g.do("GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+app.spID+"'"), nil); st != 403 || graphCode(body) != "Authorization_RequestDenied" {
		t.Errorf("app-only grant read with Application.ReadWrite.All: %d %v", st, body)
	}
	g.must(200, "GET", "/applications?$filter="+url.QueryEscape("appId eq '"+app.appID+"'"), nil)
	grantRole(t, admin, app, GraphAppID, "7ab1d382-f21e-4acd-a863-ba3e13f7da61") // Directory.Read.All
	g = rawGraph{t: t, s: s, token: token()}
	g.must(200, "GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+app.spID+"'"), nil)
	// /me is delegated only; a token with neither scp nor roles is refused.
	if st, _, _ := g.do("GET", "/me", nil); st != 400 {
		t.Errorf("/me app-only: %d", st)
	}
}

// Delegated grants may also be made by Application Developers (and
// Directory Writers, User Administrators), not only application admins.
func TestGraphGrantWriterRoles(t *testing.T) {
	s := startSim(t, Options{})
	admin := adminGraph(t, s)
	app := newApp(t, admin, map[string]any{})
	graphSP := resourceSPID(t, admin, GraphAppID)
	// An admin consents the Graph Command Line Tools for everyone first
	// (an Application Developer cannot consent admin scopes itself).
	dpg := []string{"https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All"}
	if _, err := publicClient(t, s, GraphCLIClientID, "").AcquireTokenByUsernamePassword(ctx(t), dpg, "appdev@contoso.com", "Demo-Dev-2026!"); aadCode(err) != 65001 {
		t.Fatalf("Application Developer consenting an admin scope: %v", err)
	}
	cli := admin.must(201, "POST", "/servicePrincipals", map[string]any{"appId": GraphCLIClientID})
	admin.must(201, "POST", "/oauth2PermissionGrants", map[string]any{"clientId": cli["id"], "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "DelegatedPermissionGrant.ReadWrite.All"})
	dev := rawGraph{t: t, s: s, token: ropcToken(t, s, "appdev@contoso.com", "Demo-Dev-2026!", dpg)}
	dev.must(201, "POST", "/oauth2PermissionGrants", map[string]any{"clientId": app.spID, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "User.Read"})
}

// Directory collections page: $top or the page size, @odata.nextLink with
// the same query, across every collection.
func TestGraphPaging(t *testing.T) {
	s := startSim(t, Options{})
	s.SetGraphPageSize(2)
	g := adminGraph(t, s)
	for i := 0; i < 4; i++ {
		g.must(201, "POST", "/applications", map[string]any{"displayName": "Paged app"})
	}
	other := g.must(201, "POST", "/applications", map[string]any{"displayName": "Other app"})
	g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": other["appId"]})
	follow := func(path string) (names []string, pages int) {
		next := s.Info().GraphURL + "/v1.0" + path
		for next != "" && pages < 10 {
			req, _ := http.NewRequest("GET", next, nil)
			req.Header.Set("Authorization", "Bearer "+g.token)
			resp, err := s.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Value []map[string]any `json:"value"`
				Next  string           `json:"@odata.nextLink"`
			}
			if resp.StatusCode != 200 || decodeJSON(resp, &body) != nil {
				t.Fatalf("page %d of %s: %d", pages, path, resp.StatusCode)
			}
			if len(body.Value) > 2 {
				t.Errorf("page of %d", len(body.Value))
			}
			for _, v := range body.Value {
				names = append(names, v["displayName"].(string))
			}
			pages++
			next = body.Next
		}
		return names, pages
	}
	names, pages := follow("/applications?$filter=" + url.QueryEscape("displayName eq 'Paged app'") + "&$select=id,displayName")
	if len(names) != 4 || pages != 2 || strings.Contains(strings.Join(names, ","), "Other") {
		t.Errorf("filtered apps across pages: %v in %d pages", names, pages)
	}
	if names, _ := follow("/applications?$top=1"); len(names) != 5 {
		t.Errorf("$top as the page size: %v", names)
	}
	if names, pages := follow("/users"); len(names) != 8 || pages != 4 {
		t.Errorf("users: %d in %d pages", len(names), pages)
	}
	if names, pages := follow("/servicePrincipals"); len(names) != 3 || pages != 2 {
		t.Errorf("service principals: %v in %d pages", names, pages)
	}
	if st, body, _ := g.do("GET", "/applications?$skiptoken=garbage", nil); st != 400 {
		t.Errorf("bad skip token: %d %v", st, body)
	}
}
