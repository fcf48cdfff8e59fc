package sim

import (
	"slices"
	"strings"
	"time"
)

// resolvedResource is the one API a token request names.
type resolvedResource struct {
	sp       *servicePrincipal
	audience string // the identifier as requested, without a trailing slash
}

// scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	raw   string
	res   *resolvedResource
	named []string          // permission values on res
	dflt  bool              // <resource>/.default
	oidc  []string          // openid, profile, email, offline_access
	asked map[string]string // permission value -> the scope string as requested
}

func (r scopeRequest) has(oidc string) bool { return slices.Contains(r.oidc, oidc) }

var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

// resourceFor maps an identifier URI or appId to a resource service
// principal of the tenant (caller holds s.mu).
func (s *view) resourceFor(id string) *resolvedResource {
	aud := strings.TrimRight(id, "/")
	switch strings.ToLower(aud) {
	case "https://graph.microsoft.com", GraphAppID:
		return &resolvedResource{sp: s.spByAppID(GraphAppID), audience: aud}
	case "https://outlook.office.com", "https://outlook.office365.com", "https://ps.outlook.com", EXOAppID:
		return &resolvedResource{sp: s.spByAppID(EXOAppID), audience: aud}
	}
	return nil
}

// parseScopes checks a scope parameter the way Entra does: one resource per
// request, .default never mixed with named scopes, names that exist.
func (s *view) parseScopes(raw string, clientCredentials bool) (scopeRequest, *aadError) {
	req := scopeRequest{raw: raw, asked: map[string]string{}}
	fields := splitScopes(raw)
	if len(fields) == 0 {
		return req, errMissingParam("scope")
	}
	for _, f := range fields {
		if oidcScopes[strings.ToLower(f)] {
			if clientCredentials {
				continue // MSAL adds them; Entra ignores them here
			}
			req.oidc = append(req.oidc, strings.ToLower(f))
			continue
		}
		resID, value := "https://graph.microsoft.com", f
		if i := strings.LastIndex(f, "/"); i >= 0 {
			resID, value = f[:i], f[i+1:]
		}
		res := s.resourceFor(resID)
		if res == nil || res.sp == nil {
			return req, errResourceNotFound(resID, s.Name)
		}
		if req.res != nil && req.res.sp != res.sp {
			if clientCredentials {
				return req, errInvalidScope(raw)
			}
			// The v2.0 endpoint names this AADSTS28000 (field reports).
			return req, errMultiResource(raw)
		}
		if req.res == nil {
			req.res = res
		}
		if value == ".default" {
			req.dflt = true
			continue
		}
		if clientCredentials {
			return req, aad(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", raw)
		}
		ps, ok := res.sp.scope(value)
		if !ok {
			return req, errInvalidScope(raw)
		}
		if !slices.Contains(req.named, ps.Value) {
			req.named = append(req.named, ps.Value)
			req.asked[ps.Value] = f
		}
	}
	if req.dflt && len(req.named) > 0 {
		e := errInvalidScope(raw)
		e.msg += " .default scope can't be combined with resource-specific scopes."
		return req, e
	}
	if clientCredentials && !req.dflt {
		return req, errMissingParam("scope")
	}
	if req.res == nil {
		// Only OpenID Connect scopes: the access token is for Graph.
		req.res = &resolvedResource{sp: s.spByAppID(GraphAppID), audience: "https://graph.microsoft.com"}
	}
	return req, nil
}

// client is the application asking for a token.
type client struct {
	appID      string
	name       string
	firstParty bool
	app        *application      // tenant app; nil for first-party
	sp         *servicePrincipal // the client's service principal, if any
	secret     bool              // authenticated with a client secret in this request
}

// firstParty is a Microsoft public client known in every tenant: the one
// resource it is preauthorized for, and its fixed scopes (nil = any
// delegated scope of that resource, consented on the sign-in page).
type firstParty struct {
	name     string
	resource string
	scopes   []string
}

var firstParties = map[string]firstParty{
	GraphCLIClientID:           {"Microsoft Graph Command Line Tools", GraphAppID, nil},
	AzureCLIClientID:           {"Microsoft Azure CLI", GraphAppID, azureCLIScopes},
	ExchangePowerShellClientID: {"Microsoft Exchange REST API Based PowerShell", EXOAppID, exoPowerShellScopes},
}

// lookupClient finds the client application as the token endpoint sees it
// (caller holds s.mu): replication delay applies to new apps.
func (s *view) lookupClient(appID, tenantSeg string, now time.Time) (*client, *aadError) {
	if appID == "" {
		return nil, errMissingParam("client_id")
	}
	if fp, ok := firstParties[strings.ToLower(appID)]; ok {
		return &client{appID: strings.ToLower(appID), name: fp.name, firstParty: true}, nil
	}
	a := s.appByAppID(appID)
	// Another tenant's app is known here only when it is multi-tenant
	// (its service principal, if any, is looked up below).
	if a == nil || now.Sub(a.created) < s.delays.AppToToken || a.home != s.tenant && a.SignInAudience == "AzureADMyOrg" {
		return nil, errUnknownClient(appID, s.Name)
	}
	if a.SignInAudience == "AzureADMyOrg" && isMultiTenantSegment(tenantSeg) {
		return nil, errSingleTenant(a.AppID, a.DisplayName)
	}
	sp := s.spByAppID(a.AppID)
	// A deactivated app (isDisabled) and a service principal with sign-in
	// disabled (accountEnabled false) get no tokens (learn
	// deactivate-app-registration; ED error codes, 7000112).
	if a.IsDisabled != nil && *a.IsDisabled || sp != nil && !sp.AccountEnabled {
		return nil, errAppDisabled(a.AppID, a.DisplayName)
	}
	return &client{appID: a.AppID, name: a.DisplayName, app: a, sp: sp}, nil
}

func isMultiTenantSegment(t string) bool {
	t = strings.ToLower(t)
	return t == "common" || t == "organizations"
}

// checkSecret authenticates a confidential client by its secret.
func (s *Server) checkSecret(c *client, secret string, now time.Time) *aadError {
	if c.firstParty {
		return errPublicClientSecret()
	}
	h := hashSecret(secret)
	for _, p := range c.app.PasswordCredentials {
		if p.hash != h {
			continue
		}
		if now.Sub(p.created) < s.delays.SecretToToken {
			return errBadSecret(c.appID) // not replicated yet
		}
		if now.After(p.EndDateTime) {
			return errExpiredSecret(c.appID)
		}
		return nil
	}
	return errBadSecret(c.appID)
}

// delegatedScopes decides which of the requested delegated permissions the
// token carries: only what was consented (caller holds s.mu).
func (s *view) delegatedScopes(c *client, u *user, req scopeRequest, now time.Time) ([]string, *aadError) {
	res := req.res
	if c.firstParty {
		fp := firstParties[c.appID]
		if res.sp.AppID != fp.resource {
			return nil, errFirstPartyNotPreauthorized(c.appID, res.sp.AppID)
		}
		if fp.scopes != nil {
			for _, n := range req.named {
				if !slices.Contains(fp.scopes, n) {
					return nil, errFirstPartyNotPreauthorized(c.appID, res.sp.AppID)
				}
			}
			if req.dflt || len(req.named) == 0 {
				return withOIDC(append([]string(nil), fp.scopes...), req), nil
			}
			return withOIDC(req.named, req), nil
		}
		// Graph Command Line Tools: the user approved the listed scopes on
		// the sign-in page, which is their consent. Scopes that need an
		// admin ("type": "Admin") need a user who may consent to them, or
		// an admin's tenant-wide grant to the client's service principal.
		if !s.mayConsentAdminScopes(u) {
			granted := s.consentedScopes(s.spByAppID(c.appID), res.sp, u, now)
			for _, n := range req.named {
				if ps, _ := res.sp.scope(n); ps.Type == "Admin" && !granted[ps.Value] {
					return nil, errNoConsent(c.appID, c.name)
				}
			}
		}
		if req.dflt || len(req.named) == 0 {
			return withOIDC([]string{"User.Read"}, req), nil
		}
		return withOIDC(req.named, req), nil
	}
	if c.sp != nil && c.sp.AppRoleAssignmentRequired && !s.userAssigned(u, c.sp) {
		return nil, errNotAssigned(c.appID, c.name, u.UPN)
	}
	consented := s.consentedScopes(c.sp, res.sp, u, now)
	var out []string
	if req.dflt {
		for _, ps := range res.sp.OAuth2PermissionScopes {
			if consented[ps.Value] && !oidcScopes[ps.Value] {
				out = append(out, ps.Value)
			}
		}
		if len(out) == 0 {
			return nil, errNoConsent(c.appID, c.name)
		}
		return out, nil
	}
	for _, n := range req.named {
		if !consented[n] {
			return nil, errNoConsent(c.appID, c.name)
		}
		out = append(out, n)
	}
	if len(out) == 0 && res.sp.AppID != GraphAppID {
		return nil, errNoConsent(c.appID, c.name)
	}
	return withOIDC(out, req), nil
}

// consentedScopes are the delegated permissions on res that client's
// grants (tenant-wide or for u) carry at now: consent not yet replicated
// is not there (caller holds s.mu).
func (s *view) consentedScopes(client, res *servicePrincipal, u *user, now time.Time) map[string]bool {
	consented := map[string]bool{}
	if client == nil {
		return consented
	}
	for _, g := range s.grants {
		if g.ClientID != client.ID || g.ResourceID != res.ID {
			continue
		}
		if g.ConsentType != "AllPrincipals" && (g.PrincipalID == nil || !strings.EqualFold(*g.PrincipalID, u.ID)) {
			continue
		}
		for _, v := range splitScopes(g.effectiveScope(now, s.delays.Consent)) {
			if ps, ok := res.scope(v); ok {
				consented[ps.Value] = true
			}
		}
	}
	return consented
}

// withOIDC adds the OpenID scopes a Graph token shows in scp.
func withOIDC(scopes []string, req scopeRequest) []string {
	out := append([]string(nil), scopes...)
	if req.res.sp.AppID != GraphAppID {
		return out
	}
	for _, o := range []string{"openid", "profile", "email"} {
		if req.has(o) && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

func (s *view) userAssigned(u *user, sp *servicePrincipal) bool {
	for _, a := range s.assigns {
		if a.ResourceID == sp.ID && strings.EqualFold(a.PrincipalID, u.ID) {
			return true
		}
	}
	return false
}

// appRoles are the application permissions of an app-only token: the client
// SP's app role assignments on the resource (caller holds s.mu). While a
// new assignment replicates (Delays.Consent) it is simply not there: the
// token comes without that role, or without roles at all, which is what
// is widely observed, rather than an AADSTS65001 (microsoft.md §15.3).
func (s *view) appRoles(c *client, req scopeRequest, now time.Time) ([]string, *aadError) {
	var roles []string
	for _, id := range sortedKeys(s.assigns) {
		a := s.assigns[id]
		if a.PrincipalID != c.sp.ID || a.ResourceID != req.res.sp.ID || now.Sub(a.created) < s.delays.Consent {
			continue
		}
		if r, ok := req.res.sp.role(a.AppRoleID); ok && !slices.Contains(roles, r.Value) {
			roles = append(roles, r.Value)
		}
	}
	return roles, nil
}

// checkUserPassword is ROPC's user check; interactive flows skip MFA.
func (s *view) checkUserPassword(name, password string, ropc bool, resource string) (*user, *aadError) {
	u := s.userByName(name)
	if u == nil {
		domain := s.DefaultDomain
		if i := strings.LastIndex(name, "@"); i >= 0 {
			domain = name[i+1:]
		}
		return nil, errUnknownUser(domain)
	}
	if u.Blocked {
		return nil, errUserBlocked()
	}
	if u.Password == "" || password != u.Password {
		return nil, errBadPassword()
	}
	if ropc && u.MFA {
		return nil, errMFA(resource)
	}
	return u, nil
}

// mayConsentAdminScopes: consenting to delegated permissions that need an
// admin is a Cloud Application Administrator task (microsoft.md §5).
func (s *view) mayConsentAdminScopes(u *user) bool {
	return s.hasRole(u, RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudAppAdmin, RoleAppAdmin)
}

// needsAdminApproval reports whether a first-party sign-in asks for admin
// scopes this user cannot consent to (the page's "Need admin approval").
func (s *view) needsAdminApproval(clientAppID, scope string, u *user) bool {
	if clientAppID != GraphCLIClientID || s.mayConsentAdminScopes(u) {
		return false
	}
	req, e := s.parseScopes(scope, false)
	if e != nil {
		return false
	}
	for _, n := range req.named {
		if ps, _ := req.res.sp.scope(n); ps.Type == "Admin" {
			return true
		}
	}
	return false
}
