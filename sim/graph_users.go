package sim

import (
	"net/http"
	"strings"
)

// userJSON is a user as Graph shows it; basic is the profile that
// User.ReadBasic.All alone may read (displayName, givenName, surname, mail,
// userPrincipalName and id; other properties are null).
func userJSON(u *user, basic bool) map[string]any {
	var mail any
	if u.HasMailbox || u.Mail != "" {
		mail = mailOf(u)
	}
	m := map[string]any{
		"id": u.ID, "userPrincipalName": u.UPN, "displayName": u.DisplayName, "givenName": nilIfEmpty(u.GivenName),
		"surname": nilIfEmpty(u.Surname), "mail": mail, "accountEnabled": !u.Blocked, "businessPhones": []string{},
		"jobTitle": nil, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": "en-US", "userType": "Member",
	}
	if u.HasMailbox {
		m["proxyAddresses"] = u.proxyAddresses()
	} else {
		m["proxyAddresses"] = []string{}
	}
	if basic {
		for _, k := range []string{"accountEnabled", "proxyAddresses", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage", "userType"} {
			m[k] = nil
		}
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errCastNeedsAdvancedQuery: an OData cast on a directory relationship is
// an advanced query: without ConsistencyLevel: eventual and $count=true
// Graph answers 400 Request_UnsupportedQuery (aad-advanced-queries, "Use of
// OData cast with transitive members list"; the wording follows that
// page's documented error for a missing advanced-query parameter).
func errCastNeedsAdvancedQuery(cast string) *graphError {
	return gerr(400, "Request_UnsupportedQuery", "The OData cast '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information", cast)
}

// routeUser serves /users, /users/{id|upn}, /users/{id}/licenseDetails and
// /users/{id}/transitiveMemberOf[/microsoft.graph.directoryRole] (/me maps
// here), each with its documented permission (graph_perms.go).
func (s *view) routeUser(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	if r.Method != http.MethodGet {
		return 0, nil, gerr(405, "Request_BadRequest", "The HTTP method '%s' is not allowed for this resource.", r.Method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	basic := !c.readsFullUsers()
	if len(segs) == 1 {
		if !c.allowed(opUserList) {
			return 0, nil, errDenied()
		}
		out, e := listMatching(q, s.users, []filterProp[*user]{
			prop("userPrincipalName", func(u *user) string { return u.UPN }),
			prop("mail", mailOf),
			prop("id", func(u *user) string { return u.ID }),
			prop("displayName", func(u *user) string { return u.DisplayName }),
			// Graph filters proxyAddresses with a lambda: the default query
			// support of user-list (no ConsistencyLevel needed).
			multiProp("proxyAddresses", func(u *user) []string { return u.proxyAddresses() }),
		}, nil, func(u *user) any { return userJSON(u, basic) })
		if e != nil {
			return 0, nil, e
		}
		return 200, s.page(r, q, "users", out), nil
	}
	if segs[1].name == "me" {
		return 0, nil, errBadRequest("/me request is only valid with delegated authentication flow.")
	}
	u := s.userByName(segs[1].name)
	self := u != nil && c.user != nil && u.ID == c.user.ID
	// User.Read reads the signed-in user's own profile and memberships
	// (user-get.md note).
	ownScope := self && c.holdsAny([]string{"User.Read", "User.ReadWrite"})
	switch {
	case len(segs) == 2:
		if !ownScope && !(self && c.allowed(opMeGet)) && !c.allowed(opUserGet) {
			return 0, nil, errDenied()
		}
		if u == nil {
			return 0, nil, errNotFound(segs[1].name)
		}
		return 200, entity("users/$entity", userJSON(u, basic && !self)), nil
	case len(segs) == 3 && segs[2].name == "licenseDetails":
		if c.user == nil {
			return 0, nil, errDenied() // application permissions are not supported
		}
		if !ownScope && !c.allowed(opLicenseDetails) {
			return 0, nil, errDenied()
		}
		if u == nil {
			return 0, nil, errNotFound(segs[1].name)
		}
		var out []any
		if u.SKU != "" {
			out = append(out, map[string]any{"id": u.SKUID + "_" + u.ID, "skuId": u.SKUID, "skuPartNumber": u.SKU, "servicePlans": u.Plans})
		}
		return 200, s.page(r, q, "users('"+u.ID+"')/licenseDetails", out), nil
	case (len(segs) == 3 || len(segs) == 4) && (segs[2].name == "transitiveMemberOf" || segs[2].name == "memberOf"):
		if !ownScope && !c.allowed(opMemberOf) {
			return 0, nil, errDenied()
		}
		if u == nil {
			return 0, nil, errNotFound(segs[1].name)
		}
		if len(segs) == 4 {
			cast := segs[3].name
			if cast != "microsoft.graph.directoryRole" && cast != "graph.directoryRole" {
				return 0, nil, gerr(400, "BadRequest", "Resource not found for the segment '%s'.", cast)
			}
			if !q.count || !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
				return 0, nil, errCastNeedsAdvancedQuery(cast)
			}
		}
		// The sim has no groups: memberships are the directory roles.
		full := c.readsDirectoryRoles()
		var out []any
		for _, id := range u.RoleIDs {
			role := map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": seedID("role/" + id),
				"displayName": roleNames[id], "roleTemplateId": id, "description": "Members of this role: " + roleNames[id] + ".", "deletedDateTime": nil}
			if !full {
				// Limited information for an object type the caller may
				// not read: the type and id only (permissions-overview,
				// "Limited information returned for inaccessible member
				// objects"). Field reports keep roleTemplateId; Microsoft's
				// docs do not, and the sim is never the more lenient.
				role["displayName"], role["description"], role["roleTemplateId"] = nil, nil, nil
			}
			out = append(out, role)
		}
		context := "directoryObjects"
		if len(segs) == 4 {
			context = "directoryRoles"
		}
		return 200, s.page(r, q, context, out), nil
	}
	return 0, nil, gerr(400, "BadRequest", "Resource not found for the segment '%s'.", segs[len(segs)-1].name)
}
