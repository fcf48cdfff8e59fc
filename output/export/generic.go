package export

import "github.com/mailoauth/mailoauth/azure/catalog"

// Any IMAP / POP3 / SMTP / EWS / Graph client: the values every client
// needs, in OAuth2's own words.

func init() {
	registerProduct("generic", productExport{
		sections: func(v *view) []section {
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
		},
	})
}
