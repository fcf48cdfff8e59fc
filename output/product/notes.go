package product

import (
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// NoteKind tells a screen how to show a note: a warning is something that
// can make the setup fail or reach more than intended; information is a
// fact worth knowing. Neither is a change.
type NoteKind string

const (
	Warning NoteKind = "warning"
	Info    NoteKind = "info"
)

// Note is one line for the review screen or the settings sheet.
type Note struct {
	Kind NoteKind
	Text string
}

// choice is a method and protocol choice, for deciding what applies.
type choice struct {
	m         Method
	protocols []catalog.Protocol
}

func (c choice) has(p catalog.Protocol) bool {
	for _, x := range c.protocols {
		if x == p {
			return true
		}
	}
	return false
}

func (c choice) hasAny(ps ...catalog.Protocol) bool {
	for _, p := range ps {
		if c.has(p) {
			return true
		}
	}
	return false
}

// AppliesTo reports whether the correction concerns this method and
// protocols (the POP spelling fix only when POP is chosen, the Application
// Access Policy fix only for the app-only method).
func (f Fix) AppliesTo(m Method, protocols []catalog.Protocol) bool {
	c := choice{m, protocols}
	if len(f.Protocols) > 0 && !c.hasAny(f.Protocols...) {
		return false
	}
	if len(f.Methods) > 0 {
		for _, id := range f.Methods {
			if strings.EqualFold(id, m.ID) {
				return true
			}
		}
		return false
	}
	return true
}

// FixesFor are the vendor document corrections that apply to the choice.
func (p Profile) FixesFor(m Method, protocols []catalog.Protocol) []Fix {
	var out []Fix
	for _, f := range p.Fixes {
		if f.AppliesTo(m, protocols) {
			out = append(out, f)
		}
	}
	return out
}

// Warnings are the cautions for this product, method and protocol choice:
// EWS retirement with the product's alternative, ROPC and MFA, and the reach
// of app-only permissions. Dated facts are worded as Microsoft announced
// them; the sources are in docs/settings-json.md ("Sources and caveats").
func (p Profile) Warnings(m Method, protocols []catalog.Protocol) []string {
	c := choice{m, protocols}
	var out []string
	if c.has(catalog.EWS) {
		out = append(out, "EWS in Exchange Online is being retired. Microsoft has announced (message center MC1227454, February 2026) "+
			"that Exchange Online turns EWS off tenant by tenant from 2026-10-01 unless the organisation allows it for a list of "+
			"app IDs, and switches EWS off for good on 2027-04-01. Alternative for "+p.Name+": "+p.EWSAlternative)
	}
	if m.Flow == catalog.ROPC {
		out = append(out, "User name and password sign-in (ROPC) cannot do multi-factor authentication: the mailbox account must not "+
			"be required to use MFA by security defaults or Conditional Access, or sign-in fails with AADSTS50076.")
	}
	if m.Flow.AppOnly() && c.has(catalog.EWS) {
		out = append(out, "full_access_as_app reaches EVERY mailbox in the tenant. Limit it with RBAC for Applications "+
			"(optional block in exchange-setup.ps1) and the EWS app allow-list.")
	}
	if m.Flow.AppOnly() && c.hasAny(catalog.GraphRead, catalog.GraphSend) {
		out = append(out, "Graph application mail permissions reach EVERY mailbox in the tenant. Limit them with RBAC for "+
			"Applications (optional block in exchange-setup.ps1).")
	}
	return out
}

// VendorNotes explain where mailoauth's registration differs from the
// vendor document without the document being wrong: the mail permissions on
// both APIs, and offline_access.
func (p Profile) VendorNotes(m Method, protocols []catalog.Protocol) []string {
	c := choice{m, protocols}
	var out []string
	if !m.Flow.AppOnly() && c.hasAny(catalog.IMAP, catalog.POP, catalog.SMTP) {
		var names []string
		for _, pr := range []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP} {
			if c.has(pr) {
				perm, _ := catalog.ForProtocol(pr, m.Flow)
				names = append(names, perm.Value)
			}
		}
		list := strings.Join(names, ", ")
		if p.VendorMailScopesUnderGraph {
			out = append(out, "The vendor document adds "+list+" under Microsoft Graph → Delegated permissions; Microsoft's own "+
				"documentation requests them from Office 365 Exchange Online (https://outlook.office.com/…). mailoauth registered and "+
				"consented them under both APIs, so "+p.Name+" works whichever way it asks for its token.")
		} else {
			out = append(out, list+" are registered and consented under both Office 365 Exchange Online and Microsoft Graph (the "+
				"portal lists them under both), so "+p.Name+" works whichever way it asks for its token.")
		}
	}
	if m.VendorOmitsOfflineAccess && !m.Flow.AppOnly() {
		out = append(out, "mailoauth adds Microsoft Graph offline_access, which the vendor document does not list: it lets "+p.Name+
			" receive a refresh token and renew its access without signing in again; it gives no access to mail by itself.")
	}
	return out
}

// ReviewNotes are what the review screen shows for the choice, each once:
// warnings first, then the product's facts, the vendor document notes and
// the corrections that apply.
func (p Profile) ReviewNotes(m Method, protocols []catalog.Protocol) []Note {
	var out []Note
	seen := map[string]bool{}
	add := func(k NoteKind, text string) {
		if text == "" || seen[text] {
			return
		}
		seen[text] = true
		out = append(out, Note{k, text})
	}
	for _, w := range p.Warnings(m, protocols) {
		add(Warning, w)
	}
	for _, n := range p.Notes {
		add(Info, n)
	}
	for _, n := range p.VendorNotes(m, protocols) {
		add(Info, n)
	}
	for _, f := range p.FixesFor(m, protocols) {
		add(Info, "Vendor document fix: "+f.String())
	}
	return out
}
