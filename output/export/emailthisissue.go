package export

import (
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// Email This Issue for Jira (email-this-issue.md): the OAuth2 Client
// Credentials dialog, then the mail connection.

func init() {
	registerProduct("email-this-issue", productExport{
		sections: func(v *view) []section {
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
		},
		manual: func(v *view) []string {
			return []string{"Enter the values in this sheet in the OAuth2 Client Credentials dialog, save, then authorize the mail connection by signing in as the mailbox user."}
		},
	})
}
