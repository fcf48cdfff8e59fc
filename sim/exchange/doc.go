// # Modelling notes
//
// The front ends answer with the exact lines of docs/architecture.md
// "Exchange behaviour". These behaviours are marked UNVERIFIED in
// microsoft.md (seen only in 3rd-party material) and are modelled as follows:
//
//   - POP3 one-line AUTH XOAUTH2 <base64>: "-ERR Protocol error. Connection is
//     closed. 10" and the connection is closed (one 3rd-party report).
//   - SMTP 535 5.7.139 "SmtpClientAuthentication is disabled for the
//     Tenant/Mailbox": given at AUTH, after the token checks pass, when
//     Set-TransportConfig/Set-CASMailbox say so. "basic authentication is
//     disabled" answers every AUTH LOGIN.
//   - App-only SMTP needs FullAccess on the user= mailbox at AUTH (535
//     5.7.3 without it; microsoft.md §15.2 and field reports), or, on the
//     RBAC-only path (no SMTP.SendAsApp in the token), the 'Application
//     SMTP.SendAsApp' role in scope. SMTP 550 5.7.60 at MAIL FROM: another
//     address needs SendAs on it (the app's, the user's, or the RBAC role
//     in scope); a secondary address of the own mailbox is refused too
//     (SendFromAliasEnabled off).
//   - IMAP "BAD User is authenticated but not connected.": AUTHENTICATE
//     succeeds when the token is good but Exchange cannot open the mailbox
//     (IMAP off, no Exchange service principal, no FullAccess); every
//     mailbox command (SELECT, EXAMINE, LIST, LSUB, STATUS, NAMESPACE,
//     FETCH, STORE, SEARCH, CLOSE ...) then gets that reply.
//   - EWS without ExchangeImpersonation for an app-only token: HTTP 500 SOAP
//     fault ErrorInvalidExchangeImpersonationHeaderData. EWS 401s carry
//     x-ms-diagnostics "2000001;reason=...;error_category=..." for every
//     token failure, as the architecture table says; real Exchange also uses
//     2000003 (audience) and 2000008 (permissions). The reasons are chosen
//     to read like Exchange's ("The token has expired.", "The audience
//     claim value is invalid for current resource. ...").
//   - Exchange access tokens are v1.0 with aud https://outlook.office.com or
//     https://outlook.office365.com: both, with or without a trailing
//     slash, and the appId 00000002-0000-0ff1-ce00-000000000000 are
//     accepted.
//   - Graph sendMail without recipients: 400 ErrorInvalidRecipients "At
//     least one recipient is not valid."
//
// Where the Backend has no model, the stricter reading is taken and said:
//
//   - Delegated access to another user's or a shared mailbox needs the
//     user's own FullAccess there (Backend.UserAccess): XOAUTH2 user= may
//     name it for IMAP and POP, EWS may open it, Graph needs the .Shared
//     scopes too; SendAs lets the user send as it.
//   - Backend.Mailbox looks up by any SMTP proxy address, UPN or the owner's
//     object id.
//   - RBAC for Applications (AppAccess.RBAC) stands in for a missing Entra
//     permission on SMTP, EWS and Graph mail; IMAP and POP have no RBAC
//     role.
//   - Each mailbox has one folder, the Inbox. Nothing is ever deleted: POP3
//     DELE and IMAP \Deleted only mark for the session; Graph's
//     saveToSentItems is accepted and ignored.
//   - IMAP BODYSTRUCTURE/BODY describe single-part messages; a multipart one
//     gets "BAD Command Argument Error. 11" rather than a wrong structure.
package exchange
