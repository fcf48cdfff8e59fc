package sim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAgedSecrets(t *testing.T) {
	s := startSim(t, Options{Delays: Delays{SecretToToken: time.Hour}})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	now := time.Now()
	expired, _, err := s.AddAgedSecret(app.appID, "old", now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	soon, soonKey, err := s.AddAgedSecret(app.appID, "soon", now.AddDate(-1, 0, 0), now.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	// Aged secrets were added long ago: SecretToToken does not hold them back.
	_, err = confidentialClient(t, s, app.appID, expired, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
	wantAAD(t, err, 7000222)
	if _, err := confidentialClient(t, s, app.appID, soon, "").AcquireTokenByCredential(ctx(t), []string{exoScope}); err != nil {
		t.Errorf("a secret 5 days from expiry: %v", err)
	}
	body := g.must(200, "GET", "/applications/"+app.id, nil)
	found := false
	for _, p := range body["passwordCredentials"].([]any) {
		pc := p.(map[string]any)
		if pc["keyId"] == soonKey {
			found = true
			if pc["displayName"] != "soon" || pc["secretText"] != nil {
				t.Errorf("aged secret as Graph shows it: %v", pc)
			}
			end, _ := time.Parse(time.RFC3339, pc["endDateTime"].(string))
			if d := end.Sub(now); d < 4*24*time.Hour || d > 6*24*time.Hour {
				t.Errorf("endDateTime %v", end)
			}
		}
	}
	if !found {
		t.Errorf("aged secret missing: %v", body["passwordCredentials"])
	}
	if _, _, err := s.AddAgedSecret(app.appID, "", now, now.Add(-time.Hour)); err == nil {
		t.Error("an end before the start was accepted")
	}
	if _, _, err := s.AddAgedSecret("00000000-0000-0000-0000-000000000001", "", now, now.Add(time.Hour)); err == nil {
		t.Error("an unknown app was accepted")
	}
}

func TestTagsNotesAndSecretNamesKept(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := g.must(201, "POST", "/applications", map[string]any{"displayName": "Marked", "tags": []string{"mailoauth", "mailoauth:product=agiloft"}, "notes": "made by mailoauth"})
	id := app["id"].(string)
	pc := g.must(200, "POST", "/applications/"+id+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "mailoauth 2026-05"}})
	if pc["displayName"] != "mailoauth 2026-05" {
		t.Errorf("addPassword: %v", pc)
	}
	got := g.must(200, "GET", "/applications/"+id, nil)
	if got["notes"] != "made by mailoauth" || len(got["tags"].([]any)) != 2 {
		t.Errorf("application: notes %v tags %v", got["notes"], got["tags"])
	}
	if n := got["passwordCredentials"].([]any)[0].(map[string]any)["displayName"]; n != "mailoauth 2026-05" {
		t.Errorf("secret displayName: %v", n)
	}
	list := g.must(200, "GET", "/applications?$filter=tags/any(t:t%20eq%20'mailoauth')", nil)
	if n := len(list["value"].([]any)); n != 1 {
		t.Errorf("filter on tags: %d apps", n)
	}
	sp := g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": app["appId"], "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp", "mailoauth"}, "notes": "sp note"})
	spGot := g.must(200, "GET", "/servicePrincipals/"+sp["id"].(string), nil)
	if spGot["notes"] != "sp note" || len(spGot["tags"].([]any)) != 2 {
		t.Errorf("service principal: notes %v tags %v", spGot["notes"], spGot["tags"])
	}
	g.must(204, "PATCH", "/servicePrincipals/"+sp["id"].(string), map[string]any{"notes": "changed", "tags": []string{"mailoauth"}})
	spGot = g.must(200, "GET", "/servicePrincipals/"+sp["id"].(string), nil)
	if spGot["notes"] != "changed" || len(spGot["tags"].([]any)) != 1 {
		t.Errorf("service principal after PATCH: notes %v tags %v", spGot["notes"], spGot["tags"])
	}
}

// requiredNames flattens an application's requiredResourceAccess into
// "<resource appId>/<type>/<permission id>".
func requiredIDs(app map[string]any) []string {
	var out []string
	for _, r := range app["requiredResourceAccess"].([]any) {
		rra := r.(map[string]any)
		for _, a := range rra["resourceAccess"].([]any) {
			ra := a.(map[string]any)
			out = append(out, rra["resourceAppId"].(string)+"/"+ra["type"].(string)+"/"+ra["id"].(string))
		}
	}
	return out
}

func TestHandMadeApps(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	seed := func(k HandMadeKind) HandMadeApp {
		t.Helper()
		h, err := s.SeedHandMadeApp(k)
		if err != nil {
			t.Fatal(err)
		}
		if h.AppID == "" || h.ObjectID == "" || h.ServicePrincipalID == "" || len(h.Problems) == 0 {
			t.Fatalf("%s: %+v", k, h)
		}
		app := g.must(200, "GET", "/applications/"+h.ObjectID, nil)
		if len(app["tags"].([]any)) != 0 {
			t.Errorf("%s carries tags %v", k, app["tags"])
		}
		return h
	}
	if _, err := s.SeedHandMadeApp("nope"); err == nil {
		t.Error("unknown kind accepted")
	}

	t.Run("extraview", func(t *testing.T) {
		h := seed(HandMadeExtraView)
		app := g.must(200, "GET", "/applications/"+h.ObjectID, nil)
		ids := strings.Join(requiredIDs(app), " ")
		// IMAP and SMTP on Graph (Graph's own ids), nothing for POP.
		if !strings.Contains(ids, GraphAppID+"/Scope/652390e4-393a-48de-9484-05f9b1212954") || strings.Contains(ids, EXOAppID) ||
			strings.Contains(ids, "d7b7f2d9-0f45-4ea1-9d42-e50810c06991") {
			t.Errorf("requiredResourceAccess: %s", ids)
		}
		if ru := app["web"].(map[string]any)["redirectUris"].([]any); len(ru) != 1 || strings.Contains(ru[0].(string), "p_action") {
			t.Errorf("redirect: %v", ru)
		}
		grants := g.must(200, "GET", "/oauth2PermissionGrants?$filter=clientId%20eq%20'"+h.ServicePrincipalID+"'", nil)
		if n := len(grants["value"].([]any)); n != 0 {
			t.Errorf("grants: %d", n)
		}
		if d := time.Until(h.SecretEnd); d < 19*24*time.Hour || d > 21*24*time.Hour {
			t.Errorf("secret end %v", h.SecretEnd)
		}
	})
	t.Run("genesys", func(t *testing.T) {
		h := seed(HandMadeGenesys)
		if h.Secret != "" {
			t.Error("a public client with a secret")
		}
		app := g.must(200, "GET", "/applications/"+h.ObjectID, nil)
		if app["isFallbackPublicClient"] != false || app["signInAudience"] != "AzureADMultipleOrgs" {
			t.Errorf("flags: %v %v", app["isFallbackPublicClient"], app["signInAudience"])
		}
		_, err := publicClient(t, s, h.AppID, "").AcquireTokenByUsernamePassword(ctx(t), []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW)
		wantAAD(t, err, 7000218)
		// Turn public client flows on: the consent on Graph does not
		// cover Exchange's permission.
		g.must(204, "PATCH", "/applications/"+h.ObjectID, map[string]any{"isFallbackPublicClient": true})
		_, err = publicClient(t, s, h.AppID, "").AcquireTokenByUsernamePassword(ctx(t), []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW)
		wantAAD(t, err, 65001)
	})
	t.Run("agiloft", func(t *testing.T) {
		h := seed(HandMadeAgiloft)
		_, err := confidentialClient(t, s, h.AppID, h.Secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		wantAAD(t, err, 7000222)
		if !h.SecretEnd.Before(time.Now()) {
			t.Errorf("secret end %v", h.SecretEnd)
		}
		fresh, _, err := s.AddAgedSecret(h.AppID, "renewed", time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		res, err := confidentialClient(t, s, h.AppID, fresh, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		if err != nil {
			t.Fatal(err)
		}
		_, claims := claimsOf(t, res.AccessToken)
		if roles, _ := claims["roles"].([]any); len(roles) != 1 || roles[0] != "full_access_as_app" {
			t.Errorf("roles %v", claims["roles"])
		}
		if st := ewsGetFolderAsApp(t, s, res.AccessToken, mailUPN); st != 403 {
			t.Errorf("EWS for an app not on the allow-list: %d", st)
		}
	})
	t.Run("monitor-erp", func(t *testing.T) {
		h := seed(HandMadeMonitorERP)
		_, err := confidentialClient(t, s, h.AppID, h.Secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		wantAAD(t, err, 7000112)
		g.must(204, "PATCH", "/applications/"+h.ObjectID, map[string]any{"isDisabled": false})
		res, err := confidentialClient(t, s, h.AppID, h.Secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		if err != nil {
			t.Fatal(err)
		}
		if _, claims := claimsOf(t, res.AccessToken); claims["roles"] != nil {
			t.Errorf("roles without consent: %v", claims["roles"])
		}
	})
	t.Run("imap-daemon", func(t *testing.T) {
		h := seed(HandMadeIMAPDaemon)
		res, err := confidentialClient(t, s, h.AppID, h.Secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
		if err != nil {
			t.Fatal(err)
		}
		c := dialIMAP(t, s)
		if err := c.Authenticate(&xoauth2{mailUPN, res.AccessToken}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err == nil || !strings.Contains(err.Error(), "not connected") {
			t.Errorf("SELECT: %v", err)
		}
		out, err := s.RunPowerShell("Get-ServicePrincipal -Identity " + h.AppID)
		if err != nil || !strings.Contains(strings.ToLower(out), strings.ToLower(h.ObjectID)) {
			t.Errorf("Exchange registration: %v\n%s", err, out)
		}
		out, err = s.RunPowerShell("Get-MailboxPermission -Identity " + mailUPN)
		if err != nil || !strings.Contains(strings.ToLower(out), strings.ToLower(h.ObjectID)) {
			t.Errorf("FullAccess to the registration's object id: %v\n%s", err, out)
		}
	})
}

// ewsGetFolderAsApp posts an app-only GetFolder impersonating mailbox and
// returns the HTTP status.
func ewsGetFolderAsApp(t *testing.T, s *Server, token, mailbox string) int {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Header><t:RequestServerVersion Version="Exchange2013" /><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>` + mailbox + `</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header>
<soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body>
</soap:Envelope>`
	req, _ := http.NewRequest("POST", s.Info().EWSURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
