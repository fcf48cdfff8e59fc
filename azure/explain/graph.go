package explain

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// GraphError is a Microsoft Graph error response (microsoft.md §4):
// {"error":{"code":"...","message":"...","details":[{"code":"..."}],
// "innerError":{"date":"...","request-id":"..."}}}.
type GraphError struct {
	Status     int    `json:"status"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	DetailCode string `json:"detail_code,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Date       string `json:"date,omitempty"`
}

// Error is "Graph 403 Authorization_RequestDenied: Insufficient privileges ...".
func (e *GraphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Graph %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.DetailCode != "" && e.DetailCode != e.Code {
		b.WriteString(" (" + e.DetailCode + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + firstLine(e.Message))
	}
	if e.RequestID != "" {
		b.WriteString(" [request-id " + e.RequestID + "]")
	}
	return b.String()
}

// ParseGraphBody reads a Graph error body. A body that is not Graph's error
// shape still gives an error with the status (ok is then false).
func ParseGraphBody(status int, body []byte) (*GraphError, bool) {
	var raw struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Code string `json:"code"`
			} `json:"details"`
			InnerError map[string]any `json:"innerError"`
		} `json:"error"`
	}
	e := &GraphError{Status: status}
	if json.Unmarshal(body, &raw) != nil || raw.Error.Code == "" {
		e.Code = http.StatusText(status)
		return e, false
	}
	e.Code, e.Message = raw.Error.Code, raw.Error.Message
	if len(raw.Error.Details) > 0 {
		e.DetailCode = raw.Error.Details[0].Code
	}
	if s, ok := raw.Error.InnerError["request-id"].(string); ok {
		e.RequestID = s
	}
	if s, ok := raw.Error.InnerError["date"].(string); ok {
		e.Date = s
	}
	return e, true
}

// Operation names what mailoauth was doing, so Authorization_RequestDenied
// can name the directory role the admin needs (microsoft.md §5).
type Operation string

const (
	OpCreateApp            Operation = "create-app"
	OpCreateSP             Operation = "create-service-principal"
	OpAddSecret            Operation = "add-secret"
	OpGrantDelegated       Operation = "grant-delegated"         // oauth2PermissionGrants
	OpGrantExchangeAppRole Operation = "grant-exchange-app-role" // appRoleAssignedTo on Office 365 Exchange Online
	OpGrantGraphAppRole    Operation = "grant-graph-app-role"    // appRoleAssignedTo on Microsoft Graph
	OpAssignUser           Operation = "assign-user"
	OpReadUser             Operation = "read-user"
	OpMail                 Operation = "mail" // Graph mail: /users/{id}/messages, sendMail
)

// roleFor is the least-privileged Entra role for an operation (microsoft.md §5).
var roleFor = map[Operation]string{
	OpCreateApp:            "Application Developer, Cloud Application Administrator or Application Administrator",
	OpCreateSP:             "Cloud Application Administrator or Application Administrator",
	OpAddSecret:            "Cloud Application Administrator or Application Administrator (or ownership of the app)",
	OpGrantDelegated:       "Cloud Application Administrator (least privileged) or Application Administrator",
	OpGrantExchangeAppRole: "Cloud Application Administrator (least privileged) or Application Administrator",
	OpGrantGraphAppRole:    "Privileged Role Administrator or Global Administrator (consent to Microsoft Graph application permissions)",
	OpAssignUser:           "Cloud Application Administrator or Application Administrator",
	OpReadUser:             "any role with User.Read.All (e.g. Directory Readers)",
}

// Graph explains a Graph error.
func Graph(e *GraphError) Explanation { return GraphFor(e, "", MailContext{}) }

// GraphFor explains a Graph error for an operation, with the login test's
// values for Graph mail errors.
func GraphFor(e *GraphError, op Operation, ctx MailContext) Explanation {
	return graphExplain(e, op, ctx, "Mail.Read (to read) or Mail.Send (to send)")
}

// GraphMail explains a Graph mail check's error (GraphRead or GraphSend),
// naming the exact permission the protocol needs under the flow.
func GraphMail(p catalog.Protocol, e *GraphError, ctx MailContext) Explanation {
	return graphExplain(e, OpMail, ctx, protocolPermission(p, ctx.Flow))
}

func graphExplain(e *GraphError, op Operation, ctx MailContext, mailPerm string) Explanation {
	if e == nil {
		return Explanation{}
	}
	code := e.Code
	x := Explanation{Code: code, Title: "Microsoft Graph request failed", Cause: firstLine(e.Message)}
	msg := strings.ToLower(e.Message)
	switch {
	case code == "Authorization_RequestDenied":
		x.Title = "Not allowed"
		x.Cause = "The signed-in administrator lacks the directory role or the Graph permission this operation needs."
		if role, ok := roleFor[op]; ok {
			x.Fix = "Sign in as a user with the " + role + " role, or ask one to do this step."
		} else {
			x.Fix = "Sign in as an administrator with a sufficient role (Cloud Application Administrator for apps and Exchange permissions; Privileged Role Administrator or Global Administrator for Microsoft Graph application permissions)."
		}
	case code == "Request_BadRequest" && (e.DetailCode == "NoBackingApplicationObject" || strings.Contains(msg, "does not reference a valid application object") || strings.Contains(msg, "backing application of the service principal")):
		x.Code = "NoBackingApplicationObject"
		x.Title = "App not replicated yet"
		x.Cause = "The app was created moments ago and the directory has not replicated it, so its service principal cannot be created yet."
		x.Fix = "Wait a few seconds and retry (mailoauth retries this automatically)."
		x.FixAction, x.Retryable = ActionRetry, true
	case strings.Contains(msg, "claim is invalid") || strings.Contains(msg, "does not exist on resource application"):
		x.Code = "PermissionNotPublished"
		x.Title = "Permission not published by the API"
		x.Cause = "A permission id sent to Graph is not among the resource's published app roles or scopes in this tenant (a hard-coded id that is wrong or out of date): " + firstLine(e.Message)
		x.Fix = "Resolve the permission by its name from the resource's service principal (appRoles / oauth2PermissionScopes) in this tenant and try again."
	case strings.Contains(msg, "credential lifetime exceeds"):
		x.Code = "CredentialLifetimePolicy"
		x.Title = "Secret lifetime too long for the tenant's policy"
		x.Cause = "An app management policy limits how long client secrets may live: " + firstLine(e.Message)
		x.Fix = "Choose a shorter secret lifetime (e.g. 180, 90 or 30 days) and try again."
		x.FixAction = ActionNewSecret
	case code == "Request_ResourceNotFound":
		x.Title = "Object not found (yet)"
		x.Cause = "The object does not exist, or it was created moments ago and has not replicated yet."
		x.Fix = "If it was just created, wait and retry (mailoauth retries with backoff); otherwise check the id."
		x.Retryable = true
	case code == "Request_UnsupportedQuery":
		x.Title = "Query not supported"
		x.Cause = "Graph did not accept the query ($filter/$search/$orderby) as sent."
		x.Fix = "This is a mailoauth defect; please report it with the request id."
	case code == "InvalidAuthenticationToken":
		x.Title = "Token not accepted by Graph"
		x.Cause = "The access token is missing, expired, for another audience, or from another cloud."
		x.Fix = "Sign in again; make sure the token is for " + "https://graph.microsoft.com" + " (not Exchange) and from the tenant's cloud."
	case code == "ErrorAccessDenied":
		x.Title = "Mailbox access denied"
		if ctx.AppOnly() {
			x.Cause = "The app's token has no Graph Mail application permission (roles), or an Exchange application access policy / RBAC for Applications scope excludes this mailbox."
			x.Fix = fmt.Sprintf("Add the Microsoft Graph application permission %s and grant admin consent; if access is scoped, add %s to the scope (Test-ApplicationAccessPolicy / Test-ServicePrincipalAuthorization show it).", mailPerm, orPlaceholder(ctx.Mailbox, "mailbox"))
			x.FixCommand = ctx.script(fmt.Sprintf("Test-ServicePrincipalAuthorization -Identity %s -Resource %s", ctx.spID(), ctx.mailbox()))
		} else {
			x.Cause = "The delegated token has no Graph Mail permission (scp), or the mailbox is not the signed-in user's own."
			x.Fix = fmt.Sprintf("Add the Microsoft Graph delegated permission %s and grant consent; delegated Graph mail reaches only the signed-in user's mailbox.", mailPerm)
		}
		x.FixAction = ActionAddPermission
	case code == "MailboxNotEnabledForRESTAPI":
		x.Title = "No Exchange Online mailbox"
		x.Cause = fmt.Sprintf("%s has no active Exchange Online mailbox: no Exchange licence, soft-deleted, or hosted on-premises.", orPlaceholder(ctx.Mailbox, "The user"))
		x.Fix = "Assign a licence that includes Exchange Online (e.g. Exchange Online Plan 1) and wait for the mailbox, or use another mailbox."
	case e.Status == http.StatusTooManyRequests || code == "TooManyRequests":
		x.Title, x.Cause, x.Fix, x.Retryable = "Throttled", "Graph is throttling requests.", "Wait for the Retry-After time and try again (automatic).", true
	case e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout || e.Status == http.StatusBadGateway:
		x.Title, x.Cause, x.Fix, x.Retryable = "Graph temporarily unavailable", fmt.Sprintf("Graph answered %d %s.", e.Status, http.StatusText(e.Status)), "Try again shortly (automatic).", true
	case e.Status == http.StatusForbidden:
		x.Title, x.Fix = "Forbidden", "Check the signed-in account's role and the app's permissions."
	default:
		if x.Cause == "" {
			x.Cause = fmt.Sprintf("Graph answered %d %s.", e.Status, http.StatusText(e.Status))
		}
		x.Fix = "See the message; the request id identifies the call for Microsoft support."
	}
	return x
}
