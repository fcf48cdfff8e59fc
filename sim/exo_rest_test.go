package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Tests of the Exchange admin API (exo_rest.go) over the real socket, with
// tokens from MSAL for the ExchangeOnlineManagement client.

const (
	exadminUPN = "exadmin@contoso.com"
	exadminPW  = "Demo-Exch-2026!"
	exoScope   = "https://outlook.office365.com/.default"
)

// exoToken signs upn in with the module's public client (ROPC through MSAL).
func exoToken(t testing.TB, s *Server, upn, pw string) string {
	t.Helper()
	res, err := publicClient(t, s, ExchangePowerShellClientID, "").AcquireTokenByUsernamePassword(ctx(t), []string{exoScope}, upn, pw)
	if err != nil {
		t.Fatalf("Exchange token for %s: %v", upn, err)
	}
	return res.AccessToken
}

type exoReply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r exoReply) values() []map[string]any {
	var out []map[string]any
	vs, _ := r.body["value"].([]any)
	for _, v := range vs {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (r exoReply) warnings() []string {
	var out []string
	ws, _ := r.body["@adminapi.warnings"].([]any)
	for _, w := range ws {
		out = append(out, w.(string))
	}
	return out
}

// detail is error.details[0].message decoded from its JSON form.
func (r exoReply) detail(t testing.TB) map[string]any {
	t.Helper()
	e, _ := r.body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	if len(ds) == 0 {
		t.Fatalf("no error details: %s", r.raw)
	}
	msg := ds[0].(map[string]any)["message"].(string)
	out := map[string]any{}
	if err := json.Unmarshal([]byte(msg), &out); err != nil {
		t.Fatalf("details[0].message is not a JSON exception: %q", msg)
	}
	return out
}

type exoCall struct {
	t      testing.TB
	s      *Server
	token  string
	anchor string
	prefer string
	tenant string
	url    string // whole URL, for nextLink pages
}

func (c exoCall) run(cmdlet string, params map[string]any) exoReply {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	u := c.url
	if u == "" {
		tenant := c.tenant
		if tenant == "" {
			tenant = TenantID
		}
		u = c.s.Info().ExchangeURL + "/adminapi/beta/" + tenant + "/InvokeCommand"
	}
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.anchor != "" {
		req.Header.Set("X-AnchorMailbox", c.anchor)
	}
	if c.prefer != "" {
		req.Header.Set("Prefer", c.prefer)
	}
	req.Header.Set("X-CmdletName", cmdlet)
	req.Header.Set("X-ResponseFormat", "json")
	// No Accept-Encoding: the transport's own gzip handling would choke on
	// the bodyless 403, which is what a real client must also survive.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.s.HTTPClient().Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", cmdlet, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := exoReply{status: resp.StatusCode, header: resp.Header, raw: raw, body: map[string]any{}}
	if len(bytes.Trim(raw, "\x00")) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s: body is not JSON: %q", cmdlet, raw)
		}
	}
	return r
}

func (c exoCall) must(cmdlet string, params map[string]any) exoReply {
	c.t.Helper()
	r := c.run(cmdlet, params)
	if r.status != 200 {
		c.t.Fatalf("%s %v: %d %s", cmdlet, params, r.status, r.raw)
	}
	for _, k := range []string{"@odata.context", "adminapi.warnings@odata.type", "@adminapi.warnings", "value"} {
		if _, ok := r.body[k]; !ok {
			c.t.Errorf("%s: reply lacks %q: %s", cmdlet, k, r.raw)
		}
	}
	return r
}

func adminExo(t testing.TB, s *Server, upn, pw string) exoCall {
	return exoCall{t: t, s: s, token: exoToken(t, s, upn, pw), anchor: "UPN:" + upn}
}

func isBodyless403(r exoReply) bool {
	return r.status == 403 && len(bytes.Trim(r.raw, "\x00")) == 0 && r.header.Get("Content-Encoding") == "gzip"
}

// The module's client signs in by device code (MSAL) and its token is the
// v1 Exchange token the endpoint expects.
func TestExchangeAdminDeviceCodeToken(t *testing.T) {
	s := startSim(t, Options{AutoApprove: exadminUPN})
	pc := publicClient(t, s, ExchangePowerShellClientID, "organizations")
	dc, err := pc.AcquireTokenByDeviceCode(ctx(t), []string{exoScope})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dc.AuthenticationResult(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_, c := claimsOf(t, res.AccessToken)
	if c["aud"] != "https://outlook.office365.com" || c["appid"] != ExchangePowerShellClientID || c["upn"] != exadminUPN || c["ver"] != "1.0" ||
		!strings.Contains(c["scp"].(string), "AdminApi.AccessAsUser.All") {
		t.Errorf("claims %v", c)
	}
	r := exoCall{t: t, s: s, token: res.AccessToken, anchor: "UPN:" + exadminUPN}.must("Get-OrganizationConfig", nil)
	if v := r.values(); len(v) != 1 || v[0]["EwsEnabled"] != true {
		t.Errorf("Get-OrganizationConfig: %s", r.raw)
	}
	// The module's client is preauthorized for Exchange only.
	if _, err := pc.AcquireTokenByUsernamePassword(ctx(t), []string{"https://graph.microsoft.com/User.Read"}, adminUPN, adminPW); aadCode(err) != 65002 {
		t.Errorf("module client for Graph: %v", err)
	}
}

// Only the module's delegated token for Exchange, of a user with an
// Exchange role, gets in; the refusals take the documented shapes.
func TestExchangeAdminAuth(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	call := func(token string) exoReply {
		return exoCall{t: t, s: s, token: token, anchor: "UPN:" + adminUPN}.run("Get-TransportConfig", map[string]any{})
	}
	if r := call(""); r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no token: %d %v", r.status, r.header)
	}
	r := call(ropcToken(t, s, adminUPN, adminPW, []string{"User.Read"}))
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `authorization_uri="`+s.Info().AuthorityHost) || !strings.HasPrefix(r.header.Get("x-ms-diagnostics"), "2000003;") {
		t.Errorf("Graph token: %d %v", r.status, r.header)
	}
	if r := call("x.y.z"); r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("garbage token: %d", r.status)
	}
	// Another client's delegated Exchange token, and an app-only token.
	app := newApp(t, g, map[string]any{"isFallbackPublicClient": true, "signInAudience": "AzureADMyOrg"})
	grantDelegated(t, g, app, EXOAppID, "EWS.AccessAsUser.All")
	grantRole(t, g, app, EXOAppID, "dc50a0fb-09a3-484d-be87-e023b12c6440") // Exchange.ManageAsApp
	other, err := publicClient(t, s, app.appID, "").AcquireTokenByUsernamePassword(ctx(t), []string{"https://outlook.office365.com/EWS.AccessAsUser.All"}, adminUPN, adminPW)
	if err != nil {
		t.Fatal(err)
	}
	if r := call(other.AccessToken); !isBodyless403(r) {
		t.Errorf("another client's token: %d %q", r.status, r.raw)
	}
	cc, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
	if err != nil {
		t.Fatal(err)
	}
	if r := call(cc.AccessToken); !isBodyless403(r) {
		t.Errorf("app-only token: %d %q", r.status, r.raw)
	}
	// Users: Cloud Application Administrator has no Exchange role.
	if r := call(exoToken(t, s, cloudUPN, cloudPW)); !isBodyless403(r) {
		t.Errorf("cloudadmin: %d %q", r.status, r.raw)
	}
	for _, u := range [][2]string{{exadminUPN, exadminPW}, {adminUPN, adminPW}} {
		if r := call(exoToken(t, s, u[0], u[1])); r.status != 200 {
			t.Errorf("%s: %d %s", u[0], r.status, r.raw)
		}
	}
	// Organization Management by name lets cloudadmin in.
	if _, err := s.RunPowerShell("Add-RoleGroupMember 'Organization Management' -Member " + cloudUPN); err != nil {
		t.Fatal(err)
	}
	if r := call(exoToken(t, s, cloudUPN, cloudPW)); r.status != 200 {
		t.Errorf("cloudadmin in Organization Management: %d", r.status)
	}
	// The tenant segment: the GUID or the initial domain.
	ok := adminExo(t, s, exadminUPN, exadminPW)
	ok.tenant = InitialDomain
	ok.must("Get-TransportConfig", nil)
	ok.tenant = "fabrikam.onmicrosoft.com"
	if r := ok.run("Get-TransportConfig", nil); r.status == 200 {
		t.Errorf("another tenant's segment: %d", r.status)
	}
}

// The whole Exchange side of an app-only setup over the admin API: read,
// register, grant, allow-list, and every refusal in Exchange's words.
func TestExchangeAdminCmdlets(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{"displayName": "API app"})
	c := adminExo(t, s, exadminUPN, exadminPW)

	r := c.must("Get-ServicePrincipal", map[string]any{"Identity": app.appID})
	if len(r.values()) != 0 {
		t.Errorf("no registration yet: %s", r.raw)
	}
	r = c.must("New-ServicePrincipal", map[string]any{"AppId": app.appID, "ObjectId": app.spID, "DisplayName": "API app"})
	if v := r.values(); len(v) != 1 || v[0]["ObjectId"] != app.spID || v[0]["AppId"] != app.appID || v[0]["Identity"] != app.spID {
		t.Errorf("New-ServicePrincipal: %s", r.raw)
	}
	r = c.run("New-ServicePrincipal", map[string]any{"AppId": app.appID, "ObjectId": app.spID})
	if d := r.detail(t); r.status != 400 || d["ClassName"] != "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException" || !strings.Contains(d["Message"].(string), "already exists.") {
		t.Errorf("duplicate: %d %v", r.status, d)
	}
	c.must("Add-MailboxPermission", map[string]any{"Identity": "helpdesk@contoso.com", "User": app.spID, "AccessRights": []string{"FullAccess"}, "InheritanceType": "All", "AutoMapping": false})
	r = c.must("Add-RecipientPermission", map[string]any{"Identity": "support-desk@contoso.com", "Trustee": app.appID, "AccessRights": "SendAs", "Confirm": false})
	if v := r.values(); len(v) != 1 || v[0]["Identity"] != "helpdesk" || v[0]["AccessRights@odata.type"] != "#Collection(String)" {
		t.Errorf("Add-RecipientPermission by a secondary address: %s", r.raw)
	}
	r = c.must("Add-RecipientPermission", map[string]any{"Identity": "helpdesk@contoso.com", "Trustee": app.appID, "AccessRights": []string{"SendAs"}, "Confirm": false})
	if w := r.warnings(); len(w) != 1 || !strings.Contains(w[0], "The appropriate access control entry is already present") {
		t.Errorf("duplicate SendAs warning: %v", w)
	}
	r = c.must("Get-MailboxPermission", map[string]any{"Identity": "helpdesk@contoso.com"})
	if v := r.values(); len(v) != 2 || v[1]["User"] != app.spID || v[1]["AccessRights"].([]any)[0] != "FullAccess" {
		t.Errorf("Get-MailboxPermission: %s", r.raw)
	}
	r = c.must("Get-RecipientPermission", map[string]any{"Identity": "helpdesk@contoso.com", "Trustee": app.spID})
	if v := r.values(); len(v) != 1 || v[0]["Trustee"] != app.spID {
		t.Errorf("Get-RecipientPermission: %s", r.raw)
	}
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); !acc.Registered || !acc.FullAccess || !acc.SendAs {
		t.Errorf("access %+v", acc)
	}

	// CAS, transport and organization settings, $null included.
	c.must("Set-CASMailbox", map[string]any{"Identity": "helpdesk@contoso.com", "ImapEnabled": true, "PopEnabled": false, "SmtpClientAuthenticationDisabled": nil})
	r = c.must("Get-CASMailbox", map[string]any{"Identity": "helpdesk@contoso.com"})
	if v := r.values(); len(v) != 1 || v[0]["PopEnabled"] != false || v[0]["SmtpClientAuthenticationDisabled"] != nil || v[0]["ImapEnabled"] != true {
		t.Errorf("Get-CASMailbox: %s", r.raw)
	}
	r = c.must("Set-CASMailbox", map[string]any{"Identity": "helpdesk@contoso.com", "PopEnabled": false})
	if w := r.warnings(); len(w) != 1 || !strings.Contains(w[0], "completed successfully but no settings of") {
		t.Errorf("no-op Set-CASMailbox: %v", w)
	}
	r = c.must("Get-TransportConfig", nil)
	if v := r.values(); v[0]["SmtpClientAuthenticationDisabled"] != true {
		t.Errorf("Get-TransportConfig: %s", r.raw)
	}
	r = c.must("Get-OrganizationConfig", map[string]any{})
	if v := r.values(); v[0]["EwsAllowedAppIDs"] != nil {
		t.Errorf("the allow-list without the switch: %s", r.raw)
	}
	r = c.must("Get-OrganizationConfig", map[string]any{"RetrieveEwsOperationAccessPolicy": true})
	list, _ := r.values()[0]["EwsAllowedAppIDs"].(string)
	if list != SeedEWSAppID {
		t.Errorf("the seeded allow-list: %s", r.raw)
	}
	c.must("Set-OrganizationConfig", map[string]any{"EwsEnabled": true, "EwsAllowedAppIDs": list + "," + app.appID})
	s.SetExchangeAdminQuirks(ExchangeAdminQuirks{AllowListAsArray: true})
	r = c.must("Get-OrganizationConfig", map[string]any{"RetrieveEwsOperationAccessPolicy": true})
	if ids, _ := r.values()[0]["EwsAllowedAppIDs"].([]any); len(ids) != 2 || ids[0] != SeedEWSAppID || ids[1] != app.appID {
		t.Errorf("allow-list as an array: %s", r.raw)
	}
	s.SetExchangeAdminQuirks(ExchangeAdminQuirks{})

	// Mailboxes: type, addresses, and $select.
	c.url = s.Info().ExchangeURL + "/adminapi/beta/" + TenantID + "/InvokeCommand?$select=PrimarySmtpAddress,RecipientTypeDetails,EmailAddresses"
	r = c.must("Get-Mailbox", map[string]any{"Identity": "support-desk@contoso.com"})
	if v := r.values(); len(v) != 1 || len(v[0]) != 4 || v[0]["PrimarySmtpAddress"] != "helpdesk@contoso.com" || v[0]["EmailAddresses@odata.type"] != "#Collection(String)" {
		t.Errorf("Get-Mailbox $select: %s", r.raw)
	}
	c.url = ""

	// Errors.
	r = c.run("Get-Mailbox", map[string]any{"Identity": "nobody@contoso.com"})
	if d := r.detail(t); r.status != 404 || r.body["error"].(map[string]any)["code"] != "NotFound" || d["ClassName"] != "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException" ||
		!strings.Contains(d["Message"].(string), "The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on") {
		t.Errorf("not found: %d %s", r.status, r.raw)
	}
	s.SetExchangeAdminQuirks(ExchangeAdminQuirks{PipeErrorDetails: true})
	r = c.run("Get-Mailbox", map[string]any{"Identity": "nobody@contoso.com"})
	if msg := r.body["error"].(map[string]any)["details"].([]any)[0].(map[string]any)["message"].(string); !strings.HasPrefix(msg, "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed") {
		t.Errorf("pipe form: %q", msg)
	}
	s.SetExchangeAdminQuirks(ExchangeAdminQuirks{})
	r = c.run("Set-CASMailbox", map[string]any{"Identity": "helpdesk@contoso.com", "FrobEnabled": true})
	if r.status != 400 || !strings.Contains(string(r.raw), "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. FrobEnabled") {
		t.Errorf("unknown parameter: %d %s", r.status, r.raw)
	}
	r = c.run("Add-MailboxPermission", map[string]any{"Identity": "helpdesk@contoso.com", "User": app.spID, "AccessRights": []string{"Everything"}})
	e := r.body["error"].(map[string]any)
	inner := e["innererror"].(map[string]any)["internalexception"].(map[string]any)
	if r.status != 400 || e["message"] != "Invalid Operation" || e["details"] != nil || inner["type"] != "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException" ||
		!strings.Contains(inner["message"].(string), "Specify one of the following enumerator names and try again: ChangeOwner") {
		t.Errorf("bad enum: %d %s", r.status, r.raw)
	}
	if r := c.run("Frob-Mailbox", nil); !isBodyless403(r) {
		t.Errorf("unknown cmdlet: %d %q", r.status, r.raw)
	}
	noAnchor := c
	noAnchor.anchor = ""
	if r := noAnchor.run("Set-TransportConfig", map[string]any{"SmtpClientAuthenticationDisabled": true}); !isBodyless403(r) {
		t.Errorf("a write without X-AnchorMailbox: %d", r.status)
	}
	noAnchor.must("Get-TransportConfig", nil)

	// Remove-* with Confirm true is the module's validation call: nothing happens.
	r = c.must("Remove-ServicePrincipal", map[string]any{"Identity": app.spID, "Confirm": true})
	if r.body["@adminapi.confirmationmessage"] == nil || !s.Backend().AppAccess(app.appID, "helpdesk@contoso.com").Registered {
		t.Errorf("Confirm true: %s", r.raw)
	}
	r = c.must("Remove-ServicePrincipal", map[string]any{"Identity": app.spID, "Confirm": false})
	if len(r.values()) != 0 || s.Backend().AppAccess(app.appID, "helpdesk@contoso.com").Registered {
		t.Errorf("Remove-ServicePrincipal: %s", r.raw)
	}

	// The pitfall over the API: the app registration's object id is stored
	// and registers nothing.
	c.must("New-ServicePrincipal", map[string]any{"AppId": app.appID, "ObjectId": app.id})
	if acc := s.Backend().AppAccess(app.appID, "helpdesk@contoso.com"); acc.Registered {
		t.Errorf("wrong ObjectId: %+v", acc)
	}
}

// Paging: Prefer odata.maxpagesize, @odata.nextLink POSTed with the same
// body, the "more results" warning on non-final pages.
func TestExchangeAdminPaging(t *testing.T) {
	s := startSim(t, Options{})
	c := adminExo(t, s, adminUPN, adminPW)
	c.prefer = "odata.maxpagesize=2"
	var got []string
	for page := 0; page < 10; page++ {
		r := c.must("Get-Mailbox", map[string]any{"ResultSize": "Unlimited"})
		for _, v := range r.values() {
			got = append(got, v["PrimarySmtpAddress"].(string))
		}
		next, _ := r.body["@odata.nextLink"].(string)
		if next == "" {
			if w := r.warnings(); len(w) != 0 {
				t.Errorf("final page warns: %v", w)
			}
			break
		}
		if w := r.warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "There are more results available") || len(r.values()) != 2 {
			t.Errorf("page %d: %s", page, r.raw)
		}
		if !strings.HasPrefix(next, s.Info().ExchangeURL+"/adminapi/beta/") {
			t.Errorf("nextLink %s", next)
		}
		c.url = next
	}
	if strings.Join(got, " ") != "admin@contoso.onmicrosoft.com helpdesk@contoso.com mfa.user@contoso.com support@contoso.com" {
		t.Errorf("paged mailboxes: %v", got)
	}
}

func TestExchangeAdminThrottle(t *testing.T) {
	s := startSim(t, Options{})
	c := adminExo(t, s, adminUPN, adminPW)
	s.ThrottleExchangeAdmin(1, 2*time.Second)
	if r := c.run("Get-TransportConfig", nil); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("throttled: %d %v", r.status, r.header)
	}
	c.must("Get-TransportConfig", nil)
}

// The whole app-only path over real sockets: Entra consent, the Exchange
// side through the admin API, replication of the mailbox permission, then
// IMAP and SMTP logins; SendAs alone is refused at SMTP AUTH.
func TestExchangeAdminThenAppOnlyLogins(t *testing.T) {
	s := startSim(t, Options{Delays: Delays{MailboxPermission: 500 * time.Millisecond}})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	grantRole(t, g, app, EXOAppID, roleIMAPApp)
	grantRole(t, g, app, EXOAppID, roleSMTPApp)
	tok, err := confidentialClient(t, s, app.appID, app.secret, "").AcquireTokenByCredential(ctx(t), []string{exoScope})
	if err != nil {
		t.Fatal(err)
	}
	imapSelect := func() error {
		c := dialIMAP(t, s)
		if err := c.Authenticate(&xoauth2{mailUPN, tok.AccessToken}); err != nil {
			return err
		}
		_, err := c.Select("INBOX", nil).Wait()
		return err
	}
	smtpAuth := func(user string) error {
		c, err := smtp.DialStartTLS(s.Info().SMTP, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.Auth(&xoauth2{user, tok.AccessToken})
	}
	api := adminExo(t, s, exadminUPN, exadminPW)
	api.must("New-ServicePrincipal", map[string]any{"AppId": app.appID, "ObjectId": app.spID})
	api.must("Add-MailboxPermission", map[string]any{"Identity": mailUPN, "User": app.spID, "AccessRights": []string{"FullAccess"}, "AutoMapping": false})
	api.must("Add-RecipientPermission", map[string]any{"Identity": "support@contoso.com", "Trustee": app.spID, "AccessRights": []string{"SendAs"}, "Confirm": false})
	if err := imapSelect(); err == nil || !strings.Contains(err.Error(), "User is authenticated but not connected.") {
		t.Errorf("IMAP before the permission replicated: %v", err)
	}
	is535573 := func(err error) bool {
		var se *smtp.SMTPError
		return asSMTP(err, &se) && se.Code == 535 && se.EnhancedCode == smtp.EnhancedCode{5, 7, 3}
	}
	if err := smtpAuth(mailUPN); !is535573(err) {
		t.Errorf("SMTP before the permission replicated: %v", err)
	}
	time.Sleep(600 * time.Millisecond)
	if err := imapSelect(); err != nil {
		t.Errorf("IMAP after replication: %v", err)
	}
	if err := smtpAuth(mailUPN); err != nil {
		t.Errorf("SMTP after replication: %v", err)
	}
	// support@ (shared, SMTP AUTH inherits the disabled tenant setting):
	// switch it on for the mailbox, then SendAs alone is still refused.
	api.must("Set-CASMailbox", map[string]any{"Identity": "support@contoso.com", "SmtpClientAuthenticationDisabled": false})
	if err := smtpAuth("support@contoso.com"); !is535573(err) {
		t.Errorf("SMTP with SendAs only: %v", err)
	}
}

// RBAC for Applications end to end: an app with no API permission at all,
// its Exchange registration and scoped role assignments made over the
// admin API, reaches only the scoped mailboxes over Graph mail and SMTP.
func TestExchangeRBACScopesEndToEnd(t *testing.T) {
	s := startSim(t, Options{})
	g := adminGraph(t, s)
	app := newApp(t, g, map[string]any{})
	api := adminExo(t, s, exadminUPN, exadminPW)
	api.must("New-ServicePrincipal", map[string]any{"AppId": app.appID, "ObjectId": app.spID, "DisplayName": "Scoped app"})
	api.must("New-ManagementScope", map[string]any{"Name": "Help desk", "RecipientRestrictionFilter": "PrimarySmtpAddress -eq 'helpdesk@contoso.com'"})
	api.must("New-ManagementRoleAssignment", map[string]any{"Role": "Application Mail.Read", "App": app.spID, "CustomResourceScope": "Help desk"})
	api.must("New-ManagementRoleAssignment", map[string]any{"Role": "Application SMTP.SendAsApp", "App": app.spID, "CustomResourceScope": "Help desk"})
	r := api.must("Test-ServicePrincipalAuthorization", map[string]any{"Identity": app.appID, "Resource": "support@contoso.com"})
	if v := r.values(); len(v) != 2 || v[0]["InScope"] != false {
		t.Errorf("Test-ServicePrincipalAuthorization: %s", r.raw)
	}
	cc := confidentialClient(t, s, app.appID, app.secret, "")
	gt, err := cc.AcquireTokenByCredential(ctx(t), []string{"https://graph.microsoft.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, c := claimsOf(t, gt.AccessToken); c["roles"] != nil {
		t.Fatalf("roles without any permission: %v", c["roles"])
	}
	mail := rawGraph{t: t, s: s, token: gt.AccessToken}
	mail.must(200, "GET", "/users/helpdesk@contoso.com/messages?$top=1", nil)
	if st, body, _ := mail.do("GET", "/users/support@contoso.com/messages?$top=1", nil); st != 403 || graphCode(body) != "ErrorAccessDenied" {
		t.Errorf("out of scope: %d %v", st, body)
	}
	et, err := cc.AcquireTokenByCredential(ctx(t), []string{exoScope})
	if err != nil {
		t.Fatal(err)
	}
	// SMTP AUTH on for support@ so that only the scope decides.
	api.must("Set-CASMailbox", map[string]any{"Identity": "support@contoso.com", "SmtpClientAuthenticationDisabled": false})
	for user, ok := range map[string]bool{"helpdesk@contoso.com": true, "support@contoso.com": false} {
		c, err := smtp.DialStartTLS(s.Info().SMTP, s.TLSConfig())
		if err != nil {
			t.Fatal(err)
		}
		err = c.Auth(&xoauth2{user, et.AccessToken})
		c.Close()
		var se *smtp.SMTPError
		if ok && err != nil || !ok && !(asSMTP(err, &se) && se.EnhancedCode == smtp.EnhancedCode{5, 7, 3}) {
			t.Errorf("RBAC-only SMTP as %s: %v", user, err)
		}
	}
}
