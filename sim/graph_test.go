package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// staticToken is the AccessTokenProvider the tests hand kiota: one token,
// hosts limited to the sim's Graph listener.
type staticToken struct {
	token string
	hosts *authentication.AllowedHostsValidator
}

func (p staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return p.token, nil
}
func (p staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator { return p.hosts }

// sdkGraph sends requests through msgraph-sdk-go-core's request adapter and
// its default middleware (kiota retry, redirect, compression, telemetry,
// URL replace), as a Graph SDK client does; bodies are JSON maps. The
// generated fluent client is not used (mailoauth does not link it).
type sdkGraph struct {
	t       testing.TB
	adapter *msgraphcore.GraphRequestAdapterBase
}

func newGraphClient(t testing.TB, s *Server, token string) *sdkGraph {
	t.Helper()
	gu, _ := url.Parse(s.Info().GraphURL)
	hosts := authentication.NewAllowedHostsValidator([]string{gu.Host})
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(staticToken{token: token, hosts: &hosts})
	base := &http.Transport{TLSClientConfig: s.TLSConfig()}
	opts := msgraphcore.GraphClientOptions{}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: khttp.NewCustomTransportWithParentTransport(base,
		msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)}
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts,
		jsonserialization.NewJsonParseNodeFactory(), jsonserialization.NewJsonSerializationWriterFactory(), hc)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(s.Info().GraphURL + "/v1.0")
	return &sdkGraph{t: t, adapter: adapter}
}

// graphErr is a Graph error reply as the SDK's caller sees it.
type graphErr struct {
	status int
	code   string
}

func (e *graphErr) Error() string { return fmt.Sprintf("Graph %d %s", e.status, e.code) }

func (g *sdkGraph) request(method abs.HttpMethod, path string, body any) *abs.RequestInformation {
	g.t.Helper()
	ri := abs.NewRequestInformation()
	ri.Method = method
	u, err := url.Parse(g.adapter.GetBaseUrl() + path)
	if err != nil {
		g.t.Fatal(err)
	}
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	if body != nil {
		b, _ := json.Marshal(body)
		ri.SetStreamContentAndContentType(b, "application/json")
	}
	return ri
}

// call sends one request; a reply of 400 or more is a *graphErr. out
// receives the JSON body.
func (g *sdkGraph) call(c context.Context, method abs.HttpMethod, path string, body, out any) error {
	g.t.Helper()
	return g.callWith(c, method, path, nil, body, out)
}

// callWith is call with extra request headers (ConsistencyLevel).
func (g *sdkGraph) callWith(c context.Context, method abs.HttpMethod, path string, headers map[string]string, body, out any) error {
	g.t.Helper()
	ri := g.request(method, path, body)
	for k, v := range headers {
		ri.Headers.TryAdd(k, v)
	}
	var status int
	var raw []byte
	h := abs.NewRequestHandlerOption()
	h.SetResponseHandler(func(native any, _ abs.ErrorMappings) (any, error) {
		hr := native.(*http.Response)
		defer hr.Body.Close()
		status = hr.StatusCode
		raw, _ = io.ReadAll(hr.Body)
		return nil, nil
	})
	ri.AddRequestOptions([]abs.RequestOption{h})
	if _, err := g.adapter.SendPrimitive(c, ri, "[]byte", nil); err != nil {
		return err
	}
	if status >= 400 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return &graphErr{status, e.Error.Code}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return nil
}

func wantGraphErr(t testing.TB, err error, status int, code string) {
	t.Helper()
	var ge *graphErr
	if !errors.As(err, &ge) || ge.status != status || ge.code != code {
		t.Fatalf("want %d %s, got %v (%T)", status, code, err, err)
	}
}

type obj = map[string]any

// list is a Graph collection reply.
type list struct {
	Value []obj `json:"value"`
}

func field(o obj, k string) string { s, _ := o[k].(string); return s }

func TestGraphSDKEveryCall(t *testing.T) {
	s := startSim(t, Options{})
	c := ctx(t)
	g := newGraphClient(t, s, ropcToken(t, s, adminUPN, adminPW, adminScopes))
	get := func(path string, out any) error { return g.call(c, abs.GET, path, nil, out) }

	var org list
	if err := get("/organization", &org); err != nil || len(org.Value) != 1 || field(org.Value[0], "id") != TenantID || len(org.Value[0]["verifiedDomains"].([]any)) != 2 {
		t.Fatalf("organization: %v %v", err, org)
	}
	var me obj
	if err := get("/me", &me); err != nil || field(me, "userPrincipalName") != adminUPN {
		t.Fatalf("me: %v", err)
	}
	var roles list
	wantGraphErr(t, get("/me/transitiveMemberOf/microsoft.graph.directoryRole", &roles), 400, "Request_UnsupportedQuery")
	if err := g.callWith(c, abs.GET, "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", map[string]string{"ConsistencyLevel": "eventual"}, nil, &roles); err != nil ||
		len(roles.Value) != 1 || roles.Value[0]["roleTemplateId"] != nil || roles.Value[0]["displayName"] != nil {
		t.Fatalf("directory roles: %v %v", err, roles)
	}
	var hd obj
	if err := get("/users/"+mailUPN, &hd); err != nil || field(hd, "id") != seedID("user/helpdesk") {
		t.Fatalf("user by upn: %v", err)
	}
	var users list
	if err := get("/users?$filter="+url.QueryEscape("userPrincipalName eq 'helpdesk@contoso.com'")+"&$select=id,mail", &users); err != nil || len(users.Value) != 1 || field(users.Value[0], "mail") != mailUPN {
		t.Fatalf("users filter: %v", err)
	}
	var lic struct {
		Value []struct {
			ServicePlans []struct {
				ServicePlanName    string `json:"servicePlanName"`
				ProvisioningStatus string `json:"provisioningStatus"`
			} `json:"servicePlans"`
		} `json:"value"`
	}
	if err := get("/users/"+field(hd, "id")+"/licenseDetails", &lic); err != nil || len(lic.Value) != 1 || lic.Value[0].ServicePlans[0].ServicePlanName != "EXCHANGE_S_STANDARD" ||
		lic.Value[0].ServicePlans[0].ProvisioningStatus != "Success" {
		t.Fatalf("licenseDetails: %v", err)
	}
	wantGraphErr(t, get("/users/nobody@contoso.com", nil), 404, "Request_ResourceNotFound")

	// Applications.
	var created obj
	err := g.call(c, abs.POST, "/applications", obj{"displayName": "Mail connector", "signInAudience": "AzureADMyOrg", "isFallbackPublicClient": true,
		"requiredResourceAccess": []obj{{"resourceAppId": EXOAppID, "resourceAccess": []obj{{"id": roleIMAPApp, "type": "Role"}}}}}, &created)
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	appObj, appID := field(created, "id"), field(created, "appId")
	if rra, _ := created["requiredResourceAccess"].([]any); len(rra) != 1 || created["isFallbackPublicClient"] != true {
		t.Errorf("created app lost fields: %v", created)
	}
	var apps list
	if err := get("/applications?$filter="+url.QueryEscape("displayName eq 'Mail connector'"), &apps); err != nil || len(apps.Value) != 1 {
		t.Fatalf("apps by displayName: %v", err)
	}
	if err := get("/applications?$filter="+url.QueryEscape("appId eq '"+appID+"'"), &apps); err != nil || len(apps.Value) != 1 {
		t.Fatalf("apps by appId: %v", err)
	}
	var a obj
	if err := get("/applications(appId='"+appID+"')", &a); err != nil || field(a, "id") != appObj {
		t.Fatalf("applications(appId=): %v", err)
	}
	if err := g.call(c, abs.PATCH, "/applications/"+appObj, obj{"displayName": "Mail connector (renamed)"}, nil); err != nil {
		t.Fatalf("patch app: %v", err)
	}
	if err := get("/applications/"+appObj, &a); err != nil || field(a, "displayName") != "Mail connector (renamed)" {
		t.Fatalf("get app: %v", err)
	}
	var secret struct {
		SecretText    string    `json:"secretText"`
		Hint          string    `json:"hint"`
		KeyID         string    `json:"keyId"`
		StartDateTime time.Time `json:"startDateTime"`
		EndDateTime   time.Time `json:"endDateTime"`
	}
	if err := g.call(c, abs.POST, "/applications/"+appObj+"/addPassword", obj{"passwordCredential": obj{"displayName": "wizard"}}, &secret); err != nil ||
		len(secret.SecretText) != 40 || secret.Hint != secret.SecretText[:3] || secret.KeyID == "" {
		t.Fatalf("addPassword: %v", err)
	}
	if d := secret.EndDateTime.Sub(secret.StartDateTime); d < 729*24*time.Hour || d > 732*24*time.Hour {
		t.Errorf("default secret lifetime %v, want 2 years", d)
	}
	var withPW struct {
		PasswordCredentials []obj `json:"passwordCredentials"`
	}
	if _ = get("/applications/"+appObj, &withPW); len(withPW.PasswordCredentials) != 1 || withPW.PasswordCredentials[0]["secretText"] != nil {
		t.Errorf("the secret value must not be readable again")
	}

	// Service principals.
	var sp obj
	if err := g.call(c, abs.POST, "/servicePrincipals", obj{"appId": appID}, &sp); err != nil {
		t.Fatalf("create SP: %v", err)
	}
	spID := field(sp, "id")
	if err := get("/servicePrincipals/"+spID, &sp); err != nil || field(sp, "appId") != appID {
		t.Fatalf("SP by id: %v", err)
	}
	var exo struct {
		ID       string `json:"id"`
		AppRoles []struct {
			ID                 string   `json:"id"`
			Value              string   `json:"value"`
			AllowedMemberTypes []string `json:"allowedMemberTypes"`
			IsEnabled          bool     `json:"isEnabled"`
		} `json:"appRoles"`
		Scopes []obj `json:"oauth2PermissionScopes"`
	}
	if err := get("/servicePrincipals(appId='"+EXOAppID+"')", &exo); err != nil || len(exo.AppRoles) < 5 || len(exo.Scopes) < 4 {
		t.Fatalf("EXO SP: %v", err)
	}
	for _, r := range exo.AppRoles {
		if r.Value == "IMAP.AccessAsApp" && (r.ID != roleIMAPApp || r.AllowedMemberTypes[0] != "Application" || !r.IsEnabled) {
			t.Errorf("IMAP.AccessAsApp role %v", r.ID)
		}
	}
	var byFilter list
	if err := get("/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+GraphAppID+"'"), &byFilter); err != nil || len(byFilter.Value) != 1 || field(byFilter.Value[0], "displayName") != "Microsoft Graph" {
		t.Fatalf("SP filter appId: %v", err)
	}
	if err := get("/servicePrincipals?$filter="+url.QueryEscape("displayName eq 'Office 365 Exchange Online'"), &byFilter); err != nil || len(byFilter.Value) != 1 {
		t.Fatalf("SP filter displayName: %v", err)
	}
	if err := g.call(c, abs.PATCH, "/servicePrincipals/"+spID, obj{"appRoleAssignmentRequired": true}, nil); err != nil {
		t.Fatalf("patch SP: %v", err)
	}
	if _ = get("/servicePrincipals/"+spID, &sp); sp["appRoleAssignmentRequired"] != true {
		t.Errorf("appRoleAssignmentRequired not stored")
	}

	// App role assignments.
	asg := obj{"principalId": spID, "resourceId": exo.ID, "appRoleId": roleIMAPApp}
	var ar obj
	if err := g.call(c, abs.POST, "/servicePrincipals/"+exo.ID+"/appRoleAssignedTo", asg, &ar); err != nil || field(ar, "principalType") != "ServicePrincipal" {
		t.Fatalf("appRoleAssignedTo: %v", err)
	}
	wantGraphErr(t, g.call(c, abs.POST, "/servicePrincipals/"+exo.ID+"/appRoleAssignedTo", asg, nil), 400, "Request_BadRequest")
	var got list
	if err := get("/servicePrincipals/"+exo.ID+"/appRoleAssignedTo", &got); err != nil || len(got.Value) != 1 {
		t.Fatalf("list appRoleAssignedTo: %v", err)
	}
	if err := get("/servicePrincipals/"+spID+"/appRoleAssignments", &got); err != nil || len(got.Value) != 1 {
		t.Fatalf("appRoleAssignments: %v", err)
	}
	if err := g.call(c, abs.DELETE, "/servicePrincipals/"+exo.ID+"/appRoleAssignedTo/"+field(ar, "id"), nil, nil); err != nil {
		t.Fatalf("delete assignment: %v", err)
	}

	// Delegated grants.
	grant := obj{"clientId": spID, "consentType": "AllPrincipals", "resourceId": exo.ID, "scope": "IMAP.AccessAsUser.All"}
	var gr obj
	if err := g.call(c, abs.POST, "/oauth2PermissionGrants", grant, &gr); err != nil {
		t.Fatalf("create grant: %v", err)
	}
	wantGraphErr(t, g.call(c, abs.POST, "/oauth2PermissionGrants", grant, nil), 400, "Request_BadRequest")
	if err := get("/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+spID+"' and consentType eq 'AllPrincipals' and resourceId eq '"+exo.ID+"'"), &got); err != nil || len(got.Value) != 1 {
		t.Fatalf("grants filter: %v", err)
	}
	if err := g.call(c, abs.PATCH, "/oauth2PermissionGrants/"+field(gr, "id"), obj{"scope": "IMAP.AccessAsUser.All SMTP.Send"}, nil); err != nil {
		t.Fatalf("patch grant: %v", err)
	}
	if err := get("/oauth2PermissionGrants/"+field(gr, "id"), &gr); err != nil || field(gr, "scope") != "IMAP.AccessAsUser.All SMTP.Send" {
		t.Fatalf("get grant: %v", err)
	}
	if err := g.call(c, abs.DELETE, "/oauth2PermissionGrants/"+field(gr, "id"), nil, nil); err != nil {
		t.Fatalf("delete grant: %v", err)
	}

	// Secrets: remove, then the app and SP go.
	if err := g.call(c, abs.POST, "/applications/"+appObj+"/removePassword", obj{"keyId": secret.KeyID}, nil); err != nil {
		t.Fatalf("removePassword: %v", err)
	}
	if err := g.call(c, abs.DELETE, "/servicePrincipals/"+spID, nil, nil); err != nil {
		t.Fatalf("delete SP: %v", err)
	}
	if err := g.call(c, abs.DELETE, "/applications/"+appObj, nil, nil); err != nil {
		t.Fatalf("delete app: %v", err)
	}
	wantGraphErr(t, get("/applications/"+appObj, nil), 404, "Request_ResourceNotFound")

	// Validation.
	wantGraphErr(t, g.call(c, abs.POST, "/applications", obj{}, nil), 400, "Request_BadRequest")
	wantGraphErr(t, g.call(c, abs.POST, "/applications", obj{"displayName": strings.Repeat("x", 121)}, nil), 400, "Request_BadRequest")

	testBatch(t, c, g)
}

// testBatch sends a $batch with dependsOn through msgraph-sdk-go-core's
// BatchRequest: create an app, then a request that fails, then one that
// depends on the failure (424).
func testBatch(t *testing.T, c context.Context, g *sdkGraph) {
	batch := msgraphcore.NewBatchRequest(g.adapter)
	first, err := batch.AddBatchRequestStep(*g.request(abs.POST, "/applications", obj{"displayName": "Batched app"}))
	if err != nil {
		t.Fatal(err)
	}
	second, _ := batch.AddBatchRequestStep(*g.request(abs.GET, "/users/nobody@contoso.com", nil))
	second.DependsOnItem(first)
	third, _ := batch.AddBatchRequestStep(*g.request(abs.GET, "/organization", nil))
	third.DependsOnItem(second)
	resp, err := batch.Send(c, g.adapter)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	status := func(it msgraphcore.BatchItem) int32 {
		r := resp.GetResponseById(*it.GetId())
		if r == nil || r.GetStatus() == nil {
			t.Fatalf("no response for %s", *it.GetId())
		}
		return *r.GetStatus()
	}
	if status(first) != 201 || status(second) != 404 || status(third) != 424 {
		t.Errorf("batch statuses %d %d %d, want 201 404 424", status(first), status(second), status(third))
	}
	// Values in a batch item's body are pointers (kiota's untyped parse).
	if name, ok := resp.GetResponseById(*first.GetId()).GetBody()["displayName"].(*string); !ok || *name != "Batched app" {
		t.Errorf("batched create body: %v", resp.GetResponseById(*first.GetId()).GetBody())
	}
}
