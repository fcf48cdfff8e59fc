package explain

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// MailContext is what the fix of a failure needs to name real values: which
// flow, which mailbox, which app and service principal, which tenant and
// Exchange environment, and what the token carried. Empty fields become
// <placeholders> in the fix command.
type MailContext struct {
	Flow    catalog.Flow
	Mailbox string // the mailbox the check used (the XOAUTH2 user= value)
	// AppID is the application (client) id.
	AppID string
	// ServicePrincipalID is the enterprise application's object id (Graph
	// servicePrincipal.id): the id New-ServicePrincipal -ObjectId needs.
	ServicePrincipalID string
	// AppObjectID is the app registration's object id, named in the fix so
	// the admin can tell the two ids apart.
	AppObjectID string
	TenantID    string
	// ExchangeEnvironment is Connect-ExchangeOnline's -ExchangeEnvironmentName
	// (empty for the global cloud).
	ExchangeEnvironment string
	// Host is the mail server the check talked to.
	Host string

	// What the access token carried, when it could be decoded.
	TokenAudience string
	TokenScopes   []string // scp
	TokenRoles    []string // roles
	TokenTenant   string   // tid
	TokenUser     string   // upn / unique_name / preferred_username
	TokenExpired  bool
}

// AppOnly reports whether the flow uses application permissions.
func (c MailContext) AppOnly() bool { return c.Flow.AppOnly() }

func orPlaceholder(v, placeholder string) string {
	if strings.TrimSpace(v) == "" {
		return "<" + placeholder + ">"
	}
	return v
}

// psQuote quotes a value for PowerShell: double quotes, an inner quote
// escaped with a backtick. Placeholders stay bare so they stand out.
func psQuote(v string) string {
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		return v // a placeholder the admin replaces
	}
	return `"` + strings.ReplaceAll(v, `"`, "`\"") + `"`
}

func (c MailContext) mailbox() string { return psQuote(orPlaceholder(c.Mailbox, "mailbox address")) }
func (c MailContext) appID() string {
	return psQuote(orPlaceholder(c.AppID, "application (client) id"))
}
func (c MailContext) spID() string {
	return psQuote(orPlaceholder(c.ServicePrincipalID, "enterprise application object id"))
}

// ConnectExchange is the Connect-ExchangeOnline line for the tenant and cloud.
func (c MailContext) ConnectExchange() string {
	line := "Connect-ExchangeOnline"
	if c.TenantID != "" {
		line += " -Organization " + psQuote(c.TenantID)
	}
	if c.ExchangeEnvironment != "" {
		line += " -ExchangeEnvironmentName " + c.ExchangeEnvironment
	}
	return line
}

// NewServicePrincipalCommand registers the app in Exchange Online with the
// enterprise application's object id (not the app registration's).
func (c MailContext) NewServicePrincipalCommand() string {
	return fmt.Sprintf("New-ServicePrincipal -AppId %s -ObjectId %s", c.appID(), c.spID())
}

// FullAccessCommand gives the app's service principal FullAccess on the mailbox.
func (c MailContext) FullAccessCommand() string {
	return fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess", c.mailbox(), c.spID())
}

// SendAsCommand gives trustee SendAs on the mailbox.
func (c MailContext) SendAsCommand(trustee string) string {
	return fmt.Sprintf("Add-RecipientPermission -Identity %s -AccessRights SendAs -Trustee %s -Confirm:$false", c.mailbox(), trustee)
}

// script joins PowerShell lines after Connect-ExchangeOnline.
func (c MailContext) script(lines ...string) string {
	return strings.Join(append([]string{c.ConnectExchange()}, lines...), "\n")
}

// protocolPermission is the permission the flow needs for a protocol, by name.
func protocolPermission(p catalog.Protocol, f catalog.Flow) string {
	if f == "" {
		f = catalog.AuthCode
	}
	perm, err := catalog.ForProtocol(p, f)
	if err != nil {
		return "<permission>"
	}
	return perm.Value
}

// exchangeAudience reports whether aud is one Exchange Online accepts.
func exchangeAudience(aud string) bool {
	a := strings.TrimRight(strings.ToLower(aud), "/")
	switch a {
	case "00000002-0000-0ff1-ce00-000000000000":
		return true
	}
	// Exchange resources of every cloud: https://outlook.office.com,
	// https://outlook.office365.com, https://outlook.office365.us,
	// https://outlook-dod.office365.us, https://partner.outlook.cn.
	for _, h := range []string{"https://outlook.office.com", "https://outlook.office365.com", "https://outlook.office365.us", "https://outlook-dod.office365.us", "https://partner.outlook.cn", "https://ps.outlook.com"} {
		if a == h {
			return true
		}
	}
	return false
}

func hasFold(xs []string, v string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
