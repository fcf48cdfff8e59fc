package sim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The directory's objects. Field names follow Microsoft Graph so the JSON the
// Graph handlers write is Graph's own shape.

type user struct {
	ID          string
	UPN         string
	Mail        string
	DisplayName string
	GivenName   string
	Surname     string
	Password    string // "" = no password sign-in possible (shared mailbox)
	RoleIDs     []string
	SKU         string // skuPartNumber of the one licence, "" = none
	SKUID       string
	Plans       []servicePlan
	MFA         bool
	Blocked     bool // accountEnabled false: sign-in blocked
	Shared      bool
	HasMailbox  bool
	// Alias is the Exchange alias ("" = the local part of the address);
	// SecondaryAddresses are extra SMTP proxy addresses (smtp:...).
	Alias              string
	SecondaryAddresses []string
	home               *tenant // the tenant whose directory holds the user
}

type servicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

type resourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type requiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []resourceAccess `json:"resourceAccess"`
}

type redirectSet struct {
	RedirectURIs []string `json:"redirectUris"`
}

type passwordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   *string   `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	SecretText    *string   `json:"secretText"` // only in the addPassword response
	CustomKeyID   *string   `json:"customKeyIdentifier"`
	hash          [32]byte  // the secret is kept only as a hash
	created       time.Time // wall-clock creation, for replication delay
}

type application struct {
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	Description            *string                  `json:"description"`
	SignInAudience         string                   `json:"signInAudience"`
	IsFallbackPublicClient *bool                    `json:"isFallbackPublicClient"`
	PublicClient           redirectSet              `json:"publicClient"`
	Web                    webSettings              `json:"web"`
	Spa                    redirectSet              `json:"spa"`
	RequiredResourceAccess []requiredResourceAccess `json:"requiredResourceAccess"`
	PasswordCredentials    []passwordCredential     `json:"passwordCredentials"`
	IdentifierURIs         []string                 `json:"identifierUris"`
	Notes                  *string                  `json:"notes"`
	Tags                   []string                 `json:"tags"`
	IsDisabled             *bool                    `json:"isDisabled"`
	CreatedDateTime        time.Time                `json:"createdDateTime"`
	PublisherDomain        string                   `json:"publisherDomain"`
	deleted                bool
	created                time.Time
	home                   *tenant // the tenant the app is registered in
}

type webSettings struct {
	RedirectURIs []string `json:"redirectUris"`
	HomePageURL  *string  `json:"homePageUrl"`
	LogoutURL    *string  `json:"logoutUrl"`
}

func (a *application) publicFlows() bool {
	return a.IsFallbackPublicClient != nil && *a.IsFallbackPublicClient
}

type appRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             string   `json:"origin"`
	Value              string   `json:"value"`
}

type permissionScope struct {
	AdminConsentDescription string `json:"adminConsentDescription"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
	ID                      string `json:"id"`
	IsEnabled               bool   `json:"isEnabled"`
	Type                    string `json:"type"`
	UserConsentDescription  string `json:"userConsentDescription"`
	UserConsentDisplayName  string `json:"userConsentDisplayName"`
	Value                   string `json:"value"`
}

type servicePrincipal struct {
	ID                        string            `json:"id"`
	AppID                     string            `json:"appId"`
	DisplayName               string            `json:"displayName"`
	AccountEnabled            bool              `json:"accountEnabled"`
	AppRoleAssignmentRequired bool              `json:"appRoleAssignmentRequired"`
	AppOwnerOrganizationID    string            `json:"appOwnerOrganizationId"`
	ServicePrincipalType      string            `json:"servicePrincipalType"`
	ServicePrincipalNames     []string          `json:"servicePrincipalNames"`
	SignInAudience            string            `json:"signInAudience"`
	Tags                      []string          `json:"tags"`
	AppRoles                  []appRole         `json:"appRoles"`
	OAuth2PermissionScopes    []permissionScope `json:"oauth2PermissionScopes"`
	ReplyURLs                 []string          `json:"replyUrls"`
	Notes                     *string           `json:"notes"`
	created                   time.Time
}

func (sp *servicePrincipal) scope(value string) (permissionScope, bool) {
	for _, s := range sp.OAuth2PermissionScopes {
		if strings.EqualFold(s.Value, value) {
			return s, true
		}
	}
	return permissionScope{}, false
}

func (sp *servicePrincipal) role(id string) (appRole, bool) {
	for _, r := range sp.AppRoles {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return appRole{}, false
}

type appRoleAssignment struct {
	ID                   string    `json:"id"`
	AppRoleID            string    `json:"appRoleId"`
	CreatedDateTime      time.Time `json:"createdDateTime"`
	DeletedDateTime      *string   `json:"deletedDateTime"`
	PrincipalDisplayName string    `json:"principalDisplayName"`
	PrincipalID          string    `json:"principalId"`
	PrincipalType        string    `json:"principalType"`
	ResourceDisplayName  string    `json:"resourceDisplayName"`
	ResourceID           string    `json:"resourceId"`
	created              time.Time
}

type permissionGrant struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`
	created     time.Time
	// A scope change replicates like a new grant: until changed+Consent
	// the token endpoint still sees prevScope.
	prevScope string
	changed   time.Time
}

// effectiveScope is the scope the token endpoint sees at now, given the
// consent replication delay ("" while the grant itself is too new).
func (g *permissionGrant) effectiveScope(now time.Time, delay time.Duration) string {
	if now.Sub(g.created) < delay {
		return ""
	}
	if !g.changed.IsZero() && now.Sub(g.changed) < delay {
		return g.prevScope
	}
	return g.Scope
}

// setScope changes the scope, keeping what is effective now as prevScope.
func (g *permissionGrant) setScope(scope string, now time.Time, delay time.Duration) {
	g.prevScope = g.effectiveScope(now, delay)
	g.changed = now
	g.Scope = scope
}

// newID returns a random GUID string.
func newID() string { return uuid.NewString() }

// seedID is a deterministic GUID for a seed object, so the tenant is the
// same on every start.
func seedID(name string) string {
	return uuid.NewSHA1(uuid.MustParse("6ba7b811-9dad-11d1-80b4-00c04fd430c8"), []byte("mailoauth-sim/"+name)).String()
}

// opaqueID is the long base64url id Graph gives appRoleAssignments and
// oauth2PermissionGrants.
func opaqueID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:43]
}

// randomSecret is a client secret: 40 characters of the alphabet Entra uses.
func randomSecret() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func hashSecret(s string) [32]byte { return sha256.Sum256([]byte(s)) }
