package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// Severity and Finding are the shared vocabulary's (internal/model).
type (
	Severity = model.Severity
	Finding  = model.Finding
)

const (
	Blocker = model.Blocker // the apply would fail; nothing is changed
	Warning = model.Warning // the setup may not work as intended
	Info    = model.Info
)

// Directory role template IDs (the same in every tenant; Entra's
// "Microsoft Entra built-in roles" reference, entra-docs
// docs/identity/role-based-access-control/permissions-reference.md).
const (
	RoleGlobalAdmin           = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdmin   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleCloudApplicationAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleApplicationAdmin      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleApplicationDeveloper  = "cf1c38e5-3621-4004-a7cb-879624dced7c"
	RoleDirectoryWriters      = "9360feb5-f418-4baa-8175-e2a00bac4301"
	RoleUserAdmin             = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleExchangeAdmin         = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleGlobalReader          = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	RoleDirectoryReaders      = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
)

// roleNames names the roles from their template IDs: with only the
// sign-in's permissions Graph may return role objects without a
// displayName (microsoft.md §15.3), so the name is never taken from Graph.
var roleNames = map[string]string{
	RoleGlobalAdmin:           "Global Administrator",
	RolePrivilegedRoleAdmin:   "Privileged Role Administrator",
	RoleCloudApplicationAdmin: "Cloud Application Administrator",
	RoleApplicationAdmin:      "Application Administrator",
	RoleApplicationDeveloper:  "Application Developer",
	RoleDirectoryWriters:      "Directory Writers",
	RoleUserAdmin:             "User Administrator",
	RoleExchangeAdmin:         "Exchange Administrator",
	RoleGlobalReader:          "Global Reader",
	RoleDirectoryReaders:      "Directory Readers",
}

// Which roles may do what (microsoft.md §5 and §15.3).
var (
	// Consent to Microsoft Graph application permissions.
	rolesGraphAppRoles = []string{RoleGlobalAdmin, RolePrivilegedRoleAdmin}
	// Consent to other APIs' application permissions (Exchange Online's)
	// and assigning users to the enterprise application.
	rolesAppRolesAndUsers = []string{RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudApplicationAdmin, RoleApplicationAdmin}
	// Creating delegated grants (oauth2PermissionGrants): GDC
	// includes/rbac-for-apis/rbac-oauth2permissiongrant-apis-write.md.
	rolesDelegatedGrants = []string{RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudApplicationAdmin, RoleApplicationAdmin, RoleApplicationDeveloper, RoleDirectoryWriters, RoleUserAdmin}
)

// RoleName is the built-in role's name for a template ID ("" if unknown).
func RoleName(templateID string) string { return roleNames[strings.ToLower(templateID)] }

func roleList(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = roleNames[id]
	}
	return strings.Join(names, ", ")
}

// ResolvedPermission is a catalog permission with the tenant's ID for it.
type ResolvedPermission struct {
	catalog.Permission
	ID string `json:"id"`
	// ResourceSPID is the tenant's service principal of the resource API.
	ResourceSPID string `json:"resource_sp_id"`
}

// Mailbox is a pre-flight view of one mailbox user.
type Mailbox struct {
	Address string `json:"address"`
	UserID  string `json:"user_id,omitempty"`
	UPN     string `json:"upn,omitempty"`
	Found   bool   `json:"found"`
	// ExchangePlan is the Exchange Online service plan found, if any.
	ExchangePlan string `json:"exchange_plan,omitempty"`
	// SignInBlocked is the account's accountEnabled=false, as Microsoft
	// creates the accounts of shared mailboxes.
	SignInBlocked bool `json:"sign_in_blocked,omitempty"`
}

// LikelyShared: no Exchange licence and sign-in blocked is how a shared
// mailbox looks through Graph (Graph itself cannot tell; Exchange can).
func (m Mailbox) LikelyShared() bool { return m.Found && m.ExchangePlan == "" && m.SignInBlocked }

// Inspection is everything read before a change: the pre-flight findings
// and the current state of the app, its service principal and its consent.
type Inspection struct {
	TenantID   string   `json:"tenant_id"`
	TenantName string   `json:"tenant_name"`
	Domains    []string `json:"domains"`
	// InitialDomain is the *.onmicrosoft.com domain Graph marks isInitial
	// (Connect-ExchangeOnline -Organization takes it in every tenant).
	InitialDomain string `json:"initial_domain,omitempty"`
	// Roles are the signed-in admin's directory roles (display names);
	// RolesKnown is false when Graph would not list them.
	Roles      []string  `json:"roles"`
	RolesKnown bool      `json:"roles_known"`
	Findings   []Finding `json:"findings"`

	Permissions []ResolvedPermission `json:"permissions"`
	Mailboxes   []Mailbox            `json:"mailboxes"`

	// Existing objects (nil when absent).
	app        *application
	sp         *servicePrincipal
	grants     map[string]*permissionGrant // by resource SP id
	roleAssign []appRoleAssignment         // client SP as principal
	userAssign []appRoleAssignment         // assigned to the client SP
	resources  map[string]*servicePrincipal
	roleIDs    map[string]bool

	// ReadRequests counts the GETs made; ReadRounds the sequential rounds.
	ReadRequests int `json:"read_requests"`
	ReadRounds   int `json:"read_rounds"`
	mu           sync.Mutex
}

// Blockers are the findings that stop an apply.
func (in *Inspection) Blockers() []Finding {
	var out []Finding
	for _, f := range in.Findings {
		if f.Severity == Blocker {
			out = append(out, f)
		}
	}
	return out
}

// App is the existing app's client ID, object ID and service principal
// ID ("" for what does not exist yet).
func (in *Inspection) App() (clientID, objectID, spID string) {
	if in.app != nil {
		clientID, objectID = in.app.AppID, in.app.ID
	}
	if in.sp != nil {
		spID = in.sp.ID
	}
	return
}

// AppExists reports whether an app registration was found.
func (in *Inspection) AppExists() bool { return in.app != nil }

func (in *Inspection) add(f Finding) {
	in.mu.Lock()
	in.Findings = append(in.Findings, f)
	in.mu.Unlock()
}

// BlockedError is returned by Apply when pre-flight found blockers.
type BlockedError struct{ Findings []Finding }

func (e *BlockedError) Error() string {
	parts := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		parts[i] = f.String()
	}
	return "pre-flight found problems, nothing was changed: " + strings.Join(parts, " ")
}

// AmbiguousAppError: several apps have the display name; mailoauth never guesses.
type AmbiguousAppError struct {
	DisplayName string
	Apps        []struct{ ObjectID, ClientID string }
}

func (e *AmbiguousAppError) Error() string {
	var ids []string
	for _, a := range e.Apps {
		ids = append(ids, fmt.Sprintf("client ID %s (object ID %s)", a.ClientID, a.ObjectID))
	}
	return fmt.Sprintf("%d app registrations are named %q: %s. Pass --app-id with the one to update, or choose another display name", len(e.Apps), e.DisplayName, strings.Join(ids, "; "))
}

// reader runs GETs concurrently within one round and counts them.
type reader struct {
	g  *graphapi.Client
	in *Inspection
	// fresh: never answered from the run's ReadCache (reads after a write).
	fresh bool
	wg    sync.WaitGroup
	mu    sync.Mutex
	// err is the first failure that is not a finding (network, auth).
	err error
}

func (r *reader) get(ctx context.Context, path string, out any, notFoundToo bool) error {
	return r.getWith(ctx, path, out, notFoundToo, nil)
}

func (r *reader) getWith(ctx context.Context, path string, out any, notFoundToo bool, header map[string]string) error {
	r.in.mu.Lock()
	r.in.ReadRequests++
	r.in.mu.Unlock()
	// Cacheable: with a ReadCache, pre-flight, review and apply of one run
	// read the tenant once (engine resets it after a change).
	return r.g.Call(ctx, graphapi.Request{Method: "GET", Path: path, Header: header, Action: "Reading " + strings.SplitN(path, "?", 2)[0], RetryNotFound: notFoundToo, Cacheable: !r.fresh}, out)
}

func (r *reader) goRun(f func() error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := f(); err != nil {
			r.mu.Lock()
			if r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
		}
	}()
}

func (r *reader) round() error {
	r.wg.Wait()
	r.in.ReadRounds++
	return r.err
}

// listAll follows @odata.nextLink pages.
// notFoundToo waits out 404 on an object that was just created.
func listAll[T any](ctx context.Context, r *reader, path string, notFoundToo bool) ([]T, error) {
	return listAllWith[T](ctx, r, path, notFoundToo, nil)
}

// readAll reads every page of a collection afresh (not from the run's
// ReadCache): the lookups after a write that Graph refused as a duplicate.
func readAll[T any](ctx context.Context, g *graphapi.Client, path string, notFoundToo bool) ([]T, error) {
	return listAll[T](ctx, &reader{g: g, in: newInspection(), fresh: true}, path, notFoundToo)
}

// listAllWith is listAll with request headers (ConsistencyLevel).
func listAllWith[T any](ctx context.Context, r *reader, path string, notFoundToo bool, header map[string]string) ([]T, error) {
	var out []T
	for path != "" {
		var page graphList[T]
		if err := r.getWith(ctx, path, &page, notFoundToo, header); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		path = ""
		if page.NextLink != "" {
			base := r.g.BaseURL()
			if !strings.HasPrefix(page.NextLink, base) {
				return nil, fmt.Errorf("graph's next page link %q is not under %s", page.NextLink, base)
			}
			path = strings.TrimPrefix(page.NextLink, base)
		}
	}
	return out, nil
}

func resourceSPPath(appID string) string {
	return "/servicePrincipals(appId='" + appID + "')" + graphapi.Query("$select", "id,appId,displayName,appRoles,oauth2PermissionScopes")
}

// Preflight reads the tenant and changes nothing: tenant and domains, the
// admin's roles against what the plan needs, the resource APIs and the
// permission IDs they publish, the mailbox users and their licences, and the
// app, service principal and consent that already exist (by the state file,
// --app-id or display name). Problems are findings, not errors; an error is
// returned only when Graph cannot be read at all or the app is ambiguous.
// With a client WithReads, what an earlier pre-flight of the run read is
// not read again.
func Preflight(ctx context.Context, g *graphapi.Client, p Plan, st *state.State) (*Inspection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.normalise()
	in := newInspection()
	r := &reader{g: g, in: in}
	g.Emit(graphapi.Event{Action: "Checking the tenant, your roles, the resource APIs and the mailboxes"})

	// Round 1: everything that needs no id from another read.
	resourceIDs := []string{catalog.ExchangeOnline.AppID}
	for _, perm := range p.Permissions {
		resourceIDs = append(resourceIDs, perm.Resource.AppID)
	}
	readTenant(ctx, r, resourceIDs)
	var ambiguous error
	r.goRun(func() error {
		app, err := findApp(ctx, r, p, st)
		var amb *AmbiguousAppError
		if errors.As(err, &amb) {
			ambiguous = err
			return nil
		}
		in.app = app
		return err
	})
	in.Mailboxes = make([]Mailbox, len(p.Mailboxes))
	for i, addr := range p.Mailboxes {
		in.Mailboxes[i].Address = addr
		mb := &in.Mailboxes[i]
		r.goRun(func() error { return findUser(ctx, r, mb) })
	}
	if err := r.round(); err != nil {
		return nil, err
	}
	if ambiguous != nil {
		return nil, ambiguous
	}

	// Round 2: licences of the users found, and the app's service principal.
	readLicences(ctx, r)
	if in.app != nil {
		r.goRun(func() error { return readServicePrincipal(ctx, r, in.app.AppID) })
	}
	if err := r.round(); err != nil {
		return nil, err
	}

	// Round 3: consent and assignments that already exist.
	if in.sp != nil {
		readConsent(ctx, r, in.sp.ID, p.hasAnyKind(catalog.Delegated))
		if err := r.round(); err != nil {
			return nil, err
		}
	}

	judge(in, p)
	sortFindings(in)
	return in, nil
}

// TenantPreflight reads only what the sign-in screen shows: the tenant, its
// domains, the admin's roles and whether Exchange Online is provisioned.
// tenant is the tenant the admin signed in to (GUID or domain).
func TenantPreflight(ctx context.Context, g *graphapi.Client, tenant string) (*Inspection, error) {
	in := newInspection()
	r := &reader{g: g, in: in}
	readTenant(ctx, r, []string{catalog.ExchangeOnline.AppID})
	if err := r.round(); err != nil {
		return nil, err
	}
	judge(in, Plan{Tenant: tenant})
	sortFindings(in)
	return in, nil
}

func newInspection() *Inspection {
	return &Inspection{grants: map[string]*permissionGrant{}, resources: map[string]*servicePrincipal{}, roleIDs: map[string]bool{}}
}

func sortFindings(in *Inspection) {
	sort.SliceStable(in.Findings, func(i, j int) bool { return in.Findings[i].Severity.Rank() < in.Findings[j].Severity.Rank() })
}

// readTenant starts the tenant-level reads of round 1: the organization and
// its domains, the admin's roles, and each resource API's service principal.
func readTenant(ctx context.Context, r *reader, resourceAppIDs []string) {
	in := r.in
	r.goRun(func() error {
		var org graphList[organization]
		if err := r.get(ctx, "/organization"+graphapi.Query("$select", "id,displayName,verifiedDomains"), &org, false); err != nil {
			return err
		}
		if len(org.Value) > 0 {
			in.mu.Lock()
			in.TenantID, in.TenantName = org.Value[0].ID, org.Value[0].DisplayName
			for _, d := range org.Value[0].VerifiedDomains {
				in.Domains = append(in.Domains, d.Name)
				if d.IsInitial {
					in.InitialDomain = d.Name
				}
			}
			in.mu.Unlock()
		}
		return nil
	})
	r.goRun(func() error { return readRoles(ctx, r, in) })
	seen := map[string]bool{}
	for _, id := range resourceAppIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		r.goRun(func() error {
			var sp servicePrincipal
			err := r.get(ctx, resourceSPPath(id), &sp, false)
			if graphapi.Status(err) == http.StatusNotFound {
				return nil // judged after the round
			}
			if err != nil {
				return err
			}
			in.mu.Lock()
			in.resources[id] = &sp
			in.mu.Unlock()
			return nil
		})
	}
}

func readLicences(ctx context.Context, r *reader) {
	for i := range r.in.Mailboxes {
		mb := &r.in.Mailboxes[i]
		if mb.Found {
			r.goRun(func() error { return readLicence(ctx, r, mb) })
		}
	}
}

func readServicePrincipal(ctx context.Context, r *reader, appID string) error {
	var sp servicePrincipal
	err := r.get(ctx, "/servicePrincipals(appId='"+appID+"')"+graphapi.Query("$select", spSelect), &sp, false)
	if graphapi.Status(err) == http.StatusNotFound {
		return nil
	}
	if err == nil {
		r.in.sp = &sp
	}
	return err
}

// readConsent reads the consent and assignments that already exist for the
// app's service principal. The delegated grants are read only when the
// plan has delegated permissions: listing oauth2PermissionGrants needs
// Directory.Read.All (or DelegatedPermissionGrant.ReadWrite.All), which an
// app-only plan's sign-in does not ask for (microsoft.md §15.3).
func readConsent(ctx context.Context, r *reader, spID string, delegated bool) {
	in := r.in
	if delegated {
		r.goRun(func() error {
			grants, err := listAll[permissionGrant](ctx, r, "/oauth2PermissionGrants"+graphapi.Query("$filter", "clientId eq '"+spID+"'"), true)
			if err != nil {
				return err
			}
			in.mu.Lock()
			defer in.mu.Unlock()
			for i := range grants {
				gr := grants[i]
				if gr.ConsentType == "AllPrincipals" && gr.ClientID == spID {
					in.grants[gr.ResourceID] = &gr
				}
			}
			return nil
		})
	}
	r.goRun(func() error {
		as, err := listAll[appRoleAssignment](ctx, r, "/servicePrincipals/"+spID+"/appRoleAssignments", true)
		in.mu.Lock()
		in.roleAssign = as
		in.mu.Unlock()
		return err
	})
	r.goRun(func() error {
		as, err := listAll[appRoleAssignment](ctx, r, "/servicePrincipals/"+spID+"/appRoleAssignedTo", true)
		in.mu.Lock()
		in.userAssign = as
		in.mu.Unlock()
		return err
	})
}

// readRoles reads the admin's directory roles. The path is an OData cast,
// which Graph documents as an advanced query: ConsistencyLevel: eventual
// and $count=true. Roles are matched on roleTemplateId and named from
// roleNames.
func readRoles(ctx context.Context, r *reader, in *Inspection) error {
	roles, err := listAllWith[directoryRole](ctx, r, "/me/transitiveMemberOf/microsoft.graph.directoryRole"+graphapi.Query("$count", "true", "$select", "id,displayName,roleTemplateId"), false, map[string]string{"ConsistencyLevel": "eventual"})
	if err != nil {
		if s := graphapi.Status(err); s == http.StatusForbidden || s == http.StatusNotFound || s == http.StatusBadRequest {
			in.add(finding(Warning, "roles-unknown", "Your directory roles could not be read ("+err.Error()+"), so mailoauth cannot tell in advance whether you may grant consent.", "Continue; if consent fails, sign in as a Cloud Application Administrator (or Privileged Role Administrator / Global Administrator for Microsoft Graph application permissions)."))
			return nil
		}
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, ro := range roles {
		if ro.RoleTemplateID == "" {
			// Graph's limited-information answer (no permission to read
			// role objects): the roles are unknown, not absent.
			in.Findings = append(in.Findings, finding(Warning, "roles-unknown", "Your directory roles could not be read (Graph returned them without their role IDs), so mailoauth cannot tell in advance whether you may grant consent.", "Continue; if consent fails, sign in as a Cloud Application Administrator (or Privileged Role Administrator / Global Administrator for Microsoft Graph application permissions)."))
			return nil
		}
	}
	in.RolesKnown = true
	for _, ro := range roles {
		id := strings.ToLower(ro.RoleTemplateID)
		in.roleIDs[id] = true
		name := roleNames[id]
		if name == "" {
			name = ro.DisplayName
		}
		if name == "" {
			name = "role " + id
		}
		in.Roles = append(in.Roles, name)
	}
	sort.Strings(in.Roles)
	return nil
}

// AppSummary is an app registration found by its display name.
type AppSummary struct {
	ObjectID    string
	ClientID    string
	DisplayName string
	Created     time.Time
}

// FindApps lists the app registrations with exactly that display name,
// every page of them.
func FindApps(ctx context.Context, g *graphapi.Client, displayName string) ([]AppSummary, error) {
	r := &reader{g: g, in: newInspection()}
	apps, err := listAll[application](ctx, r, appsNamedPath(displayName), false)
	if err != nil {
		return nil, err
	}
	out := make([]AppSummary, 0, len(apps))
	for _, a := range apps {
		s := AppSummary{ObjectID: a.ID, ClientID: a.AppID, DisplayName: a.DisplayName}
		if a.CreatedDateTime != nil {
			s.Created = *a.CreatedDateTime
		}
		out = append(out, s)
	}
	return out, nil
}

// findApp finds the existing app: the state's object id, then --app-id
// (client id or object id), then the display name (exactly one match).
func findApp(ctx context.Context, r *reader, p Plan, st *state.State) (*application, error) {
	sel := graphapi.Query("$select", appSelect)
	if st != nil && st.AppObjectID != "" {
		// A state file belongs to one app: a run never adopts another.
		switch {
		case p.AppID != "" && !strings.EqualFold(p.AppID, st.ClientID) && !strings.EqualFold(p.AppID, st.AppObjectID):
			r.in.add(finding(Blocker, "state-other-app", fmt.Sprintf("This setup's folder holds the state of app %q (client ID %s), but the app to update is %s.", st.Plan.DisplayName, st.ClientID, p.AppID),
				"Use the folder of that app's own setup (--out), or leave the app ID out to continue this one."))
			return nil, nil
		case p.AppID == "" && st.Plan.DisplayName != "" && !strings.EqualFold(strings.TrimSpace(st.Plan.DisplayName), p.DisplayName):
			r.in.add(finding(Blocker, "state-other-app", fmt.Sprintf("This setup's folder holds the state of app %q (client ID %s); this run is for %q.", st.Plan.DisplayName, st.ClientID, p.DisplayName),
				fmt.Sprintf("Choose another folder (--out) for %q, or use the app name %q to continue that setup.", p.DisplayName, st.Plan.DisplayName)))
			return nil, nil
		}
		var app application
		err := r.get(ctx, "/applications/"+st.AppObjectID+sel, &app, false)
		if err == nil {
			if !strings.EqualFold(app.AppID, st.ClientID) {
				r.in.add(finding(Blocker, "state-other-app", fmt.Sprintf("The state file names app object %s with client ID %s, but that object is app %s (%q).", st.AppObjectID, st.ClientID, app.AppID, app.DisplayName),
					"The state file was edited or belongs to another tenant: move it away and run again."))
				return nil, nil
			}
			return &app, nil
		}
		if graphapi.Status(err) != http.StatusNotFound {
			return nil, err
		}
		// The setup's app is gone: a new one is made, and a namesake that
		// this setup did not make is never taken in its place.
		namesakes, err := listAll[application](ctx, r, appsNamedPath(p.DisplayName), false)
		if err != nil {
			return nil, err
		}
		if len(namesakes) > 0 {
			r.in.add(finding(Blocker, "state-app-gone-namesake", fmt.Sprintf("The app this setup made (client ID %s) no longer exists, and another app named %q (client ID %s) exists that this setup did not make.", st.ClientID, p.DisplayName, namesakes[0].AppID),
				fmt.Sprintf("To update that app, run with --app-id %s and another folder (--out); to make a new app here, move the state file away. Deleted apps stay restorable for 30 days in the portal.", namesakes[0].AppID)))
			return nil, nil
		}
		r.in.add(finding(Warning, "state-app-gone", fmt.Sprintf("The state file names app object %s, which no longer exists (deleted?). A new app will be registered.", st.AppObjectID), "If that is not intended, stop and check the app in the portal (deleted apps stay restorable for 30 days)."))
		return nil, nil
	}
	if p.AppID != "" {
		var app application
		err := r.get(ctx, "/applications(appId='"+p.AppID+"')"+sel, &app, false)
		if graphapi.Status(err) == http.StatusNotFound {
			err = r.get(ctx, "/applications/"+p.AppID+sel, &app, false)
		}
		if graphapi.Status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("--app-id %s: no app registration has that client ID or object ID in this tenant", p.AppID)
		}
		if err != nil {
			return nil, err
		}
		return &app, nil
	}
	apps, err := listAll[application](ctx, r, appsNamedPath(p.DisplayName), false)
	if err != nil {
		return nil, err
	}
	switch len(apps) {
	case 0:
		return nil, nil
	case 1:
		return &apps[0], nil
	}
	amb := &AmbiguousAppError{DisplayName: p.DisplayName}
	for _, a := range apps {
		amb.Apps = append(amb.Apps, struct{ ObjectID, ClientID string }{a.ID, a.AppID})
	}
	return nil, amb
}

func findUser(ctx context.Context, r *reader, mb *Mailbox) error {
	var u graphUser
	err := r.get(ctx, "/users/"+url.PathEscape(mb.Address)+graphapi.Query("$select", "id,displayName,userPrincipalName,mail,accountEnabled"), &u, false)
	if graphapi.Status(err) == http.StatusNotFound {
		// The address may be a mail alias rather than the UPN.
		list, err := listAll[graphUser](ctx, r, "/users"+graphapi.Query("$filter", "mail eq '"+graphapi.QuoteOData(mb.Address)+"'", "$select", "id,displayName,userPrincipalName,mail,accountEnabled"), false)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			// A secondary address resolves to its mailbox (proxyAddresses,
			// Exchange's smtp: entries; default query support on users).
			list, err = listAll[graphUser](ctx, r, "/users"+graphapi.Query("$filter", "proxyAddresses/any(p:p eq 'smtp:"+graphapi.QuoteOData(mb.Address)+"')", "$select", "id,displayName,userPrincipalName,mail,accountEnabled"), false)
			if err != nil {
				return err
			}
		}
		if len(list) == 0 {
			return nil
		}
		u = list[0]
	} else if err != nil {
		return err
	}
	mb.Found, mb.UserID, mb.UPN = true, u.ID, u.UserPrincipalName
	mb.SignInBlocked = u.AccountEnabled != nil && !*u.AccountEnabled
	return nil
}

func readLicence(ctx context.Context, r *reader, mb *Mailbox) error {
	lic, err := listAll[licenseDetail](ctx, r, "/users/"+mb.UserID+"/licenseDetails", false)
	if err != nil {
		if graphapi.Status(err) == http.StatusForbidden {
			r.in.add(finding(Warning, "licence-unknown", fmt.Sprintf("The licences of %s could not be read (%v).", mb.Address, err), "Check in the admin centre that the mailbox has an Exchange Online licence (or is a shared mailbox)."))
			return nil
		}
		return err
	}
	pending := ""
	for _, l := range lic {
		for _, sp := range l.ServicePlans {
			name := strings.ToUpper(sp.ServicePlanName)
			if !strings.HasPrefix(name, "EXCHANGE_S_") || strings.HasPrefix(name, "EXCHANGE_S_FOUNDATION") {
				continue
			}
			if strings.EqualFold(sp.ProvisioningStatus, "Success") {
				mb.ExchangePlan = sp.ServicePlanName
				return nil
			}
			pending = sp.ServicePlanName + " (" + sp.ProvisioningStatus + ")"
		}
	}
	if pending != "" {
		r.in.add(finding(Warning, "licence-pending", fmt.Sprintf("%s has the Exchange Online plan %s, not yet provisioned.", mb.Address, pending), "Wait until the mailbox is provisioned (usually minutes), then test the login."))
		return nil
	}
	r.in.add(finding(Warning, "no-exchange-licence", fmt.Sprintf("%s has no Exchange Online licence (no EXCHANGE_S_* plan other than FOUNDATION). That is right for a shared mailbox; a user mailbox without one cannot log in over IMAP/POP/SMTP/EWS.", mb.Address), "If it is a user mailbox, assign a licence that includes Exchange Online (e.g. Exchange Online Plan 1); shared mailboxes need none."))
	return nil
}

// judge turns what was read into findings and resolves permission IDs.
func judge(in *Inspection, p Plan) {
	in.Findings = append(in.Findings, finding(Info, "tenant", fmt.Sprintf("Tenant %s (%s); verified domains: %s.", in.TenantName, in.TenantID, strings.Join(in.Domains, ", ")), ""))
	if in.TenantID != "" && !sameTenant(p.Tenant, in.TenantID, in.Domains) {
		in.Findings = append(in.Findings, finding(Blocker, "tenant-mismatch",
			fmt.Sprintf("The plan is for tenant %s, but you are signed in to %s (%s).", p.Tenant, in.TenantName, in.TenantID),
			"Sign in to the tenant the plan names, or change the tenant in the plan."))
	}

	// Roles against what the plan needs (microsoft.md §5).
	needGraphRoles := p.hasKind(catalog.MicrosoftGraph.AppID, catalog.Application)
	needDelegated := p.hasAnyKind(catalog.Delegated)
	needAppRolesOrUsers := p.hasKind(catalog.ExchangeOnline.AppID, catalog.Application) || p.AssignUsers
	if in.RolesKnown {
		has := func(ids []string) bool {
			for _, id := range ids {
				if in.roleIDs[id] {
					return true
				}
			}
			return false
		}
		rolesText := "no directory role"
		if len(in.Roles) > 0 {
			rolesText = strings.Join(in.Roles, ", ")
		}
		if needGraphRoles && !has(rolesGraphAppRoles) {
			var names []string
			for _, perm := range p.Permissions {
				if perm.Resource.AppID == catalog.MicrosoftGraph.AppID && perm.Kind == catalog.Application {
					names = append(names, perm.Value)
				}
			}
			in.Findings = append(in.Findings, finding(Blocker, "role-graph-app-permissions",
				fmt.Sprintf("You are signed in with %s. Granting admin consent to Microsoft Graph application permissions (%s) needs Privileged Role Administrator or Global Administrator.", rolesText, strings.Join(names, ", ")),
				"Sign in as a Privileged Role Administrator or Global Administrator, or ask one to run mailoauth (or to grant consent for this app in the portal)."))
		}
		if needAppRolesOrUsers && !has(rolesAppRolesAndUsers) {
			in.Findings = append(in.Findings, finding(Blocker, "role-consent",
				fmt.Sprintf("You are signed in with %s. Granting admin consent to Exchange Online application permissions, and assigning users to the app, needs one of: %s.", rolesText, roleList(rolesAppRolesAndUsers)),
				"Sign in as a Cloud Application Administrator (least privilege), Application Administrator or Global Administrator."))
		} else if needDelegated && !has(rolesDelegatedGrants) {
			in.Findings = append(in.Findings, finding(Blocker, "role-consent",
				fmt.Sprintf("You are signed in with %s. Granting admin consent to delegated permissions needs one of: %s.", rolesText, roleList(rolesDelegatedGrants)),
				"Sign in as a Cloud Application Administrator (least privilege for apps), Application Administrator or Global Administrator."))
		}
	}

	// Resource APIs and permission IDs, matched by value and kind.
	if in.resources[catalog.ExchangeOnline.AppID] == nil {
		sev := Warning
		if p.hasKind(catalog.ExchangeOnline.AppID, catalog.Delegated) || p.hasKind(catalog.ExchangeOnline.AppID, catalog.Application) || len(p.Mailboxes) > 0 {
			sev = Blocker
		}
		in.Findings = append(in.Findings, finding(sev, "exchange-not-provisioned", "Office 365 Exchange Online (00000002-0000-0ff1-ce00-000000000000) has no service principal in this tenant: Exchange Online is not provisioned here.", "Use a tenant with an Exchange Online subscription (or wait until the new subscription is provisioned)."))
	}
	for _, perm := range p.Permissions {
		res := in.resources[perm.Resource.AppID]
		if res == nil {
			if perm.Resource.AppID != catalog.ExchangeOnline.AppID {
				in.Findings = append(in.Findings, finding(Blocker, "resource-missing", fmt.Sprintf("%s (%s) has no service principal in this tenant.", perm.Resource.Name, perm.Resource.AppID), "Check the tenant; Microsoft's APIs are normally present in every tenant."))
			}
			continue
		}
		id := lookupPermission(res, perm)
		if id == "" && perm.BestEffort {
			// A twin registered on a second API so the product works
			// whichever way it names the scope: nice to have, not needed.
			in.Findings = append(in.Findings, finding(Info, "permission-not-published", fmt.Sprintf("The tenant's %s service principal publishes no %s permission %q; it is left out (the same permission on Office 365 Exchange Online is what Exchange checks).", perm.Resource.Name, perm.Kind.Label(), perm.Value), ""))
			continue
		}
		if id == "" {
			in.Findings = append(in.Findings, finding(Blocker, "permission-not-found", fmt.Sprintf("The tenant's %s service principal publishes no %s permission named %q.", perm.Resource.Name, perm.Kind.Label(), perm.Value), "Check the permission name (Microsoft's exact spelling, e.g. POP.AccessAsUser.All) and that the API offers it in this cloud."))
			continue
		}
		if perm.FallbackID != "" && !strings.EqualFold(id, perm.FallbackID) {
			in.Findings = append(in.Findings, finding(Info, "permission-id-differs", fmt.Sprintf("%s has ID %s in this tenant (the built-in table says %s); the tenant's ID is used.", perm, id, perm.FallbackID), ""))
		}
		in.Permissions = append(in.Permissions, ResolvedPermission{Permission: perm, ID: id, ResourceSPID: res.ID})
	}

	judgeMailboxes(in)

	// What the existing app has that the plan does not need.
	if in.app != nil {
		in.Findings = append(in.Findings, finding(Info, "app-exists", fmt.Sprintf("App registration %q exists (client ID %s); it will be updated, not duplicated.", in.app.DisplayName, in.app.AppID), ""))
	}
}

// judgeMailboxes adds the findings about the mailboxes: unverified domain,
// no such user (licences were judged as they were read).
func judgeMailboxes(in *Inspection) {
	verified := map[string]bool{}
	for _, d := range in.Domains {
		verified[strings.ToLower(d)] = true
	}
	for _, mb := range in.Mailboxes {
		domain := strings.ToLower(mb.Address[strings.LastIndex(mb.Address, "@")+1:])
		if len(verified) > 0 && !verified[domain] {
			in.Findings = append(in.Findings, finding(Warning, "domain-not-verified", fmt.Sprintf("The domain of %s (%s) is not a verified domain of this tenant (%s).", mb.Address, domain, strings.Join(in.Domains, ", ")), "Use an address on a verified domain, or verify the domain in the Microsoft 365 admin centre."))
		}
		if !mb.Found {
			in.Findings = append(in.Findings, finding(Blocker, "mailbox-user-missing", fmt.Sprintf("No user %s exists in this tenant.", mb.Address), "Check the spelling, or create the user (or shared mailbox) first."))
		}
	}
}

// InspectMailboxes checks mailboxes only (each user, then its Exchange
// licence: two read rounds), judged as Preflight judges them against the
// tenant's verified domains. The wizard checks each address as it is
// typed with it, without re-reading the tenant and its resource APIs.
func InspectMailboxes(ctx context.Context, g *graphapi.Client, domains, addresses []string) (*Inspection, error) {
	in := newInspection()
	in.Domains = domains
	r := &reader{g: g, in: in}
	in.Mailboxes = make([]Mailbox, len(addresses))
	for i, addr := range addresses {
		if !ValidEmail(addr) {
			return nil, &FieldError{Field: "mailbox", Value: addr, Problem: "is not an email address", Accepted: "name@domain, e.g. helpdesk@contoso.com"}
		}
		i, addr := i, addr
		in.Mailboxes[i].Address = addr
		r.goRun(func() error { return findUser(ctx, r, &in.Mailboxes[i]) })
	}
	if err := r.round(); err != nil {
		return nil, err
	}
	for i := range in.Mailboxes {
		mb := &in.Mailboxes[i]
		if mb.Found {
			r.goRun(func() error { return readLicence(ctx, r, mb) })
		}
	}
	if err := r.round(); err != nil {
		return nil, err
	}
	judgeMailboxes(in)
	return in, nil
}

func lookupPermission(res *servicePrincipal, perm catalog.Permission) string {
	if perm.Kind == catalog.Application {
		for _, r := range res.AppRoles {
			if r.Value == perm.Value && (r.IsEnabled == nil || *r.IsEnabled) && allowsApps(r.AllowedMemberTypes) {
				return r.ID
			}
		}
		return ""
	}
	for _, s := range res.OAuth2PermissionScopes {
		if s.Value == perm.Value && (s.IsEnabled == nil || *s.IsEnabled) {
			return s.ID
		}
	}
	return ""
}

func allowsApps(types []string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if t == "Application" {
			return true
		}
	}
	return false
}

// sameTenant reports whether the plan's tenant (a GUID or a domain) is the
// signed-in tenant.
func sameTenant(planTenant, id string, domains []string) bool {
	if IsGUID(planTenant) {
		return strings.EqualFold(planTenant, id)
	}
	for _, d := range domains {
		if strings.EqualFold(d, planTenant) {
			return true
		}
	}
	return false
}

// finding is a pre-flight finding with its rule's code.
func finding(sev Severity, code, text, fix string) Finding {
	return Finding{Severity: sev, Code: code, Text: text, Fix: fix}
}
