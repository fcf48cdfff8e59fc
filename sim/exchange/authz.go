package exchange

import (
	"slices"
	"strings"
)

// service is one Exchange protocol as far as token checks go.
type service int

const (
	serviceIMAP service = iota
	servicePOP
	serviceSMTP
	serviceEWS
)

// delegatedScope and appRole are the permission each service needs in scp
// (delegated) or roles (app-only): microsoft.md §9 and architecture.md.
func (s service) delegatedScope() string {
	return [...]string{"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "EWS.AccessAsUser.All"}[s]
}

func (s service) appRole() string {
	return [...]string{"IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp", "full_access_as_app"}[s]
}

// exchangeAudiences are the aud values Exchange Online accepts.
var exchangeAudiences = []string{
	"https://outlook.office.com",
	"https://outlook.office365.com",
	"00000002-0000-0ff1-ce00-000000000000",
}

// graphAudiences are the aud values Microsoft Graph accepts.
var graphAudiences = []string{
	"https://graph.microsoft.com",
	"00000003-0000-0000-c000-000000000000",
}

func audienceIn(aud string, list []string) bool {
	aud = strings.TrimSuffix(aud, "/")
	for _, a := range list {
		if strings.EqualFold(aud, a) {
			return true
		}
	}
	return false
}

// denial says why a login or request was refused. The front ends map kinds
// to their protocol's own reply; reason is for logs and for EWS's
// x-ms-diagnostics header, and never contains the token.
type denial struct {
	kind   denialKind
	reason string
}

type denialKind int

const (
	denyNone           denialKind = iota
	denyToken                     // bad/expired token, wrong tenant/audience, no permission, user= mismatch
	denyExpired                   // like denyToken, but the token's lifetime is over
	denyAudience                  // like denyToken, but aud is not this service's
	denyPermission                // like denyToken, but the permission is missing from scp/roles
	denyNoMailbox                 // no such mailbox, or the user has no Exchange licence
	denyProtocolOff               // Set-CASMailbox -ImapEnabled/-PopEnabled/-EwsEnabled $false
	denySMTPTenantOff             // Set-TransportConfig -SmtpClientAuthenticationDisabled $true, mailbox inherits
	denySMTPMailboxOff            // Set-CASMailbox -SmtpClientAuthenticationDisabled $true
	denyNotRegistered             // app-only: no New-ServicePrincipal in Exchange for the app
	denyNoFullAccess              // app-only: no FullAccess on the mailbox
)

// grant is an accepted login: whose token, for which mailbox.
type grant struct {
	claims  Claims
	mailbox Mailbox
	access  AppAccess // app-only tokens: Exchange's own state for the app on this mailbox
	// viaRBAC: an app-only token without the service's Entra permission,
	// admitted by an RBAC for Applications assignment in scope instead.
	viaRBAC bool
}

// rbacPermission is the RBAC for Applications permission that stands in
// for a service's Entra application permission, where Microsoft offers one:
// SMTP (OXD smtp-app-rbac-onboarding.md: no API permission, the
// 'Application SMTP.SendAsApp' role) and EWS ('Application
// EWS.AccessAsApp'). IMAP and POP have none.
func (s service) rbacPermission() string {
	return [...]string{"", "", "SMTP.SendAsApp", "EWS.AccessAsApp"}[s]
}

// checkToken runs the checks every Exchange service shares, in Exchange's
// order: signature and lifetime, tenant, audience, permission. An app-only
// token without the service's permission passes with rbac true when the
// service has an RBAC path; the caller then checks the mailbox's RBAC.
func checkToken(b Backend, raw string, svc service) (claims Claims, rbac bool, d *denial) {
	claims, err := b.VerifyToken(raw)
	if err != nil {
		msg := redact(err.Error(), raw)
		if strings.Contains(strings.ToLower(msg), "expired") {
			return claims, false, &denial{denyExpired, "token expired: " + msg}
		}
		return claims, false, &denial{denyToken, "token not valid: " + msg}
	}
	if !b.KnownTenant(claims.TenantID) {
		return claims, false, &denial{denyToken, "token is for tenant " + claims.TenantID + ", not one of these"}
	}
	if !audienceIn(claims.Audience, exchangeAudiences) {
		return claims, false, &denial{denyAudience, "audience " + claims.Audience + " is not Exchange Online"}
	}
	if claims.AppOnly() {
		if !slices.Contains(claims.Roles, svc.appRole()) {
			if svc.rbacPermission() != "" {
				return claims, true, nil
			}
			return claims, false, &denial{denyPermission, "app-only token lacks role " + svc.appRole()}
		}
	} else if !slices.Contains(claims.Scopes, svc.delegatedScope()) {
		return claims, false, &denial{denyPermission, "delegated token lacks scope " + svc.delegatedScope()}
	}
	return claims, false, nil
}

// authorizeSASL checks an XOAUTH2 login (IMAP, POP3, SMTP) for mailbox user.
// On denyProtocolOff, denyNotRegistered and denyNoFullAccess the grant is
// still filled in: IMAP accepts such logins and fails later.
func authorizeSASL(b Backend, user, raw string, svc service) (grant, *denial) {
	claims, rbac, d := checkToken(b, raw, svc)
	if d != nil {
		return grant{claims: claims}, d
	}
	g := grant{claims: claims, viaRBAC: rbac}
	mb, ok := b.Mailbox(user)
	// A delegated token opens its own user's mailbox, or one the user holds
	// FullAccess on (a shared mailbox: user= names the shared address,
	// microsoft.md §10).
	if !claims.AppOnly() && !(ok && strings.EqualFold(mb.UPN, claims.UPN)) {
		full := false
		if ok {
			full, _ = b.UserAccess(claims.UPN, mb.Address)
		}
		if !full || svc == serviceSMTP {
			return g, &denial{denyToken, "user= " + user + " is not the token's user " + claims.UPN + " and the user has no FullAccess on it"}
		}
	}
	if ok && !strings.EqualFold(mb.TenantID, claims.TenantID) {
		// A mailbox of another tenant is as good as unknown.
		return g, &denial{denyToken, "the token's tenant " + claims.TenantID + " does not hold " + user}
	}
	if !ok || !mb.Enabled {
		return g, &denial{denyNoMailbox, "no mailbox for " + user}
	}
	g.mailbox = mb
	switch svc {
	case serviceIMAP:
		if !mb.IMAPEnabled {
			return g, &denial{denyProtocolOff, "IMAP disabled on " + mb.Address}
		}
	case servicePOP:
		if !mb.POPEnabled {
			return g, &denial{denyProtocolOff, "POP disabled on " + mb.Address}
		}
	case serviceSMTP:
		switch mb.SMTPAuth {
		case SMTPAuthDisabled:
			return g, &denial{denySMTPMailboxOff, "SMTP AUTH disabled on " + mb.Address}
		case SMTPAuthInherit:
			if mb.OrgSMTPAuthDisabled {
				return g, &denial{denySMTPTenantOff, "SMTP AUTH disabled for the tenant"}
			}
		}
	}
	if claims.AppOnly() {
		g.access = b.AppAccess(claims.AppID, mb.Address)
		if !g.access.Registered {
			return g, &denial{denyNotRegistered, "app " + claims.AppID + " has no Exchange service principal"}
		}
		switch {
		case rbac:
			// RBAC-only path: the role assignment's scope must hold the
			// mailbox (smtp-app-rbac-onboarding.md).
			if !slices.Contains(g.access.RBAC, svc.rbacPermission()) {
				return g, &denial{denyNoFullAccess, "app " + claims.AppID + " has no role assignment in scope for " + mb.Address}
			}
		case !g.access.FullAccess:
			// With the Entra permission in the token Exchange checks the
			// mailbox permission: FullAccess, for SMTP too, at AUTH
			// (microsoft.md §15.2; field reports of 535 5.7.3).
			return g, &denial{denyNoFullAccess, "app " + claims.AppID + " has no FullAccess on " + mb.Address}
		}
	}
	return g, nil
}
