package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AADError is the identity platform's token-endpoint error (microsoft.md §7):
// {"error":"invalid_client","error_description":"AADSTS7000215: ...",
// "error_codes":[7000215],"trace_id":"...","correlation_id":"..."}.
type AADError struct {
	Codes         []int  `json:"error_codes,omitempty"`
	Err           string `json:"error"`
	Description   string `json:"error_description,omitempty"`
	TraceID       string `json:"trace_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	// Status is the HTTP status, when known (0 otherwise).
	Status int `json:"status,omitempty"`
	// SubError is MSAL's suberror (e.g. "consent_required"), when present.
	SubError string `json:"suberror,omitempty"`
}

// Error is the first line of the description ("AADSTS7000215: Invalid
// client secret provided. ..."), without the trace and correlation ids.
func (e *AADError) Error() string {
	d := e.Description
	if i := strings.IndexAny(d, "\r\n"); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSpace(d)
	if d == "" {
		if code := e.Code(); code != 0 {
			return fmt.Sprintf("AADSTS%d: %s", code, e.Err)
		}
		return e.Err
	}
	return d
}

// Code is the first AADSTS code, or 0. When error_codes is missing it is read
// from the description's "AADSTSnnnn:" prefix.
func (e *AADError) Code() int {
	if len(e.Codes) > 0 {
		return e.Codes[0]
	}
	if m := aadstsInText.FindStringSubmatch(e.Description); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// Explain is the explanation of the first code (or of the OAuth error
// string when there is no code).
func (e *AADError) Explain() Explanation {
	if c := e.Code(); c != 0 {
		return AADSTS(c)
	}
	return oauthError(e.Err, e.Description)
}

var (
	aadstsInText = regexp.MustCompile(`AADSTS(\d{4,9})`)
	statusInText = regexp.MustCompile(`reply status code was (\d{3})`)
)

// ParseAADBody parses a token-endpoint error body. It reports false when the
// body is not such an error (no "error" member).
func ParseAADBody(body []byte) (*AADError, bool) {
	var raw struct {
		Err           string          `json:"error"`
		Description   string          `json:"error_description"`
		Codes         json.RawMessage `json:"error_codes"`
		TraceID       string          `json:"trace_id"`
		CorrelationID string          `json:"correlation_id"`
		SubError      string          `json:"suberror"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &raw); err != nil || raw.Err == "" {
		return nil, false
	}
	e := &AADError{Err: raw.Err, Description: raw.Description, TraceID: raw.TraceID, CorrelationID: raw.CorrelationID, SubError: raw.SubError}
	// error_codes is an array of numbers; tolerate a bad shape instead of
	// losing the whole error.
	var codes []int
	if json.Unmarshal(raw.Codes, &codes) == nil {
		e.Codes = codes
	}
	if len(e.Codes) == 0 {
		if c := e.Code(); c != 0 {
			e.Codes = []int{c}
		}
	}
	return e, true
}

// ParseAAD finds the token endpoint's JSON error inside an error from MSAL Go.
// MSAL returns text like `http call(https://.../token)(POST) error: reply
// status code was 401:\n{"error":"invalid_client",...}`, possibly wrapped;
// the first JSON object with an "error" member is parsed. Without JSON, an
// "AADSTSnnnn:" in the text is still recognised.
func ParseAAD(err error) (*AADError, bool) {
	if err == nil {
		return nil, false
	}
	var ae *AADError
	if errors.As(err, &ae) {
		return ae, true
	}
	text := err.Error()
	status := 0
	if m := statusInText.FindStringSubmatch(text); m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '{' {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		var obj json.RawMessage
		if dec.Decode(&obj) != nil {
			continue
		}
		if e, ok := ParseAADBody(obj); ok {
			e.Status = status
			return e, true
		}
		i += int(dec.InputOffset()) - 1
	}
	if m := aadstsInText.FindStringSubmatch(text); m != nil {
		n, _ := strconv.Atoi(m[1])
		desc := text[strings.Index(text, m[0]):]
		return &AADError{Codes: []int{n}, Err: "error", Description: desc, Status: status}, true
	}
	return nil, false
}

// aadEntry is one row of the AADSTS table.
type aadEntry struct {
	title, cause, fix string
	action            Action
	retryable         bool
}

// aadTable is microsoft.md §8, including "Others worth mapping", plus the
// device-code polling codes of §7.
var aadTable = map[int]aadEntry{
	7000215: {"Invalid client secret", "The client secret sent is not valid: the secret ID was used instead of its value, the value was mistyped, or the secret was created moments ago and has not reached every sign-in server yet.", "Copy the secret's value (shown only once when it was created), not its ID. If the secret is brand new, wait a minute and try again; if it keeps failing, create a new secret.", ActionNewSecret, true},
	7000222: {"Client secret expired", "The application's client secret is past its expiry date.", "Create a new client secret and put its value into the product's settings.", ActionNewSecret, false},
	7000218: {"App is not a public client", "The request carries no client secret or assertion, so the app must allow public client flows (device code, ROPC without a secret), and it does not.", "Turn on \"Allow public client flows\" for the app (isFallbackPublicClient = true), or have the product send the client secret.", ActionAllowPublicClient, false},
	700016:  {"Application not found in the tenant", "No app with this client id exists in this tenant: a wrong client id, the wrong tenant in the authority URL, a single-tenant app used from another tenant, or an app created moments ago that has not replicated yet.", "Check the client id and tenant id in the product's settings. Right after creating the app, wait a minute and try again.", ActionRetry, true},
	700024:  {"Client assertion outside its valid time", "The certificate or JWT client assertion has expired or is not yet valid, usually clock skew.", "Synchronise the computer's clock (NTP) and build a new assertion.", "", false},
	65001:   {"No consent", "Neither the user nor an administrator has consented to the permissions this app asks for (or consent was given moments ago and has not replicated yet).", "Grant admin consent for the app's permissions on the right resource (Office 365 Exchange Online for IMAP/POP/SMTP/EWS). Right after granting it, wait a minute and try again.", ActionGrantConsent, true},
	50076:   {"Multi-factor authentication required", "The user must complete MFA (Conditional Access, per-user MFA or a location rule), which the password (ROPC) flow cannot do.", "Use a flow that signs the user in interactively (authorization code or device code) instead of user name and password, or exclude this mailbox account from the MFA policy if your security policy allows.", "", false},
	50079:   {"MFA registration required", "The user must register for multi-factor authentication before signing in.", "Have the user sign in once interactively and complete security-info registration.", "", false},
	50126:   {"Wrong user name or password", "The user name or password is wrong.", "Check the mailbox user's name and password (passwords with leading or trailing spaces are not supported by ROPC).", "", false},
	50034:   {"User not found", "The account does not exist in this tenant's directory.", "Check the user principal name and the tenant; invite the user as a guest if that is intended.", "", false},
	50020:   {"User not in this tenant", "The user's identity provider account does not exist in this tenant.", "Use the tenant-specific authority (not /common), or invite the user as a B2B guest.", "", false},
	53003:   {"Blocked by Conditional Access", "A Conditional Access policy blocked this sign-in (for example a block on device code flow or on legacy clients).", "Check the sign-in logs in Entra ID for the policy that applied, and exclude this app or flow if appropriate.", "", false},
	90002:   {"Tenant not found", "The tenant id or domain does not exist in this cloud: a typo, or a cross-cloud mismatch (the global authority used for a GCC High or China tenant).", "Check the tenant id and choose the tenant's cloud (--cloud).", "", false},
	90038:   {"Tenant is in another cloud", "The tenant belongs to a different national cloud than the authority used.", "Choose the tenant's cloud (--cloud usgov-high, usgov-dod or china).", "", false},
	500011:  {"Resource not found in the tenant", "The resource (API) of the requested scope has no service principal in this tenant: a wrong scope or resource URI, or Exchange Online is not provisioned here.", "Check the scope (https://outlook.office365.com/.default for app-only Exchange) and that the tenant has Exchange Online.", "", false},
	9002313: {"Malformed request", "The request to the identity platform was malformed or had invalid parameters.", "Check the request's parameters and encoding.", "", false},
	70011:   {"Invalid scope", "The scope string is not valid: for example /.default mixed with named scopes, scopes of two resources in one request, or a wrong resource prefix.", "Request scopes of one resource at a time: https://outlook.office365.com/.default for app-only Exchange, https://outlook.office.com/IMAP.AccessAsUser.All etc. for delegated.", "", false},
	50105:   {"User not assigned to the app", "The app requires assignment (appRoleAssignmentRequired) and this user is not assigned.", "Assign the user to the enterprise application.", ActionAssignUser, false},
	650056:  {"Permission not configured", "The app registration does not list the permission being requested, or it is not consented.", "Add the permission to the app registration and grant admin consent.", ActionAddPermission, false},
	650057:  {"Permission not listed on the app", "The requested resource/permission is not in the app registration's API permissions.", "Add the permission to the app registration and grant admin consent.", ActionAddPermission, false},
	65004:   {"User declined consent", "The user declined the consent prompt.", "Sign in again and accept, or have an administrator grant consent for the organisation.", ActionGrantConsent, false},
	700025:  {"Public client sent a secret", "The app is a public client, but a client secret was sent.", "Do not send a client secret for this flow, or turn off \"Allow public client flows\" if the product is a confidential (web) client.", ActionDisablePublicFlows, false},
	28000:   {"Scope names more than one resource", "One token request named scopes of two resources, e.g. https://outlook.office.com/IMAP.AccessAsUser.All and https://graph.microsoft.com/Mail.Read; Entra's v2.0 endpoint answers \"Provided value for the input parameter scope is not valid because it contains more than one resource\".", "Request one resource per token: the Exchange scopes (https://outlook.office.com/... delegated, https://outlook.office365.com/.default app-only) in one request, Microsoft Graph's in another; offline_access, openid and profile may go with either.", "", false},
	7000229: {"App has no service principal in this tenant", "The app has no service principal (enterprise application) in this tenant, so the identity platform issues it no token: \"The client application ... is missing service principal in the tenant ...\". Client credentials need one in the tenant whose data they reach; since 2026-03-31 every tenant that uses a multi-tenant app needs its own.", "Create the app's service principal in this tenant (Graph POST /servicePrincipals with the appId, az ad sp create --id <appId>, or grant admin consent, which creates it), then grant admin consent for its permissions.", ActionCreateSP, false},
	1002012: {"Scope not valid for client credentials", "The client-credentials request named a permission (such as IMAP.AccessAsApp or https://outlook.office365.com/IMAP.AccessAsApp) or a scope without its resource; client credentials accept only the resource's /.default scope: \"Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)\".", "Configure the product's scope as https://outlook.office365.com/.default for IMAP, POP, SMTP and EWS (https://graph.microsoft.com/.default for Graph mail); the application permissions come from admin consent, not from the scope.", "", false},
	700022:  {"Scope names more than one resource", "One token request asked for scopes of two resources (for example Graph and Exchange together).", "Request a separate token for each resource.", "", false},
	9001023: {"Flow not supported on /common", "This grant (e.g. ROPC) is not supported on the /common or /consumers endpoints.", "Use the tenant-specific authority https://login.microsoftonline.com/<tenant id>.", "", false},
	90124:   {"Resource not supported on this endpoint", "The resource or grant is not supported on /common or /consumers.", "Use the tenant-specific authority.", "", false},
	90130:   {"Not supported on this endpoint", "The request is not supported on the /common or /consumers endpoints.", "Use the tenant-specific authority.", "", false},
	50194:   {"Single-tenant app used via /common", "A single-tenant app was used with the /common endpoint.", "Use the tenant-specific authority https://login.microsoftonline.com/<tenant id>.", "", false},
	54005:   {"Authorization code already redeemed", "The authorization code was already exchanged for a token.", "Start the sign-in again; redeem each code once.", "", false},
	700082:  {"Refresh token expired", "The refresh token expired after a period of inactivity.", "Sign in again in the product to get a new refresh token.", "", false},
	50173:   {"Tokens revoked", "The user's tokens were revoked (password change or admin revocation).", "Sign in again in the product.", "", false},
	530035:  {"Blocked by security defaults", "The tenant's security defaults blocked this sign-in.", "Use an interactive flow with MFA, or review the tenant's security defaults.", "", false},
	65002:   {"First-party app not preauthorized", "A Microsoft first-party client (e.g. Azure CLI) asked for scopes it is not preauthorized for.", "Sign in with a client that can request these scopes (mailoauth uses Microsoft Graph Command Line Tools).", "", false},
	70016:   {"Waiting for the user", "The device-code sign-in has not been completed yet.", "Finish the sign-in in the browser with the code shown.", "", true},
	70018:   {"Bad device code", "The device code is not valid.", "Start the device-code sign-in again.", "", false},
	70019:   {"Device code expired", "The device code expired before the sign-in was completed.", "Start the device-code sign-in again and finish it within 15 minutes.", "", false},
	50011:   {"Redirect URI mismatch", "The redirect URI of the request is not registered on the app.", "Add the product's redirect URI to the app registration (the right platform: Web or Mobile and desktop).", ActionAddRedirectURI, false},
	50053:   {"Account locked", "The account is locked after too many failed sign-ins, or the sign-in was blocked as malicious.", "Wait and sign in again; check Entra ID sign-in logs.", "", false},
	50055:   {"Password expired", "The user's password has expired.", "Have the user change the password, then update the product.", "", false},
	50057:   {"Account disabled", "The user account is disabled.", "Enable the account, or use another mailbox user.", "", false},
	7000112: {"Application disabled", "The application or its service principal is disabled.", "Enable the enterprise application (accountEnabled = true).", "", false},
	700027:  {"Client assertion signature invalid", "The certificate used for the client assertion is not registered on the app.", "Upload the certificate's public key to the app registration.", "", false},
}

// AADSTS explains one AADSTS code. Unknown codes get a generic explanation
// with Microsoft's error lookup link.
func AADSTS(code int) Explanation {
	link := fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code)
	e, ok := aadTable[code]
	if !ok {
		return Explanation{
			Code:  fmt.Sprintf("AADSTS%d", code),
			Title: "Sign-in failed",
			Cause: fmt.Sprintf("The identity platform refused the request with AADSTS%d.", code),
			Fix:   "Look the code up at " + link + " and check the Entra ID sign-in logs with the trace id.",
			Link:  link,
		}
	}
	return Explanation{
		Code:      fmt.Sprintf("AADSTS%d", code),
		Title:     e.title,
		Cause:     e.cause,
		Fix:       e.fix,
		FixAction: e.action,
		Retryable: e.retryable,
		Link:      link,
	}
}

// AADSTSFor explains a code with the flow and values of a login test, so
// the fix names the app, the tenant and the permission.
func AADSTSFor(code int, ctx MailContext) Explanation {
	e := AADSTS(code)
	app := orPlaceholder(ctx.AppID, "application (client) id")
	switch code {
	case 65001, 650056, 650057:
		if ctx.AppOnly() {
			e.Fix = fmt.Sprintf("Grant admin consent for the application permissions of app %s (an app role assignment on Office 365 Exchange Online for IMAP/POP/SMTP/EWS, on Microsoft Graph for Graph mail). Right after granting, wait a minute and try again.", app)
		} else {
			e.Fix = fmt.Sprintf("Grant admin consent for the delegated permissions of app %s (an AllPrincipals oauth2PermissionGrant on Office 365 Exchange Online for IMAP/POP/SMTP/EWS, on Microsoft Graph for Graph mail), or let the user consent once interactively. Right after granting, wait a minute and try again.", app)
		}
	case 7000215, 7000222:
		e.Fix += fmt.Sprintf(" (az ad app credential reset --id %s --append creates one from the Azure CLI.)", app)
	case 700016:
		e.Fix = fmt.Sprintf("Check that app %s exists in tenant %s (client id and tenant id in the product's settings). Right after creating the app, wait a minute and try again.", app, orPlaceholder(ctx.TenantID, "tenant id"))
	case 7000229:
		e.Fix = fmt.Sprintf("Create the service principal of app %s in tenant %s (Graph POST /servicePrincipals {\"appId\":\"%s\"}, az ad sp create --id %s, or grant admin consent, which creates it), then grant admin consent for its permissions.", app, orPlaceholder(ctx.TenantID, "tenant id"), app, app)
	case 1002012:
		e.Fix = "Configure the product's scope as " + appOnlyScopes + "; the application permissions come from admin consent, not from the scope."
	case 7000218:
		e.Fix = fmt.Sprintf("Turn on \"Allow public client flows\" for app %s (Authentication → Advanced settings; Graph: isFallbackPublicClient = true), or send the client secret.", app)
	case 50076:
		if ctx.Mailbox != "" {
			e.Cause = fmt.Sprintf("%s must complete multi-factor authentication, which the user name + password (ROPC) flow cannot do.", ctx.Mailbox)
		}
	}
	return e
}

// appOnlyScopes are the client-credentials scopes of mail access.
const appOnlyScopes = "https://outlook.office365.com/.default for IMAP, POP, SMTP and EWS (https://graph.microsoft.com/.default for Graph mail)"

// oauthError explains a token error that has no AADSTS code.
func oauthError(errCode, desc string) Explanation {
	e := Explanation{Code: errCode, Title: "Token request failed", Cause: firstLine(desc)}
	switch errCode {
	case "authorization_declined":
		e.Title, e.Cause, e.Fix = "Sign-in declined", "The user declined the sign-in.", "Start the sign-in again and approve it."
	case "expired_token":
		e.Title, e.Cause, e.Fix = "Device code expired", "The device code expired before the sign-in was completed.", "Start the sign-in again and finish it within the time shown."
	case "authorization_pending", "slow_down":
		e.Title, e.Cause, e.Fix, e.Retryable = "Waiting for the user", "The sign-in has not been completed yet.", "Finish the sign-in in the browser.", true
	case "temporarily_unavailable":
		e.Title, e.Fix, e.Retryable = "Identity platform temporarily unavailable", "Try again in a minute.", true
	case "invalid_client":
		e.Title, e.Fix = "Client authentication failed", "Check the client id and the client secret."
	case "invalid_grant":
		e.Title, e.Fix = "Grant refused", "Check the credentials, consent and the user's sign-in requirements."
	default:
		if e.Cause == "" {
			e.Cause = "The identity platform refused the request with " + errCode + "."
		}
		e.Fix = "Check the Entra ID sign-in logs for details."
	}
	return e
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
