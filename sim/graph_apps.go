package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxDisplayName is the displayName limit the sim enforces (UNVERIFIED; 120).
const maxDisplayName = 120

// appLookup resolves an application path id: object id or appId=<guid>.
func (s *view) appLookup(id string) *application {
	if appID, ok := strings.CutPrefix(id, "appId="); ok {
		if a := s.appByAppID(appID); a != nil && a.home == s.tenant {
			return a
		}
		return nil
	}
	a := s.apps[strings.ToLower(id)]
	if a == nil || a.deleted || a.home != s.tenant {
		return nil
	}
	return a
}

func (s *view) spLookup(id string) *servicePrincipal {
	if appID, ok := strings.CutPrefix(id, "appId="); ok {
		return s.spByAppID(appID)
	}
	return s.sps[strings.ToLower(id)]
}

// appView is an application as Graph shows it (never a secret's value).
func appView(a *application) *application {
	v := *a
	v.PasswordCredentials = make([]passwordCredential, len(a.PasswordCredentials))
	copy(v.PasswordCredentials, a.PasswordCredentials)
	for i := range v.PasswordCredentials {
		v.PasswordCredentials[i].SecretText = nil
	}
	for _, sl := range []*[]string{&v.PublicClient.RedirectURIs, &v.Web.RedirectURIs, &v.Spa.RedirectURIs, &v.IdentifierURIs, &v.Tags} {
		if *sl == nil {
			*sl = []string{}
		}
	}
	if v.RequiredResourceAccess == nil {
		v.RequiredResourceAccess = []requiredResourceAccess{}
	}
	return &v
}

func (s *view) routeApplications(r *http.Request, c caller, q query, segs []pathSeg) (int, graphBody, *graphError) {
	m := r.Method
	deny := func(op graphOp) bool { return !c.allowed(op) }
	switch len(segs) {
	case 1:
		switch m {
		case http.MethodGet:
			if deny(opApplicationList) {
				return 0, nil, errDenied()
			}
			return s.listApps(r, q)
		case http.MethodPost:
			if deny(opApplicationCreate) {
				return 0, nil, errDenied()
			}
			return s.createApp(r)
		}
	case 2:
		switch m {
		case http.MethodGet:
			if deny(opApplicationGet) {
				return 0, nil, errDenied()
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			a := s.appLookup(segs[1].name)
			if a == nil {
				return 0, nil, errNotFound(strings.TrimPrefix(segs[1].name, "appId="))
			}
			return 200, entity("applications/$entity", appView(a)), nil
		case http.MethodPatch:
			if deny(opApplicationUpdate) {
				return 0, nil, errDenied()
			}
			return s.patchApp(r, c, segs[1].name)
		case http.MethodDelete:
			if deny(opApplicationDelete) {
				return 0, nil, errDenied()
			}
			return s.deleteApp(segs[1].name)
		}
	case 3:
		if m == http.MethodPost && (segs[2].name == "addPassword" || segs[2].name == "removePassword") && deny(opApplicationPassword) {
			return 0, nil, errDenied()
		}
		if m == http.MethodPost && segs[2].name == "addPassword" {
			return s.addPassword(r, segs[1].name)
		}
		if m == http.MethodPost && segs[2].name == "removePassword" {
			return s.removePassword(r, segs[1].name)
		}
	}
	return 0, nil, gerr(405, "Request_BadRequest", "The request is not supported: %s /%s.", m, joinSegs(segs))
}

func joinSegs(segs []pathSeg) string {
	var parts []string
	for _, p := range segs {
		parts = append(parts, p.name)
	}
	return strings.Join(parts, "/")
}

func (s *view) listApps(r *http.Request, q query) (int, graphBody, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, e := listMatching(q, inIDOrder(s.apps), []filterProp[*application]{
		prop("displayName", func(a *application) string { return a.DisplayName }),
		prop("appId", func(a *application) string { return a.AppID }),
		prop("id", func(a *application) string { return a.ID }),
		prop("isDisabled", func(a *application) string { return strconv.FormatBool(a.IsDisabled != nil && *a.IsDisabled) }),
		multiProp("tags", func(a *application) []string { return a.Tags }),
	}, func(a *application) bool { return !a.deleted && a.home == s.tenant }, func(a *application) any { return appView(a) })
	if e != nil {
		return 0, nil, e
	}
	return 200, s.page(r, q, "applications", out), nil
}

// appFields are the writable application properties the sim models.
type appFields struct {
	DisplayName            *string                   `json:"displayName"`
	Description            *string                   `json:"description"`
	SignInAudience         *string                   `json:"signInAudience"`
	IsFallbackPublicClient *bool                     `json:"isFallbackPublicClient"`
	PublicClient           *redirectSet              `json:"publicClient"`
	Web                    *webSettings              `json:"web"`
	Spa                    *redirectSet              `json:"spa"`
	RequiredResourceAccess *[]requiredResourceAccess `json:"requiredResourceAccess"`
	IdentifierURIs         *[]string                 `json:"identifierUris"`
	Notes                  *string                   `json:"notes"`
	Tags                   *[]string                 `json:"tags"`
	IsDisabled             *bool                     `json:"isDisabled"`
	PasswordCredentials    json.RawMessage           `json:"passwordCredentials"`
}

var signInAudiences = map[string]bool{"AzureADMyOrg": true, "AzureADMultipleOrgs": true, "AzureADandPersonalMicrosoftAccount": true, "PersonalMicrosoftAccount": true}

func (f *appFields) validate(create bool) *graphError {
	if create && (f.DisplayName == nil || strings.TrimSpace(*f.DisplayName) == "") {
		return errBadRequest("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	if f.DisplayName != nil && (strings.TrimSpace(*f.DisplayName) == "" || utf8.RuneCountInString(*f.DisplayName) > maxDisplayName) {
		return errBadRequest("Invalid value specified for property 'displayName' of resource 'Application'.")
	}
	if f.SignInAudience != nil && !signInAudiences[*f.SignInAudience] {
		return errBadRequest("Invalid value specified for property 'signInAudience' of resource 'Application'.")
	}
	if f.RequiredResourceAccess != nil {
		for _, rra := range *f.RequiredResourceAccess {
			for _, ra := range rra.ResourceAccess {
				if ra.Type != "Scope" && ra.Type != "Role" {
					return errBadRequest("Invalid value specified for property 'type' of resource 'ResourceAccess'.")
				}
			}
		}
	}
	return nil
}

func (f *appFields) apply(a *application) {
	if f.DisplayName != nil {
		a.DisplayName = *f.DisplayName
	}
	if f.Description != nil {
		a.Description = f.Description
	}
	if f.SignInAudience != nil {
		a.SignInAudience = *f.SignInAudience
	}
	if f.IsFallbackPublicClient != nil {
		v := *f.IsFallbackPublicClient
		a.IsFallbackPublicClient = &v
	}
	if f.PublicClient != nil {
		a.PublicClient = *f.PublicClient
	}
	if f.Web != nil {
		a.Web = *f.Web
	}
	if f.Spa != nil {
		a.Spa = *f.Spa
	}
	if f.RequiredResourceAccess != nil {
		a.RequiredResourceAccess = *f.RequiredResourceAccess
	}
	if f.IdentifierURIs != nil {
		a.IdentifierURIs = *f.IdentifierURIs
	}
	if f.Notes != nil {
		a.Notes = f.Notes
	}
	if f.Tags != nil {
		a.Tags = *f.Tags
	}
	if f.IsDisabled != nil {
		v := *f.IsDisabled
		a.IsDisabled = &v
	}
}

func (s *view) createApp(r *http.Request) (int, graphBody, *graphError) {
	var f appFields
	if e := readJSON(r, &f); e != nil {
		return 0, nil, e
	}
	if e := f.validate(true); e != nil {
		return 0, nil, e
	}
	if len(f.PasswordCredentials) > 0 && string(f.PasswordCredentials) != "null" && string(f.PasswordCredentials) != "[]" {
		return 0, nil, errBadRequest("Property 'passwordCredentials' cannot be set when creating an application. Use addPassword.")
	}
	now := time.Now()
	a := &application{ID: newID(), AppID: newID(), SignInAudience: "AzureADandPersonalMicrosoftAccount",
		CreatedDateTime: now.UTC().Truncate(time.Second), PublisherDomain: s.InitialDomain, created: now, home: s.tenant}
	f.apply(a)
	s.mu.Lock()
	s.apps[a.ID] = a
	v := appView(a)
	s.mu.Unlock()
	s.logf("sim: application %q created (appId %s)", a.DisplayName, a.AppID)
	return 201, entity("applications/$entity", v), nil
}

func (s *view) patchApp(r *http.Request, c caller, id string) (int, graphBody, *graphError) {
	var f appFields
	if e := readJSON(r, &f); e != nil {
		return 0, nil, e
	}
	if e := f.validate(false); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Deactivating or reactivating needs at least Cloud Application
	// Administrator (learn deactivate-app-registration, Prerequisites).
	if f.IsDisabled != nil && c.user != nil && !s.hasRole(c.user, RoleGlobalAdmin, RoleCloudAppAdmin, RoleAppAdmin) {
		return 0, nil, errDenied()
	}
	a := s.appLookup(id)
	if a == nil {
		return 0, nil, errNotFound(strings.TrimPrefix(id, "appId="))
	}
	f.apply(a)
	return 204, nil, nil
}

// deleteApp soft-deletes the application; its service principal (and that
// SP's grants and assignments) go with it, as in the home tenant.
func (s *view) deleteApp(id string) (int, graphBody, *graphError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appLookup(id)
	if a == nil {
		return 0, nil, errNotFound(strings.TrimPrefix(id, "appId="))
	}
	a.deleted = true
	if sp := s.spByAppID(a.AppID); sp != nil {
		s.removeSP(sp)
	}
	return 204, nil, nil
}

func (s *view) removeSP(sp *servicePrincipal) {
	delete(s.sps, sp.ID)
	for id, g := range s.grants {
		if g.ClientID == sp.ID || g.ResourceID == sp.ID {
			delete(s.grants, id)
		}
	}
	for id, a := range s.assigns {
		if a.PrincipalID == sp.ID || a.ResourceID == sp.ID {
			delete(s.assigns, id)
		}
	}
}

func (s *view) addPassword(r *http.Request, id string) (int, graphBody, *graphError) {
	var body struct {
		PasswordCredential *struct {
			DisplayName   *string    `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	// An empty body is allowed: every field is optional.
	if r.ContentLength != 0 {
		if e := readJSON(r, &body); e != nil && !strings.Contains(e.msg, "Empty Payload") {
			return 0, nil, e
		}
	}
	now := time.Now()
	start := now.UTC().Truncate(time.Second)
	var name *string
	var end time.Time
	if pc := body.PasswordCredential; pc != nil {
		name = pc.DisplayName
		if pc.StartDateTime != nil {
			start = pc.StartDateTime.UTC()
		}
		if pc.EndDateTime != nil {
			end = pc.EndDateTime.UTC()
		}
	}
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	if !end.After(start) {
		return 0, nil, errBadRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': it must be later than startDateTime.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appLookup(id)
	if a == nil {
		return 0, nil, errNotFound(strings.TrimPrefix(id, "appId="))
	}
	if s.maxSecretLifetime > 0 && end.Sub(start) > s.maxSecretLifetime {
		return 0, nil, errBadRequest("Credential lifetime exceeds the max value allowed as per assigned policy '%s'.", s.secretPolicyID)
	}
	secret := randomSecret()
	pc := passwordCredential{KeyID: newID(), DisplayName: name, Hint: secret[:3], StartDateTime: start, EndDateTime: end,
		SecretText: &secret, hash: hashSecret(secret), created: now}
	a.PasswordCredentials = append(a.PasswordCredentials, pc)
	s.logf("sim: secret %s… added to application %s", pc.Hint, a.AppID)
	return 200, entity("microsoft.graph.passwordCredential", pc), nil
}

func (s *view) removePassword(r *http.Request, id string) (int, graphBody, *graphError) {
	var body struct {
		KeyID string `json:"keyId"`
	}
	if e := readJSON(r, &body); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appLookup(id)
	if a == nil {
		return 0, nil, errNotFound(strings.TrimPrefix(id, "appId="))
	}
	for i, p := range a.PasswordCredentials {
		if strings.EqualFold(p.KeyID, body.KeyID) {
			a.PasswordCredentials = append(a.PasswordCredentials[:i], a.PasswordCredentials[i+1:]...)
			return 204, nil, nil
		}
	}
	return 0, nil, gerr(404, "Request_ResourceNotFound", "No password credential found with keyId '%s'.", body.KeyID)
}
