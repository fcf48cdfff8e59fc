package export

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
)

// sheet is the settings sheet's content, rendered as Markdown and HTML from
// the same data so the two never disagree.
type sheet struct {
	Title       string
	HoldsSecret bool // the method uses a client secret (the sheet carries it or its placeholder)
	Summary     []field
	Warnings    []string
	Sections    []section
	Secret      []field
	Permissions []catalog.Permission
	Created     []string
	Manual      []string
	// Tests are the login test's attempts, oldest first; the last is the
	// result. One attempt is shown as one table, as it always was.
	Tests []attempt
	// OtherTenants is how another organisation consents to a multitenant
	// app (empty for a single-tenant one).
	OtherTenants []field
	Notes        []string
	Fixes        []string
	Doc          string
}

// attempt is one run of the login test on the sheet.
type attempt struct {
	Title string // "Attempt 1 of 2 (2026-11-21 19:02 UTC)"; "" when there is only one
	Lines []TestLine
	Fix   string // what was fixed before the next attempt
}

// section is one screen or dialog of the product, in fill-in order.
type section struct {
	Title  string // the product's menu path
	Intro  string
	Fields []field
}

// field is one value to type or paste, under the product's own label.
type field struct {
	Name   string
	Value  string
	Note   string
	Secret bool // the value is the client secret (or its placeholder)
}

func (v *view) sheet() sheet {
	in := v.in
	s := sheet{
		Title: fmt.Sprintf("%s: Microsoft 365 OAuth2 settings for %q", v.p.Name, in.AppName),
		Summary: []field{
			{Name: "Product", Value: v.p.Name},
			{Name: "Sign-in method", Value: v.m.Label},
			{Name: "Protocols", Value: protocolLabels(in.Protocols)},
			{Name: "App registration", Value: in.AppName},
			{Name: "Application (client) ID", Value: in.ClientID},
			{Name: "Directory (tenant) ID", Value: in.TenantID},
		},
		Warnings:    v.p.Warnings(v.m, in.Protocols),
		Permissions: v.perms,
		Created:     append(append([]string(nil), in.Created...), in.Exchange.Changes...),
		Tests:       v.attempts(),
		Notes:       append(append([]string(nil), v.p.Notes...), v.extraNotes()...),
	}
	if in.TenantDomain != "" {
		s.Summary = append(s.Summary, field{Name: "Tenant domain", Value: in.TenantDomain})
	}
	s.Summary = append(s.Summary,
		field{Name: "Cloud", Value: in.Cloud.Name},
		field{Name: "Supported account types", Value: v.audience.Label()},
		field{Name: "Generated", Value: v.generated().Format("2006-01-02 15:04 UTC")})
	if len(in.Cloud.Unverified) > 0 {
		s.Warnings = append(s.Warnings, "Microsoft's public documentation does not confirm these endpoints of the "+in.Cloud.Name+
			" cloud: "+strings.Join(in.Cloud.Unverified, ", ")+". Check them against your tenant before relying on them.")
	}
	for _, f := range v.p.FixesFor(v.m, in.Protocols) {
		s.Fixes = append(s.Fixes, f.String())
	}
	s.Fixes = append(s.Fixes, v.p.VendorNotes(v.m, in.Protocols)...)
	s.OtherTenants = v.otherTenants()
	if v.p.DocTitle != "" {
		s.Doc = v.p.DocTitle
		if v.p.DocURL != "" {
			s.Doc += " (" + v.p.DocURL + ")"
		}
	}
	s.Sections = v.px.sections(v)
	if v.m.NeedsSecret {
		s.HoldsSecret = true
		s.Secret = []field{
			{Name: "Expires", Value: v.expiry(), Note: "create a new secret before this date, put it into " + v.p.Name + ", then delete the old one"},
		}
		if in.SecretKeyID != "" {
			s.Secret = append(s.Secret, field{Name: "Secret ID", Value: in.SecretKeyID, Note: "identifies the secret in the portal; not the value"})
		}
		if in.SecretHint != "" {
			s.Secret = append(s.Secret, field{Name: "Hint (first characters)", Value: in.SecretHint})
		}
	}
	s.Manual = v.manualSteps()
	return s
}

// manualSteps derives what the admin still has to do, then adds the caller's.
func (v *view) manualSteps() []string {
	var out []string
	if v.m.NeedsSecret && !v.secretSet {
		out = append(out, "Paste the client secret's value where this sheet, settings.json and .env say \""+SecretPlaceholder+
			"\". Microsoft shows a secret only once; if it is lost, create a new one under Certificates & secrets.")
	}
	if step := v.scriptStep(); step != "" {
		out = append(out, step)
	}
	if v.px.manual != nil {
		out = append(out, v.px.manual(v)...)
	}
	if v.m.Flow == catalog.ROPC {
		out = append(out, "Make sure multi-factor authentication is not required (by security defaults, per-user MFA or Conditional Access) for "+
			strings.Join(v.mailboxes, ", ")+": user name and password sign-in (ROPC) cannot answer MFA.")
	}
	if v.hasReminder() {
		out = append(out, "Import "+Reminder+" into your calendar: it reminds you "+v.reminderLeadTimes()+" before the client secret expires on "+
			v.expiry()+", with the command that renews it ("+v.rotateCommand()+").")
	}
	return append(out, v.in.ManualSteps...)
}

// scriptStep is the manual step for the Exchange script: none when
// mailoauth applied every change itself; otherwise run it, and why.
func (v *view) scriptStep() string {
	if !v.needsScript() {
		return ""
	}
	ex := v.in.Exchange
	run := "Run " + PowerShell + " in PowerShell with the ExchangeOnlineManagement module, signed in as an Exchange administrator. It is safe to run again."
	switch {
	case ex.applied() && len(ex.Pending) == 0:
		return ""
	case ex.applied():
		return run + " mailoauth applied the rest of the Exchange Online side; still to do: " + strings.Join(ex.Pending, "; ") + "."
	case ex.Left != "":
		return run + " It is left to you because " + ex.leftReason() + "."
	}
	return run
}

// attempts are the login test's history: TestAttempts, or TestResults as
// one attempt.
func (v *view) attempts() []attempt {
	in := v.in
	if len(in.TestAttempts) == 0 {
		if len(in.TestResults) == 0 {
			return nil
		}
		return []attempt{{Lines: in.TestResults}}
	}
	var out []attempt
	for i, a := range in.TestAttempts {
		t := attempt{Lines: a.Results, Fix: a.Fix}
		if len(in.TestAttempts) > 1 {
			t.Title = fmt.Sprintf("Attempt %d of %d", i+1, len(in.TestAttempts))
			if !a.At.IsZero() {
				t.Title += " (" + a.At.UTC().Format("2006-01-02 15:04:05 UTC") + ")"
			}
		}
		out = append(out, t)
	}
	return out
}

// extraNotes are the notes that follow from this setup rather than the
// product: delegated Graph access to other mailboxes.
func (v *view) extraNotes() []string {
	var out []string
	if v.in.OtherMailboxes && !v.m.Flow.AppOnly() && v.hasGraph() {
		out = append(out, "The mailboxes are opened over Microsoft Graph by a user other than their owner (for example a shared mailbox): "+
			"the app has Mail.Read.Shared / Mail.Send.Shared for that, "+v.p.Name+" must address the mailbox itself (/users/<mailbox>/…, not /me), "+
			"and the signing-in user needs FullAccess (to read) or Send As (to send) on it in Exchange Online.")
	}
	return out
}

// otherTenants: a multitenant app is consented in another organisation's
// tenant by its administrator, in the browser or with mailoauth.
func (v *view) otherTenants() []field {
	if v.audience != catalog.MultiTenant {
		return nil
	}
	host := strings.TrimRight(v.in.Cloud.AuthorityHost, "/")
	return []field{
		{Name: "Admin consent URL", Value: host + "/{tenant}/adminconsent?client_id=" + v.in.ClientID,
			Note: "replace {tenant} with the other organisation's tenant ID or domain (e.g. fabrikam.onmicrosoft.com); an administrator of that organisation opens it, signs in and accepts"},
		{Name: "Or with mailoauth", Value: "mailoauth setup --tenant {tenant} --app-id " + v.in.ClientID + " --product " + v.p.ID,
			Note: "signed in as that organisation's administrator: consents this app there, assigns its users and does the Exchange Online part, without registering a new app"},
	}
}

func (v *view) ids() []field {
	return []field{
		{Name: "Directory (tenant) ID", Value: v.in.TenantID},
		{Name: "Application (client) ID", Value: v.in.ClientID},
	}
}

func (v *view) secretField(name string) field {
	return field{Name: name, Value: v.secretValue(), Secret: true, Note: "the secret's Value, not its Secret ID"}
}

// serverSection lists host, port and security for each chosen protocol.
func (v *view) serverSection(title string) section {
	s := section{Title: title}
	for _, p := range v.in.Protocols {
		if ep, ok := v.endpointOf(p); ok {
			s.Fields = append(s.Fields, field{Name: p.Label() + " server", Value: ep.Host + ":" + strconv.Itoa(ep.Port), Note: tlsLabel(ep.TLS) + "; SASL XOAUTH2"})
		}
		switch p {
		case catalog.EWS:
			s.Fields = append(s.Fields, field{Name: "EWS URL", Value: v.in.Cloud.EWSURL})
		case catalog.GraphRead, catalog.GraphSend:
			s.Fields = append(s.Fields, field{Name: p.Label() + " base URL", Value: v.in.Cloud.GraphV1()})
		}
	}
	return s
}

func (v *view) scopeFields() []field {
	var out []field
	for _, t := range v.tokens {
		out = append(out, field{Name: "Scopes for " + protocolLabels(t.Protocols), Value: strings.Join(t.Scopes, " "),
			Note: "one token per resource: " + t.Resource.Name})
	}
	return out
}

func first(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return xs[0]
}

func protocolLabels(ps []catalog.Protocol) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Label())
	}
	return strings.Join(out, ", ")
}

func tlsLabel(t cloud.TLSMode) string {
	switch t {
	case cloud.ImplicitTLS:
		return "SSL/TLS from the start"
	case cloud.StartTLS:
		return "STARTTLS"
	}
	return string(t)
}
