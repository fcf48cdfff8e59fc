package sim

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

func spView(sp *servicePrincipal) *servicePrincipal {
	v := *sp
	if v.AppRoles == nil {
		v.AppRoles = []appRole{}
	}
	if v.OAuth2PermissionScopes == nil {
		v.OAuth2PermissionScopes = []permissionScope{}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.ReplyURLs == nil {
		v.ReplyURLs = []string{}
	}
	return &v
}

func (s *view) routeServicePrincipals(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	m := r.Method
	n := len(segs)
	if n == 3 && (segs[2].name == "appRoleAssignedTo" || segs[2].name == "appRoleAssignments") || n == 4 && segs[2].name == "appRoleAssignedTo" {
		return s.routeAssignments(r, c, q, segs)
	}
	op := map[string]graphOp{http.MethodGet: opSPGet, http.MethodPatch: opSPUpdate, http.MethodDelete: opSPDelete}[m]
	if n == 1 {
		op = map[string]graphOp{http.MethodGet: opSPList, http.MethodPost: opSPCreate}[m]
	}
	if (m == http.MethodGet || m == http.MethodPost || m == http.MethodPatch || m == http.MethodDelete) && !c.allowed(op) {
		return 0, nil, errDenied()
	}
	switch {
	case n == 1 && m == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		out, e := listMatching(q, inIDOrder(s.sps), []filterProp[*servicePrincipal]{
			prop("appId", func(sp *servicePrincipal) string { return sp.AppID }),
			prop("displayName", func(sp *servicePrincipal) string { return sp.DisplayName }),
			prop("id", func(sp *servicePrincipal) string { return sp.ID }),
			multiProp("tags", func(sp *servicePrincipal) []string { return sp.Tags }),
		}, nil, func(sp *servicePrincipal) any { return spView(sp) })
		if e != nil {
			return 0, nil, e
		}
		return 200, s.page(r, q, "servicePrincipals", out), nil
	case n == 1 && m == http.MethodPost:
		return s.createSP(r)
	case n == 2 && m == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		sp := s.spLookup(segs[1].name)
		if sp == nil {
			return 0, nil, errNotFound(strings.TrimPrefix(segs[1].name, "appId="))
		}
		return 200, entity("servicePrincipals/$entity", spView(sp)), nil
	case n == 2 && m == http.MethodPatch:
		var f struct {
			AppRoleAssignmentRequired *bool     `json:"appRoleAssignmentRequired"`
			AccountEnabled            *bool     `json:"accountEnabled"`
			DisplayName               *string   `json:"displayName"`
			Tags                      *[]string `json:"tags"`
			Notes                     *string   `json:"notes"`
		}
		if e := readJSON(r, &f); e != nil {
			return 0, nil, e
		}
		if f.DisplayName != nil && (strings.TrimSpace(*f.DisplayName) == "" || utf8.RuneCountInString(*f.DisplayName) > maxDisplayName) {
			return 0, nil, errBadRequest("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sp := s.spLookup(segs[1].name)
		if sp == nil {
			return 0, nil, errNotFound(strings.TrimPrefix(segs[1].name, "appId="))
		}
		if sp.AppID == GraphAppID || sp.AppID == EXOAppID {
			return 0, nil, errDenied()
		}
		if f.AppRoleAssignmentRequired != nil {
			sp.AppRoleAssignmentRequired = *f.AppRoleAssignmentRequired
		}
		if f.AccountEnabled != nil {
			sp.AccountEnabled = *f.AccountEnabled
		}
		if f.DisplayName != nil {
			sp.DisplayName = *f.DisplayName
		}
		if f.Tags != nil {
			sp.Tags = *f.Tags
		}
		if f.Notes != nil {
			sp.Notes = f.Notes
		}
		return 204, nil, nil
	case n == 2 && m == http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		sp := s.spLookup(segs[1].name)
		if sp == nil {
			return 0, nil, errNotFound(strings.TrimPrefix(segs[1].name, "appId="))
		}
		if sp.AppID == GraphAppID || sp.AppID == EXOAppID {
			return 0, nil, errDenied()
		}
		s.removeSP(sp)
		return 204, nil, nil
	}
	return 0, nil, gerr(405, "Request_BadRequest", "The request is not supported: %s /%s.", m, joinSegs(segs))
}

// createSP is POST /servicePrincipals {"appId": ...}. A new application is
// not yet visible here for Delays.AppToServicePrincipal.
func (s *view) createSP(r *http.Request) (int, graphBody, *graphError) {
	var body struct {
		AppID                     string   `json:"appId"`
		AppRoleAssignmentRequired *bool    `json:"appRoleAssignmentRequired"`
		Tags                      []string `json:"tags"`
		Notes                     *string  `json:"notes"`
	}
	if e := readJSON(r, &body); e != nil {
		return 0, nil, e
	}
	if body.AppID == "" {
		return 0, nil, errBadRequest("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spByAppID(body.AppID) != nil {
		return 0, nil, gerr(409, "Request_MultipleObjectsWithSameKeyValue", "The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", body.AppID)
	}
	now := time.Now()
	name, audience := "", "AzureADMyOrg"
	owner := s.ID
	// Another tenant's app gets a service principal here only when it is
	// multi-tenant (how a customer consents a vendor's app).
	if a := s.appByAppID(body.AppID); a != nil && now.Sub(a.created) >= s.delays.AppToServicePrincipal && (a.home == s.tenant || a.SignInAudience != "AzureADMyOrg") {
		name, audience, owner = a.DisplayName, a.SignInAudience, a.home.ID
	} else if fp, ok := firstParties[strings.ToLower(body.AppID)]; ok {
		name, audience, owner = fp.name, "AzureADMultipleOrgs", "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	} else {
		e := errBadRequest("The appId '%s' of the service principal does not reference a valid application object.", body.AppID)
		e.details = []map[string]string{{"code": "NoBackingApplicationObject", "message": "The appId '" + body.AppID + "' of the service principal does not reference a valid application object.", "target": "appId"}}
		return 0, nil, e
	}
	sp := &servicePrincipal{ID: newID(), AppID: strings.ToLower(body.AppID), DisplayName: name, AccountEnabled: true,
		AppOwnerOrganizationID: owner, ServicePrincipalType: "Application", ServicePrincipalNames: []string{strings.ToLower(body.AppID)},
		SignInAudience: audience, created: now}
	if a := s.appByAppID(body.AppID); a != nil && owner == a.home.ID {
		sp.AppID = a.AppID
		sp.ServicePrincipalNames = append([]string{a.AppID}, a.IdentifierURIs...)
		sp.ReplyURLs = append(append([]string{}, a.Web.RedirectURIs...), a.PublicClient.RedirectURIs...)
	}
	if body.AppRoleAssignmentRequired != nil {
		sp.AppRoleAssignmentRequired = *body.AppRoleAssignmentRequired
	}
	sp.Tags, sp.Notes = body.Tags, body.Notes
	s.sps[sp.ID] = sp
	s.logf("sim: service principal %s created for appId %s", sp.ID, sp.AppID)
	return 201, entity("servicePrincipals/$entity", spView(sp)), nil
}

// routeAssignments serves /servicePrincipals/{id}/appRoleAssignedTo (the
// resource side) and /appRoleAssignments (the principal side).
func (s *view) routeAssignments(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	m := r.Method
	op := map[string]graphOp{http.MethodGet: opAssignmentList, http.MethodPost: opAssignmentWrite, http.MethodDelete: opAssignmentDelete}[m]
	if op == 0 && m != http.MethodGet || !c.allowed(op) {
		return 0, nil, errDenied()
	}
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if m == http.MethodPost {
		if e := readJSON(r, &body); e != nil {
			return 0, nil, e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spLookup(segs[1].name)
	if sp == nil || s.spTooNew(sp) {
		return 0, nil, errNotFound(strings.TrimPrefix(segs[1].name, "appId="))
	}
	side := segs[2].name
	switch {
	case m == http.MethodGet && len(segs) == 3:
		var out []any
		for _, id := range sortedKeys(s.assigns) {
			a := s.assigns[id]
			if side == "appRoleAssignedTo" && a.ResourceID == sp.ID || side == "appRoleAssignments" && a.PrincipalID == sp.ID {
				out = append(out, a)
			}
		}
		return 200, s.page(r, q, "servicePrincipals('"+sp.ID+"')/"+side, out), nil
	case m == http.MethodPost && len(segs) == 3 && side == "appRoleAssignedTo":
		return s.createAssignment(c, sp, body.PrincipalID, body.ResourceID, body.AppRoleID)
	case m == http.MethodPost && len(segs) == 3 && side == "appRoleAssignments":
		res := s.sps[strings.ToLower(body.ResourceID)]
		if res == nil || s.spTooNew(res) {
			return 0, nil, errNotFound(body.ResourceID)
		}
		if !strings.EqualFold(body.PrincipalID, sp.ID) {
			return 0, nil, errBadRequest("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.")
		}
		return s.createAssignment(c, res, body.PrincipalID, body.ResourceID, body.AppRoleID)
	case m == http.MethodDelete && len(segs) == 4:
		a := s.assigns[segs[3].name]
		if a == nil || a.ResourceID != sp.ID {
			return 0, nil, errNotFound(segs[3].name)
		}
		if e := s.checkAssignRole(c, sp, a.PrincipalType == "ServicePrincipal"); e != nil {
			return 0, nil, e
		}
		delete(s.assigns, a.ID)
		return 204, nil, nil
	}
	return 0, nil, gerr(405, "Request_BadRequest", "The request is not supported: %s /%s.", m, joinSegs(segs))
}

// checkAssignRole applies the directory roles of microsoft.md §5: Microsoft
// Graph application permissions need Privileged Role Administrator or
// Global Administrator; other app roles an application administrator role.
func (s *view) checkAssignRole(c caller, resource *servicePrincipal, toServicePrincipal bool) *graphError {
	if c.user == nil {
		return nil
	}
	if resource.AppID == GraphAppID && toServicePrincipal {
		if !s.hasRole(c.user, RoleGlobalAdmin, RolePrivilegedRoleAdmin) {
			return errDenied()
		}
		return nil
	}
	if !s.hasRole(c.user, RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudAppAdmin, RoleAppAdmin) {
		return errDenied()
	}
	return nil
}

func (s *view) createAssignment(c caller, res *servicePrincipal, principalID, resourceID, roleID string) (int, graphBody, *graphError) {
	if !strings.EqualFold(resourceID, res.ID) {
		return 0, nil, errBadRequest("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.")
	}
	principalType, principalName := "", ""
	if p := s.sps[strings.ToLower(principalID)]; p != nil {
		if s.spTooNew(p) {
			return 0, nil, errNotFound(principalID)
		}
		principalType, principalName = "ServicePrincipal", p.DisplayName
	} else if u := s.userByID(principalID); u != nil {
		principalType, principalName = "User", u.DisplayName
	} else {
		return 0, nil, errNotFound(principalID)
	}
	const defaultAccess = "00000000-0000-0000-0000-000000000000"
	if _, ok := res.role(roleID); !ok && !(roleID == defaultAccess && principalType == "User") {
		return 0, nil, errBadRequest("Permission being assigned was not found on application '%s'.", res.AppID)
	}
	if e := s.checkAssignRole(c, res, principalType == "ServicePrincipal"); e != nil {
		return 0, nil, e
	}
	for _, a := range s.assigns {
		if a.ResourceID == res.ID && strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.AppRoleID, roleID) {
			return 0, nil, errBadRequest("Permission being assigned already exists on the object")
		}
	}
	now := time.Now()
	a := &appRoleAssignment{ID: opaqueID(), AppRoleID: strings.ToLower(roleID), CreatedDateTime: now.UTC().Truncate(time.Second),
		PrincipalDisplayName: principalName, PrincipalID: strings.ToLower(principalID), PrincipalType: principalType,
		ResourceDisplayName: res.DisplayName, ResourceID: res.ID, created: now}
	s.assigns[a.ID] = a
	return 201, entity("servicePrincipals('"+res.ID+"')/appRoleAssignedTo/$entity", a), nil
}

// ---- oauth2PermissionGrants ----

func (s *view) routeGrants(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	m := r.Method
	if m == http.MethodGet && !c.allowed(opGrantRead) {
		return 0, nil, errDenied()
	}
	if m != http.MethodGet {
		if !c.allowed(opGrantWrite) {
			return 0, nil, errDenied()
		}
		// The directory roles that may create delegated grants (GDC
		// includes/rbac-for-apis/rbac-oauth2permissiongrant-apis-write.md).
		if c.user != nil && !s.hasRoleLocked(c.user, grantWriterRoles...) {
			return 0, nil, errDenied()
		}
	}
	switch {
	case len(segs) == 1 && m == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		out, e := listMatching(q, inIDOrder(s.grants), []filterProp[*permissionGrant]{
			prop("clientId", func(g *permissionGrant) string { return g.ClientID }),
			prop("resourceId", func(g *permissionGrant) string { return g.ResourceID }),
			prop("consentType", func(g *permissionGrant) string { return g.ConsentType }),
			prop("principalId", func(g *permissionGrant) string {
				if g.PrincipalID == nil {
					return ""
				}
				return *g.PrincipalID
			}),
		}, nil, func(g *permissionGrant) any { return g })
		if e != nil {
			return 0, nil, e
		}
		return 200, s.page(r, q, "oauth2PermissionGrants", out), nil
	case len(segs) == 1 && m == http.MethodPost:
		var body permissionGrant
		if e := readJSON(r, &body); e != nil {
			return 0, nil, e
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.createGrant(body)
	case len(segs) == 2:
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.grants[segs[1].name]
		if g == nil {
			return 0, nil, errNotFound(segs[1].name)
		}
		switch m {
		case http.MethodGet:
			return 200, entity("oauth2PermissionGrants/$entity", g), nil
		case http.MethodDelete:
			delete(s.grants, g.ID)
			return 204, nil, nil
		case http.MethodPatch:
			var body struct {
				Scope *string `json:"scope"`
			}
			s.mu.Unlock()
			e := readJSON(r, &body)
			s.mu.Lock()
			if e != nil {
				return 0, nil, e
			}
			if body.Scope != nil {
				g.setScope(*body.Scope, time.Now(), s.delays.Consent)
			}
			return 204, nil, nil
		}
	}
	return 0, nil, gerr(405, "Request_BadRequest", "The request is not supported: %s /%s.", m, joinSegs(segs))
}

func (s *view) hasRoleLocked(u *user, roles ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hasRole(u, roles...)
}

// createGrant validates and stores a delegated permission grant (caller
// holds s.mu). New service principals are not yet visible here.
func (s *view) createGrant(body permissionGrant) (int, graphBody, *graphError) {
	for _, id := range []string{body.ClientID, body.ResourceID} {
		if id == "" {
			return 0, nil, errBadRequest("Invalid value specified for property 'clientId' or 'resourceId' of resource 'OAuth2PermissionGrant'.")
		}
		sp := s.sps[strings.ToLower(id)]
		if sp == nil || s.spTooNew(sp) {
			return 0, nil, errNotFound(id)
		}
	}
	switch body.ConsentType {
	case "AllPrincipals":
		if body.PrincipalID != nil && *body.PrincipalID != "" {
			return 0, nil, errBadRequest("Invalid value specified for property 'principalId': it must be null when consentType is AllPrincipals.")
		}
		body.PrincipalID = nil
	case "Principal":
		if body.PrincipalID == nil || s.userByID(*body.PrincipalID) == nil {
			return 0, nil, errBadRequest("Invalid value specified for property 'principalId' of resource 'OAuth2PermissionGrant'.")
		}
	default:
		return 0, nil, errBadRequest("Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
	}
	for _, g := range s.grants {
		if strings.EqualFold(g.ClientID, body.ClientID) && strings.EqualFold(g.ResourceID, body.ResourceID) && g.ConsentType == body.ConsentType &&
			(body.PrincipalID == nil || g.PrincipalID != nil && strings.EqualFold(*g.PrincipalID, *body.PrincipalID)) {
			return 0, nil, errBadRequest("Permission entry already exists.")
		}
	}
	g := &permissionGrant{ID: opaqueID(), ClientID: strings.ToLower(body.ClientID), ConsentType: body.ConsentType,
		PrincipalID: body.PrincipalID, ResourceID: strings.ToLower(body.ResourceID), Scope: body.Scope, created: time.Now()}
	s.grants[g.ID] = g
	return 201, entity("oauth2PermissionGrants/$entity", g), nil
}
