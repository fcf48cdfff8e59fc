package sim

import (
	"net/http"
)

func userJSON(u *user) map[string]any {
	var mail any
	if u.HasMailbox || u.Mail != "" {
		mail = mailOf(u)
	}
	return map[string]any{
		"id": u.ID, "userPrincipalName": u.UPN, "displayName": u.DisplayName, "givenName": nilIfEmpty(u.GivenName),
		"surname": nilIfEmpty(u.Surname), "mail": mail, "accountEnabled": !u.Blocked, "businessPhones": []string{},
		"jobTitle": nil, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": "en-US", "userType": "Member",
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// routeUser serves /users, /users/{id|upn}, /users/{id}/licenseDetails and
// /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole (/me maps here).
func (s *Server) routeUser(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	if r.Method != http.MethodGet {
		return 0, nil, gerr(405, "Request_BadRequest", "The HTTP method '%s' is not allowed for this resource.", r.Method)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(segs) == 1 {
		if !c.can(permReadUsers, roleReadUsers) {
			return 0, nil, errDenied()
		}
		out, e := listMatching(q, s.users, []filterProp[*user]{
			prop("userPrincipalName", func(u *user) string { return u.UPN }),
			prop("mail", mailOf),
			prop("id", func(u *user) string { return u.ID }),
			prop("displayName", func(u *user) string { return u.DisplayName }),
		}, nil, func(u *user) any { return userJSON(u) })
		if e != nil {
			return 0, nil, e
		}
		return 200, collection("users", out), nil
	}
	if segs[1].name == "me" {
		return 0, nil, errBadRequest("/me request is only valid with delegated authentication flow.")
	}
	u := s.userByName(segs[1].name)
	self := u != nil && c.user != nil && u.ID == c.user.ID
	if !self && !c.can(permReadUsers, roleReadUsers) {
		return 0, nil, errDenied()
	}
	if u == nil {
		return 0, nil, errNotFound(segs[1].name)
	}
	switch {
	case len(segs) == 2:
		return 200, entity("users/$entity", userJSON(u)), nil
	case len(segs) == 3 && segs[2].name == "licenseDetails":
		if !self && !c.can(permLicences, nil) {
			return 0, nil, errDenied()
		}
		var out []any
		if u.SKU != "" {
			out = append(out, map[string]any{"id": u.SKUID + "_" + u.ID, "skuId": u.SKUID, "skuPartNumber": u.SKU, "servicePlans": u.Plans})
		}
		return 200, collection("users('"+u.ID+"')/licenseDetails", out), nil
	case len(segs) == 4 && (segs[2].name == "transitiveMemberOf" || segs[2].name == "memberOf") && (segs[3].name == "microsoft.graph.directoryRole" || segs[3].name == "graph.directoryRole"):
		var out []any
		for _, id := range u.RoleIDs {
			out = append(out, map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": seedID("role/" + id),
				"displayName": roleNames[id], "roleTemplateId": id, "description": "Members of this role: " + roleNames[id] + ".", "deletedDateTime": nil})
		}
		return 200, collection("directoryRoles", out), nil
	}
	return 0, nil, gerr(400, "BadRequest", "Resource not found for the segment '%s'.", segs[len(segs)-1].name)
}
