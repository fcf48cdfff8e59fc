package catalog

import (
	"fmt"
	"strings"
)

// Platform is where an app registration's redirect URIs live
// (Authentication blade: Web, or Mobile and desktop applications).
type Platform string

const (
	// NoPlatform registers no redirect URI (ROPC, client credentials).
	NoPlatform Platform = "none"
	// Web is a confidential client's server-side redirect (web.redirectUris).
	Web Platform = "web"
	// PublicClient is "Mobile and desktop applications" (publicClient.redirectUris).
	PublicClient Platform = "public"
)

// Label is the portal's name for the platform.
func (p Platform) Label() string {
	switch p {
	case Web:
		return "Web"
	case PublicClient:
		return "Mobile and desktop applications"
	}
	return "None"
}

// Audience is the app's signInAudience, in the wizard's words.
type Audience string

const (
	SingleTenant Audience = "single"
	MultiTenant  Audience = "multi"
)

// SignInAudience is Graph's value for the audience.
func (a Audience) SignInAudience() string {
	if a == MultiTenant {
		return "AzureADMultipleOrgs"
	}
	return "AzureADMyOrg"
}

// Label is the portal's wording.
func (a Audience) Label() string {
	if a == MultiTenant {
		return "Accounts in any organizational directory (multitenant)"
	}
	return "Accounts in this organizational directory only (single tenant)"
}

// ParseAudience accepts single/multi and Graph's own values.
func ParseAudience(s string) (Audience, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "single", "single-tenant", "azureadmyorg":
		return SingleTenant, nil
	case "multi", "multitenant", "multi-tenant", "azureadmultipleorgs":
		return MultiTenant, nil
	}
	return "", fmt.Errorf("audience: %q is not accepted; accepted: single, multi", s)
}

// DefaultAppRoleID is the "default access" app role used to assign users to an
// enterprise application that declares no app roles.
const DefaultAppRoleID = "00000000-0000-0000-0000-000000000000"
