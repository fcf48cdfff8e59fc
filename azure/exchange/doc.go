// Package exchange is mailoauth's client for Exchange Online administration:
// the cmdlets a mail setup needs (service principal registration, mailbox
// permissions, protocol switches, the EWS allow-list, RBAC for
// Applications), run without PowerShell.
//
// THIS IS NOT A DOCUMENTED MICROSOFT API. The transport is the REST endpoint
// the ExchangeOnlineManagement v3 module itself uses,
// POST https://<exchange host>/adminapi/beta/<tenant>/InvokeCommand, with a
// delegated token from the module's public client. Its wire format is taken
// from the module's own generated code and open-source clients of it
// (docs/exchange-admin-api.md, with sources). As Vasil Michev warns,
// "none of these methods are officially supported
// by Microsoft … Changes can happen at any time, and will be undocumented"
// (michev.info post 5822). Errors are therefore read defensively: an answer
// that matches no known shape is reported as Unknown with Exchange's exact
// text.
//
// The transport sits behind Invoker. Microsoft's documented Exchange Online
// Admin API (adminapi/v2.0, preview since 2025-11, docs/exchange-admin-api.md
// §7) uses the same CmdletInput envelope but covers none of the cmdlets here
// yet; when it does, a v2.0 Invoker (permission Exchange.ManageV2, its own
// endpoint names) replaces Client and nothing above Invoker changes:
// Command, the typed outputs, Admin and azure/exchangesetup stay as they are.
//
// Sign-in: SignIn is azure/signin's device code (browser + PKCE fallback)
// with ClientID and the cloud's Exchange resource (Scope). The signed-in
// user needs Exchange Administrator or Global Administrator in Entra ID, or
// Organization Management in Exchange; a refusal is an *Error of Kind
// AccessDenied that says so (RoleFix).
package exchange
