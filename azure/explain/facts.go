package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Registration is what Exchange Online's Get-ServicePrincipal showed for the
// app. The values are azure/exchangesetup's (Snapshot.Registration), so the
// caller converts with Registration(snapshot.Registration).
type Registration string

const (
	// RegistrationUnknown: not read.
	RegistrationUnknown Registration = ""
	// RegistrationNone: Exchange has no registration for the AppId.
	RegistrationNone Registration = "none"
	// RegistrationRight: a registration points at the enterprise
	// application's (service principal's) object id.
	RegistrationRight Registration = "right"
	// RegistrationWrong: registrations exist for the AppId, none with the
	// enterprise application's object id (the classic one holds the app
	// registration's object id): Exchange never matches the app's tokens.
	RegistrationWrong Registration = "wrong-object-id"
)

// ExchangeFacts is Exchange Online's side of a setup as read from Exchange
// itself, in plain data so that explain needs no Exchange client. Every
// pointer is nil when the value was not read; a nil *ExchangeFacts in
// MailContext means nothing was read, and the explanations then rank
// guesses from the reply text as before.
//
// Filling it from azure/exchangesetup's Snapshot (snap), after Apply use
// Result.Snapshot so the facts describe Exchange as the login test meets it:
//
//	ReadAt              = snap.ReadAt
//	Registration        = explain.Registration(snap.Registration)
//	RegisteredObjectIDs = ObjectID of each snap.Registrations
//	RegistrationRef     = snap.Ref
//	ExpectedObjectID    = snap.ExpectedObjectID
//	OrgSMTPAuthDisabled = snap.OrgSMTPAuthDisabled.V, when snap.OrgSMTPAuthRead
//	EWS                 = {Enabled: snap.EWS.Enabled.V, AllowedAppIDs: snap.EWS.AllowedAppIDs}, when snap.EWS.Read
//	Mailboxes[i]        = per snap.Mailboxes[i] (m):
//	    Address = m.Address; Read = true; Found = m.Found
//	    PrimarySMTPAddress = m.Primary(); Type = m.Type()
//	    CASRead = m.CAS != nil; ImapEnabled = m.CAS.ImapEnabled.V; PopEnabled = m.CAS.PopEnabled.V
//	    EwsEnabled = m.CAS.EwsEnabled.V; SMTPClientAuthDisabled = m.CAS.SmtpClientAuthenticationDisabled.V
//	    FullAccess = &m.FullAccess, when m.FullAccessRead
//	    SendAs = &s.Granted (and SendAsTrustee = s.Trustee) for the snap.SendAs entry s with s.From == m.Address, when s.Read
type ExchangeFacts struct {
	// ReadAt is when Exchange was read; the explanations name it.
	ReadAt time.Time `json:"read_at"`
	// Registration is the app's Exchange service principal registration.
	Registration Registration `json:"registration,omitempty"`
	// RegisteredObjectIDs are the ObjectIds of Exchange's registrations
	// for the AppId (the wrong one, for RegistrationWrong).
	RegisteredObjectIDs []string `json:"registered_object_ids,omitempty"`
	// RegistrationRef names the right registration in -User and -Trustee
	// (its Identity).
	RegistrationRef string `json:"registration_ref,omitempty"`
	// ExpectedObjectID is the enterprise application's object id (Graph);
	// MailContext.ServicePrincipalID is used when empty.
	ExpectedObjectID string `json:"expected_object_id,omitempty"`
	// OrgSMTPAuthDisabled is Get-TransportConfig's
	// SmtpClientAuthenticationDisabled.
	OrgSMTPAuthDisabled *bool `json:"org_smtp_auth_disabled,omitempty"`
	// EWS is Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy.
	EWS *EWSFacts `json:"ews,omitempty"`
	// Mailboxes are the setup's mailboxes.
	Mailboxes []MailboxFacts `json:"mailboxes,omitempty"`
}

// EWSFacts is the organisation's EWS policy.
type EWSFacts struct {
	// Enabled is EwsEnabled: nil is $null (no effect), true makes the
	// allow-list exclusive, false blocks EWS for everyone.
	Enabled       *bool    `json:"enabled"`
	AllowedAppIDs []string `json:"allowed_app_ids"`
}

// Listed reports whether appID is on the allow-list.
func (e *EWSFacts) Listed(appID string) bool {
	return e != nil && hasFold(e.AllowedAppIDs, appID)
}

// MailboxFacts is one mailbox as Exchange has it.
type MailboxFacts struct {
	// Address is the address the setup named (a secondary address
	// resolves to its mailbox: PrimarySMTPAddress).
	Address string `json:"address"`
	// Read: Get-Mailbox was run for it; Found: it resolved to a mailbox.
	Read               bool   `json:"read"`
	Found              bool   `json:"found"`
	PrimarySMTPAddress string `json:"primary_smtp_address,omitempty"`
	// Type is RecipientTypeDetails ("UserMailbox", "SharedMailbox").
	Type string `json:"type,omitempty"`
	// CASRead: Get-CASMailbox was run; the switches are nil when $null.
	CASRead     bool  `json:"cas_read"`
	ImapEnabled *bool `json:"imap_enabled,omitempty"`
	PopEnabled  *bool `json:"pop_enabled,omitempty"`
	EwsEnabled  *bool `json:"ews_enabled,omitempty"`
	// SMTPClientAuthDisabled is the mailbox's own
	// SmtpClientAuthenticationDisabled; nil ($null) inherits the
	// organisation's OrgSMTPAuthDisabled.
	SMTPClientAuthDisabled *bool `json:"smtp_client_auth_disabled,omitempty"`
	// FullAccess: the app's registration holds FullAccess (app-only).
	FullAccess *bool `json:"full_access,omitempty"`
	// SendAs: the SendAs right the product needs to send as another
	// address is held by SendAsTrustee.
	SendAs        *bool  `json:"send_as,omitempty"`
	SendAsTrustee string `json:"send_as_trustee,omitempty"`
}

// Mailbox finds the facts of the mailbox named by address (the address the
// setup named or its primary address).
func (f *ExchangeFacts) Mailbox(address string) (MailboxFacts, bool) {
	if f == nil {
		return MailboxFacts{}, false
	}
	for _, m := range f.Mailboxes {
		if strings.EqualFold(m.Address, address) || (m.PrimarySMTPAddress != "" && strings.EqualFold(m.PrimarySMTPAddress, address)) {
			return m, true
		}
	}
	return MailboxFacts{}, false
}

// issue is one Exchange-side condition that can produce a refusal.
type issue int

const (
	issueMailbox issue = iota
	issueProtocol
	issueSMTPAuth
	issueRegistration
	issueFullAccess
	issueSendAs
	issueEWSPolicy
)

// finding is one fact that explains a refusal.
type finding struct {
	code, title string
	cause       string   // "IMAP is off for this mailbox (ImapEnabled False)"
	fact        string   // where it was read
	fix         string   // what to do
	lines       []string // PowerShell, without Connect-ExchangeOnline
}

// facts looks up, for the issues that can produce a reply, what Exchange's
// state says: the findings (causes stated as facts), what was checked and
// found right (for the text), the guess codes that state contradicts, and
// whether every issue could be decided.
type factCheck struct {
	found        []finding
	right        []string
	contradicted map[string]bool
	complete     bool
}

func yes(b *bool) bool { return b != nil && *b }
func no(b *bool) bool  { return b != nil && !*b }
func tf(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (c MailContext) checkFacts(p catalog.Protocol, issues ...issue) (factCheck, bool) {
	f := c.Exchange
	if f == nil {
		return factCheck{}, false
	}
	fc := factCheck{contradicted: map[string]bool{}, complete: true}
	mb, haveMB := f.Mailbox(c.Mailbox)
	name := orPlaceholder(c.Mailbox, "the mailbox")
	unknown := func() { fc.complete = false }
	for _, is := range issues {
		switch is {
		case issueMailbox:
			switch {
			case !haveMB || !mb.Read:
				unknown()
			case !mb.Found:
				fc.found = append(fc.found, finding{code: "no-mailbox", title: "No mailbox",
					cause: fmt.Sprintf("Exchange Online has no mailbox for %s (Get-Mailbox found none)", name),
					fact:  "Get-Mailbox " + name + ": not found",
					fix:   "check the address; assign a licence that includes Exchange Online and wait for the mailbox to be created"})
			default:
				typ := mb.Type
				if typ == "" {
					typ = "mailbox"
				}
				fc.right = append(fc.right, fmt.Sprintf("the mailbox exists (%s)", typ))
				fc.contradicted["no-mailbox"] = true
			}
		case issueProtocol:
			var v *bool
			sw := ""
			switch p {
			case catalog.IMAP:
				v, sw = mb.ImapEnabled, "ImapEnabled"
			case catalog.POP:
				v, sw = mb.PopEnabled, "PopEnabled"
			case catalog.EWS:
				v, sw = mb.EwsEnabled, "EwsEnabled"
			default:
				continue
			}
			code := strings.ToLower(p.Label()) + "-disabled"
			switch {
			case !haveMB || !mb.CASRead:
				unknown()
			case no(v):
				fc.found = append(fc.found, finding{code: code, title: p.Label() + " off for the mailbox",
					cause: fmt.Sprintf("%s is off for this mailbox (%s False)", p.Label(), sw),
					fact:  fmt.Sprintf("Get-CASMailbox %s: %s False", name, sw),
					fix:   fmt.Sprintf("turn %s on for %s", p.Label(), name),
					lines: []string{fmt.Sprintf("Set-CASMailbox -Identity %s -%s $true", c.mailbox(), sw)}})
			default:
				state := "True"
				if v == nil {
					state = "not set, so on"
				}
				fc.right = append(fc.right, fmt.Sprintf("%s %s", sw, state))
				fc.contradicted[code] = true
			}
		case issueSMTPAuth:
			switch {
			case !haveMB || !mb.CASRead:
				unknown()
			case yes(mb.SMTPClientAuthDisabled):
				fc.found = append(fc.found, finding{code: CodeSMTPAuthMailboxOff, title: "SMTP AUTH off for the mailbox",
					cause: "SMTP AUTH is off for this mailbox (SmtpClientAuthenticationDisabled True)",
					fact:  "Get-CASMailbox " + name + ": SmtpClientAuthenticationDisabled True",
					fix:   "turn SMTP AUTH on for " + name,
					lines: []string{fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", c.mailbox())}})
			case mb.SMTPClientAuthDisabled == nil && f.OrgSMTPAuthDisabled == nil:
				unknown()
			case mb.SMTPClientAuthDisabled == nil && *f.OrgSMTPAuthDisabled:
				fc.found = append(fc.found, finding{code: CodeSMTPAuthTenantOff, title: "SMTP AUTH off for the organisation",
					cause: "SMTP AUTH is off for the organisation (Get-TransportConfig SmtpClientAuthenticationDisabled True) and this mailbox inherits it (SmtpClientAuthenticationDisabled not set)",
					fact:  "Get-TransportConfig: SmtpClientAuthenticationDisabled True; Get-CASMailbox " + name + ": SmtpClientAuthenticationDisabled $null",
					fix:   "turn SMTP AUTH on for " + name + " only (the organisation's setting stays as it is)",
					lines: []string{fmt.Sprintf("Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false", c.mailbox())}})
			default:
				fc.right = append(fc.right, "SMTP AUTH on for the mailbox")
				fc.contradicted[CodeSMTPAuthMailboxOff] = true
				fc.contradicted[CodeSMTPAuthTenantOff] = true
			}
		case issueRegistration:
			want := f.ExpectedObjectID
			if want == "" {
				want = c.ServicePrincipalID
			}
			switch f.Registration {
			case RegistrationNone:
				fc.found = append(fc.found, finding{code: "exchange-service-principal", title: "App not registered in Exchange",
					cause: fmt.Sprintf("Exchange Online has no service principal for app %s (Get-ServicePrincipal lists none)", orPlaceholder(c.AppID, "appId")),
					fact:  "Get-ServicePrincipal: no registration for app " + orPlaceholder(c.AppID, "appId"),
					fix:   "register the app's service principal with the enterprise application's object id",
					lines: []string{c.NewServicePrincipalCommand()}})
				fc.contradicted["exchange-service-principal-wrong-id"] = true
			case RegistrationWrong:
				wrong := strings.Join(f.RegisteredObjectIDs, ", ")
				lines := []string{}
				for _, id := range f.RegisteredObjectIDs {
					lines = append(lines, fmt.Sprintf("Remove-ServicePrincipal -Identity %s -Confirm:$false", psArg(id, "registration object id")))
				}
				if len(lines) == 0 {
					lines = append(lines, fmt.Sprintf("Remove-ServicePrincipal -Identity %s -Confirm:$false", psArg(c.AppObjectID, "app registration object id")))
				}
				lines = append(lines, c.NewServicePrincipalCommand())
				fc.found = append(fc.found, finding{code: "exchange-service-principal-wrong-id", title: "Registered in Exchange with the wrong object id",
					cause: fmt.Sprintf("Exchange's registration for app %s holds the object id %s, not the enterprise application's object id %s, so Exchange does not match the app's tokens",
						orPlaceholder(c.AppID, "appId"), orPlaceholder(wrong, "another object id"), orPlaceholder(want, "enterprise application object id")),
					fact:  "Get-ServicePrincipal: ObjectId " + orPlaceholder(wrong, "?"),
					fix:   "remove the wrong registration and register the app again with the enterprise application's object id",
					lines: lines})
				fc.contradicted["exchange-service-principal"] = true
			case RegistrationRight:
				fc.right = append(fc.right, "the app is registered in Exchange with the enterprise application's object id")
				fc.contradicted["exchange-service-principal"] = true
				fc.contradicted["exchange-service-principal-wrong-id"] = true
			default:
				unknown()
			}
		case issueFullAccess:
			switch {
			case f.Registration == RegistrationNone || f.Registration == RegistrationWrong:
				// A new registration holds no rights yet: grant after registering.
				if !haveMB || !yes(mb.FullAccess) {
					fc.found = append(fc.found, finding{code: "exchange-no-fullaccess", title: "No FullAccess on the mailbox",
						cause: "the app's registration has no FullAccess on " + name,
						fact:  "Get-MailboxPermission " + name + ": no FullAccess for the app",
						fix:   "give the registration FullAccess on " + name,
						lines: []string{c.FullAccessCommand()}})
				}
			case !haveMB || mb.FullAccess == nil:
				unknown()
			case !*mb.FullAccess:
				fc.found = append(fc.found, finding{code: "exchange-no-fullaccess", title: "No FullAccess on the mailbox",
					cause: "the app has no FullAccess on " + name + " (Get-MailboxPermission); Microsoft's procedure for client credentials grants FullAccess on each mailbox",
					fact:  "Get-MailboxPermission " + name + ": no FullAccess for the app",
					fix:   "give the app's registration FullAccess on " + name,
					lines: []string{c.FullAccessCommand()}})
			default:
				fc.right = append(fc.right, "the app holds FullAccess on the mailbox")
				fc.contradicted["exchange-no-fullaccess"] = true
			}
		case issueSendAs:
			switch {
			case !haveMB || mb.SendAs == nil:
				unknown()
			case !*mb.SendAs:
				trustee := mb.SendAsTrustee
				line := c.appSendAsCommand()
				if !c.AppOnly() {
					trustee = orPlaceholder(trustee, orPlaceholder(c.TokenUser, "signed-in user"))
					line = c.SendAsCommand(trustee)
				}
				fc.found = append(fc.found, finding{code: CodeSMTPNoSendAs, title: "No SendAs on the sender",
					cause: "SendAs on " + name + " is not held (Get-RecipientPermission)",
					fact:  "Get-RecipientPermission " + name + ": no SendAs for " + orPlaceholder(trustee, "the app"),
					fix:   "give SendAs on " + name,
					lines: []string{line}})
			default:
				fc.right = append(fc.right, "SendAs is held")
			}
		case issueEWSPolicy:
			id := orPlaceholder(c.AppID, "application (client) id")
			switch {
			case f.EWS == nil:
				unknown()
			case no(f.EWS.Enabled):
				fc.found = append(fc.found, finding{code: CodeEWSForbidden, title: "EWS off for the organisation",
					cause: "EWS is off for the whole organisation (EwsEnabled False)",
					fact:  "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy: EwsEnabled False",
					fix:   "turn EWS on with an allow-list that holds this app; with EwsEnabled $true only the listed apps may use EWS, so list every app the organisation uses it with",
					lines: []string{allowListCommand(f.EWS.AllowedAppIDs, c.AppID)}})
			case yes(f.EWS.Enabled) && !f.EWS.Listed(c.AppID):
				fc.found = append(fc.found, finding{code: CodeEWSForbidden, title: "App not on the EWS allow-list",
					cause: fmt.Sprintf("the app is not on the organisation's EWS allow-list (EwsEnabled True, EwsAllowedAppIDs %s)", orPlaceholder(strings.Join(f.EWS.AllowedAppIDs, ", "), "empty")),
					fact:  "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy: EwsEnabled True, EwsAllowedAppIDs " + strings.Join(f.EWS.AllowedAppIDs, ","),
					fix:   "add app " + id + " to EwsAllowedAppIDs, keeping every id already listed",
					lines: []string{allowListCommand(f.EWS.AllowedAppIDs, c.AppID)}})
			case yes(f.EWS.Enabled):
				fc.right = append(fc.right, "the app is on the organisation's EWS allow-list (EwsEnabled True)")
			default:
				// $null: the allow-list has no effect; since 2026-10-01 Exchange
				// Online switches EWS off tenant by tenant unless the
				// organisation allow-lists its apps (microsoft.md §15.1).
				fc.found = append(fc.found, finding{code: CodeEWSForbidden, title: "No EWS allow-list in the organisation",
					cause: "the organisation has no EWS allow-list (EwsEnabled not set); since 2026-10-01 Exchange Online switches EWS off tenant by tenant unless EwsEnabled is $true with the app in EwsAllowedAppIDs",
					fact:  "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy: EwsEnabled $null",
					fix:   "allow-list this app; EwsEnabled $true makes the list exclusive, so list every app the organisation uses EWS with",
					lines: []string{allowListCommand(f.EWS.AllowedAppIDs, c.AppID)}})
			}
		}
	}
	return fc, true
}

// allowListCommand is Set-OrganizationConfig with the list as read plus
// appID: -EwsAllowedAppIDs replaces the whole list, so every id already
// there is kept.
func allowListCommand(current []string, appID string) string {
	ids := []string{}
	for _, id := range current {
		if id = strings.TrimSpace(id); id != "" && !hasFold(ids, id) {
			ids = append(ids, id)
		}
	}
	if appID == "" {
		ids = append(ids, "<application (client) id>")
	} else if !hasFold(ids, appID) {
		ids = append(ids, appID)
	}
	return "Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs " + psArg(strings.Join(ids, ","), "application ids")
}

// allowListAddScript adds appID to the allow-list in PowerShell when the
// list was not read: it reads the current list and writes it back with the
// app's id added, so no id already listed is dropped.
func allowListAddScript(appID string) []string {
	id := psArg(appID, "application (client) id")
	return []string{
		"$ids = @(@((Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy).EwsAllowedAppIDs) -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })",
		"if ($ids -notcontains " + id + ") { $ids += " + id + " }",
		"Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs ($ids -join ',')",
	}
}

// withFacts turns a factCheck into the explanation of a reply whose code is
// code: the findings as the cause (every one, so one paste fixes them all);
// with none, and every issue decided, "Exchange's settings are right" and
// waiting, since a change made moments ago may not have reached every
// Exchange server; otherwise the guess, without the alternatives the facts
// rule out.
func (c MailContext) withFacts(code string, fc factCheck, guess Explanation) Explanation {
	read := ""
	if f := c.Exchange; f != nil && !f.ReadAt.IsZero() {
		read = " (read " + f.ReadAt.UTC().Format("2006-01-02 15:04 UTC") + ")"
	}
	if len(fc.found) > 0 {
		x := Explanation{Code: code, Title: fc.found[0].title}
		var causes, fixes, lines []string
		for _, fd := range fc.found {
			causes = append(causes, fd.cause)
			fixes = append(fixes, fd.fix)
			lines = append(lines, fd.lines...)
			x.Facts = append(x.Facts, fd.fact)
		}
		if len(fc.found) > 1 {
			x.Title = fmt.Sprintf("%s (and %d more)", x.Title, len(fc.found)-1)
		}
		x.Cause = capitalize(strings.Join(causes, "; and ")) + ", as Exchange Online's own settings show" + read + "."
		x.Fix = capitalize(strings.Join(fixes, "; ")) + "."
		if len(lines) > 0 {
			x.FixCommand = c.script(lines...)
		}
		return x
	}
	if fc.complete {
		x := Explanation{
			Code:      code,
			Title:     "Exchange's settings are right; the change may still be replicating",
			Cause:     fmt.Sprintf("Exchange Online refused, but its own settings%s show nothing that causes this: %s. A change made moments ago (a new registration, permission or protocol switch) can take minutes to reach every Exchange server.", read, strings.Join(fc.right, "; ")),
			Fix:       "Wait a few minutes and test again (mailoauth test --wait).",
			Retryable: true,
			Facts:     fc.right,
		}
		x.Alternatives = filterAlternatives(append([]Explanation{guess}, guess.Alternatives...), fc.contradicted)
		for i := range x.Alternatives {
			x.Alternatives[i].Alternatives = nil
		}
		return x
	}
	kept := filterAlternatives(append([]Explanation{guess}, guess.Alternatives...), fc.contradicted)
	if len(kept) == 0 {
		return guess
	}
	x := kept[0]
	x.Alternatives = kept[1:]
	x.Code = code
	x.Facts = fc.right
	return x
}

func filterAlternatives(xs []Explanation, contradicted map[string]bool) []Explanation {
	var out []Explanation
	for _, x := range xs {
		if contradicted[x.Code] {
			continue
		}
		x.Alternatives = nil
		out = append(out, x)
	}
	return out
}

// shared reports whether Exchange says the mailbox is a shared mailbox
// (known: whether it was read).
func (c MailContext) shared() (shared, known bool) {
	mb, ok := c.Exchange.Mailbox(c.Mailbox)
	if !ok || !mb.Read || !mb.Found || mb.Type == "" {
		return false, false
	}
	return strings.EqualFold(mb.Type, "SharedMailbox"), true
}
