package product

import (
	"github.com/mailoauth/mailoauth/azure/catalog"
)

// The profiles follow products.md (with its **Fix** corrections) and the
// vendor documents in seeds/. Questions are ordered so that a typical
// product needs at most three typed answers.

var (
	exchangeProtocols = []catalog.Protocol{catalog.EWS, catalog.IMAP, catalog.POP, catalog.SMTP}
	imapSMTP          = []catalog.Protocol{catalog.IMAP, catalog.SMTP}
	ewsOnly           = []catalog.Protocol{catalog.EWS}
)

func extraView() Profile {
	m := Method{
		ID: "auth-code", Label: "Authorization code (ExtraView Token interface, browser sign-in)",
		Flow: catalog.AuthCode, Protocols: exchangeProtocols, DefaultProtocols: imapSMTP,
		Platform:    catalog.Web,
		Redirect:    RedirectRule{Kind: FromAnswer, AnswerKey: KeyExtraViewURL, Suffix: extraViewTokenPath},
		NeedsSecret: true, AssignUsers: true, DefaultAudience: catalog.SingleTenant,
	}
	m.Questions = []Question{
		{
			Key:    KeyExtraViewURL,
			Prompt: "ExtraView instance URL",
			Help: "the https address of your ExtraView instance with its path, e.g. https://ev.example.com/evj; " +
				"mailoauth registers …/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility as the Web redirect URI " +
				"(portal: Authentication → Add a platform → Web)",
			check: func(s string) (string, string, error) { return ExtraViewURL(KeyExtraViewURL, s) },
		},
		protocolsQuestion(&m, "ExtraView supports EWS, IMAP, POP3 and SMTP; IMAP + SMTP is the default because EWS in Exchange Online is being retired "+
			"(portal: API permissions → delegated permissions per protocol)"),
		mailboxesQuestion("EVMail address; BatchMail address if different",
			"the mailbox ExtraView reads (EVMail) and, after a semicolon, the one it sends from (BatchMail) if different; "+
				"these users are assigned to the enterprise application (portal: Enterprise applications → Users and groups)", 2),
	}
	return Profile{
		ID: "extraview", AppStem: "ExtraView mail", Name: "ExtraView", Methods: []Method{m}, VendorMailScopesUnderGraph: true,
		DocTitle:       "ExtraView: Microsoft Azure Email Configuration",
		DocURL:         "https://docs.extraview.com/v25/extraview-25/administration-guide-1/advanced-menu-1/oauth2-email-access-tokens-1/microsoft-azure-email-configuration-1/",
		EWSAlternative: "IMAP for incoming (EVMail) and SMTP for outgoing (BatchMail) mail, which ExtraView supports.",
		Notes: []string{
			"ExtraView needs the client secret's Value, not its Secret ID.",
			"The EVMail and BatchMail users are assigned to the enterprise application (\"Assign users and groups\").",
		},
		Fixes: []Fix{
			{Document: "POP.AccessUser.All", Correct: "POP.AccessAsUser.All", Why: "Microsoft's permission is named POP.AccessAsUser.All.", Protocols: []catalog.Protocol{catalog.POP}},
		},
	}
}

func emailThisIssue() Profile {
	m := Method{
		ID: "auth-code", Label: "Authorization code (OAuth2 Client Credentials dialog in Jira)",
		Flow:             catalog.AuthCode,
		Protocols:        []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.GraphRead, catalog.GraphSend},
		DefaultProtocols: imapSMTP,
		Extras:           []catalog.Permission{catalog.GraphOpenID, catalog.GraphUserRead},
		Platform:         catalog.Web,
		Redirect:         RedirectRule{Kind: FromAnswer, AnswerKey: KeyCallbackURL},
		NeedsSecret:      true, DefaultAudience: catalog.SingleTenant, OrganizationsEndpoints: true,
	}
	m.Questions = []Question{
		{
			Key:    KeyCallbackURL,
			Prompt: "Callback URL from Email This Issue",
			Help: "copy the Callback URL shown in Email This Issue's OAuth2 Client Credentials dialog (it is specific to your Jira); " +
				"it becomes the Web redirect URI (portal: Authentication → Web → Redirect URIs)",
			check: func(s string) (string, string, error) {
				v, err := RedirectURL(KeyCallbackURL, s)
				return v, "", err
			},
		},
		protocolsQuestion(&m, "incoming: imap or graph-read; outgoing: smtp or graph-send (portal: API permissions, delegated; mailoauth registers IMAP and SMTP under both Office 365 Exchange Online and Microsoft Graph)"),
		audienceQuestion(catalog.SingleTenant, "single = only your organisation (tenant-specific endpoints); multi = any organisation (the /organizations endpoints)"),
		mailboxesQuestion("Mailbox address(es) Email This Issue will use",
			"the Microsoft 365 address(es) Email This Issue reads or sends from, used for the login test", 0),
	}
	return Profile{
		ID: "email-this-issue", AppStem: "Email This Issue mail", Name: "Email This Issue for Jira", Methods: []Method{m}, VendorMailScopesUnderGraph: true,
		DocTitle:       "Email This Issue: Enabling OAuth2 authorization in your Microsoft 365 account",
		EWSAlternative: "not applicable (Email This Issue does not use EWS).",
		Notes: []string{
			"Keep the default User.Read permission: Email This Issue uses it to read the account's user principal name.",
			"Separate app registrations per direction (incoming, outgoing) are allowed; this one covers the protocols chosen.",
			"To revoke a user's consent: https://myapps.microsoft.com (tokens already issued stay valid until they expire).",
		},
	}
}

func genesys() Profile {
	userRead := []catalog.Permission{catalog.GraphUserRead}
	m := Method{
		ID: "ropc", Label: "Resource owner password credentials (E-mail Server sends client ID, user name and password)",
		Flow: catalog.ROPC, Protocols: exchangeProtocols, DefaultProtocols: imapSMTP,
		ExtrasFor:       map[catalog.Protocol][]catalog.Permission{catalog.EWS: userRead, catalog.IMAP: userRead, catalog.POP: userRead},
		Platform:        catalog.NoPlatform,
		PublicClient:    true,
		DefaultAudience: catalog.MultiTenant,
		// The document lists User.Read and the protocol permissions only.
		VendorOmitsOfflineAccess: true,
	}
	m.Questions = []Question{
		protocolsQuestion(&m, "E-mail Server (classic) supports EWS, IMAP, POP3 and SMTP, not Graph (portal: API permissions, delegated)"),
		audienceQuestion(catalog.MultiTenant, "Genesys recommends multi (any organizational directory); single tenant is also supported"),
		mailboxesQuestion("Mailbox address(es) E-mail Server will use",
			"the Office 365 mailbox(es) E-mail Server signs in as; MFA must be off for them", 0),
	}
	return Profile{
		ID: "genesys", AppStem: "Genesys E-mail Server mail", Name: "Genesys E-mail Server", Methods: []Method{m},
		DocTitle:       "Genesys E-mail Server Administration Guide: Setting up Microsoft Azure mailboxes for OAuth 2.0 authorization",
		EWSAlternative: "IMAP or POP3 for incoming and SMTP for outgoing mail, which E-mail Server supports (8.5.202.02 and later for POP3 and SMTP).",
		Notes: []string{
			"Public client: \"Allow public client flows\" is on, no redirect URI, no Application ID URI, no client secret.",
			"E-mail Server must reach the identity platform (login host) on port 443 through any proxy.",
			"IMAP / POP3 must be enabled on the mailbox when used; nothing is needed on the mailbox for EWS.",
		},
		Fixes: []Fix{
			{Document: "POP3.AccessAsUser.All", Correct: "POP.AccessAsUser.All", Why: "Microsoft's permission is named POP.AccessAsUser.All.", Protocols: []catalog.Protocol{catalog.POP}},
			{Document: "XOAuth2", Correct: "XOAUTH2", Why: "The SASL mechanism's name is XOAUTH2; JavaMail compares mechanism names case-insensitively, so either works."},
		},
	}
}

func agiloft() Profile {
	m := Method{
		ID: "client-credentials", Label: "Client credentials (EWS app-only with a client secret)",
		Flow: catalog.ClientCredentials, Protocols: ewsOnly, DefaultProtocols: ewsOnly,
		Platform: catalog.NoPlatform, NeedsSecret: true, DefaultAudience: catalog.SingleTenant,
	}
	m.Questions = []Question{
		mailboxesQuestion("Inbound account's full email address",
			"the address Agiloft's inbound account reads (Account tab, full email address); one address", 1),
		additionalUsersQuestion(),
	}
	return Profile{
		ID: "agiloft", AppStem: "Agiloft mail", Name: "Agiloft", Methods: []Method{m},
		DocTitle:       "Agiloft: Microsoft Exchange and Office 365 Email Setup",
		EWSAlternative: "none documented by Agiloft; check with the vendor before EWS is switched off.",
		Notes: []string{
			"The permission is the application permission full_access_as_app on Office 365 Exchange Online, added to the manifest's requiredResourceAccess, then admin consent.",
		},
		Fixes: []Fix{
			{Document: "Set it to never expire", Correct: "an expiry of at most 24 months", Why: "The portal no longer allows client secrets longer than 24 months and tenant policies may cap them lower; plan the rotation."},
		},
	}
}

func monitorERP() Profile {
	mailboxes := func() Question {
		return mailboxesQuestion("E-mail account address(es)",
			"the Exchange Online mailbox(es) Monitor ERP uses (Settings for incoming e-mail → e-mail accounts)", 0)
	}
	up := Method{
		ID: "user-password", Label: "User name & password (ROPC, delegated EWS.AccessAsUser.All)",
		Flow: catalog.ROPC, Protocols: ewsOnly, DefaultProtocols: ewsOnly,
		Platform: catalog.NoPlatform, PublicClient: true, DefaultAudience: catalog.SingleTenant,
		Questions: []Question{mailboxes()},
		// The document's manifest block is Microsoft's EWS delegated one: EWS.AccessAsUser.All only.
		VendorOmitsOfflineAccess: true,
	}
	cs := Method{
		ID: "client-secret", Label: "Client secret (client credentials, app-only full_access_as_app)",
		Flow: catalog.ClientCredentials, Protocols: ewsOnly, DefaultProtocols: ewsOnly,
		Platform: catalog.PublicClient, Redirect: RedirectRule{Kind: NativeClient},
		NeedsSecret: true, DefaultAudience: catalog.SingleTenant,
		Questions: []Question{mailboxes()},
	}
	return Profile{
		ID: "monitor-erp", AppStem: "Monitor ERP mail", Name: "Monitor ERP", Methods: []Method{up, cs},
		DocTitle:       "Monitor ERP: Setting up e-mail (OAUTH) in Azure Portal",
		EWSAlternative: "none documented by Monitor ERP (its Exchange Online method uses EWS); check with the vendor.",
		Notes: []string{
			"Only one authentication method can be active at a time.",
			"A 403 Forbidden right after setup is propagation delay: wait a moment and test again.",
		},
		Fixes: []Fix{
			{Document: "Azure AD B2C → App registrations", Correct: "Microsoft Entra ID → App registrations", Why: "App registrations for your own organisation live in Microsoft Entra ID; Azure AD B2C is a separate customer-identity service."},
			{Document: "New-ApplicationAccessPolicy", Correct: "RBAC for Applications (New-ManagementScope, New-ManagementRoleAssignment)",
				Why: "Microsoft no longer supports new Application Access Policies (since August 2025); RBAC for Applications replaces them.", Methods: []string{"client-secret"}},
		},
	}
}

func generic() Profile {
	all := catalog.Protocols
	base := func(id, label string, f catalog.Flow) Method {
		return Method{ID: id, Label: label, Flow: f, Protocols: all, DefaultProtocols: imapSMTP, DefaultAudience: catalog.SingleTenant}
	}
	common := func(m *Method) []Question {
		return []Question{
			protocolsQuestion(m, "any of imap, pop, smtp, ews, graph-read, graph-send"),
			mailboxesQuestion("Mailbox address(es)", "the mailbox(es) the client reaches, used for the login test and the Exchange script", 0),
		}
	}
	ac := base("auth-code", "Authorization code (web app with a redirect URI and a client secret)", catalog.AuthCode)
	ac.Platform, ac.NeedsSecret = catalog.Web, true
	ac.Redirect = RedirectRule{Kind: FromAnswer, AnswerKey: KeyRedirectURI}
	ac.Questions = append([]Question{{
		Key: KeyRedirectURI, Prompt: "Redirect URI of your client",
		Help: "where the client receives the authorization code (portal: Authentication → Web → Redirect URIs)",
		check: func(s string) (string, string, error) {
			v, err := RedirectURL(KeyRedirectURI, s)
			return v, "", err
		},
	}}, common(&ac)...)
	ac.Questions = append(ac.Questions, audienceQuestion(catalog.SingleTenant, "single = only your organisation; multi = any organisation"))

	ropc := base("ropc", "Resource owner password credentials (user name + password, no MFA)", catalog.ROPC)
	ropc.Platform, ropc.PublicClient = catalog.NoPlatform, true
	ropc.Questions = common(&ropc)

	cc := base("client-credentials", "Client credentials (app-only, client secret)", catalog.ClientCredentials)
	cc.Platform, cc.NeedsSecret = catalog.NoPlatform, true
	cc.Questions = common(&cc)

	dc := base("device-code", "Device code (delegated, sign in on another device)", catalog.DeviceCode)
	dc.Platform, dc.PublicClient = catalog.NoPlatform, true
	dc.Questions = common(&dc)

	return Profile{
		ID: "generic", AppStem: "Mail client", Name: "Generic mail client", Methods: []Method{ac, ropc, cc, dc},
		DocTitle:       "Microsoft: Authenticate an IMAP, POP or SMTP connection using OAuth",
		DocURL:         "https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth",
		EWSAlternative: "Microsoft Graph mail (graph-read / graph-send) or IMAP/SMTP.",
	}
}
