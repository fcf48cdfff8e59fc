package exchangesetup

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/exchange"
)

// Registration is the state of the app's Exchange service principal
// registration.
type Registration string

const (
	// RegistrationNone: Exchange has no registration for the AppId.
	RegistrationNone Registration = "none"
	// RegistrationRight: a registration points at the enterprise
	// application's object ID.
	RegistrationRight Registration = "right"
	// RegistrationWrong: registrations exist for the AppId, none with the
	// enterprise application's object ID (the classic one uses the app
	// registration's object ID): Exchange never matches the app's tokens.
	RegistrationWrong Registration = "wrong-object-id"
	// RegistrationUnread: not read (the setup needs none).
	RegistrationUnread Registration = ""
)

// Snapshot is Exchange's state as Inspect read it: the review's "current"
// side, and the facts the login test's diagnosis uses.
type Snapshot struct {
	ReadAt time.Time `json:"read_at"`
	AppID  string    `json:"app_id"`
	// Flow is the setup's flow (diagnosis differs for app-only).
	Flow catalog.Flow `json:"flow"`

	Registration Registration `json:"registration,omitempty"`
	// Registrations are Exchange's registrations with the app's AppId.
	Registrations []exchange.ServicePrincipal `json:"registrations,omitempty"`
	// Ref names the right registration in cmdlets (its Identity).
	Ref string `json:"ref,omitempty"`
	// ExpectedObjectID is the enterprise application's object ID.
	ExpectedObjectID string `json:"expected_object_id,omitempty"`

	// OrgSMTPAuthDisabled is Get-TransportConfig's
	// SmtpClientAuthenticationDisabled (read when SMTP is in play).
	OrgSMTPAuthDisabled exchange.Bool `json:"org_smtp_auth_disabled"`
	OrgSMTPAuthRead     bool          `json:"org_smtp_auth_read"`

	// EWS is the organisation's EWS policy (read when EWS is in play).
	EWS *EWSPolicy `json:"ews,omitempty"`

	Mailboxes []MailboxState `json:"mailboxes"`
	// SendAs are the SendAs rights the product needs, as found.
	SendAs []SendAsState `json:"send_as,omitempty"`

	// Scope and Assignments are the RBAC for Applications objects, when
	// the setup limits the app to its mailboxes.
	ScopeName   string                    `json:"scope_name,omitempty"`
	Scope       *exchange.ManagementScope `json:"scope,omitempty"`
	Assignments []exchange.RoleAssignment `json:"assignments,omitempty"`

	// Reads is the number of cmdlets Inspect ran.
	Reads int `json:"reads"`
}

// EWSPolicy is Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy.
type EWSPolicy struct {
	Read          bool          `json:"read"`
	Enabled       exchange.Bool `json:"enabled"`
	AllowedAppIDs []string      `json:"allowed_app_ids"`
	// Error is why the policy could not be read (then nothing is written).
	Error string `json:"error,omitempty"`
}

// Listed reports whether appID is on the allow-list.
func (p *EWSPolicy) Listed(appID string) bool {
	return p != nil && exchange.Strings(p.AllowedAppIDs).Has(appID)
}

// MailboxState is one mailbox as Exchange has it.
type MailboxState struct {
	// Address is the address the setup named.
	Address string `json:"address"`
	// Found: Get-Mailbox resolved the address (primary or secondary) to a
	// user or shared mailbox.
	Found   bool              `json:"found"`
	Mailbox *exchange.Mailbox `json:"mailbox,omitempty"`
	// CAS is Get-CASMailbox's protocol switches (nil: not read).
	CAS *exchange.CASMailbox `json:"cas,omitempty"`
	// FullAccess is whether the app's registration holds FullAccess
	// (meaningful when FullAccessRead).
	FullAccess     bool `json:"full_access"`
	FullAccessRead bool `json:"full_access_read"`
}

// Primary is the mailbox's primary SMTP address (the named address when
// unresolved).
func (m MailboxState) Primary() string {
	if m.Mailbox != nil && m.Mailbox.PrimarySmtpAddress != "" {
		return m.Mailbox.PrimarySmtpAddress
	}
	return m.Address
}

// Type is "UserMailbox", "SharedMailbox", … ("" when not found).
func (m MailboxState) Type() string {
	if m.Mailbox == nil {
		return ""
	}
	return m.Mailbox.RecipientTypeDetails
}

// SMTPAuth is the effective SMTP AUTH state of a mailbox: its own
// SmtpClientAuthenticationDisabled, or, when that is $null, the
// organisation's. known is false when a needed value was not read.
func (s *Snapshot) SMTPAuth(m MailboxState) (enabled, known bool) {
	if m.CAS == nil {
		return false, false
	}
	if v := m.CAS.SmtpClientAuthenticationDisabled; v.Set() {
		return !*v.V, true
	}
	if !s.OrgSMTPAuthRead || !s.OrgSMTPAuthDisabled.Set() {
		return false, false
	}
	return !*s.OrgSMTPAuthDisabled.V, true
}

// SendAsState is one SendAs right the product needs.
type SendAsState struct {
	// From is the mailbox that sends; Target the address it sends as.
	From   string            `json:"from"`
	Target string            `json:"target"`
	Found  bool              `json:"found"`
	Owner  *exchange.Mailbox `json:"owner,omitempty"`
	// Trustee is who needs the right (the registration's Ref, or the
	// sending mailbox's UPN for delegated flows); "" when not known yet.
	Trustee string `json:"trustee,omitempty"`
	Granted bool   `json:"granted"`
	Read    bool   `json:"read"`
}

// Mailbox is the state of the named address (case-insensitive; a
// secondary address matches its mailbox), or nil.
func (s *Snapshot) Mailbox(address string) *MailboxState {
	if s == nil {
		return nil
	}
	for i := range s.Mailboxes {
		m := &s.Mailboxes[i]
		if strings.EqualFold(m.Address, address) || strings.EqualFold(m.Primary(), address) {
			return m
		}
		if m.Mailbox != nil {
			for _, a := range m.Mailbox.EmailAddresses {
				if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") && strings.EqualFold(a[5:], address) {
					return m
				}
			}
		}
	}
	return nil
}

func scopeName(appID string) string { return "mailoauth-" + strings.ToLower(appID) }

// Inspect reads what the setup needs to know, changing nothing. A refusal
// that means "no usable Exchange admin session" (missing role, wrong
// token) is an *UnavailableError listing what is left to do.
func Inspect(ctx context.Context, inv exchange.Invoker, w Want) (*Snapshot, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	c := &countingInvoker{inv: inv}
	snap, err := inspect(ctx, exchange.Admin{Invoker: c}, w)
	if snap != nil {
		snap.Reads = c.n
	}
	if err != nil {
		return nil, fallbackIfRefused(err, w)
	}
	return snap, nil
}

type countingInvoker struct {
	inv exchange.Invoker
	n   int
}

func (c *countingInvoker) Invoke(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error) {
	c.n++
	return c.inv.Invoke(ctx, cmdlet, params)
}

func inspect(ctx context.Context, a exchange.Admin, w Want) (*Snapshot, error) {
	s := &Snapshot{ReadAt: time.Now().UTC(), AppID: w.AppID, Flow: w.Flow, ExpectedObjectID: strings.ToLower(w.ServicePrincipalID)}
	if w.needsRegistration() {
		sps, err := a.ServicePrincipals(ctx, w.AppID)
		if err != nil {
			return nil, err
		}
		s.setRegistrations(sps)
	}
	if w.has(catalog.SMTP) {
		tc, err := a.TransportConfig(ctx)
		if err != nil {
			return nil, err
		}
		s.OrgSMTPAuthDisabled, s.OrgSMTPAuthRead = tc.SmtpClientAuthenticationDisabled, true
	}
	if w.has(catalog.EWS) {
		s.EWS = &EWSPolicy{}
		oc, err := a.OrganizationConfig(ctx)
		switch {
		case err == nil:
			s.EWS.Read, s.EWS.Enabled, s.EWS.AllowedAppIDs = true, oc.EwsEnabled, oc.EwsAllowedAppIDs
		case refused(err):
			return nil, err
		default:
			// An older service refuses -RetrieveEwsOperationAccessPolicy
			// (§5): then the list is unknown, and is never written.
			s.EWS.Error = err.Error()
		}
	}
	for _, m := range w.Mailboxes {
		ms := MailboxState{Address: m.Address}
		mb, err := a.Mailbox(ctx, m.Address)
		switch {
		case exchange.Is(err, exchange.NotFound):
		case err != nil:
			return nil, err
		default:
			ms.Found, ms.Mailbox = true, mb
		}
		if ms.Found && w.exchangeProtocols() {
			cas, err := a.CASMailbox(ctx, ms.Primary())
			if err != nil {
				return nil, err
			}
			ms.CAS = cas
		}
		if ms.Found && w.needsFullAccess() && s.Registration == RegistrationRight {
			perms, err := a.MailboxPermissions(ctx, ms.Primary())
			if err != nil {
				return nil, err
			}
			ms.FullAccessRead = true
			ms.FullAccess = holdsFullAccess(perms, s.right())
		}
		s.Mailboxes = append(s.Mailboxes, ms)
	}
	if w.needsSendAs() {
		if err := s.readSendAs(ctx, a, w); err != nil {
			return nil, err
		}
	}
	if len(w.scoped()) > 0 {
		s.ScopeName = scopeName(w.AppID)
		sc, err := a.ManagementScope(ctx, s.ScopeName)
		switch {
		case exchange.Is(err, exchange.NotFound):
		case err != nil:
			return nil, err
		default:
			s.Scope = sc
		}
		if s.Registration == RegistrationRight {
			as, err := a.RoleAssignments(ctx, s.Ref)
			if err != nil && !exchange.Is(err, exchange.NotFound) {
				return nil, err
			}
			s.Assignments = as
		}
	}
	return s, nil
}

func (s *Snapshot) setRegistrations(sps []exchange.ServicePrincipal) {
	s.Registrations = sps
	s.Registration, s.Ref = RegistrationNone, ""
	if len(sps) == 0 {
		return
	}
	s.Registration = RegistrationWrong
	for _, sp := range sps {
		if strings.EqualFold(sp.ObjectID, s.ExpectedObjectID) || (sp.ObjectID == "" && strings.EqualFold(sp.ServiceID, s.ExpectedObjectID)) {
			s.Registration, s.Ref = RegistrationRight, sp.Ref()
			return
		}
	}
}

// right is the registration pointing at the enterprise application.
func (s *Snapshot) right() exchange.ServicePrincipal {
	for _, sp := range s.Registrations {
		if sp.Ref() == s.Ref {
			return sp
		}
	}
	return exchange.ServicePrincipal{Identity: s.Ref, ObjectID: s.ExpectedObjectID, AppID: s.AppID}
}

// wrong are the registrations with the AppId but another object ID.
func (s *Snapshot) wrong() []exchange.ServicePrincipal {
	var out []exchange.ServicePrincipal
	for _, sp := range s.Registrations {
		if !strings.EqualFold(sp.ObjectID, s.ExpectedObjectID) {
			out = append(out, sp)
		}
	}
	return out
}

func holdsFullAccess(perms []exchange.MailboxPermission, sp exchange.ServicePrincipal) bool {
	for _, p := range perms {
		if sp.Matches(p.User) && p.AccessRights.Has("FullAccess") && !p.Deny.Is(true) {
			return true
		}
	}
	return false
}

func (s *Snapshot) readSendAs(ctx context.Context, a exchange.Admin, w Want) error {
	for _, m := range w.Mailboxes {
		from := s.Mailbox(m.Address)
		for _, t := range m.SendAs {
			st := SendAsState{From: m.Address, Target: t}
			owner, err := a.Mailbox(ctx, t)
			switch {
			case exchange.Is(err, exchange.NotFound):
			case err != nil:
				return err
			default:
				st.Found, st.Owner = true, owner
			}
			switch {
			case w.appOnly() && s.Registration == RegistrationRight:
				st.Trustee = s.Ref
			case !w.appOnly() && from != nil && from.Found && from.Mailbox.UserPrincipalName != "":
				st.Trustee = from.Mailbox.UserPrincipalName
			}
			if st.Found && st.Trustee != "" {
				perms, err := a.RecipientPermissions(ctx, owner.PrimarySmtpAddress)
				if err != nil {
					return err
				}
				st.Read = true
				st.Granted = s.holdsSendAs(perms, st.Trustee, from, w.appOnly())
			}
			s.SendAs = append(s.SendAs, st)
		}
	}
	return nil
}

func (s *Snapshot) holdsSendAs(perms []exchange.RecipientPermission, trustee string, from *MailboxState, appOnly bool) bool {
	for _, p := range perms {
		if !p.AccessRights.Has("SendAs") || strings.EqualFold(p.AccessControlType, "Deny") {
			continue
		}
		if appOnly && s.right().Matches(p.Trustee) {
			return true
		}
		if !appOnly && (strings.EqualFold(p.Trustee, trustee) || (from != nil && from.Mailbox != nil && strings.EqualFold(p.Trustee, from.Mailbox.PrimarySmtpAddress))) {
			return true
		}
	}
	return false
}

// Blocker is something Exchange's state says stops a login, in words the
// login test can show instead of guessing from a reply.
type Blocker struct {
	// Code is a stable key ("exchange-imap-disabled").
	Code string `json:"code"`
	// Text says what Exchange has: "IMAP is off for this mailbox (ImapEnabled False)".
	Text string `json:"text"`
	// Fix is the cmdlet that changes it.
	Fix string `json:"fix,omitempty"`
}

// Blockers are what the snapshot says stops protocol p for mailbox; none
// when nothing it read does (then the cause is elsewhere, or unknown).
func (s *Snapshot) Blockers(p catalog.Protocol, mailbox string) []Blocker {
	if s == nil {
		return nil
	}
	var out []Blocker
	add := func(code, text, fix string) { out = append(out, Blocker{code, text, fix}) }
	m := s.Mailbox(mailbox)
	if m == nil {
		return nil
	}
	if !m.Found {
		add("exchange-no-mailbox", fmt.Sprintf("Exchange Online has no mailbox with the address %s (Get-Mailbox found none, primary or secondary)", mailbox), "")
		return out
	}
	appOnly := s.Flow.AppOnly()
	if appOnly && (p == catalog.IMAP || p == catalog.POP || p == catalog.SMTP) {
		switch s.Registration {
		case RegistrationNone:
			add("exchange-no-service-principal", "Exchange Online has no service principal registration for the app (Get-ServicePrincipal found none)",
				fmt.Sprintf("New-ServicePrincipal -AppId %s -ObjectId %s", s.AppID, s.ExpectedObjectID))
		case RegistrationWrong:
			for _, sp := range s.wrong() {
				add("exchange-wrong-service-principal", fmt.Sprintf("Exchange's registration for the app points at object ID %s, not the enterprise application's %s, so Exchange never matches the app's tokens", sp.ObjectID, s.ExpectedObjectID),
					fmt.Sprintf("Remove-ServicePrincipal -Identity %s; New-ServicePrincipal -AppId %s -ObjectId %s", sp.Ref(), s.AppID, s.ExpectedObjectID))
			}
		case RegistrationRight:
			if m.FullAccessRead && !m.FullAccess {
				add("exchange-no-full-access", "the app has no FullAccess on this mailbox (Get-MailboxPermission)",
					fmt.Sprintf("Add-MailboxPermission -Identity %s -User %s -AccessRights FullAccess", m.Primary(), s.Ref))
			}
		}
	}
	if m.CAS == nil {
		return out
	}
	switch p {
	case catalog.IMAP:
		if m.CAS.ImapEnabled.Is(false) {
			add("exchange-imap-disabled", "IMAP is off for this mailbox (ImapEnabled False)", fmt.Sprintf("Set-CASMailbox -Identity %s -ImapEnabled $true", m.Primary()))
		}
	case catalog.POP:
		if m.CAS.PopEnabled.Is(false) {
			add("exchange-pop-disabled", "POP is off for this mailbox (PopEnabled False)", fmt.Sprintf("Set-CASMailbox -Identity %s -PopEnabled $true", m.Primary()))
		}
	case catalog.SMTP:
		switch v := m.CAS.SmtpClientAuthenticationDisabled; {
		case v.Is(true):
			add("exchange-smtp-auth-disabled-mailbox", "SMTP AUTH is off for this mailbox (SmtpClientAuthenticationDisabled True)",
				fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", m.Primary()))
		case !v.Set() && s.OrgSMTPAuthDisabled.Is(true):
			add("exchange-smtp-auth-disabled-org", "SMTP AUTH is off for the organisation and this mailbox inherits it (mailbox SmtpClientAuthenticationDisabled $null; Get-TransportConfig SmtpClientAuthenticationDisabled True)",
				fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", m.Primary()))
		}
	case catalog.EWS:
		if m.CAS.EwsEnabled.Is(false) {
			add("exchange-ews-disabled-mailbox", "EWS is off for this mailbox (EwsEnabled False)", fmt.Sprintf("Set-CASMailbox -Identity %s -EwsEnabled $true", m.Primary()))
		}
		if s.EWS != nil && s.EWS.Read {
			switch {
			case s.EWS.Enabled.Is(false):
				add("exchange-ews-disabled-org", "EWS is off for the whole organisation (Get-OrganizationConfig EwsEnabled False)", "")
			case s.EWS.Enabled.Is(true) && !s.EWS.Listed(s.AppID):
				add("exchange-ews-not-allowed", fmt.Sprintf("the app %s is not on the organisation's EWS allow-list (EwsEnabled True; EwsAllowedAppIDs: %s)", s.AppID, orNone(s.EWS.AllowedAppIDs)), "")
			}
		}
	}
	return out
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
