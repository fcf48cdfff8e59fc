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
	switch v.p.ID {
	case "extraview":
		s.Sections = v.extraViewSections()
	case "email-this-issue":
		s.Sections = v.emailThisIssueSections()
	case "genesys":
		s.Sections = v.genesysSections()
	case "agiloft":
		s.Sections = v.agiloftSections()
	case "monitor-erp":
		s.Sections = v.monitorSections()
	default:
		s.Sections = v.genericSections()
	}
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
	switch v.p.ID {
	case "extraview":
		out = append(out, "Enter the values in this sheet in ExtraView's Token interface, then sign in there as the EVMail / BatchMail user to get the first token.")
	case "email-this-issue":
		out = append(out, "Enter the values in this sheet in the OAuth2 Client Credentials dialog, save, then authorize the mail connection by signing in as the mailbox user.")
	case "genesys":
		out = append(out, "Set the JavaMail properties ("+GenesysProps+") and the smtp-client / pop-client options ("+GenesysOpts+") in E-mail Server's configuration.",
			"Let E-mail Server reach "+strings.TrimRight(v.in.Cloud.AuthorityHost, "/")+"/ on port 443 through any proxy.")
	case "agiloft":
		out = append(out, "Enter the Server tab and Account tab values in this sheet for each inbound account that uses Office 365.")
	case "monitor-erp":
		out = append(out, "Enter the values for both Monitor ERP screens in this sheet and press Test. A 403 Forbidden right after setup is propagation delay: wait a moment and test again.")
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

func (v *view) extraViewSections() []section {
	evmail := v.mailboxes[0]
	batch := evmail
	if len(v.mailboxes) > 1 {
		batch = v.mailboxes[1]
	}
	tok := section{
		Title:  "ExtraView: Administration → Advanced → OAuth2 Email Access Tokens (Token interface)",
		Fields: append(v.ids(), v.secretField("Client Secret")),
	}
	tok.Fields = append(tok.Fields, field{Name: "Redirect URI (registered on the Web platform)", Value: first(v.redirects),
		Note: "already set in Entra ID; ExtraView returns the sign-in here"})
	mail := section{
		Title: "ExtraView: email addresses",
		Fields: []field{
			{Name: "EVMail (incoming) address", Value: evmail, Note: "signs in and retrieves mail; assigned to the enterprise application"},
			{Name: "BatchMail (outgoing) address", Value: batch, Note: "authenticates for outgoing mail; assigned to the enterprise application"},
		},
	}
	return []section{tok, mail, v.serverSection("Mail servers for the chosen protocols")}
}

func (v *view) emailThisIssueSections() []section {
	creds := section{
		Title: "Jira: Email This Issue → OAuth2 Client Credentials (Microsoft 365)",
		Intro: "The app is single tenant, so the authorization and token endpoints are your tenant's own.",
	}
	if v.epTenant == "organizations" {
		creds.Intro = "The app is multitenant, so the authorization and token endpoints are the /organizations ones."
	}
	creds.Fields = append(creds.Fields,
		field{Name: "Callback URL", Value: first(v.redirects), Note: "already registered as the Web redirect URI"},
		field{Name: "Client ID", Value: v.in.ClientID},
		v.secretField("Client Secret"),
		field{Name: "Authorization endpoint", Value: v.authorizeEndpoint()},
		field{Name: "Token endpoint", Value: v.tokenEndpoint()},
	)
	dir := func(p catalog.Protocol, direction string) {
		if v.has(p) {
			creds.Fields = append(creds.Fields, field{Name: "Scopes, " + direction + " (" + p.Label() + ")",
				Value: strings.Join(append(append([]string(nil), v.scopesFor(p)...), "openid"), " ")})
		}
	}
	dir(catalog.IMAP, "incoming")
	dir(catalog.GraphRead, "incoming")
	dir(catalog.SMTP, "outgoing")
	dir(catalog.GraphSend, "outgoing")
	conn := section{Title: "Email This Issue: mail connection"}
	for _, mb := range v.mailboxes {
		conn.Fields = append(conn.Fields, field{Name: "Email address", Value: mb})
	}
	srv := v.serverSection("Mail servers for the chosen protocols")
	conn.Fields = append(conn.Fields, srv.Fields...)
	return []section{creds, conn}
}

func (v *view) genesysSections() []section {
	app := section{Title: "Azure application values for E-mail Server", Fields: v.ids()}
	props := section{Title: "E-mail Server: JavaMail properties (" + GenesysProps + ")",
		Intro: "Set each property to XOAUTH2 for the protocols used; remove a property to turn OAuth 2.0 off."}
	for _, kv := range v.javaMailProps() {
		props.Fields = append(props.Fields, field{Name: kv[0], Value: kv[1]})
	}
	out := []section{app, props}
	if v.usesSMTPClient() {
		sec := section{Title: "E-mail Server: smtp-client section options"}
		for _, kv := range v.genesysClientOptions(true) {
			sec.Fields = append(sec.Fields, field{Name: kv[0], Value: kv[1], Note: kv[2]})
		}
		out = append(out, sec)
	}
	if v.usesPOPClient() {
		sec := section{Title: "E-mail Server: pop-client section options"}
		for _, kv := range v.genesysClientOptions(false) {
			sec.Fields = append(sec.Fields, field{Name: kv[0], Value: kv[1], Note: kv[2]})
		}
		out = append(out, sec)
	}
	mbx := section{Title: "Mailbox account(s)"}
	for _, mb := range v.mailboxes {
		mbx.Fields = append(mbx.Fields, field{Name: "User name", Value: mb, Note: "MFA must be off for this account; its password is entered in E-mail Server, never in mailoauth's files"})
	}
	return append(out, mbx, v.serverSection("Mail servers for the chosen protocols"))
}

func (v *view) agiloftSections() []section {
	ewsHost, ewsPort := v.ewsHostPort()
	server := section{
		Title: "Agiloft: Setup → Email and SMS → Configure Inbound Email → (edit or new account) → Server tab",
		Fields: []field{
			{Name: "Protocol", Value: "IMAP", Note: "Agiloft's choice for an EWS address"},
			{Name: "Address", Value: "EWS:" + ewsHost + "/ews/Exchange.asmx"},
			{Name: "SSL/TLS connection", Value: "enabled"},
			{Name: "Custom port", Value: ewsPort},
		},
	}
	account := section{
		Title: "Agiloft: Account tab",
		Fields: []field{
			{Name: "Email address", Value: v.mailboxes[0], Note: "the full email address"},
			{Name: "Password", Value: "(leave empty)"},
			{Name: "Tenant ID", Value: v.in.TenantID},
			{Name: "Client ID", Value: v.in.ClientID},
			v.secretField("Client Secret"),
		},
	}
	extra := append(append([]string(nil), v.mailboxes[1:]...), v.additional...)
	addl := "(leave empty)"
	if len(extra) > 0 {
		addl = strings.Join(extra, "; ")
	}
	account.Fields = append(account.Fields, field{Name: "Additional Users", Value: addl, Note: "other mailboxes, separated by semicolons"})
	return []section{server, account}
}

func (v *view) monitorSections() []section {
	clientSecret := v.m.ID == "client-secret"
	flow := "User name/password"
	if clientSecret {
		flow = "Client secret"
	}
	host := v.ewsHost()
	sys := section{
		Title: "Monitor ERP: System settings → System overall",
		Fields: []field{
			{Name: "E-mail method", Value: "Server based, via Microsoft Exchange Online"},
			{Name: "Server address", Value: host},
			{Name: "Application (client) ID", Value: v.in.ClientID},
			{Name: "Directory (tenant) ID", Value: v.in.TenantID},
			{Name: "Authentication flow", Value: flow},
		},
	}
	if clientSecret {
		sys.Fields = append(sys.Fields, v.secretField("Client secret"))
	}
	sys.Fields = append(sys.Fields, field{Name: "Port", Value: "(optional; leave empty unless your network needs it)"})
	inc := section{
		Title: "Monitor ERP: Settings for incoming e-mail",
		Fields: []field{
			{Name: "Service", Value: "Exchange Online"},
			{Name: "URL", Value: host},
			{Name: "Polling interval", Value: "(your choice, in minutes; the document's example is 60,00)"},
			{Name: "Application (client) ID", Value: v.in.ClientID},
			{Name: "Directory (tenant) ID", Value: v.in.TenantID},
			{Name: "Authentication flow", Value: flow},
		},
	}
	if clientSecret {
		inc.Fields = append(inc.Fields, v.secretField("Client secret"))
	}
	for _, mb := range v.mailboxes {
		inc.Fields = append(inc.Fields, field{Name: "E-mail account: e-mail address", Value: mb})
		if !clientSecret {
			inc.Fields = append(inc.Fields,
				field{Name: "E-mail account: user name", Value: mb},
				field{Name: "E-mail account: password", Value: "(the account's password; type it in Monitor ERP)", Note: "mailoauth never writes it"})
		}
	}
	return []section{sys, inc}
}

func (v *view) genericSections() []section {
	c := section{Title: "Client settings"}
	c.Fields = append(c.Fields, v.ids()...)
	if v.m.NeedsSecret {
		c.Fields = append(c.Fields, v.secretField("Client secret"))
	}
	c.Fields = append(c.Fields,
		field{Name: "Authority", Value: v.authority()},
		field{Name: "Token endpoint", Value: v.tokenEndpoint()})
	switch v.m.Flow {
	case catalog.AuthCode:
		c.Fields = append(c.Fields, field{Name: "Authorization endpoint", Value: v.authorizeEndpoint()},
			field{Name: "Redirect URI", Value: first(v.redirects)})
	case catalog.DeviceCode:
		c.Fields = append(c.Fields, field{Name: "Device code endpoint", Value: v.deviceCodeEndpoint()})
	}
	public := "No"
	if v.in.PublicClient {
		public = "Yes"
	}
	c.Fields = append(c.Fields, field{Name: "Grant", Value: v.m.Flow.Label()},
		field{Name: "Allow public client flows", Value: public, Note: "Authentication → Advanced settings (isFallbackPublicClient)"})
	c.Fields = append(c.Fields, v.scopeFields()...)
	user := "the XOAUTH2 user name"
	if v.m.Flow.AppOnly() {
		user += "; app-only tokens reach the mailboxes set up by " + PowerShell
	}
	srv := v.serverSection("Mail servers")
	for _, mb := range v.allMailboxes() {
		srv.Fields = append(srv.Fields, field{Name: "Mailbox", Value: mb, Note: user})
	}
	return []section{c, srv}
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
