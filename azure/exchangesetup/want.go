// Package exchangesetup is the Exchange Online side of one setup: it reads
// what Exchange has (Inspect: before the review, each read becoming a
// current → wanted line), plans only what the product needs (PlanChanges:
// model.Change values with the exact cmdlet and parameters each will send,
// for the review and --dry-run), applies the plan after the review's yes
// (Apply: one state-file record per change, saved after each, so a killed
// run resumes and a second run changes nothing), and removes what
// mailoauth added (Delete: nothing it found already there).
//
// It talks to Exchange only through exchange.Invoker: the module's
// undocumented admin endpoint today (see package azure/exchange and
// docs/exchange.md).
package exchangesetup

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Want is what the setup needs from Exchange.
type Want struct {
	// TenantID is the tenant GUID.
	TenantID string
	// AppID is the app's application (client) ID.
	AppID string
	// ServicePrincipalID is the enterprise application's (service
	// principal's) object ID exactly as Graph reported it: the ObjectId
	// New-ServicePrincipal needs. Never typed by a person.
	ServicePrincipalID string
	// AppObjectID is the app registration's object ID (Graph
	// application.id), when known: a registration made with it is the
	// classic silent failure, and the review then says so by name.
	AppObjectID string
	DisplayName string
	Flow        catalog.Flow
	Protocols   []catalog.Protocol
	Mailboxes   []Mailbox
	// LimitToMailboxes limits an app-only app's Graph mail and EWS access
	// to Mailboxes with RBAC for Applications (the Entra permission must
	// then go: Plan.Requirements).
	LimitToMailboxes bool

	// The admin's answers to Plan.Questions (false until asked):
	// ReplaceWrongRegistration lets mailoauth remove a registration it
	// did not make (pointing at the wrong object ID) and make the right one.
	ReplaceWrongRegistration bool
	// EnableEWSAllowList sets the organisation's EwsEnabled to True, which
	// makes the allow-list exclusive.
	EnableEWSAllowList bool
}

// Mailbox is one mailbox the product uses.
type Mailbox struct {
	Address string
	// SendAs are other addresses the product sends as from this mailbox
	// (SMTP MAIL FROM, or delegated Graph send): each needs SendAs on that
	// address for the app's registration (app-only) or this mailbox's
	// user (delegated).
	SendAs []string
}

func (w Want) has(p catalog.Protocol) bool { return slices.Contains(w.Protocols, p) }

func (w Want) appOnly() bool { return w.Flow.AppOnly() }

// needsFullAccess: app-only IMAP, POP and SMTP need FullAccess on each
// mailbox (microsoft.md §15.2; SendAs alone is not documented as enough).
func (w Want) needsFullAccess() bool {
	return w.appOnly() && (w.has(catalog.IMAP) || w.has(catalog.POP) || w.has(catalog.SMTP))
}

// needsSendAs: some mailbox sends as another address over SMTP, or over
// delegated Graph (app-only Mail.Send may send as anyone already).
func (w Want) needsSendAs() bool {
	if !w.has(catalog.SMTP) && !(w.has(catalog.GraphSend) && !w.appOnly()) {
		return false
	}
	for _, m := range w.Mailboxes {
		if len(m.SendAs) > 0 {
			return true
		}
	}
	return false
}

// scopedRole is an RBAC for Applications role that limits one protocol's
// app-only access, and the tenant-wide Entra permission that must go for
// the limit to hold. Only 'Application Mail.Read' is named in Microsoft's
// cmdlet pages; the others are from the RBAC for Applications table as
// third-party copies give it (microsoft.md §11: UNVERIFIED). IMAP, POP and
// SMTP need no role: FullAccess per mailbox already limits them.
type scopedRole struct {
	Protocol   catalog.Protocol
	Role       string
	Permission catalog.Permission
	Verified   bool
}

var scopedRoles = []scopedRole{
	{catalog.GraphRead, "Application Mail.Read", catalog.GraphMailReadApp, true},
	{catalog.GraphSend, "Application Mail.Send", catalog.GraphMailSendApp, false},
	{catalog.EWS, "Application EWS.AccessAsApp", catalog.ExoFullAccessApp, false},
}

func (w Want) scoped() []scopedRole {
	if !w.appOnly() || !w.LimitToMailboxes {
		return nil
	}
	var out []scopedRole
	for _, r := range scopedRoles {
		if w.has(r.Protocol) {
			out = append(out, r)
		}
	}
	return out
}

// needsRegistration: New-ServicePrincipal is needed for mailbox
// permissions and for role assignments; app-only EWS with
// full_access_as_app needs none (microsoft.md §15.2).
func (w Want) needsRegistration() bool {
	return w.needsFullAccess() || len(w.scoped()) > 0 || (w.appOnly() && w.needsSendAs())
}

func (w Want) exchangeProtocols() bool {
	return w.has(catalog.IMAP) || w.has(catalog.POP) || w.has(catalog.SMTP) || w.has(catalog.EWS)
}

// NeedsExchange reports whether the setup needs any Exchange read or
// write, so the engine asks for the second sign-in only then.
func (w Want) NeedsExchange() bool {
	return w.exchangeProtocols() || w.needsSendAs() || w.needsRegistration()
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate refuses bad input before any request, naming the field and the
// accepted form.
func (w Want) Validate() error {
	var errs []string
	bad := func(field, value, accepted string) {
		errs = append(errs, fmt.Sprintf("%s: %q is not accepted; accepted: %s", field, value, accepted))
	}
	if !guidRE.MatchString(w.TenantID) {
		bad("tenant id", w.TenantID, "the tenant ID, a GUID")
	}
	if !guidRE.MatchString(w.AppID) {
		bad("app id", w.AppID, "the application (client) ID, a GUID")
	}
	if w.needsRegistration() && !guidRE.MatchString(w.ServicePrincipalID) {
		bad("service principal id", w.ServicePrincipalID, "the enterprise application's object ID as Graph reports it, a GUID")
	}
	if w.AppObjectID != "" && !guidRE.MatchString(w.AppObjectID) {
		bad("app object id", w.AppObjectID, "the app registration's object ID, a GUID, or empty")
	}
	if w.AppObjectID != "" && strings.EqualFold(w.AppObjectID, w.ServicePrincipalID) {
		bad("service principal id", w.ServicePrincipalID, "the enterprise application's object ID, which differs from the app registration's")
	}
	if !slices.Contains(catalog.Flows, w.Flow) {
		bad("flow", string(w.Flow), "auth-code, ropc, client-credentials, device-code")
	}
	for _, p := range w.Protocols {
		if !slices.Contains(catalog.Protocols, p) {
			bad("protocols", string(p), "imap, pop, smtp, ews, graph-read, graph-send")
		}
	}
	for _, m := range w.Mailboxes {
		for _, a := range append([]string{m.Address}, m.SendAs...) {
			if !validAddress(a) {
				bad("mailbox", a, "name@domain, e.g. helpdesk@contoso.com")
			}
		}
	}
	if w.NeedsExchange() && len(w.Mailboxes) == 0 && (w.needsFullAccess() || w.exchangeProtocols()) {
		bad("mailbox", "", "one or more addresses, e.g. helpdesk@contoso.com")
	}
	if len(errs) > 0 {
		return fmt.Errorf("exchange setup: %s", strings.Join(errs, "; "))
	}
	return nil
}

func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " \"\t\r\n")
}
