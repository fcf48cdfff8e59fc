package sim

import (
	"fmt"
	"strings"
	"time"
)

// The state a consultant meets after the setup (issue 13): secrets of any
// age, and app registrations made by hand from the vendor documents
// (docs/sim-lifecycle.md).

// AddAgedSecret adds a client secret with the given validity to the app
// registration (appId) in any tenant, as if it had been added at start
// and had long replicated: a past end gives AADSTS7000222 at the token
// endpoint, a near one a secret about to expire. displayName is kept ("" =
// none, as Graph's addPassword without one). It returns the secret's value
// and keyId.
func (s *Server) AddAgedSecret(appID, displayName string, start, end time.Time) (secret, keyID string, err error) {
	if !end.After(start) {
		return "", "", fmt.Errorf("sim: the secret's end %s is not after its start %s", end, start)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByAppID(appID)
	if a == nil {
		return "", "", fmt.Errorf("sim: no application with appId %q", appID)
	}
	secret, keyID = s.addSecretLocked(a, displayName, start, end)
	return secret, keyID, nil
}

func (s *Server) addSecretLocked(a *application, displayName string, start, end time.Time) (string, string) {
	secret := randomSecret()
	pc := passwordCredential{KeyID: newID(), Hint: secret[:3], StartDateTime: start.UTC().Truncate(time.Second),
		EndDateTime: end.UTC().Truncate(time.Second), hash: hashSecret(secret), created: s.started.Add(-365 * 24 * time.Hour)}
	if displayName != "" {
		pc.DisplayName = &displayName
	}
	a.PasswordCredentials = append(a.PasswordCredentials, pc)
	return secret, pc.KeyID
}

// HandMadeKind names an app registration as a portal user would have made
// it from a vendor's document.
type HandMadeKind string

const (
	// HandMadeExtraView: ExtraView's document (auth code, Web redirect).
	HandMadeExtraView HandMadeKind = "extraview"
	// HandMadeGenesys: Genesys E-mail Server's document (ROPC, multi-tenant).
	HandMadeGenesys HandMadeKind = "genesys"
	// HandMadeAgiloft: Agiloft's document (EWS app-only, full_access_as_app).
	HandMadeAgiloft HandMadeKind = "agiloft"
	// HandMadeMonitorERP: Monitor ERP's client-secret method (EWS app-only).
	HandMadeMonitorERP HandMadeKind = "monitor-erp"
	// HandMadeIMAPDaemon: a generic app-only IMAP/SMTP daemon from
	// Microsoft's "Authenticate an IMAP, POP or SMTP connection using OAuth".
	HandMadeIMAPDaemon HandMadeKind = "imap-daemon"
)

// HandMadeKinds lists every kind SeedHandMadeApp knows.
func HandMadeKinds() []HandMadeKind {
	return []HandMadeKind{HandMadeExtraView, HandMadeGenesys, HandMadeAgiloft, HandMadeMonitorERP, HandMadeIMAPDaemon}
}

// HandMadeApp is what SeedHandMadeApp made. Problems lists, in words, each
// way it differs from what the product needs (the answer a doctor should
// find); the objects themselves are ordinary directory and Exchange
// objects, read through Graph and the cmdlets like any other.
type HandMadeApp struct {
	Kind               HandMadeKind
	DisplayName        string
	AppID              string
	ObjectID           string // the app registration's object id
	ServicePrincipalID string // the enterprise application's object id
	Secret             string // "" when the app has none
	SecretKeyID        string
	SecretEnd          time.Time
	Problems           []string
}

// SeedHandMadeApp registers, in the seed tenant, an app as a portal user
// following the vendor's document would have left it (docs/sim-lifecycle.md
// lists each kind). Every call makes a new app (new ids); it was made and
// replicated long ago, and carries no mailoauth marker.
func (s *Server) SeedHandMadeApp(kind HandMadeKind) (HandMadeApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.home()
	made := s.started.Add(-200 * 24 * time.Hour)
	now := time.Now()
	graph, exo := v.spByAppID(GraphAppID), v.spByAppID(EXOAppID)
	newApp := func(name string) *application {
		a := &application{ID: newID(), AppID: newID(), DisplayName: name, SignInAudience: "AzureADMyOrg",
			CreatedDateTime: made.UTC().Truncate(time.Second), PublisherDomain: v.InitialDomain, created: made, home: v.tenant}
		s.apps[a.ID] = a
		return a
	}
	// The portal makes the enterprise application with the registration.
	newSP := func(a *application) *servicePrincipal {
		sp := &servicePrincipal{ID: newID(), AppID: a.AppID, DisplayName: a.DisplayName, AccountEnabled: true,
			AppOwnerOrganizationID: v.ID, ServicePrincipalType: "Application", ServicePrincipalNames: []string{a.AppID},
			SignInAudience: a.SignInAudience, ReplyURLs: append([]string{}, a.Web.RedirectURIs...), created: made}
		v.sps[sp.ID] = sp
		return sp
	}
	request := func(a *application, res *servicePrincipal, kind string, values ...string) {
		rra := requiredResourceAccess{ResourceAppID: res.AppID}
		for _, val := range values {
			id := ""
			if kind == "Scope" {
				ps, _ := res.scope(val)
				id = ps.ID
			} else {
				for _, r := range res.AppRoles {
					if r.Value == val {
						id = r.ID
					}
				}
			}
			if id == "" {
				panic("sim: hand-made app names an unknown permission " + val)
			}
			rra.ResourceAccess = append(rra.ResourceAccess, resourceAccess{ID: id, Type: kind})
		}
		a.RequiredResourceAccess = append(a.RequiredResourceAccess, rra)
	}
	consentScopes := func(sp, res *servicePrincipal, scope string) {
		g := &permissionGrant{ID: opaqueID(), ClientID: sp.ID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: scope, created: made}
		v.grants[g.ID] = g
	}
	consentRole := func(sp, res *servicePrincipal, value string) {
		for _, r := range res.AppRoles {
			if r.Value == value {
				x := &appRoleAssignment{ID: opaqueID(), AppRoleID: r.ID, CreatedDateTime: made.UTC().Truncate(time.Second),
					PrincipalDisplayName: sp.DisplayName, PrincipalID: sp.ID, PrincipalType: "ServicePrincipal",
					ResourceDisplayName: res.DisplayName, ResourceID: res.ID, created: made}
				v.assigns[x.ID] = x
			}
		}
	}
	out := HandMadeApp{Kind: kind}
	secret := func(a *application, name string, end time.Time) {
		out.Secret, out.SecretKeyID = s.addSecretLocked(a, name, end.AddDate(0, -6, 0), end)
		out.SecretEnd = end.UTC().Truncate(time.Second)
	}
	var a *application
	var sp *servicePrincipal
	switch kind {
	case HandMadeExtraView:
		a = newApp("ExtraView Email")
		a.Web.RedirectURIs = []string{"https://ev.contoso.com/evj/OAuth2"}
		sp = newSP(a)
		request(a, graph, "Scope", "offline_access", "IMAP.AccessAsUser.All", "SMTP.Send")
		secret(a, "ExtraView", now.AddDate(0, 0, 20))
		out.Problems = []string{
			"redirect URI https://ev.contoso.com/evj/OAuth2 lacks ExtraView's ?p_action=getTokenReturn&p_option=admin.EmailTokenUtility",
			"IMAP.AccessAsUser.All and SMTP.Send requested on Microsoft Graph, not on Office 365 Exchange Online",
			"POP.AccessAsUser.All missing: the document's POP.AccessUser.All does not exist, so the portal added nothing",
			"admin consent never granted",
			"the EVMail user (helpdesk@contoso.com) is not assigned to the enterprise application",
			"the client secret expires in 20 days",
		}
	case HandMadeGenesys:
		a = newApp("Genesys E-mail Server")
		a.SignInAudience = "AzureADMultipleOrgs"
		f := false
		a.IsFallbackPublicClient = &f
		sp = newSP(a)
		request(a, graph, "Scope", "User.Read", "IMAP.AccessAsUser.All", "SMTP.Send")
		consentScopes(sp, graph, "User.Read IMAP.AccessAsUser.All SMTP.Send")
		out.Problems = []string{
			"\"Allow public client flows\" is No (isFallbackPublicClient false): ROPC is refused (AADSTS7000218)",
			"IMAP.AccessAsUser.All and SMTP.Send requested and consented on Microsoft Graph, not on Office 365 Exchange Online",
			"POP.AccessAsUser.All missing: the document's POP3.AccessAsUser.All does not exist, so the portal added nothing",
		}
	case HandMadeAgiloft:
		a = newApp("Agiloft EWS")
		sp = newSP(a)
		request(a, exo, "Role", "full_access_as_app")
		consentRole(sp, exo, "full_access_as_app")
		secret(a, "Agiloft EWS Integration", now.AddDate(0, 0, -3))
		out.Problems = []string{
			"the client secret expired 3 days ago (AADSTS7000222); the document said \"never expire\", the portal allowed 24 months at most",
			"the app is not in the organization's EwsAllowedAppIDs, so EWS refuses it (HTTP 403)",
		}
	case HandMadeMonitorERP:
		a = newApp("Monitor ERP Mail")
		a.PublicClient.RedirectURIs = []string{"https://login.microsoftonline.com/common/oauth2/nativeclient"}
		disabled := true
		a.IsDisabled = &disabled
		sp = newSP(a)
		request(a, exo, "Role", "full_access_as_app")
		secret(a, "Monitor", now.AddDate(1, 0, 0))
		v.exo.recorded = append(v.exo.recorded, "New-ApplicationAccessPolicy")
		out.Problems = []string{
			"the app registration is deactivated (isDisabled true): no tokens (AADSTS7000112)",
			"admin consent for full_access_as_app never granted: the token has no roles",
			"the app is not in the organization's EwsAllowedAppIDs, so EWS refuses it (HTTP 403)",
			"New-ApplicationAccessPolicy was run (recorded, no effect): RBAC for Applications replaces it",
		}
	case HandMadeIMAPDaemon:
		a = newApp("IMAP mail daemon")
		sp = newSP(a)
		request(a, exo, "Role", "IMAP.AccessAsApp", "SMTP.SendAsApp")
		consentRole(sp, exo, "IMAP.AccessAsApp")
		consentRole(sp, exo, "SMTP.SendAsApp")
		secret(a, "daemon", now.AddDate(0, 9, 0))
		// New-ServicePrincipal -AppId <appId> -ObjectId <the app
		// registration's object id>, then Add-MailboxPermission to it: the
		// pitfall of microsoft.md §11 step 3.
		v.exo.sps = append(v.exo.sps, &exoSP{AppID: strings.ToLower(a.AppID), ObjectID: strings.ToLower(a.ID), DisplayName: a.DisplayName, created: made})
		if u := v.userByName("helpdesk@" + DefaultDomain); u != nil {
			v.exo.perms = append(v.exo.perms, &mbxPerm{mailbox: u.ID, trusteeKind: trusteeSP, trustee: strings.ToLower(a.ID), right: "FullAccess", added: made})
		}
		out.Problems = []string{
			"Exchange registered with the app registration's object id, not the enterprise application's (New-ServicePrincipal -ObjectId)",
			"FullAccess on helpdesk@contoso.com was given to that registration, so IMAP answers \"User is authenticated but not connected.\"",
			"SMTP AUTH as the app is refused the same way (535 5.7.3): Exchange knows no service principal with the token's object id",
		}
	default:
		return HandMadeApp{}, fmt.Errorf("sim: unknown hand-made app kind %q (known: %v)", kind, HandMadeKinds())
	}
	out.DisplayName, out.AppID, out.ObjectID, out.ServicePrincipalID = a.DisplayName, a.AppID, a.ID, sp.ID
	s.logf("sim: hand-made app %q (%s) seeded, appId %s", a.DisplayName, kind, a.AppID)
	return out, nil
}
