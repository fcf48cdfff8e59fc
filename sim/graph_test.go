package sim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
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

func newGraphClient(t testing.TB, s *Server, token string) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	gu, _ := url.Parse(s.Info().GraphURL)
	hosts := authentication.NewAllowedHostsValidator([]string{gu.Host})
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(staticToken{token: token, hosts: &hosts})
	base := &http.Transport{TLSClientConfig: s.TLSConfig()}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: khttp.NewCustomTransportWithParentTransport(base,
		msgraphcore.GetDefaultMiddlewaresWithOptions(&msgraphcore.GraphClientOptions{})...)}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(s.Info().GraphURL + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

// odataCode reads a Graph error's code nil-safely (ODataError.Error() can
// panic on a body without a message).
func odataCode(err error) string {
	var od *odataerrors.ODataError
	if !errors.As(err, &od) || od == nil {
		return ""
	}
	if me := od.GetErrorEscaped(); me != nil && me.GetCode() != nil {
		return *me.GetCode()
	}
	return ""
}

func odataStatus(err error) int {
	var od *odataerrors.ODataError
	if !errors.As(err, &od) || od == nil {
		return 0
	}
	return od.ResponseStatusCode
}

func wantGraphErr(t testing.TB, err error, status int, code string) {
	t.Helper()
	if odataStatus(err) != status || odataCode(err) != code {
		t.Fatalf("want %d %s, got %d %q (%T)", status, code, odataStatus(err), odataCode(err), err)
	}
}

func ptr[T any](v T) *T { return &v }

func uid(s string) *uuid.UUID {
	u := uuid.MustParse(s)
	return &u
}

func TestGraphSDKEveryCall(t *testing.T) {
	s := startSim(t, Options{})
	c := ctx(t)
	gc, adapter := newGraphClient(t, s, ropcToken(t, s, adminUPN, adminPW, adminScopes))

	org, err := gc.Organization().Get(c, nil)
	if err != nil || len(org.GetValue()) != 1 || *org.GetValue()[0].GetId() != TenantID || len(org.GetValue()[0].GetVerifiedDomains()) != 2 {
		t.Fatalf("organization: %v", err)
	}
	me, err := gc.Me().Get(c, nil)
	if err != nil || *me.GetUserPrincipalName() != adminUPN {
		t.Fatalf("me: %v", err)
	}
	roles, err := gc.Me().TransitiveMemberOf().GraphDirectoryRole().Get(c, nil)
	if err != nil || len(roles.GetValue()) != 1 || *roles.GetValue()[0].GetRoleTemplateId() != RoleGlobalAdmin || *roles.GetValue()[0].GetDisplayName() != "Global Administrator" {
		t.Fatalf("directory roles: %v", err)
	}
	hd, err := gc.Users().ByUserId(mailUPN).Get(c, nil)
	if err != nil || *hd.GetId() != seedID("user/helpdesk") {
		t.Fatalf("user by upn: %v", err)
	}
	list, err := gc.Users().Get(c, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
		Filter: ptr("userPrincipalName eq 'helpdesk@contoso.com'"), Select: []string{"id", "mail"}}})
	if err != nil || len(list.GetValue()) != 1 || *list.GetValue()[0].GetMail() != mailUPN {
		t.Fatalf("users filter: %v", err)
	}
	lic, err := gc.Users().ByUserId(*hd.GetId()).LicenseDetails().Get(c, nil)
	if err != nil || len(lic.GetValue()) != 1 || *lic.GetValue()[0].GetServicePlans()[0].GetServicePlanName() != "EXCHANGE_S_STANDARD" ||
		*lic.GetValue()[0].GetServicePlans()[0].GetProvisioningStatus() != "Success" {
		t.Fatalf("licenseDetails: %v", err)
	}
	_, err = gc.Users().ByUserId("nobody@contoso.com").Get(c, nil)
	wantGraphErr(t, err, 404, "Request_ResourceNotFound")

	// Applications.
	app := models.NewApplication()
	app.SetDisplayName(ptr("Mail connector"))
	app.SetSignInAudience(ptr("AzureADMyOrg"))
	app.SetIsFallbackPublicClient(ptr(true))
	rra := models.NewRequiredResourceAccess()
	rra.SetResourceAppId(ptr(EXOAppID))
	ra := models.NewResourceAccess()
	ra.SetId(uid(roleIMAPApp))
	ra.SetTypeEscaped(ptr("Role"))
	rra.SetResourceAccess([]models.ResourceAccessable{ra})
	app.SetRequiredResourceAccess([]models.RequiredResourceAccessable{rra})
	created, err := gc.Applications().Post(c, app, nil)
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	appObj, appID := *created.GetId(), *created.GetAppId()
	if len(created.GetRequiredResourceAccess()) != 1 || !*created.GetIsFallbackPublicClient() {
		t.Errorf("created app lost fields")
	}
	apps, err := gc.Applications().Get(c, &applications.ApplicationsRequestBuilderGetRequestConfiguration{QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
		Filter: ptr("displayName eq 'Mail connector'")}})
	if err != nil || len(apps.GetValue()) != 1 {
		t.Fatalf("apps by displayName: %v", err)
	}
	apps, err = gc.Applications().Get(c, &applications.ApplicationsRequestBuilderGetRequestConfiguration{QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
		Filter: ptr("appId eq '" + appID + "'")}})
	if err != nil || len(apps.GetValue()) != 1 {
		t.Fatalf("apps by appId: %v", err)
	}
	if a, err := gc.ApplicationsWithAppId(&appID).Get(c, nil); err != nil || *a.GetId() != appObj {
		t.Fatalf("applications(appId=): %v", err)
	}
	patch := models.NewApplication()
	patch.SetDisplayName(ptr("Mail connector (renamed)"))
	if _, err := gc.Applications().ByApplicationId(appObj).Patch(c, patch, nil); err != nil {
		t.Fatalf("patch app: %v", err)
	}
	if a, err := gc.Applications().ByApplicationId(appObj).Get(c, nil); err != nil || *a.GetDisplayName() != "Mail connector (renamed)" {
		t.Fatalf("get app: %v", err)
	}
	pwBody := applications.NewItemAddPasswordPostRequestBody()
	pc := models.NewPasswordCredential()
	pc.SetDisplayName(ptr("wizard"))
	pwBody.SetPasswordCredential(pc)
	secret, err := gc.Applications().ByApplicationId(appObj).AddPassword().Post(c, pwBody, nil)
	if err != nil || len(*secret.GetSecretText()) != 40 || *secret.GetHint() != (*secret.GetSecretText())[:3] || secret.GetKeyId() == nil {
		t.Fatalf("addPassword: %v", err)
	}
	if d := secret.GetEndDateTime().Sub(*secret.GetStartDateTime()); d < 729*24*time.Hour || d > 732*24*time.Hour {
		t.Errorf("default secret lifetime %v, want 2 years", d)
	}
	if a, _ := gc.Applications().ByApplicationId(appObj).Get(c, nil); len(a.GetPasswordCredentials()) != 1 || a.GetPasswordCredentials()[0].GetSecretText() != nil {
		t.Errorf("the secret value must not be readable again")
	}

	// Service principals.
	sp := models.NewServicePrincipal()
	sp.SetAppId(&appID)
	spCreated, err := gc.ServicePrincipals().Post(c, sp, nil)
	if err != nil {
		t.Fatalf("create SP: %v", err)
	}
	spID := *spCreated.GetId()
	if got, err := gc.ServicePrincipals().ByServicePrincipalId(spID).Get(c, nil); err != nil || *got.GetAppId() != appID {
		t.Fatalf("SP by id: %v", err)
	}
	exo, err := gc.ServicePrincipalsWithAppId(ptr(EXOAppID)).Get(c, nil)
	if err != nil || len(exo.GetAppRoles()) < 5 || len(exo.GetOauth2PermissionScopes()) < 4 {
		t.Fatalf("EXO SP: %v", err)
	}
	for _, r := range exo.GetAppRoles() {
		if *r.GetValue() == "IMAP.AccessAsApp" && (r.GetId().String() != roleIMAPApp || r.GetAllowedMemberTypes()[0] != "Application" || !*r.GetIsEnabled()) {
			t.Errorf("IMAP.AccessAsApp role %v", r.GetId())
		}
	}
	byFilter, err := gc.ServicePrincipals().Get(c, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
		Filter: ptr("appId eq '" + GraphAppID + "'")}})
	if err != nil || len(byFilter.GetValue()) != 1 || *byFilter.GetValue()[0].GetDisplayName() != "Microsoft Graph" {
		t.Fatalf("SP filter appId: %v", err)
	}
	byName, err := gc.ServicePrincipals().Get(c, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
		Filter: ptr("displayName eq 'Office 365 Exchange Online'")}})
	if err != nil || len(byName.GetValue()) != 1 {
		t.Fatalf("SP filter displayName: %v", err)
	}
	spPatch := models.NewServicePrincipal()
	spPatch.SetAppRoleAssignmentRequired(ptr(true))
	if _, err := gc.ServicePrincipals().ByServicePrincipalId(spID).Patch(c, spPatch, nil); err != nil {
		t.Fatalf("patch SP: %v", err)
	}
	if got, _ := gc.ServicePrincipals().ByServicePrincipalId(spID).Get(c, nil); !*got.GetAppRoleAssignmentRequired() {
		t.Errorf("appRoleAssignmentRequired not stored")
	}

	// App role assignments.
	exoID := *exo.GetId()
	asg := models.NewAppRoleAssignment()
	asg.SetPrincipalId(uid(spID))
	asg.SetResourceId(uid(exoID))
	asg.SetAppRoleId(uid(roleIMAPApp))
	ar, err := gc.ServicePrincipals().ByServicePrincipalId(exoID).AppRoleAssignedTo().Post(c, asg, nil)
	if err != nil || *ar.GetPrincipalType() != "ServicePrincipal" {
		t.Fatalf("appRoleAssignedTo: %v", err)
	}
	_, err = gc.ServicePrincipals().ByServicePrincipalId(exoID).AppRoleAssignedTo().Post(c, asg, nil)
	wantGraphErr(t, err, 400, "Request_BadRequest")
	if got, err := gc.ServicePrincipals().ByServicePrincipalId(exoID).AppRoleAssignedTo().Get(c, nil); err != nil || len(got.GetValue()) != 1 {
		t.Fatalf("list appRoleAssignedTo: %v", err)
	}
	if got, err := gc.ServicePrincipals().ByServicePrincipalId(spID).AppRoleAssignments().Get(c, nil); err != nil || len(got.GetValue()) != 1 {
		t.Fatalf("appRoleAssignments: %v", err)
	}
	if err := gc.ServicePrincipals().ByServicePrincipalId(exoID).AppRoleAssignedTo().ByAppRoleAssignmentId(*ar.GetId()).Delete(c, nil); err != nil {
		t.Fatalf("delete assignment: %v", err)
	}

	// Delegated grants.
	grant := models.NewOAuth2PermissionGrant()
	grant.SetClientId(&spID)
	grant.SetConsentType(ptr("AllPrincipals"))
	grant.SetResourceId(&exoID)
	grant.SetScope(ptr("IMAP.AccessAsUser.All"))
	gr, err := gc.Oauth2PermissionGrants().Post(c, grant, nil)
	if err != nil {
		t.Fatalf("create grant: %v", err)
	}
	_, err = gc.Oauth2PermissionGrants().Post(c, grant, nil)
	wantGraphErr(t, err, 400, "Request_BadRequest")
	found, err := gc.Oauth2PermissionGrants().Get(c, &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
		QueryParameters: &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetQueryParameters{Filter: ptr("clientId eq '" + spID + "' and consentType eq 'AllPrincipals' and resourceId eq '" + exoID + "'")}})
	if err != nil || len(found.GetValue()) != 1 {
		t.Fatalf("grants filter: %v", err)
	}
	gp := models.NewOAuth2PermissionGrant()
	gp.SetScope(ptr("IMAP.AccessAsUser.All SMTP.Send"))
	if _, err := gc.Oauth2PermissionGrants().ByOAuth2PermissionGrantId(*gr.GetId()).Patch(c, gp, nil); err != nil {
		t.Fatalf("patch grant: %v", err)
	}
	if got, err := gc.Oauth2PermissionGrants().ByOAuth2PermissionGrantId(*gr.GetId()).Get(c, nil); err != nil || *got.GetScope() != "IMAP.AccessAsUser.All SMTP.Send" {
		t.Fatalf("get grant: %v", err)
	}
	if err := gc.Oauth2PermissionGrants().ByOAuth2PermissionGrantId(*gr.GetId()).Delete(c, nil); err != nil {
		t.Fatalf("delete grant: %v", err)
	}

	// Secrets: remove, then the app and SP go.
	rm := applications.NewItemRemovePasswordPostRequestBody()
	rm.SetKeyId(secret.GetKeyId())
	if err := gc.Applications().ByApplicationId(appObj).RemovePassword().Post(c, rm, nil); err != nil {
		t.Fatalf("removePassword: %v", err)
	}
	if err := gc.ServicePrincipals().ByServicePrincipalId(spID).Delete(c, nil); err != nil {
		t.Fatalf("delete SP: %v", err)
	}
	if err := gc.Applications().ByApplicationId(appObj).Delete(c, nil); err != nil {
		t.Fatalf("delete app: %v", err)
	}
	_, err = gc.Applications().ByApplicationId(appObj).Get(c, nil)
	wantGraphErr(t, err, 404, "Request_ResourceNotFound")

	// Validation.
	_, err = gc.Applications().Post(c, models.NewApplication(), nil)
	wantGraphErr(t, err, 400, "Request_BadRequest")
	long := models.NewApplication()
	long.SetDisplayName(ptr(strings.Repeat("x", 121)))
	_, err = gc.Applications().Post(c, long, nil)
	wantGraphErr(t, err, 400, "Request_BadRequest")

	testBatch(t, c, gc, adapter)
}

// testBatch sends a $batch with dependsOn: create an app, then a request
// that fails, then one that depends on the failure (424).
func testBatch(t *testing.T, c context.Context, gc *msgraphsdk.GraphServiceClient, adapter *msgraphsdk.GraphRequestAdapter) {
	batch := msgraphcore.NewBatchRequest(adapter)
	app := models.NewApplication()
	app.SetDisplayName(ptr("Batched app"))
	ri, err := gc.Applications().ToPostRequestInformation(c, app, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := batch.AddBatchRequestStep(*ri)
	if err != nil {
		t.Fatal(err)
	}
	ri2, _ := gc.Users().ByUserId("nobody@contoso.com").ToGetRequestInformation(c, nil)
	second, _ := batch.AddBatchRequestStep(*ri2)
	second.DependsOnItem(first)
	ri3, _ := gc.Organization().ToGetRequestInformation(c, nil)
	third, _ := batch.AddBatchRequestStep(*ri3)
	third.DependsOnItem(second)
	resp, err := batch.Send(c, adapter)
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
	created, err := msgraphcore.GetBatchResponseById[models.Applicationable](resp, *first.GetId(), models.CreateApplicationFromDiscriminatorValue)
	if err != nil || *created.GetDisplayName() != "Batched app" {
		t.Errorf("batched create body: %v", err)
	}
	_ = abs.GET
}
