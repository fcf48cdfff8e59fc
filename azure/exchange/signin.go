package exchange

import (
	"context"
	"errors"

	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/token"
)

// Session is the administrator signed in to Exchange Online: a second
// sign-in beside the Graph one, because Graph's client cannot get Exchange
// tokens. It is azure/signin's device code (browser + PKCE when Conditional
// Access blocks device code, AADSTS53003) with the module's client ID and
// the Exchange resource's /.default scope: one resource per token request.
type Session struct {
	s   *signin.Session
	upn string
	tid string
}

// SignIn signs the admin in for the Exchange admin endpoint. o is the Graph
// sign-in's options (cloud, tenant, HTTP client with the trace, device-code
// prompt, browser settings); ClientID and Scopes are replaced by ClientID
// and Scope(o.Cloud). Pass the tenant ID the Graph sign-in found, so both
// sign-ins reach the same tenant.
func SignIn(ctx context.Context, o signin.Options) (*Session, error) {
	o.ClientID = ClientID
	o.Scopes = []string{Scope(o.Cloud)}
	s, err := signin.SignIn(ctx, o)
	if err != nil {
		return nil, err
	}
	sess := &Session{s: s, upn: s.Username(), tid: s.TenantID()}
	// The anchor mailbox is the token's upn, as the module takes it
	// (AuthInfo.UserPrincipalName); the account's name is the fallback.
	if tok, err := s.Token(ctx); err == nil {
		if c, err := token.Decode(tok); err == nil {
			if c.UPN != "" {
				sess.upn = c.UPN
			}
			if c.TenantID != "" {
				sess.tid = c.TenantID
			}
		}
	}
	return sess, nil
}

// UPN is the signed-in admin's user principal name (X-AnchorMailbox).
func (s *Session) UPN() string { return s.upn }

// TenantID is the tenant GUID the token is for.
func (s *Session) TenantID() string { return s.tid }

// Method is how the admin signed in.
func (s *Session) Method() signin.Method { return s.s.Method() }

// Token is the TokenFunc for Options.Token. azure/signin's session renews
// silently from MSAL's cache (a new token within five minutes of expiry)
// but has no forced refresh, so fresh asks again and gets what MSAL has:
// a 401 for a token Exchange revoked early (CAE) then stays a 401.
func (s *Session) Token(ctx context.Context, fresh bool) (string, error) {
	return s.s.Token(ctx)
}

// NewClient is New for a signed-in session.
func NewClient(o Options, s *Session) (*Client, error) {
	if s == nil {
		return nil, errors.New("exchange: no session")
	}
	o.Token = s.Token
	if o.Anchor == "" {
		o.Anchor = s.upn
	}
	if o.Tenant == "" {
		o.Tenant = s.tid
	}
	return New(o)
}
