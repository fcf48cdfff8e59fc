package provision

import (
	"time"

	"github.com/mailoauth/mailoauth/azure/graphapi"
)

// Graph JSON shapes mailoauth reads and writes (only the fields it uses).

type graphList[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink,omitempty"`
}

type resourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type requiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type redirectURIs struct {
	RedirectURIs []string `json:"redirectUris"`
}

type passwordCredential struct {
	KeyID         string     `json:"keyId,omitempty"`
	DisplayName   string     `json:"displayName,omitempty"`
	Hint          string     `json:"hint,omitempty"`
	EndDateTime   *time.Time `json:"endDateTime,omitempty"`
	StartDateTime *time.Time `json:"startDateTime,omitempty"`
	SecretText    string     `json:"secretText,omitempty"`
}

type application struct {
	ID                     string                   `json:"id,omitempty"`
	AppID                  string                   `json:"appId,omitempty"`
	DisplayName            string                   `json:"displayName,omitempty"`
	CreatedDateTime        *time.Time               `json:"createdDateTime,omitempty"`
	SignInAudience         string                   `json:"signInAudience,omitempty"`
	IsFallbackPublicClient *bool                    `json:"isFallbackPublicClient,omitempty"`
	Web                    *redirectURIs            `json:"web,omitempty"`
	PublicClient           *redirectURIs            `json:"publicClient,omitempty"`
	RequiredResourceAccess []requiredResourceAccess `json:"requiredResourceAccess,omitempty"`
	PasswordCredentials    []passwordCredential     `json:"passwordCredentials,omitempty"`
	Tags                   []string                 `json:"tags,omitempty"`
	Notes                  *string                  `json:"notes,omitempty"`
}

const appSelect = "id,appId,displayName,createdDateTime,signInAudience,isFallbackPublicClient,web,publicClient,requiredResourceAccess,passwordCredentials,tags"

const spSelect = "id,appId,displayName,appRoleAssignmentRequired,tags"

// appsNamedPath lists the app registrations with exactly that display name
// (the wizard's namesake check and pre-flight read the same path, so a run
// with a ReadCache reads it once).
func appsNamedPath(name string) string {
	return "/applications" + graphapi.Query("$filter", "displayName eq '"+graphapi.QuoteOData(name)+"'", "$select", appSelect)
}

type appRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	IsEnabled          *bool    `json:"isEnabled,omitempty"`
}

type permissionScope struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	Type      string `json:"type"`
	IsEnabled *bool  `json:"isEnabled,omitempty"`
}

type servicePrincipal struct {
	ID                        string            `json:"id"`
	AppID                     string            `json:"appId"`
	DisplayName               string            `json:"displayName,omitempty"`
	AppRoleAssignmentRequired bool              `json:"appRoleAssignmentRequired"`
	Tags                      []string          `json:"tags,omitempty"`
	AppRoles                  []appRole         `json:"appRoles,omitempty"`
	OAuth2PermissionScopes    []permissionScope `json:"oauth2PermissionScopes,omitempty"`
}

type permissionGrant struct {
	ID          string `json:"id,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	ConsentType string `json:"consentType,omitempty"`
	ResourceID  string `json:"resourceId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	Scope       string `json:"scope"`
}

type appRoleAssignment struct {
	ID            string `json:"id,omitempty"`
	PrincipalID   string `json:"principalId"`
	PrincipalType string `json:"principalType,omitempty"`
	ResourceID    string `json:"resourceId"`
	AppRoleID     string `json:"appRoleId"`
}

type verifiedDomain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault"`
	IsInitial bool   `json:"isInitial"`
}

type organization struct {
	ID              string           `json:"id"`
	DisplayName     string           `json:"displayName"`
	VerifiedDomains []verifiedDomain `json:"verifiedDomains"`
}

type directoryRole struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	RoleTemplateID string `json:"roleTemplateId"`
}

type graphUser struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	AccountEnabled    *bool  `json:"accountEnabled,omitempty"`
}

type servicePlanInfo struct {
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
}

type licenseDetail struct {
	SkuPartNumber string            `json:"skuPartNumber"`
	ServicePlans  []servicePlanInfo `json:"servicePlans"`
}
