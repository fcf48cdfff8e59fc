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

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
)

// Severity ranks a pre-flight finding.
type Severity string

const (
	Blocker Severity = "blocker" // the apply would fail; nothing is changed
	Warning Severity = "warning" // the setup may not work as intended
	Info    Severity = "info"
)

// Finding is one pre-flight result with its fix.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("[%s] %s", f.Severity, f.Message)
	if f.Fix != "" {
		s += " Fix: " + f.Fix
	}
	return s
}

// Directory role template IDs (architecture.md, the same in every tenant).
const (
	RoleGlobalAdmin           = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdmin   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleCloudApplicationAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleApplicationAdmin      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleExchangeAdmin         = "29232cdf-9323-42fd-ade2-1d097af3e4de"
)

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
	wg sync.WaitGroup
	mu sync.Mutex
	// err is the first failure that is not a finding (network, auth).
	err error
}

func (r *reader) get(ctx context.Context, path string, out any, notFoundToo bool) error {
	r.in.mu.Lock()
	r.in.ReadRequests++
	r.in.mu.Unlock()
	return r.g.Call(ctx, graphapi.Request{Method: "GET", Path: path, Action: "Reading " + strings.SplitN(path, "?", 2)[0], RetryNotFound: notFoundToo}, out)
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
	var out []T
	for path != "" {
		var page graphList[T]
		if err := r.get(ctx, path, &page, notFoundToo); err != nil {
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
func Preflight(ctx context.Context, g *graphapi.Client, p Plan, st *state.State) (*Inspection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.normalise()
	in := &Inspection{grants: map[string]*permissionGrant{}, resources: map[string]*servicePrincipal{}, roleIDs: map[string]bool{}}
	r := &reader{g: g, in: in}
	g.Emit(graphapi.Event{Action: "Checking the tenant, your roles, the resource APIs and the mailboxes"})

	// Round 1: everything that needs no id from another read.
	var org graphList[organization]
	r.goRun(func() error {
		return r.get(ctx, "/organization"+graphapi.Query("$select", "id,displayName,verifiedDomains"), &org, false)
	})
	r.goRun(func() error { return readRoles(ctx, r, in) })
	resourceIDs := map[string]bool{catalog.ExchangeOnline.AppID: true}
	for _, perm := range p.Permissions {
		resourceIDs[perm.Resource.AppID] = true
	}
	var resMu sync.Mutex
	for id := range resourceIDs {
		id := id
		r.goRun(func() error {
			var sp servicePrincipal
			err := r.get(ctx, resourceSPPath(id), &sp, false)
			if graphapi.Status(err) == http.StatusNotFound {
				return nil // reported below, after the round
			}
			if err != nil {
				return err
			}
			resMu.Lock()
			in.resources[id] = &sp
			resMu.Unlock()
			return nil
		})
	}
	var ambiguous error
	r.goRun(func() error {
		app, err := findApp(ctx, r, p, st)
		if err != nil {
			var amb *AmbiguousAppError
			if errors.As(err, &amb) {
				ambiguous = err
				return nil
			}
			return err
		}
		in.app = app
		return nil
	})
	in.Mailboxes = make([]Mailbox, len(p.Mailboxes))
	for i, addr := range p.Mailboxes {
		i, addr := i, addr
		in.Mailboxes[i].Address = addr
		r.goRun(func() error { return findUser(ctx, r, &in.Mailboxes[i]) })
	}
	if err := r.round(); err != nil {
		return nil, err
	}
	if ambiguous != nil {
		return nil, ambiguous
	}
	if len(org.Value) > 0 {
		in.TenantID, in.TenantName = org.Value[0].ID, org.Value[0].DisplayName
		for _, d := range org.Value[0].VerifiedDomains {
			in.Domains = append(in.Domains, d.Name)
		}
	}

	// Round 2: licences of the users found, and the app's service principal.
	for i := range in.Mailboxes {
		mb := &in.Mailboxes[i]
		if !mb.Found {
			continue
		}
		r.goRun(func() error { return readLicence(ctx, r, mb) })
	}
	if in.app != nil {
		r.goRun(func() error {
			var sp servicePrincipal
			err := r.get(ctx, "/servicePrincipals(appId='"+in.app.AppID+"')"+graphapi.Query("$select", "id,appId,displayName,appRoleAssignmentRequired"), &sp, false)
			if graphapi.Status(err) == http.StatusNotFound {
				return nil
			}
			if err == nil {
				in.sp = &sp
			}
			return err
		})
	}
	if err := r.round(); err != nil {
		return nil, err
	}

	// Round 3: consent and assignments that already exist.
	if in.sp != nil {
		spID := in.sp.ID
		r.goRun(func() error {
			grants, err := listAll[permissionGrant](ctx, r, "/oauth2PermissionGrants"+graphapi.Query("$filter", "clientId eq '"+spID+"'"), true)
			if err != nil {
				return err
			}
			for i := range grants {
				gr := grants[i]
				if gr.ConsentType == "AllPrincipals" && gr.ClientID == spID {
					in.grants[gr.ResourceID] = &gr
				}
			}
			return nil
		})
		r.goRun(func() error {
			as, err := listAll[appRoleAssignment](ctx, r, "/servicePrincipals/"+spID+"/appRoleAssignments", true)
			in.roleAssign = as
			return err
		})
		r.goRun(func() error {
			as, err := listAll[appRoleAssignment](ctx, r, "/servicePrincipals/"+spID+"/appRoleAssignedTo", true)
			in.userAssign = as
			return err
		})
		if err := r.round(); err != nil {
			return nil, err
		}
	}

	judge(in, p)
	sort.SliceStable(in.Findings, func(i, j int) bool { return rank(in.Findings[i].Severity) < rank(in.Findings[j].Severity) })
	return in, nil
}

func rank(s Severity) int {
	switch s {
	case Blocker:
		return 0
	case Warning:
		return 1
	}
	return 2
}

func readRoles(ctx context.Context, r *reader, in *Inspection) error {
	roles, err := listAll[directoryRole](ctx, r, "/me/transitiveMemberOf/microsoft.graph.directoryRole"+graphapi.Query("$select", "id,displayName,roleTemplateId"), false)
	if err != nil {
		if s := graphapi.Status(err); s == http.StatusForbidden || s == http.StatusNotFound || s == http.StatusBadRequest {
			in.add(Finding{Warning, "roles-unknown", "Your directory roles could not be read (" + err.Error() + "), so mailoauth cannot tell in advance whether you may grant consent.", "Continue; if consent fails, sign in as a Cloud Application Administrator (or Privileged Role Administrator / Global Administrator for Microsoft Graph application permissions)."})
			return nil
		}
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.RolesKnown = true
	for _, ro := range roles {
		in.roleIDs[strings.ToLower(ro.RoleTemplateID)] = true
		in.Roles = append(in.Roles, ro.DisplayName)
	}
	sort.Strings(in.Roles)
	return nil
}

// findApp finds the existing app: the state's object id, then --app-id
// (client id or object id), then the display name (exactly one match).
func findApp(ctx context.Context, r *reader, p Plan, st *state.State) (*application, error) {
	sel := graphapi.Query("$select", appSelect)
	if st != nil && st.AppObjectID != "" {
		var app application
		err := r.get(ctx, "/applications/"+st.AppObjectID+sel, &app, false)
		if err == nil {
			return &app, nil
		}
		if graphapi.Status(err) != http.StatusNotFound {
			return nil, err
		}
		r.in.add(Finding{Warning, "state-app-gone", fmt.Sprintf("The state file names app object %s, which no longer exists (deleted?). A new app will be registered.", st.AppObjectID), "If that is not intended, stop and check the app in the portal (deleted apps stay restorable for 30 days)."})
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
	apps, err := listAll[application](ctx, r, "/applications"+graphapi.Query("$filter", "displayName eq '"+graphapi.QuoteOData(p.DisplayName)+"'", "$select", appSelect), false)
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
		var list graphList[graphUser]
		err = r.get(ctx, "/users"+graphapi.Query("$filter", "mail eq '"+graphapi.QuoteOData(mb.Address)+"'", "$select", "id,displayName,userPrincipalName,mail,accountEnabled"), &list, false)
		if err != nil {
			return err
		}
		if len(list.Value) == 0 {
			return nil
		}
		u = list.Value[0]
	} else if err != nil {
		return err
	}
	mb.Found, mb.UserID, mb.UPN = true, u.ID, u.UserPrincipalName
	mb.SignInBlocked = u.AccountEnabled != nil && !*u.AccountEnabled
	return nil
}

func readLicence(ctx context.Context, r *reader, mb *Mailbox) error {
	var lic graphList[licenseDetail]
	if err := r.get(ctx, "/users/"+mb.UserID+"/licenseDetails", &lic, false); err != nil {
		if graphapi.Status(err) == http.StatusForbidden {
			r.in.add(Finding{Warning, "licence-unknown", fmt.Sprintf("The licences of %s could not be read (%v).", mb.Address, err), "Check in the admin centre that the mailbox has an Exchange Online licence (or is a shared mailbox)."})
			return nil
		}
		return err
	}
	pending := ""
	for _, l := range lic.Value {
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
		r.in.add(Finding{Warning, "licence-pending", fmt.Sprintf("%s has the Exchange Online plan %s, not yet provisioned.", mb.Address, pending), "Wait until the mailbox is provisioned (usually minutes), then test the login."})
		return nil
	}
	r.in.add(Finding{Warning, "no-exchange-licence", fmt.Sprintf("%s has no Exchange Online licence (no EXCHANGE_S_* plan other than FOUNDATION). That is right for a shared mailbox; a user mailbox without one cannot log in over IMAP/POP/SMTP/EWS.", mb.Address), "If it is a user mailbox, assign a licence that includes Exchange Online (e.g. Exchange Online Plan 1); shared mailboxes need none."})
	return nil
}

// judge turns what was read into findings and resolves permission IDs.
func judge(in *Inspection, p Plan) {
	in.Findings = append(in.Findings, Finding{Info, "tenant", fmt.Sprintf("Tenant %s (%s); verified domains: %s.", in.TenantName, in.TenantID, strings.Join(in.Domains, ", ")), ""})
	if in.TenantID != "" && !sameTenant(p.Tenant, in.TenantID, in.Domains) {
		in.Findings = append(in.Findings, Finding{Blocker, "tenant-mismatch",
			fmt.Sprintf("The plan is for tenant %s, but you are signed in to %s (%s).", p.Tenant, in.TenantName, in.TenantID),
			"Sign in to the tenant the plan names, or change the tenant in the plan."})
	}

	// Roles against what the plan needs (microsoft.md §5).
	needGraphRoles := p.hasKind(catalog.MicrosoftGraph.AppID, catalog.Application)
	needConsent := p.hasAnyKind(catalog.Delegated) || p.hasKind(catalog.ExchangeOnline.AppID, catalog.Application) || p.AssignUsers
	if in.RolesKnown {
		has := func(ids ...string) bool {
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
		if needGraphRoles && !has(RoleGlobalAdmin, RolePrivilegedRoleAdmin) {
			var names []string
			for _, perm := range p.Permissions {
				if perm.Resource.AppID == catalog.MicrosoftGraph.AppID && perm.Kind == catalog.Application {
					names = append(names, perm.Value)
				}
			}
			in.Findings = append(in.Findings, Finding{Blocker, "role-graph-app-permissions",
				fmt.Sprintf("You are signed in with %s. Granting admin consent to Microsoft Graph application permissions (%s) needs Privileged Role Administrator or Global Administrator.", rolesText, strings.Join(names, ", ")),
				"Sign in as a Privileged Role Administrator or Global Administrator, or ask one to run mailoauth (or to grant consent for this app in the portal)."})
		}
		if needConsent && !has(RoleGlobalAdmin, RolePrivilegedRoleAdmin, RoleCloudApplicationAdmin, RoleApplicationAdmin) {
			in.Findings = append(in.Findings, Finding{Blocker, "role-consent",
				fmt.Sprintf("You are signed in with %s. Granting admin consent to delegated and Exchange Online permissions, and assigning users, needs Cloud Application Administrator or Application Administrator (or higher).", rolesText),
				"Sign in as a Cloud Application Administrator (least privilege), Application Administrator or Global Administrator."})
		}
	}

	// Resource APIs and permission IDs, matched by value and kind.
	if in.resources[catalog.ExchangeOnline.AppID] == nil {
		sev := Warning
		if p.hasKind(catalog.ExchangeOnline.AppID, catalog.Delegated) || p.hasKind(catalog.ExchangeOnline.AppID, catalog.Application) || len(p.Mailboxes) > 0 {
			sev = Blocker
		}
		in.Findings = append(in.Findings, Finding{sev, "exchange-not-provisioned", "Office 365 Exchange Online (00000002-0000-0ff1-ce00-000000000000) has no service principal in this tenant: Exchange Online is not provisioned here.", "Use a tenant with an Exchange Online subscription (or wait until the new subscription is provisioned)."})
	}
	for _, perm := range p.Permissions {
		res := in.resources[perm.Resource.AppID]
		if res == nil {
			if perm.Resource.AppID != catalog.ExchangeOnline.AppID {
				in.Findings = append(in.Findings, Finding{Blocker, "resource-missing", fmt.Sprintf("%s (%s) has no service principal in this tenant.", perm.Resource.Name, perm.Resource.AppID), "Check the tenant; Microsoft's APIs are normally present in every tenant."})
			}
			continue
		}
		id := lookupPermission(res, perm)
		if id == "" {
			in.Findings = append(in.Findings, Finding{Blocker, "permission-not-found", fmt.Sprintf("The tenant's %s service principal publishes no %s permission named %q.", perm.Resource.Name, perm.Kind.Label(), perm.Value), "Check the permission name (Microsoft's exact spelling, e.g. POP.AccessAsUser.All) and that the API offers it in this cloud."})
			continue
		}
		if perm.FallbackID != "" && !strings.EqualFold(id, perm.FallbackID) {
			in.Findings = append(in.Findings, Finding{Info, "permission-id-differs", fmt.Sprintf("%s has ID %s in this tenant (the built-in table says %s); the tenant's ID is used.", perm, id, perm.FallbackID), ""})
		}
		in.Permissions = append(in.Permissions, ResolvedPermission{Permission: perm, ID: id, ResourceSPID: res.ID})
	}

	judgeMailboxes(in)

	// What the existing app has that the plan does not need.
	if in.app != nil {
		in.Findings = append(in.Findings, Finding{Info, "app-exists", fmt.Sprintf("App registration %q exists (client ID %s); it will be updated, not duplicated.", in.app.DisplayName, in.app.AppID), ""})
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
			in.Findings = append(in.Findings, Finding{Warning, "domain-not-verified", fmt.Sprintf("The domain of %s (%s) is not a verified domain of this tenant (%s).", mb.Address, domain, strings.Join(in.Domains, ", ")), "Use an address on a verified domain, or verify the domain in the Microsoft 365 admin centre."})
		}
		if !mb.Found {
			in.Findings = append(in.Findings, Finding{Blocker, "mailbox-user-missing", fmt.Sprintf("No user %s exists in this tenant.", mb.Address), "Check the spelling, or create the user (or shared mailbox) first."})
		}
	}
}

// InspectMailboxes checks mailboxes only (each user, then its Exchange
// licence: two read rounds), judged as Preflight judges them against the
// tenant's verified domains. The wizard checks each address as it is
// typed with it, without re-reading the tenant and its resource APIs.
func InspectMailboxes(ctx context.Context, g *graphapi.Client, domains, addresses []string) (*Inspection, error) {
	in := &Inspection{Domains: domains, grants: map[string]*permissionGrant{}, resources: map[string]*servicePrincipal{}, roleIDs: map[string]bool{}}
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
