package sim

import (
	"strings"
	"time"
)

// A tenant is one Entra directory with its Exchange Online organization:
// users, service principals, grants, app role assignments and Exchange's
// own state. Application registrations are global (each has a home
// tenant), as an appId is unique across Entra; a multi-tenant app is used
// in another tenant through its service principal there.
type tenant struct {
	ID, Name, InitialDomain, DefaultDomain string

	users   []*user
	sps     map[string]*servicePrincipal  // by object id
	assigns map[string]*appRoleAssignment // by id
	grants  map[string]*permissionGrant   // by id
	exo     *exoOrg
}

// view is the simulator as one tenant sees it: the server's shared parts
// (lock, apps, delays, listeners) and that tenant's directory. Handlers
// pick the view from the request (the {tenant} segment, the token's tid,
// the mailbox's domain); methods on *view use the same names as before
// the simulator had more than one tenant.
type view struct {
	*Server
	*tenant
}

// The second tenant: another customer of a multi-tenant product
// (docs/architecture.md "The seed tenant").
const (
	SecondTenantID            = "2d7f6c1e-5b4a-4e3d-9c8b-7a6f5e4d3c2b"
	SecondTenantName          = "Tailspin Toys"
	SecondTenantInitialDomain = "tailspintoys.onmicrosoft.com"
	SecondTenantDefaultDomain = "tailspintoys.com"
)

func newTenant(id, name, initial, dflt string) *tenant {
	return &tenant{ID: id, Name: name, InitialDomain: initial, DefaultDomain: dflt,
		sps: map[string]*servicePrincipal{}, assigns: map[string]*appRoleAssignment{}, grants: map[string]*permissionGrant{},
		exo: newExoOrg()}
}

func (s *Server) viewOf(t *tenant) *view { return &view{Server: s, tenant: t} }

// home is the seed tenant Contoso's view.
func (s *Server) home() *view { return s.viewOf(s.tenants[0]) }

// tenantBySegment resolves a tenant id or verified domain.
func (s *Server) tenantBySegment(seg string) *tenant {
	for _, t := range s.tenants {
		if strings.EqualFold(seg, t.ID) || strings.EqualFold(seg, t.InitialDomain) || strings.EqualFold(seg, t.DefaultDomain) {
			return t
		}
	}
	return nil
}

// tenantOfName is the tenant a UPN or address belongs to, by its domain
// (or by a user object id), else nil.
func (s *Server) tenantOfName(name string) *tenant {
	name = strings.TrimSpace(name)
	for _, t := range s.tenants {
		for _, u := range t.users {
			if strings.EqualFold(u.ID, name) || strings.EqualFold(u.UPN, name) {
				return t
			}
		}
	}
	if i := strings.LastIndex(name, "@"); i >= 0 {
		return s.tenantBySegment(name[i+1:])
	}
	return nil
}

// userAnywhere finds a user by UPN or object id in any tenant.
func (s *Server) userAnywhere(name string) (*user, *tenant) {
	for _, t := range s.tenants {
		if u := s.viewOf(t).userByName(name); u != nil {
			return u, t
		}
	}
	return nil, nil
}

// autoApprover is who approves sign-ins unattended in this tenant
// (Options.AutoApprove): that user when the tenant holds it, else the
// tenant's first Global Administrator, so a demo can consent in the second
// tenant too (caller holds s.mu). nil when AutoApprove is off.
func (s *view) autoApprover() *user {
	if s.opts.AutoApprove == "" {
		return nil
	}
	if u := s.userByName(s.opts.AutoApprove); u != nil {
		return u
	}
	for _, u := range s.users {
		if s.hasRole(u, RoleGlobalAdmin) && !u.Blocked {
			return u
		}
	}
	return nil
}

func (s *Server) seed() {
	long := s.started.Add(-365 * 24 * time.Hour) // seed objects replicated long ago
	home := newTenant(TenantID, TenantName, InitialDomain, DefaultDomain)
	second := newTenant(SecondTenantID, SecondTenantName, SecondTenantInitialDomain, SecondTenantDefaultDomain)
	s.tenants = []*tenant{home, second}
	home.users = seedUsers()
	second.users = secondTenantUsers()
	for _, t := range s.tenants {
		for _, u := range t.users {
			u.home = t
		}
		graph, exo := graphResourceSP(long), exoResourceSP(long)
		if t != home {
			graph.ID, exo.ID = seedID(t.ID+"/sp/graph"), seedID(t.ID+"/sp/exchange")
		}
		t.sps[graph.ID], t.sps[exo.ID] = graph, exo
		s.viewOf(t).seedExchange()
	}
}
