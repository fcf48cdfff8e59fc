package export

import "strings"

// Agiloft (agiloft.txt): the inbound account's Server and Account tabs.

func init() {
	registerProduct("agiloft", productExport{
		sections: func(v *view) []section {
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
		},
		manual: func(v *view) []string {
			return []string{"Enter the Server tab and Account tab values in this sheet for each inbound account that uses Office 365."}
		},
	})
}
