package sim

import (
	"slices"
	"strings"
)

// The least permission Microsoft documents for each Graph call the sim
// serves (docs/sim-graph-permissions.md): the permissions tables of
// microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0
// (includes/permissions/<api>-permissions.md where generated, else the
// API page). A call is allowed when the token holds one of the listed
// permissions (delegated: scp; app-only: roles) and, for compound rules,
// also one of the second list. A ReadWrite permission covers the Read
// permission of the same family (Application.ReadWrite.All covers
// Application.Read.All), as Graph's "higher privileged" columns do.

type graphOp int

const (
	opOrganizationGet graphOp = iota
	opMeGet
	opUserGet
	opUserList
	opLicenseDetails
	opMemberOf
	opApplicationList
	opApplicationGet
	opApplicationCreate
	opApplicationUpdate
	opApplicationDelete
	opApplicationPassword // addPassword, removePassword
	opSPList
	opSPGet
	opSPCreate
	opSPUpdate
	opSPDelete
	opAssignmentList  // appRoleAssignedTo, appRoleAssignments
	opAssignmentWrite // POST appRoleAssignedTo / appRoleAssignments
	opAssignmentDelete
	opGrantRead // list, get
	opGrantWrite
)

type permRule struct {
	op                     string
	delegated, application []string
	// and: a second permission is needed too (AppRoleAssignment.ReadWrite.All
	// and Application.Read.All); any of these.
	and    []string
	source string
}

var graphPermissions = map[graphOp]permRule{
	opOrganizationGet: {"GET /organization", []string{"User.Read", "Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"},
		[]string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "includes/permissions/organization-get-permissions.md"},
	opMeGet: {"GET /me", []string{"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		nil, nil, "api/user-get.md (/me needs a signed-in user)"},
	opUserGet: {"GET /users/{id}", []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		[]string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, nil, "api/user-get.md; microsoft.md §5"},
	opUserList: {"GET /users", []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		[]string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, nil, "api/user-list.md"},
	opLicenseDetails: {"GET /users/{id}/licenseDetails", []string{"LicenseAssignment.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.Read.All", "User.ReadWrite.All"},
		nil, nil, "includes/permissions/user-list-licensedetails-permissions.md (application: not supported; User.Read: own only)"},
	opMemberOf: {"GET /users/{id}/transitiveMemberOf", []string{"User.Read.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		[]string{"User.Read.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}, nil, "api/user-list-transitivememberof.md (User.Read: own only)"},
	opApplicationList: {"GET /applications", []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.Read.All"},
		[]string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"}, nil, "includes/permissions/application-list-permissions.md"},
	opApplicationGet: {"GET /applications/{id}", []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"},
		[]string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "includes/permissions/application-get-permissions.md"},
	opApplicationCreate: {"POST /applications", []string{"AppRegistration.Create", "Application.ReadWrite.All"},
		[]string{"AppRegistration.Create", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "includes/permissions/application-post-applications-permissions.md"},
	opApplicationUpdate: {"PATCH /applications/{id}", []string{"Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "api/application-update.md"},
	opApplicationDelete: {"DELETE /applications/{id}", []string{"Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "includes/permissions/application-delete-permissions.md"},
	opApplicationPassword: {"POST /applications/{id}/addPassword, removePassword", []string{"Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "api/application-addpassword.md"},
	opSPList: {"GET /servicePrincipals", []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		[]string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"}, nil, "includes/permissions/serviceprincipal-list-permissions.md"},
	opSPGet: {"GET /servicePrincipals/{id}", []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		[]string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All"}, nil, "includes/permissions/serviceprincipal-get-permissions.md"},
	opSPCreate: {"POST /servicePrincipals", []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "includes/permissions/serviceprincipal-post-serviceprincipals-permissions.md"},
	opSPUpdate: {"PATCH /servicePrincipals/{id}", []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "includes/permissions/serviceprincipal-update-permissions.md"},
	opSPDelete: {"DELETE /servicePrincipals/{id}", []string{"Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}, nil, "includes/permissions/serviceprincipal-delete-permissions.md"},
	opAssignmentList: {"GET /servicePrincipals/{id}/appRoleAssignedTo, appRoleAssignments", []string{"Application.Read.All", "Directory.Read.All", "Application.ReadWrite.All", "Directory.ReadWrite.All"},
		[]string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All", "Application.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "includes/permissions/serviceprincipal-list-approleassignedto-permissions.md"},
	opAssignmentWrite: {"POST /servicePrincipals/{id}/appRoleAssignedTo, appRoleAssignments", []string{"AppRoleAssignment.ReadWrite.All"},
		[]string{"AppRoleAssignment.ReadWrite.All"}, []string{"Application.Read.All", "Directory.Read.All"}, "api/serviceprincipal-post-approleassignedto.md (AppRoleAssignment.ReadWrite.All and Application.Read.All or Directory.Read.All)"},
	opAssignmentDelete: {"DELETE /servicePrincipals/{id}/appRoleAssignedTo/{id}", []string{"AppRoleAssignment.ReadWrite.All"},
		[]string{"AppRoleAssignment.ReadWrite.All"}, nil, "includes/permissions/serviceprincipal-delete-approleassignedto-permissions.md"},
	opGrantRead: {"GET /oauth2PermissionGrants", []string{"Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"},
		[]string{"Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "includes/permissions/oauth2permissiongrant-list-permissions.md (Application.ReadWrite.All is not listed)"},
	opGrantWrite: {"POST/PATCH/DELETE /oauth2PermissionGrants", []string{"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"},
		[]string{"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"}, nil, "api/oauth2permissiongrant-post.md; microsoft.md §5"},
}

// held is what the token carries, with each ReadWrite permission's Read
// sibling added.
func (c caller) held() []string {
	have := c.roles
	if c.user != nil {
		have = c.scopes
	}
	out := append([]string(nil), have...)
	for _, p := range have {
		if strings.Contains(p, ".ReadWrite.") {
			out = append(out, strings.Replace(p, ".ReadWrite.", ".Read.", 1))
		}
	}
	return out
}

func (c caller) holdsAny(perms []string) bool {
	have := c.held()
	return slices.ContainsFunc(perms, func(p string) bool { return slices.Contains(have, p) })
}

// allowed applies the rule of op to the caller's token.
func (c caller) allowed(op graphOp) bool {
	r := graphPermissions[op]
	list := r.application
	if c.user != nil {
		list = r.delegated
	}
	if !c.holdsAny(list) {
		return false
	}
	return r.and == nil || c.holdsAny(r.and)
}

// readsDirectoryRoles: directoryRole objects are returned in full only to
// a caller that may read roles; others get limited information
// (permissions-overview "Limited information returned for inaccessible
// member objects").
func (c caller) readsDirectoryRoles() bool {
	return c.holdsAny([]string{"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All", "RoleManagement.Read.All"})
}

// readsFullUsers: User.ReadBasic.All alone gives the basic profile only
// (microsoft.md §5; permissions-reference, User permissions).
func (c caller) readsFullUsers() bool {
	return c.holdsAny([]string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
}
