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
	Tests       []TestLine
	Notes       []string
	Fixes       []string
	Doc         string
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
		Created:     in.Created,
		Tests:       in.TestResults,
		Notes:       v.p.Notes,
	}
	if in.TenantDomain != "" {
		s.Summary = append(s.Summary, field{Name: "Tenant domain", Value: in.TenantDomain})
	}
	s.Summary = append(s.Summary,
		field{Name: "Cloud", Value: in.Cloud.Name},
		field{Name: "Supported account types", Value: v.audience.Label()},
		field{Name: "Generated", Value: v.generated().Format("2006-01-02 15:04 UTC")})
	if len(in.Cloud.Unverified) > 0 {
		s.Warnings = append(s.Warnings, "Some endpoints of the "+in.Cloud.Name+" cloud are UNVERIFIED by Microsoft sources: "+
			strings.Join(in.Cloud.Unverified, ", ")+". Check them against your tenant.")
	}
	for _, f := range v.p.Fixes {
		s.Fixes = append(s.Fixes, f.String())
	}
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
	if v.needsScript() {
		out = append(out, "Run "+PowerShell+" in PowerShell with the ExchangeOnlineManagement module, signed in as an Exchange administrator. It is safe to run again.")
	}
	if v.px.manual != nil {
		out = append(out, v.px.manual(v)...)
	}
	if v.m.Flow == catalog.ROPC {
		out = append(out, "Make sure multi-factor authentication is not required (by security defaults, per-user MFA or Conditional Access) for "+
			strings.Join(v.mailboxes, ", ")+": user name and password sign-in (ROPC) cannot answer MFA.")
	}
	if v.m.NeedsSecret && !v.in.SecretExpires.IsZero() {
		out = append(out, "Set a reminder to renew the client secret before "+v.expiry()+".")
	}
	return append(out, v.in.ManualSteps...)
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
