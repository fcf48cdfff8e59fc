package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDiscoveryIssuerOnAuthorityHost(t *testing.T) {
	s := startSim(t, Options{})
	resp, err := s.HTTPClient().Get(s.Info().Authority + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	st, body := postForm(t, s, "/nosuchtenant.example/oauth2/v2.0/devicecode", url.Values{"client_id": {GraphCLIClientID}, "scope": {"User.Read"}})
	if st != 400 || body["error_codes"].([]any)[0].(float64) != 90002 {
		t.Fatalf("unknown tenant: %d %v", st, body)
	}
	for _, k := range []string{"error", "error_description", "timestamp", "trace_id", "correlation_id", "error_uri"} {
		if body[k] == nil {
			t.Errorf("Entra error JSON lacks %q", k)
		}
	}
	if d := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS90002: ") || !strings.Contains(d, "\r\nTrace ID: ") || !strings.Contains(d, "\r\nTimestamp: ") {
		t.Errorf("error_description shape: %q", d)
	}
}

func TestDeviceCodeAutoApproveGraphToken(t *testing.T) {
	s := startSim(t, Options{AutoApprove: adminUPN})
	pc := publicClient(t, s, GraphCLIClientID, "")
	dc, err := pc.AcquireTokenByDeviceCode(ctx(t), adminScopes)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dc.Result.VerificationURL, "/devicelogin") || len(dc.Result.UserCode) != 9 {
		t.Errorf("device code result: %+v", dc.Result)
	}
	res, err := dc.AuthenticationResult(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	h, c := claimsOf(t, res.AccessToken)
	if h["typ"] != "JWT" || h["alg"] != "RS256" || h["kid"] == "" {
		t.Errorf("header %v", h)
	}
	// Graph access tokens are v1.0-shaped (microsoft.md §15.3).
	want := map[string]any{"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + TenantID + "/", "appid": GraphCLIClientID,
		"appidacr": "0", "upn": adminUPN, "unique_name": adminUPN, "idtyp": "user", "ver": "1.0", "tid": TenantID, "oid": seedID("user/admin")}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	for _, k := range []string{"sub", "iat", "nbf", "exp"} {
		if c[k] == nil {
			t.Errorf("claim %s missing", k)
		}
	}
	// iat = nbf, five minutes before the issue; exp an hour after it.
	iat, nbf, exp := c["iat"].(float64), c["nbf"].(float64), c["exp"].(float64)
	if now := float64(time.Now().Unix()); iat != nbf || now-iat < 290 || now-iat > 320 || exp-iat < 3890 || exp-iat > 3910 {
		t.Errorf("iat %v nbf %v exp %v (now %v)", iat, nbf, exp, now)
	}
	if c["azp"] != nil || c["preferred_username"] != nil || c["sub"] == c["oid"] {
		t.Errorf("v2.0 claims or a non-pairwise sub in a delegated v1 token: %v", c)
	}
	scp := strings.Fields(c["scp"].(string))
	for _, want := range []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "User.Read.All"} {
		if !slices.Contains(scp, want) {
			t.Errorf("scp %v lacks %s", scp, want)
		}
	}
	if c["roles"] != nil {
		t.Errorf("a delegated token has roles: %v", c["roles"])
	}
	if res.IDToken.PreferredUsername != adminUPN {
		t.Errorf("id token preferred_username %q", res.IDToken.PreferredUsername)
	}
	// The refresh token (offline_access, which MSAL adds) gets a token for
	// another Graph scope without a new sign-in.
	res2, err := pc.AcquireTokenSilent(ctx(t), []string{"https://graph.microsoft.com/Mail.Read"}, publicSilentAccount(res.Account))
	if err != nil {
		t.Fatalf("silent refresh: %v", err)
	}
	_, c2 := claimsOf(t, res2.AccessToken)
	if !strings.Contains(c2["scp"].(string), "Mail.Read") {
		t.Errorf("refreshed scp %v", c2["scp"])
	}
	if _, err := s.Backend().VerifyToken(res.AccessToken); err != nil {
		t.Errorf("our own token does not verify: %v", err)
	}
}

func TestDeviceCodeApproveAndDecline(t *testing.T) {
	s := startSim(t, Options{})
	pc := publicClient(t, s, GraphCLIClientID, "")
	dc, err := pc.AcquireTokenByDeviceCode(ctx(t), []string{"User.Read"})
	if err != nil {
		t.Fatal(err)
	}
	pend := s.PendingDeviceCodes()
	if len(pend) != 1 || pend[0].UserCode != dc.Result.UserCode || pend[0].ClientID != GraphCLIClientID {
		t.Fatalf("pending %+v", pend)
	}
	go func() {
		time.Sleep(300 * time.Millisecond) // let MSAL poll and see authorization_pending first
		if err := s.ApproveDeviceCode(dc.Result.UserCode, mailUPN); err != nil {
			t.Error(err)
		}
	}()
	res, err := dc.AuthenticationResult(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claimsOf(t, res.AccessToken); c["upn"] != mailUPN {
		t.Errorf("signed in as %v", c["upn"])
	}
	polls := 0
	for _, r := range s.Requests() {
		if r.Path == "/"+TenantID+"/oauth2/v2.0/token" {
			polls++
		}
	}
	if polls < 2 {
		t.Errorf("expected pending polls before approval, saw %d token requests", polls)
	}

	dc2, err := pc.AcquireTokenByDeviceCode(ctx(t), []string{"User.Read"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeclineDeviceCode(dc2.Result.UserCode); err != nil {
		t.Fatal(err)
	}
	_, err = dc2.AuthenticationResult(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "authorization_declined") {
		t.Fatalf("declined: %v", err)
	}
	if err := s.ApproveDeviceCode("NOSUCHCOD", adminUPN); err == nil {
		t.Error("approving an unknown code succeeded")
	}
}

// TestDeviceCodePollingErrors drives the polling protocol by hand: pending,
// slow_down, bad_verification_code, expired_token.
func TestDeviceCodePollingErrors(t *testing.T) {
	s := startSim(t, Options{})
	s.SetDeviceCodeLifetime(400 * time.Millisecond)
	st, dc := postForm(t, s, "/"+TenantID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {GraphCLIClientID}, "scope": {"User.Read openid"}})
	if st != 200 || dc["expires_in"] == nil || dc["interval"].(float64) != 5 || dc["message"] == nil {
		t.Fatalf("devicecode: %d %v", st, dc)
	}
	poll := func(code string) (int, map[string]any) {
		return postForm(t, s, "/"+TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"client_id": {GraphCLIClientID}, "device_code": {code}})
	}
	code := dc["device_code"].(string)
	if st, b := poll(code); st != 400 || b["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v", st, b)
	}
	// No slow_down: Microsoft does not list it; a fast poll is still pending.
	if st, b := poll(code); st != 400 || b["error"] != "authorization_pending" {
		t.Fatalf("fast second poll: %d %v", st, b)
	}
	if st, b := poll("not-a-code"); st != 400 || b["error"] != "bad_verification_code" {
		t.Fatalf("bad code: %d %v", st, b)
	}
	time.Sleep(500 * time.Millisecond)
	if st, b := poll(code); st != 400 || b["error"] != "expired_token" {
		t.Fatalf("expired: %d %v", st, b)
	}
}

func TestROPCAndUserErrors(t *testing.T) {
	s := startSim(t, Options{})
	pc := publicClient(t, s, GraphCLIClientID, "")
	c := ctx(t)
	res, err := pc.AcquireTokenByUsernamePassword(c, []string{"User.Read"}, mailUPN, mailPW)
	if err != nil {
		t.Fatal(err)
	}
	if _, cl := claimsOf(t, res.AccessToken); cl["upn"] != mailUPN || cl["scp"] == nil {
		t.Errorf("claims %v", cl)
	}
	cases := []struct {
		name, user, pw string
		code           int
	}{
		{"wrong password", mailUPN, "nope", 50126},
		{"unknown user", "nobody@contoso.com", "x", 50034},
		{"MFA user", "mfa.user@contoso.com", "Demo-Mfa-2026!", 50076},
		{"sign-in blocked", "support@contoso.com", "x", 50057},
	}
	for _, tc := range cases {
		_, err := pc.AcquireTokenByUsernamePassword(c, []string{"User.Read"}, tc.user, tc.pw)
		if aadCode(err) != tc.code {
			t.Errorf("%s: want AADSTS%d, got %v", tc.name, tc.code, err)
		}
	}
	s.SetMFARequired(mailUPN, true)
	_, err = pc.AcquireTokenByUsernamePassword(c, []string{"User.Read"}, mailUPN, mailPW)
	wantAAD(t, err, 50076)

	common := publicClient(t, s, GraphCLIClientID, "common")
	_, err = common.AcquireTokenByUsernamePassword(c, []string{"User.Read"}, adminUPN, adminPW)
	wantAAD(t, err, 9001023)

	_, err = publicClient(t, s, GraphCLIClientID, "fabrikam.example").AcquireTokenByUsernamePassword(c, []string{"User.Read"}, adminUPN, adminPW)
	wantAAD(t, err, 90002)

	// Scopes of two resources in one request, and .default mixed with names.
	_, err = pc.AcquireTokenByUsernamePassword(c, []string{"https://graph.microsoft.com/User.Read", "https://outlook.office.com/IMAP.AccessAsUser.All"}, adminUPN, adminPW)
	wantAAD(t, err, 28000)
	if !strings.Contains(err.Error(), "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.") {
		t.Errorf("28000 text: %v", err)
	}
	_, err = pc.AcquireTokenByUsernamePassword(c, []string{"https://graph.microsoft.com/.default", "https://graph.microsoft.com/User.Read"}, adminUPN, adminPW)
	wantAAD(t, err, 70011)
	if !strings.Contains(err.Error(), "AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope ") {
		t.Errorf("70011 text: %v", err)
	}

	// Azure CLI is preauthorized for a fixed set only.
	az := publicClient(t, s, AzureCLIClientID, "")
	if _, err := az.AcquireTokenByUsernamePassword(c, []string{"https://graph.microsoft.com/User.Read"}, adminUPN, adminPW); err != nil {
		t.Errorf("Azure CLI User.Read: %v", err)
	}
	_, err = az.AcquireTokenByUsernamePassword(c, []string{"https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All"}, adminUPN, adminPW)
	wantAAD(t, err, 65002)

	// A public client must not send a secret.
	st, b := postForm(t, s, "/"+TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}, "client_id": {GraphCLIClientID},
		"client_secret": {"x"}, "username": {adminUPN}, "password": {adminPW}, "scope": {"User.Read"}})
	if st != 401 || b["error_codes"].([]any)[0].(float64) != 700025 {
		t.Errorf("public client with secret: %d %v", st, b)
	}
}

func TestTenantAppTokens(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	c := ctx(t)

	// App-only IMAP: client credentials with the EXO role assigned.
	app := newApp(t, g, map[string]any{"signInAudience": "AzureADMyOrg"})
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	cc := confidentialClient(t, s, app.appID, app.secret, "")
	res, err := cc.AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	h, cl := claimsOf(t, res.AccessToken)
	if h["kid"] == nil || cl["aud"] != "https://outlook.office365.com" || cl["iss"] != "https://sts.windows.net/"+TenantID+"/" || cl["ver"] != "1.0" ||
		cl["appid"] != app.appID || cl["oid"] != app.spID || cl["tid"] != TenantID || cl["scp"] != nil || cl["upn"] != nil {
		t.Errorf("app-only EXO claims %v", cl)
	}
	if roles, _ := cl["roles"].([]any); len(roles) != 1 || roles[0] != "IMAP.AccessAsApp" {
		t.Errorf("roles %v", cl["roles"])
	}
	claims, err := s.Backend().VerifyToken(res.AccessToken)
	if err != nil || !claims.AppOnly() || claims.AppID != app.appID {
		t.Errorf("VerifyToken: %+v %v", claims, err)
	}
	// A Graph app-only token for an app with no Graph roles has no roles claim.
	resG, err := cc.AcquireTokenByCredential(c, []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, cg := claimsOf(t, resG.AccessToken); cg["roles"] != nil || cg["aud"] != "https://graph.microsoft.com" {
		t.Errorf("unconsented Graph app-only claims %v", cg)
	}
	// HTTP Basic client authentication works as the form does.
	req, _ := http.NewRequest("POST", s.Info().Authority+"/oauth2/v2.0/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"https://outlook.office365.com/.default"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(app.appID), url.QueryEscape(app.secret))
	if resp, err := s.HTTPClient().Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("basic auth: %v %v", resp.StatusCode, err)
	}

	_, err = confidentialClient(t, s, app.appID, "wrong-secret", "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 7000215)
	_, err = confidentialClient(t, s, "11111111-2222-3333-4444-555555555555", "x", "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 700016)
	_, err = confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default", "https://graph.microsoft.com/.default"})
	wantAAD(t, err, 70011)
	_, err = confidentialClient(t, s, app.appID, app.secret, "organizations").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 9001023) // client credentials need the tenant
	_, err = publicClient(t, s, app.appID, "organizations").AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW)
	wantAAD(t, err, 50194) // a single-tenant app on a multi-tenant endpoint

	// Device code and ROPC without a secret need "Allow public client flows".
	_, err = publicClient(t, s, app.appID, "").AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}, mailUPN, mailPW)
	wantAAD(t, err, 7000218)
	dcRes, err := publicClient(t, s, app.appID, "").AcquireTokenByDeviceCode(c, []string{"https://outlook.office.com/IMAP.AccessAsUser.All"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDeviceCode(dcRes.Result.UserCode, mailUPN); err != nil {
		t.Fatal(err)
	}
	_, err = dcRes.AuthenticationResult(c)
	wantAAD(t, err, 7000218)

	// A public app: no consent (65001), then consent, then assignment required (50105).
	pub := newApp(t, g, map[string]any{"signInAudience": "AzureADMyOrg", "isFallbackPublicClient": true})
	pcl := publicClient(t, s, pub.appID, "")
	imap := []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}
	_, err = pcl.AcquireTokenByUsernamePassword(c, imap, mailUPN, mailPW)
	wantAAD(t, err, 65001)
	grantDelegated(t, g, pub, EXOAppID, "IMAP.AccessAsUser.All SMTP.Send")
	res, err = pcl.AcquireTokenByUsernamePassword(c, imap, mailUPN, mailPW)
	if err != nil {
		t.Fatal(err)
	}
	_, cl = claimsOf(t, res.AccessToken)
	if cl["aud"] != "https://outlook.office.com" || cl["upn"] != mailUPN || cl["unique_name"] != mailUPN || cl["scp"] != "IMAP.AccessAsUser.All" || cl["ver"] != "1.0" || cl["appid"] != pub.appID {
		t.Errorf("delegated EXO claims %v", cl)
	}
	// Not consented: POP.
	_, err = pcl.AcquireTokenByUsernamePassword(c, []string{"https://outlook.office.com/POP.AccessAsUser.All"}, mailUPN, mailPW)
	wantAAD(t, err, 65001)
	g.must(204, "PATCH", "/servicePrincipals/"+pub.spID, map[string]any{"appRoleAssignmentRequired": true})
	_, err = pcl.AcquireTokenByUsernamePassword(c, imap, mailUPN, mailPW)
	wantAAD(t, err, 50105)
	g.must(201, "POST", "/servicePrincipals/"+pub.spID+"/appRoleAssignedTo", map[string]any{"principalId": seedID("user/helpdesk"), "resourceId": pub.spID, "appRoleId": "00000000-0000-0000-0000-000000000000"})
	if _, err = pcl.AcquireTokenByUsernamePassword(c, imap, mailUPN, mailPW); err != nil {
		t.Errorf("assigned user: %v", err)
	}

	// Expired secret.
	s.ExpireSecrets(app.appID)
	_, err = confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(c, []string{"https://outlook.office365.com/.default"})
	wantAAD(t, err, 7000222)
}

func TestAuthCodePKCELoopback(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"signInAudience": "AzureADMyOrg", "publicClient": map[string]any{"redirectUris": []string{"http://localhost"}}})
	grantDelegated(t, g, app, EXOAppID, "IMAP.AccessAsUser.All")
	pc := publicClient(t, s, app.appID, "")
	redirect := "http://localhost:53117/"
	scopes := []string{"https://outlook.office.com/IMAP.AccessAsUser.All"}
	authURL, err := pc.AuthCodeURL(ctx(t), app.appID, redirect, scopes)
	if err != nil {
		t.Fatal(err)
	}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more"
	sum := sha256.Sum256([]byte(verifier))
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	q.Set("state", "xyz")
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// The sign-in page, then the form post as the user.
	resp, err := hc.Get(u.Scheme + "://" + u.Host + u.Path + "?" + q.Encode())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("authorize page: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("upn", mailUPN)
	form.Set("password", mailPW)
	form.Set("action", "approve")
	resp, err = hc.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize post: status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Host != "localhost:53117" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect %s", loc)
	}
	code := loc.Query().Get("code")
	if _, err := pc.AcquireTokenByAuthCode(ctx(t), code, redirect, scopes, publicChallenge("wrong-verifier")); aadCode(err) != 501481 {
		t.Errorf("wrong verifier: %v", err)
	}
	res, err := pc.AcquireTokenByAuthCode(ctx(t), code, redirect, scopes, publicChallenge(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claimsOf(t, res.AccessToken); c["upn"] != mailUPN || c["scp"] != "IMAP.AccessAsUser.All" {
		t.Errorf("claims %v", c)
	}
	_, err = pc.AcquireTokenByAuthCode(ctx(t), code, redirect, scopes, publicChallenge(verifier))
	wantAAD(t, err, 54005)

	// A redirect URI that is not registered is refused on the page.
	q.Set("redirect_uri", "https://evil.example/cb")
	resp, err = hc.Get(u.Scheme + "://" + u.Host + u.Path + "?" + q.Encode())
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("mismatched redirect: %v", err)
	}
	resp.Body.Close()
}

func TestAdminConsentPage(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	a := g.must(201, "POST", "/applications", map[string]any{"displayName": "Consent me", "signInAudience": "AzureADMyOrg",
		"web": map[string]any{"redirectUris": []string{"https://app.example/consent"}},
		"requiredResourceAccess": []any{
			map[string]any{"resourceAppId": EXOAppID, "resourceAccess": []any{map[string]any{"id": roleIMAPApp, "type": "Role"}, map[string]any{"id": scopeIMAPUser, "type": "Scope"}}},
			map[string]any{"resourceAppId": GraphAppID, "resourceAccess": []any{map[string]any{"id": roleMailRead, "type": "Role"}}},
		}})
	appID := a["appId"].(string)
	hc := s.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(upn, pw string) *url.URL {
		resp, err := hc.PostForm(s.Info().Authority+"/adminconsent", url.Values{"client_id": {appID}, "redirect_uri": {"https://app.example/consent"},
			"state": {"s1"}, "upn": {upn}, "password": {pw}, "action": {"approve"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("consent post: %d", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc
	}
	resp, err := hc.Get(s.Info().Authority + "/adminconsent?" + url.Values{"client_id": {appID}, "redirect_uri": {"https://app.example/consent"}, "state": {"s1"}}.Encode())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("consent page: %v", err)
	}
	resp.Body.Close()
	resp, err = hc.Get(s.Info().Authority + "/adminconsent?" + url.Values{"client_id": {appID}, "redirect_uri": {"https://evil.example/"}}.Encode())
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("consent page with an unregistered redirect: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	// A Cloud Application Administrator cannot grant a Graph application permission.
	if loc := post(cloudUPN, cloudPW); loc.Query().Get("error") != "permission_denied" {
		t.Errorf("cloud admin consent: %s", loc)
	}
	loc := post(adminUPN, adminPW)
	if loc.Query().Get("admin_consent") != "True" || loc.Query().Get("tenant") != TenantID || loc.Query().Get("state") != "s1" {
		t.Fatalf("admin consent: %s", loc)
	}
	sp := g.must(200, "GET", "/servicePrincipals(appId='"+appID+"')", nil)
	assigned := g.must(200, "GET", "/servicePrincipals/"+sp["id"].(string)+"/appRoleAssignments", nil)["value"].([]any)
	grants := g.must(200, "GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+sp["id"].(string)+"'"), nil)["value"].([]any)
	if len(assigned) != 2 || len(grants) != 1 || grants[0].(map[string]any)["scope"] != "IMAP.AccessAsUser.All" {
		t.Errorf("after consent: %d assignments, grants %v", len(assigned), grants)
	}
}
