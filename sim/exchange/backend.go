// Package exchange is the simulated tenant's Exchange Online front ends: IMAP
// (implicit TLS), POP3 (implicit TLS), SMTP submission (STARTTLS), EWS SOAP
// and Graph's mail endpoints. They validate bearer tokens and mailbox state
// and answer in Exchange's own words (microsoft.md §10, §11, §13).
//
// The tenant's directory, token keys and mail store live in package sim; they
// reach these servers only through Backend, so this package imports nothing
// of the simulator and nothing of mailoauth.
package exchange

import "time"

// Claims is what Exchange reads from an access token whose signature, issuer
// and lifetime the Backend has already verified.
type Claims struct {
	Audience string   // aud: https://outlook.office.com, https://outlook.office365.com, https://graph.microsoft.com, ...
	Version  string   // ver: "1.0" or "2.0"
	TenantID string   // tid
	AppID    string   // appid (v1) or azp (v2): the client application's appId
	ObjectID string   // oid: the user (delegated) or the client's service principal (app-only)
	UPN      string   // upn / unique_name / preferred_username; empty for app-only
	Scopes   []string // scp split on spaces; delegated tokens only
	Roles    []string // roles; app-only tokens only
	Expiry   time.Time
}

// AppOnly reports whether the token has no user: client credentials.
func (c Claims) AppOnly() bool { return c.UPN == "" && len(c.Scopes) == 0 }

// SMTPAuth is a mailbox's Set-CASMailbox -SmtpClientAuthenticationDisabled value.
type SMTPAuth int

const (
	SMTPAuthInherit  SMTPAuth = iota // $null: the org's Set-TransportConfig value applies
	SMTPAuthEnabled                  // $false: SMTP AUTH allowed for this mailbox
	SMTPAuthDisabled                 // $true: SMTP AUTH refused for this mailbox
)

// Mailbox is a snapshot of one mailbox's Exchange-side state.
type Mailbox struct {
	Address     string // primary SMTP address
	UPN         string // the owner's userPrincipalName (equal to Address for most users)
	UserID      string // the owner's directory object id
	DisplayName string
	Shared      bool
	// Enabled is false when the user has no Exchange Online licence and is no
	// shared mailbox: the directory user exists but has no mailbox.
	Enabled     bool
	IMAPEnabled bool
	POPEnabled  bool
	EWSEnabled  bool
	SMTPAuth    SMTPAuth
	// TenantID is the tenant whose directory holds the mailbox: a token
	// of another tenant does not open it.
	TenantID string
	// OrgSMTPAuthDisabled is the tenant's Set-TransportConfig
	// -SmtpClientAuthenticationDisabled, which SMTPAuthInherit follows.
	OrgSMTPAuthDisabled bool
}

// Message is one stored message.
type Message struct {
	ID       string
	Received time.Time
	From     string
	To       []string // every envelope recipient, Bcc included; headers are in Raw
	Subject  string
	Raw      []byte // RFC 5322 bytes
	Read     bool
}

// AppAccess is what Exchange itself (not Entra) knows of an application, the
// state an admin sets with Exchange Online PowerShell.
type AppAccess struct {
	// Registered: New-ServicePrincipal ran with this appId and the enterprise
	// application's object id. A registration made with the app
	// registration's object id does not count (the documented pitfall).
	Registered bool
	FullAccess bool // Add-MailboxPermission -AccessRights FullAccess on the mailbox (replicated)
	SendAs     bool // Add-RecipientPermission -AccessRights SendAs on the mailbox (replicated)
	// RBAC lists the permissions RBAC for Applications role assignments of
	// the registration grant on this mailbox (scope applied), by name:
	// Mail.Read, Mail.Send, EWS.AccessAsApp, SMTP.SendAsApp, ...
	RBAC []string
}

// Backend is the tenant as Exchange sees it. Implementations are safe for
// concurrent use.
type Backend interface {
	// VerifyToken checks signature, issuer and lifetime (nbf/exp) of a bearer
	// token issued by the tenant's identity platform and returns its claims.
	// It does not check audience or permissions: the caller does.
	VerifyToken(raw string) (Claims, error)
	// KnownTenant reports whether a tenant GUID is one of the tenants the
	// Backend serves; tokens of other tenants are refused.
	KnownTenant(tid string) bool
	// Mailbox looks a mailbox up by SMTP address, UPN (case-insensitively)
	// or the owner's directory object id (Graph's /users/{id}).
	Mailbox(address string) (Mailbox, bool)
	// AppAccess reports Exchange's own state for a client appId on a mailbox.
	AppAccess(appID, mailbox string) AppAccess
	// UserAccess reports a user's own (replicated) FullAccess and SendAs on
	// another mailbox, e.g. a shared one (delegated access).
	UserAccess(upn, mailbox string) (fullAccess, sendAs bool)
	// EWSAllowed applies a tenant's Set-OrganizationConfig -EwsEnabled /
	// -EwsAllowedAppIDs to a client appId.
	EWSAllowed(tenantID, appID string) bool
	// Messages lists a mailbox's messages, oldest first.
	Messages(mailbox string) []Message
	// Deliver stores a message in each recipient mailbox that exists in the
	// tenant (others are dropped, as mail to the outside world would leave).
	Deliver(from string, to []string, raw []byte) error
	// MarkRead sets a message's read flag.
	MarkRead(mailbox, id string, read bool)
}
