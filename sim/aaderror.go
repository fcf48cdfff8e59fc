package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// aadError is an identity-platform error in Entra's JSON shape
// (microsoft.md §7 "Token-endpoint error JSON").
type aadError struct {
	status   int
	err      string // error: invalid_request, invalid_grant, invalid_client, ...
	code     int    // AADSTS number
	msg      string // description without the AADSTS prefix and trace lines
	suberror string
}

func (e *aadError) Error() string { return fmt.Sprintf("%s: AADSTS%d: %s", e.err, e.code, e.msg) }

func aad(status int, errCode string, code int, format string, args ...any) *aadError {
	return &aadError{status: status, err: errCode, code: code, msg: fmt.Sprintf(format, args...)}
}

// description is Entra's error_description: the AADSTS text, then trace,
// correlation and timestamp lines.
func (e *aadError) description(trace, corr string, now time.Time) string {
	return "AADSTS" + strconv.Itoa(e.code) + ": " + e.msg + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr +
		"\r\nTimestamp: " + now.UTC().Format("2006-01-02 15:04:05Z")
}

func writeAAD(w http.ResponseWriter, r *http.Request, e *aadError) {
	now := time.Now()
	trace := newID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	body := map[string]any{
		"error":             e.err,
		"error_description": e.description(trace, corr, now),
		"error_codes":       []int{e.code},
		"timestamp":         now.UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.code),
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("x-ms-request-id", trace)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

// The errors the token endpoint answers with. Texts follow Entra's own
// wording where it is known (microsoft.md §7-§8, reference-error-codes).

func errUnknownTenant(t string) *aadError {
	return aad(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", t)
}

func errUnknownClient(appID, tenantName string) *aadError {
	return aad(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", appID, tenantName)
}

func errSecretRequired() *aadError {
	return aad(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errBadSecret(appID string) *aadError {
	return aad(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", appID)
}

func errExpiredSecret(appID string) *aadError {
	return aad(401, "invalid_client", 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", appID)
}

func errPublicClientSecret() *aadError {
	return aad(401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
}

func errNoConsent(appID, name string) *aadError {
	e := aad(400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", appID, name)
	e.suberror = "consent_required"
	return e
}

func errNotAssigned(appID, name, upn string) *aadError {
	return aad(400, "invalid_grant", 50105, "Your administrator has configured the application %s ('%s') to block users unless they are specifically granted ('assigned') access to the application. The signed in user '%s' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator. Please contact your administrator to assign access to this application.", name, appID, upn)
}

func errMFA(resource string) *aadError {
	e := aad(400, "invalid_grant", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", resource)
	e.suberror = "basic_action"
	return e
}

func errBlockedByConditionalAccess() *aadError {
	return aad(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
}

func errBadPassword() *aadError {
	return aad(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
}

func errUnknownUser(domain string) *aadError {
	return aad(400, "invalid_grant", 50034, "The user account {EUII Hidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory.", domain)
}

func errUserBlocked() *aadError {
	return aad(400, "invalid_grant", 50057, "The user account is disabled.")
}

func errCommonNotSupported() *aadError {
	return aad(400, "invalid_request", 9001023, "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
}

// errSingleTenant is 50194 as Entra words it: the app id, then its name in
// parentheses.
func errSingleTenant(appID, name string) *aadError {
	return aad(400, "invalid_request", 50194, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", appID, name)
}

// errAppDisabled is 7000112 (UnauthorizedClientApplicationDisabled, "The
// application is disabled.", ED reference-error-codes). Entra words it
// "Application '<appId>'(<name>) is disabled." in field reports; the same
// answer is given for a deactivated app (isDisabled), whose own code and
// wording Microsoft has not published (UNVERIFIED).
func errAppDisabled(appID, name string) *aadError {
	return aad(400, "unauthorized_client", 7000112, "Application '%s'(%s) is disabled.", appID, name)
}

func errMissingParam(name string) *aadError {
	return aad(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

// errInvalidScope is 70011 in the words of Microsoft's own sample
// response (ED v2-oauth2-auth-code-flow / client-creds "Error response").
func errInvalidScope(scope string) *aadError {
	return aad(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)
}

// errMultiResource: two resources in one v2.0 scope is AADSTS28000,
// "Provided value for the input parameter scope is not valid because it
// contains more than one resource. Scope <scopes> is not valid." (field
// reports quoting Entra; microsoft.md §15.3).
func errMultiResource(scope string) *aadError {
	return aad(400, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", scope)
}

func errFirstPartyNotPreauthorized(client, resource string) *aadError {
	return aad(400, "invalid_grant", 65002, "Consent between first party application '%s' and first party resource '%s' must be configured via preauthorization - applications owned and operated by Microsoft must get approval from the API owner before requesting tokens for that API.", client, resource)
}

func errResourceNotFound(res, tenantName string) *aadError {
	return aad(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", res, tenantName)
}

func errMissingClientSP(appID, tenantID string) *aadError {
	return aad(400, "invalid_client", 7000229, "The client application %s is missing service principal in the tenant %s.", appID, tenantID)
}

func errMalformed(what string) *aadError {
	return aad(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid. %s", what)
}

func errInvalidGrant(code int, format string, args ...any) *aadError {
	return aad(400, "invalid_grant", code, format, args...)
}

func errRedirectMismatch(uri, appID string) *aadError {
	return aad(400, "invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", uri, appID)
}

func splitScopes(s string) []string { return strings.Fields(s) }
