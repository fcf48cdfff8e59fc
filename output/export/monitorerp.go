package export

// Monitor ERP (monitor-erp.txt): System settings, then the settings for
// incoming e-mail; two methods, only one active at a time.

func init() {
	registerProduct("monitor-erp", productExport{
		sections: func(v *view) []section {
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
					{Name: "Polling interval", Value: "(your choice, in minutes, for example 60)"},
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
		},
		manual: func(v *view) []string {
			return []string{"Enter the values for both Monitor ERP screens in this sheet and press Test. A 403 Forbidden right after setup is propagation delay: wait a moment and test again."}
		},
	})
}
