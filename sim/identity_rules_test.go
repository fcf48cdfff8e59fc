package sim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// App-only tokens in Graph's v1.0 shape: sub = oid, idtyp app, appidacr 1
// for a secret; no upn.
func TestAppOnlyTokenShape(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantRole(t, g, app, GraphAppID, roleMailRead)
	res, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	_, c := claimsOf(t, res.AccessToken)
	want := map[string]any{"iss": "https://sts.windows.net/" + TenantID + "/", "appid": app.appID, "appidacr": "1", "idtyp": "app", "oid": app.spID, "sub": app.spID, "ver": "1.0"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if c["upn"] != nil || c["scp"] != nil || c["roles"].([]any)[0] != "Mail.Read" {
		t.Errorf("claims %v", c)
	}
}

// A deactivated app (isDisabled, by a Cloud Application Administrator) and
// a service principal with sign-in disabled get AADSTS7000112.
func TestDisabledApps(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"tags": []string{"mailoauth", "product:agiloft"}, "notes": "Made by mailoauth"})
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	cc := func() error {
		_, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		return err
	}
	if err := cc(); err != nil {
		t.Fatal(err)
	}
	// Tags and notes are stored, and tags filter with any().
	a := g.must(200, "GET", "/applications/"+app.id, nil)
	if a["notes"] != "Made by mailoauth" || len(a["tags"].([]any)) != 2 || a["isDisabled"] != nil {
		t.Errorf("app %v", a)
	}
	if v := g.must(200, "GET", "/applications?$filter="+url.QueryEscape("tags/any(t:t eq 'mailoauth')"), nil)["value"].([]any); len(v) != 1 {
		t.Errorf("tags/any filter: %v", v)
	}
	// Deactivation needs Cloud Application Administrator or more.
	cloud := rawGraph{t: t, s: s, token: ropcToken(t, s, cloudUPN, cloudPW, []string{"https://graph.microsoft.com/Application.ReadWrite.All"})}
	cloud.must(204, "PATCH", "/applications/"+app.id, map[string]any{"isDisabled": true})
	err := cc()
	wantAAD(t, err, 7000112)
	if !strings.Contains(err.Error(), "AADSTS7000112: Application '"+app.appID+"'(") || !strings.Contains(err.Error(), ") is disabled.") {
		t.Errorf("7000112 text: %v", err)
	}
	if v := g.must(200, "GET", "/applications?$filter="+url.QueryEscape("isDisabled eq true"), nil)["value"].([]any); len(v) != 1 {
		t.Errorf("isDisabled filter: %v", v)
	}
	g.must(204, "PATCH", "/applications/"+app.id, map[string]any{"isDisabled": false})
	if err := cc(); err != nil {
		t.Errorf("reactivated: %v", err)
	}
	g.must(204, "PATCH", "/servicePrincipals/"+app.spID, map[string]any{"accountEnabled": false})
	wantAAD(t, cc(), 7000112)
}

// 50194 names the app's id and display name; [::1] is no loopback redirect.
func TestSingleTenantAndLoopbackRules(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"displayName": "One tenant app", "signInAudience": "AzureADMyOrg", "isFallbackPublicClient": true,
		"publicClient": map[string]any{"redirectUris": []string{"http://localhost"}}})
	_, err := publicClient(t, s, app.appID, "organizations").AcquireTokenByUsernamePassword(ctx(t), []string{"User.Read"}, adminUPN, adminPW)
	wantAAD(t, err, 50194)
	if !strings.Contains(err.Error(), "Application '"+app.appID+"'(One tenant app) is not configured as a multi-tenant application.") {
		t.Errorf("50194 text: %v", err)
	}
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	authorize := func(redirect string) int {
		q := url.Values{"client_id": {app.appID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"User.Read"}}
		resp, err := hc.Get(s.Info().Authority + "/oauth2/v2.0/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 400 && !strings.Contains(string(b), "AADSTS50011") {
			t.Errorf("%s: %s", redirect, b)
		}
		return resp.StatusCode
	}
	if st := authorize("http://localhost:49152/"); st != 200 {
		t.Errorf("localhost with a port: %d", st)
	}
	if st := authorize("http://127.0.0.1:49152/"); st != 200 {
		t.Errorf("127.0.0.1 with a port: %d", st)
	}
	if st := authorize("http://[::1]:49152/"); st != 400 {
		t.Errorf("[::1]: %d, want the redirect mismatch page", st)
	}
}
