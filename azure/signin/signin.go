// Package signin signs the administrator in to the identity platform with
// MSAL Go as a public client: device code first, and the browser with a
// loopback redirect and PKCE when a tenant blocks device code (AADSTS53003).
// Tokens stay in MSAL's in-memory cache; Session.Token refreshes silently.
package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/pkg/browser"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

// DefaultClientID is Microsoft Graph Command Line Tools, a public client that
// accepts any Graph delegated scope by dynamic consent (microsoft.md §6).
const DefaultClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// Needs says which Graph operations the plan will run, so the sign-in asks
// for nothing more (microsoft.md §5).
type Needs struct {
	// AppRoles: application permissions are consented (appRoleAssignedTo).
	AppRoles bool
	// AssignUsers: mailbox users are assigned to the enterprise app.
	AssignUsers bool
	// DelegatedConsent: delegated permissions are consented (oauth2PermissionGrants).
	DelegatedConsent bool
	// ReadUsers: mailbox users are looked up and their licences checked.
	ReadUsers bool
}

// Scopes are the fully qualified Graph scopes for the needs, each the least
// Microsoft documents for the calls it serves (docs/graph-permissions.md):
// User.Read, Application.ReadWrite.All and RoleManagement.Read.Directory
// (without it the admin's role objects come back without their template
// IDs) always; AppRoleAssignment.ReadWrite.All for app roles or user
// assignment; DelegatedPermissionGrant.ReadWrite.All for delegated consent
// (it also lists the grants); User.Read.All to check mailboxes. MSAL adds
// openid, profile and offline_access itself.
func Scopes(c cloud.Cloud, n Needs) []string {
	names := []string{"User.Read", "Application.ReadWrite.All", "RoleManagement.Read.Directory"}
	if n.AppRoles || n.AssignUsers {
		names = append(names, "AppRoleAssignment.ReadWrite.All")
	}
	if n.DelegatedConsent {
		names = append(names, "DelegatedPermissionGrant.ReadWrite.All")
	}
	if n.ReadUsers {
		names = append(names, "User.Read.All")
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = c.GraphScope(n)
	}
	return out
}

// DeviceCodePrompt is what the wizard shows while it waits.
type DeviceCodePrompt struct {
	UserCode        string
	VerificationURL string
	// Message is the identity platform's own sentence ("To sign in, use a
	// web browser to open the page ... and enter the code ...").
	Message   string
	ExpiresOn time.Time
}

// Method is how the admin signed in.
type Method string

const (
	MethodDeviceCode Method = "device-code"
	MethodBrowser    Method = "browser"
)

// Options configure a sign-in.
type Options struct {
	Cloud cloud.Cloud
	// Tenant is a tenant GUID or verified domain; empty means "organizations"
	// (any work or school account; the home tenant is learnt from the token).
	Tenant string
	// ClientID defaults to DefaultClientID.
	ClientID string
	// Scopes are the Graph scopes to request (see Scopes). Required.
	Scopes []string
	// HTTPClient carries the cloud's roots and the trace; nil builds one
	// from Cloud without a trace.
	HTTPClient *http.Client
	// OnDeviceCode is called once with the code to show. Required unless
	// Browser is set.
	OnDeviceCode func(DeviceCodePrompt)
	// OpenBrowser opens the device-code verification page with the system
	// browser (the code still has to be typed there).
	OpenBrowser bool
	// Browser skips device code and signs in with the browser (loopback
	// redirect + PKCE) straight away.
	Browser bool
	// NoBrowserFallback turns off the automatic browser sign-in when device
	// code is blocked by policy.
	NoBrowserFallback bool
	// OpenURL opens the browser sign-in URL; nil uses the system browser.
	OpenURL func(url string) error
	// OnFallback is told why device code gave way to the browser sign-in.
	OnFallback func(reason error)
}

// Session is a signed-in administrator.
type Session struct {
	client   public.Client
	scopes   []string
	mu       sync.Mutex
	account  public.Account
	username string
	tenantID string
	method   Method
	// authority is where the session signs in, for error messages.
	authority string
}

// Username is the signed-in admin's UPN.
func (s *Session) Username() string { return s.username }

// TenantID is the home tenant of the signed-in account.
func (s *Session) TenantID() string { return s.tenantID }

// Method is how the admin signed in.
func (s *Session) Method() Method { return s.method }

// Scopes are the scopes requested.
func (s *Session) Scopes() []string { return append([]string(nil), s.scopes...) }

// Error is a sign-in failure with Microsoft's code and the fix.
type Error struct {
	Step        string // "device code", "browser sign-in", "token refresh"
	AAD         *explain.AADError
	Explanation explain.Explanation
	Err         error
}

func (e *Error) Error() string {
	// A network failure or a refused redirect is already one sentence
	// saying what failed and the fix; the chain of MSAL's wrappers
	// ("unable to resolve an endpoint: server response error: Get ...")
	// would only bury it.
	var ce *explain.ConnectionError
	if errors.As(e.Err, &ce) {
		return ce.Error()
	}
	var re *cloud.RedirectError
	if errors.As(e.Err, &re) {
		return fmt.Sprintf("sign-in (%s) stopped: %s", e.Step, re.Error())
	}
	var he *cloud.CredentialHostError
	if errors.As(e.Err, &he) {
		return fmt.Sprintf("sign-in (%s) stopped: %s", e.Step, he.Error())
	}
	if e.AAD != nil {
		msg := fmt.Sprintf("sign-in (%s) failed: %s", e.Step, e.AAD.Error())
		if e.Explanation.Fix != "" {
			msg += ". Fix: " + e.Explanation.Fix
		}
		return msg
	}
	return fmt.Sprintf("sign-in (%s) failed: %v", e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrExpired is returned when nobody entered the device code in time.
var ErrExpired = errors.New("the device code expired before the sign-in was completed; start again and enter the code within its lifetime")

// wrap makes a sign-in failure an *Error: Microsoft's AADSTS answer with
// its fix, or a connection failure to the identity platform at authority
// explained in one sentence (explain.Connection), or the error as it is.
func wrap(step, authority string, err error) error {
	if err == nil {
		return nil
	}
	if aad, ok := explain.ParseAAD(err); ok {
		return &Error{Step: step, AAD: aad, Explanation: aad.Explain(), Err: err}
	}
	var ce *explain.ConnectionError
	if errors.As(explain.Connection(explain.ServiceIdentity, authority, err), &ce) {
		return &Error{Step: step, Explanation: ce.Explanation, Err: ce}
	}
	return &Error{Step: step, Err: err}
}

// tenantSegment is what may follow the authority host: a GUID, a domain or
// one of the identity platform's keywords. Anything else never reaches MSAL.
var tenantSegment = regexp.MustCompile(`^(?i)(organizations|common|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]([a-z0-9-]{0,61}[a-z0-9])?)$`)

// Authority is the MSAL authority for a cloud and tenant.
func Authority(c cloud.Cloud, tenant string) string {
	if strings.TrimSpace(tenant) == "" {
		tenant = "organizations"
	}
	return c.Authority(strings.TrimSpace(tenant))
}

// needsNoInstanceDiscovery: MSAL only knows Microsoft's own hosts; a lab or
// the simulator must not be checked against Microsoft's discovery endpoint.
func needsNoInstanceDiscovery(c cloud.Cloud) bool {
	if c.Name == "custom" {
		return true
	}
	u, err := url.Parse(c.AuthorityHost)
	return err != nil || cloud.IsLoopback(u.Hostname())
}

// NewClient builds the MSAL public client for a cloud and tenant.
func NewClient(o Options) (public.Client, error) {
	clientID := o.ClientID
	if clientID == "" {
		clientID = DefaultClientID
	}
	hc := o.HTTPClient
	if hc == nil {
		var err error
		if hc, err = o.Cloud.HTTPClient(nil); err != nil {
			return public.Client{}, err
		}
	}
	opts := []public.Option{public.WithAuthority(Authority(o.Cloud, o.Tenant)), public.WithHTTPClient(hc)}
	if needsNoInstanceDiscovery(o.Cloud) {
		opts = append(opts, public.WithInstanceDiscovery(false))
	}
	return public.New(clientID, opts...)
}

// SignIn signs the admin in: device code (shown through OnDeviceCode), or
// the browser when asked or when device code is blocked by policy. It returns
// when the sign-in completes, ctx is cancelled, or the code expires.
func SignIn(ctx context.Context, o Options) (*Session, error) {
	if len(o.Scopes) == 0 {
		return nil, errors.New("signin: no scopes requested")
	}
	if t := strings.TrimSpace(o.Tenant); t != "" && !tenantSegment.MatchString(t) {
		return nil, fmt.Errorf("tenant: %q is not accepted; accepted: the tenant ID (a GUID), a verified domain such as contoso.onmicrosoft.com, or organizations", o.Tenant)
	}
	if !o.Browser && o.OnDeviceCode == nil {
		return nil, errors.New("signin: OnDeviceCode is required for device code sign-in")
	}
	client, err := NewClient(o)
	if err != nil {
		return nil, fmt.Errorf("sign-in setup (authority %s): %w", Authority(o.Cloud, o.Tenant), err)
	}
	s := &Session{client: client, scopes: append([]string(nil), o.Scopes...), authority: Authority(o.Cloud, o.Tenant)}
	if !o.Browser {
		res, err := s.deviceCode(ctx, o)
		if err == nil {
			s.adopt(res, MethodDeviceCode)
			return s, nil
		}
		if o.NoBrowserFallback || !DeviceCodeBlocked(err) || ctx.Err() != nil {
			return nil, err
		}
		if o.OnFallback != nil {
			o.OnFallback(err)
		}
	}
	res, err := s.browser(ctx, o)
	if err != nil {
		return nil, err
	}
	s.adopt(res, MethodBrowser)
	return s, nil
}

func (s *Session) deviceCode(ctx context.Context, o Options) (public.AuthResult, error) {
	dc, err := s.client.AcquireTokenByDeviceCode(ctx, s.scopes)
	if err != nil {
		return public.AuthResult{}, wrap("device code", s.authority, err)
	}
	prompt := DeviceCodePrompt{UserCode: dc.Result.UserCode, VerificationURL: dc.Result.VerificationURL, Message: dc.Result.Message, ExpiresOn: dc.Result.ExpiresOn}
	o.OnDeviceCode(prompt)
	if o.OpenBrowser && prompt.VerificationURL != "" {
		// Failing to open a browser is not fatal: the code is on screen.
		_ = openURL(o, prompt.VerificationURL)
	}
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return public.AuthResult{}, &Error{Step: "device code", Err: ErrExpired}
		}
		if ctx.Err() != nil {
			return public.AuthResult{}, ctx.Err()
		}
		werr := wrap("device code", s.authority, err)
		var se *Error
		if errors.As(werr, &se) && se.AAD != nil && (se.AAD.Err == "expired_token" || se.AAD.Code() == 70019) {
			se.Err = fmt.Errorf("%w (%v)", ErrExpired, err)
		}
		return public.AuthResult{}, werr
	}
	return res, nil
}

func openURL(o Options, u string) error {
	if o.OpenURL != nil {
		return o.OpenURL(u)
	}
	return browser.OpenURL(u)
}

func (s *Session) browser(ctx context.Context, o Options) (public.AuthResult, error) {
	opts := []public.AcquireInteractiveOption{public.WithOpenURL(func(u string) error { return openURL(o, u) })}
	res, err := s.client.AcquireTokenInteractive(ctx, s.scopes, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return public.AuthResult{}, ctx.Err()
		}
		return public.AuthResult{}, wrap("browser sign-in", s.authority, err)
	}
	return res, nil
}

func (s *Session) adopt(res public.AuthResult, m Method) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account = res.Account
	s.username = res.Account.PreferredUsername
	s.tenantID = res.Account.Realm
	if res.IDToken.TenantID != "" {
		s.tenantID = res.IDToken.TenantID
	}
	s.method = m
}

// DeviceCodeBlocked reports whether a device-code failure is a policy block
// (Conditional Access 53003 and its family) that the browser sign-in may pass.
func DeviceCodeBlocked(err error) bool {
	var se *Error
	if errors.As(err, &se) && se.AAD != nil {
		for _, c := range se.AAD.Codes {
			switch c {
			case 53003, 53000, 53001, 53002, 50097:
				return true
			}
		}
		return se.AAD.Err == "access_denied" && strings.Contains(strings.ToLower(se.AAD.Description), "conditional access")
	}
	if aad, ok := explain.ParseAAD(err); ok {
		return aad.Code() == 53003
	}
	return false
}

// Token returns a Graph access token for the session's scopes, refreshing it
// silently with the cached refresh token when it is near expiry.
func (s *Session) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	acc := s.account
	s.mu.Unlock()
	res, err := s.client.AcquireTokenSilent(ctx, s.scopes, public.WithSilentAccount(acc))
	if err != nil {
		return "", wrap("token refresh", s.authority, fmt.Errorf("%w (sign in again)", err))
	}
	return res.AccessToken, nil
}

// TokenSource is the function graphapi takes.
func (s *Session) TokenSource() func(context.Context) (string, error) { return s.Token }
