package exchange

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// Bodies below are the shapes docs/exchange-admin-api.md §3–§4 quotes from
// its sources (GXS's "real 400 body", JCN's pipe form, CAP's success page).

func goodFacts() tokenFacts {
	return tokenFacts{decoded: true, aud: "https://outlook.office365.com", appID: ClientID, upn: "admin@contoso.onmicrosoft.com",
		scopes: []string{"AdminApi.AccessAsUser.All"}, resource: "https://outlook.office365.com"}
}

func TestParseErrorJSONDetail(t *testing.T) {
	body := `{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","target":"","message":"{\"ClassName\":\"Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException\",\"Message\":\"The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on 'AM0PR01A001DC01.EURPR01A001.prod.outlook.com'.\",\"localizedString\":{\"stringId\":\"Ex6F9304\"}}"}],"innererror":{"message":"Error executing cmdlet","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}`
	h := http.Header{"Request-Id": {"r-1"}}
	e := parseError("Get-Mailbox", 404, h, []byte(body), goodFacts())
	if e.Kind != NotFound || e.StringID != "Ex6F9304" || !strings.HasSuffix(e.Type, "ManagementObjectNotFoundException") || !strings.Contains(e.Message, "'nobody@contoso.com' couldn't be found") {
		t.Fatalf("parsed %+v", e)
	}
	if e.RequestID != "r-1" || !strings.Contains(e.Error(), "request-id r-1") {
		t.Errorf("request id lost: %v", e)
	}
}

func TestParseErrorPipeDetailAs400(t *testing.T) {
	// An older service (JCN) and AZT: not-found as a 400 in the pipe form.
	body := `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"code":"Context","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'user2@contoso.com' couldn't be found on 'EXHV-1242.prod.outlook.com'."}]}}`
	e := parseError("Get-CASMailbox", 400, http.Header{}, []byte(body), goodFacts())
	if e.Kind != NotFound || e.StringID != "Ex6F9304" || !strings.HasPrefix(e.Message, "The operation couldn't be performed") {
		t.Fatalf("parsed %+v", e)
	}
}

func TestParseErrorInnerException(t *testing.T) {
	body := `{"error":{"code":"BadRequest","message":"Invalid Operation","innererror":{"message":"Invalid Operation","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","internalexception":{"message":"Cannot process argument transformation on parameter 'AccessRights'.","type":"Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"}}}}`
	e := parseError("Add-MailboxPermission", 400, http.Header{}, []byte(body), goodFacts())
	if e.Kind != Unknown || !strings.Contains(e.Message, "argument transformation") || !strings.Contains(e.Error(), "unrecognised refusal: Cannot process") {
		t.Fatalf("parsed %+v: %v", e, e)
	}
}

func TestParseErrorAlreadyExists(t *testing.T) {
	body := `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"code":"Client","message":"{\"Message\":\"The object 'CN=x,OU=contoso.onmicrosoft.com' already exists.\",\"TypeName\":\"Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException\",\"StackTrace\":null,\"InnerError\":null}"}]}}`
	if e := parseError("New-ManagementScope", 400, http.Header{}, []byte(body), goodFacts()); e.Kind != AlreadyExists {
		t.Fatalf("parsed %+v", e)
	}
}

func TestParseErrorRoleParameters(t *testing.T) {
	body := `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"message":"Ex5E8EA4|Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException|Some of the parameters specified with the \"Set-OrganizationConfig\" cmdlet aren't present in the role definition for the current user. Check the management roles assigned to you, and try again."}]}}`
	e := parseError("Set-OrganizationConfig", 400, http.Header{}, []byte(body), goodFacts())
	if e.Kind != AccessDenied || !strings.Contains(e.Error(), "Organization Management") || !strings.Contains(e.Error(), "admin@contoso.onmicrosoft.com") {
		t.Fatalf("parsed %+v: %v", e, e)
	}
}

func TestBodyless403(t *testing.T) {
	nul := make([]byte, 512)
	h := http.Header{"Content-Encoding": {"gzip"}}
	if e := parseError("New-ServicePrincipal", 403, h, nul, goodFacts()); e.Kind != AccessDenied {
		t.Errorf("right token, no body: %s, want access-denied", e.Kind)
	}
	graph := goodFacts()
	graph.aud, graph.appID, graph.scopes = "https://graph.microsoft.com", "14d82eec-204b-4c2f-b7e8-296a70dab67e", []string{"User.Read"}
	e := parseError("Get-Mailbox", 403, h, nul, graph)
	if e.Kind != Unauthorized || !strings.Contains(e.Token, "graph.microsoft.com") || !strings.Contains(e.Token, "14d82eec") {
		t.Errorf("graph token: %+v", e)
	}
	if e := parseError("Get-Mailbox", 403, h, nul, tokenFacts{}); e.Kind != Unknown || !strings.Contains(e.Message, "without a body") {
		t.Errorf("unreadable token: %+v", e)
	}
}

func TestParse401(t *testing.T) {
	h := http.Header{"X-Ms-Diagnostics": {`2000003;reason="The audience claim value is invalid 'https://graph.microsoft.com'.";error_category="invalid_resource"`}}
	e := parseError("Get-Mailbox", 401, h, nil, goodFacts())
	if e.Kind != Unauthorized || !strings.Contains(e.Token, "audience claim value is invalid") {
		t.Fatalf("parsed %+v", e)
	}
}

func TestThrottleAndTransient(t *testing.T) {
	h := http.Header{"Retry-After": {"1.5"}}
	e := parseError("Get-Mailbox", 429, h, []byte(`{"error":{"code":"TooManyRequests","message":"The request was throttled."}}`), goodFacts())
	if e.Kind != Throttled || e.RetryAfter != 1500*time.Millisecond {
		t.Errorf("429: %+v", e)
	}
	if d := parseRetryAfter("900"); d != 2*time.Minute {
		t.Errorf("Retry-After 900 capped to %s, want 2m", d)
	}
	e = parseError("Get-Mailbox", 400, http.Header{}, []byte(`{"error":{"code":"BadRequest","message":"You have reached the maximum number of concurrent requests per tenant. Please wait and try again."}}`), goodFacts())
	if e.Kind != Throttled {
		t.Errorf("concurrency: %s", e.Kind)
	}
	e = parseError("Get-Mailbox", 500, http.Header{}, []byte(`{"error":{"code":"InternalServerError","message":"Error executing cmdlet","details":[{"message":"Ex1|Microsoft.Exchange.Data.Directory.SuitabilityDirectoryException|No suitable domain controller."}]}}`), goodFacts())
	if e.Kind != Unavailable {
		t.Errorf("transient exception: %s", e.Kind)
	}
	if e := parseError("Get-Mailbox", 503, http.Header{}, []byte("<html>Service Unavailable</html>"), goodFacts()); e.Kind != Unavailable || e.Message != "<html>Service Unavailable</html>" {
		t.Errorf("503 html: %+v", e)
	}
	if e := parseError("Get-Mailbox", 500, http.Header{}, []byte("oops"), goodFacts()); e.Kind != Unknown || e.Message != "oops" {
		t.Errorf("500 text: %+v", e)
	}
}

func TestParsePage(t *testing.T) {
	body := `{"@odata.context":"https://outlook.office.com/adminapi/beta/x/$metadata#Collection(Exchange.GenericHashTable)","adminapi.warnings@odata.type":"#Collection(String)",
 "@adminapi.warnings":["There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.","A real warning"],
 "value":[{"Identity":"helpdesk","EmailAddresses@odata.type":"#Collection(String)","EmailAddresses":["SMTP:helpdesk@contoso.com","smtp:support-desk@contoso.com"],"RecipientTypeDetails":"UserMailbox","PrimarySmtpAddress":"helpdesk@contoso.com"}],
 "@odata.nextLink":"https://outlook.office365.com/adminapi/beta/x/InvokeCommand?$skiptoken=abc"}`
	pg, err := parsePage("Get-Mailbox", http.Header{}, []byte(body), goodFacts())
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.values) != 1 || len(pg.warnings) != 1 || pg.warnings[0] != "A real warning" || !strings.Contains(pg.next, "skiptoken=abc") {
		t.Fatalf("page %+v", pg)
	}
	mbs, err := Decode[Mailbox](pg.values)
	if err != nil || mbs[0].PrimarySmtpAddress != "helpdesk@contoso.com" || !mbs[0].EmailAddresses.Has("smtp:support-desk@contoso.com") {
		t.Fatalf("mailbox %+v %v", mbs, err)
	}
	for _, empty := range []string{"", "\x00\x00", `{"value":null}`, `{"@adminapi.warnings":[]}`, `{"value":[]}`} {
		pg, err := parsePage("Set-CASMailbox", http.Header{}, []byte(empty), goodFacts())
		if err != nil || len(pg.values) != 0 {
			t.Errorf("no-output body %q: %v %v", empty, pg, err)
		}
	}
	pg, err = parsePage("New-ServicePrincipal", http.Header{}, []byte(`{"value":{"AppId":"a","ObjectId":"b"}}`), goodFacts())
	if err != nil || len(pg.values) != 1 {
		t.Errorf("one object as value: %v %v", pg, err)
	}
	_, err = parsePage("Set-CASMailbox", http.Header{}, []byte(`{"value":[],"@adminapi.errors":["Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."]}`), goodFacts())
	if !Is(err, NotFound) {
		t.Errorf("@adminapi.errors in a 200: %v", err)
	}
	_, err = parsePage("Remove-ServicePrincipal", http.Header{}, []byte(`{"value":[],"@adminapi.confirmationmessage":"Are you sure?"}`), goodFacts())
	if !Is(err, Unknown) || !strings.Contains(err.Error(), "changed nothing") {
		t.Errorf("confirmation: %v", err)
	}
	if _, err := parsePage("Get-Mailbox", http.Header{}, []byte("<html>"), goodFacts()); !Is(err, Unknown) {
		t.Errorf("html page: %v", err)
	}
}

func TestOutputTypes(t *testing.T) {
	var oc OrganizationConfig
	for _, body := range []string{`{"EwsEnabled":true,"EwsAllowedAppIDs":"a, b,,c"}`, `{"EwsEnabled":"True","EwsAllowedAppIDs":["a","b","c"]}`} {
		oc = OrganizationConfig{}
		if err := json.Unmarshal([]byte(body), &oc); err != nil {
			t.Fatal(err)
		}
		if !oc.EwsEnabled.Is(true) || strings.Join(oc.EwsAllowedAppIDs, "|") != "a|b|c" {
			t.Errorf("%s → %+v", body, oc)
		}
	}
	if err := json.Unmarshal([]byte(`{"EwsEnabled":null,"EwsAllowedAppIDs":null}`), &oc); err != nil || oc.EwsEnabled.Set() || oc.EwsAllowedAppIDs != nil || oc.EwsEnabled.String() != "$null" {
		t.Errorf("nulls → %+v %v", oc, err)
	}
	var cas CASMailbox
	if err := json.Unmarshal([]byte(`{"ImapEnabled":false,"PopEnabled":true,"SmtpClientAuthenticationDisabled":null}`), &cas); err != nil {
		t.Fatal(err)
	}
	if !cas.ImapEnabled.Is(false) || !cas.PopEnabled.Is(true) || cas.SmtpClientAuthenticationDisabled.Set() || cas.EwsEnabled.Set() {
		t.Errorf("cas %+v", cas)
	}
	var as []Authorization
	if err := json.Unmarshal([]byte(`[{"RoleName":"Application Mail.Read","InScope":true},{"RoleName":"x","InScope":"Not Run"}]`), &as); err != nil || as[0].InScope != "True" || as[1].InScope != "Not Run" {
		t.Errorf("authorization %+v %v", as, err)
	}
	sp := ServicePrincipal{AppID: "A", ObjectID: "O", DisplayName: "Agiloft"}
	if !sp.Matches("o") || !sp.Matches("Agiloft") || sp.Matches("") || sp.Ref() != "O" {
		t.Errorf("service principal matching %+v", sp)
	}
}

func TestCommandJSON(t *testing.T) {
	c := AddMailboxPermission("helpdesk@contoso.com", "sp-1")
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cmdlet":"Add-MailboxPermission","parameters":{"Identity":"helpdesk@contoso.com","User":"sp-1","AccessRights":["FullAccess"],"InheritanceType":"All","AutoMapping":false}}`
	if string(j) != want {
		t.Errorf("json %s\nwant %s", j, want)
	}
	if SetEWSAllowList(nil).Map()["EwsAllowedAppIDs"] != nil || SetEWSAllowList([]string{"a", "b"}).Map()["EwsAllowedAppIDs"] != "a,b" {
		t.Error("allow-list value")
	}
	for _, c := range []Command{RemoveServicePrincipal("x"), RemoveMailboxPermission("m", "u"), RemoveRecipientPermission("m", "u"), AddRecipientPermission("m", "u"), RemoveManagementScope("s"), RemoveManagementRoleAssignment("a")} {
		if v, ok := c.Get("Confirm"); !ok || v != false {
			t.Errorf("%s without Confirm:false", c.Cmdlet)
		}
	}
	if v, _ := GetOrganizationConfig().Get("RetrieveEwsOperationAccessPolicy"); v != true {
		t.Error("Get-OrganizationConfig without -RetrieveEwsOperationAccessPolicy")
	}
}

// TestBaseURLPerCloud: the admin host is the EWS host, and the token
// resource is that host, in every preset (docs/exchange-admin-api.md §1).
func TestBaseURLPerCloud(t *testing.T) {
	want := map[string]string{"global": "https://outlook.office365.com", "usgov-high": "https://outlook.office365.us", "usgov-dod": "https://outlook-dod.office365.us", "china": "https://partner.outlook.cn"}
	for name, host := range want {
		c, err := cloud.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := BaseURL(c)
		if err != nil || got != host {
			t.Errorf("%s: BaseURL %q %v, want %q", name, got, err, host)
		}
		if Scope(c) != host+"/.default" {
			t.Errorf("%s: scope %q, want %s/.default", name, Scope(c), host)
		}
	}
	if _, err := BaseURL(cloud.Cloud{EWSURL: "http://evil.example/EWS/Exchange.asmx"}); err == nil {
		t.Error("http to a non-loopback host accepted")
	}
}
