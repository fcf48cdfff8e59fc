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
//   - SMTP 550 5.7.60 at MAIL FROM: an app-only login needs SendAs or
//     FullAccess on the sender's mailbox (AppAccess of the MAIL FROM
//     address); a delegated login may send only as its own mailbox.
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
//   - Delegated access to another user's or a shared mailbox (Exchange
//     allows it with FullAccess for the signed-in user): Backend keeps no
//     per-user mailbox permissions, so XOAUTH2 user= must name the token's
//     own mailbox (else the login fails like a bad token), EWS answers
//     ErrorAccessDenied and Graph 403 ErrorAccessDenied.
//   - Backend.Mailbox looks up by address or UPN, not object id: Graph's
//     /users/{id} resolves the delegated caller's own oid and otherwise
//     whatever the Backend resolves.
//   - SMTP through Exchange RBAC only (no SMTP.SendAsApp role in the token,
//     microsoft.md §11): not modelled; such a token fails with 535 5.7.3.
//   - Each mailbox has one folder, the Inbox. Nothing is ever deleted: POP3
//     DELE and IMAP \Deleted only mark for the session; Graph's
//     saveToSentItems is accepted and ignored.
//   - IMAP BODYSTRUCTURE/BODY describe single-part messages; a multipart one
//     gets "BAD Command Argument Error. 11" rather than a wrong structure.
package exchange
