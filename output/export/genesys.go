package export

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Genesys E-mail Server (genesys-email-server.txt): JavaMail properties and
// the smtp-client / pop-client options, on the sheet and in two files of
// their own.

func init() {
	registerProduct("genesys", productExport{
		sections: (*view).genesysSections,
		manual: func(v *view) []string {
			return []string{"Set the JavaMail properties (" + GenesysProps + ") and the smtp-client / pop-client options (" + GenesysOpts + ") in E-mail Server's configuration.",
				"Let E-mail Server reach " + strings.TrimRight(v.in.Cloud.AuthorityHost, "/") + "/ on port 443 through any proxy."}
		},
		files: func(v *view) []productFile {
			return []productFile{{GenesysProps, v.genesysProperties()}, {GenesysOpts, v.genesysOptions()}}
		},
	})
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

// javaMailProps are the properties in the vendor document's order (ews,
// imap, pop3, smtp). JavaMail reads mail.<protocol>.* for the protocol name
// a store uses; a store opened as imaps/pop3s (TLS from the first byte)
// reads mail.imaps.* / mail.pop3s.*, so both spellings are set and the one
// not in use is ignored.
func (v *view) javaMailProps() [][2]string {
	var out [][2]string
	if v.has(catalog.EWS) {
		out = append(out, [2]string{"mail.ews.auth.mechanisms", "XOAUTH2"})
	}
	if v.has(catalog.IMAP) {
		out = append(out, [2]string{"mail.imap.auth.mechanisms", "XOAUTH2"}, [2]string{"mail.imaps.auth.mechanisms", "XOAUTH2"})
	}
	if v.has(catalog.POP) {
		out = append(out,
			[2]string{"mail.pop3.auth.mechanisms", "XOAUTH2"}, [2]string{"mail.pop3s.auth.mechanisms", "XOAUTH2"},
			[2]string{"mail.pop3.auth.xoauth2.two.line.authentication.format", "true"},
			[2]string{"mail.pop3s.auth.xoauth2.two.line.authentication.format", "true"})
	}
	if v.has(catalog.SMTP) {
		out = append(out, [2]string{"mail.smtp.auth.mechanisms", "XOAUTH2"})
	}
	return out
}

func (v *view) genesysProperties() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Genesys E-mail Server: JavaMail properties for OAuth 2.0 (XOAUTH2) with Microsoft 365.\n")
	fmt.Fprintf(&b, "# App %q, client ID %s, tenant %s. Written by mailoauth; holds no secret.\n", envComment(v.in.AppName), v.in.ClientID, v.in.TenantID)
	b.WriteString("# The vendor document writes the value as \"XOAuth2\": JavaMail compares SASL mechanism names\n")
	b.WriteString("# case-insensitively, so XOAUTH2 is the same. Remove a property to turn OAuth 2.0 off for that protocol.\n")
	b.WriteString("# JavaMail reads mail.<protocol>.* for the protocol name a store uses. A store opened as \"imaps\" or\n")
	b.WriteString("# \"pop3s\" (TLS from the first byte) reads mail.imaps.* / mail.pop3s.* instead, so both spellings are\n")
	b.WriteString("# set below; the one not in use is ignored.\n")
	for _, kv := range v.javaMailProps() {
		if kv[0] == "mail.pop3.auth.xoauth2.two.line.authentication.format" {
			b.WriteString("# Office 365 POP3 accepts only the two-line AUTH XOAUTH2 exchange (the token on its own line).\n")
		}
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.Bytes()
}

// usesSMTPClient: smtp-client sends mail, over SMTP or EWS.
func (v *view) usesSMTPClient() bool { return v.has(catalog.SMTP) || v.has(catalog.EWS) }

// usesPOPClient: pop-client is E-mail Server's inbound mailbox section,
// whatever the protocol (POP3, IMAP or EWS).
func (v *view) usesPOPClient() bool {
	return v.has(catalog.POP) || v.has(catalog.IMAP) || v.has(catalog.EWS)
}

// genesysClientOptions are key, value, note for one section.
func (v *view) genesysClientOptions(smtp bool) [][3]string {
	c := v.in.Cloud
	out := [][3]string{
		{"directory-id", v.in.TenantID, "Directory (tenant) ID"},
		{"tenant-authority", strings.TrimRight(c.AuthorityHost, "/") + "/", "the cloud's identity platform, with the trailing slash"},
		{"client-id", v.in.ClientID, "Application (client) ID"},
		{"scope", strings.TrimRight(c.ExchangeDelegatedResource, "/") + "/.default", "every Exchange permission consented for the app"},
	}
	if smtp {
		out = append(out, [3]string{"token-expiry-margin-time", "(keep E-mail Server's default)",
			"how long before its access token expires an SMTP/EWS connection is closed; the vendor document gives no default or unit"})
	}
	return out
}

func (v *view) genesysOptions() []byte {
	var b bytes.Buffer
	b.WriteString("; Genesys E-mail Server: configuration options for OAuth 2.0 with Microsoft 365.\n")
	fmt.Fprintf(&b, "; App %q. Written by mailoauth; holds no secret (a public client has none).\n", envComment(v.in.AppName))
	b.WriteString("; Set each option in the E-mail Server application's section of the same name.\n")
	section := func(name, why string, smtp bool) {
		fmt.Fprintf(&b, "\n; %s\n[%s]\n", why, name)
		for _, o := range v.genesysClientOptions(smtp) {
			if o[0] == "token-expiry-margin-time" {
				fmt.Fprintf(&b, "; token-expiry-margin-time: %s.\n; Keep E-mail Server's default unless connections drop when tokens expire; then set it, e.g.\n; token-expiry-margin-time=<value>\n", o[2])
				continue
			}
			fmt.Fprintf(&b, "; %s\n%s=%s\n", o[2], o[0], o[1])
		}
	}
	if v.usesSMTPClient() {
		section("smtp-client", "Outgoing mail (SMTP, or EWS sending).", true)
	}
	if v.usesPOPClient() {
		section("pop-client", "Incoming mailbox (POP3, IMAP or EWS).", false)
	}
	return b.Bytes()
}
