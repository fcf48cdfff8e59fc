package sim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
)

func TestGraphAuthAndScopes(t *testing.T) {
	s := startSim(t, Options{})
	st, body, _ := rawGraph{t: t, s: s}.do("GET", "/organization", nil)
	if st != 401 || graphCode(body) != "InvalidAuthenticationToken" {
		t.Fatalf("no token: %d %v", st, body)
	}
	inner, _ := body["error"].(map[string]any)["innerError"].(map[string]any)
	if inner["date"] == nil || inner["request-id"] == nil || inner["client-request-id"] == nil {
		t.Errorf("innerError %v", inner)
	}
	// A token for Exchange is not a Graph token.
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	res, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := (rawGraph{t: t, s: s, token: res.AccessToken}).do("GET", "/organization", nil); st != 401 || graphCode(body) != "InvalidAuthenticationToken" {
		t.Errorf("EXO token on Graph: %d %v", st, body)
	}
	// User.Read only: own profile yes, app writes and other users no.
	user := rawGraph{t: t, s: s, token: ropcToken(t, s, mailUPN, mailPW, []string{"User.Read"})}
	user.must(200, "GET", "/me", nil)
	user.must(200, "GET", "/organization", nil)
	for _, probe := range []struct{ method, path string }{{"POST", "/applications"}, {"GET", "/users/" + adminUPN}, {"GET", "/applications"}} {
		st, body, _ := user.do(probe.method, probe.path, map[string]any{"displayName": "x"})
		if st != 403 || graphCode(body) != "Authorization_RequestDenied" {
			t.Errorf("%s %s with User.Read: %d %v", probe.method, probe.path, st, body)
		}
	}
	// App-only with no Graph roles: /me is a bad request, apps are denied.
	resG, _ := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://graph.microsoft.com/.default"})
	appOnly := rawGraph{t: t, s: s, token: resG.AccessToken}
	if st, _, _ := appOnly.do("GET", "/applications", nil); st != 403 {
		t.Errorf("app-only without roles: %d", st)
	}
}

// TestGraphDirectoryRoles: a Cloud Application Administrator may grant
// Exchange app roles and delegated permissions but not Microsoft Graph
// application permissions (microsoft.md §5).
func TestGraphDirectoryRoles(t *testing.T) {
	s := startSim(t, Options{})
	admin := adminGraph(t, s)
	app := newApp(t, admin, map[string]any{})
	cloud := rawGraph{t: t, s: s, token: ropcToken(t, s, cloudUPN, cloudPW, adminScopes)}
	graphSP := resourceSPID(t, cloud, GraphAppID)
	exoSP := resourceSPID(t, cloud, EXOAppID)
	st, body, _ := cloud.do("POST", "/servicePrincipals/"+graphSP+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": graphSP, "appRoleId": roleMailRead})
	if st != 403 || graphCode(body) != "Authorization_RequestDenied" {
		t.Fatalf("cloud admin granting Graph Mail.Read: %d %v", st, body)
	}
	cloud.must(201, "POST", "/servicePrincipals/"+exoSP+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": exoSP, "appRoleId": roleIMAPApp})
	cloud.must(201, "POST", "/oauth2PermissionGrants", map[string]any{"clientId": app.spID, "consentType": "AllPrincipals", "resourceId": exoSP, "scope": "IMAP.AccessAsUser.All"})
	admin.must(201, "POST", "/servicePrincipals/"+graphSP+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": graphSP, "appRoleId": roleMailRead})
	// A user without an admin role cannot even get the admin scopes...
	_, err := publicClient(t, s, GraphCLIClientID, "").AcquireTokenByUsernamePassword(ctx(t), adminScopes, mailUPN, mailPW)
	wantAAD(t, err, 65001)
	// ...and a token with Directory.AccessAsUser.All (through Azure CLI) does
	// not make them an administrator either.
	res, err := publicClient(t, s, AzureCLIClientID, "").AcquireTokenByUsernamePassword(ctx(t), []string{"https://graph.microsoft.com/Directory.AccessAsUser.All"}, mailUPN, mailPW)
	if err != nil {
		t.Fatal(err)
	}
	nobody := rawGraph{t: t, s: s, token: res.AccessToken}
	st, body, _ = nobody.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": app.spID, "consentType": "AllPrincipals", "resourceId": graphSP, "scope": "User.Read"})
	if st != 403 || graphCode(body) != "Authorization_RequestDenied" {
		t.Errorf("plain user granting: %d %v", st, body)
	}
	// A Graph role that does not exist on the resource.
	st, body, _ = admin.do("POST", "/servicePrincipals/"+exoSP+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": exoSP, "appRoleId": "11111111-1111-1111-1111-111111111111"})
	if st != 400 || graphCode(body) != "Request_BadRequest" {
		t.Errorf("unknown role: %d %v", st, body)
	}
}

func TestGraphQueriesAndBadInput(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	for _, q := range []string{"$orderby=displayName", "$filter=" + url.QueryEscape("startswith(displayName,'a')"), "$filter=" + url.QueryEscape("displayName ne 'a'"), "$filter=" + url.QueryEscape("signInAudience eq 'x'")} {
		st, body, _ := g.do("GET", "/applications?"+q, nil)
		if st != 400 || graphCode(body) != "Request_UnsupportedQuery" {
			t.Errorf("%s: %d %v", q, st, body)
		}
	}
	g.must(200, "GET", "/applications?$select=id,appId&$top=5", nil)
	// The directory-role cast is an advanced query (ConsistencyLevel and
	// $count); the admin's token (no role-reading permission) gets the
	// role objects with limited information.
	st, body, _ := g.do("GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole", nil)
	if st != 400 || graphCode(body) != "Request_UnsupportedQuery" || !strings.Contains(body["error"].(map[string]any)["message"].(string), "ConsistencyLevel:eventual") {
		t.Errorf("cast without advanced query parameters: %d %v", st, body)
	}
	roles := g.withHeader("ConsistencyLevel", "eventual").must(200, "GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil)
	if v := roles["value"].([]any); len(v) != 1 || v[0].(map[string]any)["roleTemplateId"] != nil || v[0].(map[string]any)["displayName"] != nil || v[0].(map[string]any)["id"] == nil || roles["@odata.count"] != 1.0 {
		t.Errorf("directory roles %v", roles)
	}
	dirRead := rawGraph{t: t, s: s, token: ropcToken(t, s, adminUPN, adminPW, []string{"https://graph.microsoft.com/Directory.Read.All"}), header: map[string]string{"ConsistencyLevel": "eventual"}}
	if v := dirRead.must(200, "GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil)["value"].([]any); v[0].(map[string]any)["displayName"] != "Global Administrator" || v[0].(map[string]any)["roleTemplateId"] != RoleGlobalAdmin {
		t.Errorf("roles with Directory.Read.All: %v", v)
	}
	g.must(200, "GET", "/users('"+url.PathEscape(mailUPN)+"')", nil)
	// Bad bodies and paths: Graph errors, never a crash.
	for _, probe := range []struct {
		method, path, body string
	}{
		{"POST", "/applications", "{not json"}, {"POST", "/applications", ""}, {"POST", "/applications", `{"displayName": 7}`},
		{"PATCH", "/applications/nope", `{}`}, {"POST", "/servicePrincipals", `{}`}, {"GET", "/nosuchthing", ""},
		{"POST", "/oauth2PermissionGrants", `{"clientId":"x"}`}, {"POST", "/$batch", `{"requests":"x"}`},
		{"GET", "/applications(appId=unquoted)", ""}, {"DELETE", "/servicePrincipals/x/appRoleAssignedTo/y", ""},
	} {
		req, _ := http.NewRequest(probe.method, s.Info().GraphURL+"/v1.0"+probe.path, strings.NewReader(probe.body))
		req.Header.Set("Authorization", "Bearer "+g.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || graphCode(out) == "" {
			t.Errorf("%s %s %q: %d %v", probe.method, probe.path, probe.body, resp.StatusCode, out)
		}
	}
	// gzip-encoded body, as msgraph-sdk-go sends.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"displayName":"Zipped"}`))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", s.Info().GraphURL+"/v1.0/applications", &buf)
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := s.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("gzip body: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	// Batch limits.
	var reqs []map[string]any
	for i := range 21 {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i), "method": "GET", "url": "/organization"})
	}
	if st, _, _ := g.do("POST", "/$batch", map[string]any{"requests": reqs}); st != 400 {
		t.Errorf("21 requests: %d", st)
	}
	if st, _, _ := g.do("POST", "/$batch", map[string]any{"requests": []any{reqs[0], reqs[0]}}); st != 400 {
		t.Errorf("duplicate ids: %d", st)
	}
	out := g.must(200, "POST", "/$batch", map[string]any{"requests": reqs[:2]})
	if r := out["responses"].([]any); len(r) != 2 || r[0].(map[string]any)["status"].(float64) != 200 {
		t.Errorf("batch of 2: %v", out)
	}
}

func TestSecretLifetimePolicy(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	a := g.must(201, "POST", "/applications", map[string]any{"displayName": "Policy"})
	s.SetMaxSecretLifetime(90 * 24 * time.Hour)
	end := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
	st, body, _ := g.do("POST", "/applications/"+a["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": end}})
	msg, _ := body["error"].(map[string]any)["message"].(string)
	if st != 400 || !strings.Contains(msg, "Credential lifetime exceeds the max value allowed as per assigned policy '") {
		t.Fatalf("long secret under policy: %d %v", st, body)
	}
	end = time.Now().AddDate(0, 0, 30).UTC().Format(time.RFC3339)
	g.must(200, "POST", "/applications/"+a["id"].(string)+"/addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": end}})
}

func TestReplicationDelays(t *testing.T) {
	const d = 400 * time.Millisecond
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	c := ctx(t)
	s.SetDelays(Delays{AppToServicePrincipal: d, ServicePrincipalToGrant: d, SecretToToken: d, AppToToken: d, Consent: d})

	a := g.must(201, "POST", "/applications", map[string]any{"displayName": "Replicating", "isFallbackPublicClient": true})
	st, body, _ := g.do("POST", "/servicePrincipals", map[string]any{"appId": a["appId"]})
	details, _ := body["error"].(map[string]any)["details"].([]any)
	if st != 400 || graphCode(body) != "Request_BadRequest" || len(details) == 0 || details[0].(map[string]any)["code"] != "NoBackingApplicationObject" {
		t.Fatalf("SP for a new app: %d %v", st, body)
	}
	pw := g.must(200, "POST", "/applications/"+a["id"].(string)+"/addPassword", map[string]any{})
	_, err := confidentialClient(t, s, a["appId"].(string), pw["secretText"].(string), "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 700016)
	time.Sleep(d)
	sp := g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": a["appId"]})
	app := testApp{id: a["id"].(string), appID: a["appId"].(string), spID: sp["id"].(string), secret: pw["secretText"].(string)}
	exo := resourceSPID(t, g, EXOAppID)
	st, body, _ = g.do("POST", "/servicePrincipals/"+exo+"/appRoleAssignedTo", map[string]any{"principalId": app.spID, "resourceId": exo, "appRoleId": roleIMAPApp})
	if st != 404 || graphCode(body) != "Request_ResourceNotFound" {
		t.Fatalf("assignment to a new SP: %d %v", st, body)
	}
	st, body, _ = g.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": app.spID, "consentType": "AllPrincipals", "resourceId": exo, "scope": "IMAP.AccessAsUser.All"})
	if st != 404 || graphCode(body) != "Request_ResourceNotFound" {
		t.Fatalf("grant for a new SP: %d %v", st, body)
	}
	time.Sleep(d)
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	grantDelegated(t, g, app, EXOAppID, "IMAP.AccessAsUser.All")
	// Consent not yet effective: app-only gets a token without the role
	// (and Exchange refuses it), delegated gets AADSTS65001.
	cc := confidentialClient(t, s, app.appID, app.secret, "")
	early, err := cc.AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatalf("app-only during the consent delay: %v", err)
	}
	if _, cl := claimsOf(t, early.AccessToken); cl["roles"] != nil {
		t.Errorf("a role before consent replicated: %v", cl["roles"])
	}
	ic := dialIMAP(t, s)
	if err := ic.Authenticate(&xoauth2{mailUPN, early.AccessToken}); err == nil || !strings.Contains(err.Error(), "AUTHENTICATE failed") {
		t.Errorf("Exchange with a role-less token: %v", err)
	}
	_, err = publicClient(t, s, app.appID, "").AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW)
	wantAAD(t, err, 65001)
	time.Sleep(d)
	// MSAL caches the role-less token; a fresh client asks Entra again.
	late, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatalf("after the consent delay: %v", err)
	}
	if _, cl := claimsOf(t, late.AccessToken); cl["roles"] == nil {
		t.Errorf("no role after the consent delay: %v", cl)
	}
	// A grant's new scope replicates too; what was consented stays usable.
	grants := g.must(200, "GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+app.spID+"'"), nil)["value"].([]any)
	g.must(204, "PATCH", "/oauth2PermissionGrants/"+grants[0].(map[string]any)["id"].(string), map[string]any{"scope": "IMAP.AccessAsUser.All POP.AccessAsUser.All"})
	pcl := publicClient(t, s, app.appID, "")
	if _, err := pcl.AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW); err != nil {
		t.Errorf("consented scope during a scope change: %v", err)
	}
	_, err = pcl.AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/POP.AccessAsUser.All"}, mailUPN, mailPW)
	wantAAD(t, err, 65001)
	time.Sleep(d)
	if _, err := pcl.AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/POP.AccessAsUser.All"}, mailUPN, mailPW); err != nil {
		t.Errorf("added scope after the delay: %v", err)
	}
	// A new secret is not yet valid.
	pw2 := g.must(200, "POST", "/applications/"+app.id+"/addPassword", map[string]any{})
	_, err = confidentialClient(t, s, app.appID, pw2["secretText"].(string), "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 7000215)
	time.Sleep(d)
	if _, err := confidentialClient(t, s, app.appID, pw2["secretText"].(string), "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"}); err != nil {
		t.Fatalf("after the secret delay: %v", err)
	}
}

func TestGraphFaults(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	s.Throttle(1, 2*time.Second)
	st, body, h := g.do("GET", "/organization", nil)
	if st != 429 || h.Get("Retry-After") != "2" || graphCode(body) != "TooManyRequests" {
		t.Fatalf("throttled: %d %v %v", st, h.Get("Retry-After"), body)
	}
	g.must(200, "GET", "/organization", nil)
	s.FailNext(1, 503)
	if st, body, _ := g.do("GET", "/organization", nil); st != 503 || graphCode(body) != "ServiceUnavailable" {
		t.Fatalf("503: %d %v", st, body)
	}
	s.FailNext(1, 504)
	if st, _, _ := g.do("GET", "/organization", nil); st != 504 {
		t.Fatalf("504: %d", st)
	}
	// msgraph-sdk-go retries a throttled request after Retry-After.
	gc := newGraphClient(t, s, g.token)
	s.Throttle(1, time.Second)
	s.ResetRequests()
	start := time.Now()
	if err := gc.call(ctx(t), abs.GET, "/organization", nil, nil); err != nil {
		t.Fatalf("SDK after one 429: %v", err)
	}
	if time.Since(start) < time.Second {
		t.Errorf("the SDK did not wait for Retry-After")
	}
	var statuses []int
	for _, r := range s.Requests() {
		if r.Service == "graph" {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[429 200]" {
		t.Errorf("graph statuses %v", statuses)
	}
}

func TestGraphMailIsMounted(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantRole(t, g, app, GraphAppID, roleMailRead)
	res, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	mail := rawGraph{t: t, s: s, token: res.AccessToken}
	out := mail.must(200, "GET", "/users/"+mailUPN+"/messages?$top=1", nil)
	if v, _ := out["value"].([]any); len(v) != 1 {
		t.Errorf("messages: %v", out)
	}
	req, _ := http.NewRequest("GET", s.Info().GraphURL+"/v1.0/users/"+mailUPN+"/mailFolders/inbox", nil)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("mail without token: %d %s", resp.StatusCode, b)
	}
}

// Every collection honours $filter and $top the same way (one list helper).
func TestCollectionsFilterAndTop(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantDelegated(t, g, app, GraphAppID, "User.Read")
	grantDelegated(t, g, app, EXOAppID, "IMAP.AccessAsUser.All")
	count := func(path string) int {
		return len(g.must(200, "GET", path, nil)["value"].([]any))
	}
	filter := "?$filter=" + url.QueryEscape("clientId eq '"+app.spID+"'")
	if n := count("/oauth2PermissionGrants" + filter); n != 2 {
		t.Errorf("grants of the app: %d, want 2", n)
	}
	if n := count("/oauth2PermissionGrants" + filter + "&$top=1"); n != 1 {
		t.Errorf("grants with $top=1: %d", n)
	}
	if n := count("/users?$top=2"); n != 2 {
		t.Errorf("users with $top=2: %d", n)
	}
	if n := count("/applications?$filter=" + url.QueryEscape("appId eq '"+app.appID+"'")); n != 1 {
		t.Errorf("applications by appId: %d", n)
	}
	if n := count("/servicePrincipals?$filter=" + url.QueryEscape("appId eq 'no-such-app'")); n != 0 {
		t.Errorf("no match: %d", n)
	}
	if st, body, _ := g.do("GET", "/servicePrincipals?$filter="+url.QueryEscape("tags eq 'x'"), nil); st != 400 || graphCode(body) != "Request_UnsupportedQuery" {
		t.Errorf("unsupported filter property: %d %s", st, graphCode(body))
	}
}
