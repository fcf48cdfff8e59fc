// Package explain turns what Microsoft answers into what an administrator can
// act on: AADSTS codes from the identity platform, Microsoft Graph error
// codes, and the exact reply lines of Exchange Online's IMAP, POP3, SMTP and
// EWS front ends. Each becomes an Explanation: a cause in plain words and a
// fix, either a Graph change the tool can make now (FixAction) or the exact
// PowerShell line with the tenant's real values filled in (FixCommand).
//
// Diagnosis is never confidently wrong: Exchange Online's causes are given
// only for Exchange's own full replies from a server that is, or may be,
// Exchange Online (IdentifyServer reads the greeting); standard replies
// (RFC 5530, 3206, 4954) get what the standard says and what the token
// carried; anything else is reported as not recognised, with its text.
// When Exchange's state was read (MailContext.Exchange, ExchangeFacts) the
// cause is stated as a fact instead of ranked guesses. Every value in a
// fix command is a PowerShell single-quoted literal (internal/pwsh).
//
// Text explains pasted text (mailoauth explain) from the same tables.
//
// Facts come from microsoft.md §7–§15 and the problem list in peers.md; the
// package itself has no network code and no dependencies beyond catalog,
// cloud (whose transport marks proxy failures for network.go) and pwsh.
package explain

import (
	"strings"
)

// Explanation is the cause of one failure and how to fix it.
type Explanation struct {
	// Code is Microsoft's code for the failure ("AADSTS7000215",
	// "Authorization_RequestDenied", "535 5.7.139") or, for conditions
	// Microsoft gives no code, a stable mailoauth key ("imap-not-connected").
	Code string `json:"code"`
	// Title is one short line for a result table.
	Title string `json:"title"`
	// Cause says why it happened, in plain words.
	Cause string `json:"cause"`
	// Fix says what to do.
	Fix string `json:"fix"`
	// FixCommand is the exact Exchange Online PowerShell (or other command)
	// to run, with values filled in; lines are separated by "\n".
	FixCommand string `json:"fix_command,omitempty"`
	// FixAction names a change mailoauth can make itself through Graph, for
	// the UI to offer as a button (see the Action constants).
	FixAction Action `json:"fix_action,omitempty"`
	// Retryable is true when the same request may succeed later without any
	// change (replication delay, throttling, a service hiccup).
	Retryable bool `json:"retryable"`
	// Link is Microsoft's page for the code, when there is one.
	Link string `json:"link,omitempty"`
	// Alternatives are further possible causes, most likely first, when one
	// reply has several (IMAP "User is authenticated but not connected.").
	Alternatives []Explanation `json:"alternatives,omitempty"`
	// Facts are the pieces of Exchange Online's own state (MailContext.
	// Exchange) the cause rests on, e.g. "Get-CASMailbox x: ImapEnabled
	// False"; empty when the cause is read from the reply alone.
	Facts []string `json:"facts,omitempty"`
}

// Action is a fix mailoauth can apply through Microsoft Graph.
type Action string

const (
	ActionGrantConsent       Action = "grant-consent"       // admin consent: oauth2PermissionGrant / appRoleAssignedTo
	ActionAddPermission      Action = "add-permission"      // add the missing permission to requiredResourceAccess, then consent
	ActionNewSecret          Action = "new-secret"          // addPassword and update the product's settings
	ActionAllowPublicClient  Action = "allow-public-client" // isFallbackPublicClient = true
	ActionDisablePublicFlows Action = "disallow-public-client"
	ActionAddRedirectURI     Action = "add-redirect-uri" // add the product's redirect URI to the app
	ActionAssignUser         Action = "assign-user"      // appRoleAssignedTo with the default role for the user
	ActionCreateSP           Action = "create-service-principal"
	ActionRetry              Action = "retry" // wait and try again: replication delay
)

// String is "Title: Cause Fix", for logs and plain-text output.
func (e Explanation) String() string {
	var b strings.Builder
	if e.Code != "" {
		b.WriteString(e.Code)
		b.WriteString(": ")
	}
	b.WriteString(e.Title)
	if e.Cause != "" {
		b.WriteString(". ")
		b.WriteString(e.Cause)
	}
	if e.Fix != "" {
		b.WriteString(" Fix: ")
		b.WriteString(e.Fix)
	}
	if e.FixCommand != "" {
		b.WriteString("\n")
		b.WriteString(e.FixCommand)
	}
	return b.String()
}

// IsZero reports whether nothing is explained.
func (e Explanation) IsZero() bool { return e.Code == "" && e.Title == "" && e.Cause == "" }
