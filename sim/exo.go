package sim

import (
	"slices"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// Exchange Online's own state for one organization: what an admin sets with
// Exchange Online PowerShell or the admin API (exo_cmdlets.go), and what the
// protocol front ends read through Backend. Sources: microsoft.md §11,
// §15.1, §15.2 and the cmdlet pages of MicrosoftDocs/office-docs-powershell
// (exchange/exchange-ps/ExchangePowerShell/*.md @93336da2).
type exoOrg struct {
	sps    []*exoSP                // New-ServicePrincipal registrations
	perms  []*mbxPerm              // Add-MailboxPermission FullAccess and Add-RecipientPermission SendAs
	cas    map[string]*casSettings // by mailbox owner's user id
	scopes []*mgmtScope            // New-ManagementScope
	roles  []*mgmtRoleAssignment   // New-ManagementRoleAssignment -App

	smtpAuthDisabled bool  // Set-TransportConfig -SmtpClientAuthenticationDisabled
	ewsEnabled       *bool // Set-OrganizationConfig -EwsEnabled ($null = not configured)
	ewsAllowedAppIDs []string

	// orgManagement holds the users added to the Organization Management
	// role group by name; Global and Exchange Administrators are members
	// through their directory roles (microsoft.md §5, "Exchange side").
	orgManagement []string

	// recorded lists cmdlets the sim accepts without modelling them
	// (New-ApplicationAccessPolicy, Test-ApplicationAccessPolicy).
	recorded []string

	mail    map[string][]exchange.Message // by mailbox owner's user id
	mailSeq int
}

// exoSP is Exchange's pointer to an Entra service principal. Exchange does
// not check ObjectId against Entra: a registration made with the app
// registration's object id is stored, and simply never matches a token
// (microsoft.md §11 step 3; New-ServicePrincipal does not validate, §15.2).
type exoSP struct {
	AppID       string // lower case
	ObjectID    string // lower case, as given
	DisplayName string
	created     time.Time
}

// principalKind says what a mailbox permission's trustee is.
type principalKind int

const (
	trusteeUser principalKind = iota
	trusteeSP
)

// mbxPerm is one FullAccess (Get-MailboxPermission) or SendAs
// (Get-RecipientPermission) entry. It takes effect Delays.MailboxPermission
// after it was added, as Exchange's mailbox permission cache catches up.
type mbxPerm struct {
	mailbox     string // owner's user id
	trusteeKind principalKind
	trustee     string // user id, or the exoSP's ObjectID
	right       string // FullAccess | SendAs
	added       time.Time
}

type casSettings struct {
	IMAP     bool
	POP      bool
	EWS      bool
	SMTPAuth exchange.SMTPAuth
}

// mgmtScope is a custom management scope with a recipient filter (OPATH).
type mgmtScope struct {
	Name   string
	Filter string
	expr   opathExpr
	ID     string
}

// mgmtRoleAssignment is an RBAC for Applications role assignment.
type mgmtRoleAssignment struct {
	Name    string
	Role    string // one of applicationRoles' names, as Exchange spells it
	AppSP   string // the exoSP's ObjectID
	Scope   string // custom resource scope name; "" = the whole organization
	ID      string
	created time.Time
}

// applicationRoles are the RBAC for Applications roles and the permissions
// each grants. Microsoft-authored sources name 'Application Mail.Read',
// 'Application Calendars.Read', 'Application Contacts.Read' (OPS
// Test-ServicePrincipalAuthorization.md) and 'Application SMTP.SendAsApp'
// (OXD smtp-app-rbac-onboarding.md); the rest are the table of learn
// "Role Based Access Control for Applications in Exchange Online" as two
// independent 3rd-party copies give it (microsoft.md §11: UNVERIFIED).
var applicationRoles = []struct {
	name  string
	perms []string
}{
	{"Application Mail.Read", []string{"Mail.Read"}},
	{"Application Mail.ReadBasic", []string{"Mail.ReadBasic"}},
	{"Application Mail.ReadWrite", []string{"Mail.ReadWrite"}},
	{"Application Mail.Send", []string{"Mail.Send"}},
	{"Application MailboxSettings.Read", []string{"MailboxSettings.Read"}},
	{"Application MailboxSettings.ReadWrite", []string{"MailboxSettings.ReadWrite"}},
	{"Application Calendars.Read", []string{"Calendars.Read"}},
	{"Application Calendars.ReadWrite", []string{"Calendars.ReadWrite"}},
	{"Application Contacts.Read", []string{"Contacts.Read"}},
	{"Application Contacts.ReadWrite", []string{"Contacts.ReadWrite"}},
	{"Application Mail Full Access", []string{"Mail.ReadWrite", "Mail.Send"}},
	{"Application Exchange Full Access", []string{"Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "EWS.AccessAsApp"}},
	{"Application EWS.AccessAsApp", []string{"EWS.AccessAsApp"}},
	{"Application SMTP.SendAsApp", []string{"SMTP.SendAsApp"}},
}

func applicationRole(name string) (string, []string, bool) {
	for _, r := range applicationRoles {
		if strings.EqualFold(r.name, strings.TrimSpace(name)) {
			return r.name, r.perms, true
		}
	}
	return "", nil, false
}

func newExoOrg() *exoOrg {
	return &exoOrg{cas: map[string]*casSettings{}, mail: map[string][]exchange.Message{}, smtpAuthDisabled: true}
}

// seedExchange sets the seed tenant's Exchange state (docs/architecture.md
// "The seed tenant"): SMTP AUTH off for the organization and on for
// helpdesk@, IMAP/POP/EWS on every mailbox, and the EWS allow-list of an
// organization that met the 2026-10 deadline (EwsEnabled $true with the
// line-of-business app Contoso uses, so only listed apps may use EWS).
func (s *view) seedExchange() {
	o := s.exo
	for _, u := range s.users {
		if u.HasMailbox {
			o.cas[u.ID] = &casSettings{IMAP: true, POP: true, EWS: true}
		}
	}
	if s.ID != TenantID {
		return // the second tenant: EWS not configured, SMTP AUTH off
	}
	if u := s.userByName("helpdesk@" + DefaultDomain); u != nil {
		o.cas[u.ID].SMTPAuth = exchange.SMTPAuthEnabled
	}
	on := true
	o.ewsEnabled = &on
	o.ewsAllowedAppIDs = []string{SeedEWSAppID}
	for addr, msgs := range seedMessages(s.started) {
		if u := s.userByName(addr); u != nil {
			o.mail[u.ID] = msgs
		}
	}
}

// ---- lookups (caller holds s.mu) ----

// recipient resolves an Exchange -Identity for a mailbox: any SMTP proxy
// address (primary or secondary), the UPN, the alias, the display name or
// the owner's directory object id (ExternalDirectoryObjectId). Users
// without a mailbox are not recipients.
func (s *view) recipient(identity string) *user {
	id := strings.TrimSpace(identity)
	if id == "" {
		return nil
	}
	for _, u := range s.users {
		if !u.HasMailbox {
			continue
		}
		if strings.EqualFold(u.UPN, id) || strings.EqualFold(u.ID, id) || strings.EqualFold(u.alias(), id) || strings.EqualFold(u.DisplayName, id) {
			return u
		}
		for _, p := range u.proxyAddresses() {
			if strings.EqualFold(smtpOf(p), id) {
				return u
			}
		}
	}
	return nil
}

// smtpOf strips a proxy address's "SMTP:"/"smtp:" prefix.
func smtpOf(proxy string) string {
	if len(proxy) > 5 && strings.EqualFold(proxy[:5], "smtp:") {
		return proxy[5:]
	}
	return proxy
}

// exoSPByIdentity finds a registration by ObjectId (= ServiceId), AppId or
// DisplayName, the identities Get-ServicePrincipal documents.
func (o *exoOrg) spByIdentity(id string) *exoSP {
	id = strings.TrimSpace(id)
	for _, r := range o.sps {
		if strings.EqualFold(r.ObjectID, id) || strings.EqualFold(r.AppID, id) {
			return r
		}
	}
	for _, r := range o.sps {
		if strings.EqualFold(r.DisplayName, id) {
			return r
		}
	}
	return nil
}

// validSP is the registration a client-credentials token of appID maps to:
// the one whose ObjectId is the enterprise application's object id in
// Entra (caller holds s.mu).
func (s *view) validSP(appID string) *exoSP {
	sp := s.spByAppID(appID)
	if sp == nil {
		return nil
	}
	for _, r := range s.exo.sps {
		if strings.EqualFold(r.AppID, appID) && strings.EqualFold(r.ObjectID, sp.ID) {
			return r
		}
	}
	return nil
}

// effective reports whether a permission has replicated to the mailbox
// servers at now.
func (s *view) effective(p *mbxPerm, now time.Time) bool {
	return now.Sub(p.added) >= s.delays.MailboxPermission
}

// rights are the effective FullAccess/SendAs a trustee holds on a mailbox.
func (s *view) rights(mailbox *user, kind principalKind, trustee string, now time.Time) (full, sendAs bool) {
	for _, p := range s.exo.perms {
		if p.mailbox != mailbox.ID || p.trusteeKind != kind || !strings.EqualFold(p.trustee, trustee) || !s.effective(p, now) {
			continue
		}
		switch p.right {
		case "FullAccess":
			full = true
		case "SendAs":
			sendAs = true
		}
	}
	return full, sendAs
}

// rbacPermissions are the permissions the RBAC for Applications assignments
// of a registration grant on one mailbox (scope filter applied).
func (s *view) rbacPermissions(r *exoSP, mailbox *user) []string {
	var out []string
	for _, a := range s.exo.roles {
		if !strings.EqualFold(a.AppSP, r.ObjectID) || !s.inScope(a.Scope, mailbox) {
			continue
		}
		_, perms, _ := applicationRole(a.Role)
		for _, p := range perms {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *view) scopeByName(name string) *mgmtScope {
	for _, sc := range s.exo.scopes {
		if strings.EqualFold(sc.Name, name) || strings.EqualFold(sc.ID, name) {
			return sc
		}
	}
	return nil
}

// inScope: "" is the organization; else the scope's filter decides.
func (s *view) inScope(scope string, mailbox *user) bool {
	if scope == "" {
		return true
	}
	sc := s.scopeByName(scope)
	return sc != nil && sc.expr != nil && sc.expr.match(recipientProps(mailbox))
}

// isOrgManagement: Global Administrators and Exchange Administrators are
// Organization Management members through their directory roles; others
// only when added by name.
func (s *view) isOrgManagement(u *user) bool {
	if s.hasRole(u, RoleGlobalAdmin, RoleExchangeAdmin) {
		return true
	}
	return slices.Contains(s.exo.orgManagement, u.ID)
}

// recipientTypeDetails is Get-Mailbox's RecipientTypeDetails.
func recipientTypeDetails(u *user) string {
	if u.Shared {
		return "SharedMailbox"
	}
	return "UserMailbox"
}

func (u *user) alias() string {
	if u.Alias != "" {
		return u.Alias
	}
	local, _, _ := strings.Cut(mailOf(u), "@")
	return local
}

// proxyAddresses are the mailbox's EmailAddresses: the primary address as
// "SMTP:", every other as "smtp:", with the initial domain's address that
// Exchange Online gives every mailbox.
func (u *user) proxyAddresses() []string {
	primary := mailOf(u)
	out := []string{"SMTP:" + primary}
	extra := append([]string{}, u.SecondaryAddresses...)
	if u.home != nil {
		if onms := u.alias() + "@" + u.home.InitialDomain; !strings.EqualFold(onms, primary) {
			extra = append(extra, onms)
		}
	}
	for _, a := range extra {
		if !strings.EqualFold(a, primary) {
			out = append(out, "smtp:"+a)
		}
	}
	return out
}
