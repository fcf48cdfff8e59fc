package export

// ExtraView (extraview.md): the Token interface, then the EVMail and
// BatchMail addresses.

func init() {
	registerProduct("extraview", productExport{
		sections: func(v *view) []section {
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
		},
		manual: func(v *view) []string {
			return []string{"Enter the values in this sheet in ExtraView's Token interface, then sign in there as the EVMail / BatchMail user to get the first token."}
		},
	})
}
