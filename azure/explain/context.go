package explain

import (
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/internal/pwsh"
)

// MailContext is what the fix of a failure needs to name real values: which
// flow, which mailbox, which app and service principal, which tenant and
// Exchange environment, what the token carried, which server answered and,
// when it was read, Exchange's own state. Empty fields become
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
	// Greeting is the server's first line (IMAP "* OK ...", POP3 "+OK ...",
	// SMTP "220 ..."), when the check got that far. It tells Exchange
	// Online from other servers (IdentifyServer): Exchange-specific causes
	// are given only for Exchange's own replies from a server that is, or
	// may be, Exchange Online.
	Greeting string

	// What the access token carried, when it could be decoded.
	TokenAudience string
	TokenScopes   []string // scp
	TokenRoles    []string // roles
	TokenTenant   string   // tid
	TokenUser     string   // upn / unique_name / preferred_username
	TokenExpired  bool

	// Exchange is Exchange Online's state as read from Exchange itself
	// (nil: not read). With it the explanations state the cause as a fact
	// ("IMAP is off for this mailbox (ImapEnabled False)") instead of
	// ranking guesses from the reply text. See ExchangeFacts.
	Exchange *ExchangeFacts
}

// AppOnly reports whether the flow uses application permissions.
func (c MailContext) AppOnly() bool { return c.Flow.AppOnly() }

// Server is the server that answered, as far as the greeting and host say.
func (c MailContext) Server(p catalog.Protocol) Server { return IdentifyServer(p, c.Greeting, c.Host) }

func orPlaceholder(v, placeholder string) string {
	if strings.TrimSpace(v) == "" {
		return "<" + placeholder + ">"
	}
	return v
}

// psArg is a value for a PowerShell command line: a single-quoted literal
// (internal/pwsh), so that nothing in it ($(...), a backtick, a typographic
// quote) is ever run. An empty value stays a bare <placeholder>: pasted
// unedited, PowerShell refuses the line ('<' is reserved), so it fails
// safe. A value pwsh refuses (a line break, a control or format character)
// becomes a placeholder saying so, never part of the command.
func psArg(v, placeholder string) string {
	if strings.TrimSpace(v) == "" {
		return "<" + placeholder + ">"
	}
	q, err := pwsh.Quote(v)
	if err != nil {
		return "<" + placeholder + ": the value " + err.Error() + ">"
	}
	return q
}

func (c MailContext) mailbox() string { return psArg(c.Mailbox, "mailbox address") }
func (c MailContext) appID() string   { return psArg(c.AppID, "application (client) id") }
func (c MailContext) spID() string {
	return psArg(c.ServicePrincipalID, "enterprise application object id")
}

// spRef names the app's Exchange registration in -User and -Trustee: the
// registration's Identity when Exchange was read (as Microsoft's procedure
// passes $SP.Identity), else the enterprise application's object id.
func (c MailContext) spRef() string {
	if c.Exchange != nil && c.Exchange.Registration == RegistrationRight && c.Exchange.RegistrationRef != "" {
		return psArg(c.Exchange.RegistrationRef, "registration identity")
	}
	return c.spID()
}

// ConnectExchange is the Connect-ExchangeOnline line for the tenant and cloud.
func (c MailContext) ConnectExchange() string {
	line := "Connect-ExchangeOnline"
	if c.TenantID != "" {
		line += " -Organization " + psArg(c.TenantID, "tenant id")
	}
	if c.ExchangeEnvironment != "" {
		line += " -ExchangeEnvironmentName " + psArg(c.ExchangeEnvironment, "Exchange environment")
	}
	return line
}

// NewServicePrincipalCommand registers the app in Exchange Online with the
// enterprise application's object id (not the app registration's).
func (c MailContext) NewServicePrincipalCommand() string {
	return fmt.Sprintf("New-ServicePrincipal -AppId %s -ObjectId %s", c.appID(), c.spID())
}

// FullAccessCommand gives the app's Exchange registration FullAccess on the
// mailbox: Microsoft's documented right for client-credentials IMAP, POP
// and SMTP (microsoft.md §15.2).
func (c MailContext) FullAccessCommand() string {
	return fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess", c.mailbox(), c.spRef())
}

// SendAsCommand gives trustee (a user's address or the app's registration;
// quoted here) SendAs on the mailbox.
func (c MailContext) SendAsCommand(trustee string) string {
	return fmt.Sprintf("Add-RecipientPermission -Identity %s -AccessRights SendAs -Trustee %s -Confirm:$false", c.mailbox(), psArg(trustee, "trustee"))
}

// appSendAsCommand is SendAsCommand for the app's registration.
func (c MailContext) appSendAsCommand() string {
	return fmt.Sprintf("Add-RecipientPermission -Identity %s -AccessRights SendAs -Trustee %s -Confirm:$false", c.mailbox(), c.spRef())
}

// registerCommand is New-ServicePrincipal for a fix that does not know
// whether Exchange has the registration already: -ErrorAction
// SilentlyContinue lets a re-run pass over "already exists". When Exchange
// was read and has none, the plain command is used, so a real failure
// shows.
func (c MailContext) registerCommand() string {
	if c.Exchange != nil && c.Exchange.Registration == RegistrationNone {
		return c.NewServicePrincipalCommand()
	}
	return c.NewServicePrincipalCommand() + " -ErrorAction SilentlyContinue"
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
