package sim

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Admin consent (/{tenant}/adminconsent): an administrator signs in and
// grants everything in the app's requiredResourceAccess to the whole tenant.

func (s *view) adminConsent(w http.ResponseWriter, r *http.Request, tenant string) {
	q := r.URL.Query()
	app, ok := s.consentApp(w, q, tenant)
	if !ok {
		return
	}
	if s.opts.AutoApprove != "" {
		s.mu.Lock()
		who := s.autoApprover().UPN
		s.mu.Unlock()
		s.finishConsent(w, r, q, who)
		return
	}
	s.consentForm(w, tenant, q, app, 200, "")
}

func (s *view) consentApp(w http.ResponseWriter, q url.Values, tenant string) (*application, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.lookupClient(q.Get("client_id"), tenant, time.Now())
	if e == nil && c.firstParty {
		e = errFirstPartyNotPreauthorized(c.appID, GraphAppID)
	}
	if e == nil && q.Get("redirect_uri") != "" && !redirectMatches(append(append([]string{}, c.app.Web.RedirectURIs...), c.app.PublicClient.RedirectURIs...), q.Get("redirect_uri")) {
		e = errRedirectMismatch(q.Get("redirect_uri"), c.appID)
	}
	if e != nil {
		s.renderPageLocked(w, 400, page{Title: "Sorry, but we're having trouble signing you in.", Error: "AADSTS" + itoa(e.code) + ": " + e.msg})
		return nil, false
	}
	return c.app, true
}

func (s *view) renderPageLocked(w http.ResponseWriter, status int, p page) {
	s.mu.Unlock()
	defer s.mu.Lock()
	s.renderPage(w, status, p)
}

func (s *view) consentForm(w http.ResponseWriter, tenant string, q url.Values, app *application, status int, errText string) {
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "scope"} {
		if v := q.Get(k); v != "" {
			hidden[k] = v
		}
	}
	s.mu.Lock()
	var perms []scopeItem
	for _, n := range s.requestedPermissionNames(app) {
		perms = append(perms, scopeItem{Name: n})
	}
	s.mu.Unlock()
	s.renderPage(w, status, page{Title: "Permissions requested - accept for your organization", Error: errText, Form: true,
		Action: "/" + tenant + "/adminconsent", Tenant: s.Name, Hidden: hidden, App: app.DisplayName, Scopes: perms,
		Users: s.signInUsers(""), Verb: "approve", Button: "Accept", Decline: "Cancel"})
}

// requestedPermissionNames lists requiredResourceAccess as "Resource: value (type)".
func (s *view) requestedPermissionNames(app *application) []string {
	var out []string
	for _, rra := range app.RequiredResourceAccess {
		res := s.spByAppID(rra.ResourceAppID)
		if res == nil {
			continue
		}
		for _, ra := range rra.ResourceAccess {
			if ra.Type == "Role" {
				if r, ok := res.role(ra.ID); ok {
					out = append(out, res.DisplayName+": "+r.Value+" (application)")
				}
			} else {
				for _, ps := range res.OAuth2PermissionScopes {
					if strings.EqualFold(ps.ID, ra.ID) {
						out = append(out, res.DisplayName+": "+ps.Value+" (delegated)")
					}
				}
			}
		}
	}
	return out
}

func (s *view) adminConsentPost(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderPage(w, 400, page{Title: "Admin consent", Error: "The form could not be read."})
		return
	}
	q := r.PostForm
	app, ok := s.consentApp(w, q, tenant)
	if !ok {
		return
	}
	if q.Get("action") == "decline" {
		s.consentResult(w, r, q, url.Values{"error": {"permission_denied"}, "error_description": {"AADSTS65004: The administrator declined to consent."}})
		return
	}
	s.mu.Lock()
	u, e := s.checkUserPassword(q.Get("upn"), q.Get("password"), false, "")
	s.mu.Unlock()
	if e != nil {
		s.consentForm(w, tenant, q, app, 400, "AADSTS"+itoa(e.code)+": "+e.msg)
		return
	}
	s.finishConsent(w, r, q, u.UPN)
}

// finishConsent grants the app's required permissions as upn.
func (s *view) finishConsent(w http.ResponseWriter, r *http.Request, q url.Values, upn string) {
	s.mu.Lock()
	err := s.grantRequired(q.Get("client_id"), upn)
	s.mu.Unlock()
	if err != nil {
		s.consentResult(w, r, q, url.Values{"error": {"permission_denied"}, "error_description": {err.Error()}})
		return
	}
	s.consentResult(w, r, q, url.Values{"tenant": {s.ID}, "admin_consent": {"True"}})
}

func (s *view) consentResult(w http.ResponseWriter, r *http.Request, q url.Values, v url.Values) {
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	if q.Get("redirect_uri") != "" {
		redirectWith(w, r, q.Get("redirect_uri"), v)
		return
	}
	if v.Get("error") != "" {
		s.renderPage(w, 403, page{Title: "Consent not granted", Error: v.Get("error_description")})
		return
	}
	s.renderPage(w, 200, page{Title: "Permissions granted", Message: "Admin consent was granted for the whole organization. You may now close this window."})
}

type consentError struct{ msg string }

func (e consentError) Error() string { return e.msg }

// grantRequired makes the app's service principal if needed, one
// AllPrincipals grant per resource for its delegated permissions, and app
// role assignments for its application permissions (caller holds s.mu).
func (s *view) grantRequired(appID, upn string) error {
	u := s.userByName(upn)
	a := s.appByAppID(appID)
	if u == nil || a == nil {
		return consentError{"AADSTS700016: Application with identifier '" + appID + "' was not found in the directory."}
	}
	if !s.hasRole(u, RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudAppAdmin, RoleAppAdmin) {
		return consentError{"AADSTS90094: The grant requires admin permission."}
	}
	for _, rra := range a.RequiredResourceAccess {
		res := s.spByAppID(rra.ResourceAppID)
		if res == nil {
			continue
		}
		for _, ra := range rra.ResourceAccess {
			if ra.Type == "Role" && res.AppID == GraphAppID && !s.hasRole(u, RoleGlobalAdmin, RolePrivilegedRoleAdmin) {
				return consentError{"AADSTS90094: Granting Microsoft Graph application permissions requires a Privileged Role Administrator or Global Administrator."}
			}
		}
	}
	now := time.Now()
	sp := s.spByAppID(a.AppID)
	if sp == nil {
		sp = &servicePrincipal{ID: newID(), AppID: a.AppID, DisplayName: a.DisplayName, AccountEnabled: true, AppOwnerOrganizationID: a.home.ID,
			ServicePrincipalType: "Application", ServicePrincipalNames: []string{a.AppID}, SignInAudience: a.SignInAudience, created: now}
		s.sps[sp.ID] = sp
	}
	for _, rra := range a.RequiredResourceAccess {
		res := s.spByAppID(rra.ResourceAppID)
		if res == nil {
			continue
		}
		var scopes []string
		for _, ra := range rra.ResourceAccess {
			if ra.Type == "Role" {
				if _, ok := res.role(ra.ID); !ok || s.hasAssignment(sp.ID, res.ID, ra.ID) {
					continue
				}
				x := &appRoleAssignment{ID: opaqueID(), AppRoleID: strings.ToLower(ra.ID), CreatedDateTime: now.UTC().Truncate(time.Second),
					PrincipalDisplayName: sp.DisplayName, PrincipalID: sp.ID, PrincipalType: "ServicePrincipal",
					ResourceDisplayName: res.DisplayName, ResourceID: res.ID, created: now}
				s.assigns[x.ID] = x
				continue
			}
			for _, ps := range res.OAuth2PermissionScopes {
				if strings.EqualFold(ps.ID, ra.ID) {
					scopes = append(scopes, ps.Value)
				}
			}
		}
		if len(scopes) == 0 {
			continue
		}
		var existing *permissionGrant
		for _, g := range s.grants {
			if g.ClientID == sp.ID && g.ResourceID == res.ID && g.ConsentType == "AllPrincipals" {
				existing = g
			}
		}
		if existing == nil {
			g := &permissionGrant{ID: opaqueID(), ClientID: sp.ID, ConsentType: "AllPrincipals", ResourceID: res.ID, Scope: strings.Join(scopes, " "), created: now}
			s.grants[g.ID] = g
			continue
		}
		have := splitScopes(existing.Scope)
		for _, sc := range scopes {
			if !containsFold(have, sc) {
				have = append(have, sc)
			}
		}
		existing.setScope(strings.Join(have, " "), now, s.delays.Consent)
	}
	return nil
}

func (s *view) hasAssignment(principal, resource, role string) bool {
	for _, a := range s.assigns {
		if a.PrincipalID == principal && a.ResourceID == resource && strings.EqualFold(a.AppRoleID, role) {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
