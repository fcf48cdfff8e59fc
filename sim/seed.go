package sim

import (
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// The seed tenant (docs/architecture.md "The seed tenant"): the same on every start.
const (
	TenantID      = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	TenantName    = "Contoso"
	InitialDomain = "contoso.onmicrosoft.com"
	DefaultDomain = "contoso.com"

	GraphAppID = "00000003-0000-0000-c000-000000000000"
	EXOAppID   = "00000002-0000-0ff1-ce00-000000000000"

	// GraphCLIClientID is Microsoft Graph Command Line Tools: a first-party
	// public client that may ask for any Graph delegated scope.
	GraphCLIClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
	// AzureCLIClientID is Azure CLI: a first-party public client with a fixed,
	// preauthorized set of Graph scopes (anything else: AADSTS65002).
	AzureCLIClientID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	// ExchangePowerShellClientID is "Microsoft Exchange REST API Based
	// PowerShell", the public client of the ExchangeOnlineManagement v3
	// module: the only client the Exchange admin API accepts (microsoft.md
	// §15.2).
	ExchangePowerShellClientID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"

	// SeedEWSAppID is the one app on the seed tenant's EWS allow-list: a
	// line-of-business archiving app of Contoso's own, listed before the
	// 2026-10 deadline (Set-OrganizationConfig -EwsEnabled $true
	// -EwsAllowedAppIDs). Any app mailoauth sets up must be added beside it.
	SeedEWSAppID = "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f"
)

// Directory role template ids.
const (
	RoleGlobalAdmin         = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdmin = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleCloudAppAdmin       = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleAppAdmin            = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleExchangeAdmin       = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleAppDeveloper        = "cf1c38e5-3621-4004-a7cb-879624dced7c"
	RoleDirectoryWriters    = "9360feb5-f418-4baa-8175-e2a00bac4301"
	RoleUserAdmin           = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

// grantWriterRoles may create, change and delete delegated permission
// grants (GDC includes/rbac-for-apis/rbac-oauth2permissiongrant-apis-write.md
// @393a21f6; microsoft.md §15.3).
var grantWriterRoles = []string{RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudAppAdmin, RoleAppAdmin, RoleAppDeveloper, RoleDirectoryWriters, RoleUserAdmin}

var roleNames = map[string]string{
	RoleGlobalAdmin:         "Global Administrator",
	RolePrivilegedRoleAdmin: "Privileged Role Administrator",
	RoleCloudAppAdmin:       "Cloud Application Administrator",
	RoleAppAdmin:            "Application Administrator",
	RoleExchangeAdmin:       "Exchange Administrator",
	RoleAppDeveloper:        "Application Developer",
	RoleDirectoryWriters:    "Directory Writers",
	RoleUserAdmin:           "User Administrator",
}

// azureCLIScopes is the fixed set Azure CLI is preauthorized for on Graph.
// Which exact set Entra gives it is UNVERIFIED (microsoft.md §6); this one
// deliberately lacks AppRoleAssignment and DelegatedPermissionGrant.
// exoPowerShellScopes is the scp of an ExchangeOnlineManagement v3 token
// (resource https://outlook.office365.com, client
// ExchangePowerShellClientID); see docs/exchange-admin-api.md.
var exoPowerShellScopes = []string{"AdminApi.AccessAsUser.All", "FfoPowerShell.AccessAsUser.All", "RemotePowerShell.AccessAsUser.All", "VivaFeatureAccessPolicy.Manage.All"}

var azureCLIScopes = []string{"Application.ReadWrite.All", "AuditLog.Read.All", "Directory.AccessAsUser.All", "Group.ReadWrite.All", "User.Read", "User.ReadWrite.All"}

// Service plans (microsoft.md licence check detail).
var (
	planEXOStandard   = servicePlan{"9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD", "Success", "User"}
	planEXOEnterprise = servicePlan{"efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "Success", "User"}
	planEXOFoundation = servicePlan{"113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION", "Success", "Company"}
)

func seedUsers() []*user {
	return []*user{
		{ID: seedID("user/admin"), UPN: "admin@" + InitialDomain, DisplayName: "Avery Admin", GivenName: "Avery", Surname: "Admin",
			Password: "Demo-Admin-2026!", RoleIDs: []string{RoleGlobalAdmin}, SKU: "SPE_E3", SKUID: "05e9a617-0261-4cee-bb44-138d3ef5d965",
			Plans: []servicePlan{planEXOEnterprise, planEXOFoundation}, HasMailbox: true},
		{ID: seedID("user/cloudadmin"), UPN: "cloudadmin@" + DefaultDomain, DisplayName: "Casey Cloud", GivenName: "Casey", Surname: "Cloud",
			Password: "Demo-Cloud-2026!", RoleIDs: []string{RoleCloudAppAdmin}},
		{ID: seedID("user/appdev"), UPN: "appdev@" + DefaultDomain, DisplayName: "Drew Developer", GivenName: "Drew", Surname: "Developer",
			Password: "Demo-Dev-2026!", RoleIDs: []string{RoleAppDeveloper}},
		{ID: seedID("user/exadmin"), UPN: "exadmin@" + DefaultDomain, DisplayName: "Eli Exchange", GivenName: "Eli", Surname: "Exchange",
			Password: "Demo-Exch-2026!", RoleIDs: []string{RoleExchangeAdmin}},
		{ID: seedID("user/helpdesk"), UPN: "helpdesk@" + DefaultDomain, DisplayName: "Help Desk", GivenName: "Help", Surname: "Desk",
			Password: "Demo-Mail-2026!", SKU: "EXCHANGESTANDARD", SKUID: "4b9405b0-7788-4568-add1-99614e613b69",
			Plans: []servicePlan{planEXOStandard}, HasMailbox: true, SecondaryAddresses: []string{"support-desk@" + DefaultDomain}},
		{ID: seedID("user/mfa.user"), UPN: "mfa.user@" + DefaultDomain, DisplayName: "Morgan Mfa", GivenName: "Morgan", Surname: "Mfa",
			Password: "Demo-Mfa-2026!", SKU: "EXCHANGESTANDARD", SKUID: "4b9405b0-7788-4568-add1-99614e613b69",
			Plans: []servicePlan{planEXOStandard}, MFA: true, HasMailbox: true},
		{ID: seedID("user/unlicensed"), UPN: "unlicensed@" + DefaultDomain, DisplayName: "Uma Unlicensed", GivenName: "Uma", Surname: "Unlicensed",
			Password: "Demo-Nolic-2026!", SKU: "FLOW_FREE", SKUID: "f30db892-07e9-47e9-837c-80727f46fd3d",
			Plans: []servicePlan{planEXOFoundation}},
		{ID: seedID("user/support"), UPN: "support@" + DefaultDomain, DisplayName: "Support", Blocked: true, Shared: true, HasMailbox: true},
	}
}

// secondTenantUsers are the second tenant's: its admin and one mailbox.
func secondTenantUsers() []*user {
	return []*user{
		{ID: seedID("tailspin/user/admin"), UPN: "admin@" + SecondTenantInitialDomain, DisplayName: "Taylor Admin", GivenName: "Taylor", Surname: "Admin",
			Password: "Demo-Tailspin-2026!", RoleIDs: []string{RoleGlobalAdmin}, SKU: "SPE_E3", SKUID: "05e9a617-0261-4cee-bb44-138d3ef5d965",
			Plans: []servicePlan{planEXOEnterprise, planEXOFoundation}, HasMailbox: true},
		{ID: seedID("tailspin/user/orders"), UPN: "orders@" + SecondTenantDefaultDomain, DisplayName: "Orders", GivenName: "Orders", Surname: "Desk",
			Password: "Demo-Orders-2026!", SKU: "EXCHANGESTANDARD", SKUID: "4b9405b0-7788-4568-add1-99614e613b69",
			Plans: []servicePlan{planEXOStandard}, HasMailbox: true},
	}
}

func scope(value, id, kind, what string) permissionScope {
	return permissionScope{
		AdminConsentDescription: "Allows the app to " + what + ".", AdminConsentDisplayName: value,
		ID: id, IsEnabled: true, Type: kind,
		UserConsentDescription: "Allows the app to " + what + " on your behalf.", UserConsentDisplayName: value,
		Value: value,
	}
}

func role(value, id, what string) appRole {
	return appRole{AllowedMemberTypes: []string{"Application"}, Description: "Allows the app to " + what + " without a signed-in user.",
		DisplayName: value, ID: id, IsEnabled: true, Origin: "Application", Value: value}
}

func graphResourceSP(created time.Time) *servicePrincipal {
	return &servicePrincipal{
		ID: seedID("sp/graph"), AppID: GraphAppID, DisplayName: "Microsoft Graph", AccountEnabled: true,
		AppOwnerOrganizationID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a", ServicePrincipalType: "Application",
		ServicePrincipalNames: []string{GraphAppID, "https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com"},
		SignInAudience:        "AzureADMultipleOrgs", created: created, Tags: []string{},
		OAuth2PermissionScopes: []permissionScope{
			scope("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "User", "maintain access to data you have given it access to"),
			scope("openid", "37f7f235-527c-4136-accd-4a02d197296e", "User", "sign users in"),
			scope("profile", "14dad69e-099b-42c9-810b-d002981feec1", "User", "see users' basic profile"),
			scope("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "User", "read users' primary email address"),
			scope("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User", "sign in and read the signed-in user's profile"),
			scope("User.ReadBasic.All", "b340eb25-3456-403f-be2f-af7a0d370277", "User", "read all users' basic profiles"),
			scope("User.Read.All", "a154be20-db9c-4678-8ab7-66f6cc099a59", "Admin", "read all users' full profiles"),
			scope("User.ReadWrite.All", "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4", "Admin", "read and write all users' full profiles"),
			scope("IMAP.AccessAsUser.All", "652390e4-393a-48de-9484-05f9b1212954", "User", "read and write access to mailboxes via IMAP"),
			scope("POP.AccessAsUser.All", "d7b7f2d9-0f45-4ea1-9d42-e50810c06991", "User", "read and write access to mailboxes via POP"),
			scope("SMTP.Send", "258f6531-6087-4cc4-bb90-092c5fb3ed3f", "User", "send emails from mailboxes using SMTP AUTH"),
			scope("EWS.AccessAsUser.All", "9769c687-087d-48ac-9cb3-c37dde652038", "User", "access mailboxes as the signed-in user via Exchange Web Services"),
			scope("EAS.AccessAsUser.All", "ff91d191-45a0-43fd-b837-bd682c4a0b0f", "User", "access mailboxes via Exchange ActiveSync"),
			scope("Mail.Read", "570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "User", "read the signed-in user's mail"),
			scope("Mail.ReadWrite", "024d486e-b451-40bb-833d-3e66d98c5c73", "User", "read and write the signed-in user's mail"),
			scope("Mail.Send", "e383f46e-2787-4529-855e-0e479a3ffac0", "User", "send mail as the signed-in user"),
			// The .Shared scopes reach other users' and shared mailboxes
			// the signed-in user has rights on (microsoft.md §15.3; ids as
			// many independent manifests give them).
			scope("Mail.Read.Shared", "7b9103a5-4610-446b-9670-80643382c1fa", "User", "read mail a user can access, including their own and shared mail"),
			scope("Mail.ReadWrite.Shared", "5df07973-7d5d-46ed-9847-1271055cbd51", "User", "read and write mail a user has permission to access, including their own and shared mail"),
			scope("Mail.Send.Shared", "a367ab51-6b49-43bf-a716-a1fb06d2a174", "User", "send mail as the signed-in user, including sending on-behalf of others"),
			scope("Application.Read.All", "c79f8feb-a9db-4090-85f9-90d820caa0eb", "Admin", "read applications and service principals"),
			scope("Application.ReadWrite.All", "bdfbf15f-ee85-4955-8675-146e8e5296b5", "Admin", "create, read, update and delete applications and service principals"),
			scope("AppRoleAssignment.ReadWrite.All", "84bccea3-f856-4a8a-967b-dbe0a3d53a64", "Admin", "manage app permission grants and app role assignments"),
			scope("DelegatedPermissionGrant.ReadWrite.All", "41ce6ca6-6826-4807-84f1-1c82854f7ee5", "Admin", "manage delegated permission grants"),
			scope("Organization.Read.All", "4908d5b9-3fb2-4b1e-9336-1888b7937185", "Admin", "read organization information"),
			scope("Directory.Read.All", "06da0dbc-49e2-44d2-8312-53f166ab848a", "Admin", "read data in your organization's directory"),
			scope("Directory.ReadWrite.All", "c5366453-9fb0-48a5-a156-24f0c49a4b84", "Admin", "read and write data in your organization's directory"),
			scope("Directory.AccessAsUser.All", "0e263e50-5827-48a4-b97c-d940288653c7", "Admin", "access the directory as the signed-in user"),
			scope("Group.ReadWrite.All", "4e46008b-f24c-477d-8fff-7bb4ec7aafe0", "Admin", "read and write all groups"),
			scope("AuditLog.Read.All", "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20", "Admin", "read audit log data"),
			scope("RoleManagement.Read.Directory", "741c54c3-0c1e-44a1-818b-3f97ab4e8c83", "Admin", "read the role-based access control settings for your directory"),
			scope("GroupMember.Read.All", "bc024368-1153-4739-b217-4326f2e966d0", "Admin", "read group memberships"),
			scope("Group.Read.All", "5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Admin", "read all groups"),
			scope("Organization.ReadWrite.All", "46ca0847-7e6b-426e-9775-ea810a948356", "Admin", "read and write organization information"),
			// Its real id is not in the sources at hand: a placeholder, so a
			// client asking for the least permission can (docs/sim-graph-permissions.md).
			scope("LicenseAssignment.Read.All", seedID("graph-scope/LicenseAssignment.Read.All"), "Admin", "read the license assignments of users and groups"),
		},
		AppRoles: []appRole{
			role("Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "read mail in all mailboxes"),
			role("Mail.ReadWrite", "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "create, read, update, and delete mail in all mailboxes"),
			role("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96", "send mail as any user"),
			role("User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "read user profiles"),
			role("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "read all applications and service principals"),
			role("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "create, read, update and delete applications and service principals"),
			role("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f", "manage app permission grants and app role assignments"),
			role("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "read data in your organization's directory"),
			role("Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "read and write data in your organization's directory"),
			role("DelegatedPermissionGrant.ReadWrite.All", "8e8e4742-1d95-4f68-9d56-6ee75648c72a", "manage delegated permission grants"),
			role("Organization.Read.All", "498476ce-e0fe-48b0-b801-37ba7e2685c6", "read organization information"),
			role("RoleManagement.Read.Directory", "483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "read the role-based access control settings for your directory"),
		},
	}
}

func exoResourceSP(created time.Time) *servicePrincipal {
	return &servicePrincipal{
		ID: seedID("sp/exchange"), AppID: EXOAppID, DisplayName: "Office 365 Exchange Online", AccountEnabled: true,
		AppOwnerOrganizationID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a", ServicePrincipalType: "Application",
		ServicePrincipalNames: []string{EXOAppID, "https://outlook.office365.com/", "https://outlook.office.com/", "https://ps.outlook.com/", "https://outlook.office365.com", "https://outlook.office.com", "https://ps.outlook.com"},
		SignInAudience:        "AzureADMultipleOrgs", created: created, Tags: []string{},
		OAuth2PermissionScopes: []permissionScope{
			scope("EWS.AccessAsUser.All", "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5", "User", "access mailboxes as the signed-in user via Exchange Web Services"),
			scope("IMAP.AccessAsUser.All", "195adc35-e27b-454b-a7ed-1ecdffa1c09f", "User", "read and write access to mailboxes via IMAP"),
			scope("POP.AccessAsUser.All", "fb698133-92fa-453e-a9ed-688e10f2e5ac", "User", "read and write access to mailboxes via POP"),
			scope("SMTP.Send", "76faac2a-0f20-42f1-928a-50de5b9dbe52", "User", "send emails from mailboxes using SMTP AUTH"),
			scope("EAS.AccessAsUser.All", "266d2589-20b5-4f91-9a03-89247d1be8da", "User", "access mailboxes via Exchange ActiveSync"),
		},
		AppRoles: []appRole{
			role("full_access_as_app", "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "have full access via Exchange Web Services to all mailboxes"),
			role("IMAP.AccessAsApp", "5e5addcd-3e8d-4e90-baf5-964efab2b20a", "access mailboxes via IMAP"),
			role("POP.AccessAsApp", "cb842b43-da6e-4506-86fe-bb12199c656d", "access mailboxes via POP"),
			role("SMTP.SendAsApp", "7146a1f0-8703-45b3-9eae-527a64c00995", "send mail via SMTP AUTH as any user"),
			role("Exchange.ManageAsApp", "dc50a0fb-09a3-484d-be87-e023b12c6440", "manage the organization's Exchange environment"),
			role("Mail.Read", "810c84a8-4a9e-49e6-bf7d-12d183f40d01", "read mail in all mailboxes (legacy Outlook REST)"),
			role("Mail.ReadWrite", "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "read and write mail in all mailboxes (legacy Outlook REST)"),
			role("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96", "send mail as any user (legacy Outlook REST)"),
		},
	}
}

// seedMessages are the seeded mailboxes' contents, oldest first.
func seedMessages(now time.Time) map[string][]exchange.Message {
	msg := func(id string, ago time.Duration, from, to, subject, body string) exchange.Message {
		t := now.Add(-ago).UTC()
		raw := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nDate: " + t.Format(time.RFC1123Z) +
			"\r\nMessage-ID: <" + id + "@contoso.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
		return exchange.Message{ID: id, Received: t, From: addrOf(from), To: []string{to}, Subject: subject, Raw: []byte(raw)}
	}
	return map[string][]exchange.Message{
		"helpdesk@" + DefaultDomain: {
			msg("seed-helpdesk-1", 72*time.Hour, "Jordan Lee <jordan.lee@fabrikam.com>", "helpdesk@contoso.com",
				"Printer on 3rd floor jams on every job", "Hi,\nthe printer next to the kitchen on the 3rd floor jams on every print job since Monday.\nCould someone take a look?\n\nThanks,\nJordan"),
			msg("seed-helpdesk-2", 26*time.Hour, "Priya Natarajan <priya@northwindtraders.com>", "helpdesk@contoso.com",
				"Cannot reset my VPN password", "Hello Help Desk,\nthe self-service reset page says my account is locked. Ticket reference from last week: HD-4821.\n\nRegards,\nPriya"),
			msg("seed-helpdesk-3", 3*time.Hour, "Avery Admin <admin@contoso.onmicrosoft.com>", "helpdesk@contoso.com",
				"Maintenance window Saturday 06:00-08:00", "Team,\nmail and VPN will be unavailable during Saturday's maintenance window, 06:00-08:00 UTC.\n\nAvery"),
		},
		"support@" + DefaultDomain: {
			msg("seed-support-1", 5*time.Hour, "Sam Carter <sam.carter@adatum.com>", "support@contoso.com",
				"Order 10248: invoice copy requested", "Good morning,\ncould you send a copy of the invoice for order 10248?\n\nBest,\nSam"),
		},
	}
}

func addrOf(s string) string {
	if i := strings.LastIndex(s, "<"); i >= 0 {
		return strings.TrimSuffix(s[i+1:], ">")
	}
	return s
}
